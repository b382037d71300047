"""``expand-powers``: integer powers as multiplications.

``pow(x, 3.0)`` is a libm call that LLVM cannot vectorise and that costs tens of cycles; sympy
also distributes integer powers over products (``(a*b)**3`` becomes ``a**3 * b**3``), so a
model with one cube can reach the kernels as two calls.  A constant integer exponent ``n`` with
``2 <= |n| <= max_exponent`` becomes a chain of multiplications by binary exponentiation
(``x**5 = (x*x)*(x*x)*x``: ``floor(log2 n) + popcount(n) - 1`` products, the squares shared by
``cse``), a negative one its reciprocal.  The rewrite is in the kernel IR, so every backend
computes the same bits.

Precision: ``pow`` rounds once; the chain rounds once per product, so in double precision the
result may differ from ``pow`` in the last bits (a relative error of at most about
``products * 2**-53``; ``products * 2**-24`` in ``float32`` kernels, which multiply in float: their
IR holds no double).  ``max_exponent=0`` keeps every ``pow``.
"""
from __future__ import annotations


from anncompiler.errors import PipelineError
from anncompiler.ir.kernel import (Accumulate, Append, BinOp, Const, Expr, If, Let, Loop, Prefetch, Reduce,
                                   Store)
from anncompiler.ir.types import is_float

from .manager import Pass, register_pass
from .rewrite import map_children

_STMT_EXPRS = {Let: ("value",), Store: ("index", "value"), If: ("cond",), Loop: ("start", "stop"),
               Prefetch: ("index",), Append: ("value",), Accumulate: ("index", "value"),
               Reduce: ("start", "stop", "value")}


def integer_exponent(e: Expr, largest: int) -> int | None:
    """The exponent of ``pow(x, n)`` when it is a constant integer worth expanding."""
    if not (isinstance(e, BinOp) and e.op == "pow" and is_float(e.dtype) and isinstance(e.b, Const)):
        return None
    value = e.b.value
    if isinstance(value, bool) or not float(value).is_integer():
        return None
    n = int(value)
    return n if 2 <= abs(n) <= largest else None


def power_by_squaring(x: Expr, n: int) -> Expr:
    """``x**n`` for ``n >= 1`` as products: the bits of ``n`` from the lowest, squaring ``x``."""
    result, square = None, x
    while True:
        if n & 1:
            result = square if result is None else BinOp("*", result, square, x.dtype)
        n >>= 1
        if not n:
            return result
        square = BinOp("*", square, square, x.dtype)


def expand_power(e: BinOp, n: int) -> Expr:
    out = power_by_squaring(e.a, abs(n))
    return BinOp("/", Const(1.0, e.dtype), out, e.dtype) if n < 0 else out


class _Rewriter:
    def __init__(self, largest: int):
        self.largest = largest
        self.memo: dict[int, tuple[Expr, Expr]] = {}  # id -> (original kept alive, rewritten)

    def expr(self, e: Expr) -> Expr:
        hit = self.memo.get(id(e))
        if hit is not None:
            return hit[1]
        out = map_children(e, self.expr)
        n = integer_exponent(out, self.largest)
        if n is not None:
            out = expand_power(out, n)
        self.memo[id(e)] = (e, out)
        return out

    def body(self, body: list) -> None:
        for s in body:
            for name in _STMT_EXPRS.get(type(s), ()):
                setattr(s, name, self.expr(getattr(s, name)))
            for b in s.bodies():
                self.body(b)


def expand_powers(km, max_exponent: int = 16) -> None:
    rewriter = _Rewriter(max_exponent)
    for k in km.kernels:
        rewriter.body(k.body)


@register_pass
class ExpandPowers(Pass):
    """Constant integer powers (``x**3``, ``x**-2``) as multiplications instead of libm's ``pow``."""
    name = "expand-powers"
    stage = "kernel"
    max_exponent: int = 16

    def __post_init__(self):
        if not 0 <= self.max_exponent <= 1024:
            raise PipelineError(f"pass '{self.name}': option 'max_exponent' must be in 0..1024, "
                                f"got {self.max_exponent}")

    def run(self, module):
        if module.kernels is not None:
            expand_powers(module.kernels, self.max_exponent)
