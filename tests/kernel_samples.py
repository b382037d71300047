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


# --------------------------------------------------------------------------
# unsigned integers, bitwise operators, Philox

U32_A = np.array([0, 1, 7, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0xD2511F53, 123456789, 3, 0xFFFF0000],
                 dtype=np.uint64)
U32_B = np.array([1, 0xFFFFFFFF, 3, 2, 0x80000001, 5, 0xCD9E8D57, 31, 33, 17], dtype=np.uint64)


def sample_unsigned() -> KernelModule:
    """u32/u64/i32/i64: wrap-around arithmetic, unsigned / % min max and
    comparisons, bitwise operators, logical and arithmetic shifts, mulhi, and
    casts between every integer type and to/from floats; the inputs are
    scrambled each step (multiply-xorshift) so that many values are seen."""
    from anncompiler.ir.types import U32, U64
    m = new_module()
    n = len(U32_A)
    types = {"u32": U32, "u64": U64, "i32": I32, "i64": I64}
    a64 = (U32_A << np.uint64(32)) | U32_B
    b64 = (U32_B << np.uint64(32)) | U32_A
    inits = {"u32": (U32_A, U32_B), "u64": (a64, b64),
             "i32": (U32_A.astype(np.uint32).view(np.int32), U32_B.astype(np.uint32).view(np.int32)),
             "i64": (a64.view(np.int64), b64.view(np.int64))}
    ops = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "min": "min", "max": "max",
           "and": "&", "or": "|", "xor": "^", "shl": "<<", "shr": ">>", "mulhi": "mulhi"}
    i = Var("i", I64)
    body = []
    for tn, t in types.items():
        bits = 32 if tn.endswith("32") else 64
        a0, b0 = inits[tn]
        m.declare(f"{tn}.a", t, n, init=a0)
        m.declare(f"{tn}.b", t, n, init=b0)
        a, b = m.load(f"{tn}.a", i), m.load(f"{tn}.b", i)
        safe_b = BinOp("|", b, Const(1, t), t)  # never zero
        count = BinOp("&", b, Const(bits - 1, t), t)
        for tag, op in ops.items():
            m.declare(f"{tn}.{tag}", t, n)
            rhs = safe_b if op in ("/", "%") else count if op in ("<<", ">>") else b
            body.append(Store(f"{tn}.{tag}", i, BinOp(op, a, rhs, t)))
        m.declare(f"{tn}.lt", BOOL, n)
        m.declare(f"{tn}.neg", t, n)
        body.append(Store(f"{tn}.lt", i, Cmp("<", a, b)))
        body.append(Store(f"{tn}.neg", i, UnOp("neg", a, t)))
        for dn, d in list(types.items()) + [("f64", F64), ("f32", F32), ("bool", BOOL)]:
            m.declare(f"{tn}.to_{dn}", d, n)
            body.append(Store(f"{tn}.to_{dn}", i, Cast(a, d)))
        m.declare(f"f64.to_{tn}", t, n)
        body.append(Store(f"f64.to_{tn}", i, Cast(BinOp("*", Cast(a, F64), Const(-1.5, F64)), t)))
        # scramble: a = a * K + b; b ^= b >> 7 (wraps)
        body.append(Store(f"{tn}.a", i, BinOp("+", BinOp("*", a, Const(0x9E3779B9, t) if t in (U32, U64)
                                                           else Const(-1640531527, t), t), b, t)))
        body.append(Store(f"{tn}.b", i, BinOp("^", b, BinOp(">>", b, Const(7, t), t), t)))
    m.kernels.append(Kernel("unsigned", "update", [loop(i, Const(n, I64), body)]))
    verify_module(m)
    return m


PHILOX_KAT = [  # Random123 kat_vectors: philox4x32 10 rounds (counter, key, expected)
    ((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


def sample_philox(n=16) -> KernelModule:
    """Philox4x32-10 on n (counter, key) pairs, the known-answer vectors
    first; the counters' first word is incremented each step."""
    from anncompiler.ir.philox import Emitter, philox4x32_10
    from anncompiler.ir.types import U32
    m = new_module()
    rng = np.random.default_rng(5)
    ctr = rng.integers(0, 2**32, size=(n, 4), dtype=np.uint64)
    key = rng.integers(0, 2**32, size=(n, 2), dtype=np.uint64)
    for k, (c_, k_, _) in enumerate(PHILOX_KAT):
        ctr[k], key[k] = c_, k_
    m.declare("ctr", U32, 4 * n, init=ctr.ravel())
    m.declare("key", U32, 2 * n, init=key.ravel())
    m.declare("out", U32, 4 * n)
    i = Var("i", I64)

    def at(k, stride, j):
        return BinOp("+", BinOp("*", k, Const(stride, I64), I64), Const(j, I64), I64)
    em = Emitter("_ph")
    words = philox4x32_10(em, [m.load("ctr", at(i, 4, j)) for j in range(4)],
                          [m.load("key", at(i, 2, j)) for j in range(2)])
    body = em.stmts + [Store("out", at(i, 4, j), words[j]) for j in range(4)]
    m.kernels.append(Kernel("philox", "update", [loop(i, Const(n, I64), body)]))
    m.kernels.append(Kernel("bump", "update", [loop(i, Const(n, I64), [
        Store("ctr", at(i, 4, 0), BinOp("+", m.load("ctr", at(i, 4, 0)), Const(1, U32), U32))])]))
    verify_module(m)
    return m


SAMPLES["unsigned"] = sample_unsigned
SAMPLES["philox"] = sample_philox
