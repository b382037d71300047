"""``reciprocal-divisions``: divisions by a loop-invariant value as multiplications (opt in).

``tau * dv/dt = f`` is computed as ``f / tau`` for every neuron at every step.  A float division
costs several times a multiplication (on a current x86 core one 8-lane division takes about as
long as a dozen multiplications), and COBA's update holds three of them: they take nearly half of
its step.  ``x / d``, where ``d`` does not change inside the loop, becomes ``x * (1.0 / d)``;
the reciprocal is computed once (LLVM hoists it; ``cse`` shares it between equations).

This is C compilers' ``-freciprocal-math`` (part of ``-ffast-math``, which Brian2 uses by
default): ``x * (1/d)`` rounds twice, so it may differ from ``x / d`` in the last bit (a relative
error below ``2**-52``).  It is therefore not in the default pipeline: ``compile(compiler_flags=
"-ffast-math")`` (or ``-Ofast``, ``-freciprocal-math``) adds it, as ANNarchy passes such flags to
its C++ compiler.  The rewrite is in the kernel IR, so every backend and thread count still gives
the same bits as every other.

A divisor qualifies when it is built only from constants, elements at constant indices of arrays
the kernel never writes (global parameters such as ``tau[0]``) and locals defined outside the
innermost loop around the division (terms hoisted out of a synapse loop).  A constant divisor
that is a power of two is left alone (the division is already exact as a product).
"""
from __future__ import annotations

import math

from anncompiler.ir.kernel import (Accumulate, Append, BinOp, Cast, Const, Expr, If, Let, Load, Loop, Prefetch,
                                   Reduce, Store, Var)
from anncompiler.ir.kernel_access import written_arrays
from anncompiler.ir.types import is_float

from .manager import Pass, register_pass
from .rewrite import map_children

_STMT_EXPRS = {Let: ("value",), Store: ("index", "value"), If: ("cond",), Loop: ("start", "stop"),
               Prefetch: ("index",), Append: ("value",), Accumulate: ("index", "value"),
               Reduce: ("start", "stop", "value")}

#: compiler flags (ANNarchy's ``compile(compiler_flags=...)``) that ask for this rewrite
FAST_MATH_FLAGS = ("-ffast-math", "-Ofast", "-freciprocal-math")


def wants_reciprocal(compiler_flags) -> bool:
    """Whether ANNarchy-style ``compiler_flags`` ask for reciprocal divisions."""
    return isinstance(compiler_flags, str) and any(f in compiler_flags.split() for f in FAST_MATH_FLAGS)


def _power_of_two(value) -> bool:
    m, _ = math.frexp(float(value))
    return abs(m) == 0.5


class _Rewriter:
    def __init__(self, written: set):
        self.written = written
        self.outer: set = set()      # locals defined outside the innermost loop being visited
        self.inner: set = set()      # locals defined inside it (so far)
        self.in_loop = False
        self.count = 0

    def invariant(self, e: Expr) -> bool:
        if isinstance(e, Const):
            return True
        if isinstance(e, Var):
            return e.name in self.outer and e.name not in self.inner
        if isinstance(e, Load):
            return e.array not in self.written and isinstance(e.index, Const)
        if isinstance(e, Cast):
            return self.invariant(e.a)
        if isinstance(e, BinOp) and e.op in ("+", "-", "*", "/"):
            return self.invariant(e.a) and self.invariant(e.b)
        return False

    def expr(self, e: Expr) -> Expr:
        out = map_children(e, self.expr)
        if (self.in_loop and isinstance(out, BinOp) and out.op == "/" and is_float(out.dtype)
                and self.invariant(out.b) and not (isinstance(out.b, Const) and _power_of_two(out.b.value))):
            self.count += 1
            return BinOp("*", out.a, BinOp("/", Const(1.0, out.dtype), out.b, out.dtype), out.dtype)
        return out

    def body(self, body: list) -> None:
        for s in body:
            per_iteration = ("value",) if isinstance(s, Reduce) else ()
            for name in _STMT_EXPRS.get(type(s), ()):
                if name not in per_iteration:
                    setattr(s, name, self.expr(getattr(s, name)))
            if isinstance(s, Let):
                self.inner.add(s.var.name)
            if isinstance(s, (Loop, Reduce)):
                saved = (self.outer, self.inner, self.in_loop)
                self.outer, self.inner, self.in_loop = self.outer | self.inner, {s.var.name}, True
                if isinstance(s, Reduce):
                    s.value = self.expr(s.value)
                for b in s.bodies():
                    self.body(b)
                self.outer, self.inner, self.in_loop = saved
                if isinstance(s, Reduce):
                    self.inner.add(s.acc.name)
            else:
                for b in s.bodies():
                    self.body(b)


def reciprocal_divisions(km) -> int:
    """Rewrite every kernel of ``km``; the number of divisions rewritten."""
    total = 0
    for k in km.kernels:
        rewriter = _Rewriter(written_arrays(k.body))
        rewriter.body(k.body)
        total += rewriter.count
    return total


@register_pass
class ReciprocalDivisions(Pass):
    """``x / d`` with ``d`` invariant in the loop as ``x * (1/d)``: ``-freciprocal-math``, opt in."""
    name = "reciprocal-divisions"
    stage = "kernel"

    def run(self, module):
        if module.kernels is not None:
            reciprocal_divisions(module.kernels)
