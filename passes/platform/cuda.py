"""``cuda-map``: map a neutral kernel module onto CUDA launches (``KernelModule.launch``).

A top-level loop runs with one thread per iteration (its own launch) when its iterations may run
concurrently: a ``parallel`` loop (independent iterations, by the lowering's word), or a loop
that writes only through :class:`Accumulate` (spike propagation).  The statements between such
loops run on one thread, in order; each launch first recomputes the top-level locals defined
before it (:func:`~anncompiler.ir.launch.launch_segments`).  Inside a grid loop:

* :class:`Append` (ordered emission) becomes a flag and a staged value per iteration; a
  one-thread compaction kernel placed right after the kernel appends the flagged values in
  iteration order, so a spike list stays sorted by rank (a scan on many threads is a later
  improvement);
* :class:`Accumulate` becomes an atomic add (the renderer reads ``LaunchConfig.atomics``): exact on
  integers; on floats the order of the sum would depend on the GPU's scheduling, so by default
  (``order=ordered``) float atomics are never used.  A kernel owned by a population (spike
  propagation, post-synaptic events) is first divided by post-synaptic neuron
  (``cuda_ordered.py``): one thread per partition of the post population, walking the spike list
  in order over its own synapses, so every sum runs in the sequential order (the CPU's bits);
  other loops with float accumulations stay on one thread.  ``order=atomic`` maps accumulating
  loops with one thread per spike and float atomic adds instead (faster on large networks; the
  sums' order, hence their last bits, then varies run to run); there ``float_atomics=0`` keeps
  such loops on one thread;
* a row of a weighted sum (``rows:proj``) is folded by a group of threads in the order of its
  :class:`Reduce`'s lanes (``cuda_rows.py``, ``LaunchConfig.group``; ``warp_rows=0``: one
  thread a row).

A loop stays on one thread when a condition of this mapping does not hold (no bound on its
iterations, an append inside an inner loop, a recomputed local reading what runs before it
writes, ...): apart from float atomics (``order=atomic`` only), the mapping never changes what is
computed.
"""
from __future__ import annotations

from typing import Literal

from anncompiler.errors import PipelineError
from anncompiler.ir.kernel import (Accumulate, Append, AnyOf, Cast, Const, Expr, If, Kernel, KernelModule,
                                   Let, Load, Loop, Reduce, Stmt, Store, BinOp, stmt_exprs, walk_expr, walk_stmts)
from anncompiler.ir.launch import LaunchConfig, launch_segments
from anncompiler.ir.types import BOOL, F32, F64, I32, I64, U32, U64

from ..manager import Pass, register_pass
from .cuda_ordered import ordered_kernel
from .cuda_rows import row_group
from .guards import guard_launches, kernel_guard, module_writes, unguarded

#: element types with a CUDA atomicAdd
ATOMIC_TYPES = (F64, F32, I32, I64, U32, U64)


def _touched(s: Stmt) -> set[str]:
    """Arrays one statement reads or writes itself (not through its nested bodies)."""
    out = {x.array for e in stmt_exprs(s) for x in walk_expr(e) if isinstance(x, (Load, AnyOf))}
    if isinstance(s, (Store, Accumulate)):
        out.add(s.array)
    elif isinstance(s, Append):
        out.update((s.array, s.counter))
    return out


def reads(stmts: list[Stmt]) -> set[str]:
    """Arrays read by ``stmts`` (nested bodies included)."""
    out = set()
    for s in walk_stmts(stmts):
        out.update(x.array for e in stmt_exprs(s) for x in walk_expr(e) if isinstance(x, (Load, AnyOf)))
        if isinstance(s, Accumulate):
            out.add(s.array)
        elif isinstance(s, Append):
            out.add(s.counter)
    return out


def writes(stmts: list[Stmt]) -> set[str]:
    """Arrays stored, appended or accumulated into by ``stmts``."""
    out = set()
    for s in walk_stmts(stmts):
        if isinstance(s, (Store, Accumulate)):
            out.add(s.array)
        elif isinstance(s, Append):
            out.update((s.array, s.counter))
    return out


def _touched_except(body: list[Stmt], kind: type) -> set[str]:
    """Arrays touched by the statements of ``body`` that are not of ``kind``."""
    return set().union(*(_touched(s) for s in walk_stmts(body) if not isinstance(s, kind)))


def _i64(e: Expr) -> Expr:
    return e if e.dtype == I64 else Cast(e, I64)


def _offset(loop: Loop) -> Expr:
    """``var - start`` as an i64: the iteration's slot in the staging arrays."""
    if isinstance(loop.start, Const) and int(loop.start.value) == 0:
        return _i64(loop.var)
    return BinOp("-", _i64(loop.var), _i64(loop.start), I64)


