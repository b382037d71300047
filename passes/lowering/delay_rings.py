"""Per-synapse spiking delays through rings of future input of the post-synaptic neurons.

A spiking projection with non-uniform delays whose ``pre_spike`` only accumulates into
``g_target`` a value that cannot change while a spike travels (``g_target += w``: no plasticity,
no ``pre.``/``post.`` attribute, no time, no random number) adds that value *at emission* to a
ring of future inputs of its post-synaptic population, one per target, shared by every such
projection into it: ``post._delay_ring_T``, ``R`` x ``N`` floats (``R``: the longest compiled
delay of those projections' pre-synaptic populations).  A spike emitted at step ``s`` is handled
in the input phase of step ``t = s + 1`` (as an undelayed one): each of its synapses, of delay
``d`` steps, adds its value to slot ``(t - 1 + d) % R`` of its post neuron.  After the last
such projection into the population, each neuron adds slot ``t % R`` to ``g_T`` and zeroes it
(``passes/fuse_delivery.py`` then moves this into the neuron update's loop when it can).
One pass over the synapses of each spike, instead of ``R`` passes over the past spike lists at
every step (``delays.py``'s inverse index by delay, kept for the other pre_spike statements).

Each post neuron receives the sum of the values due at a step, then adds it to ``g_T`` once:
another order of the float additions than one increment per synapse.  The emission loops are
the spike propagation's (``spikes:pre`` over ``out-synapses:P``), so the platforms split them
by post neuron as they split an undelayed propagation: each ring cell has one writer and a fixed
order of additions, the same on every backend and thread count.  When nothing else reads its
per-synapse arrays, the projection keeps them in out-synapse order (``outgoing.py``, without
padding): the emission streams ``w[q]`` and ``ring_offset[q]`` (which holds the post rank), with
no index load; otherwise it reads them through the inverse index (``inv_syn``).

The delays are in the ring offsets, ``(d - 1) * post_size + post`` (handle ``(P, 'ring_offset')``;
no other per-synapse copy): new delays after compile are written there, up to ``R``; spikes
already in a ring keep the delay they left with.
The rings are state of the post-synaptic population (handle ``(post, 'delay_ring:T')``):
saved and loaded with it, zeroed by its ``reset()``.  Emission and delivery do not stop while
the post-synaptic population is disabled: the values due meanwhile are dropped, those due after
``enable()`` arrive, as the spikes read from the pre-synaptic ring of past spike lists.
"""
from __future__ import annotations

import numpy as np
import sympy

from anncompiler.ir.draws import random_calls
from anncompiler.ir.kernel import Accumulate, BinOp, Cmp, Const, If, Kernel, Let, Loop, Select, Var
from anncompiler.ir.network import NetworkIR, ProjectionEdge
from anncompiler.ir.types import I32, I64

from .activity import is_active
from .context import LoweringContext, c64, i64, neurons
from .delays import declare_max_delay, delay_steps, longest_delay, spikes_of, uniform_and_longest
from .flags import when_transmitting
from .outgoing import index_dtype


