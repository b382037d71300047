"""Precision (dtype=ann.float32) and int/bool attributes, on both backends.

Semantics (see ``passes/sympy_to_kernel.py``): arithmetic is done in the float
type of the network; storing into an int attribute truncates towards zero (C
conversion), into a bool attribute it is ``!= 0``; ``modulo(a, b)`` is
ANNarchy's ``long(a) % long(b)`` (C remainder, sign of ``a``); ``round`` is
C's (half away from zero).
"""

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.ir.kernel import stmt_exprs, walk_expr, walk_stmts
from anncompiler.ir.types import F32, F64

BACKENDS = ["llvm", "reference"]


def small_model():
    return ann.Neuron(
        parameters=dict(tau=ann.Parameter(10.0, locality="local"), a=0.1, n=ann.Parameter(3, type=int)),
        equations="""
            tau * dr/dt = -r + k * sin(t) + a * exp(-r*r) + pos(v - 0.2)
            dv/dt = (r - v) / 3.0 + 0.01 * n : init=0.3
            c = r * 7.6 : int
            b = r > 0.1 : bool
            y = round(10 * r - 2.5) + modulo(c + n, 4)
            z = if b: sqrt(fabs(v)) else: power(v, 3)
        """, name="Small")


def run_small(backend, dtype=ann.float64, steps=40):
    net = ann.Network(dt=0.25, seed=1)
    net.config(dtype=dtype)
    net.constant("k", 2.0)
    pop = net.create(5, small_model())
    pop.r = np.array([0.5, -0.3, 1.2, 0.0, 2.0])
    pop.tau = np.array([10.0, 5.0, 20.0, 3.0, 7.0])
    net.compile(backend=backend)
    net.simulate(steps * 0.25)
    return net, pop


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_arrays(backend):
    net, pop = run_small(backend, ann.float32, steps=2)
    assert pop.r.dtype == np.float32 and pop.v.dtype == np.float32 and pop.y.dtype == np.float32
    assert pop.c.dtype == np.int32 and pop.b.dtype == np.bool_
    assert net.kernel_module.float_type == F32
    for name, a in net.kernel_module.arrays.items():
        assert a.dtype != F64, name
    assert net._arrays["net.constants"].dtype == np.float32


def test_float32_kernel_ir_has_no_double():
    _, pop = run_small("reference", ann.float32, steps=1)
    km = pop._net.kernel_module
    for k in km.kernels:
        for s in walk_stmts(k.body):
            for e in stmt_exprs(s):
                for x in walk_expr(e):
                    assert x.dtype != F64, x


def test_float32_llvm_ir_is_float():
    """Without libm calls, the native kernels use no double at all."""
    from anncompiler.backends.llvm.codegen import emit_module
    net = ann.Network(dt=0.5)
    net.config(dtype=ann.float32)
    net.constant("k", 0.1)
    pop = net.create(3, ann.Neuron(parameters=dict(tau=10.0),
                                   equations="tau * dr/dt = -r + k * t + 0.3 : min=-1, max=1"))
    net.compile(backend="llvm")
    text = str(emit_module(net.kernel_module))
    kernels = text[text.index("define internal"):text.index("define i64 @\"run\"")] \
        if 'define i64 @"run"' in text else text
    assert "float" in kernels and "double" not in kernels
    # the literal 0.3 is rounded to float (0x3FD3333340000000 is float(0.3) written as a double)
    assert "0x3fd3333340000000" in kernels.lower()
    net.simulate(5)
    assert pop.r.dtype == np.float32


def test_float32_backends_agree_bit_for_bit():
    _, a = run_small("llvm", ann.float32)
    _, b = run_small("reference", ann.float32)
    for name in a.attributes:
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.dtype == y.dtype
        assert np.array_equal(x, y, equal_nan=True), name


def test_float32_close_to_float64():
    _, s = run_small("llvm", ann.float32)
    _, d = run_small("llvm", ann.float64)
    for name in ("r", "v"):
        np.testing.assert_allclose(getattr(s, name), getattr(d, name), rtol=1e-5, atol=1e-5)
    assert s.r.dtype == np.float32 and d.r.dtype == np.float64


def test_setup_dtype_float32(quiet_deprecations):
    ann.setup(dtype=ann.float32)
    pop = ann.Population(4, ann.Neuron(parameters="tau = 5.0", equations="tau*dr/dt = 1 - r"))
    ann.compile()
    ann.simulate(3.0)
    assert pop.r.dtype == np.float32
    r = np.float32(0.0)
    for _ in range(3):
        r = np.float32(r + np.float32(np.float32(np.float32(1.0) - r) / np.float32(5.0)) * np.float32(1.0))
    assert pop.r[0] == r


