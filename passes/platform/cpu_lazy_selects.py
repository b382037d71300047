"""``cpu-lazy-selects``: the costly arm of a ``select`` computed only when it is taken.

A ``select(c, a, b)`` evaluates both arms (ir/kernel.py).  In a loop that calls a scalar math
function (``tanh``, ``exp``, ...) the CPU backend cannot vectorise anyway, and evaluating an arm
that is not taken is pure loss: ``r = if constant == 0: tanh(x) else: tanh(constant)`` calls
``tanh`` twice per neuron, ``noise = if perturbation > 0.5: A * Uniform(-1, 1) else: 0`` draws a
Philox number per neuron that 99.7 % of them throw away.  In such a loop this pass turns a
select with a costly arm (a math call, or more than ``min_ops`` operations counting the locals
that only that arm uses) into an ``if``/``else`` that computes only the arm taken, and moves the
locals that only that arm reads into its branch.

The operations of the arm taken are the same, on the same values (a local moves only when no
store between its old and its new place writes an array it reads), so are the bits.  Loops
without a math call are left alone: there the select keeps the loop vectorisable.
"""
from __future__ import annotations

import dataclasses

from anncompiler.ir.kernel import (Accumulate, Append, BinOp, Call, Const, Expr, If, Let, Load, Loop, Reduce,
                                   Select, Store, Var, replace_exprs, stmt_exprs, walk_expr, walk_stmts)
from anncompiler.ir.types import BOOL, is_float

from ..manager import Pass, register_pass

