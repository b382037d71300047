"""User functions as Python callables: ``pop.f(arr)``, ``ann.functions('f')(arr)``.

The function body (sympy) is turned into a numpy function that follows the
compiled code's semantics (``passes/sympy_to_kernel.py``): C ``round`` (half
away from zero), ANNarchy's ``modulo`` (``long(a) % long(b)``), ``a % b`` as
``fmod``, ``pos``/``neg`` returning the bound for NaN, and the conversions of
typed functions (``: int, float``): int arguments and results are truncated
towards zero, bool ones are ``!= 0``.  Constants named in the body take their
current value at each call.
"""
from __future__ import annotations

import numpy as np
import sympy

_INT32_MIN, _INT32_MAX = -2.0 ** 31, 2.0 ** 31 - 1


def _to_int(x, lo=_INT32_MIN, hi=_INT32_MAX):
    """C conversion (saturating, NaN -> 0), kept as floats for further arithmetic."""
    x = np.asarray(x, dtype=float)
    return np.where(np.isnan(x), 0.0, np.trunc(np.clip(x, lo, hi)))


def _c_round(x):
    x = np.asarray(x, dtype=float)
    r = np.trunc(x)
    return r + np.where(np.abs(x - r) >= 0.5, np.sign(x), 0.0)


def _long(x):
    """C ``long(x)`` as the compiled code does it: int64, saturating, NaN -> 0."""
    x = np.asarray(x, dtype=float)
    big = x >= 2.0 ** 63
    with np.errstate(all="ignore"):
        out = np.where(np.isnan(x) | big, 0.0, np.trunc(np.maximum(x, -2.0 ** 63))).astype(np.int64)
    return np.where(big, np.iinfo(np.int64).max, out)


def _modulo(a, b):
    ia, ib = _long(a), _long(b)
    unit = (ib == 0) | (ib == -1)
    r = np.fmod(ia, np.where(unit, 1, ib))  # integer fmod: C's %, sign of the dividend
    return np.where(ib == 0, np.nan, r.astype(float))


def _max(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.where(a > b, a, b)


def _min(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.where(a < b, a, b)


_MODULES = {"round": _c_round, "modulo": _modulo, "c_int": _to_int,
            "c_bool": lambda x: np.asarray(x) != 0, "isnan": np.isnan, "isfinite": np.isfinite,
            "c_fmod": np.fmod, "c_max": _max, "c_min": _min, "as_is": lambda x: x}
_FMOD, _CMAX, _CMIN = sympy.Function("c_fmod"), sympy.Function("c_max"), sympy.Function("c_min")


def _pairwise(f):
    def build(*args):
        args = sorted(args, key=lambda a: bool(a.is_Number))  # as the translator: numbers last
        out = args[0]
        for a in args[1:]:
            out = f(out, a)
        return out
    return build


def _prepare(body):
    body = body.replace(sympy.Max, _pairwise(_CMAX)).replace(sympy.Min, _pairwise(_CMIN))
    return body.replace(sympy.Mod, lambda a, b: _FMOD(a, b))


def numpy_callable(fn, constants=None):
    """``fn`` (an IR Function) as ``f(*arrays)``; ``constants()`` gives {name: value} at call time."""
    args = [sympy.Symbol(a) for a in fn.args]
    body = _prepare(fn.body)
    extra = sorted((s for s in body.free_symbols if s not in args), key=lambda s: s.name)
    f = sympy.lambdify(args + extra, body, modules=[_MODULES, "numpy"])
    ret = fn.types[0] if fn.types else "float"

    def call(*values):
        if len(values) != len(args):
            raise TypeError(f"{fn.name}() takes {len(args)} argument(s), {len(values)} given")
        env = constants() if constants is not None and extra else {}
        missing = [s.name for s in extra if s.name not in env]
        if missing:
            raise NameError(f"{fn.name}(): unknown name(s) {', '.join(missing)}")
        with np.errstate(all="ignore"):
            out = f(*[np.asarray(v, dtype=float) for v in values], *[env[s.name] for s in extra])
        out = np.asarray(out)
        if ret == "int":
            return _to_int(out).astype(np.int32)
        if ret == "bool":
            return out != 0
        return out.astype(float)
    call.__name__ = fn.name
    call.__doc__ = fn.source
    return call
