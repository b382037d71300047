"""Parameters (dict, ``Parameter`` or string form) and variable attributes from flags."""
from __future__ import annotations

import ast
import numbers
import re

import sympy

from anncompiler.errors import EquationSyntaxError, FlagError, ModelError, ReservedNameError
from anncompiler.ir.model import Attribute, GivenInit, RandomInit
from anncompiler.parser.builtins import DISTRIBUTION_FUNCS, RESERVED
from anncompiler.parser.expressions import Context, to_sympy
from anncompiler.parser.lines import assignment_ops, split_statements

_NAME_RE = re.compile(r"^[A-Za-z_]\w*$")
_OBJ_RE = re.compile(r"^__obj(\d+)__$")
_CALL_RE = re.compile(r"^([A-Za-z_]\w*)\s*\((.*)\)$", re.S)
_DEFAULT_INIT = {"float": 0.0, "int": 0, "bool": False}


def check_name(name: str, ctx: Context, extra_reserved=()) -> None:
    """Attribute names must be identifiers and not reserved."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ctx.error(EquationSyntaxError, f"'{name}' is not a valid attribute name", name=str(name))
    if name in RESERVED or name in extra_reserved:
        raise ctx.error(ReservedNameError, f"'{name}' is a reserved name and cannot be an attribute",
                        name=name, column=ctx.column_of(name))


def locality_of(flags: dict, kind: str, ctx: Context, default: str = "local") -> str:
    if "postsynaptic" in flags:
        if kind == "neuron":
            raise ctx.error(FlagError, "'postsynaptic' is a synapse flag; use 'population' in neurons",
                            name="postsynaptic")
        return "semiglobal"
    if "projection" in flags:
        if kind == "neuron":
            raise ctx.error(FlagError, "'projection' is a synapse flag; use 'population' in neurons",
                            name="projection")
        return "global"
    if "population" in flags:
        return "global"
    return default


def type_of(flags: dict, ctx: Context, default: str = "float") -> str:
    found = [t for t in ("int", "bool", "float") if t in flags]
    if len(found) > 1:
        raise ctx.error(FlagError, f"several types given: {', '.join(found)}")
    return found[0] if found else default


def _cast(value, typ: str):
    if typ == "bool":
        return bool(value)
    if typ == "int":
        return int(value)
    return float(value)


def parse_value(text: str, typ: str, ctx: Context, objects=()):
    """A literal (number/bool), a name (-> Symbol), a distribution, or an expression."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1].strip()
    m = _OBJ_RE.match(text)
    if m and int(m.group(1)) < len(objects):
        return objects[int(m.group(1))]
    if text in ("True", "False"):
        return _cast(text == "True", typ) if typ != "float" else float(text == "True")
    try:
        return _cast(float(text), typ)
    except (ValueError, OverflowError):
        pass
    if _NAME_RE.match(text):
        return sympy.Symbol(text)
    m = _CALL_RE.match(text)
    if m and m.group(1) in DISTRIBUTION_FUNCS:
        return _distribution(m.group(1), m.group(2), text, ctx)
    expr = to_sympy(text, ctx)
    if expr.is_Number:
        return _cast(float(expr), typ)
    return expr


def _distribution(name: str, argtext: str, text: str, ctx: Context):
    """``init=Uniform(0, 1)``: a :class:`RandomInit` when its arguments are literals, else the
    symbolic call (drawn in the equations)."""
    try:
        call = ast.parse(text, mode="eval").body
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except Exception:
        return to_sympy(text, ctx)  # symbolic arguments: keep the sympy call
    if any(not isinstance(v, numbers.Real) or isinstance(v, bool) for v in args + list(kwargs.values())):
        raise ctx.error(FlagError, f"bad distribution '{text}': its arguments must be numbers")
    return RandomInit(name, tuple(float(a) for a in args), tuple(sorted((k, float(v)) for k, v in kwargs.items())))


def parse_parameters(value, kind: str, ctx: Context) -> dict:
    """All three parameter forms -> ordered dict of Attributes (role='parameter')."""
    if not value:
        return {}
    if isinstance(value, dict):
        return {name: _dict_parameter(name, v, ctx) for name, v in value.items()}
    out: dict = {}
    for stmt in split_statements(value):
        ctx.source = stmt.source
        ops = assignment_ops(stmt.body)
        if len(ops) != 1 or ops[0][1] != "=":
            raise ctx.error(EquationSyntaxError, "a parameter is written 'name = value : flags'")
        name, text = stmt.body[:ops[0][0]].strip(), stmt.body[ops[0][0] + 1:].strip()
        check_name(name, ctx)
        if not text:
            raise ctx.error(EquationSyntaxError, f"parameter '{name}' has no value", name=name)
        if name in out:
            raise ctx.error(ModelError, f"parameter '{name}' is declared twice", name=name)
        typ = type_of(stmt.flags, ctx, "bool" if text in ("True", "False") else "float")
        attr = Attribute(name, role="parameter", locality=locality_of(stmt.flags, kind, ctx), type=typ,
                         init=parse_value(text, typ, ctx), source=stmt.source)
        for key in ("min", "max"):
            if key in stmt.flags:
                setattr(attr, key, to_sympy(stmt.flags[key], ctx))
        out[name] = attr
    return out


def _is_parameter_object(v) -> bool:
    """A ``Parameter(value, locality, type)`` of the front end (read by its fields)."""
    return all(hasattr(v, f) for f in ("value", "locality", "type")) and not isinstance(v, (str, numbers.Number))


def _dict_parameter(name, v, ctx: Context) -> Attribute:
    ctx.source = f"{name}: {v!r}"
    check_name(name, ctx)
    locality, typ = "global", "float"
    if _is_parameter_object(v):
        locality, typ, v = v.locality, v.type, v.value
    elif isinstance(v, bool):
        typ = "bool"
    if isinstance(v, str):
        init = parse_value(v, typ, ctx)
    elif isinstance(v, (bool, numbers.Number)) and not isinstance(v, complex):
        init = _cast(v, typ)
    elif hasattr(v, "get_values"):  # a sampler object: per-element values the front end draws
        init = GivenInit(name)
        if locality == "global":
            locality = "local"
    else:  # an array: per-element values
        init = v
    return Attribute(name, role="parameter", locality=locality, type=typ, init=init, source=ctx.source)


def variable_attribute(name: str, stmt, kind: str, ctx: Context, old: Attribute = None) -> Attribute:
    """The Attribute of an equation target, from the statement's flags (merged into ``old``)."""
    flags = stmt.flags
    attr = old or Attribute(name, role="variable", source=stmt.source)
    if old is None or any(f in flags for f in ("population", "projection", "postsynaptic")):
        attr.locality = locality_of(flags, kind, ctx)
    if old is None or any(f in flags for f in ("int", "bool", "float")):
        attr.type = type_of(flags, ctx)
        attr.init = _DEFAULT_INIT[attr.type]
    if "init" in flags:
        attr.init = parse_value(flags["init"], attr.type, ctx, stmt.objects)
    for key in ("min", "max"):
        if key in flags:
            setattr(attr, key, to_sympy(flags[key], ctx))
    return attr
