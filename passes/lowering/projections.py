"""Lowering of projections: connectivity arrays and the synaptic input kernels.

Rate-coded: for every dendrite (row), accumulate ``psp`` over its synapses
with the pre-synaptic values of the previous step, then add the row result
to ``post._sum_target``.  Spiking: for every spike of the pre population in
the previous step, run the ``pre_spike`` statements of its synapses
(``g_target`` increments first, with ``w`` before any change in this event).
"""
from __future__ import annotations

import math

import numpy as np
import sympy

from anncompiler.errors import ModelError, NetworkError
from anncompiler.ir.compiled_values import CompiledValues, materialised
from anncompiler.ir.kernel import Accumulate, BinOp, Cast, Const, Expr, Kernel, Let, Loop, Reduce, Var
from anncompiler.ir.model import Ref, ref_of
from anncompiler.ir.network import ProjectionEdge
from anncompiler.ir.types import I32, I64

from . import events
from .axonal import declare_axon_transmission
from .context import LoweringContext, c64, i64, is_temp, neurons
from .synapse_random import random_statements, refuse_random
from .delay_rings import declare_ring_projection, uses_delay_ring
from .delays import (declare_delayed_inverse, declare_state_delays, delay_of, delay_steps, delayed_value,
                     has_state_delays, longest_delay, remember_delays, spikes_of)
from .globalops import global_op_load
from .outgoing import declare_outgoing
from .flags import declare_flags, guard_weight, when_transmitting
from .specialised import declare_shared, padding_fold, shared_weight

ROW = Var("k", I64)
SYN = Var("s", I64)
POST = Var("post", I64)
PRE = Var("pre", I64)
OUT_BASE = Var("out_base", I64)  # post rank of out-synapse q minus q (outgoing.py, consecutive post ranks)


def declare_projection(ctx: LoweringContext, e: ProjectionEdge) -> None:
    c = e.connectivity
    # a recompile: values read back from the previous module (ir/compiled_values.py) as arrays
    c.weights, c.delays = materialised(c.weights), materialised(c.delays)
    P = e.name
    ctx.declare(f"{P}.row_ptr", I32, c.n_rows + 1, "connectivity", c.row_ptr.astype(np.int32))
    ctx.declare(f"{P}.pre_ranks", I32, max(1, c.nb_synapses), "connectivity", _nonempty(c.pre_ranks))
    ctx.declare(f"{P}.post_ranks", I32, max(1, c.n_rows), "connectivity", _nonempty(c.post_ranks))
    sizes = {"local": max(1, c.nb_synapses), "semiglobal": max(1, c.n_rows), "global": 1}
    init = dict(e.init)
    init.setdefault("w", c.weights)
    attrs = dict(e.synapse.attributes)
    if "w" in attrs and c.single_weight and attrs["w"].locality == "local" and "w" not in e.synapse.assigned:
        from dataclasses import replace
        attrs["w"] = replace(attrs["w"], locality="global")  # single shared weight
    ctx.synapse_attributes[e.name] = attrs
    # a complete dense projection (every pre neuron in every row) is its CSR arrays, element for
    # element: only the kernels differ; otherwise ``w`` is a zero-filled matrix
    dense = c.storage_format == "dense" and not c.single_weight and not c.complete
    if dense:
        declare_dense_weights(ctx, e)
        attrs = {k: a for k, a in attrs.items() if k != "w"}
    elif e.shared is not None:  # w read from a shared array (specialised.py)
        declare_shared(ctx, e)
        attrs = {k: a for k, a in attrs.items() if k != "w"}
    ctx.declare_attributes(P, attrs, sizes, init)
    if not dense:  # the weights of each fused projection: its elements of the merged array
        for member, positions in e.members.items():
            ctx.km.handle(member, "w", f"{P}.w", positions)
    steps = delay_steps(e, ctx.net.dt)
    ring = uses_delay_ring(ctx.net, e)  # non-uniform delays into rings of future input (delay_rings.py)
    if e.synapse.type == "spike" and not isinstance(steps, int) and not ring:  # non-uniform delays (delays.py)
        declare_delayed_inverse(ctx, e, steps)
    elif has_state_delays(ctx.net, e) and not ring:  # delays.py: in the state, changeable after compile
        declare_state_delays(ctx, e, _dense_positions(c) if dense else None, steps)
    if (e.synapse.type == "spike" and isinstance(steps, int)) or e.kind == "decoding" or ring:
        order = out_synapse_order(c.pre_ranks, c.pre_size)
        counts = np.bincount(c.pre_ranks, minlength=c.pre_size)
        ptr = np.zeros(c.pre_size + 1, dtype=np.int32)
        ptr[1:] = np.cumsum(counts)
        # rings (delay_rings.py) need no post index: their ring offsets hold the post ranks
        spiking = e.synapse.type == "spike"
        storage = declare_outgoing(ctx, e, order, ptr, post_index=not ring) if spiking else None
        ctx.declare(f"{P}.inv_ptr", I32, c.pre_size + 1, "connectivity", ptr if storage is None else storage.ptr)
        if storage is not None:  # outgoing.py: the arrays in out-synapse order, no inverse index
            ctx.outgoing[P] = storage
        else:
            ctx.declare(f"{P}.inv_syn", I32, max(1, c.nb_synapses), "connectivity", _nonempty(order))
            rows = np.repeat(np.arange(c.n_rows), np.diff(c.row_ptr))
            ctx.declare(f"{P}.inv_row", I32, max(1, c.nb_synapses), "connectivity", _nonempty(rows[order]))
        if ring:
            declare_ring_projection(ctx, e, order, steps)
    events.declare_events(ctx, e)
    declare_flags(ctx, e)
    declare_axon_transmission(ctx, e)
    keep_values_in_module(ctx, e)


