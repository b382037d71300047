"""Two draws per Philox block: neurons 2k and 2k+1 share the block of counter word k (Uniform: words
0-1 and 2-3; Normal: the cosine and sine outputs of one Box-Muller pair), ``ir/philox.py``.  On the
CPU ``cpu-pair-draws`` computes that block once per pair; every backend and thread count (also
partitions that split a pair) gives the bits of the Python twins (``ir/philox_twins.py``)."""
import math

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.backends import get_backend
from anncompiler.ir import philox, rng_math
from anncompiler.ir.kernel import BinOp, Const, Kernel, Let, Loop, Store, Var, verify_module, walk_expr, walk_stmts
from anncompiler.ir.philox_twins import normal_py, uniform_py
from anncompiler.ir.types import F64, I64, U32

from kernel_samples import allocate, new_module

SEED = 11
EQUATIONS = ["r = 0", "z = Normal(mu, 2.0)", "u = Uniform(-1.0, 3.0)", "b = Binomial(n_trials, 0.1)",
             "e = Exponential(2.0)", "dy/dt = -y + Normal(0.0, 1.0)"]
RUNS = [("llvm", 1), ("llvm", 2), ("llvm", 3)]


def pair_net(n, backend="llvm", threads=1, seed=SEED, equations=EQUATIONS):
    net = ann.Network(dt=1.0, seed=seed)
    net.config(num_threads=threads)
    model = ann.Neuron(parameters="mu = 0.5 : population\nn_trials = 300 : population", equations=equations)
    pop = net.create(n, model)
    net.compile(backend=backend)
    return net, pop


def state(pop):
    return {name: np.array(getattr(pop, name)) for name in ("z", "u", "b", "e", "y")}


@pytest.fixture(scope="module")
def reference():
    """1001 neurons (3 threads cut at the odd ranks 333 and 667), 3 steps."""
    net, pop = pair_net(1001, "reference")
    net.simulate(3.0)
    return state(pop)


def test_reference_draws_are_the_python_twins(reference):
    last = 2  # the step counter of the last step; streams: z 0, u 1, b 2, e 3, y 4
    np.testing.assert_array_equal(reference["z"], [normal_py(i, last, 0, SEED, 0.5, 2.0) for i in range(1001)])
    np.testing.assert_array_equal(reference["u"], [uniform_py(i, last, 1, SEED, -1.0, 3.0) for i in range(1001)])


@pytest.mark.parametrize("backend, threads", RUNS)
def test_paired_loops_give_the_reference_bits(reference, backend, threads):
    net, pop = pair_net(1001, backend, threads)
    net.simulate(3.0)
    got = state(pop)
    for name, want in reference.items():
        np.testing.assert_array_equal(got[name], want, err_msg=name)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_partitions_of_one_or_two_neurons(n):
    """Three partitions of 1-5 neurons: empty ones, and pairs cut at every rank."""
    net, pop = pair_net(n, "llvm", 3, equations=["r = 0", "z = Normal(mu, 2.0)", "u = Uniform(-1.0, 3.0)"])
    net.simulate(2.0)
    np.testing.assert_array_equal(pop.z, [normal_py(i, 1, 0, SEED, 0.5, 2.0) for i in range(n)])
    np.testing.assert_array_equal(pop.u, [uniform_py(i, 1, 1, SEED, -1.0, 3.0) for i in range(n)])


def _philox_rounds(body) -> int:
    """The Philox rounds computed by the top-level statements of ``body`` (products by the first multiplier)."""
    return sum(1 for s in body if isinstance(s, Let) for x in walk_expr(s.value)
               if isinstance(x, BinOp) and x.op == "*" and x.b == Const(philox.PHILOX_M0, x.b.dtype))


def test_a_pair_computes_each_block_once():
    net, _ = pair_net(7, equations=["r = 0", "z = Normal(0.0, 1.0)", "u = Uniform(0.0, 1.0)"])
    kernel = next(k for k in net.kernel_module.kernels if k.name.startswith("update_"))
    loops = [s for s in walk_stmts(kernel.body) if isinstance(s, Loop)]
    pairs = [s for s in loops if s.space.startswith("pairs:")]
    assert len(pairs) == 1 and (pairs[0].start, pairs[0].stop) == (Const(0, I64), Const(3, I64))
    # the seventh neuron draws alone: two streams, one block each (their first rounds are alike)
    rest = [s for s in loops if s.space.startswith("neurons:") and _philox_rounds(s.body)]
    assert [(s.start, s.stop) for s in rest] == [(Const(6, I64), Const(7, I64))]
    assert philox.PHILOX_ROUNDS < _philox_rounds(rest[0].body) <= 2 * philox.PHILOX_ROUNDS
    # a pair computes no more rounds than one neuron
    assert _philox_rounds(pairs[0].body) <= _philox_rounds(rest[0].body)


