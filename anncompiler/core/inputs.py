"""Input populations: SpikeSourceArray (spike times given by the user), PoissonPopulation."""
from __future__ import annotations

import math
import numbers

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError
from anncompiler.ir.model import ModelIR

from .models import Neuron
from .population import Population


def _check_times(name: str, rows) -> list:
    """Sorted spike times (ms) per neuron; NaN, infinite or non-numeric times raise."""
    label = f"SpikeSourceArray {name!r}" if name else "SpikeSourceArray"
    out = []
    for row in rows:
        values = []
        for x in row:
            if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.number)):
                raise InvalidTypeError(f"{label}: a spike time must be a number of ms, not {x!r}")
            if not math.isfinite(float(x)):
                raise InvalidValueError(f"{label}: spike times must be finite, not {x!r}")
            values.append(float(x))
        out.append(sorted(values))
    return out


#: spike times a compiled SpikeSourceArray holds at least (in all), so that ``spike_times`` can be
#: set to longer trains after compile
SPARE_SPIKE_TIMES = 4096


class SpikeSourceArray(Population):
    """Neurons that spike at given times (ms): one list for all neurons, or one list per neuron.

    ``spike_times`` can be set after compile (in all at most ``max(4096, 4 x`` the number at
    compile``)`` times); the times count from the compile, or from the last ``reset()``, which
    rebases them to now."""
    _specific = True  # built alone and handed to net.create() (no global-network warning)

    def __init__(self, spike_times, name=None, *, network=None):
        times = list(spike_times)
        if not times or not isinstance(times[0], (list, tuple, np.ndarray)):
            times = [times]
        self._kind = "spike_source_array"
        self._spike_times = _check_times(name, times)
        super().__init__(len(times), Neuron(spike="False", name="SpikeSourceArray"), name=name,
                         network=network)

    def _model_ir(self):
        if self._ir is None:
            self._ir = ModelIR(self.neuron_type.name, "neuron", "spike")
        return self._ir

    @property
    def spike_times(self):
        return [list(r) for r in self._spike_times]

    @spike_times.setter
    def spike_times(self, value):
        """New spike times (ms).  After compile they count from the sequence's origin (the compile,
        or the last ``reset()``): times already past are skipped; the network must have been
        compiled with at least as many spike times (after rounding to steps) in all."""
        rows = list(value)
        if not rows or not isinstance(rows[0], (list, tuple, np.ndarray)):
            rows = [rows]
        if len(rows) != self.size:
            raise NetworkError(f"{self.name}: {len(rows)} spike trains for {self.size} neurons")
        times = _check_times(self.name, rows)
        if self._net.compiled:
            self._write_steps(self._steps(times), self.__dict__.get("_origin", 0))
        self._spike_times = times

    def _steps(self, times) -> list:
        """The sorted distinct steps of each neuron's times (negative ones are left out)."""
        dt = self._net.dt
        return [sorted({s for s in (int(round(t / dt)) for t in row) if s >= 0}) for row in times]

    @property
    def _data(self):
        """The spike steps per neuron for the compiler: times before step 0 (negative times)
        are in the past and skipped, as after a later move of ``current_step``."""
        steps = self._steps(self._spike_times)
        total = sum(len(row) for row in steps)
        return {"steps": steps, "capacity": max(SPARE_SPIKE_TIMES, 4 * total)}

    def reset(self):
        """Rebase the spike times to now: a time ``t`` fires ``t`` ms after this call."""
        if self._net.compiled:
            self._write_steps(self._steps(self._spike_times), self._net.current_step)

    def _write_steps(self, steps: list, origin: int):
        """Write the steps (counted from ``origin``) into the compiled arrays and re-point the
        cursors at the current step; nothing changes if they do not fit."""
        net = self._net
        with net._lock:
            flat_size = net._state(self.name, "times").size
            total = sum(len(row) for row in steps)
            if total > flat_size:
                raise InvalidValueError(
                    f"SpikeSourceArray {self.name!r} was compiled for {flat_size} spike times; {total} do not fit "
                    "(create it with its longest spike trains before compile())")
            ptr = net._state(self.name, "times_ptr")
            ptr[0] = 0
            ptr[1:] = np.cumsum([len(row) for row in steps])
            if total:
                net._state(self.name, "times")[:total] = np.concatenate(
                    [np.asarray(row, dtype=np.int64) for row in steps]) + origin
            self._origin = origin
            self._sync_step(net.current_step)

    def _sync_step(self, step: int):
        """``current_step`` moved: point each neuron's cursor at its first spike at or after
        ``step`` (earlier ones are skipped, later ones fire on their step)."""
        cursor = self._net._state(self.name, "cursor", required=False)
        if cursor is None:
            return
        ptr, times = self._net._state(self.name, "times_ptr"), self._net._state(self.name, "times")
        for i in range(self.size):
            lo, hi = int(ptr[i]), int(ptr[i + 1])
            cursor[i] = lo + int(np.searchsorted(times[lo:hi], step, side="left"))

