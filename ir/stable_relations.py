"""Comparisons that sympy's ``Piecewise`` can hold without looping.

``Piecewise`` puts each condition in a canonical form when it is built (and rebuilt by
``xreplace``/``subs``), and builds itself again until the conditions stop changing.  For
some comparisons that form has no fixed point: ``-4.8*a < 0.66*a`` becomes
``4.8*a > -0.66*a``, then ``0.66*a > -4.8*a``, then ``4.8*a > -0.66*a`` again (the same
term with float coefficients of opposite signs on both sides, ``Eq``/``Ne`` too), and the
construction recurses without end.

Such a comparison keeps its two sides, each wrapped in :class:`as_is`, an identity that
sympy does not look into (no sign to extract, no coefficient to divide by): the canonical
form is then reached at once, and the comparison computed is the one the user wrote.
Every other comparison is left exactly as it was (same expressions, same bits).
"""
from __future__ import annotations

import sympy
from sympy.core.relational import Relational

try:  # the canonical form Piecewise applies to its conditions (sympy >= 1.5)
    from sympy.core.relational import _canonical_coeff as _canonical
except ImportError:  # pragma: no cover - older or newer sympy: the public part of it
    def _canonical(rel):
        return rel.canonical

#: canonical steps tried before a comparison is called cyclic (a stable one needs at most 2)
_STEPS = 6


class as_is(sympy.Function):  # noqa: N801 - the name printed in dumps: as_is(-4.8*a) < as_is(0.66*a)
    """The identity, opaque to sympy's rewriting of comparisons; lowered to its argument."""
    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_number:  # nothing left to rewrite: a comparison of numbers evaluates
            return x
        return None

    def fdiff(self, argindex=1):
        return sympy.S.One

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_integer(self):
        return self.args[0].is_integer

    def _eval_is_finite(self):
        return self.args[0].is_finite


def is_cyclic(rel) -> bool:
    """True when ``Piecewise`` would rewrite ``rel`` for ever (see the module docstring)."""
    if not isinstance(rel, Relational):
        return False
    current = rel
    for _ in range(_STEPS):
        try:
            nxt = _canonical(current)
        except RecursionError:  # pragma: no cover - a relation nested absurdly deep
            return True
        if nxt == current or not isinstance(nxt, Relational):
            return False
        current = nxt
    return True


def _wrapped(rel):
    return rel.func(as_is(rel.lhs), as_is(rel.rhs))


def stable_condition(cond):
    """``cond`` with each comparison that would make ``Piecewise`` loop given opaque sides."""
    if not isinstance(cond, sympy.Basic) or not cond.has(Relational):
        return cond
    bad = {r: _wrapped(r) for r in cond.atoms(Relational) if is_cyclic(r)}
    return cond.xreplace(bad) if bad else cond


def piecewise(*pairs):
    """``sympy.Piecewise(*pairs)`` with stable conditions: it always terminates."""
    return sympy.Piecewise(*[(e, stable_condition(sympy.sympify(c))) for e, c in pairs])


def stable_xreplace(expr, mapping):
    """``expr.xreplace(mapping)``, also when a comparison becomes cyclic only after the
    replacement (``f(x, y) = ite(-4.8*x < 0.66*y, ...)`` called as ``f(a, a)``): such a
    comparison gets its opaque sides before the replacement rebuilds the ``Piecewise``."""
    return _prepare(expr, mapping).xreplace(mapping)


def stable_subs(expr, mapping):
    """``expr.subs(mapping, simultaneous=True)`` with the same guard as :func:`stable_xreplace`."""
    return _prepare(expr, mapping).subs(mapping, simultaneous=True)


def _prepare(expr, mapping):
    if not mapping or not isinstance(expr, sympy.Basic) or not expr.has(sympy.Piecewise):
        return expr
    bad = {}
    for r in expr.atoms(Relational):
        if r.xreplace(mapping) != r and is_cyclic(r.xreplace(mapping)):
            bad[r] = _wrapped(r)
    return expr.xreplace(bad) if bad else expr