def test_loops_without_draws_or_with_draws_only_in_the_reset_are_not_paired():
    net, _ = pair_net(10, equations=["r = 0", "dv/dt = -v"])
    assert not any(s.space.startswith("pairs:") for k in net.kernel_module.kernels for s in walk_stmts(k.body)
                   if isinstance(s, Loop))
    spiking = ann.Neuron(equations="dv/dt = 1.0", spike="v > 2.0", reset="v = Uniform(0.0, 1.0)")
    v = {}
    for backend in ("reference", "llvm"):
        net = ann.Network(dt=1.0, seed=2)
        pop = net.create(9, spiking)
        net.compile(backend=backend)
        net.simulate(6.0)
        v[backend] = np.array(pop.v)
    assert not any(s.space.startswith("pairs:") for k in net.kernel_module.kernels
                   for s in walk_stmts(k.body) if isinstance(s, Loop))
    np.testing.assert_array_equal(v["llvm"], v["reference"])
    assert np.all((v["llvm"] >= 0.0) & (v["llvm"] < 3.0)) and len(set(v["llvm"])) == 9


# --------------------------------------------------------------------------
# statistics of the two halves


@pytest.fixture(scope="module")
def samples():
    """4 steps of 20000 neurons: (steps, neurons) arrays."""
    net, pop = pair_net(20000, equations=["r = 0", "z = Normal(0.0, 1.0)", "u = Uniform(0.0, 1.0)"])
    out = {"z": [], "u": []}
    for _ in range(4):
        net.simulate(1.0)
        for name in out:
            out[name].append(np.array(getattr(pop, name)))
    return {k: np.array(v) for k, v in out.items()}


def _ks(x, cdf) -> float:
    x = np.sort(x)
    f = cdf(x)
    n = len(x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


NORMAL_CDF = np.vectorize(lambda v: 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))))


@pytest.mark.parametrize("half", [0, 1], ids=["even (cosine, words 0-1)", "odd (sine, words 2-3)"])
def test_each_half_has_the_distribution(samples, half):
    z, u = samples["z"][:, half::2].ravel(), samples["u"][:, half::2].ravel()
    limit = 1.95 / math.sqrt(len(z))  # the 0.1 % point of the Kolmogorov-Smirnov statistic
    assert _ks(z, NORMAL_CDF) < limit
    assert _ks(u, lambda v: v) < limit
    assert abs(z.mean()) < 5 / math.sqrt(len(z)) and abs(z.var() - 1.0) < 5 * math.sqrt(2 / len(z))
    assert u.min() >= 0.0 and u.max() < 1.0


@pytest.mark.parametrize("name", ["z", "u"])
def test_the_two_halves_of_a_block_are_independent(samples, name):
    x = samples[name]
    even, odd = x[:, 0::2].ravel(), x[:, 1::2].ravel()
    limit = 5 / math.sqrt(len(even))
    assert abs(np.corrcoef(even, odd)[0, 1]) < limit
    # Box-Muller's cosine and sine share the radius: their squares are still uncorrelated
    a, b = (even - even.mean()) ** 2, (odd - odd.mean()) ** 2
    assert abs(np.corrcoef(a, b)[0, 1]) < limit
    # neighbours across pairs, and the same neuron at consecutive steps
    assert abs(np.corrcoef(odd[:-1], even[1:])[0, 1]) < limit
    assert abs(np.corrcoef(x[:-1].ravel(), x[1:].ravel())[0, 1]) < limit


# --------------------------------------------------------------------------
# the sine of rng_math

QUARTERS = np.repeat(np.arange(4, dtype=np.uint32), 8)
FRACTIONS = np.tile(np.array([0.0, 0.5, 0.5 + 2.0 ** -51, 0.25, 1 - 2.0 ** -51, 1e-9, 0.7, 0.1]), 4)


