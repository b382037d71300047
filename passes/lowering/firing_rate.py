"""The ``firing-rate`` phase: ``r`` of spiking populations that asked for it
(``Population.compute_firing_rate(window)``), after the neuron updates of each step.

``r[i] = 1000 / window * (spikes of neuron i in the last W steps, this one included)``, with
``W = round(window / dt)``.  A ring of W slots per neuron (the slot of step t is ``t % W``) holds
which steps had a spike: each step the count loses the slot's old spike and gains this step's.
"""
from __future__ import annotations

from anncompiler.ir.kernel import BinOp, Cast, Const, Kernel, Let, Loop, Var
from anncompiler.ir.types import I32, I64

from .context import LoweringContext, c64, i64
from .phases import register_phase

WINDOW = "firing_window"


def firing_rate_array(name: str) -> str:
    return f"{name}._firing_rate"


def _items(net):
    return [p.name for p in net.populations if p.model.type == "spike" and p.data.get(WINDOW)]


@register_phase("firing-rate", _items, after="neurons")
def _firing_rate(ctx: LoweringContext, names):
    from .activity import when_active
    return [k for n in names for k in when_active(ctx, n, [firing_rate_kernel(ctx, ctx.net.population(n))])]


def declare_firing_rate(ctx: LoweringContext, p) -> None:
    """The arrays of ``p``'s firing rate (before the monitors that may record it)."""
    if p.model.type != "spike" or not p.data.get(WINDOW):
        return
    n, w = p.size, int(p.data[WINDOW])
    ctx.declare(f"{p.name}._firing_ring", I32, n * w, "state", 0)
    ctx.declare(f"{p.name}._firing_count", I32, n, "state", 0)
    ctx.declare(firing_rate_array(p.name), ctx.ft, n, "state", 0.0, handle=(p.name, "firing_rate"))


def firing_rate_kernel(ctx: LoweringContext, p) -> Kernel:
    n, w = p.size, int(p.data[WINDOW])
    ring, count, rate = f"{p.name}._firing_ring", f"{p.name}._firing_count", firing_rate_array(p.name)
    i, s, k, base = Var("i", I64), Var("s", I64), Var("k", I64), Var("base", I64)
    scale = Const(1000.0 / (w * ctx.net.dt), ctx.ft)
    slot = BinOp("%", ctx.load("net.t", 0), c64(w), I64)
    at = lambda idx: BinOp("+", base, idx, I64)  # noqa: E731
    body = [
        Let(base, BinOp("*", slot, c64(n), I64)),
        Loop(i, c64(0), c64(n), [
            ctx.store(count, i, BinOp("-", ctx.load(count, i), ctx.load(ring, at(i)), I32)),
            ctx.store(ring, at(i), Const(0, I32)),
        ], f"neurons:{p.name}"),
        Loop(s, c64(0), ctx.load(f"{p.name}._n_spiked", 0), [
            Let(k, i64(ctx.load(f"{p.name}._spiked", s))),
            ctx.store(ring, at(k), Const(1, I32)),
            ctx.store(count, k, BinOp("+", ctx.load(count, k), Const(1, I32), I32)),
        ], f"spikes:{p.name}"),
        Loop(i, c64(0), c64(n), [
            ctx.store(rate, i, BinOp("*", Cast(ctx.load(count, i), ctx.ft), scale, ctx.ft)),
        ], f"neurons:{p.name}"),
    ]
    return Kernel(f"firing_rate_{p.name}", "firing-rate", body,
                  f"firing rate of {p.name} over {w} steps")
