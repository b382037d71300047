"""``cuda-map``: map a neutral kernel module onto a CUDA grid (``KernelModule.launch``).

A kernel whose top level holds ``parallel`` loops runs each of them as one launch with one thread
per iteration; its other top-level statements store nothing (the verifier's rule for parallel
kernels), so every thread recomputes them first.  Everything else runs on one thread: always
correct, and what the kernel IR promises nothing more about.

Inside a grid loop:

* :class:`Append` (ordered emission) becomes a flag and a staged value per iteration; a serial
  compaction kernel placed right after the kernel appends the flagged values in iteration order,
  so a spike list stays sorted by rank (a scan on many threads is a later improvement);
* :class:`Accumulate` becomes an atomic add (the renderer reads ``LaunchConfig.atomics``): exact on
  integers; on floats it changes the order of the sum, so ``float_atomics=0`` runs such kernels
  on one thread instead.

A kernel is left on one thread when a condition of this mapping does not hold (no iteration bound,
recomputed statements reading what a grid loop writes, an append inside an inner loop, ...):
the mapping never changes what is computed.
"""
from __future__ import annotations

from anncompiler.errors import PipelineError
from anncompiler.ir.kernel import (Accumulate, Append, AnyOf, Cast, Const, Expr, If, Kernel, KernelModule,
                                   LaunchConfig, Let, Load, Loop, Stmt, Store, BinOp, stmt_exprs, walk_expr,
                                   walk_stmts)
from anncompiler.ir.types import BOOL, F32, F64, I32, I64, U32, U64

from ..manager import Pass, register_pass

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
    if isinstance(loop.start, Const) and isinstance(loop.stop, Const):
        return max(0, int(loop.stop.value) - int(loop.start.value))
    if loop.space in m.index_spaces:
        return int(m.index_spaces[loop.space])
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
    def __init__(self, m: KernelModule, block: int, float_atomics: bool):
        self.m, self.block, self.float_atomics = m, block, float_atomics

    def map(self, k: Kernel) -> list[tuple[Kernel, LaunchConfig]]:
        grid = [p for p, s in enumerate(k.body) if isinstance(s, Loop) and s.parallel]
        serial = [(k, LaunchConfig())]
        if not grid:
            return serial
        loops = [k.body[p] for p in grid]
        others = [s for s in k.body if not (isinstance(s, Loop) and s.parallel)]
        written = writes([s for x in loops for s in x.body])
        if writes(others) or (reads(others) & written):
            return serial
        if any(reads([Let(x.var, x.start), Let(x.var, x.stop)]) & written for x in loops):
            return serial
        bounds = [_trip_bound(self.m, x) for x in loops]
        atomics = [_atomics(x, self.float_atomics) for x in loops]
        if None in bounds or None in atomics or not all(_appends_ok(x) for x in loops):
            return serial
        appending = [p for p in grid if any(isinstance(s, Append) for s in walk_stmts(k.body[p].body))]
        if appending and len(grid) > 1:
            return serial
        out = [(k, LaunchConfig(tuple(grid), tuple(bounds), self.block,
                                tuple(sorted({a for x in atomics for a in x}))))]
        for p, bound in zip(grid, bounds):
            if p in appending:
                out.append((self._stage_appends(k, p, bound), LaunchConfig()))
        return out

    def _stage_appends(self, k: Kernel, pos: int, bound: int) -> Kernel:
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
        prologue = [s for s in k.body[:pos] if not (isinstance(s, Loop) and s.parallel)]
        return Kernel(f"{k.name}.compact", k.phase,
                      prologue + [Loop(loop.var, loop.start, loop.stop, compact, loop.space)],
                      doc=f"appends of @{k.name} in iteration order")


@register_pass
class CudaMap(Pass):
    """Map the kernels onto CUDA launches (see the module docstring)."""
    name = "cuda-map"
    stage = "kernel"
    #: threads per block of the grid launches
    block: int = 256
    #: atomic adds on floats (the sum's order changes); 0 runs such kernels on one thread
    float_atomics: bool = True

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
        mapper = _Mapper(m, int(self.block), bool(self.float_atomics))
        kernels, launch = [], {}
        for k in m.kernels:
            for kernel, config in mapper.map(k):
                kernels.append(kernel)
                launch[kernel.name] = config
        m.kernels, m.launch, m.platform = kernels, launch, "cuda"
