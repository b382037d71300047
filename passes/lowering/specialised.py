"""Lowering of the specialised projections.

Shared weights (convolution filters, copied and transposed projections, ``ir/shared_weights.py``):
synapse ``s`` reads its weight at ``source_w[P._w_index[s]]``; everything else is the ordinary
projection kernel.  A convolution's padded kernel positions add a second fold per row in which
every pre-synaptic attribute reads as the padding value.

A rate-coded Convolution or Pooling into a spiking population (``options["conductance"]``) adds
its result to the post-synaptic ``g_target`` at every step (``+=`` whatever the operation), as
ANNarchy does (``conductance_kernel``).

Three kinds have their own input kernel (``PROJECTION_KERNELS``, by ``ProjectionEdge.kind``):

* ``current_injection``: ``post.g_target = pre.r`` for each (one-to-one) synapse, every step;
* ``decoding``: the weighted count of the pre-synaptic spikes of each row over the last
  ``window`` steps, as a rate in Hz averaged over the row's synapses, added to ``sum(target)``;
* ``bold_input``: the mean of a pre-synaptic attribute, scaled, maybe relative to a baseline
  (``bold_input.py``; the BOLD monitor's input).
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import NetworkError
from anncompiler.ir.kernel import Accumulate, BinOp, Cast, Const, Expr, Kernel, Let, Loop, Reduce, Var
from anncompiler.ir.model import Ref
from anncompiler.ir.network import ProjectionEdge
from anncompiler.ir.types import I32, I64

from .bold_input import bold_input_kernel
from .context import LoweringContext, c64, i64, neurons
from .delays import spikes_of
from .flags import when_transmitting

ROW = Var("k", I64)
PAD = Var("s_pad", I64)


# into a spiking population -----------------------------------------------------

def conductance_kernel(ctx: LoweringContext, e: ProjectionEdge) -> Kernel:
    """The rate-coded kernel of ``e`` writing ``g_target`` of its spiking post-synaptic neurons
    (``sum(target)`` for a target the neuron does not use), always adding its result."""
    from .projections import input_array, rate_kernel  # projections.py imports this module
    arrays = {t: input_array(ctx, e, t) for t in e.targets}
    kernel = rate_kernel(ctx, e, target_array=lambda t: arrays[t])
    kernel.body = _as_increments(ctx, kernel.body, set(arrays.values()))
    return kernel


def _as_increments(ctx: LoweringContext, body: list, arrays: set) -> list:
    """Stores into ``arrays`` that replace the value (max, min) made increments."""
    from anncompiler.ir.kernel import Load, Store, walk_expr
    out = []
    for s in body:
        if isinstance(s, Store) and s.array in arrays and \
                not any(isinstance(x, Load) and x.array == s.array for x in walk_expr(s.value)):
            s = ctx.increment(s.array, s.index, s.value)
        for b in s.bodies():
            b[:] = _as_increments(ctx, b, arrays)
        out.append(s)
    return out


# shared weights ---------------------------------------------------------------

def declare_shared(ctx: LoweringContext, e: ProjectionEdge) -> None:
    """A convolution's filter (the projection's ``w`` state) and the per-synapse filter positions.
    The positions into another projection's weights are declared when first read (that
    projection's weights may not be declared yet)."""
    sw, P = e.shared, e.name
    if sw.filter is None:
        return
    flat = np.asarray(sw.filter, dtype=float).reshape(-1)
    ctx.declare(f"{P}.w", ctx.ft, max(1, flat.size), "parameter", flat, handle=(P, "w"))
    ctx.declare(f"{P}._w_index", I32, max(1, len(sw.index)), "connectivity", _nonempty(sw.index))
    if sw.has_padding:
        ctx.declare(f"{P}._pad_ptr", I32, len(sw.pad_ptr), "connectivity", np.asarray(sw.pad_ptr, np.int32))
        ctx.declare(f"{P}._pad_index", I32, max(1, len(sw.pad_index)), "connectivity", _nonempty(sw.pad_index))


