"""Expression text -> sympy, without ``eval``.

The text is parsed with Python's ``ast`` (it is Python syntax plus ``^`` for
power), and the tree is walked with a whitelist: every identifier becomes a
plain ``Symbol`` (so ``I``, ``E``, ``S``, ``beta``... stay user names), calls
map to the built-ins of :mod:`.builtins` or are inlined user functions, and
comparisons become ``Eq``/``Ne``/relationals.  Anything else is an
EquationSyntaxError that names the equation.
"""
from __future__ import annotations

import ast
import keyword
import math
import operator
import re
import warnings
from dataclasses import dataclass, field
from typing import Optional

import sympy

from anncompiler.errors import ArityError, EquationSyntaxError, ModelError, UnknownNameError
from anncompiler.parser.builtins import BUILTINS, GLOBAL_OPS, as_condition
from anncompiler.parser.lines import check_parens
from anncompiler.ir.stable_relations import piecewise, stable_subs

GRAD = sympy.Dummy("grad")          # placeholder of dx/dt while solving an ODE
GRAD_NAME = "__grad__"
_KEEP_KEYWORDS = {"and", "or", "not", "is", "if", "else", "True", "False", "None"}
_KW_RE = re.compile(r"\b(" + "|".join(k for k in keyword.kwlist if k not in _KEEP_KEYWORDS) + r")\b")
_IF_RE = re.compile(r"\b(if|else)\b")


@dataclass
class Context:
    """Where we are (for messages) and what names mean."""
    model: Optional[str] = None
    source: str = ""
    functions: dict = field(default_factory=dict)
    targets: list = field(default_factory=list)

    def error(self, cls, msg, name=None, column=None):
        return cls(msg, model=self.model, equation=self.source or None, name=name, column=column)

    def column_of(self, text: str, start: int = 0) -> Optional[int]:
        k = self.source.find(text, start) if text else -1
        return k if k >= 0 else None


def to_sympy(text: str, ctx: Context) -> sympy.Basic:
    """Convert one right side / condition (possibly an if-block) to sympy."""
    text = text.strip()
    offset = ctx.column_of(text) or 0
    col = check_parens(text)
    if col is not None:
        raise ctx.error(EquationSyntaxError, "unbalanced parenthesis", column=offset + col)
    if not text:
        raise ctx.error(EquationSyntaxError, "empty expression")
    if _IF_RE.match(text) and text.startswith("if"):
        n_colon, n_else = text.count(":"), len(re.findall(r"\belse\b", text))
        if n_colon != 2 * n_else:
            raise ctx.error(EquationSyntaxError,
                            "malformed if-block: use 'if cond: a else: b' (each ':' needs an 'else')")
    try:
        return _real(_convert(text, ctx, offset))
    except ModelError:
        raise
    except Exception as e:  # sympy/ast failures are the user's syntax, never a raw error
        raise ctx.error(EquationSyntaxError, f"cannot parse '{text}': {type(e).__name__}: {e}") from None


def _real(expr: sympy.Basic) -> sympy.Basic:
    """Equations compute on reals, as C does: a constant sub-expression that sympy evaluates to
    a non-real number (``sqrt(-1)``, ``log(-2)``, ``(-8)**0.5``) is NaN at run time."""
    try:
        if not expr.has(sympy.I):
            return expr
        return expr.replace(lambda e: e.is_number and e.has(sympy.I), lambda e: sympy.nan)
    except RecursionError:  # a very deep expression: leave it to the later stages
        return expr


def _convert(text: str, ctx: Context, offset: int) -> sympy.Basic:
    text = text.strip()
    if text.startswith("if") and _IF_RE.match(text):
        cond, a, b = _split_if(text, ctx)
        c = _convert(cond, ctx, offset)
        return piecewise((_convert(a, ctx, offset), as_condition(c)), (_convert(b, ctx, offset), True))
    return _Builder(ctx, offset).build(text)


def _split_if(text: str, ctx: Context) -> tuple[str, str, str]:
    """``if c: a else: b`` -> (c, a, b), matching nested if/else pairs."""
    depth = [0] * (len(text) + 1)
    d = 0
    for i, ch in enumerate(text):
        d += ch == "("
        d -= ch == ")"
        depth[i + 1] = d
    colon = next((i for i, ch in enumerate(text) if ch == ":" and depth[i] == 0), -1)
    if colon < 0:
        raise ctx.error(EquationSyntaxError, "if-block without ':'")
    pending = 0
    for m in _IF_RE.finditer(text, colon + 1):
        if depth[m.start()]:
            continue
        if m.group(1) == "if":
            pending += 1
        elif pending:
            pending -= 1
        else:
            rest = text[m.end():].lstrip()
            if not rest.startswith(":"):
                raise ctx.error(EquationSyntaxError, "'else' must be followed by ':'")
            return text[2:colon], text[colon + 1:m.start()], rest[1:]
    raise ctx.error(EquationSyntaxError, "if-block without 'else'")


