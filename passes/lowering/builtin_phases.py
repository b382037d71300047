"""The built-in phases of a step, registered in their order (docs/semantics.md, "One step")."""
from __future__ import annotations

from .activity import idle_kernel, when_active
from .axonal import axonal_kernel
from .delay_rings import ring_input_kernels, uses_delay_ring
from .globalops import all_ops, global_ops_kernel
from .monitors import monitor_kernel
from .neurons import conductance_resets, input_targets, neuron_kernel, spike_source_kernel, timed_array_kernel

#: input kinds with their own kernel in the neurons phase (the others run their model's updates)
INPUT_KERNELS = {"spike_source_array": spike_source_kernel, "timed_array": timed_array_kernel}
from .phases import register_phase
from .projections import continuous_kernel, rate_kernel, reset_inputs_kernel, spike_kernel
from .specialised import PROJECTION_KERNELS, conductance_kernel
from .stop import has_stop_condition, stop_kernels
from .synapses import learning_kernels, post_event_kernel


def _populations(net):
    return [p.name for p in net.populations]


def _with_global_ops(net):
    return [p.name for p in net.populations if p.model is not None and all_ops(net, p)]


def _inputs(net):
    """Projections grouped by post-synaptic population."""
    return [e.name for post in _populations(net) for e in net.projections_into(post)]


@register_phase("reset-inputs", _populations)
def _reset_inputs(ctx, names):
    kernels = []
    for post in names:
        pop = ctx.net.population(post)
        arrays = [f"{post}._sum_{t}" for t in input_targets(ctx, pop)]
        arrays += [f"{post}.{g}" for g in conductance_resets(pop)]
        if arrays:
            kernels += when_active(ctx, post, [reset_inputs_kernel(ctx, post, arrays)])
    return kernels


@register_phase("input", _inputs)
def _input(ctx, names):
    kernels = []
    for name in names:
        e = ctx.projection(name)
        if uses_delay_ring(ctx.net, e):  # delay_rings.py: its rings go on while e.post is disabled
            kernels += ring_input_kernels(ctx, e, names)
            continue
        kernels += when_active(ctx, e.post, _input_kernels(ctx, e))  # nothing into a disabled population
    return kernels


def _input_kernels(ctx, e):
    own = PROJECTION_KERNELS.get(e.kind)  # specialised kinds (current injection, decoding)
    if own is not None:
        return [own(ctx, e)]
    if e.synapse.type != "spike":  # into spiking neurons' g_target: specialised.py
        return [conductance_kernel(ctx, e) if e.options.get("conductance") else rate_kernel(ctx, e)]
    kernels = []
    if e.synapse.axon_events == "own":  # axonal spikes (axonal.py): before the spikes
        kernels.append(axonal_kernel(ctx, e, spike_kernel))
    if e.synapse.pre_spike:
        kernels.append(spike_kernel(ctx, e))
    if e.synapse.axon_events == "pre_spike":  # after the spikes, as one list
        kernels.append(axonal_kernel(ctx, e, spike_kernel))
    if e.synapse.psp is not None:  # continuous transmission
        kernels.append(continuous_kernel(ctx, e))
    return kernels


@register_phase("neurons", _populations)
def _neurons(ctx, names):
    kernels = []
    for name in names:
        p = ctx.net.population(name)
        if p.kind == "spike_source_array":  # its cursors go on: it only stops emitting (spike_source_kernel)
            kernels.append(spike_source_kernel(ctx, p))
        else:
            kernels += when_active(ctx, name, [INPUT_KERNELS.get(p.kind, neuron_kernel)(ctx, p)])
        idle = idle_kernel(ctx, p)
        if idle is not None:
            kernels.append(idle)
    return kernels


@register_phase("global-ops", _with_global_ops)
def _global_ops(ctx, names):
    kernels = []
    for name in names:
        k = global_ops_kernel(ctx, ctx.net.population(name))
        if k is not None:
            kernels += when_active(ctx, name, [k])  # a disabled population keeps its last values
    return kernels


@register_phase("synapses", lambda net: [e.name for e in net.projections if e.synapse.updates])
def _synapses(ctx, names):
    return [k for name in names
            for k in when_active(ctx, ctx.projection(name).post, learning_kernels(ctx, ctx.projection(name)))]


@register_phase("post-events", lambda net: [e.name for e in net.projections if e.synapse.post_spike])
def _post_events(ctx, names):
    return [k for name in names
            for k in when_active(ctx, ctx.projection(name).post, [post_event_kernel(ctx, ctx.projection(name))])]


@register_phase("stop-conditions", lambda net: [p.name for p in net.populations if has_stop_condition(p)])
def _stop_conditions(ctx, names):
    return stop_kernels(ctx, [ctx.net.population(n) for n in names])


@register_phase("record", lambda net: [m.name for m in net.monitors])
def _record(ctx, names):
    monitors = {m.name: m for m in ctx.net.monitors}
    return [monitor_kernel(ctx, monitors[n]) for n in names]


from . import firing_rate  # noqa: E402,F401  (registers 'firing-rate' after 'neurons')
from . import spike_history  # noqa: E402,F401  (registers 'spike-history' after 'neurons')
from . import schedules  # noqa: E402,F401  (registers 'schedules' before 'neurons')
from . import value_history  # noqa: E402,F401  (registers history-prime before input, value-history after neurons)
