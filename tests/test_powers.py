"""expand-powers: constant integer powers become products (no libm pow in the kernels), with the
bits of binary exponentiation on every backend."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import PipelineError
from anncompiler.ir.kernel import BinOp, walk_expr, walk_stmts, stmt_exprs
from anncompiler.passes import parse_pipeline
from anncompiler.passes.powers import power_by_squaring

MODEL = ann.Neuron(parameters="a = 1.0", equations="""
    r = (a * x)^3 + x^-2 + x^5 + x^2.5 + x^17
    x = x + 0.001
""")


def kernels_of(net):
    return net.kernel_module


def pows(km):
    found = []
    for k in km.kernels:
        for s in walk_stmts(k.body):
            for root in stmt_exprs(s):
                found += [e for e in walk_expr(root) if isinstance(e, BinOp) and e.op == "pow"]
    return found


def squares(x, n):
    """Binary exponentiation in numpy, the order the pass uses."""
    result, square = None, x
    while True:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if not n:
            return result
        square = square * square


def expected(x, a):
    with np.errstate(all="ignore"):
        return squares(a * x, 3) + 1.0 / squares(x, 2) + squares(x, 5) + np.power(x, 2.5) + np.power(x, 17.0)


def build(backend, **kw):
    net = ann.Network(dt=1.0)
    pop = net.create(5, MODEL)
    pop.x = np.array([0.3, 1.7, 2.9, 0.9, 1.1])
    pop.a = 1.3
    net.compile(backend=backend, **kw)
    return net, pop


@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_integer_powers_are_products_with_their_bits(backend):
    net, pop = build(backend)
    x0 = pop.x.copy()
    net.step()
    # sympy distributes (a*x)^3 over the product: a^3 * x^3, each expanded
    with np.errstate(all="ignore"):
        a = 1.3
        want = squares(a, 3) * squares(x0, 3) + 1.0 / squares(x0, 2) + squares(x0, 5) \
            + np.power(x0, 2.5) + np.power(x0, 17.0)
    r = pop.r
    assert np.allclose(r, expected(x0, a), rtol=1e-13)
    # the terms may be added in another order by sympy: compare each against its own bits
    assert np.allclose(r, want, rtol=1e-15)


def test_only_non_integer_and_large_exponents_keep_pow():
    net, _ = build("reference")
    exponents = sorted(e.b.value for e in pows(kernels_of(net)))
    assert exponents == [2.5, 17.0]


def test_max_exponent_zero_keeps_every_pow():
    from anncompiler.passes import DEFAULT_PIPELINE
    net, pop = build("reference", pipeline=DEFAULT_PIPELINE.replace("expand-powers", "expand-powers{max_exponent=0}"))
    assert len(pows(kernels_of(net))) >= 4


def test_backends_agree_bit_for_bit():
    runs = []
    for backend, threads in [("reference", 1), ("llvm", 1), ("llvm", 2)]:
        net = ann.Network(dt=1.0)
        pop = net.create(40, MODEL)
        pop.x = np.linspace(-2.0, 3.0, 40)
        if threads > 1:
            net.config(num_threads=threads)
        net.compile(backend=backend)
        net.simulate(5)
        runs.append(pop.r)
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


def test_float32_multiplies_in_float():
    net = ann.Network(dt=1.0)
    net.config(dtype=ann.float32)
    pop = net.create(3, ann.Neuron(equations="r = x^3\nx = x"))
    pop.x = np.array([1.1, 2.3, -0.7], dtype=np.float32)
    net.compile(backend="llvm")
    net.step()
    x = np.array([1.1, 2.3, -0.7], dtype=np.float32)
    np.testing.assert_array_equal(pop.r, (x * x) * x)


def test_power_by_squaring_counts_products():
    from anncompiler.ir.kernel import Var
    x = Var("x")
    for n in range(1, 20):
        products = len({id(e) for e in walk_expr(power_by_squaring(x, n)) if isinstance(e, BinOp)})
        assert products == n.bit_length() - 1 + bin(n).count("1") - 1


def test_bad_option_is_a_pipeline_error():
    with pytest.raises(PipelineError, match="max_exponent"):
        parse_pipeline("expand-powers{max_exponent=-1}")
