"""``cse``: common subexpression elimination on kernel IR.

Two rewrites, both safe under stores: (1) a subexpression that occurs twice
or more in one statement is computed once into a local just before it;
(2) a later statement reuses a local whose value expression it repeats, as
long as no store to an array it reads and no reassignment of a local it uses
happened in between.  LLVM would find most of this too; doing it here keeps
the reference backend fast and the dumps readable.
"""
from __future__ import annotations

from collections import Counter

from anncompiler.ir.kernel import (Cast, Const, Expr, If, Let, Load, Loop, Prefetch, Store, Var, replace_exprs,
                                   walk_expr, walk_stmts)

from .manager import Pass, register_pass


def _trivial(e: Expr) -> bool:
    return isinstance(e, (Const, Var)) or (isinstance(e, (Load, Cast)) and isinstance(e.children()[0], (Const, Var)))


_replace = replace_exprs


def _reads(e: Expr) -> tuple[set, set]:
    arrays, names = set(), set()
    for x in walk_expr(e):
        if isinstance(x, Load):
            arrays.add(x.array)
        elif isinstance(x, Var):
            names.add(x.name)
    return arrays, names


def _written(body) -> tuple[set, set]:
    arrays, names = set(), set()
    for s in walk_stmts(body):
        if isinstance(s, Store):
            arrays.add(s.array)
        elif isinstance(s, Let):
            names.add(s.var.name)
        elif isinstance(s, Loop):
            names.add(s.var.name)
    return arrays, names


class _CSE:
    def __init__(self):
        self.counter = 0
        # reverse indexes of every expression ever made available: array / local name -> exprs
        # reading it (or, for names, assigned to it); kill() looks only at those (a superset)
        self.by_array: dict[str, set] = {}
        self.by_name: dict[str, set] = {}

    def fresh(self, dtype) -> Var:
        self.counter += 1
        return Var(f"_cse{self.counter}", dtype)

    def kill(self, avail: dict, arrays: set, names: set) -> None:
        candidates = set()
        for a in arrays:
            candidates |= self.by_array.get(a, set())
        for n in names:
            candidates |= self.by_name.get(n, set())
        for expr in candidates:
            if expr in avail:
                a, n = _reads(expr)
                if a & arrays or n & names or avail[expr].name in names:
                    del avail[expr]

    def make_available(self, avail: dict, expr: Expr, var: Var) -> None:
        avail[expr] = var
        arrays, names = _reads(expr)
        for a in arrays:
            self.by_array.setdefault(a, set()).add(expr)
        for n in names | {var.name}:
            self.by_name.setdefault(n, set()).add(expr)

    def statement_exprs(self, s, table):
        if isinstance(s, Let):
            s.value = _replace(s.value, table)
        elif isinstance(s, Store):
            s.index, s.value = _replace(s.index, table), _replace(s.value, table)
        elif isinstance(s, If):
            s.cond = _replace(s.cond, table)
        elif isinstance(s, Loop):
            s.start, s.stop = _replace(s.start, table), _replace(s.stop, table)
        elif isinstance(s, Prefetch):
            s.index = _replace(s.index, table)

    def exprs_of(self, s):
        return {Let: lambda: [s.value], Store: lambda: [s.index, s.value], If: lambda: [s.cond],
                Loop: lambda: [s.start, s.stop], Prefetch: lambda: [s.index]}.get(type(s), lambda: [])()

    def body(self, body: list, avail: dict) -> list:
        out = []
        for s in body:
            self.statement_exprs(s, avail)
            counts = Counter(x for e in self.exprs_of(s) for x in walk_expr(e) if not _trivial(x))
            local = {}
            for expr, n in sorted(counts.items(), key=lambda kv: len(list(walk_expr(kv[0])))):
                if n > 1 and expr not in local:
                    rewritten = _replace(expr, local)
                    var = self.fresh(expr.dtype)
                    out.append(Let(var, rewritten))
                    local[expr] = var
            if local:
                self.statement_exprs(s, local)
            if isinstance(s, Loop):
                arrays, names = _written(s.body)
                names.add(s.var.name)
                self.kill(avail, arrays, names)
                s.body = self.body(s.body, dict(avail))
                self.kill(avail, arrays, names)
            elif isinstance(s, If):
                s.then = self.body(s.then, dict(avail))
                s.orelse = self.body(s.orelse, dict(avail))
                self.kill(avail, *_written(s.then + s.orelse))
            elif isinstance(s, Store):
                self.kill(avail, {s.array}, set())
            elif isinstance(s, Let):
                self.kill(avail, set(), {s.var.name})
                if not _trivial(s.value) and s.var.name not in _reads(s.value)[1]:
                    self.make_available(avail, s.value, s.var)
            out.append(s)
        return out


def eliminate_common_subexpressions(km) -> None:
    for k in km.kernels:
        k.body = _CSE().body(k.body, {})


@register_pass
class CSE(Pass):
    name = "cse"
    stage = "kernel"

    def run(self, module):
        if module.kernels is not None:
            eliminate_common_subexpressions(module.kernels)
