"""``schedule``: the order of the phases of one simulation step (ANNARCHY.md §5.4).

1. zero the weighted sums and reset conductances, 2. synaptic input of every projection (reading
the previous step's rates and spikes), 3. neuron updates, 4. global operations (``global-ops``;
plus ``global-ops-init`` before everything, which computes their initial values once),
5. synaptic equations of plastic projections (``synapses``), 6. ``post_spike`` of the neurons
that spiked (``post-events``), 7. stop conditions of ``simulate_until`` (``stop-conditions``),
8. recording.  Later issues insert phases (delays) here, and every backend follows this list.
"""
from __future__ import annotations

from .manager import Pass, register_pass
from .lowering.globalops import population_ops
from .lowering.stop import has_stop_condition


@register_pass
class Schedule(Pass):
    """Order the phases of a step (inputs, neurons, global operations, learning, stop, record)."""
    name = "schedule"

    def run(self, module):
        net = module.network
        pops = [p.name for p in net.populations]
        projections = []
        for post in pops:  # inputs grouped by post-synaptic population
            projections += [e.name for e in net.projections_into(post)]
        # global operations (lowering/globalops.py): initial values at the start of a step while
        # stale, then computed after all neuron updates for the next step; stop conditions
        # (lowering/stop.py) after every state update of the step
        gops = [p.name for p in net.populations if population_ops(p)]
        stops = [p.name for p in net.populations if has_stop_condition(p)]
        net.schedule = [
            ("global-ops-init", gops),
            ("reset-inputs", pops),
            ("input", projections),
            ("neurons", pops),
            ("global-ops", gops),
            ("synapses", [e.name for e in net.projections if e.synapse.updates]),
            ("post-events", [e.name for e in net.projections if e.synapse.post_spike]),
            ("stop-conditions", stops),
            ("record", [m.name for m in net.monitors]),
        ]
