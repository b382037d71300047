"""``cpu-pair-draws``: a loop over neurons that draws random numbers computes each Philox block
once for two neurons.

Elements ``2k`` and ``2k+1`` draw from the two halves of one Philox block (``ir/philox.py``,
:class:`~anncompiler.ir.philox.Blocks`); lowered per element, each of them computes the whole
block (and, for a Normal, the log, the square root and the polynomials of Box-Muller) and keeps
its half.  This pass unrolls such a loop by two::

    for i in lo .. min(a, hi):  body(i)                  # an odd first element (a = lo rounded up to even)
    for k in a/2 .. b/2:                                # pairs (b = hi rounded down to even)
        body(2k)   with its half known: the first
        body(2k+1) with its half known: the second, reusing every local of body(2k) whose value it repeats
    for i in max(b, min(a, hi)) .. hi:  body(i)           # an odd last element

so the block and what is computed from it are computed once per pair.  The operations of each
element are those of the per-element code, so the bits do not change: a partition that starts or
ends inside a pair (``cpu-partition`` cuts at ``N*c/T``) draws its boundary element alone, as the
reference backend and CUDA draw every element.  The unrolled loop stays vectorisable (its
accesses are stride-2 groups that LLVM's loop vectoriser interleaves).

Only loops over ``neurons:`` spaces whose body draws at top level (the draws of the equations)
and keeps its locals to itself are paired.
"""
from __future__ import annotations

import copy
import dataclasses

from anncompiler.ir.kernel import (BinOp, Comment, Const, Expr, If, Let, Load, Loop, Prefetch,
                                   Select, Store, Var, replace_exprs, stmt_exprs, walk_expr, walk_stmts)
from anncompiler.ir.kernel_access import written_arrays
from anncompiler.ir.philox import pair_index, pair_odd
from anncompiler.ir.types import BOOL, I64

from ..manager import Pass, register_pass
from ..rewrite import map_children

_PAIRABLE = (Let, Store, If, Loop, Comment, Prefetch)


@register_pass
class CPUPairDraws(Pass):
    """Unroll by two the neuron loops that draw random numbers, one Philox block per pair."""
    name = "cpu-pair-draws"
    stage = "kernel"

    def run(self, module):
        km = module.kernels
        if km is None:
            return
        for k in km.kernels:
            k.body = _pair_loops(k.body, k.body)


def _pair_loops(body: list, kernel_body: list) -> list:
    out = []
    for s in body:
        if isinstance(s, Loop) and _pairable(s, kernel_body):
            out += paired(s)
            continue
        for b in s.bodies():
            b[:] = _pair_loops(b, kernel_body)
        out.append(s)
    return out


def _pairable(loop: Loop, kernel_body: list) -> bool:
    if loop.parallel or not loop.space.startswith("neurons:") or loop.var.dtype != I64:
        return False
    keys = {pair_index(loop.var), pair_odd(loop.var)}
    if not any(x in keys for s in loop.body if isinstance(s, Let) for x in walk_expr(s.value)):
        return False
    if not all(isinstance(s, _PAIRABLE) and not (isinstance(s, Loop) and s.parallel) for s in walk_stmts(loop.body)):
        return False
    return not (_defined(loop.body) & _names_outside(kernel_body, loop))


def _defined(body: list) -> set[str]:
    """Locals assigned in ``body`` (Let targets and loop variables, nested bodies included)."""
    return {s.var.name for s in walk_stmts(body) if isinstance(s, (Let, Loop))}


def _names_outside(body: list, skip: Loop) -> set[str]:
    """Locals read or written anywhere in ``body`` but inside ``skip``."""
    names = set()
    for s in body:
        if s is skip:
            continue
        if isinstance(s, (Let, Loop)):
            names.add(s.var.name)
        names.update(x.name for e in stmt_exprs(s) for x in walk_expr(e) if isinstance(x, Var))
        for b in s.bodies():
            names |= _names_outside(b, skip)
    return names


def _c(v: int) -> Const:
    return Const(v, I64)


def _bin(op: str, a: Expr, b: Expr) -> Expr:
    if isinstance(a, Const) and isinstance(b, Const):
        x, y = int(a.value), int(b.value)
        fold = {"+": lambda: x + y, "&": lambda: x & y, ">>": lambda: x >> y, "min": lambda: min(x, y),
                "max": lambda: max(x, y)}
        return _c(fold[op]())
    return BinOp(op, a, b, I64)


