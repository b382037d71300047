"""``scalar-replace``: a value stored then re-read in the same iteration stays in a local.

Synaptic equations with bounds or several steps store a variable and read it back at once:
``delta_w[s] = ...; delta_w[s] = select(delta_w[s] < lo, lo, delta_w[s]); w[s] -= delta_w[s]``
loads ``delta_w[s]`` five times and stores it three times per synapse.  Within a run of
``let`` and store statements this pass keeps each stored value in a local, replaces the loads of
the same element by it, and drops a store that a later store of the same element overwrites
before anything could read it.  The element and the values are unchanged, so are the bits.

Elements are compared by their index expression: a store to another index of the same array
forgets what was known about that array (the two may be the same element) but does not revive a
dropped store; a load of the array at any other index keeps the earlier stores; a statement with
a body (loop, if), an accumulation, an append or a reduce ends the run.  A local of the index
assigned again, or a store to an array the index reads, forgets the element.
"""
from __future__ import annotations

from anncompiler.ir.kernel import (Comment, Const, Expr, Let, Load, Prefetch, Store, Var, replace_exprs, walk_expr)

from .manager import Pass, register_pass
from .platform.guards import top_level


def _names(e: Expr) -> set:
    return {x.name for x in walk_expr(e) if isinstance(x, Var)}


def _arrays(e: Expr) -> set:
    return {x.array for x in walk_expr(e) if isinstance(x, Load)}


class _Replacer:
    def __init__(self, km):
        self.km = km
        self.counter = 0

    def fresh(self, dtype) -> Var:
        self.counter += 1
        return Var(f"_sr{self.counter}", dtype)

    def body(self, body: list) -> list:
        out: list = []
        known: dict[tuple, Expr] = {}  # (array, index) -> the local (or constant) holding its value
        unread: dict[tuple, int] = {}  # (array, index) -> position in ``out`` of a store nobody read yet

        def forget(test) -> None:
            for key in [k for k in known if test(k, known[k])]:
                del known[key]
            for key in [k for k in unread if test(k, None)]:
                del unread[key]

        for s in body:
            if isinstance(s, (Comment, Prefetch)):
                out.append(s)
                continue
            if not isinstance(s, (Let, Store)):
                known.clear()
                unread.clear()
                for b in s.bodies():
                    b[:] = self.body(b)
                out.append(s)
                continue
            table = {Load(a, index, self.km.arrays[a].dtype): var for (a, index), var in known.items()}
            if isinstance(s, Let):
                s.value = replace_exprs(s.value, table) if table else s.value
                read = _arrays(s.value)
            else:
                s.index = replace_exprs(s.index, table) if table else s.index
                s.value = replace_exprs(s.value, table) if table else s.value
                read = _arrays(s.index) | _arrays(s.value)
            for key in [k for k in unread if k[0] in read]:
                del unread[key]  # read (at some index): that store must stay
            if isinstance(s, Let):
                name = s.var.name
                forget(lambda k, v: name in _names(k[1]) or (isinstance(v, Var) and v.name == name))
                out.append(s)
                continue
            key = (s.array, s.index)
            forget(lambda k, v: (k[0] == s.array and k[1] != s.index) or s.array in _arrays(k[1]))
            if key in unread:
                out[unread.pop(key)] = None  # overwritten before any read
            value = s.value
            if value.dtype == self.km.arrays[s.array].dtype:
                if not isinstance(value, (Const, Var)):
                    var = self.fresh(value.dtype)
                    out.append(Let(var, value))
                    s.value = value = var
                known[key] = value
            else:
                known.pop(key, None)
            unread[key] = len(out)
            out.append(s)
        return [s for s in out if s is not None]


def replace_scalars(km) -> None:
    """Every body nested in a kernel's statements (the top level is left as it is: platform
    passes give its statements a meaning of their own, e.g. the serial part of a kernel)."""
    for k in km.kernels:
        replacer = _Replacer(km)
        for s in top_level(k.body):
            for b in s.bodies():
                b[:] = replacer.body(b)


@register_pass
class ScalarReplace(Pass):
    """Keep stored values in locals within a run of statements; drop overwritten stores."""
    name = "scalar-replace"
    stage = "kernel"

    def run(self, module):
        if module.kernels is not None:
            replace_scalars(module.kernels)