# ---------------------------------------------------------------------------- int and bool

def run_model(backend, parameters, equations, n=1, init=None, steps=1, functions=None, dt=1.0, dtype=None):
    net = ann.Network(dt=dt, seed=3)
    if dtype is not None:
        net.config(dtype=dtype)
    pop = net.create(n, ann.Neuron(parameters=parameters, equations=equations, functions=functions))
    for k, v in (init or {}).items():
        setattr(pop, k, v)
    net.compile(backend=backend)
    net.simulate(steps * dt)
    return pop


@pytest.mark.parametrize("backend", BACKENDS)
def test_int_parameter_and_variables(backend):
    pop = run_model(backend, dict(n=ann.Parameter(3, type=int), f=ann.Parameter(True, type=bool)), """
        r = 0.5
        x = modulo(x + n, 5) : int
        c = -2.7 * n : int
        h = n / 2 : int
        hf = n / 2
        g = f : int
        big = 1e20 : int
    """, steps=5)
    assert pop.n == 3 and isinstance(pop.n, int)
    assert pop.f is True
    assert pop.x.dtype == np.int32 and pop.x[0] == (3 * 5) % 5
    assert pop.c[0] == -8             # -8.1 truncated towards zero
    assert pop.h[0] == 1 and pop.hf[0] == 1.5
    assert pop.g[0] == 1
    assert pop.big[0] == 2 ** 31 - 1  # saturating conversion


@pytest.mark.parametrize("backend", BACKENDS)
def test_int_variable_counts_steps(backend):
    pop = run_model(backend, "", """
        r = 0.0
        k = k + 1 : int
        m = modulo(k, 3) : int
        odd = modulo(k, 2) == 1 : bool
    """, steps=7)
    assert pop.k[0] == 7 and pop.m[0] == 1 and pop.odd[0]


def test_string_parameters_int_bool():
    pop = run_model("llvm", """
        n = 3 : int
        fl = True : bool
        h = 2.5
    """, "r = n + fl + h")
    assert pop.r[0] == 6.5
    assert pop.n.dtype == np.int32 and pop.fl.dtype == np.bool_


def c_long(x: float) -> int:
    """C ``long(x)`` as compiled (saturating, NaN -> 0)."""
    if x != x:
        return 0
    return max(-2 ** 63, min(2 ** 63 - 1, int(x))) if abs(x) != float("inf") else \
        (2 ** 63 - 1 if x > 0 else -2 ** 63)


def c_modulo(a: float, b: float) -> float:
    """ANNarchy's ``long(a) % long(b)`` (C remainder: sign of the dividend); NaN for b == 0."""
    x, y = c_long(a), c_long(b)
    if y == 0:
        return float("nan")
    q = abs(x) // abs(y)
    return float(x - y * (q if (x < 0) == (y < 0) else -q))


@pytest.mark.parametrize("backend", BACKENDS)
def test_modulo_is_c_remainder_of_truncated_operands(backend):
    a = np.array([-7.5, -7.0, -1.0, 0.0, 2.9, 7.0, 8.5, 1e30, np.nan, -3.2])
    b = np.array([2.0, 3.0, 3.0, 5.0, 2.0, -3.0, 0.0, 7.0, 3.0, -1.0])
    pop = run_model(backend, dict(a=ann.Parameter(0.0, locality="local"), b=ann.Parameter(0.0, locality="local")),
                    """
        r = modulo(a, b)
        m2 = modulo(-7, 3)
        m3 = 2 * modulo(a + 4, 3)
        pm = a % 2.5
    """, n=len(a), init=dict(a=a, b=b))
    np.testing.assert_array_equal(pop.r, [c_modulo(x, y) for x, y in zip(a, b)])
    assert pop.m2[0] == -1                      # C: -7 % 3 == -1 (sympy's Mod would say 2)
    np.testing.assert_array_equal(pop.m3, [2 * c_modulo(x + 4, 3) for x in a])
    np.testing.assert_array_equal(pop.pm, np.fmod(a, 2.5))


