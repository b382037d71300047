"""``log`` and ``cos`` for the random distributions, written in kernel IR.

The Box-Muller transform needs ``log(u1)``, ``cos(2 pi u2)`` and ``sin(2 pi u2)``.  As libm calls they cost
tens of nanoseconds and keep LLVM from vectorising the loop that draws (the Philox rounds
around them then run one lane at a time).  Here both are polynomials over exact
range reductions that only add, multiply, divide and select, so the loop vectorises and
every backend (reference, llvm, CUDA) computes the same bits.  They are not libm's
functions (a few ulps apart, not correctly rounded): they are used only inside the
distributions, never for ``log``/``cos`` written in an equation.

Both start from the integers the uniform draws are made of, so the range reduction is
exact: ``u1 = k * 2**-53`` with an integer ``k`` in ``[1, 2**53]`` and ``u2`` given as a
quarter of the circle ``q`` (0-3) and a fraction ``f`` in ``[0, 1)`` of that quarter.

* ``log(k)``: ``k = x * 2**e`` with ``x`` in ``[sqrt(1/2), sqrt(2)]`` (the exponent by six
  halving steps, exact), ``log(x) = 2 atanh(s)`` with ``s = (x-1)/(x+1)``, ``|s| <= 0.1716``,
  by its series to ``s**23`` (truncation below ``1e-18`` relative).
* ``cos`` and ``sin`` of ``2 pi (q + f) / 4``: the angle ``f * pi/2`` folded to ``[0, pi/4]``
  (``1 - f`` is exact), sine and cosine by their Taylor series to degree 19 and 20, then the
  signs and the swap of the quarter (both outputs from the same two polynomials).

:func:`log_int_py` and :func:`cos_sin_quarter_py` do the same operations in Python floats (IEEE
double, no fused multiply-add): the same bits, for the tests.
"""
from __future__ import annotations

import math

from .kernel import BinOp, Cmp, Const, Expr, Select, UnOp
from .types import F64

LN2 = math.log(2.0)
SQRT2 = math.sqrt(2.0)
HALF_PI = math.pi / 2.0
#: 2 / (2j + 1): log(x) = s * sum_j c_j s**(2j)
LOG_SERIES = tuple(2.0 / (2 * j + 1) for j in range(12))
#: (-1)**j / (2j+1)!: sin(y) = y * sum_j c_j y**(2j)
SIN_SERIES = tuple((-1) ** j / math.factorial(2 * j + 1) for j in range(10))
#: (-1)**j / (2j)!: cos(y) = sum_j c_j y**(2j)
COS_SERIES = tuple((-1) ** j / math.factorial(2 * j) for j in range(11))
#: the halving steps that bring an integer below 2**53 into [1, 2)
_HALVINGS = (32, 16, 8, 4, 2, 1)


def _f(x: float) -> Const:
    return Const(float(x), F64)


def _b(op: str, a: Expr, b: Expr) -> Expr:
    return BinOp(op, a, b, F64)


def _horner(em, z: Expr, coefficients, hint: str) -> Expr:
    acc: Expr = _f(coefficients[-1])
    for c in reversed(coefficients[:-1]):
        acc = em.let(_b("+", _b("*", acc, z), _f(c)), hint)
    return acc


def log_int(em, k: Expr, exponent: int = 0) -> Expr:
    """``log(k * 2**exponent)`` for a double ``k`` holding an integer in ``[1, 2**53]`` (``em``: a
    philox Emitter); the exponent is added exactly."""
    x, e = k, _f(float(exponent))
    for s in _HALVINGS:
        big = em.let(Cmp(">=", x, _f(2.0 ** s)), "lb")
        x = em.let(Select(big, _b("*", x, _f(2.0 ** -s)), x, F64), "lx")
        e = em.let(Select(big, _b("+", e, _f(s)), e, F64), "le")
    big = em.let(Cmp(">", x, _f(SQRT2)), "lb")
    x = em.let(Select(big, _b("*", x, _f(0.5)), x, F64), "lx")
    e = em.let(Select(big, _b("+", e, _f(1.0)), e, F64), "le")
    s = em.let(_b("/", _b("-", x, _f(1.0)), _b("+", x, _f(1.0))), "ls")
    z = em.let(_b("*", s, s), "lz")
    return em.let(_b("+", _b("*", e, _f(LN2)), _b("*", s, _horner(em, z, LOG_SERIES, "lp"))), "log")


