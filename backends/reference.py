"""The reference backend: a plain interpreter of the kernel IR.

It is the oracle every other backend is tested against, and the worked
example of a custom backend, so it favours being obviously right over speed.
Each expression and statement is compiled once into a Python closure taking
the environment of local scalars.

Numbers follow C on IEEE hardware: f64 is a Python float (``+ - * /`` are
IEEE double operations) and the math functions are the C library's (the
``math`` module, falling back to libm itself where ``math`` raises instead of
returning inf/nan); f32 values are ``numpy.float32`` scalars, and f32 math
functions are computed in double then rounded, as the llvm backend does;
integers wrap around at 32/64 bits (two's complement for i32/i64, modulo
2**bits for u32/u64, whose ``>>`` is logical; shifts by the bit width or
more are undefined in native code).  ``min``/``max`` are ``a < b ? a : b`` /
``a > b ? a : b``: with a NaN operand they return ``b``.  Float to int casts
saturate (NaN gives 0), like LLVM's ``fptosi.sat``.  Integer division by
zero is undefined in native code; here it raises ``ZeroDivisionError``.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from anncompiler.errors import BackendError
from anncompiler.ir import kernel as K
from anncompiler.ir.types import (BOOL, F32, F64, INT_BITS, DType, is_float, is_int,
                                  is_unsigned)

from .base import Artefact, Backend, Simulator, check_arrays, register_backend

_libm = ctypes.CDLL(ctypes.util.find_library("m") or None)


def _cfun(name: str, arity: int = 1):
    """The C function ``name`` of libm; ``math.name`` when it exists (faster),
    falling back to libm for the arguments where ``math`` raises."""
    c = getattr(_libm, name)
    c.restype, c.argtypes = ctypes.c_double, [ctypes.c_double] * arity
    m = getattr(math, name, None)
    if m is None or name in ("floor", "ceil", "trunc"):  # math's return ints
        return c

    def f(*args):
        try:
            return m(*args)
        except (ValueError, OverflowError):
            return c(*args)
    return f


_MATH = {fn: _cfun(fn, n) for fn, n in K.MATH_FUNCTIONS.items() if fn not in ("isnan", "isfinite")}
_MATH["pow"] = _cfun("pow", 2)
_fmod = _cfun("fmod", 2)

_INT_BITS = INT_BITS


def _wrap(x: int, t: DType) -> int:
    """Wrap-around of a Python int to ``t``: two's complement for signed
    types, modulo 2**bits for unsigned ones."""
    bits = _INT_BITS[t]
    if is_unsigned(t):
        return x & ((1 << bits) - 1)
    return ((x + (1 << (bits - 1))) & ((1 << bits) - 1)) - (1 << (bits - 1))


def _fdiv(a: float, b: float) -> float:
    """IEEE division (Python raises on a zero divisor)."""
    if b == 0.0:
        if a == 0.0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _idiv(a: int, b: int) -> int:
    """C integer division: truncates towards zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _to_int(x, t: DType) -> int:
    """Saturating float -> int conversion (NaN -> 0)."""
    if x != x:
        return 0
    if is_unsigned(t):
        lo, hi = 0, (1 << _INT_BITS[t]) - 1
    else:
        lo, hi = -(1 << (_INT_BITS[t] - 1)), (1 << (_INT_BITS[t] - 1)) - 1
    if x <= lo:
        return lo
    if x >= hi:
        return hi
    return int(x)  # int() truncates towards zero


def _scalar(value, t: DType):
    """A Python value of IR type ``t`` as the interpreter represents it."""
    if t == F64:
        return float(value)
    if t == F32:
        return np.float32(value)
    if t == BOOL:
        return bool(value)
    return _wrap(int(value), t)


_BINOPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "min": lambda a, b: a if a < b else b, "max": lambda a, b: a if a > b else b,
}
_BITWISE = {
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,  # unsigned values are >= 0: logical
}
_CMP = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