def shared_weight(ctx: LoweringContext, e: ProjectionEdge, syn: Expr) -> Expr:
    """The weight of synapse ``syn`` of a projection with shared weights."""
    sw, P = e.shared, e.name
    if sw.filter is not None:
        return ctx.load(f"{P}.w", i64(ctx.load(f"{P}._w_index", syn)))
    index = f"{P}._w_index"
    handle = ctx.km.handles.get((sw.source, "w"))
    if handle is None:
        raise NetworkError(f"projection {P}: the weights of projection {sw.source} it shares are not in the "
                           "compiled network")
    if index not in ctx.km.arrays:
        size = ctx.km.arrays[handle.array].size
        wanted = np.asarray(sw.index, dtype=np.int64)
        if handle.index is not None:  # a fused or dense projection: its elements of a larger array
            positions = np.asarray(handle.index, dtype=np.int64)[wanted]
        elif size == 1:  # one weight shared by all its synapses
            positions = np.zeros(len(wanted), dtype=np.int64)
        else:
            positions = wanted
        ctx.declare(index, I32, max(1, len(positions)), "connectivity", _nonempty(positions))
        ctx.km.handle(P, "w", handle.array, positions)  # proj.w reads (and writes) the shared weights
    return ctx.load(handle.array, i64(ctx.load(index, syn)))


def padding_fold(ctx: LoweringContext, e: ProjectionEdge, resolver, combine: str, start: float):
    """Statements folding ``psp`` over the padded positions of row ``ROW`` (pre-synaptic
    attributes read as the padding value), the accumulator and the number of positions; None
    when the projection has no padded position."""
    sw, P = e.shared, e.name
    if sw is None or not sw.has_padding:
        return None
    base = resolver(PAD)
    padding = Const(float(sw.padding), ctx.ft)

    def resolve(ref: Ref) -> Expr:
        if ref.side == "pre":
            return padding
        if ref.name == "w" and not ref.side:
            return ctx.load(f"{P}.w", i64(ctx.load(f"{P}._pad_index", PAD)))
        return base(ref)
    psp = e.synapse.psp
    if psp is None:
        import sympy
        psp = sympy.Symbol("w") * sympy.Symbol("pre.r")
    tr = ctx.translator(resolve, e.synapse.name, "psp")
    value = tr.num(tr(psp))
    acc = Var("acc_pad", ctx.ft)
    lo = i64(ctx.load(f"{P}._pad_ptr", ROW))
    hi = i64(ctx.load(f"{P}._pad_ptr", BinOp("+", ROW, c64(1), I64)))
    fold = Reduce(acc, combine, Const(start, ctx.ft), PAD, lo, hi, value, ctx.lanes, f"padding:{P}")
    return [fold], acc, BinOp("-", hi, lo, I64)


def _nonempty(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.int32)
    return a if len(a) else np.zeros(1, np.int32)


# current injection ---------------------------------------------------------------

def current_injection_kernel(ctx: LoweringContext, e: ProjectionEdge) -> Kernel:
    """``post.g_target = pre.r`` through each synapse (one per row), before the neuron update."""
    P = e.name
    pre, post = ctx.net.population(e.pre), ctx.net.population(e.post)
    if pre.model.type != "rate" or "r" not in pre.model.attributes:
        raise NetworkError(f"projection {P}: a CurrentInjection needs a rate-coded pre-synaptic population, "
                           f"but {e.pre} is spiking")
    if post.model.type != "spike":
        raise NetworkError(f"projection {P}: a CurrentInjection needs a spiking post-synaptic population, "
                           f"but {e.post} is rate-coded")
    post_rank, pre_rank = Var("post", I64), Var("pre", I64)
    body = [Let(post_rank, i64(ctx.load(f"{P}.post_ranks", ROW))),
            Let(pre_rank, i64(ctx.load(f"{P}.pre_ranks", i64(ctx.load(f"{P}.row_ptr", ROW)))))]
    for t in e.targets:
        g = f"g_{t}"
        if g not in post.model.attributes:
            raise NetworkError(f"projection {P}: the post-synaptic neuron '{post.model.name}' has no conductance "
                               f"'{g}' for target '{t}'")
        body.append(ctx.store(f"{e.post}.{g}", post_rank, ctx.load(f"{e.pre}.r", pre_rank)))
    loop = Loop(ROW, c64(0), c64(e.connectivity.n_rows), when_transmitting(ctx, e, body), f"rows:{P}",
                parallel=True)
    return Kernel(f"inject_{P}", "input", [loop], f"{e.pre}.r -> {e.post}.g_{e.target} (current injection)",
                  owner=neurons(e.post))


