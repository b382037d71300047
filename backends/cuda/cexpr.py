"""Kernel IR expressions as CUDA C, with the reference backend's semantics.

C leaves signed overflow, out-of-range float -> int conversions and large shifts of negative
numbers undefined; the kernel IR defines them (wrap-around, saturation), so the prelude's small
``__device__`` helpers do signed arithmetic in unsigned types and convert floats explicitly.
Numbers print exactly: floats as hexadecimal literals, non-finite ones from their bits.
f32 library functions are computed in double and rounded once, as the reference does;
CUDA's double functions (``exp``, ``log``, ``pow`` ...) are within an ulp or two of the C
library's, so results that depend on them may differ from the CPU backends in the last bits.
"""
from __future__ import annotations

import math
import re
import struct

import numpy as np

from anncompiler.errors import BackendError
from anncompiler.ir import kernel as K
from anncompiler.ir.types import BOOL, F32, F64, I32, I64, INT_BITS, U16, U32, U64, DType, is_float, is_int, is_unsigned

#: C type of a local / an operation
CTYPE = {F64: "double", F32: "float", I32: "int", I64: "long long", U32: "unsigned int",
         U64: "unsigned long long", U16: "unsigned short", BOOL: "bool"}
#: C type of an array element (numpy stores bools as bytes)
MEMTYPE = {**CTYPE, BOOL: "unsigned char"}
#: unsigned type of the same width, where signed arithmetic wraps
_UNSIGNED = {I32: "unsigned int", I64: "unsigned long long", U32: "unsigned int",
             U64: "unsigned long long", U16: "unsigned int"}
#: math functions exact in either precision (computed in the operand's type)
_EXACT = ("sqrt", "fabs", "floor", "ceil", "trunc", "round")
_SUFFIX = {F64: "", F32: "f"}

PRELUDE = r"""
// anncompiler: semantics helpers (saturating conversions, wrap-around, C division)
#ifndef ANNC_W
#define ANNC_W(w) (w)  // threads of a group folding one row (the host device runs groups of one)
#endif
template <typename T> __device__ __forceinline__ T annc_min(T a, T b) { return a < b ? a : b; }
template <typename T> __device__ __forceinline__ T annc_max(T a, T b) { return a > b ? a : b; }
template <typename I, typename F> __device__ __forceinline__ I annc_ftoi(F x, F lo, F hi, I ilo, I ihi) {
  if (x != x) return (I)0;
  if (x <= lo) return ilo;
  if (x >= hi) return ihi;
  return (I)x;
}
#define ANNC_FTOI(I, F, x, ILO, IHI) annc_ftoi<I, F>((x), (F)(ILO), (F)(IHI), (I)(ILO), (I)(IHI))
__device__ __forceinline__ int annc_sdiv32(int a, int b) { return b == -1 ? (int)(0u - (unsigned int)a) : a / b; }
__device__ __forceinline__ int annc_srem32(int a, int b) { return b == -1 ? 0 : a % b; }
__device__ __forceinline__ long long annc_sdiv64(long long a, long long b) {
  return b == -1 ? (long long)(0ull - (unsigned long long)a) : a / b;
}
__device__ __forceinline__ long long annc_srem64(long long a, long long b) { return b == -1 ? 0 : a % b; }
__device__ __forceinline__ bool annc_any(const unsigned char *p, long long n) {
  bool r = false;
  for (long long k = 0; k < n; ++k) r = r || p[k] != 0;
  return r;
}
"""


def _int_limits(t: DType) -> tuple[int, int]:
    bits = INT_BITS[t]
    return (0, (1 << bits) - 1) if is_unsigned(t) else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def int_literal(value: int, t: DType) -> str:
    """An exact C literal of integer type ``t`` (wrapped like the reference's constants)."""
    lo, hi = _int_limits(t)
    v = (int(value) - lo) % (hi - lo + 1) + lo
    if t == I64:
        return "(-9223372036854775807LL - 1)" if v == lo else f"{v}LL" if v >= 0 else f"({v}LL)"
    if t == I32:
        return "(-2147483647 - 1)" if v == lo else str(v) if v >= 0 else f"({v})"
    if t == U64:
        return f"{v}ull"
    if t == U32:
        return f"{v}u"
    return f"((unsigned short){v}u)"


def float_literal(value: float, t: DType) -> str:
    """An exact C literal: hexadecimal for finite values, bit patterns for inf and NaN."""
    if t == F32:  # rounded as the reference rounds its f32 constants
        with np.errstate(over="ignore"):
            single = np.float32(value)
        if not np.isfinite(single):
            return f"__int_as_float({int(single.view(np.uint32)):#x})"
        value = float(single)
    elif not math.isfinite(value):
        (bits,) = struct.unpack("<Q", struct.pack("<d", value))
        return f"__longlong_as_double({bits:#x}ll)"
    text = float(value).hex() + _SUFFIX[t]
    return f"({text})" if text.startswith("-") else text


def literal(value, t: DType) -> str:
    if t == BOOL:
        return "true" if value else "false"
    if is_float(t):
        return float_literal(float(value), t)
    return int_literal(int(value), t)


