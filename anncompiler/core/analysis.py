"""Spike train analyses (as ANNarchy's ``raster_plot``, ``histogram``, ...).

They work on the dictionary of a spike recording, ``{rank: [steps]}`` (what
``Monitor.get('spike')`` returns; ``{'spike': {...}}`` is accepted too), without
a network: ``dt`` (ms) converts steps to ms.  The Monitor methods of the same
names call them with the monitor's ``dt`` and its recording window.

Units: times and intervals in ms, rates in Hz; ``bins`` and ``recording_window``
in ms.  ``smoothed_rate`` and ``population_rate`` give one value per step.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError


def spike_data(spikes) -> dict:
    """``{rank: [steps]}`` from a recording (or ``{'spike': recording}``); bad input raises."""
    if not isinstance(spikes, dict):
        raise InvalidTypeError(f"spikes must be the dictionary returned by get('spike'), not "
                               f"{type(spikes).__name__}")
    if "spike" in spikes and isinstance(spikes["spike"], dict):
        spikes = spikes["spike"]
    return spikes


def _positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise InvalidTypeError(f"{what} must be a number of ms, not {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0.0:
        raise InvalidValueError(f"{what} must be a finite number of ms > 0, not {value!r}")
    return value


def _non_negative(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise InvalidTypeError(f"{what} must be a number of ms, not {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0.0:
        raise InvalidValueError(f"{what} must be a finite number of ms >= 0, not {value!r}")
    return value


def _steps(spikes) -> np.ndarray:
    arrays = [np.asarray(s, dtype=np.int64).reshape(-1) for s in spikes.values()]
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)


def _first_last(spikes):
    steps = _steps(spikes)
    if steps.size == 0:
        return None
    return int(steps.min()), int(steps.max())


def _magic_dt() -> float:
    from .global_api import magic_network
    return magic_network().dt


def raster_plot(spikes, dt: float = 1.0):
    """(times in ms, ranks): one entry per spike, rank by rank, each rank's spikes in time order."""
    spikes = spike_data(spikes)
    dt = _positive(dt, "dt")
    times = _steps(spikes).astype(float) * dt
    ranks = np.concatenate([np.full(len(s), r, dtype=int) for r, s in spikes.items()]) if spikes \
        else np.zeros(0, dtype=int)
    return times, ranks


