"""The log and cos of the random distributions (ir/rng_math.py): polynomials in kernel IR with the
same bits on every backend as their Python twins, within a few ulps of libm, and no libm call
left in a loop that draws Normal numbers."""
import math
import re

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.backends import get_backend
from anncompiler.ir import philox, rng_math
from anncompiler.ir.kernel import Const, Kernel, Loop, Store, Var, verify_module
from anncompiler.ir.types import F64, I64, U32

from kernel_samples import allocate, new_module

rng = np.random.default_rng(5)
#: integers in [1, 2**53]: the edges, small ones, every power of two, random ones
INTS = np.unique(np.concatenate([
    [1, 2, 3, 2**52, 2**53 - 1, 2**53], np.arange(1, 300), 2.0 ** np.arange(54),
    np.floor(2.0 ** rng.uniform(0, 53, 2000))])).astype(np.float64)
#: (quarter, fraction) pairs: the edges of the folding and random ones
QUARTERS = np.repeat(np.arange(4, dtype=np.uint32), 8)
FRACTIONS = np.tile(np.array([0.0, 0.5, 0.5 + 2.0 ** -51, 0.25, 1 - 2.0 ** -51, 1e-9, 0.7, 0.1]), 4)


def run(m, backend):
    b = get_backend(backend)()
    arrays = allocate(m)
    b.load(b.emit(m), arrays).run(1)
    return arrays


def log_module():
    m = new_module()
    m.declare("k", F64, len(INTS), init=INTS)
    m.declare("out", F64, len(INTS))
    i = Var("i", I64)
    em = philox.Emitter("_l")
    value = rng_math.log_int(em, m.load("k", i), -53)
    m.kernels.append(Kernel("log", "update", [Loop(i, Const(0, I64), Const(len(INTS), I64),
                                                   em.stmts + [Store("out", i, value)])]))
    verify_module(m)
    return m


def cos_module():
    m = new_module()
    m.declare("q", U32, len(QUARTERS), init=QUARTERS)
    m.declare("f", F64, len(FRACTIONS), init=FRACTIONS)
    m.declare("out", F64, len(FRACTIONS))
    i = Var("i", I64)
    em = philox.Emitter("_c")
    value = rng_math.cos_quarter(em, m.load("q", i), m.load("f", i))
    m.kernels.append(Kernel("cos", "update", [Loop(i, Const(0, I64), Const(len(FRACTIONS), I64),
                                                   em.stmts + [Store("out", i, value)])]))
    verify_module(m)
    return m


@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_log_has_the_bits_of_its_python_twin(backend):
    out = run(log_module(), backend)["out"]
    want = [rng_math.log_int_py(k, -53) for k in INTS]
    np.testing.assert_array_equal(out, want)
    assert out[INTS == 2**53][0] == 0.0


@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_cos_has_the_bits_of_its_python_twin(backend):
    out = run(cos_module(), backend)["out"]
    want = [rng_math.cos_quarter_py(int(q), f) for q, f in zip(QUARTERS, FRACTIONS)]
    np.testing.assert_array_equal(out, want)
    assert list(out[FRACTIONS == 0.0]) == [1.0, -0.0, -1.0, 0.0]


def test_close_to_libm():
    for k in INTS:
        exact = math.log(k * 2.0 ** -53)  # exact argument
        assert abs(rng_math.log_int_py(k, -53) - exact) <= 4 * 2.0 ** -53 * max(abs(exact), 1.0), k
    for q in range(4):
        for f in np.linspace(0.0, 1.0, 2001)[:-1]:
            a = f * math.pi / 2  # the quarter is exact: compare with the signs and swap of the circle
            exact = (math.cos(a), -math.sin(a), -math.cos(a), math.sin(a))[q]
            assert abs(rng_math.cos_quarter_py(q, f) - exact) <= 4 * 2.0 ** -53


def test_normal_draws_call_no_libm(tmp_path):
    net = ann.Network(dt=1.0, seed=1)
    net.create(100, ann.Neuron(equations=["r = Normal(0.0, 1.0)", "x = Exponential(2.0)"]))
    net.compile(backend="llvm", dump_ir=str(tmp_path))
    opt = next(tmp_path.glob("*llvm-opt.ll")).read_text()
    assert not re.search(r"call .*@(log|cos|sin)\b", opt)
    assert re.search(r"<\d+ x double>", opt)