#: math functions that are scalar library calls on the CPU (not one vector instruction)
COSTLY_CALLS = frozenset({"exp", "log", "log10", "log2", "sin", "cos", "tan", "asin", "acos", "atan",
                          "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "atan2"})


def _is_costly(e: Expr) -> bool:
    return (isinstance(e, Call) and e.fn in COSTLY_CALLS) or (isinstance(e, BinOp) and e.op == "pow")


def _names(e: Expr) -> set:
    return {x.name for x in walk_expr(e) if isinstance(x, Var)}


def _loaded(e: Expr) -> set:
    return {x.array for x in walk_expr(e) if isinstance(x, Load)}


def _stored(s) -> set:
    return {t.array for t in walk_stmts([s]) if isinstance(t, (Store, Accumulate, Append))} | \
        {t.counter for t in walk_stmts([s]) if isinstance(t, Append)}


def _zero(dtype) -> Const:
    if dtype == BOOL:
        return Const(False, BOOL)
    return Const(0.0 if is_float(dtype) else 0, dtype)


def _all_exprs(s) -> list:
    return [e for t in walk_stmts([s]) for e in stmt_exprs(t)]


def _drop_dead_lets(kernel_body: list, body: list) -> None:
    """Remove from ``body`` the ``let`` statements whose local nothing in the kernel reads (the
    unused words of a Philox block): a dead local would pin the locals it reads in place."""
    while True:
        read = {x.name for t in walk_stmts(kernel_body) for e in stmt_exprs(t) for x in walk_expr(e)
                if isinstance(x, Var)}
        dead = [j for j, t in enumerate(body) if isinstance(t, Let) and t.var.name not in read]
        if not dead:
            return
        for j in reversed(dead):
            del body[j]


@register_pass
class CPULazySelects(Pass):
    """In loops that call a scalar math function, a select with a costly arm becomes an if/else."""
    name = "cpu-lazy-selects"
    stage = "kernel"
    min_ops: int = 24

    def __post_init__(self):
        self.require_at_least(min_ops=1)

    def run(self, module):
        counter = [0]
        for k in module.kernels.kernels:
            for s in walk_stmts(k.body):
                if isinstance(s, Loop) and self._eligible(s):
                    _drop_dead_lets(k.body, s.body)
                    s.body[:] = self._rewrite_body(s.body, counter)

    @staticmethod
    def _eligible(loop: Loop) -> bool:
        """An innermost loop (no nested loop or fold) that already calls a costly function."""
        if any(isinstance(t, (Loop, Reduce)) for t in walk_stmts(loop.body)):
            return False
        return any(_is_costly(x) for s in loop.body for e in _all_exprs(s) for x in walk_expr(e))

    def _rewrite_body(self, body: list, counter: list) -> list:
        body = list(body)
        i = 0
        while i < len(body):
            s = body[i]
            if isinstance(s, (Let, Store)):
                select = self._costly_select(body, i)
                if select is not None:
                    sel, sinks = select
                    moved_reads = set().union(*(_names(body[j].value) for j in sinks[sel.a] + sinks[sel.b]))
                    own = s.var if isinstance(s, Let) else None
                    if own is not None and s.value == sel and own.name not in _names(sel) | moved_reads:
                        var = own  # ``x = select(...)``: the branches assign x itself
                    else:
                        counter[0] += 1
                        var = Var(f"_lazy{counter[0]}", sel.dtype)
                    branches = []
                    for arm in (sel.a, sel.b):
                        moved = [body[j] for j in sorted(sinks[arm])]
                        branches.append(moved + [Let(var, arm)])
                    gone = set(sinks[sel.a]) | set(sinks[sel.b])
                    replacement = [Let(var, _zero(var.dtype)), If(sel.cond, branches[0], branches[1])]
                    if var is not own:
                        replacement.append(dataclasses.replace(s, value=replace_exprs(s.value, {sel: var})))
                    body = [t for j, t in enumerate(body[:i]) if j not in gone] + replacement + body[i + 1:]
                    i = i - len(gone) + len(replacement) - (var is not own)  # look at the statement again
                    continue
            i += 1
        return body

    def _costly_select(self, body: list, i: int):
        """The first select of ``body[i]``'s value with a costly arm, and for each arm the indices
        of the locals that may move into it; None if there is none."""
        for sel in walk_expr(body[i].value):
            if not isinstance(sel, Select):
                continue
            sinks = {arm: self._sinkable(body, i, sel, arm) for arm in (sel.a, sel.b)}
            for arm in (sel.a, sel.b):
                if self._costly(body, arm, sinks[arm]):
                    return sel, sinks
        return None

    def _costly(self, body: list, arm: Expr, sunk: list) -> bool:
        exprs = [arm] + [body[j].value for j in sunk]
        nodes = [x for e in exprs for x in walk_expr(e)]
        return any(_is_costly(x) for x in nodes) or len(nodes) > self.min_ops

    def _sinkable(self, body: list, i: int, sel: Select, arm: Expr) -> list:
        """Indices (before ``i``) of the ``let`` statements whose locals only ``arm`` reads (directly
        or through other such locals), defined once, and reading no array stored before ``i``."""
        other = sel.b if arm is sel.a else sel.a
        rest = replace_exprs(body[i].value, {sel: Var("_lazy_hole", sel.dtype)})
        # every read of a local outside ``arm`` pins it (the statement's other operands, the
        # condition, the other arm, every other statement of the body)
        outside_reads: dict[int, set] = {}
        for j, t in enumerate(body):
            if j != i:
                outside_reads[j] = set().union(*(_names(e) for e in _all_exprs(t)))
        pinned = _names(rest) | _names(sel.cond) | _names(other)
        if isinstance(body[i], Store):
            pinned |= _names(body[i].index)
        defs: dict[str, list] = {}
        for j, t in enumerate(body):
            for t2 in walk_stmts([t]):
                if isinstance(t2, Let):
                    defs.setdefault(t2.var.name, []).append(j)
        wanted = set(_names(arm))
        chosen: list = []
        for j in range(i - 1, -1, -1):
            t = body[j]
            if not isinstance(t, Let) or t.var.name not in wanted or len(defs[t.var.name]) != 1:
                continue
            name = t.var.name
            if name in pinned:
                continue
            readers = [r for r, names in outside_reads.items() if name in names and r != j]
            if any(r not in chosen for r in readers):
                continue
            written_between = set().union(*(_stored(body[m]) for m in range(j + 1, i))) if j + 1 < i else set()
            if _loaded(t.value) & written_between:
                continue
            # a local it reads, assigned again by a statement that stays between: it would see that value
            reassigned = {t2.var.name for m in range(j + 1, i) if m not in chosen
                          for t2 in walk_stmts([body[m]]) if isinstance(t2, Let)}
            if _names(t.value) & reassigned:
                continue
            chosen.append(j)
            wanted |= _names(t.value)
        return chosen
