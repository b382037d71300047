"""``cse``: common subexpression elimination on kernel IR.

Two rewrites, both safe under stores: (1) a subexpression that occurs twice
or more in one statement is computed once into a local just before it;
(2) a later statement reuses a local whose value expression it repeats, as
long as no store to an array it reads and no reassignment of a local it uses
happened in between.  LLVM would find most of this too; doing it here keeps
the reference backend fast and the dumps readable.

Linear in the size of the kernel IR: every expression node gets a number
once (equal expressions, equal numbers), so that counting, sizes and table
look-ups never re-walk or re-hash a subtree.  Append, Accumulate and Reduce
are left as they are (a Reduce's ``value`` runs inside its fold, with its
variable bound); they only end what is available, as stores do.
"""
from __future__ import annotations

import dataclasses

from anncompiler.ir.kernel import (Accumulate, AnyOf, Append, Cast, Const, Expr, If, Let, Load, Loop, Prefetch,
                                   Reduce, Store, Var)

from .manager import Pass, register_pass

_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _trivial(e: Expr) -> bool:
    return isinstance(e, (Const, Var)) or (isinstance(e, (Load, Cast)) and isinstance(e.children()[0], (Const, Var)))


def _exprs_of(s) -> tuple[str, ...]:
    """The fields of a statement that cse rewrites (none of Append, Accumulate, Reduce)."""
    return {Let: ("value",), Store: ("index", "value"), If: ("cond",), Loop: ("start", "stop"),
            Prefetch: ("index",)}.get(type(s), ())


class _Numbering:
    """Hash-consing: equal expressions get the same number, each object is numbered once."""

    def __init__(self):
        self.ids: dict[tuple, int] = {}
        self.memo: dict[int, tuple[Expr, int]] = {}  # id(object) -> (object kept alive, number)
        self.size: list[int] = []
        self.expr: list[Expr] = []

    def number(self, e: Expr) -> int:
        hit = self.memo.get(id(e))
        if hit is not None:
            return hit[1]
        key, size = [type(e)], 1
        for name in _fields(type(e)):
            v = getattr(e, name)
            if isinstance(v, Expr):
                v = self.number(v)
                size += self.size[v]
            elif isinstance(v, tuple) and v and isinstance(v[0], Expr):
                v = tuple(self.number(x) for x in v)
                size += sum(self.size[x] for x in v)
            key.append(v)
        key = tuple(key)
        n = self.ids.get(key)
        if n is None:
            n = self.ids[key] = len(self.expr)
            self.size.append(size)
            self.expr.append(e)
        self.memo[id(e)] = (e, n)
        return n

    def replace(self, e: Expr, table: dict[int, Var]) -> Expr:
        """``e`` with every subexpression numbered in ``table`` replaced by its local."""
        if not table:
            return e
        hit = table.get(self.number(e))
        if hit is not None:
            return hit
        changes = {}
        for name in _fields(type(e)):
            v = getattr(e, name)
            if isinstance(v, Expr):
                nv = self.replace(v, table)
            elif isinstance(v, tuple) and v and isinstance(v[0], Expr):
                nv = tuple(self.replace(x, table) for x in v)
                if all(a is b for a, b in zip(nv, v)):
                    continue
            else:
                continue
            if nv is not v:
                changes[name] = nv
        return dataclasses.replace(e, **changes) if changes else e

    def count(self, e: Expr, counts: dict[int, int]) -> None:
        """Occurrences of every non-trivial subexpression of ``e`` (in first-seen pre-order)."""
        if not _trivial(e):
            n = self.number(e)
            counts[n] = counts.get(n, 0) + 1
        for c in e.children():
            self.count(c, counts)


def _reads(e: Expr, arrays: set, names: set) -> None:
    if isinstance(e, Load):
        arrays.add(e.array)
    elif isinstance(e, AnyOf):
        arrays.add(e.array)
    elif isinstance(e, Var):
        names.add(e.name)
    for c in e.children():
        _reads(c, arrays, names)


