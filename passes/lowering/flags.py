"""The switches of a projection, read by its kernels at every step so that they can change
between two ``simulate`` calls: ``transmission`` (the synaptic input is delivered, and the
events of its synapses happen), ``update`` (the synaptic equations run, every ``period`` steps
from ``offset`` when learning is periodic) and ``plasticity`` (statements may change ``w``).

They live in arrays of the projection (``P._transmission``, ``P._update``, ``P._plasticity``,
``P._learn_period``, ``P._learn_offset``) with handles for the runtime.  A projection fused with
others by ``fuse-connectivity`` has none: its input is the fused one's.
"""
from __future__ import annotations

from anncompiler.ir.kernel import BinOp, Cmp, Const, Expr, If, Load, Logic, Select
from anncompiler.ir.network import ProjectionEdge
from anncompiler.ir.types import BOOL, I64

from .context import LoweringContext

FLAGS = ("transmission", "update", "plasticity")


def declare_flags(ctx: LoweringContext, e: ProjectionEdge) -> None:
    if e.members:
        return
    flags = getattr(e, "flags", {}) or {}
    for flag in FLAGS:
        ctx.declare(f"{e.name}._{flag}", BOOL, 1, "internal", bool(flags.get(flag, True)), handle=(e.name, flag))
    ctx.declare(f"{e.name}._learn_period", I64, 1, "internal", int(flags.get("period", 1)),
                handle=(e.name, "learn_period"))
    ctx.declare(f"{e.name}._learn_offset", I64, 1, "internal", int(flags.get("offset", 0)),
                handle=(e.name, "learn_offset"))


def _on(ctx: LoweringContext, e: ProjectionEdge, flag: str) -> Expr | None:
    name = f"{e.name}._{flag}"
    if name not in ctx.km.arrays:
        return None
    return Cmp("!=", ctx.load(name, 0), Const(False, BOOL))


def when_transmitting(ctx: LoweringContext, e: ProjectionEdge, body: list) -> list:
    """``body`` run only while the projection transmits."""
    cond = _on(ctx, e, "transmission")
    return body if cond is None else [If(cond, body)]


def when_updating(ctx: LoweringContext, e: ProjectionEdge, body: list) -> list:
    """``body`` (synaptic equations) run only while updating, on the steps of the learning period."""
    cond = _on(ctx, e, "update")
    if cond is None:
        return body
    t = ctx.load("net.t", 0)
    due = Cmp("==", BinOp("%", t, ctx.load(f"{e.name}._learn_period", 0), I64), ctx.load(f"{e.name}._learn_offset", 0))
    return [If(Logic("and", cond, due), body)]


def guard_weight(ctx: LoweringContext, e: ProjectionEdge, store):
    """``store(attribute, value)`` that leaves ``w`` unchanged while plasticity is off."""
    cond = _on(ctx, e, "plasticity")
    if cond is None:
        return store

    def guarded(target: str, value: Expr):
        s = store(target, value)
        if target != "w":
            return s
        s.value = Select(cond, s.value, Load(s.array, s.index, s.value.dtype), s.value.dtype)
        return s
    return guarded


__all__ = ["FLAGS", "declare_flags", "when_transmitting", "when_updating", "guard_weight"]
