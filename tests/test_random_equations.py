"""Random numbers in equations: Philox4x32-10 in kernel IR and the distributions.

See ``anncompiler/ir/philox.py`` (generator, counter layout, distributions)
and ``passes/lowering/random.py`` (stream numbering, lowering).
"""
import math
import re

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.backends import get_backend
from anncompiler.ir import philox
from anncompiler.errors import ModelError
from anncompiler.ir.kernel import BinOp, Const, Kernel, Loop, Store, Var, format_module, verify_module
from anncompiler.ir.types import F64, I64, U32

from kernel_samples import PHILOX_KAT, allocate, new_module, sample_philox

BACKENDS = ["reference", "llvm"]  # llvmlite is a core dependency: no skipping without it
FAST = "llvm"


def run_module(m, backend, n=1):
    b = get_backend(backend)()
    arrays = allocate(m)
    b.load(b.emit(m), arrays).run(n)
    return arrays


# --------------------------------------------------------------------------
# the generator


def philox_py_reference(counter, key):
    """An independent transcription of Random123's philox4x32 (10 rounds)."""
    ctr, k = list(counter), list(key)
    for r in range(10):
        if r > 0:
            k = [(k[0] + 0x9E3779B9) % 2**32, (k[1] + 0xBB67AE85) % 2**32]
        prod0 = 0xD2511F53 * ctr[0]
        prod1 = 0xCD9E8D57 * ctr[2]
        ctr = [(prod1 // 2**32) ^ ctr[1] ^ k[0], prod1 % 2**32, (prod0 // 2**32) ^ ctr[3] ^ k[1], prod0 % 2**32]
    return tuple(ctr)


@pytest.mark.parametrize("counter,key,expected", PHILOX_KAT)
def test_python_philox_known_answers(counter, key, expected):
    assert philox.philox4x32_10_py(counter, key) == expected
    assert philox_py_reference(counter, key) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_kernel_philox_known_answers_and_oracle(backend):
    m = sample_philox()
    ctr, key = m.arrays["ctr"].init.reshape(-1, 4).copy(), m.arrays["key"].init.reshape(-1, 2)
    a = run_module(m, backend, 3)
    out = a["out"].reshape(-1, 4)
    for k, (_, _, expected) in enumerate(PHILOX_KAT):  # step 2 ran on counter + 2
        c = list(ctr[k])
        c[0] = (c[0] + 2) % 2**32
        assert tuple(out[k]) == philox_py_reference(c, key[k])
    ctr[:, 0] = (ctr[:, 0] + 2) % 2**32
    for k in range(len(out)):
        assert tuple(int(x) for x in out[k]) == philox_py_reference([int(x) for x in ctr[k]],
                                                                    [int(x) for x in key[k]])
    m = sample_philox()
    a = run_module(m, backend, 1)
    for k, (_, _, expected) in enumerate(PHILOX_KAT):
        assert tuple(a["out"][4 * k:4 * k + 4]) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_uniform53_edges(backend):
    m = new_module()
    words = np.array([0, 0, 0xFFFFFFFF, 0xFFFFFFFF, 0x80000000, 0, 1 << 5, 1 << 6], dtype=np.uint32)
    m.declare("w", U32, len(words), init=words)
    m.declare("u", F64, 4)
    m.declare("v", F64, 4)
    i = Var("i", I64)
    em = philox.Emitter("_e")
    two = BinOp("*", i, Const(2, I64), I64)
    hi, lo = m.load("w", two), m.load("w", BinOp("+", two, Const(1, I64), I64))
    u = philox.uniform53(em, hi, lo)
    v = philox.uniform53(em, hi, lo, open_zero=True)
    m.kernels.append(Kernel("u", "update", [
        Loop(i, Const(0, I64), Const(4, I64), em.stmts + [Store("u", i, u), Store("v", i, v)])]))
    verify_module(m)
    a = run_module(m, backend)
    assert list(a["u"]) == [0.0, 1 - 2.0 ** -53, 0.5, 2.0 ** -53 * (2 ** 26 + 1)]
    assert list(a["v"]) == [2.0 ** -53, 1.0, 0.5 + 2.0 ** -53, 2.0 ** -53 * (2 ** 26 + 2)]


# --------------------------------------------------------------------------
# distributions in neuron equations

#: name, equation, mean, variance, (low, high) or None, integer valued
CASES = [
    ("uniform", "Uniform(-1.0, 3.0)", 1.0, 16 / 12, (-1.0, 3.0), False),
    ("discrete", "DiscreteUniform(1, 6)", 3.5, 35 / 12, (1, 6), True),
    ("normal", "Normal(mu, 2.0)", 1.0, 4.0, None, False),
    ("lognormal", "LogNormal(0.0, 0.5)", math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25), (0, None), False),
    ("exponential", "Exponential(2.0)", 0.5, 0.25, (0, None), False),
    ("gamma", "Gamma(2.0, 1.5)", 3.0, 4.5, (0, None), False),
    ("gamma_small", "Gamma(0.5, 2.0)", 1.0, 2.0, (0, None), False),
    ("binomial", "Binomial(10, 0.3)", 3.0, 2.1, (0, 10), True),
    ("binomial_param", "Binomial(n_trials, 0.3)", 30.0, 21.0, (0, 100), True),
]


def make_net(size, backend=FAST, seed=7, extra=(), cases=CASES, spiking=False):
    net = ann.Network(dt=1.0, seed=seed)
    eqs = [f"{name} = {expr}" for name, expr, *_ in cases] + list(extra)
    model = ann.Neuron(parameters="mu = 1.0 : population\nn_trials = 100 : population",
                       equations=(["r = 0"] if not spiking else []) + eqs)
    pop = net.create(size, model)
    net.compile(backend=backend)
    return net, pop


@pytest.fixture(scope="module")
def samples():
    """5 steps of 2000 neurons: {name: (steps, neurons) array}."""
    net, pop = make_net(2000)
    out = {name: [] for name, *_ in CASES}
    for _ in range(5):
        net.simulate(1.0)
        for name in out:
            out[name].append(np.array(getattr(pop, name), dtype=float))
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_moments_and_range(samples, case):
    name, _, mean, var, bounds, integer = case
    x = samples[name].ravel()
    n = len(x)
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n), (x.mean(), mean)
    m4 = np.mean((x - x.mean()) ** 4)
    assert abs(x.var() - var) < 5 * math.sqrt(max(m4 - x.var() ** 2, 1e-12) / n), (x.var(), var)
    if bounds is not None:
        lo, hi = bounds
        assert x.min() >= lo and (hi is None or x.max() <= hi)
        if name == "uniform":
            assert x.max() < hi
        if lo == 0 and name not in ("binomial", "binomial_param"):
            assert x.min() > 0
    if integer:
        assert np.array_equal(x, np.round(x))
        if name == "discrete":
            assert set(np.unique(x)) == {1, 2, 3, 4, 5, 6}


