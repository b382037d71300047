"""Translate sympy expressions of the model IR into typed kernel IR expressions.

Symbols are resolved by a callback (an attribute becomes a load, ``dt`` a
constant, ...), so the same translator serves neurons, synapses and
monitors.

Typing rules (ANNarchy generates C++; these follow what that code does):

- Arithmetic (``+ - * / ^``, math functions, ``ite``) is done in the network's
  float type (f64, or f32 with ``dtype=ann.float32``: every constant is then
  rounded to f32 too); int and bool operands are converted to it.  Storing into
  an ``int`` attribute truncates towards zero (C conversion; out of range
  saturates, NaN gives 0); storing into a ``bool`` attribute is ``value != 0``.
  ``n / m`` of two int attributes is therefore a float division (ANNarchy's
  output depends on how SymPy prints it; we choose the float rule, always).
- ``modulo(a, b)`` is ANNarchy's ``long(a) % long(b)``: both operands are
  truncated to 64-bit integers, and the remainder has the sign of ``a`` (C).
  ``modulo(a, 0)`` (undefined in C) gives NaN.  The Python operator ``a % b``
  stays SymPy's ``Mod``, printed by SymPy as C's ``fmod``.
- ``round`` is C's ``round`` (half away from zero); ``isnan``/``isfinite`` are
  bool; comparisons of two int (or two bool) operands are exact integer
  comparisons, mixed ones are done in the float type.
- ``pos(x)``/``neg(x)``/``clip`` are ``x > 0 ? x : 0``-style selects (a NaN
  ``x`` gives the bound, as in ANNarchy's macros).
- ``c_int(x)`` / ``c_bool(x)`` (typed user functions) convert like a store into an
  int / bool attribute.
"""
from __future__ import annotations

import math
from typing import Callable

import sympy
from sympy.core.relational import Relational

from anncompiler.errors import ModelError
from anncompiler.ir.model import GLOBAL_OP_NAMES, Ref, global_op_ref, ref_of
from anncompiler.ir.stable_relations import as_is
from anncompiler.ir.kernel import (BinOp, Call, Cast, Cmp, Const, Expr, Logic, MATH_FUNCTIONS,
                                   Select, UnOp)
from anncompiler.ir.types import BOOL, I32, I64, DType, is_float

#: a typed reference (``ir.model.Ref``: an attribute, ``pre.x``, ``sum(exc)``, ``mean(r)``) -> its value
Resolver = Callable[[Ref], Expr]

_SYMPY_FUNCS = {
    sympy.exp: "exp", sympy.log: "log", sympy.sqrt: "sqrt", sympy.sin: "sin", sympy.cos: "cos",
    sympy.tan: "tan", sympy.asin: "asin", sympy.acos: "acos", sympy.atan: "atan",
    sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.tanh: "tanh", sympy.asinh: "asinh",
    sympy.acosh: "acosh", sympy.atanh: "atanh", sympy.floor: "floor", sympy.ceiling: "ceil",
    sympy.Abs: "fabs", sympy.atan2: "atan2",
}
_REL = {sympy.StrictLessThan: "<", sympy.LessThan: "<=", sympy.StrictGreaterThan: ">",
        sympy.GreaterThan: ">=", sympy.Equality: "==", sympy.Unequality: "!="}