# decoding -------------------------------------------------------------------------

def decoding_kernel(ctx: LoweringContext, e: ProjectionEdge) -> Kernel:
    """Spikes of the previous step, weighted, counted per row into slot ``t % W`` of a ring of
    ``W`` steps; ``sum(target) += (ring total) / (W dt) * 1000 / (synapses of the row)``."""
    P, c = e.name, e.connectivity
    pre, post = ctx.net.population(e.pre), ctx.net.population(e.post)
    if pre.model.type != "spike":
        raise NetworkError(f"projection {P}: a DecodingProjection needs a spiking pre-synaptic population, "
                           f"but {e.pre} is rate-coded")
    if post.model.type != "rate":
        raise NetworkError(f"projection {P}: a DecodingProjection needs a rate-coded post-synaptic population, "
                           f"but {e.post} is spiking")
    W, rows = int(e.options.get("window_steps", 1)), c.n_rows
    ring = f"{P}._decode_ring"
    ctx.declare(ring, ctx.ft, max(1, W * rows), "state", 0.0, handle=(P, "decode_ring"))
    slot = Var("slot", I64)
    base = BinOp("*", slot, c64(rows), I64)
    body = [Let(slot, BinOp("%", ctx.load("net.t", 0), c64(W), I64)),
            Loop(ROW, c64(0), c64(rows), [ctx.store(ring, BinOp("+", base, ROW, I64), Const(0.0, ctx.ft))],
                 f"rows:{P}")]
    n, q = Var("n", I64), Var("q", I64)
    syn, row, pre_rank = Var("s", I64), Var("row", I64), Var("pre", I64)
    count, rank = spikes_of(ctx, e.pre, 1, n)
    weight = ctx.load(f"{P}.w", syn if ctx.km.arrays[f"{P}.w"].size > 1 else c64(0))
    lo = i64(ctx.load(f"{P}.inv_ptr", pre_rank))
    hi = i64(ctx.load(f"{P}.inv_ptr", BinOp("+", pre_rank, c64(1), I64)))
    body.append(Loop(n, c64(0), count, [
        Let(pre_rank, rank),
        Loop(q, lo, hi, [Let(syn, i64(ctx.load(f"{P}.inv_syn", q))), Let(row, i64(ctx.load(f"{P}.inv_row", q))),
                         Accumulate(ring, BinOp("+", base, row, I64), weight)], f"out-synapses:{P}")],
        f"spikes:{e.pre}"))
    total, j = Var("total", ctx.ft), Var("j", I64)
    post_rank = Var("post", I64)
    synapses = BinOp("-", i64(ctx.load(f"{P}.row_ptr", BinOp("+", ROW, c64(1), I64))),
                     i64(ctx.load(f"{P}.row_ptr", ROW)), I64)
    scale = Const(1000.0 / (W * float(ctx.net.dt)), ctx.ft)
    rate = BinOp("/", BinOp("*", total, scale, ctx.ft), Cast(synapses, ctx.ft), ctx.ft)
    per_row = [Reduce(total, "+", Const(0.0, ctx.ft), j, c64(0), c64(W),
                      ctx.load(ring, BinOp("+", BinOp("*", j, c64(rows), I64), ROW, I64)), 1, f"window:{P}"),
               Let(post_rank, i64(ctx.load(f"{P}.post_ranks", ROW)))]
    per_row += [ctx.increment(f"{e.post}._sum_{t}", post_rank, rate) for t in e.targets]
    body.append(Loop(ROW, c64(0), c64(rows), per_row, f"rows:{P}"))
    return Kernel(f"decode_{P}", "input", when_transmitting(ctx, e, body),
                  f"{e.pre} spikes -> {e.post} ({', '.join(e.targets)}) rate over {W} steps")


#: input kernels of the projection kinds that have their own (the others: rate or spike kernels)
PROJECTION_KERNELS = {"current_injection": current_injection_kernel, "decoding": decoding_kernel,
                      "bold_input": bold_input_kernel}