def keep_values_in_module(ctx: LoweringContext, e: ProjectionEdge) -> None:
    """Once declared, the per-synapse weights and delays of ``e`` are read back from the kernel
    module (``ir/compiled_values.py``): the network IR's connectivity drops its own arrays, and the
    front end, which lent them to the compile, takes the views back (16 bytes a synapse less).
    Weights kept as they were given (the module's array is the connectivity's own) stay."""
    c, P = e.connectivity, e.name
    n = c.nb_synapses
    if e.members or e.shared is not None or n == 0:
        return
    sample = np.unique(np.linspace(0, n - 1, min(n, 257)).astype(np.int64))
    weights = ctx.km.handles.get((P, "w"))
    if (np.ndim(c.weights) == 1 and weights is not None
            and not np.may_share_memory(np.asarray(ctx.km.arrays[weights.array].init), c.weights)):
        view = CompiledValues(ctx.km, P, "w", n)
        if np.array_equal(view.take(sample), np.asarray(c.weights)[sample], equal_nan=True):
            c.weights = view
    if np.ndim(c.delays) == 1 and (P, "synapse_delays") in ctx.km.handles:
        view = CompiledValues(ctx.km, P, "synapse_delays", n, scale=ctx.net.dt)
    elif np.ndim(c.delays) == 1 and (P, "ring_offset") in ctx.km.handles and has_state_delays(ctx.net, e):
        view = CompiledValues(ctx.km, P, "ring_offset", n, scale=ctx.net.dt,
                              ring=ctx.net.population(e.post).size)
    else:
        view = None
    if view is not None:
        steps = np.maximum(1, np.rint(np.asarray(c.delays)[sample] / ctx.net.dt))
        if np.array_equal(np.rint(view.take(sample) / ctx.net.dt), steps):
            remember_delays(ctx.net, e, view)
            c.delays = view


def out_synapse_order(pre_ranks: np.ndarray, pre_size: int) -> np.ndarray:
    """The synapses by pre rank, each pre neuron's in their post-major order (a stable argsort);
    on 16-bit keys when the pre ranks fit them, where numpy's stable sort is a radix sort (linear:
    several times faster for the tens of millions of synapses of a large projection)."""
    keys = np.asarray(pre_ranks)
    if pre_size <= 2 ** 16 and keys.dtype != np.uint16:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")


