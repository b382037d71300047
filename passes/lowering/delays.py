"""Synaptic delays: rings of past spike lists and past values, and each projection's delays.

A delay of ``d`` ms is ``max(1, round(d / dt))`` steps (one step, the default, is the inherent
delay of every projection: the input phase reads what the pre population did in the previous
step).  A population whose outgoing projections need more than one step (or that reserved more
with ``pop.max_delay``) keeps its last ``R`` steps, ``R`` its longest delay:

* spiking: after the neuron phase of step ``s`` the ``spike-history`` phase copies the spike list
  into slot ``s % R`` of ``P._spike_ring`` (``R`` x ``N`` ranks) and its length into
  ``P._ring_count[s % R]``; at step ``t`` a projection of delay ``d`` reads slot
  ``(t + R - d) % R``.  Slots of steps before the start hold no spike.
* rate-coded (``value_history.py``): every attribute ``x`` that a rate-coded synapse reads as
  ``pre.x`` has a ring ``P._history_x`` of its values after each step's neuron update; the
  synaptic input of step ``t`` reads slot ``(t + R - d) % R`` (the value ``d`` steps before the
  undelayed ``pre.x``), the synaptic equations, which run after the neuron update, slot
  ``(t + R - d + 1) % R``.  At the first step (and whenever ``P._history_primed`` is 0 again)
  every slot holds the current value: before the start, the past is the initial state.

The delays of a projection whose pre population has a ring live in the state, so they can change
after compile (up to ``R``; settings, as parameters: a reset keeps them): ``P._delay`` (one number of steps) when they were uniform at compile,
else ``P._delays`` (per synapse).  Non-uniform spiking delays of a fixed ``g_target`` increment
(``g_target += w``) go through rings of future input of the post population (``delay_rings.py``);
the others visit, for each delay ``d``, the
spikes of step ``t - d`` through the synapses of that delay: the inverse index is sorted by
pre-synaptic neuron, then delay, then synapse (``P.inv_dptr[pre * R + d - 1]`` is the first
synapse of ``pre`` with delay ``d``); :func:`delayed_inverse` rebuilds it when the delays change.
"""
from __future__ import annotations

import numpy as np
import sympy

from anncompiler.ir.kernel import BinOp, Expr, Load, Var
from anncompiler.ir.network import NetworkIR, ProjectionEdge
from anncompiler.ir.types import I32, I64

from .context import LoweringContext, c64, i64


def delay_steps(e: ProjectionEdge, dt: float):
    """Per-synapse delays in steps (>= 1): an int when uniform, else an int64 array."""
    d = np.asarray(e.connectivity.delays, dtype=float)
    if d.ndim == 0:
        return int(max(1, np.rint(d / dt)))
    if not d.size:
        return 1
    x = d / dt  # in place from here: one temporary, not four (0.3 G synapses in the microcircuit)
    np.rint(x, out=x)
    np.maximum(x, 1, out=x)
    if x.min() == x.max():
        return int(x[0])
    return x.astype(np.int64)


def uniform_and_longest(net: NetworkIR, e: ProjectionEdge) -> tuple[int | None, int]:
    """(the number of steps of every synapse of ``e`` or None when they differ, the longest),
    computed once per delays object: the lowering asks many times, and each :func:`delay_steps`
    walks every synapse (0.3 G of them in the full-scale cortical microcircuit).  From the shortest
    and longest delays in ms alone: ``max(1, rint(d / dt))`` never decreases with ``d``."""
    memo = net.__dict__.setdefault("_delay_summaries", {})
    delays = e.connectivity.delays
    known = memo.get((e.name, net.dt))
    if known is None or known[0] is not delays:
        d = np.asarray(delays, dtype=float)
        if d.ndim == 0 or not d.size:
            steps = delay_steps(e, net.dt)
            summary = (steps, steps)
        else:
            low, high = (int(max(1, np.rint(v / net.dt))) for v in (d.min(), d.max()))
            summary = (low if low == high else None, high)
        known = memo[(e.name, net.dt)] = (delays, summary)
    return known[1]


def remember_delays(net: NetworkIR, e: ProjectionEdge, delays) -> None:
    """``delays`` (the same values) replaces ``e.connectivity.delays`` in the summary of
    :func:`uniform_and_longest`, which no longer keeps the previous array alive."""
    memo = net.__dict__.setdefault("_delay_summaries", {})
    known = memo.get((e.name, net.dt))
    if known is not None and known[0] is e.connectivity.delays:
        memo[(e.name, net.dt)] = (delays, known[1])


def longest_delay(net: NetworkIR, population: str) -> int:
    """The ring length R (steps) of ``population``: its longest outgoing delay, at least what it
    reserved (``data['max_delay']``)."""
    longest = max(1, int(net.population(population).data.get("max_delay", 1)))
    for e in net.projections:
        if e.pre == population:
            longest = max(longest, uniform_and_longest(net, e)[1])
    return longest


