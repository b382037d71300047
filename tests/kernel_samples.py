"""Hand-built kernel modules shared by the backend tests.

Each ``sample_*`` function returns a fresh :class:`KernelModule`;
:func:`allocate` plays the runtime's part (arrays from the declarations).
"""
from __future__ import annotations

import numpy as np

from anncompiler.ir.kernel import (MATH_FUNCTIONS, BinOp, Call, Cast, Cmp, Const, If, Kernel,
                                   KernelModule, Let, Logic, Loop, Select, Store, UnOp, Var,
                                   Comment, verify_module)
from anncompiler.ir.types import BOOL, F32, F64, I32, I64

X_VALUES = np.array([-2.5, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 2.5, 10.0, 800.0,
                     np.inf, -np.inf, np.nan])


def new_module() -> KernelModule:
    m = KernelModule({}, [])
    m.declare("net.t", I64, 1, "internal")
    return m


def allocate(m: KernelModule) -> dict[str, np.ndarray]:
    """What the runtime does: one C-contiguous array per declaration."""
    out = {}
    for d in m.arrays.values():
        a = np.zeros(d.size, dtype=d.dtype.numpy)
        a[...] = d.init
        out[d.name] = a
    return out


def c(v, t=F64):
    return Const(v, t)


def i32(n):
    return Const(n, I32)


def loop(var, stop, body, start=None):
    return Loop(var, start if start is not None else Const(0, var.dtype), stop, body)


def sample_leaky(n=10, dtype=F64) -> KernelModule:
    """``v[i] += dt*(E - v[i])/tau[i]``: the vectorisable update."""
    m = new_module()
    m.declare("pop.v", dtype, n, init=np.linspace(-1.0, 1.0, n))
    m.declare("pop.tau", dtype, n, "parameter", init=np.linspace(5.0, 20.0, n))
    m.declare("pop.E", dtype, 1, "parameter", init=2.0)
    i = Var("i", I32)
    v, tau, E = m.load("pop.v", i), m.load("pop.tau", i), m.load("pop.E")
    dv = BinOp("/", BinOp("*", c(0.1, dtype), BinOp("-", E, v, dtype), dtype), tau, dtype)
    m.kernels.append(Kernel("leaky", "update", [
        Comment("leaky integrator"),
        loop(i, i32(n), [Store("pop.v", i, BinOp("+", v, dv, dtype))])]))
    verify_module(m)
    return m


CSR_ROW_PTR = np.array([0, 2, 2, 5, 7], dtype=np.int32)
CSR_PRE = np.array([0, 3, 1, 2, 4, 0, 4], dtype=np.int32)
CSR_W = np.array([0.5, -1.25, 2.0, 0.1, 0.3, 1.5, -0.7])


def sample_csr() -> KernelModule:
    """``sum[i] = sum_k w[k]*r[pre[k]]`` over CSR rows, plus a changing ``r``."""
    m = new_module()
    m.declare("pre.r", F64, 5, init=np.array([0.1, 0.2, 0.3, 0.4, 0.5]))
    m.declare("proj.row_ptr", I32, 5, "connectivity", init=CSR_ROW_PTR)
    m.declare("proj.pre", I32, 7, "connectivity", init=CSR_PRE)
    m.declare("proj.w", F64, 7, "state", init=CSR_W)
    m.declare("post.sum", F64, 4)
    j, i, k = Var("j", I32), Var("i", I64), Var("k", I32)
    acc = Var("acc", F64)
    r_j = m.load("pre.r", j)
    m.kernels.append(Kernel("pre_rate", "update", [loop(j, i32(5), [
        Store("pre.r", j, BinOp("+", BinOp("*", r_j, c(0.9)), Cast(j, F64)))])]))
    m.kernels.append(Kernel("csr_sum", "psp", [loop(i, Const(4, I64), [
        Let(acc, c(0.0)),
        loop(k, m.load("proj.row_ptr", BinOp("+", i, Const(1, I64), I64)), [
            Let(acc, BinOp("+", acc, BinOp("*", m.load("proj.w", k),
                                            m.load("pre.r", m.load("proj.pre", k)))))],
             start=m.load("proj.row_ptr", i)),
        Store("post.sum", i, acc)])]))
    verify_module(m)
    return m