def declare_dense_weights(ctx: LoweringContext, e: ProjectionEdge) -> None:
    """``P.w`` as a row-major [rows x pre size] matrix (zero where no synapse); the per-synapse
    weights the user sees are a view of it."""
    c = e.connectivity
    rows = np.repeat(np.arange(c.n_rows, dtype=np.int64), np.diff(c.row_ptr))
    flat = rows * c.pre_size + np.asarray(c.pre_ranks, dtype=np.int64)
    matrix = np.zeros(c.n_rows * c.pre_size)
    matrix[flat] = c.weights
    decl = ctx.declare(f"{e.name}.w", ctx.ft, max(1, matrix.size), "parameter", matrix)
    decl.shared_until_written = True  # the lowering's own array: the live one until written
    ctx.km.handle(e.name, "w", f"{e.name}.w", flat)
    for member, positions in e.members.items():
        ctx.km.handle(member, "w", f"{e.name}.w", flat[positions])


def _dense_positions(c) -> np.ndarray:
    """The element of each synapse in a row-major [rows x pre size] matrix."""
    rows = np.repeat(np.arange(c.n_rows, dtype=np.int64), np.diff(c.row_ptr))
    return rows * c.pre_size + np.asarray(c.pre_ranks, dtype=np.int64)


def _nonempty(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.int32)
    return a if len(a) else np.zeros(1, np.int32)


def _resolver(ctx: LoweringContext, e: ProjectionEdge, syn: Expr, row: Expr, pre: Expr, post: Expr,
              ahead: int | None = None):
    """``ahead``: read ``pre.x`` through the delays of a rate-coded projection that has them in
    the state (0 in the input phase, 1 after the history phase of the step; ``delays.py``)."""
    pre_pop, post_pop = ctx.net.population(e.pre), ctx.net.population(e.post)
    attrs = ctx.synapse_attributes[e.name]
    delayed = ahead is not None and e.synapse.type == "rate" and has_state_delays(ctx.net, e)

    def resolve(ref: Ref) -> Expr:
        name = ref.name
        if ref.side:  # pre.x, post.x, pre.sum(t): an attribute or input of a connected population
            pop, idx = (pre_pop, pre) if ref.side == "pre" else (post_pop, post)
            if ref.kind == "sum":
                arr = f"{pop.name}._sum_{name}"
                if arr not in ctx.km.arrays:
                    raise NetworkError(f"projection {e.name}: {ref}: population {pop.name} receives no "
                                       f"target '{name}'")
                return ctx.load(arr, idx)
            pa = pop.model.attributes.get(name)
            if pa is None:
                raise ModelError(f"'{ref}': population {pop.name} (model '{pop.model.name}') has no "
                                 f"attribute '{name}'", model=e.synapse.name, name=str(ref))
            if delayed and ref.side == "pre":
                return delayed_value(ctx, pop.name, name, idx, delay_of(ctx, e, syn), ahead)
            return ctx.load(f"{pop.name}.{name}", idx if pa.locality == "local" else c64(0))
        if ref.kind == "global" and ref.name.partition(".")[0] in ("pre", "post"):  # mean(post.r) (globalops.py)
            side, _, attr = ref.name.partition(".")
            pop = pre_pop if side == "pre" else post_pop
            return global_op_load(ctx, pop, Ref(attr, kind="global", op=ref.op))
        if ref.kind != "name":
            raise ModelError(f"'{ref}' is not defined in projection {e.name}", model=e.synapse.name, name=str(ref))
        if is_temp(name):
            return Var(name, ctx.ft)
        if name == "w" and e.shared is not None:
            return shared_weight(ctx, e, syn)
        a = attrs.get(name)
        if a is not None:
            index = {"local": syn, "semiglobal": row, "global": c64(0)}[a.locality]
            return ctx.load(f"{e.name}.{name}", index)
        for symbol, pop, idx in (("t_pre", pre_pop, pre), ("t_post", post_pop, post)):
            if name == symbol and pop.model.type == "spike":  # time of the last spike, in ms
                return BinOp("*", Cast(ctx.load(f"{pop.name}._last_spike", idx), ctx.ft),
                             Const(float(ctx.net.dt), ctx.ft), ctx.ft)
        common = ctx.common_symbol(name)
        if common is not None:
            return common
        raise ModelError(f"'{name}' is not defined in projection {e.name}", model=e.synapse.name, name=name)
    return resolve


