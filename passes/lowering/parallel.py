"""Lowering for several threads: static partitions by post-synaptic neuron, deterministic by construction.

With ``ctx.threads = T > 1`` every population of N neurons is cut into T partitions, partition
``c`` owning neurons ``[N*c/T, N*(c+1)/T)``; the rows of a projection belong to the partition of
their post-synaptic neuron (``P.row_split``, i32[T+1]: rows are sorted by post rank), and so do
its synapses (``P.inv_split``, i32[pre_size*(T+1)]: the synapses of each pre-synaptic neuron in
the inverse index are sorted by post rank too, and ``inv_split[pre*(T+1)+c]`` is the first one of
partition ``c``).  Parallel kernels loop over the partitions (``for part in 0..T  parallel``), so
reset-inputs, the synaptic input into a population and its neuron update touch only their own
partition's neurons, in the same order as the sequential code:

* a rate-coded row is reduced exactly as with one thread;
* spike propagation: every partition walks the whole spike list of the pre population and handles
  only its own synapses of each spike, so each ``g[post]`` receives its increments in the order of
  the spike list, as with one thread -- no atomics;
* spike emission: partition ``c`` writes the ranks of its spiking neurons, ascending, into its own
  segment ``P._spiked[N*c/T ...]`` and their number into ``P._spike_count[c]``; the serial kernel
  ``spikes_P`` then concatenates the segments (ascending rank: the sequential list);
* random numbers are counter-based (keyed by neuron index), global updates, global operations,
  stop conditions and monitors are serial kernels.

So any thread count computes the same bits.  ``place_barriers`` puts a barrier where a thread may
read what another wrote: between a serial and a parallel kernel (either way) and between two
parallel kernels of different phases (the neuron update writes the ``r`` and spikes that other
partitions' synaptic input reads).  The backend adds the end-of-step synchronisation.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import sympy

from anncompiler.ir.kernel import (BinOp, Cast, Kernel, Let, Loop, Stmt, Var, walk_expr,
                                   walk_stmts, stmt_exprs)
from anncompiler.ir.network import PopulationNode, ProjectionEdge
from anncompiler.ir.types import I32, I64

from .context import LoweringContext, c64, i64

PART = Var("part", I64)
LO, HI = Var("part_lo", I64), Var("part_hi", I64)
COUNT = Var("part_spikes", I64)
#: doc of the serial kernels of global updates (run first in the neuron phase)
GLOBAL_DOC = "global updates of "


def first_of(ctx: LoweringContext, size: int, part) -> BinOp:
    """First neuron of partition ``part`` (an i64 expression) of a population of ``size``."""
    return BinOp("/", BinOp("*", c64(size), part, I64), c64(ctx.threads), I64)


def boundaries(ctx: LoweringContext, size: int) -> np.ndarray:
    """First neuron of every partition, and ``size``: int64[T+1]."""
    t = np.arange(ctx.threads + 1, dtype=np.int64)
    return size * t // ctx.threads


def partition_bounds(ctx: LoweringContext, size: int) -> list[Stmt]:
    """``part_lo``/``part_hi``: the neurons of partition ``part``."""
    return [Let(LO, first_of(ctx, size, PART)), Let(HI, first_of(ctx, size, BinOp("+", PART, c64(1), I64)))]


def partitions(ctx: LoweringContext, what: str, body: list[Stmt], parallel: bool = True) -> Loop:
    return Loop(PART, c64(0), c64(ctx.threads), body, f"partitions:{what}", parallel)


# connectivity -------------------------------------------------------------------

def declare_splits(ctx: LoweringContext, e: ProjectionEdge) -> None:
    """``P.row_split`` and, for spiking projections, ``P.inv_split`` (see the module docstring)."""
    c = e.connectivity
    bounds = boundaries(ctx, ctx.net.population(e.post).size)  # of the population, not of a view
    ctx.declare(f"{e.name}.row_split", I32, ctx.threads + 1, "connectivity",
                np.searchsorted(c.post_ranks, bounds, side="left").astype(np.int32))
    if e.synapse.type != "spike":
        return
    T = ctx.threads
    order = np.argsort(c.pre_ranks, kind="stable")
    rows = np.repeat(np.arange(c.n_rows), np.diff(c.row_ptr))[order]
    post = np.asarray(c.post_ranks, dtype=np.int64)[rows] if len(rows) else np.zeros(0, np.int64)
    pre = np.asarray(c.pre_ranks, dtype=np.int64)[order]
    ptr = np.zeros(c.pre_size + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(pre, minlength=c.pre_size))
    split = np.empty((c.pre_size, T + 1), dtype=np.int64)
    for k, b in enumerate(bounds):
        split[:, k] = ptr[:-1] + np.bincount(pre[post < b], minlength=c.pre_size)
    split[:, T] = ptr[1:]
    ctx.declare(f"{e.name}.inv_split", I32, max(1, split.size), "connectivity",
                split.reshape(-1).astype(np.int32) if split.size else np.zeros(1, np.int32))


def projection_is_parallel(ctx: LoweringContext, e: ProjectionEdge) -> bool:
    """True when the projection writes only what the post partition owns and reads nothing that
    another partition writes in the same phase (else it is lowered as a serial kernel)."""
    syn = e.synapse
    if syn.type == "spike":
        exprs = [eq.rhs for eq in syn.pre_spike]
        for eq in syn.pre_spike:
            if eq.target == "g_target":
                continue
            if eq.target.startswith("post."):
                return False  # post attributes may be read as pre attributes elsewhere
            a = ctx.synapse_attributes[e.name].get(eq.target)
            if a is None or a.locality == "global":
                return False
    else:
        exprs = [syn.psp] if syn.psp is not None else []
    for x in exprs:
        if isinstance(x, sympy.Basic) and any(s.name.startswith("pre.sum(") for s in x.free_symbols):
            return False  # written by the inputs of the pre population, in this phase
    return True


def row_partition(ctx: LoweringContext, e: ProjectionEdge, row: Var, body: list[Stmt], space: str) -> Loop:
    """``for part: for row in row_split[part] .. row_split[part+1]: body``."""
    split = f"{e.name}.row_split"
    return partitions(ctx, e.name, [Loop(row, i64(ctx.load(split, PART)),
                                         i64(ctx.load(split, BinOp("+", PART, c64(1), I64))), body, space)])


def inverse_bounds(ctx: LoweringContext, e: ProjectionEdge, pre) -> tuple:
    """The synapses of ``pre`` that partition ``part`` owns (a range of the inverse index)."""
    split = f"{e.name}.inv_split"
    at = BinOp("+", BinOp("*", pre, c64(ctx.threads + 1), I64), PART, I64)
    return i64(ctx.load(split, at)), i64(ctx.load(split, BinOp("+", at, c64(1), I64)))


# neurons ------------------------------------------------------------------------

def segment_append(ctx: LoweringContext, p: PopulationNode, index: Var) -> list[Stmt]:
    """Append neuron ``index`` to the spike segment of its partition."""
    return [ctx.store(f"{p.name}._spiked", BinOp("+", LO, COUNT, I64), Cast(index, I32)),
            Let(COUNT, BinOp("+", COUNT, c64(1), I64))]


def _vars_used(stmts) -> set[str]:
    return {x.name for s in walk_stmts(stmts) for e in stmt_exprs(s) for x in walk_expr(e) if isinstance(x, Var)}


def neuron_kernels(ctx: LoweringContext, p: PopulationNode, glob: list[Stmt], loops: list[Loop],
                   doc: str, bounded: list[Stmt] = ()) -> list[Kernel]:
    """The update of a population over partitions: global updates (serial), the neuron loops (one
    parallel kernel; spikes into segments) and the concatenation of the spike segments (serial).

    ``glob``: statements run once before the neuron loops; ``loops``: loops over all neurons, with
    spikes appended by :func:`segment_append`; ``bounded``: statements after them that already
    loop over ``part_lo .. part_hi`` only.
    """
    spiking = p.model.type == "spike"
    name = f"update_{p.name}"
    if not loops and not bounded and not spiking:
        return [Kernel(name, "neurons", glob, doc)] if glob else []
    if spiking:
        ctx.declare(f"{p.name}._spike_count", I64, ctx.threads, "internal", 0)
    body = partition_bounds(ctx, p.size)
    if spiking:
        body.append(Let(COUNT, c64(0)))
    body += [dataclasses.replace(loop, start=LO, stop=HI) for loop in loops] + list(bounded)
    if spiking:
        body.append(ctx.store(f"{p.name}._spike_count", PART, COUNT))
    defined = {s.var.name for s in walk_stmts(glob) if isinstance(s, Let)}
    if defined & _vars_used(loops):  # the loops read locals of the global part: keep them together
        kernels = [Kernel(name, "neurons", glob + [partitions(ctx, p.name, body, parallel=False)], doc)]
    else:
        kernels = [Kernel(f"{name}_global", "neurons", glob, GLOBAL_DOC + p.name)] if glob else []
        kernels.append(Kernel(name, "neurons", [partitions(ctx, p.name, body)], doc, parallel=True))
    if spiking:
        kernels.append(compaction_kernel(ctx, p))
    return kernels


def compaction_kernel(ctx: LoweringContext, p: PopulationNode) -> Kernel:
    """Concatenate the spike segments into ``P._spiked[:P._n_spiked]`` (ascending rank).

    In place: the n-th spike moves from ``first(part) + j`` to ``n <= first(part) + j``, and
    positions are visited in increasing order, so no source is overwritten before it is read.
    """
    spiked, n = f"{p.name}._spiked", Var("n", I64)
    j = Var("j", I64)
    body = [Let(n, c64(0)),
            Loop(PART, c64(0), c64(ctx.threads), [
                Let(LO, first_of(ctx, p.size, PART)),
                Loop(j, c64(0), ctx.load(f"{p.name}._spike_count", PART), [
                    ctx.store(spiked, n, ctx.load(spiked, BinOp("+", LO, j, I64))),
                    Let(n, BinOp("+", n, c64(1), I64))], f"spikes:{p.name}")],
                 f"partitions:{p.name}"),
            ctx.store(f"{p.name}._n_spiked", 0, n)]
    return Kernel(f"spikes_{p.name}", "neurons", body, f"spike list of {p.name} from its partitions")


# barriers -----------------------------------------------------------------------

def _group_neuron_phase(kernels: list[Kernel]) -> None:
    """In each run of ``neurons`` kernels: the global updates (serial) first, then the parallel
    updates, then the serial rest (spike lists, spike sources, serial updates), so that a
    network of several populations needs two barriers in this phase, not two per population.
    Safe: a population's update reads only its own state (and the inputs computed before)."""
    out, run = [], []
    for k in kernels + [None]:
        if k is not None and k.phase == "neurons":
            run.append(k)
            continue
        rank = lambda x: 1 if x.parallel else (0 if x.doc.startswith(GLOBAL_DOC) else 2)  # noqa: E731
        out += sorted(run, key=rank)
        run = []
        if k is not None:
            out.append(k)
    kernels[:] = out


def place_barriers(kernels: list[Kernel]) -> None:
    """Group the neuron phase (:func:`_group_neuron_phase`), then set ``barrier`` where a thread
    may read what another wrote (see the module docstring); the step starts after the backend's
    end-of-step barrier."""
    _group_neuron_phase(kernels)
    prev = None
    for k in kernels:
        if prev is not None:
            if k.parallel != prev.parallel:
                k.barrier = True
            elif k.parallel and k.phase != prev.phase:
                k.barrier = True
        prev = k