@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_cos_sin_have_the_bits_of_their_python_twin_and_are_close_to_libm(backend):
    m = new_module()
    m.declare("q", U32, len(QUARTERS), init=QUARTERS)
    m.declare("f", F64, len(FRACTIONS), init=FRACTIONS)
    m.declare("cos", F64, len(FRACTIONS))
    m.declare("sin", F64, len(FRACTIONS))
    i = Var("i", I64)
    em = philox.Emitter("_c")
    cos, sin = rng_math.cos_sin_quarter(em, m.load("q", i), m.load("f", i))
    m.kernels.append(Kernel("cs", "update", [Loop(i, Const(0, I64), Const(len(FRACTIONS), I64),
                                                  em.stmts + [Store("cos", i, cos), Store("sin", i, sin)])]))
    verify_module(m)
    b = get_backend(backend)()
    arrays = allocate(m)
    b.load(b.emit(m), arrays).run(1)
    twins = [rng_math.cos_sin_quarter_py(int(q), f) for q, f in zip(QUARTERS, FRACTIONS)]
    np.testing.assert_array_equal(arrays["cos"], [c for c, _ in twins])
    np.testing.assert_array_equal(arrays["sin"], [s for _, s in twins])
    angle = 2 * np.pi * (QUARTERS + FRACTIONS) / 4
    np.testing.assert_allclose(arrays["sin"], np.sin(angle), rtol=0, atol=2e-15)  # np.sin: angle rounded
    assert list(arrays["sin"][FRACTIONS == 0.0]) == [0.0, 1.0, -0.0, -1.0]


# --------------------------------------------------------------------------
# the pass on a hand-written loop


def _draw_like_module(start, stop, n=12):
    """``out[i] = x + 10 y`` where ``t`` depends on the pair and the half of ``i`` (a draw), ``acc``
    is reassigned in a branch and ``x``, ``y`` are the same expression before and after it."""
    from anncompiler.ir.kernel import Cast, If, Load, Select
    from anncompiler.ir.types import BOOL
    m = new_module()
    flags = np.array([k % 3 == 0 for k in range(n)])
    m.declare("flag", BOOL, n, init=flags)
    m.declare("bounds", I64, 2, init=np.array([3, 10]))
    m.declare("out", F64, n)
    i = Var("i", I64)
    t, acc, x, y = (Var(name, F64) for name in ("t", "acc", "x", "y"))
    draw = BinOp("+", Cast(philox.pair_index(i), F64), Select(philox.pair_odd(i), Const(0.5), Const(0.0), F64), F64)
    body = [Let(t, draw), Let(acc, t), Let(x, BinOp("*", acc, Const(3.0), F64)),
            If(Load("flag", i, BOOL), [Let(acc, BinOp("+", acc, Const(1.0), F64))]),
            Let(y, BinOp("*", acc, Const(3.0), F64)),
            Store("out", i, BinOp("+", x, BinOp("*", y, Const(10.0), F64), F64))]
    m.kernels.append(Kernel("draws", "update", [Loop(i, start, stop, body, "neurons:P")]))
    m.index_spaces["neurons:P"] = n
    verify_module(m)
    want = np.zeros(n)
    lo, hi = (3, 10) if isinstance(start, Load) else (start.value, stop.value)
    for k in range(lo, hi):
        a = (k >> 1) + 0.5 * (k & 1)
        want[k] = 3 * a + 10 * 3 * (a + flags[k])
    return m, want


@pytest.mark.parametrize("bounds", ["constant", "loaded"])
@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_the_pass_keeps_reassigned_locals_apart(bounds, backend):
    from anncompiler.ir.kernel import Load
    from anncompiler.passes.platform.cpu_pairs import paired
    start, stop = ((Const(1, I64), Const(12, I64)) if bounds == "constant" else
                   (Load("bounds", Const(0, I64), I64), Load("bounds", Const(1, I64), I64)))
    m, want = _draw_like_module(start, stop)
    loop = m.kernels[0].body[0]
    m.kernels[0].body = paired(loop)
    verify_module(m)
    assert any(isinstance(s, Loop) and s.space == "pairs:P" for s in m.kernels[0].body)
    b = get_backend(backend)()
    arrays = allocate(m)
    b.load(b.emit(m), arrays).run(1)
    np.testing.assert_array_equal(arrays["out"], want)
