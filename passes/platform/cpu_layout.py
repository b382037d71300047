"""``cpu-narrow-ranks``: pre-synaptic ranks stored in 16 bits when they fit.

A sparse rate-coded row streams its weights and its pre ranks: with ranks of populations under
65536 neurons in 16 bits, 10 bytes per synapse instead of 12.  A spike propagation through the
out-synapse storage streams the post ranks ``*.out_post`` (``lowering/outgoing.py``): the same.
Only the storage changes: every load of the array reads a ``u16`` that the code widens as before.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from anncompiler.ir.kernel import Expr, Load, replace_exprs, stmt_exprs, walk_expr, walk_stmts
from anncompiler.ir.types import I32, U16

from ..manager import Pass, register_pass


@register_pass
class CPUNarrowRanks(Pass):
    """Store ``*.pre_ranks`` and ``*.out_post`` connectivity arrays whose values fit in 16 bits as ``u16``."""
    name = "cpu-narrow-ranks"
    stage = "kernel"

    def run(self, module):
        km = module.kernels
        narrowed = set()
        for decl in km.arrays.values():
            if decl.kind != "connectivity" or not decl.name.endswith((".pre_ranks", ".out_post")) \
                    or decl.dtype != I32:
                continue
            values = np.asarray(decl.init)
            if values.size and 0 <= values.min() and values.max() < 1 << 16:
                decl.dtype, decl.init = U16, values.astype(np.uint16)
                narrowed.add(decl.name)
        if narrowed:
            for k in km.kernels:
                _retype(k.body, narrowed)


def _retype(body: list, arrays: set) -> None:
    """Every load of ``arrays`` typed ``u16`` (statements are rewritten in place)."""
    def fix(e: Expr) -> Expr:
        table = {x: dataclasses.replace(x, dtype=U16) for x in walk_expr(e)
                 if isinstance(x, Load) and x.array in arrays and x.dtype != U16}
        return replace_exprs(e, table) if table else e

    for s in walk_stmts(body):
        for f in dataclasses.fields(s):
            value = getattr(s, f.name)
            if isinstance(value, Expr) and value in stmt_exprs(s):
                setattr(s, f.name, fix(value))