def _memo(net: NetworkIR, key, compute):
    """``compute()`` once per network IR (the lowering asks for the same answers many times, and
    each walks every synapse's delay)."""
    memo = net.__dict__.setdefault("_delay_rings_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _longest(net: NetworkIR, population: str) -> int:
    return _memo(net, ("longest", population), lambda: longest_delay(net, population))


def uses_delay_ring(net: NetworkIR, e: ProjectionEdge) -> bool:
    """``e`` delivers its spikes through the rings of its post population (module docstring)."""
    return _memo(net, ("ring", e.name), lambda: _eligible(net, e))


def _eligible(net: NetworkIR, e: ProjectionEdge) -> bool:
    m = e.synapse
    if (e.kind or e.shared is not None or e.members or m.type != "spike" or uniform_and_longest(net, e)[0] is not None
            or not m.pre_spike or m.psp is not None or m.axon_events or m.event_updates):
        return False
    fixed = set(m.attributes) - m.assigned
    for eq in m.pre_spike:
        if eq.target != "g_target" or eq.kind != "increment" or eq.op not in ("+", "-") or eq.unless_post:
            return False
        if random_calls(eq.rhs) or not {s.name for s in sympy.sympify(eq.rhs).free_symbols} <= fixed:
            return False
    return True


def ring_array(post: str, target: str) -> str:
    return f"{post}._delay_ring_{target}"


def ring_length(net: NetworkIR, post: str, target: str) -> int:
    """Slots of the ring of ``post`` for ``target``: the longest delay its projections may have."""
    return _memo(net, ("length", post, target), lambda: max(
        [_longest(net, e.pre) for e in net.projections_into(post)
         if target in e.targets and uses_delay_ring(net, e)] or [1]))


def declare_ring_projection(ctx: LoweringContext, e: ProjectionEdge, order: np.ndarray, steps=None) -> None:
    """After its out-synapse order and delays: the ring length of its pre population, the ring
    offset of each out-synapse (``order``: the post-major synapse at each out-position) and the
    rings of its post population (once per target).  The handle of the offsets gives the
    out-position of each synapse (as the out-synapse storage's handles of its weights,
    ``outgoing.py``: without padding, the same positions), so that new delays after compile
    are written synapse by synapse (``runtime/delays.py``)."""
    declare_max_delay(ctx, e.pre)
    c, P = e.connectivity, e.name
    size = ctx.net.population(e.post).size
    storage = ctx.outgoing.get(P)
    if storage is not None and not storage.padding:  # the same positions: one array for both handles
        positions = storage.positions
    else:
        positions = np.empty(len(order), dtype=index_dtype(len(order)))
        positions[order] = np.arange(len(order), dtype=positions.dtype)
    dtype = I32 if _fits_i32(ctx, e) else I64
    offsets = ring_offsets(c, delay_steps(e, ctx.net.dt) if steps is None else steps, size, dtype.numpy)
    stored = offsets[order] if len(order) else np.zeros(1, dtype.numpy)
    del offsets
    ctx.declare(f"{P}.ring_offset", dtype, len(stored), "connectivity", stored)
    ctx.km.handle(P, "ring_offset", f"{P}.ring_offset", positions)
    for t in e.targets:
        ring = ring_array(e.post, t)
        if ring not in ctx.km.arrays:
            R = ring_length(ctx.net, e.post, t)
            ctx.declare(ring, ctx.ft, max(1, R * size), "state", 0.0, handle=(e.post, f"delay_ring:{t}"))


def ring_offsets(c, steps, post_size: int, dtype=np.int64) -> np.ndarray:
    """``(d - 1) * post_size + post`` of each synapse (post-major order): its cell in the ring,
    from the slot of the current step; computed in ``dtype`` (int32 where the ring's cells fit it,
    ``_fits_i32``), in place: two temporaries of one element per synapse."""
    post = np.repeat(np.asarray(c.post_ranks, dtype=dtype), np.diff(c.row_ptr))
    if np.ndim(steps) == 0:
        post += (int(steps) - 1) * post_size
        return post
    offsets = np.asarray(steps).astype(dtype)
    offsets -= 1
    offsets *= post_size
    offsets += post
    return offsets


def _fits_i32(ctx: LoweringContext, e: ProjectionEdge) -> bool:
    """Ring positions (before the wrap: up to twice the ring) fit an i32."""
    size = ctx.net.population(e.post).size
    return all(2 * ring_length(ctx.net, e.post, t) * size < 2 ** 31 for t in e.targets)


def ring_input_kernels(ctx: LoweringContext, e: ProjectionEdge, names: list[str]) -> list[Kernel]:
    """The emission kernel of ``e`` and, when it is the last projection of ``names`` (the input
    phase's order) that feeds the rings of its post population, their delivery."""
    kernels = [emission_kernel(ctx, e)]
    last = [n for n in names if ctx.projection(n).post == e.post and uses_delay_ring(ctx.net, ctx.projection(n))]
    if last[-1] == e.name:
        kernels.append(delivery_kernel(ctx, e.post))
    return kernels


def emission_kernel(ctx: LoweringContext, e: ProjectionEdge) -> Kernel:
    """For each spike of the previous step, through its out-synapses: value into the ring slot
    of the step it is due."""
    from .projections import POST, PRE, ROW, SYN, _resolver, _typed
    P = e.name
    size = ctx.net.population(e.post).size
    q, n, slot = Var("q", I64), Var("n", I64), Var("slot", I64)
    if P in ctx.outgoing:  # out-synapse storage (outgoing.py): the synapse of q is at q
        resolve, body = _resolver(ctx, e, q, ROW, PRE, POST), []
    else:
        resolve = _resolver(ctx, e, SYN, ROW, PRE, POST)
        body = [Let(SYN, i64(ctx.load(f"{P}.inv_syn", q))), Let(ROW, i64(ctx.load(f"{P}.inv_row", q)))]
    offset = i64(ctx.load(f"{P}.ring_offset", q))
    for t in e.targets:
        ring, R = ring_array(e.post, t), ring_length(ctx.net, e.post, t)
        cell = BinOp("+", BinOp("*", BinOp("%", ctx.load("net.t", 0), c64(R), I64), c64(size), I64), offset, I64)
        wrapped = BinOp("-", cell, c64(R * size), I64)
        body.append(Let(slot, Select(Cmp(">=", cell, c64(R * size)), wrapped, cell, I64)))
        for eq in e.synapse.pre_spike:
            tr = ctx.translator(resolve, e.synapse.name, eq.source)
            body.append(Accumulate(ring, slot, _typed(ctx, ring, tr.num(tr(eq.rhs))), eq.op))
    lo, hi = i64(ctx.load(f"{P}.inv_ptr", PRE)), i64(ctx.load(f"{P}.inv_ptr", BinOp("+", PRE, c64(1), I64)))
    count, rank = spikes_of(ctx, e.pre, 1, n)
    spikes = Loop(n, c64(0), count, when_transmitting(ctx, e, [
        Let(PRE, rank), Loop(q, lo, hi, body, f"out-synapses:{P}")]), f"spikes:{e.pre}")
    R = _longest(ctx.net, e.pre)
    return Kernel(f"project_{P}", "input", [spikes],
                  f"{e.pre} -> {e.post} ({', '.join(e.targets)}) spikes, {e.connectivity.nb_synapses} synapses, "
                  f"delays of 1 to {R} steps into the rings of {e.post}", owner=neurons(e.post))


def delivery_kernel(ctx: LoweringContext, post: str) -> Kernel:
    """Each neuron of ``post``: ``g_T += ring_T[t % R]`` (while enabled), then the slot zeroed."""
    from .projections import input_array
    pop = ctx.net.population(post)
    i = Var("i", I64)
    feeding = [e for e in ctx.net.projections_into(post) if uses_delay_ring(ctx.net, e)]
    targets = sorted({t for e in feeding for t in e.targets})
    take, deliver = [], []
    for t in targets:
        ring, value = ring_array(post, t), Var(f"due_{t}", ctx.ft)
        R = ring_length(ctx.net, post, t)
        at = BinOp("+", BinOp("*", BinOp("%", ctx.load("net.t", 0), c64(R), I64), c64(pop.size), I64), i, I64)
        take += [Let(value, ctx.load(ring, at)), ctx.store(ring, at, Const(0.0, ctx.ft))]
        arr = input_array(ctx, next(e for e in feeding if t in e.targets), t)
        deliver.append(ctx.increment(arr, i, value))
    active = is_active(ctx, post)
    body = take + (deliver if active is None else [If(active, deliver)])
    return Kernel(f"deliver_delayed_{post}", "input",
                  [Loop(i, c64(0), c64(pop.size), body, neurons(post), parallel=True)],
                  f"the delayed spikes due to {post} ({', '.join(targets)}) from its rings", owner=neurons(post))


__all__ = ["uses_delay_ring", "ring_array", "ring_length", "declare_ring_projection", "ring_input_kernels",
           "emission_kernel", "delivery_kernel"]
