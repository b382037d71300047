"""Recordings on disk: ``Monitor.save``, ``MonitorList.save_all``, streamed monitors, reading back.

Layout of an HDF5 recording (h5py, the optional ``hdf5`` extra):

* one dataset per recorded variable, named as the variable (``v``, ``sum(exc)``), time first;
* spikes as a group ``spike`` with two datasets of equal length, ``steps`` (int64) and ``ranks``
  (int32): one entry per recorded spike, in time order; the group's attribute ``ranks`` lists
  the recorded neurons (those without spikes included);
* attributes ``dt`` (ms), ``population``, ``geometry`` and, for a stream, ``period``/``period_offset``.

A **streamed** monitor (``net.monitor(pop, 'v', stream='rec.h5')``) appends every chunk the
runtime drains from the native buffers to resizable datasets of such a file and keeps nothing in
RAM: a recording larger than memory takes the memory of the native buffers only.  ``get()`` reads
the rows recorded since the previous ``get()`` back from the file (the file keeps them all);
:func:`load_recording` reads any of these files.
"""
from __future__ import annotations

import os

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError, NotSupportedError

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")


def h5py_module():
    """h5py, or a clear error naming the extra that installs it."""
    try:
        import h5py
    except ImportError:
        raise NotSupportedError("HDF5 recordings need h5py: pip install 'anncompiler[hdf5]' "
                                "(or pip install h5py)") from None
    return h5py


def _path(filename, what: str) -> str:
    if not isinstance(filename, (str, os.PathLike)):
        raise InvalidTypeError(f"{what}: the file name must be a string or a path, not {filename!r}")
    return os.fspath(filename)


def is_hdf5(path: str) -> bool:
    return path.lower().endswith(HDF5_SUFFIXES)


def write_spikes(group, steps: np.ndarray, ranks: np.ndarray, recorded_ranks) -> None:
    group.create_dataset("steps", data=np.asarray(steps, dtype=np.int64))
    group.create_dataset("ranks", data=np.asarray(ranks, dtype=np.int32))
    group.attrs["ranks"] = np.asarray(recorded_ranks, dtype=np.int64)


def spikes_to_arrays(spikes: dict):
    """(steps, ranks) in time order from ``{rank: [steps]}``."""
    pairs = [(s, r) for r, steps in spikes.items() for s in steps]
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    steps, ranks = np.array(pairs, dtype=np.int64).T
    order = np.lexsort((ranks, steps))
    return steps[order], ranks[order].astype(np.int32)


def spike_dict(steps: np.ndarray, ranks: np.ndarray, recorded_ranks) -> dict:
    """``{rank: [steps]}`` of every recorded rank (empty lists included), steps in time order."""
    out = {int(r): [] for r in recorded_ranks}
    if len(ranks):
        order = np.argsort(ranks, kind="stable")  # keeps the steps of each rank in time order
        who, when = ranks[order], steps[order]
        cuts = np.flatnonzero(np.diff(who)) + 1
        for r, chunk in zip(who[np.r_[0, cuts]].tolist(), np.split(when, cuts)):
            out[r] = chunk.tolist()
    return out


def _write_values(group, key: str, value, recorded_ranks) -> None:
    if isinstance(value, dict):  # spikes
        write_spikes(group.create_group(key), *spikes_to_arrays(value), recorded_ranks)
    else:
        group.create_dataset(key, data=np.asarray(value))


def _describe(group, monitor) -> None:
    group.attrs["dt"] = monitor._net.dt
    group.attrs["population"] = monitor.population.name
    group.attrs["geometry"] = np.asarray(monitor._geometry, dtype=np.int64)


def save_monitor(monitor, filename, variables=None, keep=False, reshape=False, force_dict=False) -> None:
    """``Monitor.save``: ``.npy`` holds one variable (what ``get(variable)`` returns); ``.h5`` /
    ``.hdf5`` hold several (the layout of this module)."""
    path = _path(filename, f"monitor {monitor.name}: save()")
    names = [variables] if isinstance(variables, str) else list(variables or monitor.variables)
    for v in names:
        monitor._require_variable(v)
    if path.lower().endswith(".npy"):
        if len(names) != 1 or names[0] in ("spike", "axon_spike"):
            raise InvalidValueError(f"monitor {monitor.name}: a .npy file holds one recorded variable other "
                                    f"than 'spike' (asked: {names}); save several, or spikes, to .h5")
        np.save(path, monitor.get(names[0], keep=keep, reshape=reshape))
        return
    if not is_hdf5(path):
        raise InvalidValueError(f"monitor {monitor.name}: save() writes .npy or .h5/.hdf5 files, not {path!r}")
    h5py = h5py_module()
    data = monitor.get(names, keep=keep, reshape=reshape, force_dict=True)
    with h5py.File(path, "w") as f:
        _describe(f, monitor)
        for v in names:
            _write_values(f, v, data[v], monitor._recorded_ranks())