def reset_inputs_kernel(ctx: LoweringContext, post: str, arrays: list[str]) -> Kernel:
    """Zero the weighted sums (and the reset conductances) of a population before its input."""
    pop = ctx.net.population(post)
    i = Var("i", I64)
    body = [Loop(i, c64(0), c64(pop.size), [ctx.store(a, i, Const(0.0, ctx.ft)) for a in arrays],
                 neurons(post), parallel=True)]
    return Kernel(f"reset_inputs_{post}", "input", body, f"zero the inputs of {post}", owner=neurons(post))


def post_owner(ctx: LoweringContext, e: ProjectionEdge, continuous: bool = False) -> str:
    """``neurons:post`` when the post-synaptic neurons own every write of the projection's input
    (its rows, ``g_target``, synaptic variables that are not global) and it reads nothing that
    another kernel of the input phase writes; "" otherwise (``Kernel.owner``).  ``continuous``:
    the kernel of the ``psp`` (a weighted sum), not of the ``pre_spike`` statements."""
    syn = e.synapse
    if syn.type == "spike" and not continuous:
        exprs = [eq.rhs for eq in syn.pre_spike]
        for eq in syn.pre_spike:
            if eq.target == "g_target":
                continue
            if ref_of(eq.target).side:
                return ""  # post attributes may be read as pre attributes elsewhere
            a = ctx.synapse_attributes[e.name].get(eq.target)
            if a is None or a.locality == "global":
                return ""
    else:
        exprs = [syn.psp] if syn.psp is not None else []
    for x in exprs:
        if isinstance(x, sympy.Basic) and any(s.name.startswith("pre.sum(") for s in x.free_symbols):
            return ""  # written by the inputs of the pre population, in this phase
    return neurons(e.post)


def rate_kernel(ctx: LoweringContext, e: ProjectionEdge, name: str = "", target_array=None) -> Kernel:
    """Weighted sum with ``operation`` (sum/max/min/mean) over each dendrite, into
    ``target_array(target)`` (default ``post._sum_target``)."""
    P, syn = e.name, e.synapse
    refuse_random(e, "psp", [("psp", syn.psp)])
    psp = syn.psp if syn.psp is not None else sympy.Symbol("w") * sympy.Symbol("pre.r")
    post = i64(ctx.load(f"{P}.post_ranks", ROW))
    dense = e.connectivity.storage_format == "dense"
    if dense:  # SYN runs over pre ranks; the weight of (row, pre) is at row*pre_size + pre
        width = c64(e.connectivity.pre_size)
        syn_index = BinOp("+", BinOp("*", ROW, width, I64), SYN, I64)
        resolve = _resolver(ctx, e, syn_index, ROW, SYN, POST, ahead=0)
    else:
        resolve = _resolver(ctx, e, SYN, ROW, i64(ctx.load(f"{P}.pre_ranks", SYN)), POST, ahead=0)
    tr = ctx.translator(resolve, syn.name, "psp")
    value = tr.num(tr(psp))
    acc = Var("acc", ctx.ft)
    op = syn.operation
    start = {"sum": 0.0, "mean": 0.0, "max": -math.inf, "min": math.inf}[op]
    combine = {"sum": "+", "mean": "+", "max": "max", "min": "min"}[op]
    if dense:
        lo, hi = c64(0), c64(e.connectivity.pre_size)
    else:
        lo, hi = i64(ctx.load(f"{P}.row_ptr", ROW)), i64(ctx.load(f"{P}.row_ptr", BinOp("+", ROW, c64(1), I64)))
    result: Expr = acc
    count: Expr = BinOp("-", hi, lo, I64)
    body = [Let(POST, post),
            Reduce(acc, combine, Const(start, ctx.ft), SYN, lo, hi, value, ctx.row_lanes(e), f"synapses:{P}")]
    padded = padding_fold(ctx, e, lambda syn: _resolver(ctx, e, syn, ROW, c64(0), POST), combine, start)
    if padded is not None:  # a convolution's kernel positions outside the pre population (sum or mean)
        fold, pad_acc, pad_count = padded
        body += fold
        result, count = BinOp("+", acc, pad_acc, ctx.ft), BinOp("+", count, pad_count, I64)
    if op == "mean":
        result = BinOp("/", result, Cast(count, ctx.ft), ctx.ft)
    for t in e.targets:
        arr = target_array(t) if target_array is not None else f"{e.post}._sum_{t}"
        if op in ("sum", "mean"):  # one row per post neuron: no two rows write one element
            body.append(ctx.increment(arr, POST, result))
        else:
            # ANNarchy: max/min dendrites replace the sum (one projection per target)
            body.append(ctx.store(arr, POST, result))
    loop = Loop(ROW, c64(0), c64(e.connectivity.n_rows), when_transmitting(ctx, e, body), f"rows:{P}",
                parallel=True)
    return Kernel(name or f"project_{P}", "input", [loop],
                  f"{e.pre} -> {e.post} ({', '.join(e.targets)}), {e.connectivity.nb_synapses} synapses, "
                  f"{e.connectivity.storage_format}", owner=post_owner(ctx, e, continuous=True))


