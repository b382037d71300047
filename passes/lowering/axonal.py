"""Axonal spikes: ``axon_spike``/``axon_reset`` of a neuron, ``pre_axon_spike`` of a synapse.

A spiking neuron with an ``axon_spike`` condition emits an *axonal* spike at a step where it is
not in its refractory period, does not emit a regular spike and the condition holds: its rank goes
onto a second list, ``P._axonal`` (``P._n_axonal`` long, emptied at each step), and the
``axon_reset`` statements run.  An axonal spike neither records a spike time nor starts a
refractory period.  Like a spike, it reaches the projections in the input phase of the next step.

A projection reacts to the axonal spikes of its pre-synaptic population as its synapse says
(``ModelIR.axon_events``):

* ``"own"``: the ``g_target`` statements of ``pre_axon_spike`` (the only ones it may hold), for
  every synapse of each axonal spike, before the projection's spikes; switched by the
  projection's ``axon_transmission`` flag alone;
* ``"pre_spike"`` (``pre_axon_spike`` is the text of ``pre_spike``): every ``pre_spike``
  statement, as for a spike, after the projection's spikes (the axonal spikes follow the spikes
  in one list); switched by ``transmission`` and ``axon_transmission``.

The kernels are the spike propagation of the projection (``projections.spike_kernel``) read
from the axonal list: the same loops, so every backend and thread count runs them as it runs a
spike propagation.
"""
from __future__ import annotations

import copy
import dataclasses

from anncompiler.errors import NetworkError, NotSupportedError
from anncompiler.ir.kernel import Append, Cast, Cmp, Const, Expr, If, Kernel, Logic, Loop, Stmt, UnOp, rename_arrays
from anncompiler.ir.network import PopulationNode, ProjectionEdge
from anncompiler.ir.types import BOOL, I32, I64

from .context import LoweringContext, c64, neurons


def axonal_arrays(population: str) -> tuple[str, str]:
    """(list, count) of the axonal spikes of ``population``."""
    return f"{population}._axonal", f"{population}._n_axonal"


def has_axon_spike(p: PopulationNode) -> bool:
    return p.model is not None and p.model.type == "spike" and p.model.axon_spike is not None


def declare_axonal(ctx: LoweringContext, p: PopulationNode) -> None:
    """The axonal spike list of a population and its per-neuron flag."""
    if not has_axon_spike(p):
        return
    spikes, count = axonal_arrays(p.name)
    ctx.declare(spikes, I32, p.size, "spikes", 0, handle=(p.name, "axonal"))
    ctx.declare(count, I64, 1, "spikes", 0, handle=(p.name, "axonal_count"))
    ctx.declare(f"{p.name}._axon_flag", BOOL, p.size, "internal", False)


def axon_flag_statements(ctx: LoweringContext, p: PopulationNode, res, index: Expr,
                         in_refractory: Expr | None) -> list[Stmt]:
    """In the update loop, after the spike flag: ``P._axon_flag[i]`` = not refractory, no spike
    and the axonal condition."""
    from .random import replace_random_expr
    m = p.model
    cond = ctx.translator(res, m.name, m.axon_spike.source)
    lets, expr = replace_random_expr(ctx, p, m.axon_spike.source, m.axon_spike.expr, res, index)
    no_spike = Cmp("==", ctx.load(f"{p.name}._spike_flag", index), Const(False, BOOL))
    fires = Logic("and", no_spike, cond.boolean(cond(expr)))
    if in_refractory is not None:
        fires = Logic("and", UnOp("not", in_refractory, BOOL), fires)
    return lets + [ctx.store(f"{p.name}._axon_flag", index, fires)]


def axon_emission(ctx: LoweringContext, p: PopulationNode, res, store, index) -> Loop:
    """The loop that emits the axonal spikes: ``axon_reset``, then the rank onto the list."""
    from .random import replace_random
    m = p.model
    spikes, count = axonal_arrays(p.name)
    lets, updates = replace_random(ctx, p, m.axon_reset_updates or [], res, index)
    emit = ctx.lower_updates(updates, res, store, m.name) + [Append(spikes, count, Cast(index, I32))]
    test = lets + [If(Cmp("!=", ctx.load(f"{p.name}._axon_flag", index), Const(False, BOOL)), emit)]
    return Loop(index, c64(0), c64(p.size), test, neurons(p.name), parallel=True)


# projections ---------------------------------------------------------------------------------

def declare_axon_transmission(ctx: LoweringContext, e: ProjectionEdge) -> None:
    """``P._axon_transmission``: the switch of a projection that reacts to axonal spikes."""
    if not e.synapse.axon_events or e.members:
        return
    flags = getattr(e, "flags", {}) or {}
    ctx.declare(f"{e.name}._axon_transmission", BOOL, 1, "internal", bool(flags.get("axon_transmission", True)),
                handle=(e.name, "axon_transmission"))


def axonal_kernel(ctx: LoweringContext, e: ProjectionEdge, spike_kernel) -> Kernel:
    """The propagation of the axonal spikes of ``e.pre`` through projection ``e``
    (``spike_kernel``: the lowering of a spike propagation, ``projections.spike_kernel``)."""
    from .delays import delay_steps
    pre = ctx.net.population(e.pre)
    if not has_axon_spike(pre):
        raise NetworkError(f"projection {e.name}: its synapse '{e.synapse.name}' has pre_axon_spike, but the "
                           f"neuron '{pre.model.name}' of {e.pre} defines no axon_spike")
    if delay_steps(e, ctx.net.dt) != 1:
        raise NotSupportedError(f"projection {e.name}: axonal spikes (pre_axon_spike) through synaptic delays "
                                "longer than one step are not supported yet")
    own = e.synapse.axon_events == "own"
    if own:  # the g_target statements of pre_axon_spike, with nothing else of the synapse
        e = copy.copy(e)
        e.synapse = copy.copy(e.synapse)
        e.synapse.pre_spike = list(e.synapse.pre_axon_spike)
        e.synapse.event_updates = None
    k = spike_kernel(ctx, e)
    spikes, count = axonal_arrays(e.pre)
    names = {f"{e.pre}._spiked": spikes, f"{e.pre}._n_spiked": count}
    switch = Cmp("!=", ctx.load(f"{e.name}._axon_transmission", 0), Const(False, BOOL))
    if own:  # axon_transmission instead of transmission
        names[f"{e.name}._transmission"] = f"{e.name}._axon_transmission"
    body = rename_arrays(k.body, names, keep_spaces=True)
    if not own:  # transmission and axon_transmission
        body = [dataclasses.replace(s, body=[If(switch, s.body)]) if isinstance(s, Loop) else s for s in body]
    what = "pre_axon_spike" if own else "pre_spike"
    return dataclasses.replace(k, name=f"project_{e.name}_axonal", body=body,
                               doc=f"{e.pre} -> {e.post} ({', '.join(e.targets)}) axonal spikes, {what}")


__all__ = ["axonal_arrays", "has_axon_spike", "declare_axonal", "axon_flag_statements", "axon_emission",
           "declare_axon_transmission", "axonal_kernel"]