def _writes(s) -> tuple[set, set]:
    """Arrays and locals a statement writes (its own write, not its nested bodies')."""
    if isinstance(s, Store) or isinstance(s, Accumulate):
        return {s.array}, set()
    if isinstance(s, Append):
        return {s.array, s.counter}, set()
    if isinstance(s, Let):
        return set(), {s.var.name}
    if isinstance(s, Loop):
        return set(), {s.var.name}
    if isinstance(s, Reduce):
        return set(), {s.acc.name, s.var.name}
    return set(), set()


class _Available:
    """The expressions computed into locals that a statement may reuse, indexed by what ends them."""

    def __init__(self, parent: "_Available | None" = None):
        if parent is None:
            self.table: dict[int, Var] = {}
            self.by_array: dict[str, set] = {}
            self.by_name: dict[str, set] = {}
        else:
            live = parent.table
            self.table = dict(live)
            self.by_array = {a: {n for n in s if n in live} for a, s in parent.by_array.items()}
            self.by_name = {a: {n for n in s if n in live} for a, s in parent.by_name.items()}

    def add(self, n: int, value: Expr, var: Var) -> None:
        self.table[n] = var
        arrays, names = set(), {var.name}
        _reads(value, arrays, names)
        for a in arrays:
            self.by_array.setdefault(a, set()).add(n)
        for name in names:
            self.by_name.setdefault(name, set()).add(n)

    def kill(self, arrays, names) -> None:
        for index, keys in ((self.by_array, arrays), (self.by_name, names)):
            for k in keys:
                for n in index.pop(k, ()):
                    self.table.pop(n, None)


class _CSE:
    def __init__(self):
        self.counter = 0
        self.numbers = _Numbering()
        self.written: dict[int, tuple[set, set]] = {}  # id(statement with bodies) -> what its bodies write

    def fresh(self, dtype) -> Var:
        self.counter += 1
        return Var(f"_cse{self.counter}", dtype)

    def body_writes(self, s) -> tuple[set, set]:
        """Arrays and locals written anywhere in the nested bodies of ``s`` (computed once per statement)."""
        hit = self.written.get(id(s))
        if hit is None:
            arrays, names = set(), set()
            for b in s.bodies():
                for t in b:
                    a, n = _writes(t)
                    arrays |= a
                    names |= n
                    if t.bodies():
                        a, n = self.body_writes(t)
                        arrays |= a
                        names |= n
            hit = self.written[id(s)] = (arrays, names)
        return hit

    def rewrite(self, s, table: dict) -> None:
        for name in _exprs_of(s):
            setattr(s, name, self.numbers.replace(getattr(s, name), table))

    def body(self, body: list, avail: _Available) -> list:
        nb = self.numbers
        out = []
        for s in body:
            self.rewrite(s, avail.table)
            counts: dict[int, int] = {}
            for name in _exprs_of(s):
                nb.count(getattr(s, name), counts)
            repeated = sorted((n for n, c in counts.items() if c > 1), key=lambda n: nb.size[n])
            local = {}
            for n in repeated:
                var = self.fresh(nb.expr[n].dtype)
                out.append(Let(var, nb.replace(nb.expr[n], local)))
                local[n] = var
            if local:
                self.rewrite(s, local)
            if isinstance(s, Loop):
                arrays, names = self.body_writes(s)
                avail.kill(arrays, names | {s.var.name})
                s.body = self.body(s.body, _Available(avail))
            elif isinstance(s, If):
                s.then = self.body(s.then, _Available(avail))
                s.orelse = self.body(s.orelse, _Available(avail))
                avail.kill(*self.body_writes(s))
            elif isinstance(s, Let):
                avail.kill((), (s.var.name,))
                if not _trivial(s.value):
                    arrays, names = set(), set()
                    _reads(s.value, arrays, names)
                    if s.var.name not in names:
                        avail.add(nb.number(s.value), s.value, s.var)
            else:
                avail.kill(*_writes(s))
            out.append(s)
        return out


def eliminate_common_subexpressions(km) -> None:
    for k in km.kernels:
        k.body = _CSE().body(k.body, _Available())


@register_pass
class CSE(Pass):
    """Compute repeated subexpressions of kernels once (within a statement and across statements)."""
    name = "cse"
    stage = "kernel"

    def run(self, module):
        if module.kernels is not None:
            eliminate_common_subexpressions(module.kernels)
