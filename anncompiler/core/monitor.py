"""Monitor: records variables and spikes of a population or view.

The native step loop writes into buffers (see ``passes/lowering/monitors``);
between chunks the runtime drains them into this object.  ``get`` follows
ANNarchy 5: reshape to the geometry by default, spikes as ``{rank: [steps]}``,
the buffer emptied unless ``keep=True``.  A monitor created (or given new variables) after
``compile()`` is compiled in before the next simulation (``runtime/rebuild.py``); a streamed one
(``stream='rec.h5'``) keeps its recording in a file (``recording_files.py``).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError

from . import analysis
from .axon_recording import axon_spike_dict, check_axon_spike_recordable, drain_axon_spikes, \
    refuse_streamed_axon_spikes
from .population import IndividualNeuron, Population, PopulationView


def _describe(obj) -> str:
    return obj if isinstance(obj, str) else getattr(obj, "name", type(obj).__name__)


def _check_period(value, what: str, minimum: float) -> float:
    """A monitor period (or offset) in ms: finite and >= ``minimum`` (dt for a period)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"Monitor: {what} must be a number of ms, not {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0.0 or (what == "period" and value <= 0.0):
        raise InvalidValueError(f"Monitor: {what} must be a finite number of ms "
                                f"{'> 0' if what == 'period' else '>= 0'}, not {value!r}")
    return value