@pytest.mark.parametrize("name", ["uniform", "normal", "gamma", "binomial_param"])
def test_independence(samples, name):
    x = samples[name]
    limit = 5 / math.sqrt(x.size)
    a = x - x.mean()
    assert abs(np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]) < limit * 1.2   # neighbours
    assert abs(np.corrcoef(a[:-1].ravel(), a[1:].ravel())[0, 1]) < limit * 1.2         # steps
    other = samples["exponential"]
    assert abs(np.corrcoef(x.ravel(), other.ravel())[0, 1]) < limit                   # streams


def test_same_seed_same_draws_other_seed_differs():
    cases = CASES[2:3] + CASES[5:6]
    runs = []
    for seed in (3, 3, 4):
        net, pop = make_net(300, seed=seed, cases=cases)
        net.simulate(3.0)
        runs.append((np.array(pop.normal), np.array(pop.gamma)))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert not np.any(runs[0][0] == runs[2][0])


def test_llvm_and_reference_draw_the_same_numbers():
    extra = ["dy/dt = -y + Normal(0.0, 1.0)", "g = Uniform(0.0, 1.0) : population"]
    got = {}
    for backend in ("reference", "llvm"):
        net, pop = make_net(8, backend=backend, extra=extra)
        net.simulate(2.0)
        got[backend] = {name: np.array(getattr(pop, name)) for name in
                        [c[0] for c in CASES] + ["y", "g"]}
    for name, want in got["reference"].items():
        np.testing.assert_array_equal(got["llvm"][name], want, err_msg=name)