class PoissonPopulation(Population):
    """Neurons spiking as Poisson processes (as in ANNarchy): each step a neuron spikes when
    ``Uniform(0, 1) * 1000 / dt < rates``.

    ``rates`` is a number or an array (a local parameter ``rates``, settable later), or an
    equation string for a time-varying rate; with ``target``, the rate is ``sum(target)`` (the
    rate-to-spike bridge).  ``parameters`` adds parameters the rate equation may use."""
    _specific = True

    def __init__(self, geometry, name=None, rates=None, target=None, parameters=None, refractory=None,
                 *, network=None):
        extra = dict(parameters or {})
        if target is not None:
            if rates is not None:
                raise NetworkError("PoissonPopulation: give rates or target, not both")
            rate_equation = f"rates = sum({target})"
        elif isinstance(rates, str):
            rate_equation = f"rates = {rates}"
        else:
            rate_equation = None
            extra["rates"] = 10.0
        lines = [f"{k} = {float(v)!r}" for k, v in extra.items()]
        equations = ([rate_equation] if rate_equation else []) + ["p = Uniform(0.0, 1.0) * 1000.0 / dt"]
        neuron = Neuron(parameters="\n".join(lines), equations=equations, spike="p < rates",
                        refractory=refractory, name="Poisson")
        super().__init__(geometry, neuron, name=name, network=network)
        if rate_equation is None and rates is not None:
            self.rates = rates


def _local_rate_neuron(name: str) -> Neuron:
    from .attributes import Parameter
    return Neuron(parameters=dict(r=Parameter(0.0, locality="local")), name=name)


class InputArray(Population):
    """A rate-coded population whose ``r`` is set from Python (before or after compile, as a
    number, an array shaped like the geometry or a distribution) and kept as it is: nothing
    changes it during a simulation.  It can be recorded by a Monitor and read as ``pop.r``."""
    _specific = True

    def __init__(self, geometry, name=None, *, network=None):
        super().__init__(geometry, _local_rate_neuron("InputArray"), name=name, network=network)


def _schedule_value(label: str, schedule):
    """A schedule as given: a float (ms between rows, <= 0: one row per step) or a list of start
    times (ms, strictly increasing, >= 0)."""
    if isinstance(schedule, bool):
        raise InvalidTypeError(f"{label}: schedule must be a number of ms or a list of times, not {schedule!r}")
    if isinstance(schedule, (numbers.Real, np.number)):
        if not math.isfinite(float(schedule)):
            raise InvalidValueError(f"{label}: schedule must be finite, not {schedule!r}")
        return float(schedule)
    try:
        times = np.asarray(schedule, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"{label}: schedule must be a number of ms or a list of times, "
                               f"not {schedule!r}") from None
    if times.size == 0:
        raise InvalidValueError(f"{label}: the schedule list is empty")
    if not np.all(np.isfinite(times)) or np.any(times < 0):
        raise InvalidValueError(f"{label}: schedule times must be finite numbers of ms >= 0")
    if np.any(np.diff(times) <= 0):
        raise InvalidValueError(f"{label}: schedule times must be strictly increasing")
    return [float(t) for t in times]


def _period_value(label: str, period) -> float:
    if isinstance(period, bool) or not isinstance(period, (numbers.Real, np.number)):
        raise InvalidTypeError(f"{label}: period must be a number of ms, not {period!r}")
    period = float(period)
    if math.isnan(period) or period == math.inf:
        raise InvalidValueError(f"{label}: period must be a finite number of ms (or -1: no cycling), not {period!r}")
    return period if period > 0 else -1.0