def _pow(a, b):
    if getattr(a, "is_Number", False) and getattr(b, "is_Number", False) and abs(b) > 100:
        # no exact (or arbitrary-precision) 9**9**9: a float, or an error
        return sympy.Float(math.pow(float(a), float(b)))
    return sympy.Pow(a, b)


#: Python's parser refuses 200 nested parentheses: deeper groups are parsed on their own
_MAX_NESTING = 100


def _hoist_groups(code: str, base: int, groups: dict) -> str:
    """``code`` with each parenthesised group that opens ``_MAX_NESTING`` deep replaced by a
    name of the same length (so that columns stay right); ``groups`` maps each name to the
    group's inside (hoisted in turn) and its column.  A call's parentheses are left alone."""
    out, depth, start, last = [], 0, -1, 0
    for i, ch in enumerate(code):
        if ch == "(":
            depth += 1
            if start < 0 and depth >= _MAX_NESTING and _opens_group(code, i):
                start, level = i, depth
        elif ch == ")":
            if start >= 0 and depth == level:
                name = f"__group{len(groups)}__"
                groups[name] = None  # the number is taken before the inner groups take theirs
                groups[name] = (_hoist_groups(code[start + 1:i], base + start + 1, groups), base + start + 1)
                out += [code[last:start], name.ljust(i + 1 - start)]
                last, start = i + 1, -1
            depth -= 1
    out.append(code[last:])
    return "".join(out)


def _opens_group(code: str, i: int) -> bool:
    before = code[:i].rstrip()
    return not before or not (before[-1].isalnum() or before[-1] in "_)]")


_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: _pow, ast.Mod: sympy.Mod,
        ast.BitAnd: sympy.And, ast.BitOr: sympy.Or}
_CHAIN = {ast.Add: sympy.Add, ast.Sub: sympy.Add}  # not Mul: 2*(x+y) distributes, Mul(2, x+y, z) not
_CMP = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge,
        ast.Eq: sympy.Eq, ast.NotEq: sympy.Ne, ast.Is: sympy.Eq, ast.IsNot: sympy.Ne}


