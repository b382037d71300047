"""Rebuilding kernel-IR expressions: the one helper every expression rewrite shares."""
from __future__ import annotations

import dataclasses

from anncompiler.ir.kernel import Expr


def map_children(e: Expr, fn) -> Expr:
    """``e`` with ``fn`` applied to each direct child expression (also inside tuples of them);
    ``e`` itself when no child changed, so unchanged trees keep their identity."""
    changes = {}
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        if isinstance(v, Expr):
            nv = fn(v)
        elif isinstance(v, tuple) and v and isinstance(v[0], Expr):
            nv = tuple(fn(x) for x in v)
            if all(a is b for a, b in zip(nv, v)):
                continue
        else:
            continue
        if nv is not v:
            changes[f.name] = nv
    return dataclasses.replace(e, **changes) if changes else e