def _trip_bound(m: KernelModule, loop: Loop) -> int | None:
    """An upper bound of the iterations: constant bounds, the size of the loop's index space, or
    for a spike list (``spikes:P``) the size of ``P``."""
    if isinstance(loop.start, Const) and isinstance(loop.stop, Const):
        return max(0, int(loop.stop.value) - int(loop.start.value))
    if loop.space in m.index_spaces:
        return int(m.index_spaces[loop.space])
    kind, _, pop = loop.space.partition(":")
    if kind == "spikes" and f"neurons:{pop}" in m.index_spaces:
        return int(m.index_spaces[f"neurons:{pop}"])
    return None


def _appends_ok(loop: Loop) -> bool:
    """At most one append per array and iteration (none in inner loops), arrays and counters
    touched by nothing else in the loop."""
    appends = [s for s in walk_stmts(loop.body) if isinstance(s, Append)]
    if not appends:
        return True
    nested = [s for x in walk_stmts(loop.body) if isinstance(x, Loop) for s in walk_stmts(x.body)]
    if any(isinstance(s, Append) for s in nested):
        return False
    names = [a.array for a in appends] + [a.counter for a in appends]
    if len(set(names)) != len(names):
        return False
    touched = _touched_except(loop.body, Append)
    touched |= {x.array for a in appends for x in walk_expr(a.value) if isinstance(x, (Load, AnyOf))}
    return not (set(names) & touched)


def _atomics(loop: Loop, float_atomics: bool) -> tuple[str, ...] | None:
    """Arrays accumulated into inside ``loop`` (None when one of them cannot be atomic)."""
    acc = [s for s in walk_stmts(loop.body) if isinstance(s, Accumulate)]
    arrays = sorted({s.array for s in acc})
    for s in acc:
        if s.value.dtype not in ATOMIC_TYPES or (s.value.dtype in (F64, F32) and not float_atomics):
            return None
    touched = _touched_except(loop.body, Accumulate)
    touched |= {x.array for s in acc for e in (s.index, s.value) for x in walk_expr(e)
                if isinstance(x, (Load, AnyOf))}
    return None if set(arrays) & touched else tuple(arrays)


