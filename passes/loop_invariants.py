"""``hoist-invariants``: loop-invariant code motion on kernel IR.

A per-synapse update recomputes, for every synapse of a row, terms that depend only on the post
neuron (``post.x``, semiglobal variables) or only on globals (``learning_phase < 0.5``,
``delta_x[post]**3``).  This pass computes each such term once, into a local just before the
loop.  It moves whole expressions, unchanged, so the results keep their bits.

An expression is invariant in a loop when the locals it reads are defined outside the loop and
the arrays it reads are not written inside it (stores, accumulations, appends, at any depth).
Loops at the top level of a kernel are left alone (the statements before them have a meaning for
the platform passes: a partitioned kernel runs them on one thread); so are expressions inside an
``if`` of the loop body (hoisted, they would run where the ``if`` skipped them).  A hoisted
expression runs even when the loop has no iteration, so it must never fault: its loads read
indices that are constants or locals defined outside the loop (a row's post rank, element 0 of a
global), and integer divisions (undefined for a zero divisor on native targets) stay where they
are unless the divisor is a non-zero constant.  Only expressions that compute something are
hoisted (not a constant, a local, a cast of one, or a plain load such as ``w[0]``).
"""
from __future__ import annotations


from anncompiler.ir.kernel import (Accumulate, AnyOf, Append, BinOp, Cast, Const, Expr, If, Let, Load, Loop,
                                   Reduce, Store, Var, walk_expr, walk_stmts)
from anncompiler.ir.types import is_float

from .manager import Pass, register_pass
from .rewrite import map_children
from .platform.guards import top_level

#: statement fields holding expressions that run once per iteration of the enclosing loop
_FIELDS = {Let: ("value",), Store: ("index", "value"), Accumulate: ("index", "value"), Append: ("value",),
           If: ("cond",), Loop: ("start", "stop"), Reduce: ("start", "stop")}


def _loop_writes(body: list) -> tuple[set, set]:
    """Arrays and locals written anywhere in ``body``."""
    arrays, names = set(), set()
    for s in walk_stmts(body):
        if isinstance(s, (Store, Accumulate)):
            arrays.add(s.array)
        elif isinstance(s, Append):
            arrays |= {s.array, s.counter}
        elif isinstance(s, Let):
            names.add(s.var.name)
        elif isinstance(s, Loop):
            names.add(s.var.name)
        elif isinstance(s, Reduce):
            names |= {s.acc.name, s.var.name}
    return arrays, names


class _Hoister:
    def __init__(self):
        self.counter = 0

    def fresh(self, dtype) -> Var:
        self.counter += 1
        return Var(f"_inv{self.counter}", dtype)

    def kernel(self, body: list) -> list:
        """Top-level loops (also under a kernel-wide guard) stay where they are; loops nested in
        them are treated."""
        for s in top_level(body):
            for b in s.bodies():
                b[:] = self.body(b)
        return body

    def body(self, body: list) -> list:
        out = []
        for s in body:
            for b in s.bodies():
                b[:] = self.body(b)  # inner loops first: what they hoist may move further out
            if isinstance(s, Loop):
                out += self.hoist(s)
            out.append(s)
        return out

    def hoist(self, loop: Loop) -> list:
        """The ``Let`` statements computing the invariants of ``loop``'s body; rewrites the body."""
        arrays, names = _loop_writes(loop.body)
        names.add(loop.var.name)
        table: dict[Expr, Var] = {}
        lets: list = []

        def invariant(e: Expr) -> bool:
            for x in walk_expr(e):
                if isinstance(x, Var) and x.name in names:
                    return False
                if isinstance(x, (Load, AnyOf)) and x.array in arrays:
                    return False
                if isinstance(x, Load) and not isinstance(x.index, (Const, Var)) and not _cast_of_local(x.index):
                    return False  # an index computed here may be valid only when the loop runs
                if isinstance(x, AnyOf) and not isinstance(x.start, (Const, Var)):
                    return False
                if (isinstance(x, BinOp) and x.op in ("/", "%") and not is_float(x.dtype)
                        and not (isinstance(x.b, Const) and x.b.value != 0)):
                    return False
            return True

        def visit(e: Expr) -> Expr:
            if isinstance(e, (Const, Var)) or _cast_of_local(e):
                return e
            if e in table:
                return table[e]
            if invariant(e) and not _plain_load(e):
                var = self.fresh(e.dtype)
                table[e] = var
                lets.append(Let(var, e))
                return var
            return map_children(e, visit)

        for s in loop.body:
            fields = _FIELDS.get(type(s), ())
            for name in fields:
                setattr(s, name, visit(getattr(s, name)))
        return lets


def _plain_load(e: Expr) -> bool:
    """A load at a constant or a local: every backend keeps it in a register by itself (the
    arrays do not alias), and the dumps stay readable."""
    return isinstance(e, Load) and (isinstance(e.index, (Const, Var)) or _cast_of_local(e.index))


def _cast_of_local(e: Expr) -> bool:
    return isinstance(e, Cast) and isinstance(e.a, (Const, Var))


def hoist_invariants(km) -> None:
    for k in km.kernels:
        k.body = _Hoister().kernel(k.body)


@register_pass
class HoistInvariants(Pass):
    """Compute the loop-invariant terms of nested loops once, before the loop."""
    name = "hoist-invariants"
    stage = "kernel"

    def run(self, module):
        if module.kernels is not None:
            hoist_invariants(module.kernels)

