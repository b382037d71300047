"""Which arrays a list of kernel statements writes and reads: what a pass checks before it moves
code past other code (fusing loops, hoisting, guarding) or changes how an array is read."""
from __future__ import annotations

from .kernel import Accumulate, AnyOf, Append, Load, Prefetch, Store, stmt_exprs, walk_expr, walk_stmts


def written_arrays(body: list) -> set[str]:
    """Arrays ``body`` (nested bodies included) stores, accumulates or appends into, with the
    counter of each list it appends to."""
    out: set[str] = set()
    for s in walk_stmts(body):
        if isinstance(s, (Store, Accumulate)):
            out.add(s.array)
        elif isinstance(s, Append):
            out |= {s.array, s.counter}
    return out


def touched_arrays(body: list) -> set[str]:
    """Arrays ``body`` reads (loads, any-of tests, prefetches) or writes."""
    out = written_arrays(body)
    for s in walk_stmts(body):
        out |= {x.array for e in stmt_exprs(s) for x in walk_expr(e) if isinstance(x, (Load, AnyOf))}
        if isinstance(s, Prefetch):
            out.add(s.array)
    return out