def _folded_cos_sin(em, f: Expr) -> tuple[Expr, Expr]:
    """``cos`` and ``sin`` of ``a = f * pi/2`` for ``f`` in ``[0, 1)`` (the angle folded to ``[0, pi/4]``)."""
    upper = em.let(Cmp(">", f, _f(0.5)), "cu")
    y = em.let(_b("*", Select(upper, _b("-", _f(1.0), f), f, F64), _f(HALF_PI)), "cy")
    z = em.let(_b("*", y, y), "cz")
    sin_y = em.let(_b("*", y, _horner(em, z, SIN_SERIES, "cs")), "sin")
    cos_y = _horner(em, z, COS_SERIES, "cc")
    return em.let(Select(upper, sin_y, cos_y, F64), "ca"), em.let(Select(upper, cos_y, sin_y, F64), "sa")


def cos_quarter(em, q: Expr, f: Expr) -> Expr:
    """``cos(2 pi (q + f) / 4)`` for ``q`` in 0-3 (a u32 expression) and ``f`` in ``[0, 1)``."""
    cos_a, sin_a = _folded_cos_sin(em, f)
    return em.let(_by_quarter(q, cos_a, UnOp("neg", sin_a, F64), UnOp("neg", cos_a, F64), sin_a), "cos")


def cos_sin_quarter(em, q: Expr, f: Expr) -> tuple[Expr, Expr]:
    """``cos`` and ``sin`` of ``2 pi (q + f) / 4``: one pair of polynomials, two selections of
    sign and quarter."""
    cos_a, sin_a = _folded_cos_sin(em, f)
    return (em.let(_by_quarter(q, cos_a, UnOp("neg", sin_a, F64), UnOp("neg", cos_a, F64), sin_a), "cos"),
            em.let(_by_quarter(q, sin_a, cos_a, UnOp("neg", sin_a, F64), UnOp("neg", cos_a, F64)), "sin"))


def _by_quarter(q: Expr, *values: Expr) -> Expr:
    """``values[q]`` for ``q`` in 0-3."""
    quarter = [Cmp("==", q, Const(n, q.dtype)) for n in range(3)]
    return Select(quarter[0], values[0], Select(quarter[1], values[1], Select(quarter[2], values[2], values[3], F64),
                                                F64), F64)


# --------------------------------------------------------------------------
# the same operations in Python floats


def _horner_py(z: float, coefficients) -> float:
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = acc * z + c
    return acc


def log_int_py(k: float, exponent: int = 0) -> float:
    x, e = float(k), float(exponent)
    for s in _HALVINGS:
        if x >= 2.0 ** s:
            x, e = x * 2.0 ** -s, e + s
    if x > SQRT2:
        x, e = x * 0.5, e + 1.0
    s = (x - 1.0) / (x + 1.0)
    return e * LN2 + s * _horner_py(s * s, LOG_SERIES)


def cos_sin_quarter_py(q: int, f: float) -> tuple[float, float]:
    upper = f > 0.5
    y = ((1.0 - f) if upper else f) * HALF_PI
    z = y * y
    sin_y, cos_y = y * _horner_py(z, SIN_SERIES), _horner_py(z, COS_SERIES)
    cos_a, sin_a = (sin_y, cos_y) if upper else (cos_y, sin_y)
    return (cos_a, -sin_a, -cos_a, sin_a)[q], (sin_a, cos_a, -sin_a, -cos_a)[q]


def cos_quarter_py(q: int, f: float) -> float:
    return cos_sin_quarter_py(q, f)[0]