def paired(loop: Loop) -> list:
    """The statements replacing ``loop`` (see the module docstring)."""
    i, lo, hi = loop.var, loop.start, loop.stop
    pre: list = []

    def local(name: str, value: Expr) -> Expr:
        if isinstance(value, (Const, Var)):
            return value
        v = Var(f"{i.name}_{name}", I64)
        pre.append(Let(v, value))
        return v

    lo, hi = local("lo", lo), local("hi", hi)
    even_lo = local("even_lo", _bin("&", _bin("+", lo, _c(1)), _c(-2)))
    even_hi = local("even_hi", _bin("&", hi, _c(-2)))
    first_hi = _bin("min", even_lo, hi)
    k = Var(f"{i.name}_pair", I64)
    body = [Comment(f"elements 2*{k.name} and 2*{k.name}+1: one Philox block per draw of the pair")]
    shared = _Shared(loop.body)
    body += _copy(loop, k, 0, shared) + _copy(loop, k, 1, shared)
    pop = loop.space.split(":", 1)[1]
    out = pre + [Loop(i, lo, first_hi, copy.deepcopy(loop.body), loop.space),
                 Loop(k, _bin(">>", even_lo, _c(1)), _bin(">>", even_hi, _c(1)), body, f"pairs:{pop}"),
                 Loop(i, _bin("max", even_hi, first_hi), hi, copy.deepcopy(loop.body), loop.space)]
    return [s for s in out if not (isinstance(s, Loop) and isinstance(s.start, Const) and
                                   isinstance(s.stop, Const) and s.stop.value <= s.start.value)]


def _assigned_once(body: list) -> set[str]:
    counts: dict[str, int] = {}
    for s in walk_stmts(body):
        if isinstance(s, (Let, Loop)):
            counts[s.var.name] = counts.get(s.var.name, 0) + 1
    return {n for n, c in counts.items() if c == 1}


class _Shared:
    """The top-level locals of a pair's body that later statements may reuse: value -> local.

    A Let qualifies when its local is assigned once in the loop's body and its value reads no
    array that the body writes and no local that it reassigns: then the same value computed later (by the second element, or a
    second stream whose first round is the same) is that local."""

    def __init__(self, body: list):
        self.once = _assigned_once(body)
        reassigned = {s.var.name for s in walk_stmts(body) if isinstance(s, (Let, Loop))} - self.once
        #: locals whose value may change within an iteration (and their copies for the second element)
        self.unstable = reassigned | {f"{name}_pair1" for name in reassigned}
        self.written = written_arrays(body)
        self.values: dict[Expr, Var] = {}

    def add(self, value: Expr, var: Var) -> None:
        if not isinstance(value, (Const, Var)) and not any(
                (isinstance(x, Load) and x.array in self.written) or (isinstance(x, Var) and x.name in self.unstable)
                for x in walk_expr(value)):
            self.values.setdefault(value, var)


def _copy(loop: Loop, k: Var, half: int, shared: _Shared) -> list:
    """The loop's body for element ``2k + half``: its half of each pair's block known, its locals
    renamed (second element), the Lets whose value is computed already left out."""
    i = loop.var
    element = Var(f"{i.name}_pair{half}", I64)
    table: dict[Expr, Expr] = {pair_index(i): k, pair_odd(i): Const(bool(half), BOOL), i: element}
    rename: dict[str, Var] = {}
    if half:
        for s in walk_stmts(loop.body):
            if isinstance(s, (Let, Loop)):
                rename[s.var.name] = table[s.var] = Var(f"{s.var.name}_pair1", s.var.dtype)
    index = BinOp("*", k, _c(2), I64) if half == 0 else BinOp("+", Var(f"{i.name}_pair0", I64), _c(1), I64)
    return [Let(element, index)] + _rewrite(loop.body, table, rename, shared, True)


def _rewrite(body: list, table: dict, rename: dict, shared: _Shared, top: bool) -> list:
    """``body`` rewritten through ``table`` (expressions) and ``rename`` (assigned locals); a
    top-level Let whose value is ``shared`` already is left out, one that copies a constant or a
    local that is not reassigned is propagated."""
    out = []
    for s in body:
        s = copy.copy(s)
        for f in dataclasses.fields(s):
            v = getattr(s, f.name)
            if f.name == "var":
                continue
            if isinstance(v, Expr):
                setattr(s, f.name, _fold(replace_exprs(v, table)))
            elif isinstance(v, list):
                setattr(s, f.name, _rewrite(v, table, rename, shared, False))
        if isinstance(s, (Let, Loop)):
            original, s.var = s.var, rename.get(s.var.name, s.var)
            if top and isinstance(s, Let) and original.name in shared.once:
                if s.value in shared.values:  # computed already: reuse the local
                    table[original] = shared.values[s.value]
                    continue
                if isinstance(s.value, Const) or (isinstance(s.value, Var) and s.value.name not in shared.unstable):
                    table[original] = s.value  # a known half, or a copy (cse's): propagated
                shared.add(s.value, s.var)
        out.append(s)
    return out


def _fold(e: Expr) -> Expr:
    """``e`` with the selections on a known half resolved."""
    if isinstance(e, Select):
        cond = _fold(e.cond)
        if isinstance(cond, Const):
            return _fold(e.a if cond.value else e.b)
        return dataclasses.replace(e, cond=cond, a=_fold(e.a), b=_fold(e.b))
    return map_children(e, _fold)