def identifier(name: str) -> str:
    """A C identifier for an IR name (``pop0.v`` -> ``pop0_v``); callers keep them unique."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


class ExprRenderer:
    """Renders expressions; ``arrays`` maps array names to C parameter names, ``local`` maps
    (local name, type) to a C variable name."""

    def __init__(self, module: K.KernelModule, arrays: dict[str, str], local):
        self.module, self.arrays, self.local = module, arrays, local

    def __call__(self, e: K.Expr) -> str:
        method = getattr(self, "_" + type(e).__name__, None)
        if method is None:
            raise BackendError(f"cuda backend: unsupported expression {e!r}")
        return method(e)

    def array(self, name: str) -> str:
        if name not in self.arrays:
            raise BackendError(f"cuda backend: array {name!r} is not declared")
        return self.arrays[name]

    def _Const(self, e: K.Const):
        return literal(e.value, e.dtype)

    def _Var(self, e: K.Var):
        return self.local(e)

    def _Load(self, e: K.Load):
        ref = f"{self.array(e.array)}[{self(e.index)}]"
        return f"({ref} != 0)" if self.module.arrays[e.array].dtype == BOOL else ref

    def _BinOp(self, e: K.BinOp):
        a, b, t, op = self(e.a), self(e.b), e.dtype, e.op
        if op in ("min", "max"):
            return f"annc_{op}<{CTYPE[t]}>({a}, {b})"
        if op == "pow":
            return self.from_double(f"pow({self.to_double(a, t)}, {self.to_double(b, t)})", t)
        if is_float(t):
            if op == "%":
                return f"fmod{_SUFFIX[t]}({a}, {b})"
            return f"({a} {op} {b})"
        if not is_int(t):
            raise BackendError(f"cuda backend: arithmetic {op!r} on {t.value}")
        ct, ut = CTYPE[t], _UNSIGNED[t]
        if op == "mulhi":
            if t == U16:
                return f"(({ct})((({ut}){a} * ({ut}){b}) >> 16))"
            fn = {I32: "__mulhi", I64: "__mul64hi", U32: "__umulhi", U64: "__umul64hi"}[t]
            return f"{fn}({a}, {b})"
        if op in ("/", "%") and t in (I32, I64):
            fn = f"annc_s{'div' if op == '/' else 'rem'}{INT_BITS[t]}"
            return f"{fn}({a}, {b})"
        if op in ("/", "%", "&", "|", "^") or (op == ">>" and not is_unsigned(t)) or t in (U32, U64):
            return f"(({ct})({a} {op} {b}))"  # unsigned (wraps), or exact on signed (>> is arithmetic)
        return f"(({ct})(({ut}){a} {op} ({ut}){b}))"  # + - * << wrap around

    def _UnOp(self, e: K.UnOp):
        a = self(e.a)
        if e.op == "not":
            return f"(!{a})"
        if is_float(e.dtype):
            return f"(-{a})"
        return f"(({CTYPE[e.dtype]})(0u - ({_UNSIGNED[e.dtype]}){a}))"

    def _Call(self, e: K.Call):
        args = [self(x) for x in e.args]
        t = e.args[0].dtype
        if e.fn in ("isnan", "isfinite"):
            return f"{e.fn}({args[0]})"
        if e.fn in _EXACT:
            return f"{e.fn}{_SUFFIX[t]}({args[0]})"
        return self.from_double(f"{e.fn}({', '.join(self.to_double(a, t) for a in args)})", e.dtype)

    def _Cmp(self, e: K.Cmp):
        return f"({self(e.a)} {e.op} {self(e.b)})"  # C: != is true on NaN, the others false

    def _Logic(self, e: K.Logic):
        return f"({self(e.a)} {'&&' if e.op == 'and' else '||'} {self(e.b)})"

    def _Select(self, e: K.Select):
        return f"({self(e.cond)} ? {self(e.a)} : {self(e.b)})"

    def _AnyOf(self, e: K.AnyOf):
        return f"annc_any({self.array(e.array)} + ({self(e.start)}), {int(e.count)})"

    def _Cast(self, e: K.Cast):
        src, dst, a = e.a.dtype, e.dtype, self(e.a)
        if src == dst:
            return a
        if dst == BOOL:
            return f"({a} != 0)"
        if is_float(src) and is_int(dst):
            return self.float_to_int(a, src, dst)
        return f"(({CTYPE[dst]}){a})"  # C conversions: rounding, zero/sign extension, truncation

    # -- helpers ---------------------------------------------------------
    @staticmethod
    def to_double(a: str, t: DType) -> str:
        return a if t == F64 else f"((double){a})"

    def from_double(self, a: str, t: DType) -> str:
        if t == F64:
            return a
        if t == F32:
            return f"((float){a})"
        return self.float_to_int(a, F64, t)

    @staticmethod
    def float_to_int(a: str, src: DType, dst: DType) -> str:
        """Saturating conversion (NaN -> 0) of a float to an integer type."""
        lo, hi = _int_limits(dst)
        return f"ANNC_FTOI({CTYPE[dst]}, {CTYPE[src]}, {a}, {int_literal(lo, dst)}, {int_literal(hi, dst)})"
