"""CPU platform passes that shape loops for the vector units: flag-block scans and row lanes.

``cpu-flag-scan``: a loop that visits the elements of a bool flag array and acts on the flagged
ones (the spike emission loop: ``for i: if flag[i]: ...``) tests ``block`` flags at once
(``any(flag[b ..+block])``, one vector load and or-reduction) and looks at each neuron only in
blocks where one is set.  COBA: 64 was a little faster than 16 or 32.

``cpu-expand-reductions``: a ``reduce`` with L lanes becomes an unrolled loop over chunks of L
elements with L partial results in locals (the shape that lets the SLP vectoriser keep them in
vector registers; a pairwise tree made it split them), then a loop over the remainder into
partial 0, then the partials combined in order: exactly the order the reduce declares.  Chunks
of rows that stream arrays at the element index (weights, pre ranks) prefetch them ``prefetch``
bytes ahead, one hint per cache line: measured on the sparse rate benchmark (AMD Zen 4), rows of
400 synapses read 12 bytes per synapse while gathering ``pre.r`` at random; without a hint the
streams evict the gathered values from L1 and the row sum waits on them (25-30 % of its time).
"""
from __future__ import annotations

import dataclasses

from anncompiler.ir.kernel import (AnyOf, BinOp, Cmp, Const, If, Let, Load, Loop, Prefetch, Reduce, Var,
                                   replace_exprs, walk_expr)
from anncompiler.ir.types import BOOL, I64

from ..lowering.context import c64
from ..manager import Pass, register_pass

CACHE_LINE = 64


def _rewrite(body: list, rewrite) -> list:
    """Apply ``rewrite(stmt) -> list[stmt] | None`` (None: keep, and look inside) everywhere."""
    out = []
    for s in body:
        new = rewrite(s)
        if new is not None:
            out += new
            continue
        for b in s.bodies():
            b[:] = _rewrite(b, rewrite)
        out.append(s)
    return out


@register_pass
class CPUFlagScan(Pass):
    """Scan flag arrays by blocks of ``block`` elements (0: leave the loops as they are)."""
    name = "cpu-flag-scan"
    stage = "kernel"
    block: int = 64

    def __post_init__(self):
        self.require_at_least(block=0)

    def run(self, module):
        if self.block <= 0:
            return
        for k in module.kernels.kernels:
            k.body = _rewrite(k.body, lambda s: self.scan(module.kernels, s))

    def scan(self, km, s) -> list | None:
        """``for i in lo..hi: lets; if flag[i]: body`` -> blocks of flags and a remainder."""
        if not isinstance(s, Loop) or not s.body:
            return None
        *lets, test = s.body
        if not (isinstance(test, If) and not test.orelse and all(isinstance(x, Let) for x in lets)):
            return None
        cond = test.cond
        if not (isinstance(cond, Cmp) and cond.op == "!=" and cond.b == Const(False, BOOL)
                and isinstance(cond.a, Load) and cond.a.index == s.var and km.arrays[cond.a.array].dtype == BOOL):
            return None
        i, lo, hi, n = s.var, s.start, s.stop, self.block
        block, k = Var("blk", I64), Var("k", I64)
        full = BinOp("/", BinOp("-", hi, lo, I64), c64(n), I64)
        start = BinOp("+", lo, BinOp("*", block, c64(n), I64), I64)
        per_element = [Let(i, BinOp("+", start, k, I64))] + s.body
        scan = [If(AnyOf(cond.a.array, start, n), [Loop(k, c64(0), c64(n), per_element)])]
        blocks = Loop(block, c64(0), full, scan, s.space)
        rest = BinOp("+", lo, BinOp("*", full, c64(n), I64), I64)
        remainder = dataclasses.replace(s, start=rest)
        if isinstance(lo, Const) and isinstance(hi, Const):  # known bounds: leave out an empty loop
            count = hi.value - lo.value
            return ([blocks] if count >= n else []) + ([remainder] if count % n else [])
        return [blocks, remainder]


@register_pass
class CPUExpandReductions(Pass):
    """Unroll every ``reduce`` into its lanes; prefetch streamed arrays ``prefetch`` bytes ahead
    (0: no prefetch)."""
    name = "cpu-expand-reductions"
    stage = "kernel"
    prefetch: int = 2048

    def __post_init__(self):
        self.require_at_least(prefetch=0)

    def run(self, module):
        for k in module.kernels.kernels:
            k.body = _rewrite(k.body, lambda s: self.expand(module.kernels, s) if isinstance(s, Reduce) else None)

    def expand(self, km, r: Reduce) -> list:
        acc, t, op, lanes = r.acc, r.acc.dtype, r.op, max(1, int(r.lanes))
        if lanes == 1:
            return [Let(acc, r.init), Loop(r.var, r.start, r.stop, [Let(acc, BinOp(op, acc, r.value, t))], r.space)]
        parts = [Var(f"{acc.name}{k}", t) for k in range(lanes)]
        chunk, base, n = Var("c", I64), Var("base", I64), Var("nrow", I64)
        unrolled = [Let(base, BinOp("+", r.start, BinOp("*", chunk, c64(lanes), I64), I64))]
        unrolled += self.prefetches(km, r, base, lanes)
        for k, part in enumerate(parts):
            at = replace_exprs(r.value, {r.var: BinOp("+", base, c64(k), I64)})
            unrolled.append(Let(part, BinOp(op, part, at, t)))
        end = BinOp("+", r.start, BinOp("*", BinOp("/", n, c64(lanes), I64), c64(lanes), I64), I64)
        out = [Let(n, BinOp("-", r.stop, r.start, I64))] + [Let(p, r.init) for p in parts]
        out.append(Loop(chunk, c64(0), BinOp("/", n, c64(lanes), I64), unrolled, r.space))
        out.append(Loop(r.var, end, r.stop, [Let(parts[0], BinOp(op, parts[0], r.value, t))], r.space))
        total = parts[0]
        for k, part in enumerate(parts[1:], 1):  # in order: SLP keeps one vector accumulator
            nxt = Var(f"{acc.name}_0_{k}", t)
            out.append(Let(nxt, BinOp(op, total, part, t)))
            total = nxt
        out.append(Let(acc, total))
        return out

    def prefetches(self, km, r: Reduce, base: Var, lanes: int) -> list:
        """One prefetch per cache line of a chunk, for each array read at the element index."""
        if self.prefetch <= 0:
            return []
        out = []
        for array in streamed_arrays(r):
            size = km.arrays[array].dtype.numpy.itemsize
            ahead = self.prefetch // size
            for line in range(0, lanes * size, CACHE_LINE):
                out.append(Prefetch(array, BinOp("+", base, c64(ahead + line // size), I64)))
        return out


def streamed_arrays(r: Reduce) -> list[str]:
    """The arrays a reduce streams at the element index, except when every row reads the same
    elements (constant bounds: ``pre.r`` of a dense row), which stay cached from one row to the
    next: a non-temporal prefetch of them would push them out (rate_dense ran 20-30 % slower)."""
    if isinstance(r.start, Const) and isinstance(r.stop, Const):
        return []
    return sorted({x.array for x in walk_expr(r.value) if isinstance(x, Load) and x.index == r.var})
