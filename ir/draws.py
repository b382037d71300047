"""Random draws in model expressions, numbered once: the stable ids that pick their streams.

A random call (``Normal(mu, sigma)``, a sympy undefined function named as in
``philox.DISTRIBUTIONS``) is tagged when its model is parsed with one more argument,
``draw(k)``: ``k`` counts the distinct calls of the model in declaration order (its equations,
then the spike condition, then the reset lines; for a synapse its equations, then ``pre_spike``,
``post_spike`` and ``psp``; within one line in sympy's canonical pre-order).
Identical calls in one line are one draw; the same call in two lines, two draws.  Passes may
rewrite the expressions (the stages of ``rk4`` repeat a call, ``exponential`` moves it): the tag
travels with the call, so the draw keeps its stream.  A stop condition numbers its own draws
(``condition_draw(k)``).
"""
from __future__ import annotations

import sympy

from .philox import DISTRIBUTIONS

#: the tag of the k-th draw of a model, and of a stop condition
DRAW = sympy.Function("draw")
CONDITION_DRAW = sympy.Function("condition_draw")
_TAGS = {DRAW: "model", CONDITION_DRAW: "condition"}


def is_random_call(e) -> bool:
    return isinstance(e, sympy.Function) and type(e).__name__ in DISTRIBUTIONS


def random_calls(expr) -> list:
    """Distinct random calls of a sympy expression, in pre-order."""
    out = []
    if expr is None or not isinstance(expr, sympy.Basic):
        return out
    for e in sympy.preorder_traversal(expr):
        if is_random_call(e) and e not in out:
            out.append(e)
    return out


def draw_tag(call) -> tuple[str, int] | None:
    """``("model" | "condition", k)`` of a tagged call; None for an untagged one."""
    last = call.args[-1] if call.args else None
    if last is not None and last.func in _TAGS:
        return _TAGS[last.func], int(last.args[0])
    return None


def draw_arguments(call) -> tuple:
    """The distribution's own arguments (without the tag)."""
    return call.args[:-1] if draw_tag(call) is not None else call.args


def number_draws(expressions: list, tag=DRAW) -> tuple[list, int]:
    """Tag the random calls of ``expressions`` (in order; identical calls of one expression share
    a draw); returns the tagged expressions and the number of draws."""
    out, count = [], 0
    for expr in expressions:
        mapping = {}
        for call in random_calls(expr):
            if draw_tag(call) is None:
                mapping[call] = call.func(*call.args, tag(sympy.Integer(count)))
                count += 1
        out.append(expr.xreplace(mapping) if mapping else expr)
    return out, count


def number_model_draws(m) -> None:
    """Tag every draw of a model IR in place (equations, spike condition, reset; for a synapse
    its equations, ``pre_spike``, ``post_spike``, then ``psp``; then the axonal spike condition,
    ``axon_reset`` and ``pre_axon_spike``, numbered last so that they move no other draw); sets
    ``m.draws``."""
    statements = m.equations + m.reset + m.pre_spike + m.post_spike
    lines = [eq.rhs for eq in m.equations] + ([m.spike.expr] if m.spike is not None else []) + \
        [eq.rhs for eq in m.reset + m.pre_spike + m.post_spike] + ([m.psp] if m.psp is not None else [])
    axonal = m.axon_reset + m.pre_axon_spike
    lines += ([m.axon_spike.expr] if m.axon_spike is not None else []) + [eq.rhs for eq in axonal]
    tagged, m.draws = number_draws(lines)
    for eq, expr in zip(m.equations, tagged):
        eq.rhs = expr
    rest = tagged[len(m.equations):]
    if m.spike is not None:
        m.spike.expr, rest = rest[0], rest[1:]
    for eq, expr in zip(statements[len(m.equations):], rest):
        eq.rhs = expr
    rest = rest[len(statements) - len(m.equations):]
    if m.psp is not None:
        m.psp, rest = rest[0], rest[1:]
    if m.axon_spike is not None:
        m.axon_spike.expr, rest = rest[0], rest[1:]
    for eq, expr in zip(axonal, rest):
        eq.rhs = expr
