"""The built-in vocabulary of equations: functions, their arity, reserved names.

Each built-in maps to a sympy construct (or an undefined sympy Function that
a later pass lowers by name), so the IR never holds strings.
"""
from __future__ import annotations

import sympy

import math

from anncompiler.ir.stable_relations import piecewise


def _c_long(x: float, bits: int = 64) -> int:
    """C conversion to a signed integer as the compiled code does it (saturating, NaN -> 0)."""
    if x != x:
        return 0
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if math.isinf(x):
        return hi if x > 0 else lo
    return max(lo, min(hi, int(x)))


def _c_round(x: float):
    if not math.isfinite(x):
        return sympy.Float(x)
    r = math.trunc(x)
    if abs(x - r) >= 0.5:
        r += 1 if x > 0 else -1
    return sympy.Integer(r)


def _c_modulo(a: float, b: float):
    x, y = _c_long(a), _c_long(b)
    if y == 0:  # undefined in C (ANNarchy's generated code traps); the parser reports it
        raise ZeroDivisionError(f"modulo({a!r}, {b!r}) is an integer modulo by zero (long({b!r}) == 0)")
    q = abs(x) // abs(y)
    return sympy.Integer(x - y * (q if (x < 0) == (y < 0) else -q))


def _c_function(name: str, nargs: int, numeric):
    """A sympy function lowered later by name (``type(e).__name__``); with numeric arguments
    it evaluates at once, with the compiled code's semantics (sympy cannot handle an
    unevaluated function of numbers in Piecewise conditions)."""
    def eval_(cls, *args):
        if not all(a.is_number for a in args):  # free symbols (or not numeric at all)
            return None
        try:
            values = [float(a) for a in args]
        except (TypeError, ValueError):  # complex, zoo...: left to the later passes
            return None
        return numeric(*values)
    return type(name, (sympy.Function,), {"nargs": nargs, "eval": classmethod(eval_)})


# functions lowered later by name
ROUND = _c_function("round", 1, _c_round)
ISNAN = _c_function("isnan", 1, lambda x: sympy.Integer(int(math.isnan(x))))
ISFINITE = _c_function("isfinite", 1, lambda x: sympy.Integer(int(math.isfinite(x))))
#: ANNarchy's ``modulo(a, b)`` is C's ``long(a) % long(b)``; sympy's Mod (floored, and
#: simplified with floored identities) would differ for negative operands
MODULO = _c_function("modulo", 2, _c_modulo)
#: C conversions, used for typed user functions (``f(x) = ... : int, float``)
TO_INT = _c_function("c_int", 1, lambda x: sympy.Integer(_c_long(x, 32)))
TO_BOOL = _c_function("c_bool", 1, lambda x: sympy.Integer(int(x != 0)))
from anncompiler.ir.model import GLOBAL_OP_NAMES, GLOBAL_OPS  # noqa: E402,F401  (the IR's vocabulary)
DISTRIBUTIONS = {"Uniform": (2, 2), "DiscreteUniform": (2, 2), "Normal": (2, 4),
                 "LogNormal": (2, 4), "Exponential": (1, 3), "Gamma": (1, 4), "Binomial": (2, 2)}
DISTRIBUTION_FUNCS = {name: sympy.Function(name) for name in DISTRIBUTIONS}


def as_condition(c):
    """A condition as sympy needs it (Piecewise, And, Or): a number or an expression such as
    ``isnan(x)`` is true when non-zero, as in C."""
    if isinstance(c, (bool, sympy.logic.boolalg.Boolean)):
        return c
    return sympy.Ne(c, 0)


def _piecewise(c, a, b):
    return piecewise((a, as_condition(c)), (b, True))


# name -> (callable, min args, max args)
MATH = {
    "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos,
    "tan": sympy.tan, "tanh": sympy.tanh, "asin": sympy.asin, "acos": sympy.acos,
    "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh, "floor": sympy.floor,
    "ceiling": sympy.ceiling, "ceil": sympy.ceiling, "fabs": sympy.Abs, "abs": sympy.Abs,
}


def _real_valued(f):
    """``f`` at a constant argument is evaluated by sympy: a non-real result (``sqrt(-1)``,
    ``log(-2)``) is NaN, as in C (and stays NaN in ``sqrt(-1) * 0``)."""
    def call(x):
        value = f(x)
        if value.is_number and value.has(sympy.I):
            return sympy.nan
        return value
    return call


BUILTINS = {name: (_real_valued(f), 1, 1) for name, f in MATH.items()}
BUILTINS.update({
    "pos": (lambda x: sympy.Max(x, 0), 1, 1),
    "positive": (lambda x: sympy.Max(x, 0), 1, 1),
    "neg": (lambda x: sympy.Min(x, 0), 1, 1),
    "negative": (lambda x: sympy.Min(x, 0), 1, 1),
    "clip": (lambda x, a, b: sympy.Min(sympy.Max(x, a), b), 3, 3),
    "ite": (_piecewise, 3, 3),
    "modulo": (MODULO, 2, 2),
    "power": (lambda x, n: sympy.Pow(x, n), 2, 2),
    "round": (ROUND, 1, 1),
    "isnan": (ISNAN, 1, 1),
    "isfinite": (ISFINITE, 1, 1),
})
for _name, (_lo, _hi) in DISTRIBUTIONS.items():
    BUILTINS[_name] = (DISTRIBUTION_FUNCS[_name], _lo, _hi)

# names that are functions in equations (sum, max, min, mean... handled specially)
SPECIAL_CALLS = {"sum", "max", "min", "mean", "norm1", "norm2"}
FUNCTION_NAMES = set(BUILTINS) | SPECIAL_CALLS
CONSTANT_NAMES = {"pi", "True", "False"}

RESERVED = {"t", "dt", "t_pre", "t_post", "t_last", "last_spike", "rk_post", "rk_pre",
            "i", "j", "active", "refractory", "size"} | FUNCTION_NAMES | CONSTANT_NAMES
