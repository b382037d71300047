"""``lower-to-kernels``: network IR + discrete IR -> kernel IR, following the schedule."""
from __future__ import annotations

from anncompiler.errors import NetworkError, PipelineError

from ..manager import Pass, register_pass
from .context import LoweringContext
from .globalops import declare_global_ops, global_ops_init_kernel, global_ops_kernel
from .monitors import monitor_kernel, monitor_layout
from .parallel import place_barriers
from .neurons import (conductance_resets, declare_population, input_targets, neuron_kernel,
                      spike_source_kernel)
from .projections import declare_projection, rate_kernel, reset_inputs_kernel, spike_kernel
from .stop import declare_stop, stop_kernels
from .synapses import learning_kernels, post_event_kernel

__all__ = ["LowerToKernels", "monitor_layout"]


def lower_network(net, lanes: int = 16, threads: int = 1, prefetch: int = 2048):
    if net.schedule is None:
        raise NetworkError("no schedule: run the 'schedule' pass before 'lower-to-kernels'")
    ctx = LoweringContext(net, lanes, threads, prefetch)
    for p in net.populations:
        declare_population(ctx, p)
        declare_global_ops(ctx, p)
        declare_stop(ctx, p)
    for e in net.projections:
        declare_projection(ctx, e)
    kernels = ctx.km.kernels
    projections = {e.name: e for e in net.projections}
    populations = {p.name: p for p in net.populations}
    monitors = {m.name: m for m in net.monitors}
    for phase, names in net.schedule:
        if phase == "reset-inputs":
            for post in names:
                pop = populations[post]
                arrays = [f"{post}._sum_{t}" for t in input_targets(ctx, pop)]
                arrays += [f"{post}.{g}" for g in conductance_resets(pop)]
                if arrays:
                    kernels.append(reset_inputs_kernel(ctx, post, arrays))
        elif phase == "input":
            for name in names:
                e = projections[name]
                kernels.append(spike_kernel(ctx, e) if e.synapse.type == "spike" else rate_kernel(ctx, e))
        elif phase == "neurons":
            for name in names:
                p = populations[name]
                k = spike_source_kernel(ctx, p) if p.kind == "spike_source_array" else neuron_kernel(ctx, p)
                kernels += k if isinstance(k, list) else [k]
        elif phase in ("global-ops-init", "global-ops"):
            make = global_ops_init_kernel if phase == "global-ops-init" else global_ops_kernel
            kernels += [k for k in (make(ctx, populations[name]) for name in names) if k is not None]
        elif phase == "synapses":
            for name in names:
                kernels += learning_kernels(ctx, projections[name])
        elif phase == "post-events":
            kernels += [post_event_kernel(ctx, projections[name]) for name in names]
        elif phase == "stop-conditions":
            kernels += stop_kernels(ctx, [populations[name] for name in names])
        elif phase == "record":
            for name in names:
                kernels.append(monitor_kernel(ctx, monitors[name]))
        else:
            raise NetworkError(f"unknown schedule phase '{phase}'")
    if ctx.threads > 1:
        place_barriers(kernels)
    return ctx.km


@register_pass
class LowerToKernels(Pass):
    """Emit the kernel module: arrays for all state and one kernel per phase item."""
    name = "lower-to-kernels"
    stage = "kernel"
    #: partial sums per dendrite of rate-coded projections (1: sequential, as ANNarchy's scalar code)
    lanes: int = 16
    #: partitions for that many threads (parallel.py); 0: ``module.options["num_threads"]``, else 1
    threads: int = 0
    #: bytes ahead at which sparse rows prefetch their weights and indices (0: no prefetch)
    prefetch: int = 2048

    def __post_init__(self):
        for option, least in (("lanes", 1), ("threads", 0), ("prefetch", 0)):
            if getattr(self, option) < least:
                raise PipelineError(f"pass '{self.name}': option '{option}' must be at least {least}, "
                                    f"got {getattr(self, option)}")

    def run(self, module):
        threads = self.threads or int(module.options.get("num_threads", 1) or 1)
        module.kernels = lower_network(module.network, self.lanes, threads, self.prefetch)
