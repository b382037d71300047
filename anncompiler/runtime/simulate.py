"""The simulation loop: ``simulate``, ``simulate_until`` and ``step`` of a compiled network.

The native code runs the steps in chunks; Python is entered only between two chunks, to drain
the monitor buffers and to look at what stopped the chunk.  This module keeps three invariants
so that no path from the public API can crash the process or leave it inconsistent:

* **Empty buffers before native code runs.**  The native loop checks "a monitor buffer is full"
  only after a step, so every chunk starts with drained buffers (a previous run may have been
  interrupted between the native return and the drain).
* **Interrupts at chunk boundaries.**  While the main thread simulates, a ``SIGINT`` (Ctrl-C,
  ``_thread.interrupt_main()``) is recorded and delivered after the current chunk, once time,
  state and monitors agree: the run stops there with ``KeyboardInterrupt`` and the next
  ``simulate()`` goes on from that step.
* **One simulation per network at a time.**  Each network has a lock: a second thread that
  simulates (or drains a monitor of) the same network waits for the first one; separate networks
  run concurrently (the native call releases the GIL).
"""
from __future__ import annotations

import math
import numbers
import signal
import threading
import time as _time

from anncompiler.errors import AnnCompilerError, InvalidTypeError, InvalidValueError, NetworkError

from .progress import Progress
from .rebuild import rebuild_if_needed

#: most steps per native call between two returns to Python (monitor draining, Ctrl-C)
CHUNK_STEPS = 10000
#: a chunk is shortened when it runs longer than this (seconds), so that Ctrl-C stays responsive
CHUNK_SECONDS = 0.25
#: the step counter is an int64: refuse durations that would overflow it
MAX_STEPS = 1 << 62



def network_lock(net) -> threading.RLock:
    """The lock that serialises the simulations (and monitor drains) of ``net``."""
    return net._lock


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------
def steps_for(net, duration, what: str = "simulate") -> int:
    """The number of steps of ``duration`` ms (``ceil(duration / dt)``); bad durations raise."""
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real):
        raise InvalidTypeError(f"{what}(): the duration must be a number of ms, not {duration!r}")
    duration = float(duration)
    if not math.isfinite(duration) or duration < 0.0:
        raise InvalidValueError(f"{what}(): the duration must be a finite number of ms >= 0, "
                                f"not {duration!r}")
    steps = duration / net.dt - 1e-9
    if steps >= MAX_STEPS:
        raise InvalidValueError(f"{what}(): a duration of {duration!r} ms is {steps:.3g} steps of "
                                f"dt={net.dt} ms, more than the step counter holds")
    return max(0, int(math.ceil(steps)))


