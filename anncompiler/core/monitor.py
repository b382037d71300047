"""Monitor: records variables and spikes of a population or view.

The native step loop writes into buffers (see ``passes/lowering/monitors``);
between chunks the runtime drains them into this object.  ``get`` follows
ANNarchy 5: reshape to the geometry by default, spikes as ``{rank: [steps]}``,
the buffer emptied unless ``keep=True``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError

from . import analysis
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
    def __init__(self, obj, variables=None, period=None, period_offset=None, start=True, name=None,
                 *, network=None):
        from .network import _owner_network
        net = _owner_network(network, [obj], f"Monitor({_describe(obj)}, {variables!r})")
        self._net = net
        if isinstance(obj, str):
            obj = net.get_population(obj)
        if isinstance(obj, Population):
            self.object, self.population, self._ranks, self._geometry = obj, obj, None, obj.geometry
        elif isinstance(obj, (PopulationView, IndividualNeuron)):
            self.object, self.population = obj, obj.population
            self._ranks = np.asarray(obj.ranks, dtype=np.int64)
            self._geometry = getattr(obj, "geometry", (1,))
        else:
            raise NetworkError(f"a Monitor records a Population or a PopulationView, not {type(obj).__name__}")
        if isinstance(variables, str):
            variables = [variables]
        self.variables = list(variables or [])
        self._period = _check_period(period, "period", net.dt) if period is not None else net.dt
        self._period_offset = _check_period(period_offset, "period_offset", 0.0) if period_offset else 0.0
        self._start = start
        self.id = len(net._monitors)
        self.name = name or f"monitor{self.id}"
        self._data = {v: [] for v in self.variables}
        self._spikes: list[tuple[np.ndarray, np.ndarray]] = []  # (steps, ranks) chunks
        self._recording = bool(start)
        #: the step from which the spikes held were recorded (analysis window)
        self._spike_origin = 0 if start else None
        self._times = {"start": [0 if start else None], "stop": []}
        net._add_monitor(self)

    # properties ------------------------------------------------------------
    @property
    def period(self):
        return self._period

    @property
    def period_offset(self):
        return self._period_offset

    def _steps(self):
        dt = self._net.dt
        period = max(1, int(round(self._period / dt)))
        return period, int(round(self._period_offset / dt)) % period

    # control ---------------------------------------------------------------
    def _set_active(self, active: bool):
        self._recording = active
        if self._net.compiled:
            self._net._state(self.name, "active")[0] = active

    def start(self, variables=None, period=None):
        if variables:
            raise NetworkError("changing the recorded variables after compile needs a recompile; "
                               "declare them in the Monitor")
        self._set_active(True)
        if self._spike_origin is None:
            self._spike_origin = self._net.current_step
        self._times["start"].append(self._net.current_step)

    def pause(self):
        self._set_active(False)
        self._times["stop"].append(self._net.current_step)

    stop = pause

    def resume(self):
        self._set_active(True)
        if self._spike_origin is None:
            self._spike_origin = self._net.current_step
        self._times["start"].append(self._net.current_step)

    def reset(self):
        if self._net.compiled:
            with self._net._lock:
                self._net._drain_monitors()
        self._data = {v: [] for v in self.variables}
        self._spikes = []
        self._spike_origin = self._net.current_step

    def times(self, variables=None):
        return dict(self._times)

    # draining (called by the runtime between chunks) --------------------------
    def _drain(self):
        state = lambda role: self._net._state(self.name, role, required=False)  # noqa: E731
        row_count = state("rows")
        if row_count is not None and row_count[0] > 0:
            rows = int(row_count[0])
            chunk = {}
            for v in self.variables:
                if v == "spike":
                    continue
                width = 1 if self._is_global(v) else self._width
                buf = state(f"buffer:{v}")
                rows = min(rows, buf.size // width)  # never read past a buffer
                chunk[v] = buf[:rows * width].reshape(rows, width).copy()
            # copies first, then the commit: the buffer is emptied together with the append
            row_count[0] = 0
            for v, data in chunk.items():
                self._data[v].append(data)
        count = state("spike_count")
        if count is not None and count[0] > 0:
            steps, ranks = state("spike_steps"), state("spike_ranks")
            n = min(int(count[0]), steps.size)
            # kept as arrays: the per-rank dictionary is built in get(), outside the simulation
            self._spikes.append((steps[:n].copy(), ranks[:n].copy()))
            count[0] = 0

    # results ---------------------------------------------------------------
    def get(self, variables=None, keep=False, reshape=True, force_dict=False):
        if self._net.compiled:
            with self._net._lock:  # not while another thread simulates this network
                self._net._drain_monitors()
        single = isinstance(variables, str)
        names = [variables] if single else list(variables or self.variables)
        out = {}
        for v in names:
            if v not in self.variables:
                raise NetworkError(f"monitor {self.name} does not record '{v}' (it records {self.variables})")
            out[v] = self._spike_dict() if v == "spike" else self._variable(v, reshape)
        if not keep:
            for v in names:
                if v == "spike":
                    self._spikes = []
                    self._spike_origin = self._net.current_step
                else:
                    self._data[v] = []
        if single and not force_dict:
            return out[variables]
        if len(out) == 1 and not force_dict and variables is None:
            return out[names[0]]
        return out

    def __getitem__(self, name):
        return self.get(name)

    def _spike_dict(self):
        ranks = range(self.population.size) if self._ranks is None else self._ranks.tolist()
        out = {r: [] for r in ranks}
        if self._spikes:
            steps = np.concatenate([c[0] for c in self._spikes])
            who = np.concatenate([c[1] for c in self._spikes])
            order = np.argsort(who, kind="stable")  # keeps the steps of each rank in time order
            who, steps = who[order], steps[order]
            cuts = np.flatnonzero(np.diff(who)) + 1
            for r, chunk in zip(who[np.r_[0, cuts]].tolist(), np.split(steps, cuts)):
                out[r] = chunk.tolist()
        return out

    def _variable(self, v, reshape):
        chunks = self._data.get(v, [])
        if not chunks:
            width = self._width
            data = np.zeros((0, width))
        else:
            data = np.concatenate(chunks, axis=0)
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
                           None if self._ranks is None else self._ranks, period, offset, self._start)
