"""``simulate_until``: run until the stop conditions of some populations hold (ANNARCHY.md §1.2, §5.7).

The native step loop stops by itself (``passes/lowering/stop.py``): this
module arms the watched populations, sets the operator and the "active"
flag in the shared arrays, runs the loop in chunks (draining monitors between
chunks, exactly as ``simulate``) and disarms everything afterwards.
"""
from __future__ import annotations

import math
import time as _time

from anncompiler.errors import AnnCompilerError, NetworkError

ACTIVE, OR = "net._until_active", "net._until_or"


def _watched(net, population) -> list:
    from .population import Population
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
        if not p.stop_condition or f"{p.name}._stop" not in net._arrays:
            raise NetworkError(f"population {p.name} has no stop_condition: create it with "
                               "stop_condition='... : any' to use it in simulate_until()")
        if p not in pops:
            pops.append(p)
    return pops


def _reached(arrays, pops, use_or: bool) -> bool:
    flags = [bool(arrays[f"{p.name}._stop"][0]) for p in pops]
    return any(flags) if use_or else all(flags)


def simulate_until(net, max_duration: float, population, operator: str = "and",
                   measure_time: bool = False) -> float:
    """See :meth:`Network.simulate_until`."""
    net._require_compiled("simulate_until")
    if operator not in ("and", "or"):
        raise NetworkError(f"simulate_until(): operator must be 'and' or 'or', not {operator!r}")
    pops = _watched(net, population)
    arrays = net._arrays
    n = int(math.ceil(max_duration / net.dt - 1e-9))
    armed = [f"{p.name}._until_armed" for p in pops]
    use_or = operator == "or"
    done_total = 0
    t0 = _time.perf_counter()
    from .network import CHUNK_STEPS
    try:
        for name in armed:
            arrays[name][0] = True
        arrays[OR][0] = use_or
        arrays[ACTIVE][0] = True
        while done_total < n:
            done = net._simulator.run(min(n - done_total, CHUNK_STEPS))
            net._drain_monitors()
            if done <= 0:
                raise AnnCompilerError("the simulation loop made no progress")
            done_total += done
            # the loop also returns early to drain monitor buffers: check why it stopped
            if _reached(arrays, pops, use_or):
                break
    finally:
        arrays[ACTIVE][0] = False
        for name in armed:
            arrays[name][0] = False
    elapsed = done_total * net.dt
    if measure_time:
        print(f"Simulating {elapsed / 1000.0} seconds of the network took {_time.perf_counter() - t0} seconds.")
    return elapsed
