"""Statements run at the events of a synapse: ``pre_spike``, ``post_spike`` and the lazy decay of
its event-driven variables (docs/semantics.md, "Event-driven variables").

At each event of a synapse its event-driven variables first decay over the time since its last
event (``ModelIR.event_updates``, in ``_elapsed`` ms), then the event's statements run in order,
each followed by the bounds of what it set.  A pre-synaptic spike was emitted in the previous
step, so it brings the synapse to step ``t - 1``; a post-synaptic spike to step ``t``.
"""
from __future__ import annotations

import numpy as np
import sympy

from anncompiler.errors import ModelError
from anncompiler.ir.kernel import BinOp, Cast, Cmp, Const, Expr, If, Let, Var
from anncompiler.ir.model import ref_of
from anncompiler.ir.network import ProjectionEdge
from anncompiler.ir.stable_relations import piecewise
from anncompiler.ir.types import I32, I64

from .context import LoweringContext, c64, i64
from .synapse_random import refuse_random

ELAPSED = "_elapsed"


def declare_events(ctx: LoweringContext, e: ProjectionEdge) -> None:
    """``P._last_event`` (step of the last event of each synapse) when it has event-driven
    variables; ``P.post_row`` when it has ``post_spike`` statements."""
    if e.synapse.event_updates:
        ctx.declare(f"{e.name}._last_event", I64, max(1, e.connectivity.nb_synapses), "state", 0)
    if e.synapse.post_spike:
        declare_post_rows(ctx, e)


def step_now(ctx: LoweringContext, before: int = 0) -> Expr:
    t = ctx.load("net.t", 0)
    return BinOp("-", t, c64(before), I64) if before else t


def decay_to(ctx: LoweringContext, e: ProjectionEdge, step: Expr, syn: Expr, resolve, store) -> list:
    """Bring the event-driven variables of synapse ``syn`` to ``step``."""
    m = e.synapse
    if not m.event_updates:
        return []
    refuse_random(e, "event-driven equations", [(u.source, u.value) for u in m.event_updates])
    last = f"{e.name}._last_event"
    elapsed = BinOp("*", Cast(BinOp("-", step, i64(ctx.load(last, syn)), I64), ctx.ft),
                    Const(float(ctx.net.dt), ctx.ft), ctx.ft)
    out = [Let(Var(ELAPSED, ctx.ft), elapsed)]
    out += ctx.lower_updates(m.event_updates, resolve, store, m.name)
    out.append(ctx.store(last, syn, step))
    return out


def event_statements(ctx: LoweringContext, e: ProjectionEdge, statements, resolve, store, post: Expr) -> list:
    """``x = ...`` / ``x += ...`` on synaptic variables (bounded after each) or on ``post.x`` (of
    post-synaptic neuron ``post``)."""
    m = e.synapse
    out = []
    for eq in statements:
        tr = ctx.translator(resolve, m.name, eq.source)
        target = ref_of(eq.target)
        if target.side == "post":  # post.x = ...: the attribute of the post-synaptic neuron
            attr = target.name
            out.append(ctx.store(f"{e.post}.{attr}", post, tr(
                eq.as_assignment().xreplace({sympy.Symbol(attr): sympy.Symbol(eq.target)}))))
            continue
        a = m.attributes.get(eq.target)
        if a is None:
            raise ModelError(f"'{eq.target}' cannot be assigned in an event of projection {e.name}",
                             model=m.name, equation=eq.source, name=eq.target)
        out.append(store(eq.target, tr.num(tr(eq.as_assignment()))))
        x = sympy.Symbol(eq.target)
        for bound, op in ((a.min, "<"), (a.max, ">")):
            if bound is not None:  # as discretise-odes: a NaN stays NaN
                cond = x < bound if op == "<" else x > bound
                out.append(store(eq.target, tr.num(tr(piecewise((bound, cond), (x, True))))))
    return out


def unless_post(ctx: LoweringContext, e: ProjectionEdge, eq, statements: list, pre: Expr, post: Expr) -> list:
    """``statements`` of a ``pre_spike`` line, skipped when it is flagged ``unless_post`` and the
    post-synaptic neuron ``post`` spiked at the same step as the pre-synaptic one (their last
    spike steps are equal, as ANNarchy compares them)."""
    if not eq.unless_post or not statements:
        return statements
    if ctx.net.population(e.post).model.type != "spike":
        raise ModelError(f"'unless_post' needs a spiking post-synaptic population, but {e.post} of projection "
                         f"{e.name} is rate-coded", model=e.synapse.name, equation=eq.source, name="unless_post")
    pre_last = ctx.load(f"{e.pre}._last_spike", pre)
    post_last = ctx.load(f"{e.post}._last_spike", post)
    return [If(Cmp("!=", pre_last, post_last), statements)]


def declare_post_rows(ctx: LoweringContext, e: ProjectionEdge) -> None:
    """``P.post_row``: the dendrite (row) of each neuron of the post population, -1 when none."""
    c = e.connectivity
    rows = np.full(max(1, ctx.net.population(e.post).size), -1, dtype=np.int32)
    rows[np.asarray(c.post_ranks, dtype=np.int64)] = np.arange(c.n_rows, dtype=np.int32)
    ctx.declare(f"{e.name}.post_row", I32, len(rows), "connectivity", rows)