def synapse_store(ctx: LoweringContext, e: ProjectionEdge):
    """``store(attribute, value)`` into a synaptic attribute, indexed by its locality (``w`` kept
    while the projection's plasticity is off)."""
    attrs = ctx.synapse_attributes[e.name]

    def store(target: str, value: Expr):
        index = {"local": SYN, "semiglobal": ROW, "global": c64(0)}[attrs[target].locality]
        return ctx.store(f"{e.name}.{target}", index, value)
    return guard_weight(ctx, e, store)


def spike_kernel(ctx: LoweringContext, e: ProjectionEdge) -> Kernel:
    """Propagate the pre spikes of the previous step through the inverse (pre -> post) index.

    The spikes and their synapses are visited in order (``spikes:pre``, then ``out-synapses:P``,
    the synapses of one pre neuron): ``g_target`` increments are accumulations into the post
    neuron, so the result is that order's."""
    P, syn = e.name, e.synapse
    q = Var("q", I64)
    store = synapse_store(ctx, e)
    outgoing = ctx.outgoing.get(P)
    if outgoing is not None:  # out-synapse storage (outgoing.py): the synapse of q is at q
        resolve = _resolver(ctx, e, q, ROW, PRE, POST)
        post = BinOp("+", OUT_BASE, q, I64) if outgoing.contiguous else i64(ctx.load(f"{P}.out_post", q))
        body = [Let(POST, post)]
    else:
        resolve = _resolver(ctx, e, SYN, ROW, PRE, POST)
        body = [Let(SYN, i64(ctx.load(f"{P}.inv_syn", q))), Let(ROW, i64(ctx.load(f"{P}.inv_row", q))),
                Let(POST, i64(ctx.load(f"{P}.post_ranks", ROW)))]
    lets, statements = random_statements(ctx, e, syn.pre_spike, resolve, SYN)
    body += lets + events.decay_to(ctx, e, events.step_now(ctx, 1), SYN, resolve, store)
    for eq in statements:  # every g_target statement first, with w before this event's changes
        if eq.target != "g_target":
            continue
        tr = ctx.translator(resolve, syn.name, eq.source)
        value = tr.num(tr(eq.rhs))
        increments = []
        for t in e.targets:
            arr = input_array(ctx, e, t)
            if eq.kind != "assign" and eq.op in ("+", "-"):
                increments.append(Accumulate(arr, POST, _typed(ctx, arr, value), eq.op))
            else:
                increments.append(ctx.store(arr, POST, _apply(eq, ctx.load(arr, POST), value, ctx.ft)))
        body += events.unless_post(ctx, e, eq, increments, PRE, POST)
    for eq in statements:
        if eq.target != "g_target":
            body += events.unless_post(ctx, e, eq, events.event_statements(ctx, e, [eq], resolve, store, POST),
                                       PRE, POST)
    n = Var("n", I64)
    doc = f"{e.pre} -> {e.post} ({', '.join(e.targets)}) spikes, {e.connectivity.nb_synapses} synapses"
    steps = delay_steps(e, ctx.net.dt)
    if not isinstance(steps, int):  # non-uniform delays: for each delay, the spikes of that many steps ago
        R, d = longest_delay(ctx.net, e.pre), Var("d", I64)
        at = BinOp("+", BinOp("*", PRE, c64(R), I64), BinOp("-", d, c64(1), I64), I64)
        lo, hi = i64(ctx.load(f"{P}.inv_dptr", at)), i64(ctx.load(f"{P}.inv_dptr", BinOp("+", at, c64(1), I64)))
        count, rank = spikes_of(ctx, e.pre, d, n)
        spikes = Loop(n, c64(0), count, when_transmitting(ctx, e, [
            Let(PRE, rank), Loop(q, lo, hi, body, f"delayed-synapses:{P}")]), f"spikes:{e.pre}")
        return Kernel(f"project_{P}", "input", [Loop(d, c64(1), c64(R + 1), [spikes], f"delays:{P}")],
                      doc + f", delays of 1 to {R} steps", owner=post_owner(ctx, e))
    lo, hi = i64(ctx.load(f"{P}.inv_ptr", PRE)), i64(ctx.load(f"{P}.inv_ptr", BinOp("+", PRE, c64(1), I64)))
    if has_state_delays(ctx.net, e):
        steps = delay_of(ctx, e, c64(0))
    count, rank = spikes_of(ctx, e.pre, steps, n)
    base = [Let(OUT_BASE, i64(ctx.load(f"{P}.out_base", PRE)))] if outgoing is not None and outgoing.contiguous else []
    spikes = Loop(n, c64(0), count, when_transmitting(ctx, e, [
        Let(PRE, rank), *base,
        Loop(q, lo, hi, body, f"out-synapses:{P}"),
    ]), f"spikes:{e.pre}")
    delay = "" if steps == 1 else (f", delay {steps} steps" if isinstance(steps, int) else ", delay in the state")
    if outgoing is not None:
        delay += ", " + outgoing.summary()
    return Kernel(f"project_{P}", "input", [spikes], doc + delay,
                  owner=post_owner(ctx, e))