def sample_spikes(n=8) -> KernelModule:
    """Threshold crossing: If, reset, a spike list and its counter, a bool flag."""
    m = new_module()
    m.declare("pop.v", F64, n, init=np.linspace(0.0, 0.9, n))
    m.declare("pop.I", F64, n, "parameter", init=np.linspace(0.05, 0.4, n))
    m.declare("pop.fired", BOOL, n)
    m.declare("pop.spikes", I32, n, "spikes")
    m.declare("pop.n_spikes", I32, 1, "spikes")
    m.declare("pop.total", I64, 1)
    i = Var("i", I32)
    v = m.load("pop.v", i)
    cnt = m.load("pop.n_spikes")
    m.kernels.append(Kernel("spike", "spike", [
        Store("pop.n_spikes", Const(0, I64), i32(0)),
        loop(i, i32(n), [
            Store("pop.v", i, BinOp("+", v, m.load("pop.I", i))),
            Store("pop.fired", i, Cmp(">", v, c(1.0))),
            If(m.load("pop.fired", i), [
                Store("pop.spikes", cnt, i),
                Store("pop.n_spikes", Const(0, I64), BinOp("+", cnt, i32(1), I32)),
                Store("pop.v", i, c(0.0)),
            ], [Store("pop.v", i, BinOp("*", v, c(0.99)))]),
        ]),
        Store("pop.total", Const(0, I64), BinOp("+", m.load("pop.total"), Cast(cnt, I64), I64)),
    ]))
    verify_module(m)
    return m


def sample_math(dtype=F64) -> KernelModule:
    """Every math function, pow, %, min/max, Select/Cmp/Logic on awkward
    inputs (signed zeros, infinities, NaN, domain errors); x drifts each step."""
    m = new_module()
    n = len(X_VALUES)
    m.declare("x", dtype, n, init=X_VALUES)
    m.declare("y", dtype, n, init=np.roll(X_VALUES, 3))
    i = Var("i", I32)
    x, y = m.load("x", i), m.load("y", i)
    body = []
    for fn, arity in MATH_FUNCTIONS.items():
        out_t = BOOL if fn in ("isnan", "isfinite") else dtype
        m.declare(f"out.{fn}", out_t, n)
        body.append(Store(f"out.{fn}", i, Call(fn, (x, y)[:arity], out_t)))
    for op in ("pow", "%", "min", "max", "/", "+", "-", "*"):
        m.declare(f"bin.{op}", dtype, n)
        body.append(Store(f"bin.{op}", i, BinOp(op, x, y, dtype)))
    m.declare("sel", dtype, n)
    m.declare("logic", BOOL, n)
    m.declare("neg", dtype, n)
    m.declare("cmp", I32, n)
    t = Var("t", dtype)
    both = Logic("and", Cmp(">=", x, c(0.0, dtype)), UnOp("not", Cmp("==", y, y), BOOL))
    body += [
        Let(t, Select(Cmp("<", x, y), BinOp("-", y, x, dtype), BinOp("*", x, c(0.5, dtype), dtype), dtype)),
        Store("sel", i, t),
        Store("logic", i, Logic("or", both, Cmp("!=", x, c(0.5, dtype)))),
        Store("neg", i, UnOp("neg", x, dtype)),
        Store("cmp", i, BinOp("+", Cast(Cmp("<=", x, y), I32), Cast(Cmp(">", x, y), I32), I32)),
    ]
    body.append(Store("x", i, BinOp("+", x, c(0.25, dtype), dtype)))
    m.kernels.append(Kernel("math", "update", [loop(i, i32(n), body)]))
    verify_module(m)
    return m