def check_dt(value) -> float:
    """``dt`` as a float; zero, negative, NaN, infinite or non-numeric values raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"dt must be a number of ms, not {value!r}")
    dt = float(value)
    if not math.isfinite(dt) or dt <= 0.0:
        raise InvalidValueError(f"dt must be a finite number of ms > 0, not {value!r}")
    return dt


# ---------------------------------------------------------------------------------------------
# Ctrl-C at chunk boundaries
# ---------------------------------------------------------------------------------------------
class _Interrupts:
    """Hold back SIGINT while native code and monitor drains run; deliver it at a chunk boundary.

    Only the main thread receives signals, and only there may handlers change: elsewhere (and
    when SIGINT is not handled by Python) this does nothing.
    """

    def __init__(self):
        self.pending = None
        self.previous = None
        self.installed = False

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        try:
            previous = signal.getsignal(signal.SIGINT)
        except (ValueError, OSError):
            return self
        if not callable(previous):  # SIG_IGN / SIG_DFL / None: keep the process's own choice
            return self
        self.previous = previous
        try:
            self.installed = True
            signal.signal(signal.SIGINT, self._record)
        except (ValueError, OSError):
            self.installed = False
        except BaseException:  # interrupted while installing: __exit__ will not run
            self.installed = False
            signal.signal(signal.SIGINT, previous)
            raise
        return self

    def _record(self, signum, frame):
        self.pending = (signum, frame)

    def deliver(self):
        """Call the held-back handler now (it raises KeyboardInterrupt by default)."""
        if self.pending is not None:
            signum, frame = self.pending
            self.pending = None
            self.previous(signum, frame)

    def __exit__(self, *exc):
        if self.installed:
            self.installed = False
            signal.signal(signal.SIGINT, self.previous)
            if exc[0] is None:
                self.deliver()
        return False


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
def drain_monitors(net) -> None:
    """Move what the native code recorded into the Monitor objects (buffers empty afterwards)."""
    for m in net._monitors:
        m._drain()


def run_steps(net, n_steps: int, stop=None, progress=None) -> int:
    """Run ``n_steps`` steps in chunks (fewer when ``stop()`` holds after a chunk); return the
    number of steps run.  Holds the network's lock; SIGINT stops the run at a chunk boundary.
    ``progress`` (``runtime/progress.py``) hears of each chunk."""
    total = 0
    chunk = CHUNK_STEPS
    with network_lock(net), _Interrupts() as interrupts:
        rebuild_if_needed(net)  # monitors added after compile (runtime/rebuild.py)
        try:
            while total < n_steps:
                drain_monitors(net)  # a full buffer would be written past its end
                t0 = _time.perf_counter()
                done = net._simulator.run(min(n_steps - total, chunk))
                elapsed = _time.perf_counter() - t0
                drain_monitors(net)
                if done <= 0:
                    raise AnnCompilerError("the simulation loop made no progress")
                total += done
                if progress is not None:
                    progress.advance(done)
                if stop is not None and stop():
                    break
                if elapsed > CHUNK_SECONDS and done > 1:
                    chunk = max(1, int(done * CHUNK_SECONDS / elapsed))
                interrupts.deliver()
        finally:
            drain_monitors(net)
    return total


def simulate(net, duration, measure_time: bool = False) -> None:
    """See :meth:`Network.simulate`."""
    net._require_compiled("simulate")
    n = steps_for(net, duration, "simulate")
    t0 = _time.perf_counter()
    progress = Progress(net._config.get("progress"), n, net.dt)
    try:
        run_steps(net, n, progress=progress)
    finally:
        progress.close()
    if measure_time:
        print(f"Simulating {duration / 1000.0} seconds of the network took "
              f"{_time.perf_counter() - t0} seconds.")


def step(net) -> None:
    """See :meth:`Network.step`."""
    net._require_compiled("step")
    run_steps(net, 1)


def _watched(net, population) -> list:
    from anncompiler.core.population import Population
    items = list(population) if isinstance(population, (list, tuple)) else [population]
    if not items:
        raise NetworkError("simulate_until() needs at least one population")
    pops = []
    for p in items:
        if isinstance(p, str):
            p = net.get_population(p)
        if not isinstance(p, Population):
            raise NetworkError(f"simulate_until() expects populations, got {type(p).__name__}")
        if p._net is not net:
            raise NetworkError(f"population {p.name} does not belong to this network")
        if not p.stop_condition or net._state(p.name, "stop", required=False) is None:
            raise NetworkError(f"population {p.name} has no stop_condition: create it with "
                               "stop_condition='... : any' to use it in simulate_until()")
        if p not in pops:
            pops.append(p)
    return pops


def simulate_until(net, max_duration, population, operator: str = "and", measure_time: bool = False) -> float:
    """See :meth:`Network.simulate_until`.

    The native step loop stops by itself after a step where the combined stop conditions hold
    (``passes/lowering/stop.py``): the watched populations are armed, the operator and the
    "active" flag set in the shared arrays for the run, and everything is disarmed afterwards.
    """
    net._require_compiled("simulate_until")
    if operator not in ("and", "or"):
        raise NetworkError(f"simulate_until(): operator must be 'and' or 'or', not {operator!r}")
    pops = _watched(net, population)
    n = steps_for(net, max_duration, "simulate_until")
    armed = [net._state(p.name, "until_armed") for p in pops]
    stops = [net._state(p.name, "stop") for p in pops]
    active, use_or = net._state("net", "until_active"), operator == "or"

    def reached() -> bool:  # the loop also returns early to drain monitor buffers: check why
        flags = [bool(s[0]) for s in stops]
        return any(flags) if use_or else all(flags)

    t0 = _time.perf_counter()
    with network_lock(net):
        try:
            for flag in armed:
                flag[0] = True
            net._state("net", "until_or")[0] = use_or
            active[0] = True
            done = run_steps(net, n, reached)
        finally:
            active[0] = False
            for flag in armed:
                flag[0] = False
    elapsed = done * net.dt
    if measure_time:
        print(f"Simulating {elapsed / 1000.0} seconds of the network took {_time.perf_counter() - t0} seconds.")
    return elapsed


def set_current_step(net, step) -> None:
    """Move the step counter (``net.current_step = ...``, ``net.time = ...``) and bring the
    inputs that follow it (SpikeSourceArray cursors) to the new step."""
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        if isinstance(step, numbers.Real) and math.isfinite(step) and float(step).is_integer():
            step = int(step)
        else:
            raise InvalidValueError(f"current_step must be an integer number of steps, not {step!r}")
    step = int(step)
    if not 0 <= step < MAX_STEPS:
        raise InvalidValueError(f"current_step must be >= 0 (and fit the step counter), not {step}")
    with network_lock(net):
        net._state("net", "step")[0] = step
        for pop in net._populations:
            sync = getattr(pop, "_sync_step", None)
            if sync is not None:
                sync(step)