def histogram(spikes, bins=None, per_neuron: bool = False, recording_window=None, dt: float = 1.0):
    """Spike counts per bin of ``bins`` ms (default ``dt``), from the first to the last spike (or
    over ``recording_window=(start, stop)`` in ms): ``(t_last - t_first) // bin + 1`` bins, bin
    ``k`` counting the spikes of steps ``[t_first + k*bin, t_first + (k+1)*bin)``.  With
    ``per_neuron``, one row per rank (``0 .. max rank``)."""
    spikes = spike_data(spikes)
    dt = _positive(dt, "dt")
    width = max(1, int(round(_positive(bins, "histogram(): bins") / dt))) if bins is not None else 1
    if recording_window is not None:
        try:
            lo, hi = (_non_negative(x, "histogram(): recording_window") for x in recording_window)
        except TypeError:
            raise InvalidTypeError("histogram(): recording_window must be (start, stop) in ms") from None
        first, last = int(round(lo / dt)), int(round(hi / dt))
        if last < first:
            raise InvalidValueError("histogram(): recording_window must be (start, stop) with start <= stop")
    else:
        bounds = _first_last(spikes)
        if bounds is None:
            n_rows = (max(spikes) + 1) if spikes else 0
            return np.zeros((n_rows, 0), dtype=int) if per_neuron else np.zeros(0, dtype=int)
        first, last = bounds
    n_bins = (last - first) // width + 1

    def count(steps):
        steps = np.asarray(steps, dtype=np.int64).reshape(-1)
        steps = steps[(steps >= first) & (steps <= last)]
        return np.bincount((steps - first) // width, minlength=n_bins)[:n_bins]

    if per_neuron:
        out = np.zeros(((max(spikes) + 1) if spikes else 0, n_bins), dtype=int)
        for r, s in spikes.items():
            out[r] = count(s)
        return out
    return count(_steps(spikes))


def inter_spike_interval(spikes, ranks=None, per_neuron: bool = False, dt: float = 1.0):
    """Intervals (ms) between consecutive spikes of each neuron with at least two spikes (only
    ``ranks`` when given): one list of all of them, rank by rank, or ``{rank: [intervals]}``."""
    spikes = spike_data(spikes)
    dt = _positive(dt, "dt")
    wanted = None if ranks is None else {int(r) for r in np.asarray(ranks).reshape(-1)}
    isi = {}
    for r, s in spikes.items():
        if len(s) < 2 or (wanted is not None and r not in wanted):
            continue
        isi[r] = (np.diff(np.asarray(s, dtype=np.int64)) * dt).tolist()
    if per_neuron:
        return isi
    return [x for values in isi.values() for x in values]


def coefficient_of_variation(spikes, ranks=None, per_neuron: bool = False, dt: float = 1.0):
    """Coefficient of variation (standard deviation / mean) of the inter-spike intervals of each
    neuron with at least two intervals: a list, rank by rank, or ``{rank: cv}``."""
    cv = {r: float(np.std(v) / np.mean(v))
          for r, v in inter_spike_interval(spikes, ranks, per_neuron=True, dt=dt).items() if len(v) >= 2}
    return cv if per_neuron else list(cv.values())


def mean_fr(spikes, duration=None, dt: float = 1.0) -> float:
    """Mean firing rate (Hz) of the neurons of the recording over ``duration`` ms (default: from
    the first to the last spike)."""
    spikes = spike_data(spikes)
    dt = _positive(dt, "dt")
    if not spikes:
        return 0.0
    if duration is None:
        bounds = _first_last(spikes)
        duration = 0.0 if bounds is None else (bounds[1] - bounds[0]) * dt
    else:
        duration = _non_negative(duration, "mean_fr(): duration")
    total = sum(len(s) for s in spikes.values())
    if duration <= 0.0:
        return 0.0 if total == 0 else math.nan
    return total / len(spikes) / duration * 1000.0


def _smooth(rates: np.ndarray, smooth: float, dt: float) -> np.ndarray:
    """First-order low-pass along the last axis: ``s[t+1] = s[t] + (x[t+1] - s[t]) * dt/smooth``."""
    out = np.empty_like(rates)
    if rates.shape[-1] == 0:
        return out
    out[..., 0] = rates[..., 0]
    delta = dt / smooth
    for t in range(rates.shape[-1] - 1):
        out[..., t + 1] = out[..., t] + (rates[..., t + 1] - out[..., t]) * delta
    return out


def instantaneous_rates(spikes, start: int, stop: int, smooth: float, dt: float) -> np.ndarray:
    """(neurons, stop - start): between two consecutive spikes of a neuron at steps ``a < b``, its
    rate on the steps ``[a, b)`` is ``1000 / ((b - a) * dt)`` Hz (0 before its first and from its
    last spike on), then low-passed with time constant ``smooth`` ms (0: none)."""
    n_steps = max(0, stop - start)
    rates = np.zeros((len(spikes), n_steps))
    for row, s in enumerate(spikes.values()):
        s = np.asarray(s, dtype=np.int64).reshape(-1)
        for a, b in zip(s[:-1], s[1:]):
            lo, hi = max(int(a) - start, 0), min(int(b) - start, n_steps)
            if hi > lo and b > a:
                rates[row, lo:hi] = 1000.0 / ((b - a) * dt)
    return rates if smooth == 0.0 else _smooth(rates, smooth, dt)


def binned_population_rate(spikes, start: int, n_steps: int, smooth: float, dt: float) -> np.ndarray:
    """(n_steps,): spikes of all neurons per step from ``start``, in Hz per neuron, low-passed with
    time constant ``smooth`` ms when it is longer than ``dt``."""
    steps = _steps(spikes) - start
    steps = steps[(steps >= 0) & (steps < n_steps)]
    rates = np.bincount(steps, minlength=n_steps)[:n_steps].astype(float)
    if spikes:
        rates /= dt * len(spikes) / 1000.0
    return rates if smooth <= dt else _smooth(rates, smooth, dt)


def smoothed_rate(spikes, smooth: float = 0.0, dt: float | None = None) -> np.ndarray:
    """Instantaneous firing rate (Hz) of each neuron (rows, rank by rank) at each step from the
    first spike to the last one, low-passed with time constant ``smooth`` ms (0: none).
    ``dt``: the step in ms (default: the global network's)."""
    spikes = spike_data(spikes)
    dt = _magic_dt() if dt is None else _positive(dt, "dt")
    smooth = _non_negative(smooth, "smoothed_rate(): smooth")
    bounds = _first_last(spikes) or (0, 0)
    return instantaneous_rates(spikes, bounds[0], bounds[1], smooth, dt)


def population_rate(spikes, smooth: float = 0.0, dt: float | None = None) -> np.ndarray:
    """Firing rate of the recorded population (Hz per neuron) at each step from the first spike
    to the last one included, low-passed with time constant ``smooth`` ms when it exceeds dt."""
    spikes = spike_data(spikes)
    dt = _magic_dt() if dt is None else _positive(dt, "dt")
    smooth = _non_negative(smooth, "population_rate(): smooth")
    bounds = _first_last(spikes)
    if bounds is None:
        return np.zeros(0)
    return binned_population_rate(spikes, bounds[0], bounds[1] - bounds[0] + 1, smooth, dt)
