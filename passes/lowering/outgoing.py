"""Out-synapse (pre-major) storage of the synaptic arrays that only a spike propagation reads.

A spiking projection propagates each spike of a pre-synaptic neuron through its out-synapses,
the positions ``q`` of the inverse index (``P.inv_ptr[pre] .. P.inv_ptr[pre + 1]``, each pre
neuron's synapses in ascending post order).  In the post-major (CSR) storage every out-synapse
costs three dependent index loads (``inv_syn[q]``, ``inv_row[q]``, ``post_ranks[row]``) and a
gather of ``w``.  When no native code but the propagation reads those arrays and nothing writes
them (no plasticity, no synaptic equations, no post-synaptic events, no continuous ``psp``, no
random draws), the lowering stores them in out-synapse order instead:

* ``P.w`` (and every other local attribute the ``pre_spike`` statements read) holds the synapse
  of out-position ``q`` at ``q``; the front end reaches the synapses through the handle's
  positions (the out-position of each post-major synapse), so ``proj.w``, dendrites, monitors,
  save/load and fused members see the post-major order as before;
* ``P.out_post[q]``: the post rank of out-synapse ``q`` (one load instead of three);
* when the post ranks of every pre neuron's out-synapses are consecutive (all-to-all onto a
  range, one-to-one), not even that: ``P.out_base[pre]`` is the first one's post rank minus
  ``inv_ptr[pre]``, the post rank of ``q`` is ``out_base[pre] + q``, and the inner loop is
  ``g[base + q] += w[q]``: two contiguous streams, which LLVM vectorises.  A few missing
  synapses inside a pre neuron's range (a recurrent all-to-all without self-connections: one per
  pre neuron) become padding slots when the statements are exactly ``g_target += w`` (padded
  with ``w = -0.0``: ``x + -0.0`` is ``x`` for every ``x``) or ``g_target -= w`` (``+0.0``);
  ``P.inv_ptr`` then counts the padding, and ``cpu-partition`` splits the slots by post rank
  (:func:`slot_posts`).

The visit order (spikes in list order, then ascending post within a spike) is unchanged, so every
increment lands in the same order: the same bits as the inverse-index path.  The emission of
per-synapse delays into rings of future input (``delay_rings.py``) uses the storage too, without
padding nor post index (``post_index=False``): its ring offsets hold the post ranks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from anncompiler.ir.network import ProjectionEdge
from anncompiler.ir.types import I32

from .context import LoweringContext

#: the note that marks the decision in the projection's notes (network dump)
NOTE = "storage out-synapse order"
#: a pre neuron's missing synapses are padded when they are at most one slot in this many
#: (all-to-all without self-connections: one per pre neuron)
MAX_PADDING = 16


@dataclass
class OutgoingStorage:
    """The out-synapse layout of one projection."""
    #: the reordered synaptic attributes (local, read by the propagation)
    attributes: tuple[str, ...]
    #: out-position of each post-major synapse (the handles' positions)
    positions: np.ndarray
    #: the post ranks of each pre neuron's slots are consecutive (``P.out_base``)
    contiguous: bool
    #: the first slot of each pre neuron (``P.inv_ptr``; padding included)
    ptr: np.ndarray
    #: padding slots (missing synapses inside a pre neuron's range of post ranks)
    padding: int = 0
    #: the propagation reads the post rank of each slot (``out_post`` or ``out_base``); a ring
    #: projection does not (its ring offsets hold the post ranks, ``delay_rings.py``)
    post_index: bool = True

    def summary(self) -> str:
        """What the kernel dump says of the layout."""
        how = "consecutive post ranks" if self.contiguous else "post ranks in out_post"
        if not self.post_index:
            how = "post ranks in the ring offsets"
        if self.padding:
            how += f", {self.padding} padded"
        what = f"{', '.join(self.attributes)} read only here" if self.attributes else "no per-synapse array"
        return f"{NOTE} ({what}; {how})"


def read_attributes(ctx: LoweringContext, e: ProjectionEdge) -> set[str] | None:
    """The local synaptic attributes the propagation reads, or None when the projection cannot
    use the out-synapse storage (module docstring)."""
    m, c = e.synapse, e.connectivity
    if m.type != "spike" or e.kind or e.shared is not None or not m.pre_spike:
        return None
    if c.storage_format == "dense" and not c.complete and not c.single_weight:
        return None  # a zero-filled matrix (projections.declare_dense_weights)
    if m.updates or m.equations or m.post_spike or m.event_updates or m.psp is not None or m.draws:
        return None
    statements = list(m.pre_spike) + (list(m.pre_axon_spike) if m.axon_events == "own" else [])
    if any(eq.target != "g_target" for eq in statements):
        return None
    attrs = ctx.synapse_attributes[e.name]
    read = set()
    for eq in statements:
        for s in getattr(eq.rhs, "free_symbols", ()):
            a = attrs.get(s.name)
            if a is None:
                continue
            if a.locality == "semiglobal":
                return None  # would need the row of each out-synapse
            if a.locality == "local":
                read.add(s.name)
    return read


def padding_value(e: ProjectionEdge, read: set[str]) -> float | None:
    """The weight of a padding slot, whose increment changes no bit of ``g_target``: ``-0.0``
    for ``g_target += w`` (``x + -0.0`` is ``x`` for every ``x``, ``-0.0`` included), ``+0.0``
    for ``g_target -= w``; None when the statements are not exactly that (a product with ``w``
    could turn ``-0.0`` into ``+0.0``)."""
    m = e.synapse
    statements = list(m.pre_spike) + (list(m.pre_axon_spike) if m.axon_events == "own" else [])
    ops = {eq.op for eq in statements if eq.kind == "increment"}
    if read != {"w"} or len(ops) != 1 or any(eq.kind != "increment" or eq.rhs != sympy.Symbol("w")
                                            for eq in statements):
        return None
    return {"+": -0.0, "-": 0.0}.get(ops.pop())


def declare_outgoing(ctx: LoweringContext, e: ProjectionEdge, order: np.ndarray,
                     inv_ptr: np.ndarray, post_index: bool = True) -> OutgoingStorage | None:
    """Reorder the arrays of ``e`` into out-synapse order (``order``: the post-major synapse at
    each out-position, ``inv_ptr``: the first out-position of each pre neuron) and declare the
    post index of the propagation; None (nothing changed) when the projection keeps the inverse
    index.  Call after its attributes are declared, before ``P.inv_ptr`` (``OutgoingStorage.ptr``
    when there is padding).  ``post_index=False`` (the emission into rings of future input,
    ``delay_rings.py``, whose ring offsets hold the post ranks): no padding, no ``out_post`` nor
    ``out_base``, slot ``q`` is out-position ``q``."""
    read = read_attributes(ctx, e)
    c, P = e.connectivity, e.name
    nb = int(c.nb_synapses)
    if read is None or any(np.size(ctx.km.arrays[f"{P}.{name}"].init) not in (1, nb) for name in read):
        return None
    order = np.asarray(order, dtype=np.int64)
    inv_ptr = np.asarray(inv_ptr, dtype=np.int64)
    gaps, pad, contiguous = 0, None, False
    if post_index:  # without it (rings), slot q is out-position q: no post rank to look at
        rows = np.repeat(np.arange(c.n_rows, dtype=np.int64), np.diff(c.row_ptr))
        post = np.asarray(c.post_ranks, dtype=np.int64)[rows[order]] if nb else np.zeros(0, np.int64)
        del rows
        counts = np.diff(inv_ptr)
        has = counts > 0
        first, span = np.zeros_like(counts), np.zeros_like(counts)
        first[has] = post[inv_ptr[:-1][has]]
        span[has] = post[inv_ptr[1:][has] - 1] - first[has] + 1
        gaps = int(np.sum(span - counts))
        pad = padding_value(e, read) if gaps else None
        contiguous = gaps == 0 or (pad is not None and gaps * MAX_PADDING <= nb)
    if contiguous:  # slot of (pre, post): ptr[pre] + post - first[pre]; the gaps padded
        pre = np.repeat(np.arange(len(inv_ptr) - 1, dtype=np.int64), np.diff(inv_ptr))
        ptr = np.zeros_like(inv_ptr)
        ptr[1:] = np.cumsum(span)
        slots = ptr[pre] + post - first[pre] if nb else np.zeros(0, np.int64)
        del pre
    else:
        ptr, slots = inv_ptr, None  # slot q is out-position q
    size = int(ptr[-1])
    positions = np.empty(nb, dtype=index_dtype(size))  # kept by the handles: 4 bytes a synapse
    positions[order] = np.arange(nb, dtype=positions.dtype) if slots is None else slots
    for name in sorted(read):
        decl = ctx.km.arrays[f"{P}.{name}"]
        values = np.broadcast_to(np.asarray(decl.init, dtype=float if name == "w" else None).reshape(-1), (nb,))
        if slots is None:  # no padding: every slot is written (size == nb)
            stored = np.empty(max(1, size), dtype=values.dtype) if nb else np.full(1, -0.0, values.dtype)
            np.take(values, order, out=stored[:nb])
        else:
            stored = np.full(max(1, size), -0.0 if pad is None else pad, dtype=values.dtype)
            stored[slots] = values[order]
        decl.init, decl.size = stored, max(1, size)
        decl.shared_until_written = True  # the lowering's own array: the live one until written
        ctx.km.handle(P, name, f"{P}.{name}", positions)
    if "w" in read:
        for member, at in e.members.items():  # fused: each member's synapses, now at their slots
            ctx.km.handle(member, "w", f"{P}.w", positions[np.asarray(at, dtype=np.int64)])
    if not post_index:
        how = "post ranks in the ring offsets"
    elif contiguous:
        base = np.zeros(len(first), dtype=np.int64)
        base[has] = first[has] - ptr[:-1][has]
        ctx.declare(f"{P}.out_base", I32, max(1, len(base)), "connectivity", base.astype(np.int32))
        how = "consecutive post ranks of each pre neuron: post = out_base[pre] + q, no index"
        if gaps:
            how += f"; {gaps} missing synapses padded with w = {pad!r}"
    else:
        ctx.declare(f"{P}.out_post", I32, max(1, nb), "connectivity",
                    post.astype(np.int32) if nb else np.zeros(1, np.int32))
        how = "post rank of each out-synapse in out_post"
    storage = OutgoingStorage(tuple(sorted(read)), positions, contiguous, ptr.astype(np.int32),
                              gaps if contiguous else 0, post_index)
    what = ", ".join(storage.attributes) or "no synaptic array"
    e.notes.append(f"{NOTE}: {what} read only by the spike propagation; {how}")
    return storage


def index_dtype(size: int):
    """The narrowest of int32 and int64 that holds the positions ``0 .. size - 1``."""
    return np.int32 if size < 2 ** 31 else np.int64


def slot_posts(km, projection: str) -> np.ndarray | None:
    """The post rank of every slot of the out-synapse storage of ``projection`` (padding
    included), None when it keeps the inverse index or has no post index (a ring projection:
    its slots are then the inverse index's positions; ``cpu-partition`` splits the slots by it)."""
    ptr = np.asarray(km.arrays[f"{projection}.inv_ptr"].init, dtype=np.int64)
    size = int(ptr[-1])
    if f"{projection}.out_base" in km.arrays:
        base = np.asarray(km.arrays[f"{projection}.out_base"].init, dtype=np.int64)
        pre = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
        return base[pre] + np.arange(size, dtype=np.int64) if size else np.zeros(0, np.int64)
    if f"{projection}.out_post" in km.arrays:
        return np.asarray(km.arrays[f"{projection}.out_post"].init, dtype=np.int64)[:size]
    return None


__all__ = ["NOTE", "OutgoingStorage", "read_attributes", "padding_value", "declare_outgoing", "index_dtype", "slot_posts"]
