"""Semantic checks on parsed expressions: unknown names and locality rules."""
from __future__ import annotations

import re

import sympy
from sympy.core.function import AppliedUndef

from anncompiler.errors import LocalityError, ModelError, UnknownNameError
from anncompiler.parser.builtins import GLOBAL_OP_NAMES
from anncompiler.parser.expressions import Context

_SUM_RE = re.compile(r"^sum\(\w*\)$")
_REMOTE_RE = re.compile(r"^(pre|post)\.")


def global_ops(expr) -> list:
    """Applications of mean/gmax/gmin/norm1/norm2 inside ``expr``."""
    if not isinstance(expr, sympy.Basic):
        return []
    return [a for a in expr.atoms(AppliedUndef) if a.func.__name__ in GLOBAL_OP_NAMES]


def without_global_ops(expr):
    """``expr`` with global operations hidden: they read the previous step, not a local value."""
    ops = global_ops(expr)
    return expr.xreplace({a: sympy.Dummy() for a in ops}) if ops else expr


def symbol_names(expr) -> set:
    if not isinstance(expr, sympy.Basic):
        return set()
    return {s.name for s in expr.free_symbols if isinstance(s, sympy.Symbol) and not isinstance(s, sympy.Dummy)}


def check_names(expr, ctx: Context, allowed, kind: str) -> None:
    """Raise UnknownNameError for a free symbol that means nothing here."""
    for name in sorted(symbol_names(expr)):
        if name in allowed:
            continue
        if kind == "neuron" and _SUM_RE.match(name):
            continue
        if kind == "synapse" and _REMOTE_RE.match(name):
            continue
        hint = ""
        if _REMOTE_RE.match(name):
            hint = " (pre./post. are only available in synapses)"
        elif _SUM_RE.match(name):
            hint = " (sum() is only available in neurons)"
        raise ctx.error(UnknownNameError, f"unknown name '{name}'{hint}", name=name,
                        column=_column(ctx.source, name))


def _column(source: str, name: str):
    m = re.search(r"(?<![\w.])" + re.escape(name.split("(")[0]) + r"(?!\w)", source or "")
    return m.start() if m else None


def check_global_op_args(expr, ctx: Context, attributes: dict, kind: str) -> None:
    """Neurons: global operations of a local attribute; synapses: of pre.x / post.x only."""
    for op in global_ops(expr):
        arg = op.args[0] if op.args else None
        name = arg.name if isinstance(arg, sympy.Symbol) else str(arg)
        if kind == "synapse":
            if not _REMOTE_RE.match(name):
                raise ctx.error(ModelError, f"global operations in synapses apply to pre.x or post.x only, "
                                f"not '{name}'", name=name)
        else:
            a = attributes.get(name)
            if a is None or a.locality != "local":
                raise ctx.error(ModelError, f"global operation {op.func.__name__}({name}) needs a local "
                                "attribute of the population", name=name)


def check_locality(eq, target_locality: str, ctx: Context, attributes: dict, kind: str) -> None:
    """Global (and, in synapses, semiglobal) variables may not depend on finer-grained values."""
    if target_locality == "local":
        return
    for name in sorted(symbol_names(without_global_ops(eq.rhs))):
        a = attributes.get(name)
        bad = False
        if a is not None and a is not attributes.get(eq.target):
            bad = a.locality == "local" or (target_locality == "global" and a.locality == "semiglobal")
        elif kind == "neuron":
            bad = bool(_SUM_RE.match(name)) or name == "t_last"
        else:
            bad = name.startswith("pre.") or (target_locality == "global" and name.startswith("post.")) \
                or name in ("t_pre",) or (target_locality == "global" and name == "t_post")
        if bad:
            what = "population" if kind == "neuron" else ("projection" if target_locality == "global"
                                                         else "postsynaptic")
            raise ctx.error(LocalityError, f"the {target_locality} variable '{eq.target}' ({what}) cannot "
                            f"depend on the finer-grained '{name}'", name=name,
                            column=_column(ctx.source, name))
