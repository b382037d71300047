"""User functions ``f(x, y) = expr : float, float, float``.

A function is a pure one-line expression of its arguments; it is kept as a
sympy body and inlined at each call site (see ``expressions._Builder``).
"""
from __future__ import annotations

import re
from typing import Optional

import sympy

from anncompiler.errors import EquationSyntaxError, ModelError
from anncompiler.ir.model import Function
from anncompiler.parser.builtins import RESERVED, TO_BOOL, TO_INT
from anncompiler.parser.expressions import Context, to_sympy
from anncompiler.parser.lines import check_parens

_HEAD_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(([^()]*)\)\s*=(?!=)(.*)$", re.S)
_NAME_RE = re.compile(r"^[A-Za-z_]\w*$")
_TYPES = {"float": "float", "double": "float", "int": "int", "bool": "bool"}


def _collides(name: str) -> bool:
    return name in RESERVED or hasattr(sympy, name) or name in ("pre", "post", "g_target")


def parse_function(text: str, model: str = "functions", known: Optional[dict] = None) -> Function:
    """Parse one function definition; ``known`` functions may be called in its body."""
    source = text.split("#", 1)[0].strip()
    ctx = Context(model=model, source=source, functions=dict(known or {}))
    col = check_parens(source)
    if col is not None:
        raise ctx.error(EquationSyntaxError, "unbalanced parenthesis", column=col)
    types: tuple = ()
    k = source.rfind(":")
    if k >= 0:
        items = [s.strip() for s in source[k + 1:].split(",")]
        if items and all(s in _TYPES for s in items):
            types = tuple(_TYPES[s] for s in items)
            source_body = source[:k]
        else:
            source_body = source
    else:
        source_body = source
    m = _HEAD_RE.match(source_body)
    if not m:
        raise ctx.error(EquationSyntaxError, "a function is written 'name(x, y) = expression'")
    name, argtext, body = m.group(1), m.group(2), m.group(3)
    if _collides(name):
        raise ctx.error(ModelError, f"function name '{name}' collides with a built-in or sympy name",
                        name=name, column=source.find(name))
    args = tuple(a.strip() for a in argtext.split(",")) if argtext.strip() else ()
    for a in args:
        if not _NAME_RE.match(a):
            raise ctx.error(EquationSyntaxError, f"bad argument name '{a}' in function '{name}'", name=a)
    if len(set(args)) != len(args):
        raise ctx.error(EquationSyntaxError, f"function '{name}' repeats an argument name", name=name)
    if types and len(types) != len(args) + 1:
        raise ctx.error(ModelError, f"function '{name}' needs {len(args) + 1} types "
                        f"(return type first, then one per argument), {len(types)} given", name=name)
    ctx.functions.pop(name, None)  # no recursion
    expr = to_sympy(body, ctx)
    if types:  # C conversions of a typed function: int truncates, bool is != 0
        conv = {"int": TO_INT, "bool": TO_BOOL}
        sub = {sympy.Symbol(a): conv[t](sympy.Symbol(a)) for a, t in zip(args, types[1:]) if t in conv}
        if sub:
            expr = expr.subs(sub, simultaneous=True)
        if types[0] in conv:
            expr = conv[types[0]](expr)
    return Function(name=name, args=args, body=expr, types=types, source=source)


def parse_functions(text, model: str, global_functions: Optional[dict] = None) -> dict:
    """A model's ``functions=`` text (one per line) -> dict; model functions shadow global ones."""
    known = dict(global_functions or {})
    own: dict = {}
    if not text:
        return own
    if not isinstance(text, str):
        text = "\n".join(text)
    for line in text.splitlines():
        if not line.split("#", 1)[0].strip():
            continue
        f = parse_function(line, model, known)
        if f.name in own:
            raise ModelError(f"function '{f.name}' is defined twice", model=model,
                             equation=f.source, name=f.name)
        own[f.name] = f
        known[f.name] = f
    return own