class _Builder:
    """Walks a whitelisted Python expression tree, building sympy."""

    def __init__(self, ctx: Context, offset: int):
        self.ctx, self.offset = ctx, offset

    def fail(self, cls, msg, node=None, name=None):
        col = self.offset + node.col_offset if node is not None and hasattr(node, "col_offset") else None
        if col is None and name:
            col = self.ctx.column_of(name)
        return self.ctx.error(cls, msg, name=name, column=col)

    def build(self, text: str):
        code = _KW_RE.sub(lambda m: "__kw_" + m.group(1), text).replace("\n", " ")
        code = code.replace("^", "**")  # convert_xor: '^' is power, with its precedence
        self.text, self.exact, self.groups = text, code == text, {}
        if code.count("(") >= _MAX_NESTING:
            code = _hoist_groups(code, 0, self.groups)
        return self.visit(self._parse(code, 0))

    def _parse(self, code: str, base: int):
        """The tree of ``code``, which starts at column ``base`` of the expression."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning on odd literals
                tree = ast.parse(code, mode="eval")
        except SyntaxError as e:
            col = (self.offset + base + e.offset - 1) if e.offset and self.exact else None
            raise self.ctx.error(EquationSyntaxError, f"invalid syntax in '{self.text}'", column=col) from None
        if base:
            for n in ast.walk(tree):
                if hasattr(n, "col_offset"):
                    n.col_offset += base
        return tree.body

    def visit(self, node):
        method = getattr(self, "v_" + type(node).__name__, None)
        if method is None:
            raise self.fail(EquationSyntaxError, f"'{type(node).__name__}' is not allowed in equations", node)
        return method(node)

    def v_Constant(self, node):
        v = node.value
        if isinstance(v, bool):
            return sympy.true if v else sympy.false
        if isinstance(v, int):
            return sympy.Integer(v)
        if isinstance(v, float):
            return sympy.Float(repr(v))
        raise self.fail(EquationSyntaxError, f"literal {v!r} is not a number", node)

    def v_Name(self, node):
        name = node.id
        if name in self.groups:  # a parenthesised group hoisted out of a deep nesting
            return self.visit(self._parse(*self.groups[name]))
        if name == GRAD_NAME:
            return GRAD
        if name.startswith("__kw_"):
            return sympy.Symbol(name[5:])
        if name == "pi":
            return sympy.pi
        if name == "None" or name in BUILTINS or name in ("sum", "mean", "norm1", "norm2"):
            raise self.fail(EquationSyntaxError, f"'{name}' cannot be used as a value", node, name)
        return sympy.Symbol(name)

    def v_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id in ("pre", "post"):
            return sympy.Symbol(f"{node.value.id}.{node.attr}")
        raise self.fail(EquationSyntaxError, "only pre.<name> and post.<name> may use '.'", node)

    def v_BinOp(self, node):
        op = _BIN.get(type(node.op))
        if op is None:
            raise self.fail(EquationSyntaxError, f"operator {type(node.op).__name__} is not allowed", node)
        if type(node.op) in _CHAIN and type(node.left) is ast.BinOp:
            return self._chain(node)
        return op(self.visit(node.left), self.visit(node.right))

    def _chain(self, node):
        """``a + b - c + ...``: the left spine walked in a loop and built with one ``Add``,
        the same expression as term by term (which is quadratic in the number of terms)."""
        kind = _CHAIN[type(node.op)]
        spine = []
        while type(node) is ast.BinOp and _CHAIN.get(type(node.op)) is kind:
            spine.append(node)
            node = node.left
        spine.reverse()
        first, rights = self.visit(node), [self.visit(n.right) for n in spine]
        terms = [first, *(-r if isinstance(n.op, ast.Sub) and isinstance(r, sympy.Expr) else r
                          for n, r in zip(spine, rights))]
        if all(isinstance(t, sympy.Expr) and not t.is_Add for t in terms):
            return kind(*terms)
        # a sum among the terms is merged in another order (other float bits); not numbers: the
        # usual error.  Both as term by term.
        for n, right in zip(spine, rights):
            first = _BIN[type(n.op)](first, right)
        return first

    def v_UnaryOp(self, node):
        x = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -x
        if isinstance(node.op, ast.UAdd):
            return x
        return sympy.Not(as_condition(x))

    def v_BoolOp(self, node):
        f = sympy.And if isinstance(node.op, ast.And) else sympy.Or
        return f(*[as_condition(self.visit(v)) for v in node.values])

    def v_Compare(self, node):
        parts, left = [], self.visit(node.left)
        for op, comp in zip(node.ops, node.comparators):
            f = _CMP.get(type(op))
            if f is None:
                raise self.fail(EquationSyntaxError, f"comparison {type(op).__name__} is not allowed", node)
            right = self.visit(comp)
            parts.append(f(left, right))
            left = right
        return parts[0] if len(parts) == 1 else sympy.And(*parts)

    def v_IfExp(self, node):
        return piecewise((self.visit(node.body), as_condition(self.visit(node.test))),
                         (self.visit(node.orelse), True))

    def v_Call(self, node):
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(EquationSyntaxError, "keyword or starred arguments are not allowed", node)
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in ("pre", "post") \
                and f.attr == "sum":
            return sympy.Symbol(f"{f.value.id}.sum({self._target(node)})")
        if not isinstance(f, ast.Name):
            raise self.fail(EquationSyntaxError, "only named functions can be called", node)
        name = f.id
        if name == "sum":
            target = self._target(node)
            if not target:
                raise self.fail(EquationSyntaxError, "sum() needs the name of a target, e.g. sum(exc)", node, "sum")
            if target not in self.ctx.targets:
                self.ctx.targets.append(target)
            return sympy.Symbol(f"sum({target})")
        n = len(node.args)
        fn = self.ctx.functions.get(name)
        if fn is not None:
            if n != len(fn.args):
                raise self.fail(ArityError, f"function '{name}' takes {len(fn.args)} argument(s), "
                                f"{n} given", node, name)
            args = [self.visit(a) for a in node.args]
            return stable_subs(fn.body, dict(zip([sympy.Symbol(a) for a in fn.args], args))) \
                if fn.args else fn.body
        if name in ("max", "min") and n >= 2:
            args = [self.visit(a) for a in node.args]
            return (sympy.Max if name == "max" else sympy.Min)(*args)
        if name in GLOBAL_OPS:
            if n != 1:
                raise self.fail(ArityError, f"'{name}' takes one attribute name", node, name)
            arg = self.visit(node.args[0])
            if not isinstance(arg, sympy.Symbol):
                raise self.fail(ModelError, f"global operation '{name}' applies to an attribute name", node, name)
            return GLOBAL_OPS[name](arg)
        spec = BUILTINS.get(name)
        if spec is None:
            raise self.fail(UnknownNameError, f"unknown function '{name}'", node, name)
        func, lo, hi = spec
        if not lo <= n <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.fail(ArityError, f"'{name}' takes {want} argument(s), {n} given", node, name)
        return func(*[self.visit(a) for a in node.args])

    def _target(self, node) -> str:
        if not node.args:
            return ""
        if len(node.args) == 1 and isinstance(node.args[0], ast.Name):
            name = node.args[0].id  # a Python keyword (sum(in)) was renamed to parse: undo it
            return name[len("__kw_"):] if name.startswith("__kw_") else name
        raise self.fail(EquationSyntaxError, "sum() takes one target name", node)
