"""``schedule``: the order of the phases of one simulation step (docs/semantics.md).

The built-in phases (``lowering/builtin_phases.py``): initial global operations while stale,
zeroing of the weighted sums and reset conductances, synaptic input of every projection (reading
the previous step's rates and spikes), neuron updates, global operations, synaptic equations of
plastic projections, ``post_spike`` of the neurons that spiked, stop conditions of
``simulate_until``, recording.  A registered phase (``lowering/phases.py``) takes its place in
this list; every backend follows it.
"""
from __future__ import annotations

from .manager import Pass, register_pass
from .lowering.phases import registered_phases


@register_pass
class Schedule(Pass):
    """Order the phases of a step (inputs, neurons, global operations, learning, stop, record)."""
    name = "schedule"

    def run(self, module):
        net = module.network
        net.schedule = [(phase.name, list(phase.items(net))) for phase in registered_phases()]
