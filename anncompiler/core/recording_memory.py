"""The warning given before a simulation whose in-memory recordings may not fit in memory.

The estimate is what the monitors hold now plus, for each recording variable, the rows the
coming steps add (steps due by the period, times the values of a row); spikes are counted as
held, not forecast (their number depends on the activity).  The warning is given when it exceeds
half the memory available: ``get()`` concatenates the recorded chunks, so the recording is held
twice for a moment.  Streamed monitors (``stream='rec.h5'``) write to disk and are not counted.
"""
from __future__ import annotations

import warnings

from anncompiler.errors import AnnCompilerError, RecordingMemoryWarning

#: share of the available memory above which the recording is said not to fit
MEMORY_FRACTION = 0.5


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``); None elsewhere."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _due_steps(now: int, n_steps: int, period: int, phase: int) -> int:
    """How many steps t in [now, now + n_steps) have t % period == phase."""
    first = now + (phase - now) % period
    return max(0, (now + n_steps - first + period - 1) // period)


def recording_bytes(monitor, n_steps: int) -> int:
    """Bytes ``monitor`` holds in memory after ``n_steps`` more steps (0 for a streamed one)."""
    if monitor._sink is not None:
        return 0
    held = sum(c.nbytes for chunks in monitor._data.values() for c in chunks)
    held += sum(s.nbytes + r.nbytes for s, r in monitor._spikes + getattr(monitor, "_axon_spikes", []))
    if not monitor._recording:
        return held
    net = monitor._net
    itemsize = 4 if net._config.get("dtype_name") == "f32" else 8
    period, phase = monitor._steps()
    rows = _due_steps(net.current_step, n_steps, period, phase)
    for v in monitor.variables:
        if v not in ("spike", "axon_spike"):
            held += rows * monitor._row_width(v) * itemsize
    return held


def warn_if_recordings_exceed_memory(net, duration, what: str = "simulate") -> None:
    """Warn (RecordingMemoryWarning) when simulating ``duration`` ms more would make the in-memory
    recordings larger than :data:`MEMORY_FRACTION` of the available memory."""
    from anncompiler.runtime.simulate import steps_for
    try:
        n_steps = steps_for(net, duration, what)
    except AnnCompilerError:
        return  # the simulation itself reports a bad duration
    total = sum(recording_bytes(m, n_steps) for m in net._monitors)
    available = available_memory()
    if available is None or total <= MEMORY_FRACTION * available:
        return
    names = ", ".join(m.name for m in net._monitors if recording_bytes(m, n_steps))
    warnings.warn(f"the recordings of the monitors ({names}) will take about {total / 2**30:.2f} GiB after this "
                  f"{what}(), more than half the {available / 2**30:.2f} GiB of memory available: get() them "
                  f"more often, record with a longer period, or stream them to a file "
                  f"(net.monitor(..., stream='rec.h5'))", RecordingMemoryWarning, stacklevel=3)
