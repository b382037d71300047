"""``schedule``: the order of the phases of one simulation step (ANNARCHY.md §5.4).

1. zero the weighted sums and reset conductances, 2. synaptic input of every projection (reading
the previous step's rates and spikes), 3. neuron updates, 4. recording.
Later issues insert phases (random numbers, delays, global operations,
synaptic updates, post events) here, and every backend follows this list.
"""
from __future__ import annotations

from .manager import Pass, register_pass


@register_pass
class Schedule(Pass):
    name = "schedule"

    def run(self, module):
        net = module.network
        pops = [p.name for p in net.populations]
        projections = []
        for post in pops:  # inputs grouped by post-synaptic population
            projections += [e.name for e in net.projections_into(post)]
        net.schedule = [
            ("reset-inputs", pops),
            ("input", projections),
            ("neurons", pops),
            ("record", [m.name for m in net.monitors]),
        ]
