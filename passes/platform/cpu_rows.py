"""``cpu-block-rows``: rows that sum over the same range are summed ``rows`` at a time.

A dense rate-coded projection sums every row over the same pre-synaptic range
(``for k in rows: acc = reduce(...) for s in 0 .. n_pre: pre.r[s] * w[k*n_pre + s]``): each row
streams its own weights but re-reads the same ``pre.r``.  This pass runs ``rows`` rows in one
pass over the range: each load of ``pre.r`` serves them all, and the weight streams of the
rows run side by side (what an optimised BLAS ``gemv`` does).  Each row keeps its own partial
results, in the order its ``reduce`` declares (ir/kernel.py): the block changes the order in
which rows are computed, never the bits of a row, so every backend and thread count still
computes the same result.

It applies to a ``rows:`` loop whose body is ``lets; reduce; statements`` (possibly under an
``if`` that no row changes) when the bounds of the reduce do not depend on the row and nothing
the rows store is read by the lets or the reduce of another row.  The rows left over (the
count modulo ``rows``) run the original loop.  Sparse rows (bounds from ``row_ptr``) are left
as they are.  Measured on the 2000 x 2000 dense rate benchmark: see ``benchmarks/README.md``.
"""
from __future__ import annotations

import dataclasses

from anncompiler.errors import PipelineError
from anncompiler.ir.kernel import (Accumulate, BinOp, Expr, If, Let, Load, Loop, Reduce, Stmt, Store, Var,
                                   replace_exprs, walk_expr)
from anncompiler.ir.types import I64

from ..lowering.context import c64
from ..manager import Pass, register_pass
from .cpu_vector import _rewrite


@register_pass
class CPUBlockRows(Pass):
    """Sum ``rows`` rows of equal range per pass over the range (0 or 1: leave rows alone)."""
    name = "cpu-block-rows"
    stage = "kernel"
    rows: int = 4

    def __post_init__(self):
        self.require_at_least(rows=0)

    def run(self, module):
        if self.rows <= 1:
            return
        km = module.kernels
        if km is None or km.platform != "cpu":
            raise PipelineError("cpu-block-rows runs on a partitioned module: put it after 'cpu-partition'")
        for k in km.kernels:
            k.body = _rewrite(k.body, self.block)

    def block(self, s: Stmt) -> list | None:
        if not (isinstance(s, Loop) and s.space.startswith("rows:")):
            return None
        shape = _row_shape(s)
        if shape is None:
            return None
        cond, prefix, reduce, suffix = shape
        n = self.rows
        kb, first = Var(f"{s.var.name}_blk", I64), Var(f"{s.var.name}_first", I64)
        count = Var(f"{s.var.name}_nblk", I64)
        fused = [Let(first, BinOp("+", s.start, BinOp("*", kb, c64(n), I64), I64))]
        renames = [_renaming(s.var, BinOp("+", first, c64(j), I64), prefix + [reduce] + suffix, j) for j in range(n)]
        for j in range(n):
            fused += [_rename_stmt(x, renames[j]) for x in prefix]
        fused += _fused_reduce(reduce, [_rename_stmt(reduce, renames[j]) for j in range(n)])
        for j in range(n):
            fused += [_rename_stmt(x, renames[j]) for x in suffix]
        if cond is not None:
            fused = [If(cond, fused)]
        out = [Let(count, BinOp("/", BinOp("-", s.stop, s.start, I64), c64(n), I64)),
               Loop(kb, c64(0), count, fused, s.space)]
        rest = BinOp("+", s.start, BinOp("*", count, c64(n), I64), I64)
        out.append(dataclasses.replace(s, start=rest))
        return out