class SympyToKernel:
    """Callable translator: ``SympyToKernel(resolve, F64)(expr) -> Expr``."""

    def __init__(self, resolve: Resolver, float_type: DType, model: str = "", source: str = ""):
        self.resolve = resolve
        self.ft = float_type
        self.model = model
        self.source = source

    # typing helpers -------------------------------------------------------
    def num(self, e: Expr) -> Expr:
        """Coerce to the float type (for arithmetic)."""
        if e.dtype == self.ft:
            return e
        if isinstance(e, Const):
            return Const(float(e.value), self.ft)
        return Cast(e, self.ft)

    def boolean(self, e: Expr) -> Expr:
        if e.dtype == BOOL:
            return e
        zero = Const(0.0, self.ft) if is_float(e.dtype) else Const(0, e.dtype)
        return Cmp("!=", e, zero)

    def const(self, v) -> Const:
        try:
            return Const(float(v), self.ft)
        except OverflowError:  # a huge exact integer: +-inf, as a C double literal
            return Const(math.copysign(math.inf, 1 if v > 0 else -1), self.ft)

    def integer(self, e: Expr, t: DType = I64) -> Expr:
        """C conversion to an integer type (truncation towards zero, saturating, NaN -> 0)."""
        if e.dtype == t:
            return e
        if isinstance(e, Const) and e.dtype != BOOL and not is_float(e.dtype):
            return Const(int(e.value), t)
        return Cast(e, t)

    # translation ----------------------------------------------------------
    def __call__(self, expr) -> Expr:
        return self.tr(sympy.sympify(expr))

    def fail(self, what: str):
        raise ModelError(what, model=self.model or None, equation=self.source or None)

    def tr(self, e) -> Expr:
        if e is sympy.true or e is sympy.S.true:
            return Const(True, BOOL)
        if e is sympy.false or e is sympy.S.false:
            return Const(False, BOOL)
        if isinstance(e, sympy.Symbol):
            return self.resolve(ref_of(e.name))
        if e is sympy.zoo:
            self.fail("the expression evaluates to complex infinity (a division by zero)")
        if e.is_Number:
            if e is sympy.nan:
                return self.const(math.nan)
            if e in (sympy.oo, -sympy.oo):
                return self.const(math.inf if e is sympy.oo else -math.inf)
            return self.const(float(e))
        if e is sympy.pi:
            return self.const(math.pi)
        if e is sympy.E:
            return self.const(math.e)
        if isinstance(e, sympy.Add):
            terms = [self.num(self.tr(a)) for a in e.args]
            out = terms[0]
            for t in terms[1:]:
                if isinstance(t, UnOp) and t.op == "neg":
                    out = BinOp("-", out, t.a, self.ft)
                else:
                    out = BinOp("+", out, t, self.ft)
            return out
        if isinstance(e, sympy.Mul):
            return self.mul(e)
        if isinstance(e, sympy.Pow):
            return self.pow(e.base, e.exp)
        if isinstance(e, (sympy.Max, sympy.Min)):
            op = "max" if isinstance(e, sympy.Max) else "min"
            # numbers last: ``x > 0 ? x : 0`` gives 0 for a NaN x, as ANNarchy's pos/neg macros
            ordered = sorted(e.args, key=lambda a: bool(a.is_Number))
            args = [self.num(self.tr(a)) for a in ordered]
            out = args[0]
            for a in args[1:]:
                out = BinOp(op, out, a, self.ft)
            return out
        if isinstance(e, sympy.Mod):
            return BinOp("%", self.num(self.tr(e.args[0])), self.num(self.tr(e.args[1])), self.ft)
        if isinstance(e, sympy.Piecewise):
            return self.piecewise(e.args)
        if isinstance(e, as_is):  # the identity that keeps a comparison's sides as written
            return self.tr(e.args[0])
        if isinstance(e, Relational):
            a, b = self.tr(e.lhs), self.tr(e.rhs)
            if type(e) in (sympy.Equality, sympy.Unequality):  # isnan(x) != 0, flag == 1: on bools
                if b.dtype == BOOL and a.dtype != BOOL:
                    a, b = b, a
                if a.dtype == BOOL and isinstance(b, Const) and b.dtype != BOOL and b.value in (0, 1):
                    b = Const(bool(b.value), BOOL)
            if a.dtype != b.dtype:
                a, b = self.num(a), self.num(b)
            return Cmp(_REL[type(e)], a, b)
        if isinstance(e, (sympy.And, sympy.Or)):
            op = "and" if isinstance(e, sympy.And) else "or"
            args = [self.boolean(self.tr(a)) for a in e.args]
            out = args[0]
            for a in args[1:]:
                out = Logic(op, out, a)
            return out
        if isinstance(e, sympy.Not):
            return UnOp("not", self.boolean(self.tr(e.args[0])), BOOL)
        if isinstance(e, sympy.Xor):
            args = [self.boolean(self.tr(a)) for a in e.args]
            out = args[0]
            for a in args[1:]:
                out = Cmp("!=", out, a)
            return out
        if isinstance(e, sympy.ITE):  # sympy's boolean if-then-else (from Piecewise conditions)
            c, x, y = (self.tr(a) for a in e.args)
            if x.dtype == BOOL and y.dtype == BOOL:
                return Select(self.boolean(c), x, y, BOOL)
            return Select(self.boolean(c), self.num(x), self.num(y), self.ft)
        name = type(e).__name__ if isinstance(e, sympy.Function) else None
        if name == "modulo" and len(e.args) == 2:
            return self.modulo(*e.args)
        if name == "c_int" and len(e.args) == 1:
            return self.integer(self.tr(e.args[0]), I32)
        if name == "c_bool" and len(e.args) == 1:
            return self.boolean(self.tr(e.args[0]))
        func = e.func if isinstance(e, sympy.Function) else None
        if func in _SYMPY_FUNCS:
            return Call(_SYMPY_FUNCS[func], tuple(self.num(self.tr(a)) for a in e.args), self.ft)
        if isinstance(e, sympy.Function) and type(e).__name__ in MATH_FUNCTIONS:
            name = type(e).__name__
            args = tuple(self.num(self.tr(a)) for a in e.args)
            if name in ("isnan", "isfinite"):
                return Call(name, args, BOOL)
            return Call(name, args, self.ft)
        if isinstance(e, sympy.Function) and type(e).__name__ in GLOBAL_OP_NAMES and len(e.args) == 1:
            # global operations (mean(x), gmax(x), ...): a typed reference for the resolver
            return self.resolve(global_op_ref(type(e).__name__, e.args[0]))
        self.fail(f"'{e}' cannot be compiled (not supported here yet)")

    def modulo(self, a, b) -> Expr:
        """ANNarchy's ``long(a) % long(b)``; NaN when ``long(b)`` is 0."""
        ia, ib = self.integer(self.tr(a)), self.integer(self.tr(b))
        if isinstance(ib, Const):
            if ib.value == 0:
                return self.const(math.nan)
            if ib.value in (1, -1):
                return self.const(0.0)
            return self.num(BinOp("%", ia, ib, I64))
        zero = Cmp("==", ib, Const(0, I64))
        # no division by zero, and no INT64_MIN % -1 (a trap on x86): x % 1 == x % -1 == 0
        unit = Logic("or", zero, Cmp("==", ib, Const(-1, I64)))
        safe = Select(unit, Const(1, I64), ib, I64)
        return Select(zero, self.const(math.nan), self.num(BinOp("%", ia, safe, I64)), self.ft)

    def mul(self, e) -> Expr:
        coeff, factors = e.as_coeff_mul()
        num, den = [], []
        for f in factors:
            if isinstance(f, sympy.Pow) and f.exp.is_Number and f.exp < 0:
                den.append(self.pow(f.base, -f.exp))
            else:
                num.append(self.num(self.tr(f)))
        negate = False
        if coeff == -1:
            negate = True
        elif coeff != 1:
            if coeff.is_Rational and not coeff.is_Integer and abs(coeff.p) == 1:
                den.insert(0, self.const(abs(coeff.q)))
                negate = coeff.p < 0
            else:
                num.insert(0, self.const(coeff))
        out = num[0] if num else self.const(1.0)
        for f in num[1:]:
            out = BinOp("*", out, f, self.ft)
        for d in den:
            out = BinOp("/", out, d, self.ft)
        return UnOp("neg", out, self.ft) if negate else out

    def pow(self, base, exp) -> Expr:
        b = self.num(self.tr(base))
        if exp == -1:
            return BinOp("/", self.const(1.0), b, self.ft)
        if exp == sympy.Rational(1, 2):
            return Call("sqrt", (b,), self.ft)
        if exp == 2:
            return BinOp("*", b, b, self.ft)
        if exp == 1:
            return b
        return BinOp("pow", b, self.num(self.tr(exp)), self.ft)

    def piecewise(self, pieces) -> Expr:
        (value, cond), rest = pieces[0], pieces[1:]
        if cond is sympy.true or not rest:
            return self.num(self.tr(value))
        return Select(self.boolean(self.tr(cond)), self.num(self.tr(value)), self.piecewise(rest), self.ft)