INT_A = np.array([7, -7, 7, -7, 0, 13, -13, 2**31 - 1, -2**31 + 1, 5], dtype=np.int64)
INT_B = np.array([3, 3, -3, -3, 5, 4, -4, 2, 3, -1], dtype=np.int64)
FLOATS_TO_CAST = np.array([2.7, -2.7, 0.5, -0.5, 1e10, -1e10, np.nan, np.inf, -0.0, 3e9])


def sample_ints() -> KernelModule:
    """Integer / and % on negative operands (i32 and i64), casts of every kind."""
    m = new_module()
    n = len(INT_A)
    for t, name in ((I32, "32"), (I64, "64")):
        m.declare(f"a{name}", t, n, init=INT_A)
        m.declare(f"b{name}", t, n, init=INT_B)
        for op, tag in (("/", "div"), ("%", "mod"), ("*", "mul"), ("min", "min"), ("max", "max"),
                        ("pow", "pow")):
            m.declare(f"{tag}{name}", t, n)
    m.declare("f", F64, n, init=FLOATS_TO_CAST)
    for name, t in (("f2i32", I32), ("f2i64", I64), ("f2f32", F32), ("f2b", BOOL),
                    ("i2f", F64), ("i64toi32", I32), ("b2i", I32), ("b2f", F64), ("i2b", BOOL),
                    ("negi", I32)):
        m.declare(name, t, n)
    i = Var("i", I64)
    body = []
    for t, name in ((I32, "32"), (I64, "64")):
        a, b = m.load(f"a{name}", i), m.load(f"b{name}", i)
        for op, tag in (("/", "div"), ("%", "mod"), ("*", "mul"), ("min", "min"), ("max", "max"),
                        ("pow", "pow")):
            body.append(Store(f"{tag}{name}", i, BinOp(op, a, b, t)))
        body.append(Store(f"a{name}", i, BinOp("+", a, BinOp("*", b, Const(1000003, t), t), t)))
    f, a64, a32 = m.load("f", i), m.load("a64", i), m.load("a32", i)
    body += [
        Store("f2i32", i, Cast(f, I32)), Store("f2i64", i, Cast(f, I64)),
        Store("f2f32", i, Cast(f, F32)), Store("f2b", i, Cast(f, BOOL)),
        Store("i2f", i, Cast(a64, F64)), Store("i64toi32", i, Cast(a64, I32)),
        Store("b2i", i, Cast(m.load("f2b", i), I32)), Store("b2f", i, Cast(m.load("f2b", i), F64)),
        Store("i2b", i, Cast(a32, BOOL)), Store("negi", i, UnOp("neg", a32, I32)),
    ]
    m.kernels.append(Kernel("ints", "update", [loop(i, Const(n, I64), body)]))
    verify_module(m)
    return m


def sample_exit(limit=15) -> KernelModule:
    """A counter kernel and the exit condition ``counter >= limit or t >= 1000``."""
    m = new_module()
    m.declare("count", I64, 1)
    m.declare("acc", F64, 3)
    k = Var("k", I32)
    m.kernels.append(Kernel("count", "update", [
        Store("count", Const(0, I64), BinOp("+", m.load("count"), Const(1, I64), I64)),
        loop(k, i32(3), [Store("acc", k, BinOp("+", m.load("acc", k), Cast(k, F64)))]),
    ]))
    m.exit_conditions.append(Logic("or", Cmp(">=", m.load("count"), Const(limit, I64)),
                                   Cmp(">=", m.load("net.t"), Const(1000, I64))))
    verify_module(m)
    return m


SAMPLES = {
    "leaky": sample_leaky,
    "leaky_f32": lambda: sample_leaky(dtype=F32),
    "leaky_big": lambda: sample_leaky(n=1001),
    "csr": sample_csr,
    "spikes": sample_spikes,
    "math": sample_math,
    "math_f32": lambda: sample_math(F32),
    "ints": sample_ints,
    "exit": sample_exit,
}
