"""One statement -> one ``Equation``: increment, assignment or ODE.

ODEs are solved for the gradient without ``simplify``: ``dx/dt`` becomes a
placeholder g, ``expr = lhs - rhs`` must be linear in g, and the gradient is
``-expr(g=0) / (d expr / d g)``.  All four ANNarchy forms give the same result.
"""
from __future__ import annotations

import re

import sympy

from anncompiler.errors import EquationSyntaxError, FlagError, ModelError
from anncompiler.ir.model import Equation
from anncompiler.ir.stable_relations import piecewise
from anncompiler.parser.expressions import GRAD, GRAD_NAME, Context, to_sympy
from anncompiler.parser.lines import Statement, assignment_ops, check_parens

GRAD_RE = re.compile(r"\bd([A-Za-z_]\w*)\s*/\s*dt\b")
NAME_RE = re.compile(r"^[A-Za-z_]\w*$")
REMOTE_RE = re.compile(r"^post\s*\.\s*([A-Za-z_]\w*)$")
METHOD_ALIASES = {"runge-kutta4": "rk4", "exact": "event-driven"}
METHODS = ("explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4",
           "runge-kutta4", "exact", "event-driven")


def method_of(flags: dict, ctx: Context):
    """The numerical method named in the flags (aliases resolved), or None."""
    found = [m for m in METHODS if m in flags]
    if len(found) > 1:
        raise ctx.error(FlagError, f"several numerical methods given: {', '.join(found)}")
    return METHOD_ALIASES.get(found[0], found[0]) if found else None


def find_gradients(text: str, not_grads=()) -> list:
    """``dX/dt`` matches, ignoring ``dX`` that is itself an attribute (``d_max/dt``)."""
    return [m for m in GRAD_RE.finditer(text) if m.group(1) != "t" and "d" + m.group(1) not in not_grads]


def parse_equation(stmt: Statement, ctx: Context, *, allow_ode: bool = True,
                   remote: bool = False, not_grads=()) -> Equation:
    """Build the Equation of ``stmt``; ``remote`` allows ``post.x`` / ``g_target`` targets."""
    ctx.source = stmt.source
    body = stmt.body
    col = check_parens(body)
    if col is not None:
        raise ctx.error(EquationSyntaxError, "unbalanced parenthesis", column=(ctx.column_of(body) or 0) + col)
    ops = assignment_ops(body)
    if not ops:
        raise ctx.error(EquationSyntaxError, "not an equation: no '=' found")
    if len(ops) > 1:
        raise ctx.error(EquationSyntaxError, "more than one assignment in one equation",
                        column=ctx.column_of(body) and ctx.column_of(body) + ops[1][0])
    pos, op = ops[0]
    lhs, rhs = body[:pos].strip(), body[pos + len(op):].strip()
    if not rhs:
        raise ctx.error(EquationSyntaxError, "the right side of the equation is empty")
    if not lhs:
        raise ctx.error(EquationSyntaxError, "the left side of the equation is empty")
    method = method_of(stmt.flags, ctx)
    grads = find_gradients(body, not_grads)
    if grads:
        if not allow_ode:
            raise ctx.error(ModelError, "ODEs are not allowed here (only assignments)")
        eq = _ode(lhs, rhs, op, pos, grads, ctx, stmt, method)
        eq.unless_post = "unless_post" in stmt.flags
        return eq
    target = _target(lhs, ctx, remote)
    value = to_sympy(rhs, ctx)
    if op != "=" and isinstance(value, sympy.logic.boolalg.Boolean) and not isinstance(value, sympy.Symbol):
        value = piecewise((1, value), (0, True))  # 'x += cond': a bool in arithmetic is 0 or 1 (C)
    unless_post = "unless_post" in stmt.flags
    if op == "=":
        return Equation(target=target, kind="assign", rhs=value, method=method, source=stmt.source,
                        unless_post=unless_post)
    return Equation(target=target, kind="increment", rhs=value, op=op[0], method=method, source=stmt.source,
                    unless_post=unless_post)


def _target(lhs: str, ctx: Context, remote: bool) -> str:
    if NAME_RE.match(lhs):
        return lhs
    m = REMOTE_RE.match(lhs)
    if remote and m:
        return "post." + m.group(1)
    raise ctx.error(EquationSyntaxError, f"the left side '{lhs}' must be exactly the variable name",
                    column=ctx.column_of(lhs))


def _ode(lhs, rhs, op, pos, grads, ctx, stmt, method) -> Equation:
    names = {m.group(1) for m in grads}
    if len(names) > 1:
        raise ctx.error(ModelError, "an ODE may contain the gradient of one variable only, found "
                        + ", ".join(f"d{n}/dt" for n in sorted(names)))
    name = names.pop()
    if any(m.start() >= pos for m in grads):
        raise ctx.error(ModelError, f"the gradient d{name}/dt must be on the left side", name=name,
                        column=ctx.column_of(f"d{name}", ctx.column_of(rhs) or 0))
    if op != "=":
        raise ctx.error(ModelError, f"an ODE cannot use '{op}'")
    lhs_text = GRAD_RE.sub(lambda m: GRAD_NAME if m.group(1) == name else m.group(0), lhs)
    left = to_sympy(lhs_text, ctx)
    right = to_sympy(rhs, ctx)
    try:
        expr = left - right
        a = sympy.diff(expr, GRAD)
        ok = a != 0 and not a.has(GRAD)
        gradient = -expr.subs(GRAD, 0) / a if ok else None
    except ModelError:
        raise
    except Exception as e:
        raise ctx.error(EquationSyntaxError, f"cannot solve the ODE for d{name}/dt: {e}") from None
    if gradient is None or gradient.has(GRAD):
        raise ctx.error(ModelError, f"the ODE must be linear in d{name}/dt", name=name)
    return Equation(target=name, kind="ode", rhs=gradient, method=method, source=stmt.source)