@pytest.mark.parametrize("backend", BACKENDS)
def test_round_half_away_from_zero(backend):
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, -3.7, 1e300, np.nan, -np.inf])
    pop = run_model(backend, dict(x=ann.Parameter(0.0, locality="local")), """
        r = round(x)
        ri = round(x) : int
    """, n=len(x), init=dict(x=x))
    expected = np.array([-3, -2, -1, 1, 2, 3, 0, -4, 1e300, np.nan, -np.inf])
    np.testing.assert_array_equal(pop.r, expected)
    assert pop.ri.tolist() == [-3, -2, -1, 1, 2, 3, 0, -4, 2 ** 31 - 1, 0, -2 ** 31]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bool_logic(backend):
    pop = run_model(backend, dict(n=ann.Parameter(3, type=int), x=ann.Parameter(0.0, locality="local")), """
        r = 0.5
        b1 = (x > 0) and (n == 3) : bool
        b2 = not b1 : bool
        b3 = b1 is True : bool
        b4 = n is not 2 : bool
        b5 = (x < -1) or (x > 1) : bool
        b6 = x : bool
        b7 = True : bool
        b8 = False : bool
        s = b1 + b7 * 2 + ite(x >= 0, 1, 0)
        iv = if b1: 10 else: if b5: 20 else: 30
    """, n=4, init=dict(x=np.array([-2.0, 0.0, 0.5, 3.0])))
    x = np.array([-2.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(pop.b1, x > 0)
    np.testing.assert_array_equal(pop.b2, ~(x > 0))
    np.testing.assert_array_equal(pop.b3, x > 0)
    assert pop.b4.all() and pop.b7.all() and not pop.b8.any()
    np.testing.assert_array_equal(pop.b5, np.abs(x) > 1)
    np.testing.assert_array_equal(pop.b6, x != 0)
    np.testing.assert_array_equal(pop.s, (x > 0) + 2 + (x >= 0))
    np.testing.assert_array_equal(pop.iv, np.where(x > 0, 10, np.where(np.abs(x) > 1, 20, 30)))
    assert pop.b1.dtype == np.bool_


@pytest.mark.parametrize("backend", BACKENDS)
def test_bool_spike_counter(backend):
    """A bool variable as the spike condition of a spiking neuron, an int counter in the reset."""
    net = ann.Network(dt=1.0)
    pop = net.create(2, ann.Neuron(
        parameters=dict(I=ann.Parameter(0.0, locality="local")),
        equations="""
            dv/dt = I - 0.1 * v
            up = v > 2.0 : bool
            count = count : int
        """, spike="up", reset="""
            v = 0.0
            count = count + 1
        """))
    pop.I = np.array([0.0, 1.0])
    net.compile(backend=backend)
    net.simulate(20)
    assert pop.count[0] == 0 and pop.count[1] == 6  # v = 1, 1.9, 2.71 -> spike every 3 steps
    assert pop.count.dtype == np.int32


def test_int_f32_network():
    pop = run_model("llvm", dict(n=ann.Parameter(7, type=int)), """
        r = n / 2
        q = n / 2 : int
        m = modulo(n, 4) : int
    """, dtype=ann.float32)
    assert pop.r.dtype == np.float32 and pop.r[0] == 3.5 and pop.q[0] == 3 and pop.m[0] == 3


def test_kernel_ir_types():
    """int/bool arrays are typed in the kernel IR; the store converts."""
    net = ann.Network()
    pop = net.create(2, ann.Neuron(equations="r = 1.5\nx = r * 3 : int\nb = x > 2 : bool"))
    net.compile(backend="reference")
    arrays = net.kernel_module.arrays
    assert arrays[f"{pop.name}.x"].dtype.value == "i32"
    assert arrays[f"{pop.name}.b"].dtype.value == "bool"
    net.simulate(1)
    assert pop.x[0] == 4 and pop.b[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bool_in_ordered_comparisons(backend):
    pop = run_model(backend, dict(x=ann.Parameter(0.0, locality="local")), """
        r = 0.0
        f = x > 0 : bool
        lt = x < f : bool
        gt = f > x : bool
        eq = f == 1 : bool
        ne = 0 != f : bool
    """, n=3, init=dict(x=np.array([-1.0, 0.5, 2.0])), steps=2)
    x, f = np.array([-1.0, 0.5, 2.0]), np.array([False, True, True])
    np.testing.assert_array_equal(pop.lt, x < f)
    np.testing.assert_array_equal(pop.gt, f > x)
    np.testing.assert_array_equal(pop.eq, f)
    np.testing.assert_array_equal(pop.ne, f)