def _row_shape(s: Loop):
    """``(cond, lets, reduce, statements)`` of a blockable row loop, else None."""
    body, cond = s.body, None
    if len(body) == 1 and isinstance(body[0], If) and not body[0].orelse:
        cond, body = body[0].cond, body[0].then
    reduces = [p for p, x in enumerate(body) if isinstance(x, Reduce)]
    if len(reduces) != 1:
        return None
    at = reduces[0]
    prefix, reduce, suffix = body[:at], body[at], body[at + 1:]
    if not all(isinstance(x, Let) for x in prefix):
        return None
    if not all(isinstance(x, (Let, Store, Accumulate)) for x in suffix):
        return None
    row_locals = {s.var} | {x.var for x in prefix}
    if cond is not None and _vars(cond) & (row_locals | {x.var for x in suffix if isinstance(x, Let)}):
        return None
    if (_vars(reduce.start) | _vars(reduce.stop)) & row_locals:
        return None  # rows of different ranges (sparse rows)
    written = {x.array for x in suffix if isinstance(x, (Store, Accumulate))}
    read = _arrays(reduce.start, reduce.stop, reduce.value, *(x.value for x in prefix))
    if cond is not None:
        read |= _arrays(cond)
    if written & read:
        return None
    return cond, prefix, reduce, suffix


def _vars(*exprs: Expr) -> set:
    return {x for e in exprs for x in walk_expr(e) if isinstance(x, Var)}


def _arrays(*exprs: Expr) -> set:
    return {x.array for e in exprs for x in walk_expr(e) if isinstance(x, Load)}


def _renaming(row: Var, value: Expr, body: list, j: int) -> dict:
    """Row ``row`` -> ``value``; each local the row defines -> its own copy for block row ``j``."""
    table = {row: value}
    for x in body:
        target = x.var if isinstance(x, Let) else x.acc if isinstance(x, Reduce) else None
        if target is not None:
            table[target] = Var(f"{target.name}_r{j}", target.dtype)
    return table


def _rename_stmt(x: Stmt, table: dict) -> Stmt:
    if isinstance(x, Let):
        return Let(table.get(x.var, x.var), replace_exprs(x.value, table))
    if isinstance(x, Store):
        return Store(x.array, replace_exprs(x.index, table), replace_exprs(x.value, table))
    if isinstance(x, Accumulate):
        return Accumulate(x.array, replace_exprs(x.index, table), replace_exprs(x.value, table), x.op)
    if isinstance(x, Reduce):
        return dataclasses.replace(x, acc=table.get(x.acc, x.acc), value=replace_exprs(x.value, table))
    raise AssertionError(f"unexpected statement {x!r}")


def _fused_reduce(shape: Reduce, rows: list[Reduce]) -> list[Stmt]:
    """The reduces of ``rows`` (same range, op, init and lanes) in one pass over the range, each
    row folding its elements into its own partials exactly as its reduce declares."""
    t, op, lanes = shape.acc.dtype, shape.op, max(1, int(shape.lanes))
    n, chunk, base = Var("brow_n", I64), Var("brow_c", I64), Var("brow_base", I64)
    parts = [[Var(f"{r.acc.name}_p{k}", t) for k in range(lanes)] for r in rows]
    out = [Let(n, BinOp("-", shape.stop, shape.start, I64))]
    out += [Let(p, shape.init) for row in parts for p in row]
    unrolled = [Let(base, BinOp("+", shape.start, BinOp("*", chunk, c64(lanes), I64), I64))]
    for r, row in zip(rows, parts):
        for k, part in enumerate(row):
            at = replace_exprs(r.value, {r.var: BinOp("+", base, c64(k), I64)})
            unrolled.append(Let(part, BinOp(op, part, at, t)))
    out.append(Loop(chunk, c64(0), BinOp("/", n, c64(lanes), I64), unrolled, shape.space))
    end = BinOp("+", shape.start, BinOp("*", BinOp("/", n, c64(lanes), I64), c64(lanes), I64), I64)
    out.append(Loop(shape.var, end, shape.stop,
                    [Let(row[0], BinOp(op, row[0], r.value, t)) for r, row in zip(rows, parts)], shape.space))
    for r, row in zip(rows, parts):
        total = row[0]
        for k, part in enumerate(row[1:], 1):
            nxt = Var(f"{r.acc.name}_0_{k}", t)
            out.append(Let(nxt, BinOp(op, total, part, t)))
            total = nxt
        out.append(Let(r.acc, total))
    return out