def has_state_delays(net: NetworkIR, e: ProjectionEdge) -> bool:
    """The projection's delays are read from the state (changeable after compile): its pre
    population keeps a ring and it is not a fusion of several projections."""
    return not e.members and longest_delay(net, e.pre) > 1


def declare_max_delay(ctx: LoweringContext, population: str) -> int:
    R = longest_delay(ctx.net, population)
    name = f"{population}._max_delay"
    if name not in ctx.km.arrays:
        ctx.declare(name, I64, 1, "internal", R, handle=(population, "max_delay"))
    return R


def ensure_ring(ctx: LoweringContext, population: str) -> int:
    """Declare the spike ring of ``population`` (once); returns its length R."""
    R = declare_max_delay(ctx, population)
    name = f"{population}._spike_ring"
    if R > 1 and name not in ctx.km.arrays:
        size = ctx.net.population(population).size
        ctx.declare(name, I32, R * size, "state", 0, handle=(population, "spike_ring"))
        ctx.declare(f"{population}._ring_count", I64, R, "state", 0, handle=(population, "ring_count"))
    return R


def ring_slot(ctx: LoweringContext, R: int, d: int | Expr, ahead: int = 0) -> BinOp:
    """The slot of what happened ``d`` steps before the current one (``ahead``: 1 after the
    history phase of the step, which has written the current step's slot)."""
    d = c64(d) if isinstance(d, int) else i64(d)
    t = ctx.load("net.t", 0)
    if ahead:
        t = BinOp("+", t, c64(ahead), I64)
    return BinOp("%", BinOp("-", BinOp("+", t, c64(R), I64), d, I64), c64(R), I64)


def spikes_of(ctx: LoweringContext, population: str, d, n: Var):
    """``(count, rank of spike n)`` of the spikes ``population`` emitted ``d`` steps ago (the int
    1: the current spike list)."""
    if isinstance(d, int) and d == 1:
        return ctx.load(f"{population}._n_spiked", 0), i64(ctx.load(f"{population}._spiked", n))
    R = ensure_ring(ctx, population)
    size = ctx.net.population(population).size
    slot = ring_slot(ctx, R, d)
    rank = ctx.load(f"{population}._spike_ring", BinOp("+", BinOp("*", slot, c64(size), I64), n, I64))
    return ctx.load(f"{population}._ring_count", slot), i64(rank)


# the delays of a projection in the state -------------------------------------------------
def declare_state_delays(ctx: LoweringContext, e: ProjectionEdge, flat=None, steps=None) -> None:
    """``P._delay`` (uniform at compile) or ``P._delays`` (per synapse; ``flat``: the position of
    each synapse when the storage is not one element per synapse), handles ``(P, "delay_steps")`` and ``(P, "synapse_delays")``."""
    steps = delay_steps(e, ctx.net.dt) if steps is None else steps  # given: the caller's delay_steps
    if isinstance(steps, int):
        ctx.declare(f"{e.name}._delay", I64, 1, "parameter", steps, handle=(e.name, "delay_steps"))
        return
    size = len(steps) if flat is None else int(np.max(flat)) + 1
    if flat is None:  # one element per synapse (steps is never empty here)
        values = steps.astype(np.int32)
    else:
        values = np.ones(max(1, size), dtype=np.int32)
        values[flat] = steps
    decl = ctx.declare(f"{e.name}._delays", I32, max(1, size), "parameter", values)
    decl.never_reset = True  # the delays the user set after compile stay through reset()
    ctx.km.handle(e.name, "synapse_delays", f"{e.name}._delays", None if flat is None else np.asarray(flat))


def delay_of(ctx: LoweringContext, e: ProjectionEdge, syn: Expr) -> Expr:
    """The delay in steps (i64) of synapse ``syn`` (declared by :func:`declare_state_delays`)."""
    if f"{e.name}._delay" in ctx.km.arrays:
        return ctx.load(f"{e.name}._delay", 0)
    return i64(ctx.load(f"{e.name}._delays", syn))


# rings of past values (rate-coded) ---------------------------------------------------------
def delayed_reads(net: NetworkIR, population: str) -> list[str]:
    """The attributes of ``population`` that rate-coded projections with state delays read as
    ``pre.x`` (in psp or synaptic equations), sorted."""
    pop = net.population(population)
    if pop.model is None:
        return []
    names = set()
    for e in net.projections:
        if e.pre != population or e.synapse.type != "rate" or not has_state_delays(net, e):
            continue
        exprs = [e.synapse.psp if e.synapse.psp is not None else sympy.Symbol("pre.r")]
        exprs += [u.value for u in e.synapse.updates or []]
        for x in exprs:
            for s in getattr(x, "free_symbols", ()):
                if s.name.startswith("pre.") and s.name[4:] in pop.model.attributes:
                    names.add(s.name[4:])
    return sorted(names)


