"""Spiking inputs whose parameters follow a schedule: TimedPoissonPopulation and
HomogeneousCorrelatedSpikeTrains.

Both are ordinary neurons of the equation language; a schedule of rows sets some of their
parameters (the ``schedules`` phase, ``passes/lowering/schedules.py``) on the sequence's own clock,
started at compile.  The rows live in arrays the native step loop reads: nothing is read from
Python during a simulation, and ``update()`` after compile rewrites those arrays (with at most as
many rows as at compile).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError, ShapeError

from .inputs import _period_steps, _period_value, _schedule_value, _starts
from .models import Neuron
from .population import Population


def _check_lengths(label: str, schedule, n_rows: int) -> None:
    if isinstance(schedule, list) and len(schedule) != n_rows:
        raise InvalidValueError(f"{label}: {len(schedule)} schedule times for {n_rows} rows of rates "
                                "(give one time per row)")


class ScheduledPopulation(Population):
    """A population some of whose parameters take rows of values in turn (see the module)."""
    _specific = True

    def __setattr__(self, name, value):
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)  # the property's setter
        else:
            super().__setattr__(name, value)

    @property
    def _label(self):
        return f"{type(self).__name__} {self.name!r}"

    # to define in subclasses: the rows of each scheduled attribute, shape (n_rows, width)
    def _columns(self) -> dict:
        raise NotImplementedError

    def _idle_values(self) -> dict:
        """The scheduled attributes before the first row (a schedule starting after 0)."""
        return {name: 0.0 for name in self._columns()}

    def _setup_schedule(self, schedule, period):
        self._schedule = schedule
        self._period = period
        self._set_start_values()

    def _start_values(self, dt=None) -> dict:
        """Each scheduled attribute when the sequence (re)starts: its first row when that row
        starts at once, else its idle value."""
        columns = self._columns()
        first_at_zero = not isinstance(self._schedule, list) or self._schedule[0] < 0.5 * (dt or self._net.dt)
        if first_at_zero and all(len(rows) for rows in columns.values()):
            return {name: rows[0] for name, rows in columns.items()}
        return self._idle_values()

    def _set_start_values(self):
        for name, value in self._start_values().items():
            value = np.asarray(value, dtype=float).reshape(-1)
            self._init[name] = float(value[0]) if value.size == 1 else value.copy()

    @property
    def _data(self):
        dt = self._net.dt
        columns = self._columns()
        n_rows = len(next(iter(columns.values())))
        return {"schedule": {"columns": {k: np.asarray(v, dtype=float).reshape(n_rows, -1).copy()
                                         for k, v in columns.items()},
                             "starts": _starts(self._label, self._schedule, n_rows, dt),
                             "period": _period_steps(self._label, self._period, dt)}}

    def _apply(self, columns: dict, schedule, period, reset: bool, commit) -> None:
        """Write new rows (``columns``), schedule and period into the compiled arrays, then call
        ``commit()`` (which stores them on the Python side); before compile, only ``commit()``.
        Nothing changes when a check fails."""
        net = self._net
        n_rows = len(next(iter(columns.values())))
        _check_lengths(self._label, schedule, n_rows)
        if not net.compiled:
            _starts(self._label, schedule, n_rows, net.dt)
            _period_steps(self._label, period, net.dt)
            commit()
            self._set_start_values()
            return
        dt = net.dt
        starts = _starts(self._label, schedule, n_rows, dt)
        steps = _period_steps(self._label, period, dt)
        with net._lock:
            capacity = net._state(self.name, "sched_starts").size
            if n_rows > capacity:
                raise InvalidValueError(
                    f"{self._label} was compiled for {capacity} rows; update() gives {n_rows}: give at most "
                    f"{capacity} (create the population with its longest schedule before compile())")
            for name, rows in columns.items():
                table = net._state(self.name, f"sched:{name}")
                flat = np.asarray(rows, dtype=float).reshape(-1)
                table[:flat.size] = flat
            net._state(self.name, "sched_starts")[:n_rows] = starts
            net._state(self.name, "sched_rows")[0] = n_rows
            net._state(self.name, "sched_period")[0] = steps
            commit()
            if reset:
                self._restart()
            else:
                clock = int(net._state(self.name, "sched_clock")[0])
                net._state(self.name, "sched_next")[0] = int(np.searchsorted(starts, clock, side="left"))

    def reset(self):
        """Restart the schedule from now (its clock back to 0, the parameters as at the start)."""
        if not self._net.compiled:
            return
        with self._net._lock:
            self._restart()

    def _restart(self):
        net = self._net
        net._state(self.name, "sched_clock")[0] = 0
        net._state(self.name, "sched_next")[0] = 0
        for name, value in self._start_values().items():
            net._state(self.name, name)[:] = value

    @property
    def schedule(self):
        return list(self._schedule) if isinstance(self._schedule, list) else self._schedule

    @property
    def period(self):
        return self._period


# ---------------------------------------------------------------------------------------------
class TimedPoissonPopulation(ScheduledPopulation):
    """Poisson spike trains whose rates change on a schedule (ANNarchy's TimedPoissonPopulation).

    ``rates[k]`` (one number for all neurons, or an array shaped like the geometry) is the rate
    (Hz) from ``schedule[k]`` (ms) on; before the first time the rate is 0, after the last one it
    stays.  ``schedule`` may also be a number: row ``k`` starts at ``k * schedule`` ms (0: one row
    per step).  ``period > 0`` (ms) restarts the sequence every ``period``.  A neuron spikes in a
    step when ``Uniform(0, 1) * 1000 / dt < proba``, ``proba`` being its current rate.
    """

    def __init__(self, geometry, rates, schedule=0.0, period=-1.0, name=None, *, network=None):
        neuron = Neuron(parameters="proba = 0.0", equations="p = Uniform(0.0, 1.0) * 1000.0 / dt",
                        spike="p < proba", name="TimedPoisson")
        super().__init__(geometry, neuron, name=name, network=network)
        schedule = _schedule_value(self._label, schedule)
        period = _period_value(self._label, period)
        self._rates = self._check_rates(rates)
        _check_lengths(self._label, schedule, len(self._rates))
        self._setup_schedule(schedule, period)

    def _check_rates(self, rates) -> np.ndarray:
        """The rows as (rows, size): a list of numbers gives one rate per row for every neuron."""
        try:
            data = np.array(rates, dtype=float)
        except (TypeError, ValueError):
            raise InvalidTypeError(f"{self._label}: rates must be numbers or arrays of numbers") from None
        if data.ndim == 0:
            data = data.reshape(1)
        if data.shape[0] == 0:
            raise InvalidValueError(f"{self._label}: rates needs at least one row (the first axis is time)")
        if not np.all(np.isfinite(data)) or np.any(data < 0):
            raise InvalidValueError(f"{self._label}: rates must be finite numbers of Hz >= 0")
        if data.ndim == 1:
            return np.repeat(data[:, None], self.size, axis=1)
        if int(np.prod(data.shape[1:])) != self.size:
            raise ShapeError(f"{self._label}: rows of shape {data.shape[1:]} for a population of geometry "
                             f"{self.geometry}")
        return data.reshape(data.shape[0], self.size)

    def _columns(self):
        return {"proba": self._rates}

    @property
    def rates(self):
        return self._rates.reshape((len(self._rates),) + tuple(self.geometry)).copy()

    @rates.setter
    def rates(self, value):
        self.update(value, reset=False)

    @ScheduledPopulation.schedule.setter
    def schedule(self, value):
        self.update(self._rates, schedule=value, reset=False)

    @ScheduledPopulation.period.setter
    def period(self, value):
        self.update(self._rates, period=value, reset=False)

    def update(self, rates, schedule=None, period=None, reset=True):
        """New rates (and, when given, a new schedule and period).  ``reset=True`` restarts the
        sequence from now; ``reset=False`` keeps its clock (rows whose time has passed are
        skipped).  After compile, at most as many rows as at compile."""
        data = self._check_rates(rates)
        new_schedule = self._schedule if schedule is None else _schedule_value(self._label, schedule)
        new_period = self._period if period is None else _period_value(self._label, period)

        def commit():
            self._rates, self._schedule, self._period = data, new_schedule, new_period
        self._apply({"proba": data}, new_schedule, new_period, reset, commit)


# ---------------------------------------------------------------------------------------------
def _rectified_moments(y: float) -> tuple[float, float]:
    """Mean and standard deviation of ``max(X, 0)`` for ``X ~ N(y, 1)``."""
    a = 1.0 + math.erf(y / math.sqrt(2.0))
    mean = math.exp(-0.5 * y * y) / math.sqrt(2.0 * math.pi) + 0.5 * y * a
    var = (y - mean) * mean + 0.5 * a
    return mean, math.sqrt(max(var, 0.0))


def correlated_mu_sigma(rate: float, corr: float, tau: float) -> tuple[float, float]:
    """``(mu, sigma)`` of the Ornstein-Uhlenbeck rate ``x`` such that its positive part has the
    mean ``rate`` (Hz) and the standard deviation ``sqrt(corr * rate / (2 tau))`` (tau in s):
    the spike trains then have the rate ``rate`` and pairwise correlation ``corr`` (the
    rectification of Brette's homogeneous correlated spike trains)."""
    target_sd = math.sqrt(corr * rate / (2.0 * tau / 1000.0))
    if target_sd == 0.0:
        return rate, 0.0
    goal = rate / target_sd  # mean / sd of the rectified Gaussian, increasing in y = mu / sigma

    def ratio(y):
        m, s = _rectified_moments(y)
        return m / s if s > 0 else math.inf

    lo, hi = -1.0, max(1.0, goal + 1.0)
    while ratio(lo) > goal and lo > -40.0:
        lo *= 2.0
    while ratio(hi) < goal:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if ratio(mid) < goal:
            lo = mid
        else:
            hi = mid
    y = 0.5 * (lo + hi)
    sigma = rate / _rectified_moments(y)[0]
    return y * sigma, sigma


def _number(label: str, what: str, value, low: float, high: float = math.inf, open_low=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise InvalidTypeError(f"{label}: {what} must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < low or value > high or (open_low and value == low):
        bound = f"> {low}" if open_low else f">= {low}"
        raise InvalidValueError(f"{label}: {what} must be a finite number {bound}"
                                + (f" and <= {high}" if high != math.inf else "") + f", not {value!r}")
    return value


class HomogeneousCorrelatedSpikeTrains(ScheduledPopulation):
    """Poisson spike trains sharing one fluctuating rate (ANNarchy's
    HomogeneousCorrelatedSpikeTrains): every neuron has the rate ``rates`` (Hz) and any two have
    the correlation ``corr`` (in [0, 1]) over a time constant ``tau`` (ms).

    The shared rate ``x`` is an Ornstein-Uhlenbeck process of the population (mean ``mu``,
    standard deviation ``sigma``, time constant ``tau``), written in the equation language with
    its exact discretisation: ``x += (mu - x)*(1 - exp(-dt/tau)) +
    sigma*sqrt(1 - exp(-2*dt/tau))*Normal(0, 1)``; a neuron spikes when
    ``Uniform(0, 1) * 1000 / dt < x``.  ``mu`` and ``sigma`` are chosen so that the
    positive part of ``x`` has the mean ``rates`` (see :func:`correlated_mu_sigma`).  With a
    ``schedule`` (a list of times in ms, or a number of ms between rows), ``rates`` is a list of
    rates taken in turn, as in TimedPoissonPopulation; ``period`` cycles the schedule.
    """

    def __init__(self, geometry, rates, corr, tau, schedule=None, period=-1.0, name=None, refractory=None,
                 *, network=None):
        neuron = Neuron(parameters="tau = 10.0 : population\nmu = 0.0 : population\nsigma = 0.0 : population",
                        equations="x += (mu - x)*(1.0 - exp(-dt/tau)) + "
                                  "sigma*sqrt(1.0 - exp(-2.0*dt/tau))*Normal(0.0, 1.0) : population\n"
                                  "p = Uniform(0.0, 1.0) * 1000.0 / dt",
                        spike="p < x", refractory=refractory, name="HomogeneousCorrelated")
        super().__init__(geometry, neuron, name=name, network=network)
        given = None if schedule is None else _schedule_value(self._label, schedule)
        self._values = self._check(rates, corr, tau, given)
        self._scheduled = given is not None
        schedule = 0.0 if given is None else given
        self._setup_schedule(schedule, _period_value(self._label, period))
        self._init["tau"] = self._values[2]
        self._init["x"] = float(np.asarray(self._start_values()["mu"]).reshape(-1)[0])

    def _check(self, rates, corr, tau, schedule):
        label = self._label
        if isinstance(rates, (list, tuple, np.ndarray)):
            if schedule is None and np.ndim(rates) > 0 and len(rates) != 1:
                raise InvalidValueError(f"{label}: a list of rates needs a schedule")
            rows = [_number(label, "each rate", r, 0.0) for r in np.asarray(rates, dtype=object).reshape(-1)]
            if not rows:
                raise InvalidValueError(f"{label}: rates is empty")
        else:
            rows = [_number(label, "rates", rates, 0.0)]
        corr = _number(label, "corr", corr, 0.0, 1.0)
        tau = _number(label, "tau", tau, 0.0, open_low=True)
        pairs = [correlated_mu_sigma(r, corr, tau) for r in rows]
        return rows, corr, tau, np.array([[m] for m, _ in pairs]), np.array([[s] for _, s in pairs])

    def _columns(self):
        return {"mu": self._values[3], "sigma": self._values[4]}

    @property
    def rates(self):
        rows = self._values[0]
        return list(rows) if self._scheduled else rows[0]

    @rates.setter
    def rates(self, value):
        self.update(value, reset=False)

    @property
    def corr(self):
        return self._values[1]

    @corr.setter
    def corr(self, value):
        self.update(self._values[0], corr=value, reset=False)

    @property
    def tau(self):
        return self._values[2]

    @tau.setter
    def tau(self, value):
        self.update(self._values[0], tau=value, reset=False)

    @property
    def mu(self):
        return self._get("mu", None)

    @mu.setter
    def mu(self, value):
        raise NetworkError(f"{self._label}: mu is computed from rates, corr and tau; use update()")

    @property
    def sigma(self):
        return self._get("sigma", None)

    @sigma.setter
    def sigma(self, value):
        raise NetworkError(f"{self._label}: sigma is computed from rates, corr and tau; use update()")

    @ScheduledPopulation.schedule.setter
    def schedule(self, value):
        self.update(self._values[0], schedule=value, reset=False)

    @ScheduledPopulation.period.setter
    def period(self, value):
        self.update(self._values[0], period=value, reset=False)

    def update(self, rates, corr=None, schedule=None, tau=None, reset=True, period=None):
        """New rates (and, when given, correlation, schedule, time constant and period; those not
        given are kept).  ``reset=True`` restarts the schedule from now; the shared rate ``x``
        keeps its value."""
        corr = self._values[1] if corr is None else corr
        tau = self._values[2] if tau is None else tau
        if schedule is None:
            given = self._schedule if self._scheduled else None
        else:
            given = _schedule_value(self._label, schedule)
        values = self._check(rates, corr, tau, given)
        new_schedule = 0.0 if given is None else given
        new_period = self._period if period is None else _period_value(self._label, period)

        def commit():
            self._values, self._schedule, self._period = values, new_schedule, new_period
            self._scheduled = given is not None
        self._apply({"mu": values[3], "sigma": values[4]}, new_schedule, new_period, reset, commit)
        if self._net.compiled:
            self._net._state(self.name, "tau")[:] = values[2]
        else:
            self._init["tau"] = values[2]