class _Compiler:
    """Turns kernel IR into closures ``f(env)`` bound to the arrays (held as
    memoryviews: element access is in place and cheaper than numpy's)."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.views = {name: memoryview(a) for name, a in arrays.items()}

    # -- expressions ----------------------------------------------------
    def expr(self, e: K.Expr):
        method = getattr(self, "_" + type(e).__name__, None)
        if method is None:
            raise BackendError(f"reference backend: unsupported expression {e!r}")
        return method(e)

    def _Const(self, e: K.Const):
        v = _scalar(e.value, e.dtype)
        return lambda env: v

    def _Var(self, e: K.Var):
        name = e.name
        return lambda env: env[name]

    def _Load(self, e: K.Load):
        view, index, name = self.views[e.array], self.expr(e.index), e.array
        n, t = len(view), e.dtype

        def load(env):
            i = index(env)
            if not 0 <= i < n:
                raise BackendError(f"reference backend: load {name}[{i}] out of bounds (size {n})")
            return np.float32(view[i]) if t == F32 else view[i]
        return load

    def _BinOp(self, e: K.BinOp):
        a, b, t, op = self.expr(e.a), self.expr(e.b), e.dtype, e.op
        if op == "pow" or (op == "%" and is_float(t)):
            f = _MATH["pow"] if op == "pow" else _fmod
            if is_int(t):  # pow on integers: in double, then truncated
                return lambda env: _wrap(_to_int(f(float(a(env)), float(b(env))), t), t)
            return lambda env: _scalar(f(float(a(env)), float(b(env))), t)
        if op in _BITWISE:
            f = _BITWISE[op]
            return lambda env: _wrap(f(a(env), b(env)), t)
        if op == "mulhi":  # floor division by 2**bits: the high half, signed or not
            bits = _INT_BITS[t]
            return lambda env: _wrap((a(env) * b(env)) >> bits, t)
        if is_int(t):
            if op == "/":
                return lambda env: _wrap(_idiv(a(env), b(env)), t)
            if op == "%":
                return lambda env: _wrap((lambda x, y: x - y * _idiv(x, y))(a(env), b(env)), t)
            f = _BINOPS[op]
            return lambda env: _wrap(f(a(env), b(env)), t)
        if op == "/":
            if t == F32:
                return lambda env: np.float32(a(env)) / np.float32(b(env))
            return lambda env: _fdiv(a(env), b(env))
        f = _BINOPS[op]
        return lambda env: f(a(env), b(env))

    def _UnOp(self, e: K.UnOp):
        a, t = self.expr(e.a), e.dtype
        if e.op == "not":
            return lambda env: not a(env)
        if is_int(t):
            return lambda env: _wrap(-a(env), t)
        return lambda env: -a(env)

    def _Call(self, e: K.Call):
        args = [self.expr(x) for x in e.args]
        if e.fn == "isnan":
            return lambda env: math.isnan(args[0](env))
        if e.fn == "isfinite":
            return lambda env: math.isfinite(args[0](env))
        f, t = _MATH[e.fn], e.dtype
        if len(args) == 1:
            a = args[0]
            return lambda env: _scalar(f(float(a(env))), t)
        a, b = args
        return lambda env: _scalar(f(float(a(env)), float(b(env))), t)

    def _Cmp(self, e: K.Cmp):
        a, b, f = self.expr(e.a), self.expr(e.b), _CMP[e.op]
        return lambda env: bool(f(a(env), b(env)))

    def _Logic(self, e: K.Logic):
        a, b = self.expr(e.a), self.expr(e.b)
        if e.op == "and":
            return lambda env: bool(a(env)) & bool(b(env))
        return lambda env: bool(a(env)) | bool(b(env))

    def _Select(self, e: K.Select):
        c, a, b = self.expr(e.cond), self.expr(e.a), self.expr(e.b)
        return lambda env: a(env) if c(env) else b(env)

    def _AnyOf(self, e: K.AnyOf):
        view, start, count, name = self.views[e.array], self.expr(e.start), int(e.count), e.array
        n = len(view)

        def any_of(env):
            i = start(env)
            if not 0 <= i <= n - count:
                raise BackendError(f"reference backend: any-of {name}[{i} ..+{count}] out of bounds (size {n})")
            return any(view[i:i + count])
        return any_of

    def _Cast(self, e: K.Cast):
        a, src, t = self.expr(e.a), e.a.dtype, e.dtype
        if t == BOOL:
            return lambda env: bool(a(env) != 0)
        if is_int(t) and is_float(src):
            return lambda env: _to_int(a(env), t)
        return lambda env: _scalar(a(env), t)

    # -- statements -----------------------------------------------------
    def body(self, stmts: list[K.Stmt], loop_vars: frozenset = frozenset()):
        fs = [self.stmt(s, loop_vars) for s in stmts if not isinstance(s, (K.Comment, K.Prefetch))]

        def run(env):
            for f in fs:
                f(env)
        return run

    def stmt(self, s: K.Stmt, loop_vars: frozenset):
        if isinstance(s, K.Let):
            if s.var.name in loop_vars:
                raise BackendError(f"loop variable %{s.var.name} cannot be assigned")
            name, value = s.var.name, self.expr(s.value)

            def let(env):
                env[name] = value(env)
            return let
        if isinstance(s, K.Store):
            view, index, value, name = self.views[s.array], self.expr(s.index), self.expr(s.value), s.array
            n = len(view)

            def store(env):
                i = index(env)
                if not 0 <= i < n:
                    raise BackendError(f"reference backend: store {name}[{i}] out of bounds (size {n})")
                view[i] = value(env)
            return store
        if isinstance(s, K.Loop):
            name, start, stop = s.var.name, self.expr(s.start), self.expr(s.stop)
            body = self.body(s.body, loop_vars | {name})

            def loop(env):
                saved = env.get(name)  # loop variables are lexically scoped
                for i in range(start(env), stop(env)):
                    env[name] = i
                    body(env)
                env[name] = saved
            return loop
        if isinstance(s, K.Append):  # sequentially, the order of the loops is the order of the list
            return self.body(s.as_stores(), loop_vars)
        if isinstance(s, K.Accumulate):
            return self.stmt(s.as_store(), loop_vars)
        if isinstance(s, K.Reduce):
            return self._reduce(s, loop_vars)
        if isinstance(s, K.If):
            cond, then, orelse = self.expr(s.cond), self.body(s.then, loop_vars), self.body(s.orelse, loop_vars)

            def if_(env):
                (then if cond(env) else orelse)(env)
            return if_
        raise BackendError(f"reference backend: unsupported statement {s!r}")


    def _reduce(self, s: K.Reduce, loop_vars: frozenset):
        """The fold in the order :class:`~anncompiler.ir.kernel.Reduce` declares."""
        if s.acc.name in loop_vars:
            raise BackendError(f"loop variable %{s.acc.name} cannot be assigned")
        t, lanes, var, acc = s.acc.dtype, int(s.lanes), s.var.name, s.acc.name
        a, b = K.Var("_fold_a", t), K.Var("_fold_b", t)
        pair = self.expr(K.BinOp(s.op, a, b, t))
        combine = lambda x, y: pair({"_fold_a": x, "_fold_b": y})  # noqa: E731  (the IR's arithmetic)
        start, stop, value, init = self.expr(s.start), self.expr(s.stop), self.expr(s.value), _scalar(s.init.value, t)

        def reduce_(env):
            lo, hi = start(env), stop(env)
            saved = env.get(var)
            parts = [init] * lanes
            full = lo + (max(0, hi - lo) // lanes) * lanes
            for i in range(lo, full):
                env[var] = i
                k = (i - lo) % lanes
                parts[k] = combine(parts[k], value(env))
            for i in range(full, hi):
                env[var] = i
                parts[0] = combine(parts[0], value(env))
            env[var] = saved
            total = parts[0]
            for p in parts[1:]:
                total = combine(total, p)
            env[acc] = total
        return reduce_


class ReferenceSimulator(Simulator):
    def __init__(self, module: K.KernelModule, arrays: dict[str, np.ndarray]):
        check_arrays(module, arrays)
        self.arrays = arrays  # keep the runtime's arrays alive
        # the closures nest as deep as the expressions: a deep one is built and run with a deep stack
        self.deep = _depth(module) > _DEEP
        self.kernels, self.exits = self._call(self._build, module, arrays)
        self.t = arrays[K.STEP_COUNTER]

    def _call(self, fn, *args):
        if not self.deep:
            return fn(*args)
        from anncompiler.ir.deep import run_deep
        return run_deep(fn, *args)

    @staticmethod
    def _build(module: K.KernelModule, arrays: dict[str, np.ndarray]):
        c = _Compiler(arrays)
        return [c.body(k.body) for k in module.kernels], [c.expr(e) for e in module.exit_conditions]

    def run(self, n_steps: int) -> int:
        return self._call(self._run, n_steps)

    def _run(self, n_steps: int) -> int:
        done = 0
        with np.errstate(all="ignore"):  # f32 overflow to inf is not an error in C
            while done < n_steps:
                for k in self.kernels:
                    k({})
                self.t[0] += 1
                done += 1
                if any(e({}) for e in self.exits):
                    break
        return done


#: expression depth above which the closures need more than Python's default stack
_DEEP = 100


def _depth(module: K.KernelModule) -> int:
    """The deepest expression of the module (counted with an explicit stack)."""
    roots = list(module.exit_conditions)
    for k in module.kernels:
        for s in K.walk_stmts(k.body):
            roots.extend(K.stmt_exprs(s))
    deepest, stack = 0, [(e, 1) for e in roots]
    while stack:
        e, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in e.children())
    return deepest


@register_backend
class ReferenceBackend(Backend):
    """Interprets the kernel IR in Python: slow, simple, the oracle."""
    name = "reference"

    def emit(self, module: K.KernelModule) -> Artefact:
        return Artefact(self.name, {"reference.txt": K.format_module(module)}, module)

    def load(self, artefact: Artefact, arrays: dict[str, np.ndarray]) -> Simulator:
        return ReferenceSimulator(artefact.payload, arrays)