def ensure_value_ring(ctx: LoweringContext, population: str, name: str) -> str:
    """Declare the ring of past values of ``population.name`` (once); returns its array."""
    R = declare_max_delay(ctx, population)
    pop = ctx.net.population(population)
    ring = f"{population}._history_{name}"
    if ring not in ctx.km.arrays:
        local = pop.model.attributes[name].locality == "local"
        ctx.declare(ring, ctx.km.arrays[f"{population}.{name}"].dtype, R * (pop.size if local else 1), "state", 0,
                    handle=(population, f"history_{name}"))
        flag = f"{population}._history_primed"
        if flag not in ctx.km.arrays:
            ctx.declare(flag, I32, 1, "state", 0, handle=(population, "history_primed"))
    return ring


def delayed_value(ctx: LoweringContext, population: str, name: str, index: Expr, d: Expr, ahead: int) -> Load:
    """``pre.name`` of neuron ``index`` as it was ``d`` steps before the undelayed read."""
    R = longest_delay(ctx.net, population)
    ring = ensure_value_ring(ctx, population, name)
    pop = ctx.net.population(population)
    slot = ring_slot(ctx, R, d, ahead)
    if pop.model.attributes[name].locality != "local":
        return ctx.load(ring, slot)
    return ctx.load(ring, BinOp("+", BinOp("*", slot, c64(pop.size), I64), i64(index), I64))


# the inverse index of non-uniform spiking delays --------------------------------------------
def delayed_inverse(pre_ranks, row_ptr, pre_size: int, steps, R: int):
    """``(inv_dptr, inv_syn, inv_row)`` of synapses sorted by (pre, delay, synapse): the synapses
    of pre neuron ``p`` with delay ``d`` are ``inv_dptr[p*R + d-1] .. inv_dptr[p*R + d]``."""
    pre = np.asarray(pre_ranks, dtype=np.int64)
    steps = np.broadcast_to(np.asarray(steps, dtype=np.int64), pre.shape)
    order = np.lexsort((steps, pre))  # by pre, then delay; stable in synapse order
    rows = np.repeat(np.arange(len(row_ptr) - 1), np.diff(row_ptr))
    key = pre[order] * R + (steps[order] - 1)
    ptr = np.searchsorted(key, np.arange(pre_size * R + 1)).astype(np.int32)
    nonempty = order.size > 0
    return (ptr, order.astype(np.int32) if nonempty else np.zeros(1, np.int32),
            rows[order].astype(np.int32) if nonempty else np.zeros(1, np.int32))


def delayed_split(ptr, inv_row, post_ranks, boundaries) -> np.ndarray:
    """``inv_dsplit[g*(T+1) + c]``: the first synapse of group ``g`` (a (pre, delay) pair of
    :func:`delayed_inverse`) whose post neuron is in partition ``c`` or later (``boundaries``:
    the first neuron of each partition, then the size).  Within a group synapses are in synapse
    order, hence by post rank."""
    ptr = np.asarray(ptr, dtype=np.int64)
    groups, T = len(ptr) - 1, len(boundaries) - 1
    nb = int(ptr[-1])
    post = np.asarray(post_ranks, dtype=np.int64)[np.asarray(inv_row, dtype=np.int64)[:nb]] if nb else \
        np.zeros(0, np.int64)
    group = np.repeat(np.arange(groups), np.diff(ptr))
    split = np.empty((groups, T + 1), dtype=np.int64)
    for c, b in enumerate(boundaries[:-1]):
        split[:, c] = ptr[:-1] + np.bincount(group[post < b], minlength=groups)
    split[:, T] = ptr[1:]
    return split.reshape(-1).astype(np.int32) if split.size else np.zeros(1, np.int32)


def declare_delayed_inverse(ctx: LoweringContext, e: ProjectionEdge, steps) -> int:
    """The inverse index of a projection with non-uniform delays (handles ``(P, 'inv_dptr')``,
    ... so that new delays can rebuild it); returns R."""
    c, P = e.connectivity, e.name
    R = declare_max_delay(ctx, e.pre)
    ptr, syn, row = delayed_inverse(c.pre_ranks, c.row_ptr, c.pre_size, steps, R)
    ctx.declare(f"{P}.inv_dptr", I32, c.pre_size * R + 1, "connectivity", ptr, handle=(P, "inv_dptr"))
    ctx.declare(f"{P}.inv_syn", I32, len(syn), "connectivity", syn, handle=(P, "inv_syn"))
    ctx.declare(f"{P}.inv_row", I32, len(row), "connectivity", row, handle=(P, "inv_row"))
    return R


__all__ = ["delay_steps", "uniform_and_longest", "longest_delay", "has_state_delays", "ensure_ring", "spikes_of", "declare_state_delays",
           "delay_of", "delayed_reads", "ensure_value_ring", "delayed_value", "delayed_inverse", "delayed_split",
           "declare_delayed_inverse"]
