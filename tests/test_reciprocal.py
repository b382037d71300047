"""reciprocal-divisions (``compile(compiler_flags="-ffast-math")``): divisions by loop-invariant
values become multiplications by their reciprocal, with those bits on every backend and thread
count; without the flag the kernels divide."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.ir.kernel import BinOp, Const, Load, walk_expr, walk_stmts, stmt_exprs
from anncompiler.runtime.compile import pipeline_for_flags
from anncompiler.passes import DEFAULT_PIPELINE

LEAK = ann.Neuron(parameters="tau = 7.0 : population\n k = 3.0 : population\n I = 1.3",
                  equations=["tau * dv/dt = I - v", "dg/dt = v / k - g", "r = v / I"])


def build(backend="llvm", flags="default", threads=1):
    net = ann.Network(dt=0.1)
    net.config(num_threads=threads)
    pop = net.create(6, LEAK)
    pop.v = np.array([0.1, -0.7, 0.33, 1.9, 2.5, -3.1])
    pop.g = np.linspace(-1.0, 1.0, 6)
    pop.I = np.array([1.3, 0.7, 2.2, 1.0, 3.3, 0.9])  # a per-neuron divisor stays a division
    net.compile(backend=backend, compiler_flags=flags, silent=True)
    return net, pop


def divisions(net):
    found = []
    for k in net.kernel_module.kernels:
        for s in walk_stmts(k.body):
            for root in stmt_exprs(s):
                found += [e for e in walk_expr(root) if isinstance(e, BinOp) and e.op == "/"]
    return found


def numpy_run(steps, reciprocal: bool):
    """The explicit Euler steps of LEAK, dividing or multiplying by the reciprocal."""
    v = np.array([0.1, -0.7, 0.33, 1.9, 2.5, -3.1])
    g = np.linspace(-1.0, 1.0, 6)
    I = np.array([1.3, 0.7, 2.2, 1.0, 3.3, 0.9])
    tau, k, dt = 7.0, 3.0, 0.1
    div = (lambda x, d: x * (1.0 / d)) if reciprocal else (lambda x, d: x / d)
    for _ in range(steps):
        dv = div(I - v, tau)
        dg = -g + div(v, k)
        v, g = v + dv * dt, g + dg * dt
        r = v / I
    return v, g, r


def test_flags_choose_the_pass():
    assert pipeline_for_flags(DEFAULT_PIPELINE, "default") == DEFAULT_PIPELINE
    assert pipeline_for_flags(DEFAULT_PIPELINE, "-march=native -O2") == DEFAULT_PIPELINE
    for flags in ("-O3 -ffast-math", "-Ofast", "-march=native -freciprocal-math"):
        text = pipeline_for_flags(DEFAULT_PIPELINE, flags)
        assert "expand-powers,reciprocal-divisions,cse" in text
        assert pipeline_for_flags(text, flags) == text


def test_invariant_divisors_become_reciprocals_and_local_ones_stay():
    net, _ = build(flags="-ffast-math")
    assert "reciprocal-divisions" in net.pipeline
    found = divisions(net)
    # what is still divided: the reciprocals themselves (1/tau, 1/k) and v / I (I per neuron)
    assert all(isinstance(d.a, Const) and d.a.value == 1.0 for d in found
               if not (isinstance(d.b, Load) and d.b.array.endswith(".I")))
    assert any(isinstance(d.b, Load) and d.b.array.endswith(".I") for d in found)
    net_default, _ = build()
    assert "reciprocal-divisions" not in net_default.pipeline
    assert not any(isinstance(d.a, Const) and d.a.value == 1.0 for d in divisions(net_default))


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 1), ("llvm", 2), ("llvm", 3)])
def test_reciprocal_bits_on_every_backend(backend, threads):
    steps = 50
    exact, fast = numpy_run(steps, False), numpy_run(steps, True)
    assert not np.array_equal(exact[0], fast[0])  # the two computations really differ here
    for flags, want in (("default", exact), ("-O3 -ffast-math", fast)):
        net, pop = build(backend, flags, threads)
        net.simulate(steps * 0.1)
        np.testing.assert_array_equal(pop.v, want[0])
        np.testing.assert_array_equal(pop.g, want[1])
        np.testing.assert_array_equal(pop.r, want[2])


def test_user_pipeline_may_name_the_pass():
    net = ann.Network(dt=0.1)
    pop = net.create(6, LEAK)
    pop.v = 1.0
    net.compile(pipeline=DEFAULT_PIPELINE + ",reciprocal-divisions", silent=True)
    net.simulate(1.0)
    assert np.all(np.isfinite(pop.v))
    assert "reciprocal-divisions" in net.pipeline