def input_array(ctx: LoweringContext, e: ProjectionEdge, target: str) -> str:
    """The array a spiking projection's ``g_target`` is for ``target``: the conductance ``g_target``
    of the post-synaptic neuron, or, when its model does not use it, the input ``_sum_target``
    (zeroed at each step, read with ``pop.sum(target)``)."""
    post, g = ctx.net.population(e.post).model, f"g_{target}"
    if post.type == "spike" and g in post.attributes:  # a local variable (resolve-targets)
        return f"{e.post}.{g}"
    return f"{e.post}._sum_{target}"


def continuous_kernel(ctx: LoweringContext, e: ProjectionEdge) -> Kernel:
    """Continuous transmission of a spiking synapse with a ``psp`` (gap junctions, NMDA-like
    synapses): at every step, the ``psp`` of every synapse summed over its dendrite into the
    post neuron's ``g_target`` (as a rate-coded weighted sum, with the values of the previous
    step), whether or not the pre-synaptic neuron spiked."""
    steps = delay_steps(e, ctx.net.dt)
    if not isinstance(steps, int) or steps > 1:
        raise NetworkError(f"projection {e.name}: delays of a continuous psp (a spiking synapse with a psp) "
                           "are not supported yet")
    name = f"project_{e.name}_psp" if e.synapse.pre_spike else f"project_{e.name}"
    return rate_kernel(ctx, e, name, lambda t: input_array(ctx, e, t))


def _typed(ctx: LoweringContext, array: str, value: Expr) -> Expr:
    """``value`` converted to the element type of ``array``."""
    return ctx.store(array, c64(0), value).value


def _apply(eq, current: Expr, value: Expr, ft) -> Expr:
    """``g_target = rhs`` or ``g_target op= rhs`` on the post-synaptic conductance."""
    if eq.kind == "assign":
        return value
    return BinOp(eq.op, current, value, ft)