class MonitorList(list):
    """A list of monitors saved together: ``MonitorList([m1, m2]).save_all("x.h5")``."""

    def save_all(self, filename, keep=False, reshape=False, flat_keys=False) -> None:
        """Every monitor's recordings into one HDF5 file: a group per monitor (its name) holding
        the layout of :func:`save_monitor`, or with ``flat_keys`` datasets ``<monitor>_<variable>``
        at the root."""
        from .monitor import Monitor
        path = _path(filename, "MonitorList.save_all()")
        if not is_hdf5(path):
            raise InvalidValueError(f"MonitorList.save_all() writes an .h5/.hdf5 file, not {path!r}")
        for m in self:
            if not isinstance(m, Monitor):
                raise InvalidTypeError(f"MonitorList holds monitors, not {type(m).__name__}")
        names = [m.name for m in self]
        if len(set(names)) != len(names):
            raise NetworkError(f"MonitorList.save_all(): two monitors share a name ({names})")
        h5py = h5py_module()
        data = [m.get(keep=keep, reshape=reshape, force_dict=True) for m in self]
        with h5py.File(path, "w") as f:
            for m, values in zip(self, data):
                group = f if flat_keys else f.create_group(m.name)
                if not flat_keys:
                    _describe(group, m)
                for v, value in values.items():
                    _write_values(group, f"{m.name}_{v}" if flat_keys else v, value, m._recorded_ranks())


def load_recording(filename, group: str | None = None) -> dict:
    """The recordings of a file written by ``Monitor.save``, ``save_all`` (``group``: the monitor's
    name) or a streamed monitor: ``{variable: array}``, spikes as ``{rank: [steps]}``.  Streamed
    variables are ``(steps, neurons)`` arrays (``get()`` reshapes them to the geometry)."""
    path = _path(filename, "load_recording()")
    if path.lower().endswith(".npy"):
        return np.load(path)
    h5py = h5py_module()
    out = {}
    with h5py.File(path, "r") as f:
        node = f[group] if group is not None else f
        for key, item in node.items():
            if isinstance(item, h5py.Group):
                if "steps" in item and "ranks" in item:
                    out[key] = spike_dict(item["steps"][()], item["ranks"][()], item.attrs.get("ranks", []))
            else:
                out[key] = item[()]
    return out


class StreamSink:
    """The file a streamed monitor appends its drained chunks to, and reads back from.

    The file is opened for each append or read and closed at once: it is complete and readable
    by other programs whenever the simulation is not running, and no handle outlives the monitor.
    """

    def __init__(self, filename, monitor):
        path = _path(filename, f"monitor {monitor.name}: stream")
        if not is_hdf5(path):
            raise InvalidValueError(f"monitor {monitor.name}: stream= takes an .h5/.hdf5 file name, not {path!r}")
        self.h5py = h5py_module()
        self.path = path
        #: rows (spikes) already returned by get(): the file keeps them, get() does not repeat them
        self.cursor: dict[str, int] = {}
        period, offset = monitor._steps()
        with self.h5py.File(path, "w") as f:
            _describe(f, monitor)
            f.attrs["period"] = monitor.period
            f.attrs["period_offset"] = monitor.period_offset
            f.attrs["period_steps"] = period
        for v in monitor.variables:
            self.add(v, monitor)

    def add(self, variable: str, monitor) -> None:
        """Record ``variable`` too (its dataset is created by the first rows written: their width
        tells a global variable from a local one)."""
        self.cursor[variable] = 0
        if variable == "spike":
            with self.h5py.File(self.path, "a") as f:
                g = f.require_group("spike")
                for key, dtype in (("steps", np.int64), ("ranks", np.int32)):
                    if key not in g:
                        g.create_dataset(key, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(1 << 14,))
                g.attrs["ranks"] = np.asarray(monitor._recorded_ranks(), dtype=np.int64)

    @staticmethod
    def _append(dataset, data: np.ndarray) -> None:
        n = dataset.shape[0]
        dataset.resize(n + data.shape[0], axis=0)
        dataset[n:] = data

    def write(self, rows: dict, spikes) -> None:
        """Append drained rows ``{variable: (rows, width)}`` and spikes ``(steps, ranks)`` or None."""
        with self.h5py.File(self.path, "a") as f:
            for v, data in rows.items():
                if v not in f:
                    width = data.shape[1]
                    f.create_dataset(v, shape=(0, width), maxshape=(None, width), dtype=data.dtype,
                                     chunks=(max(1, min(1024, (1 << 16) // max(1, width))), width))
                self._append(f[v], data)
            if spikes is not None:
                self._append(f["spike/steps"], spikes[0])
                self._append(f["spike/ranks"], spikes[1])

    def rows(self, variable: str):
        """The rows of ``variable`` recorded since the last ``forget`` (None before the first)."""
        with self.h5py.File(self.path, "r") as f:
            return f[variable][self.cursor.get(variable, 0):] if variable in f else None

    def spikes(self):
        with self.h5py.File(self.path, "r") as f:
            start = self.cursor.get("spike", 0)
            return f["spike/steps"][start:], f["spike/ranks"][start:]

    def forget(self, variable: str) -> None:
        """What ``get()`` without ``keep`` does: later reads start after the rows held now."""
        with self.h5py.File(self.path, "r") as f:
            key = "spike/steps" if variable == "spike" else variable
            self.cursor[variable] = f[key].shape[0] if key in f else 0
