"""``pop.enable()``, ``pop.disable()`` and ``pop.clear()``: switches and spike history of a
compiled population, changed between two simulations without recompiling.

The switch is the array the native loop reads at each step (``passes/lowering/activity.py`` says
what a disabled population skips); ``clear()`` empties what the spiking population emitted
before: the spike list of the last step, the steps of the last spikes, the refractory counters
and the ring of past spike lists that delayed projections read.
"""
from __future__ import annotations

from anncompiler.errors import NetworkError

#: the value of a last-spike step meaning "never spiked" (as ANNarchy's -10000)
NEVER = -10000


def set_enabled(pop, enabled: bool) -> None:
    pop.__dict__["enabled"] = bool(enabled)
    net = pop._net
    if net.compiled:
        with net._lock:  # not while another thread simulates this network
            switch = net._state(pop.name, "active", required=False)
            if switch is not None:
                switch[0] = bool(enabled)


def clear_spikes(pop) -> None:
    """Forget the spikes ``pop`` emitted (nothing to do for a rate-coded population)."""
    net = pop._net
    if not net.compiled or pop._model_ir().type != "spike":
        return
    with net._lock:
        for role, value in (("spike_count", 0), ("axonal_count", 0), ("last_spike", NEVER),
                            ("refractory_remaining", 0), ("ring_count", 0)):
            arr = net._state(pop.name, role, required=False)
            if arr is not None:
                arr[...] = value


def spikes_of_view(view) -> list[int]:
    """The ranks (in the population) of the view's neurons that spiked in the last step."""
    pop = view.population
    if not pop._net.compiled:
        raise NetworkError(f"{pop.name}: spikes can be read only after compile()")
    own = set(int(r) for r in view.ranks)
    return sorted(r for r in pop.spike if r in own)