def test_chunking_does_not_matter():
    cases = CASES[2:3] + CASES[8:9]
    extra = ["dy/dt = -y + Normal(0.0, 1.0)"]
    a_net, a = make_net(200, cases=cases, extra=extra)
    b_net, b = make_net(200, cases=cases, extra=extra)
    a_net.simulate(5.0)
    a_net.simulate(5.0)
    b_net.simulate(10.0)
    for name in ("normal", "binomial_param", "y"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_draws_change_every_step_and_are_per_element():
    net, pop = make_net(100, cases=CASES[:1], extra=["g = Normal(0.0, 1.0) : population"])
    seen = set()
    for _ in range(4):
        net.simulate(1.0)
        u = np.array(pop.uniform)
        assert len(set(u)) == 100
        seen.update(u)
        g = np.array(pop.g)
        assert g.size == 1 or len(set(g.ravel())) == 1
        seen.add(float(np.ravel(g)[0]))
    assert len(seen) == 404


def test_occurrences_and_populations_get_their_own_streams():
    net = ann.Network(dt=1.0, seed=1)
    model = ann.Neuron(equations=["r = 0", "a = Normal(0.0, 1.0)", "b = Normal(0.0, 1.0)",
                                  "c = Normal(0.0, 1.0) - Normal(0.0, 1.0)"])  # same text: one draw
    p, q = net.create(50, model), net.create(50, model)
    net.compile(backend=FAST)
    net.simulate(1.0)
    assert not np.any(np.array(p.a) == np.array(p.b))
    assert not np.any(np.array(p.a) == np.array(q.a))
    assert np.all(np.array(p.c) == 0.0)


def test_stream_numbering_rule():
    """Populations in order, equations in order, then spike and reset."""
    net = ann.Network(dt=1.0, seed=1)
    spiking = ann.Neuron(parameters="p = 0.5", equations=["v = Uniform(0.0, 1.0)", "w = Normal(0.0, 1.0)"],
                         spike="Uniform(0.0, 1.0) < p", reset="v = Exponential(1.0)")
    rate = ann.Neuron(equations=["r = Normal(0.0, 1.0)"])
    net.create(4, spiking)
    net.create(4, rate)
    net.compile(backend="reference")
    text = format_module(net.kernel_module)
    # first appearances (the reset is in the loop over blocks of spike flags and in the remainder's)
    order = list(dict.fromkeys(int(s) for s in re.findall(r"%_rand(\d+): f64 =", text)))
    assert order == [0, 1, 2, 3, 4]
    # stream 2 is the spike condition, in the spike-test loop, 3 the reset, 4 the second population
    assert text.index("%_rand2:") > text.index("%_rand1:")


def test_random_spike_condition_and_reset():
    net = ann.Network(dt=1.0, seed=11)
    model = ann.Neuron(parameters="p = 0.2", equations=["v = 0.0"],
                       spike="Uniform(0.0, 1.0) < p", reset="v = Uniform(5.0, 6.0)")
    pop = net.create(2000, model)
    m = net.monitor(pop, "spike")
    net.compile(backend=FAST)
    net.simulate(5.0)
    spikes = m.get("spike")
    total = sum(len(spikes[r]) for r in range(2000))
    assert abs(total - 2000) < 5 * math.sqrt(10000 * 0.2 * 0.8)
    v = np.array(pop.v)
    assert np.all((v == 0.0) | ((v >= 5.0) & (v < 6.0)))


def test_runge_kutta_stages_share_the_draw():
    vals = []
    for method in ("explicit", "midpoint", "rk4"):
        net = ann.Network(dt=1.0, seed=5)
        model = ann.Neuron(equations=["r = 0", f"dx/dt = Normal(0.0, 1.0) : {method}"])
        pop = net.create(20, model)
        net.compile(backend=FAST)
        net.simulate(1.0)
        vals.append(np.array(pop.x))
    np.testing.assert_allclose(vals[1], vals[0], rtol=1e-15)
    np.testing.assert_allclose(vals[2], vals[0], rtol=1e-15)


def test_wrong_arity_is_a_model_error():
    net = ann.Network(dt=1.0, seed=1)
    net.create(3, ann.Neuron(equations=["r = Normal(1.0)"]))
    with pytest.raises(ModelError, match="Normal"):
        net.compile(backend="reference")


def test_normal_loop_is_vectorised(tmp_path):
    net = ann.Network(dt=1.0, seed=1)
    net.create(1000, ann.Neuron(equations=["r = Normal(0.0, 1.0)"]))
    net.compile(backend="llvm", dump_ir=str(tmp_path))
    opt = next(tmp_path.glob("*llvm-opt.ll")).read_text()
    assert re.search(r"<\d+ x i64>", opt) and re.search(r"<\d+ x double>", opt)


def test_clipping_bounds():
    cases = [("clipped", "Normal(0.0, 1.0, -0.5, 0.5)", 0, 0, None, False),
             ("low", "Exponential(1.0, 0.25)", 0, 0, None, False),
             ("gamma1", "Gamma(3.0)", 0, 0, None, False)]
    net, pop = make_net(1000, cases=cases)
    net.simulate(2.0)
    x = np.array(pop.clipped)
    assert x.min() == -0.5 and x.max() == 0.5 and np.mean(np.abs(x) == 0.5) > 0.5
    assert np.array(pop.low).min() == 0.25
    assert abs(np.array(pop.gamma1).mean() - 3.0) < 5 * math.sqrt(3.0 / 1000)


def test_float32_and_refractory_backends_agree():
    got = {}
    for backend in ("reference", "llvm"):
        net = ann.Network(dt=1.0, seed=9)
        net.config(dtype=np.float32)
        model = ann.Neuron(parameters="p = 0.3", equations=["dv/dt = -v + Normal(0.0, 1.0)", "u = Gamma(0.7)"],
                           spike="Uniform(0.0, 1.0) < p", reset="v = Uniform(-1.0, 0.0)", refractory=2.0)
        pop = net.create(10, model)
        net.compile(backend=backend)
        net.simulate(6.0)
        got[backend] = (np.array(pop.v), np.array(pop.u))
        assert got[backend][0].dtype == np.float32
    for a, b in zip(got["reference"], got["llvm"]):
        np.testing.assert_array_equal(a, b)