class _Mapper:
    def __init__(self, m: KernelModule, block: int, float_atomics: bool, partitions: int = 0,
                 warp_rows: bool = True):
        self.m, self.block, self.float_atomics, self.warp_rows = m, block, float_atomics, warp_rows
        #: partitions of an owned kernel's population (0: no ordered mapping, ``order=atomic``)
        self.partitions = partitions

    def grid_loop(self, k: Kernel, pos: int):
        """``(iteration bound, atomic arrays)`` when ``k.body[pos]`` can run one thread per iteration.

        A ``parallel`` loop has independent iterations by the lowering's word; another loop
        qualifies when it writes only through :class:`Accumulate` (spike propagation), whose
        conflicts the atomics resolve."""
        loop = k.body[pos]
        if not isinstance(loop, Loop):
            return None
        written = writes(loop.body)
        if not written:
            return None
        if not loop.parallel and any(isinstance(s, (Store, Append)) for s in walk_stmts(loop.body)):
            return None
        bound, atomics = _trip_bound(self.m, loop), _atomics(loop, self.float_atomics)
        if bound is None or atomics is None or not _appends_ok(loop):
            return None
        if reads([Let(loop.var, loop.start), Let(loop.var, loop.stop)]) & written:
            return None
        if any(isinstance(s, Append) for s in walk_stmts(loop.body)):
            # compacted after the kernel: nothing after the loop may see the list, nor change what
            # the compaction recomputes (the prologue and the bounds)
            later = k.body[pos + 1:]
            appended = {n for s in walk_stmts(loop.body) if isinstance(s, Append) for n in (s.array, s.counter)}
            recomputed = [s for s in k.body[:pos] if isinstance(s, (Let, Reduce))]
            recomputed += [Let(loop.var, loop.start), Let(loop.var, loop.stop)]
            if (reads(later) | writes(later)) & appended or reads(recomputed) & writes(k.body[pos:]):
                return None
        return bound, atomics

    def map(self, k: Kernel) -> list[tuple[Kernel, LaunchConfig]]:
        if self.partitions:
            ordered = ordered_kernel(self.m, k, self.partitions)
            if ordered is not None:
                mapped = self.map_loops(ordered)
                if mapped[0][1].grid_loops:
                    return mapped
        return self.map_loops(k)

    def map_loops(self, k: Kernel) -> list[tuple[Kernel, LaunchConfig]]:
        chosen = {}
        for pos in range(len(k.body)):
            found = self.grid_loop(k, pos)
            if found is not None:
                chosen[pos] = found
        serial = [(k, LaunchConfig())]
        if not chosen:
            return serial
        grid = tuple(sorted(chosen))
        atomics = tuple(sorted({a for _, arrays in chosen.values() for a in arrays}))
        group = tuple(row_group(k.body[p], self.block) if self.warp_rows else 1 for p in grid)
        config = LaunchConfig(grid, tuple(chosen[p][0] for p in grid), self.block, atomics,
                              group if any(g > 1 for g in group) else ())
        # the prologues recomputed by each launch must read what they read in order
        for prologue, stmts, pos in launch_segments(k, config):
            start = pos if pos is not None else k.body.index(stmts[0])
            for s in prologue:
                at = next(i for i, x in enumerate(k.body) if x is s)
                if reads([s]) & writes(k.body[at + 1:start]):
                    return serial
        out = [(k, config)]
        for pos in grid:
            if any(isinstance(s, Append) for s in walk_stmts(k.body[pos].body)):
                name = f"{k.name}.compact" + (str(len(out) - 1) if len(out) > 1 else "")  # one per appending loop
                out.append((self._stage_appends(k, pos, chosen[pos][0], name), LaunchConfig()))
        return out

    def _stage_appends(self, k: Kernel, pos: int, bound: int, name: str) -> Kernel:
        """Rewrite the appends of loop ``k.body[pos]`` into staging stores; return the compaction kernel."""
        loop = k.body[pos]
        slot = _offset(loop)
        staged = []  # (append, flag array, stage array)

        def rewrite(body: list[Stmt]) -> list[Stmt]:
            out = []
            for s in body:
                if isinstance(s, Append):
                    base = f"_cuda.{k.name}.{s.array}"
                    flag, stage = base + ".flag", base + ".stage"
                    self.m.declare(flag, BOOL, bound, "internal", False)
                    self.m.declare(stage, self.m.arrays[s.array].dtype, bound, "internal", 0)
                    staged.append((s, flag, stage))
                    out += [Store(stage, slot, s.value), Store(flag, slot, Const(True, BOOL))]
                elif isinstance(s, If):
                    out.append(If(s.cond, rewrite(s.then), rewrite(s.orelse)))
                else:
                    out.append(s)
            return out

        body = rewrite(loop.body)
        body = [Store(flag, slot, Const(False, BOOL)) for _, flag, _ in staged] + body
        k.body[pos] = Loop(loop.var, loop.start, loop.stop, body, loop.space, loop.parallel)
        compact = [If(Load(flag, slot, BOOL), [Append(a.array, a.counter, Load(stage, slot, self.m.arrays[stage].dtype))])
                   for a, flag, stage in staged]
        prologue = [s for s in k.body[:pos] if isinstance(s, (Let, Reduce))]
        return Kernel(name, k.phase,
                      prologue + [Loop(loop.var, loop.start, loop.stop, compact, loop.space)],
                      doc=f"appends of @{k.name} in iteration order")


@register_pass
class CudaMap(Pass):
    """Map the kernels onto CUDA launches (see the module docstring)."""
    name = "cuda-map"
    stage = "kernel"
    #: threads per block of the grid launches
    block: int = 256
    #: ``ordered``: sums in the sequential order (kernels owned by a population divided by
    #: post-synaptic neuron, no float atomics); ``atomic``: float atomic adds (order varies)
    order: Literal["ordered", "atomic"] = "ordered"
    #: at most this many partitions of a post-synaptic population (``order=ordered``)
    partitions: int = 1024
    #: with ``order=atomic``: atomic adds on floats; 0 runs such kernels on one thread
    float_atomics: bool = True
    #: rows of a weighted sum folded by a group of threads (``cuda_rows.py``); 0: one thread a row
    warp_rows: bool = True

    def run(self, module) -> None:
        m = module.kernels
        if m is None:
            raise PipelineError("cuda-map needs a kernel module: run lower-to-kernels first")
        if m.platform == "cuda":
            return
        if m.platform:
            raise PipelineError(f"cuda-map: the kernel module is already mapped to the {m.platform} platform")
        if int(self.block) < 1 or int(self.block) > 1024:
            raise PipelineError(f"cuda-map: block={self.block} (threads per block must be 1 .. 1024)")
        if int(self.partitions) < 1:
            raise PipelineError(f"cuda-map: partitions={self.partitions} (must be at least 1)")
        ordered = self.order == "ordered"
        mapper = _Mapper(m, int(self.block), bool(self.float_atomics) and not ordered,
                         int(self.partitions) if ordered else 0, bool(self.warp_rows))
        kernels, launch = [], {}
        written = module_writes(m)
        for k in m.kernels:
            guard = kernel_guard(k, written)  # a disabled population's kernels (guards.py)
            for kernel, config in mapper.map(k if guard is None else unguarded(k)):
                kernels.append(kernel if guard is None else guard_launches(kernel, config, guard))
                launch[kernel.name] = config
        m.kernels, m.launch, m.platform = kernels, launch, "cuda"
