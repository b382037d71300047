"""The built-in vocabulary of equations: functions, their arity, reserved names.

Each built-in maps to a sympy construct (or an undefined sympy Function that
a later pass lowers by name), so the IR never holds strings.
"""
from __future__ import annotations

import sympy

# undefined functions, lowered later by name
ROUND = sympy.Function("round")
ISNAN = sympy.Function("isnan")
ISFINITE = sympy.Function("isfinite")
#: ANNarchy's ``modulo(a, b)`` is C's ``long(a) % long(b)``; sympy's Mod (floored, and
#: simplified with floored identities) would differ for negative operands
MODULO = sympy.Function("modulo")
#: C conversions, used for typed user functions (``f(x) = ... : int, float``)
TO_INT = sympy.Function("int")
TO_BOOL = sympy.Function("bool")
GLOBAL_OPS = {"mean": sympy.Function("mean"), "max": sympy.Function("gmax"),
              "min": sympy.Function("gmin"), "norm1": sympy.Function("norm1"),
              "norm2": sympy.Function("norm2")}
GLOBAL_OP_NAMES = {f.__name__ for f in GLOBAL_OPS.values()}
DISTRIBUTIONS = {"Uniform": (2, 2), "DiscreteUniform": (2, 2), "Normal": (2, 4),
                 "LogNormal": (2, 4), "Exponential": (1, 3), "Gamma": (1, 4), "Binomial": (2, 2)}
DISTRIBUTION_FUNCS = {name: sympy.Function(name) for name in DISTRIBUTIONS}


def _piecewise(c, a, b):
    return sympy.Piecewise((a, c), (b, True))


# name -> (callable, min args, max args)
MATH = {
    "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos,
    "tan": sympy.tan, "tanh": sympy.tanh, "asin": sympy.asin, "acos": sympy.acos,
    "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh, "floor": sympy.floor,
    "ceiling": sympy.ceiling, "ceil": sympy.ceiling, "fabs": sympy.Abs, "abs": sympy.Abs,
}
BUILTINS = {name: (f, 1, 1) for name, f in MATH.items()}
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