class Monitor:
    """Records variables (``'v'``, ``'sum(exc)'``) and spikes of a population, view or neuron (a
    Projection or a Dendrite: core/projection_monitor.py).

    ``stream='rec.h5'`` (anncompiler's own) appends the recording to an HDF5 file while the
    simulation runs instead of keeping it in memory; ``get()`` reads it back.
    """

    def __new__(cls, obj=None, *args, **kwargs):
        if cls is Monitor:
            from .projection_monitor import ProjectionMonitor, records_synapses
            if records_synapses(obj):  # a Projection or a Dendrite: core/projection_monitor.py
                cls = ProjectionMonitor
        return super().__new__(cls)

    def __init__(self, obj, variables=None, period=None, period_offset=None, start=True, name=None,
                 *, network=None, stream=None):
        from .network import _owner_network
        net = _owner_network(network, [self._anchor(obj)], f"Monitor({_describe(obj)}, {variables!r})")
        self._net = net
        self._bind(obj, stream)
        if isinstance(variables, str):
            variables = [variables]
        self.variables = list(variables or [])
        self._period = _check_period(period, "period", net.dt) if period is not None else net.dt
        self._period_offset = _check_period(period_offset, "period_offset", 0.0) if period_offset else 0.0
        if self._period_offset >= self._period and period_offset:
            raise InvalidValueError(f"Monitor: period_offset ({self._period_offset} ms) must be smaller than "
                                    f"the period ({self._period} ms)")
        for v in self.variables:
            self._check_recordable(v)
        self._start = start
        self.id = len(net._monitors)
        self.name = name or f"monitor{self.id}"
        now = net.current_step
        #: periods are counted from the monitor's creation (or its last start(period=...)), as in ANNarchy
        self._origin = now
        self._data = {v: [] for v in self.variables}
        self._spikes: list[tuple[np.ndarray, np.ndarray]] = []  # (steps, ranks) chunks
        self._axon_spikes: list[tuple[np.ndarray, np.ndarray]] = []  # the same, of axonal spikes
        self._recording = bool(start)
        #: the step from which the spikes held were recorded (analysis window)
        self._spike_origin = now if start else None
        self._times = {"start": [now if start else None], "stop": []}
        self._var_times = {v: {"start": [now] if start else [], "stop": []} for v in self.variables}
        self._sink = None
        if stream is not None:
            if "axon_spike" in self.variables:
                refuse_streamed_axon_spikes(self)
            from .recording_files import StreamSink
            self._sink = StreamSink(stream, self)
        net._add_monitor(self)

    def _anchor(self, obj):
        """What names the network of ``obj`` (the object itself for populations and views)."""
        return obj

    def _bind(self, obj, stream):
        """Set ``object``, ``population``, the recorded ranks and the geometry of the recording."""
        if isinstance(obj, str):
            obj = self._net.get_population(obj)
        if isinstance(obj, Population):
            self.object, self.population, self._ranks, self._geometry = obj, obj, None, obj.geometry
        elif isinstance(obj, (PopulationView, IndividualNeuron)):
            self.object, self.population = obj, obj.population
            self._ranks = np.asarray(obj.ranks, dtype=np.int64)
            self._geometry = getattr(obj, "geometry", (1,))
        else:
            raise NetworkError(f"a Monitor records a Population, a PopulationView, a Projection or a Dendrite, "
                               f"not {type(obj).__name__}")

    def _row_width(self, v) -> int:
        """Values per recorded row of ``v``."""
        return 1 if self._is_global(v) else self._width

    # properties ------------------------------------------------------------
    @property
    def period(self):
        return self._period

    @property
    def period_offset(self):
        return self._period_offset

    @property
    def stream(self) -> str | None:
        """The HDF5 file a streamed monitor writes to (None: the recording is kept in memory)."""
        return None if self._sink is None else self._sink.path

    def _steps(self):
        """(period, phase) in steps: a row is recorded at the steps t with t % period == phase."""
        dt = self._net.dt
        period = max(1, int(round(self._period / dt)))
        return period, (self._origin + int(round(self._period_offset / dt))) % period

    def _check_recordable(self, v):
        """Refuse an unknown variable now (after compile it would break the next recompile)."""
        if not isinstance(v, str):
            raise InvalidTypeError(f"Monitor: variables are names, not {v!r}")
        pop = self.population
        model = pop._model_ir()
        if v == "spike":
            if model.type != "spike":
                raise NetworkError(f"Monitor: population {pop.name} is rate-coded and emits no spikes")
            return
        if v == "axon_spike":
            check_axon_spike_recordable(self, model)
            return
        if v.startswith("sum(") and v.endswith(")"):
            target = v[4:-1].strip()
            if self._net.compiled and self._net._state(pop.name, f"sum:{target}", required=False) is None:
                raise NetworkError(f"Monitor: cannot record {v}: population {pop.name} has no weighted sum "
                                   f"'{target}' in the compiled network")
            return
        if v in model.attributes:
            return
        if v == "r" and (pop.__dict__.get("_firing_window") is not None or not self._net.compiled):
            return  # compute_firing_rate()
        known = ", ".join(list(model.attributes) + (["spike"] if model.type == "spike" else []))
        raise NetworkError(f"Monitor: cannot record '{v}': population {pop.name} (model '{model.name}') "
                           f"has no such attribute (it has: {known})")

    def _require_variable(self, v):
        if v not in self.variables:
            raise NetworkError(f"monitor {self.name} does not record '{v}' (it records {self.variables})")

    def _recorded_ranks(self):
        return list(range(self.population.size)) if self._ranks is None else self._ranks.tolist()

    # control ---------------------------------------------------------------
    def _set_active(self, active: bool):
        self._recording = active
        flag = self._net._state(self.name, "active", required=False)  # None until compiled in
        if flag is not None:
            flag[0] = active

    def _drain_all(self):
        if self._net.compiled:
            with self._net._lock:  # not while another thread simulates this network
                self._net._drain_monitors()

    def start(self, variables=None, period=None):
        """Start (or go on) recording; ``variables`` adds variables to record from now on (after
        compile too), ``period`` (ms) changes the period, counted from now."""
        now = self._net.current_step
        if variables:
            names = [variables] if isinstance(variables, str) else list(variables)
            added = [v for v in dict.fromkeys(names) if v not in self.variables]
            for v in added:
                self._check_recordable(v)
            if "axon_spike" in added and self._sink is not None:
                refuse_streamed_axon_spikes(self)
            if added:
                self._drain_all()  # what was recorded so far belongs to the old variables
                for v in added:
                    self.variables.append(v)
                    self._data[v] = []
                    self._var_times[v] = {"start": [], "stop": []}
                    if self._sink is not None:
                        self._sink.add(v, self)
                if self._net.compiled:
                    from anncompiler.runtime.rebuild import mark_stale
                    mark_stale(self._net)
        if period is not None:
            self._period = _check_period(period, "period", self._net.dt)
            if self._period_offset >= self._period:
                self._period_offset = 0.0
            self._origin = now
            steps, phase = self._steps()
            for role, value in (("period", steps), ("offset", phase)):
                stored = self._net._state(self.name, role, required=False)
                if stored is not None:
                    stored[0] = value
        self._set_active(True)
        if self._spike_origin is None:
            self._spike_origin = now
        self._times["start"].append(now)
        for t in self._var_times.values():
            if len(t["start"]) <= len(t["stop"]):
                t["start"].append(now)

    def pause(self):
        now = self._net.current_step
        self._set_active(False)
        self._times["stop"].append(now)
        for t in self._var_times.values():
            if len(t["start"]) > len(t["stop"]):
                t["stop"].append(now)

    stop = pause

    def resume(self):
        now = self._net.current_step
        self._set_active(True)
        if self._spike_origin is None:
            self._spike_origin = now
        self._times["start"].append(now)
        for t in self._var_times.values():
            if len(t["start"]) <= len(t["stop"]):
                t["start"].append(now)

    def reset(self):
        self._drain_all()
        for v in self.variables:
            self._forget(v)
        self._spike_origin = self._net.current_step

    def times(self, variables=None):
        """``{variable: {'start': [steps], 'stop': [steps]}}``: the steps where the recording of each
        variable started (or resumed) and paused; a recording still running ends at the current step."""
        names = [variables] if isinstance(variables, str) else list(variables or self.variables)
        now = self._net.current_step
        out = {}
        for v in names:
            self._require_variable(v)
            t = self._var_times[v]
            out[v] = {"start": list(t["start"]),
                      "stop": list(t["stop"]) + ([now] if len(t["start"]) > len(t["stop"]) else [])}
        return out

    def save(self, filename, variables=None, keep=False, reshape=False, force_dict=False):
        """Save the recording (what ``get()`` returns, emptied unless ``keep``) to ``.npy`` (one
        variable) or ``.h5``/``.hdf5`` (h5py; see ``core/recording_files.py`` for the layout)."""
        from .recording_files import save_monitor
        save_monitor(self, filename, variables, keep, reshape, force_dict)

    # draining (called by the runtime between chunks) --------------------------
    def _drain(self):
        state = lambda role: self._net._state(self.name, role, required=False)  # noqa: E731
        drain_axon_spikes(self, state)
        row_count = state("rows")
        had_rows = row_count is not None and row_count[0] > 0
        chunk = {}
        if had_rows:
            rows = int(row_count[0])
            for v in self.variables:
                buf = None if v == "spike" else state(f"buffer:{v}")
                if buf is None:  # spikes, or a variable added since the last compile
                    continue
                width = self._row_width(v)
                rows = min(rows, buf.size // width)  # never read past a buffer
                chunk[v] = buf[:rows * width].reshape(rows, width).copy()
        count = state("spike_count")
        spikes = None
        if count is not None and count[0] > 0:
            steps, ranks = state("spike_steps"), state("spike_ranks")
            n = min(int(count[0]), steps.size)
            # kept as arrays: the per-rank dictionary is built in get(), outside the simulation
            spikes = (steps[:n].copy(), ranks[:n].copy())
        if not had_rows and spikes is None:
            return
        if self._sink is not None:
            self._sink.write(chunk, spikes)  # before the commit: a failed write loses nothing
        else:
            for v, data in chunk.items():
                self._data[v].append(data)
            if spikes is not None:
                self._spikes.append(spikes)
        # copies first, then the commit: the buffers are emptied together with the append
        if had_rows:
            row_count[0] = 0
        if spikes is not None:
            count[0] = 0

    # results ---------------------------------------------------------------
    def get(self, variables=None, keep=False, reshape=True, force_dict=False):
        self._drain_all()
        single = isinstance(variables, str)
        names = [variables] if single else list(variables or self.variables)
        out = {}
        for v in names:
            self._require_variable(v)
            if v == "axon_spike":
                out[v] = axon_spike_dict(self)
            else:
                out[v] = self._spike_dict() if v == "spike" else self._variable(v, reshape)
        if not keep:
            for v in names:
                self._forget(v)
        if single and not force_dict:
            return out[variables]
        if len(out) == 1 and not force_dict and variables is None:
            return out[names[0]]
        return out

    def __getitem__(self, name):
        return self.get(name)

    # what is held: in memory, or in the stream file ------------------------------
    def _forget(self, v):
        """Empty what is held of ``v`` (a stream's file keeps it; get() no longer returns it)."""
        if self._sink is not None:
            self._sink.forget(v)
        elif v == "spike":
            self._spikes = []
        elif v == "axon_spike":
            self._axon_spikes = []
        else:
            self._data[v] = []
        if v == "spike":
            self._spike_origin = self._net.current_step

    def _held_spikes(self):
        """(steps, ranks) of the spikes held, in time order."""
        if self._sink is not None:
            return self._sink.spikes()
        if not self._spikes:
            return np.zeros(0, np.int64), np.zeros(0, np.int32)
        return np.concatenate([c[0] for c in self._spikes]), np.concatenate([c[1] for c in self._spikes])

    def _held_rows(self, v):
        """The rows held of ``v``: (rows, width), None when there are none."""
        if self._sink is not None:
            return self._sink.rows(v)
        chunks = self._data.get(v, [])
        return np.concatenate(chunks, axis=0) if chunks else None

    def _spike_dict(self):
        from .recording_files import spike_dict
        return spike_dict(*self._held_spikes(), self._recorded_ranks())

    def _variable(self, v, reshape):
        data = self._held_rows(v)
        if data is None:
            width = 1 if self._is_global(v) else self._width
            data = np.zeros((0, width))
        if data.shape[1] == 1 and self._is_global(v):
            return data[:, 0]
        if reshape:
            return data.reshape((data.shape[0],) + tuple(self._geometry))
        return data

    def _is_global(self, v):
        arr = self._net._state(self.population.name, v, required=False)
        if arr is None or arr.size != 1:
            return False
        if self.population.size > 1:
            return True
        a = self.population._model_ir().attributes.get(v)  # a 1-neuron population: ask the model
        return a is not None and a.locality != "local"

    # analysis --------------------------------------------------------------
    # The spike analyses of ANNarchy (see core/analysis.py for the definitions).  Without
    # ``spikes`` they read the recording without emptying it (get('spike', keep=True)).  Their
    # recording window runs from the step where the spikes held began to be recorded (the start,
    # or the last get('spike')/reset() that emptied them) to now (or to the last pause).
    def _spikes_for_analysis(self, spikes, what):
        if "spike" not in self.variables:
            raise NetworkError(f"monitor {self.name}: {what}() needs the spikes, and '{self.name}' does not "
                               f"record 'spike' (it records {self.variables})")
        return self.get("spike", keep=True) if spikes is None else analysis.spike_data(spikes)

    def _window(self):
        """(first step, end step) of the recording window of the spikes held."""
        origin = self._spike_origin if self._spike_origin is not None else self._net.current_step
        end = self._net.current_step
        if not self._recording and self._times["stop"]:
            end = max(origin, min(end, self._times["stop"][-1]))
        return origin, end

    def raster_plot(self, spikes=None):
        """(times in ms, ranks) of every recorded spike."""
        return analysis.raster_plot(self._spikes_for_analysis(spikes, "raster_plot"), self._net.dt)

    def histogram(self, spikes=None, bins=None, per_neuron=False, recording_window=None):
        """Spike counts per bin of ``bins`` ms (default dt) from the first spike to the last one,
        or over ``recording_window=(start, stop)`` (ms); one row per rank with ``per_neuron``."""
        return analysis.histogram(self._spikes_for_analysis(spikes, "histogram"), bins, per_neuron,
                                  recording_window, self._net.dt)

    def inter_spike_interval(self, spikes=None, ranks=None, per_neuron=False):
        """Inter-spike intervals (ms): one list, or ``{rank: [intervals]}`` with ``per_neuron``."""
        return analysis.inter_spike_interval(self._spikes_for_analysis(spikes, "inter_spike_interval"), ranks,
                                             per_neuron, self._net.dt)

    def coefficient_of_variation(self, spikes=None, ranks=None):
        """Coefficient of variation of the inter-spike intervals, per neuron with two intervals or more."""
        return analysis.coefficient_of_variation(self._spikes_for_analysis(spikes, "coefficient_of_variation"),
                                                 ranks, False, self._net.dt)

    def mean_fr(self, spikes=None):
        """Mean firing rate (Hz) of the recorded neurons over the recording window."""
        spikes = self._spikes_for_analysis(spikes, "mean_fr")
        first, end = self._window()
        return analysis.mean_fr(spikes, (end - first) * self._net.dt, self._net.dt) if spikes else 0.0

    def smoothed_rate(self, spikes=None, smooth=0.0):
        """Instantaneous firing rate (Hz) of each recorded neuron (rows) at each step of the recording
        window (columns), low-passed with time constant ``smooth`` ms (0: none)."""
        spikes = self._spikes_for_analysis(spikes, "smoothed_rate")
        smooth = analysis._non_negative(smooth, "smoothed_rate(): smooth")
        first, end = self._window()
        return analysis.instantaneous_rates(spikes, first, end, smooth, self._net.dt)

    def population_rate(self, spikes=None, smooth=0.0):
        """Firing rate (Hz per neuron) of the recorded neurons at each step of the recording window,
        low-passed with time constant ``smooth`` ms when it exceeds dt."""
        spikes = self._spikes_for_analysis(spikes, "population_rate")
        smooth = analysis._non_negative(smooth, "population_rate(): smooth")
        first, end = self._window()
        return analysis.binned_population_rate(spikes, first, end - first, smooth, self._net.dt)

    @property
    def _width(self):
        """Values per recorded row of a local variable."""
        return self.population.size if self._ranks is None else len(self._ranks)

    def _spec(self):
        from anncompiler.ir.network import MonitorSpec
        period, offset = self._steps()
        return MonitorSpec(self.name, self.population.name, list(self.variables),
                           None if self._ranks is None else self._ranks, period, offset, self._recording)
