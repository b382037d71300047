"""Synaptic delays of spiking projections: a ring of past spike lists and the ``spike-history`` phase.

A delay of ``d`` ms is ``max(1, round(d / dt))`` steps: a spike emitted at step ``s`` reaches the
synapse at step ``s + steps`` (one step, the default, is the inherent delay of every projection:
the input phase reads the spikes of the previous step).  A spiking population whose outgoing
projections need more than one step keeps its last ``R`` spike lists (``R`` its longest delay):
after the neuron phase of step ``s`` the ``spike-history`` phase copies the spike list into slot
``s % R`` of ``P._spike_ring`` (``R`` x ``N`` ranks) and its length into ``P._ring_count[s % R]``;
at step ``t`` a projection of delay ``d`` reads slot ``(t + R - d) % R``.  Slots of steps before
the start hold no spike.

The ring is written by the ``spike-history`` phase (``spike_history.py``).  Uniform delays keep the projection's parallel form (only the spike list it walks changes).
Non-uniform delays visit, for each delay ``d``, the spikes of step ``t - d`` through the synapses
of that delay: the inverse index is sorted by pre-synaptic neuron, then delay
(``P.inv_dptr[pre * R + d - 1]`` is the first synapse of ``pre`` with delay ``d``); such a
projection runs as a whole (one thread), in the order delay, spike, synapse.
"""
from __future__ import annotations

import numpy as np

from anncompiler.ir.kernel import BinOp, Expr, Var
from anncompiler.ir.network import NetworkIR, ProjectionEdge
from anncompiler.ir.types import I32, I64

from .context import LoweringContext, c64, i64


def delay_steps(e: ProjectionEdge, dt: float):
    """Per-synapse delays in steps (>= 1): an int when uniform, else an int64 array."""
    d = np.asarray(e.connectivity.delays, dtype=float)
    steps = np.maximum(1, np.rint(d / dt)).astype(np.int64)
    if steps.ndim == 0:
        return int(steps)
    if steps.size and np.all(steps == steps[0]):
        return int(steps[0])
    return steps if steps.size else 1


def longest_delay(net: NetworkIR, population: str) -> int:
    """The longest delay (steps) of the spiking projections leaving ``population``."""
    longest = 1
    for e in net.projections:
        if e.pre == population and e.synapse.type == "spike":
            steps = delay_steps(e, net.dt)
            longest = max(longest, int(np.max(steps)))
    return longest


def ensure_ring(ctx: LoweringContext, population: str) -> int:
    """Declare the spike ring of ``population`` (once); returns its length R."""
    R = longest_delay(ctx.net, population)
    name = f"{population}._spike_ring"
    if R > 1 and name not in ctx.km.arrays:
        size = ctx.net.population(population).size
        ctx.declare(name, I32, R * size, "state", 0, handle=(population, "spike_ring"))
        ctx.declare(f"{population}._ring_count", I64, R, "state", 0, handle=(population, "ring_count"))
    return R


def ring_slot(ctx: LoweringContext, R: int, d: int | Expr) -> BinOp:
    """The slot of the spikes emitted ``d`` steps before the current one."""
    d = c64(d) if isinstance(d, int) else d
    t = ctx.load("net.t", 0)
    return BinOp("%", BinOp("-", BinOp("+", t, c64(R), I64), d, I64), c64(R), I64)


def spikes_of(ctx: LoweringContext, population: str, d, n: Var):
    """``(count, rank of spike n)`` of the spikes ``population`` emitted ``d`` steps ago (d = 1:
    the current spike list)."""
    if isinstance(d, int) and d == 1:
        return ctx.load(f"{population}._n_spiked", 0), i64(ctx.load(f"{population}._spiked", n))
    R = ensure_ring(ctx, population)
    size = ctx.net.population(population).size
    slot = ring_slot(ctx, R, d)
    rank = ctx.load(f"{population}._spike_ring", BinOp("+", BinOp("*", slot, c64(size), I64), n, I64))
    return ctx.load(f"{population}._ring_count", slot), i64(rank)


def declare_delayed_inverse(ctx: LoweringContext, e: ProjectionEdge, steps: np.ndarray) -> int:
    """The inverse index of a projection with non-uniform delays, sorted by (pre, delay); returns R."""
    c, P = e.connectivity, e.name
    R = int(steps.max())
    pre = np.asarray(c.pre_ranks, dtype=np.int64)
    order = np.lexsort((steps, pre))  # by pre, then delay; stable in synapse order
    rows = np.repeat(np.arange(c.n_rows), np.diff(c.row_ptr))
    key = pre[order] * R + (steps[order] - 1)
    ptr = np.searchsorted(key, np.arange(c.pre_size * R + 1)).astype(np.int32)
    ctx.declare(f"{P}.inv_dptr", I32, c.pre_size * R + 1, "connectivity", ptr)
    ctx.declare(f"{P}.inv_syn", I32, max(1, c.nb_synapses), "connectivity",
                order.astype(np.int32) if order.size else np.zeros(1, np.int32))
    ctx.declare(f"{P}.inv_row", I32, max(1, c.nb_synapses), "connectivity",
                rows[order].astype(np.int32) if order.size else np.zeros(1, np.int32))
    return R


__all__ = ["delay_steps", "longest_delay", "ensure_ring", "spikes_of", "declare_delayed_inverse"]