def _starts(label: str, schedule, n_rows: int, dt: float) -> np.ndarray:
    """The step of the sequence's clock at which each row is set (a float schedule: every
    ``schedule`` ms, 0 = every step; a list: those times)."""
    if isinstance(schedule, list):
        steps = np.rint(np.asarray(schedule) / dt).astype(np.int64)
        if np.any(np.diff(steps) <= 0):
            raise InvalidValueError(f"{label}: two schedule times fall on the same step of dt={dt}")
        return steps
    if schedule <= 0.0:
        return np.arange(n_rows, dtype=np.int64)
    steps = np.rint(np.arange(n_rows) * schedule / dt).astype(np.int64)
    if np.any(np.diff(steps) <= 0):
        raise InvalidValueError(f"{label}: a schedule of {schedule} ms is shorter than dt={dt}")
    return steps


def _period_steps(label: str, period: float, dt: float) -> int:
    if period <= 0:
        return -1
    steps = int(round(period / dt))
    if steps < 1:
        raise InvalidValueError(f"{label}: a period of {period} ms is shorter than dt={dt}")
    return steps



class TimedArray(Population):
    """A rate-coded input whose ``r`` takes the rows of ``rates`` in turn (the first axis of
    ``rates`` is time, the others the geometry), as ANNarchy's TimedArray.

    * ``schedule`` a number (ms): row ``k`` is set at step ``round(k * schedule / dt)`` of the
      sequence; ``0`` (the default) sets one row per step.  A list of times (ms): row ``k`` is
      set at that time; ``r`` is 0 before the first one.  A list shorter than ``rates`` leaves the
      last rows out (with a warning); a longer one is an error.
    * After the last row ``r`` keeps its value.  ``period > 0`` (ms) restarts the sequence every
      ``period``: rows scheduled at or after ``period`` are never set.
    * The sequence has its own clock, started at compile: ``reset()`` restarts it from now, and
      so does ``update(rates, schedule, period, reset=True)``.  With ``reset=False`` the new rows
      follow the running clock: rows whose time has passed are skipped, ``r`` keeps its value
      until the next one.

    The rows and the schedule live in arrays the native step loop reads (nothing is read from
    Python during a simulation): ``update()`` after compile writes them, and may give at most as
    many rows as the TimedArray had at compile (more raise InvalidValueError, the network is
    unchanged).  ``r`` is set by the sequence only: assigning it raises NetworkError.
    """
    _specific = True

    def __init__(self, rates=None, geometry=None, schedule=0.0, period=-1.0, name=None, *, network=None):
        label = f"TimedArray {name!r}" if name else "TimedArray"
        if rates is None and geometry is None:
            raise InvalidValueError(f"{label}: give rates or a geometry")
        data = None if rates is None else self._check_rates(label, rates)
        if geometry is None:
            geometry = data.shape[1:]
        super().__init__(geometry, _local_rate_neuron("TimedArray"), name=name, network=network)
        self._kind = "timed_array"
        self._rates = np.zeros((0, self.size)) if data is None else self._fit(data)
        self._schedule = _schedule_value(self._label, schedule)
        self._period = _period_value(self._label, period)
        self._check_schedule_length(self._schedule, len(self._rates))
        self._init["r"] = self._first_row()

    # checks ----------------------------------------------------------------------------------
    @property
    def _label(self):
        return f"TimedArray {self.name!r}"

    @staticmethod
    def _check_rates(label, rates):
        try:
            data = np.array(rates, dtype=float)
        except (TypeError, ValueError):
            raise InvalidTypeError(f"{label}: rates must be an array of numbers") from None
        if data.ndim == 1:  # one row per step of a single neuron
            data = data.reshape(-1, 1)
        if data.ndim < 2 or data.shape[0] == 0:
            raise InvalidValueError(f"{label}: rates needs at least one row (the first axis is time)")
        return data

    def _fit(self, data):
        """The rows as (rows, size); their shape must match the geometry."""
        if int(np.prod(data.shape[1:])) != self.size:
            from anncompiler.errors import ShapeError
            raise ShapeError(f"{self._label}: rows of shape {data.shape[1:]} for a population of geometry "
                             f"{self.geometry}")
        return data.reshape(data.shape[0], self.size)

    def _check_schedule_length(self, schedule, n_rows):
        if isinstance(schedule, list):
            if len(schedule) > n_rows:
                raise InvalidValueError(f"{self._label}: {len(schedule)} schedule times for {n_rows} rows of "
                                        "rates (the schedule cannot be longer than the rates; update() keeps the "
                                        "current schedule unless given one)")
            if len(schedule) < n_rows:
                import warnings
                warnings.warn(f"{self._label}: {len(schedule)} schedule times for {n_rows} rows of rates: "
                              "the last rows are never set", stacklevel=3)

    # the sequence in steps -----------------------------------------------------------------------
    def _first_row(self, rates=None, schedule=None, dt=None):
        """``r`` when the sequence (re)starts: its first row when that row starts at once, else 0."""
        rates = self._rates if rates is None else rates
        schedule = self._schedule if schedule is None else schedule
        first_at_zero = not isinstance(schedule, list) or schedule[0] < 0.5 * (dt or self._net.dt)
        if len(rates) and first_at_zero:
            return rates[0].copy()
        return np.zeros(self.size)

    @property
    def _data(self):
        """Rows, row starts (steps) and period (steps) for the lowering (``timed_array_kernel``)."""
        dt = self._net.dt
        starts = _starts(self._label, self._schedule, len(self._rates), dt)
        return {"rates": self._rates.copy(), "starts": starts, "period": _period_steps(self._label, self._period, dt)}

    # the user's API ---------------------------------------------------------------------------
    @property
    def r(self):
        return self._get("r", None)

    @r.setter
    def r(self, value):
        raise NetworkError(f"{self._label}: r is set by the rows of the TimedArray; use update()")

    @property
    def rates(self):
        return self._rates.reshape((len(self._rates),) + tuple(self.geometry)).copy()

    @property
    def schedule(self):
        return list(self._schedule) if isinstance(self._schedule, list) else self._schedule

    @property
    def period(self):
        return self._period

    def update(self, rates, schedule=None, period=None, reset=True):
        """New rows (and, when given, a new schedule and period).  ``reset=True`` restarts the
        sequence from now; ``reset=False`` keeps its clock (rows whose time has passed are skipped
        and ``r`` keeps its value until the next row).  After compile, at most as many rows as at
        compile."""
        data = self._fit(self._check_rates(self._label, rates))
        new_schedule = self._schedule if schedule is None else _schedule_value(self._label, schedule)
        new_period = self._period if period is None else _period_value(self._label, period)
        self._check_schedule_length(new_schedule, len(data))
        net = self._net
        if not net.compiled:
            self._rates, self._schedule, self._period = data, new_schedule, new_period
            self._init["r"] = self._first_row()
            return
        dt = net.dt
        starts = _starts(self._label, new_schedule, len(data), dt)
        period_steps = _period_steps(self._label, new_period, dt)
        with net._lock:
            table = net._state(self.name, "timed_rates")
            capacity = table.size // max(1, self.size)
            if len(starts) > capacity:
                raise InvalidValueError(
                    f"{self._label} was compiled for {capacity} rows; update() gives {len(starts)}: give at most "
                    f"{capacity} (create the TimedArray with its longest sequence before compile())")
            n = len(starts)
            table[:n * self.size] = data[:n].reshape(-1)
            net._state(self.name, "timed_starts")[:n] = starts
            net._state(self.name, "timed_rows")[0] = n
            net._state(self.name, "timed_period")[0] = period_steps
            self._rates, self._schedule, self._period = data, new_schedule, new_period
            if reset:
                self._restart()
            else:
                clock = int(net._state(self.name, "timed_clock")[0])
                net._state(self.name, "timed_next")[0] = int(np.searchsorted(starts, clock, side="left"))

    def reset(self):
        """Restart the sequence from now (its clock back to 0, ``r`` as at the start)."""
        if not self._net.compiled:
            return
        with self._net._lock:
            self._restart()

    def _restart(self):
        net = self._net
        net._state(self.name, "timed_clock")[0] = 0
        net._state(self.name, "timed_next")[0] = 0
        net._state(self.name, "r")[:] = self._first_row()
