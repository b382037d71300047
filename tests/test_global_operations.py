"""Global operations mean/max/min/norm1/norm2 in neuron equations (passes/lowering/globalops.py).

They are computed after the neuron update of a step and read by the next step: a variable
``y = mean(r)`` recorded at step k equals the mean of ``r`` recorded at step k-1; at step 0 it
is 0, as in ANNarchy (and again at the first step after ``reset()``).  Reductions are sequential in ascending rank, so the expected values
below are computed with plain sequential loops and compared exactly.
"""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import ModelError

BACKENDS = ["llvm", "reference"]
OPS = ["mean", "max", "min", "norm1", "norm2"]


def seq_op(op: str, x, dtype=np.float64):
    """The reduction as the kernels do it: sequential, ascending rank, in ``dtype``."""
    x = np.asarray(x, dtype=dtype).reshape(-1)
    if op in ("max", "min"):
        acc = x[0]
        for v in x[1:]:
            acc = (acc if acc > v else v) if op == "max" else (acc if acc < v else v)
        return acc
    acc = dtype(0.0)
    for v in x:
        acc = dtype(acc + {"mean": v, "norm1": abs(v), "norm2": v * v}[op])
    if op == "mean":
        return dtype(acc / dtype(x.size))
    if op == "norm2":
        return dtype(np.sqrt(acc))
    return acc


def numpy_op(op, x):
    x = np.asarray(x, dtype=float).reshape(-1)
    return {"mean": np.mean(x), "max": np.max(x), "min": np.min(x), "norm1": np.sum(np.abs(x)),
            "norm2": np.sqrt(np.sum(x * x))}[op]


def lagged_network(op, geometry, backend, dtype=None, seed=7):
    net = ann.Network(dt=0.5, seed=seed)
    if dtype is not None:
        net.config(dtype=dtype)
    neuron = ann.Neuron(equations=["r = Uniform(-1.0, 1.0)", f"y = {op}(r)"], name="G")
    pop = net.create(geometry, neuron)
    pop.r = np.random.default_rng(seed).uniform(-2.0, 2.0, size=geometry)
    m = net.monitor(pop, ["r", "y"])
    net.compile(backend=backend)
    return net, pop, m


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("geometry", [12, (3, 4)], ids=["1d", "2d"])
@pytest.mark.parametrize("op", OPS)
def test_one_step_lag_exact(op, geometry, backend):
    net, pop, m = lagged_network(op, geometry, backend)
    r0 = pop.r
    net.simulate(10.0)
    r, y = m.get("r"), m.get("y")
    shape = (geometry,) if isinstance(geometry, int) else geometry
    assert r.shape == y.shape == (20,) + shape
    R, Y = r.reshape(20, -1), y.reshape(20, -1)
    assert np.all(Y == Y[:, :1])  # one value for every neuron
    assert Y[0, 0] == 0.0 != seq_op(op, r0)  # step 0: 0, not the initial state
    for k in range(1, 20):
        assert Y[k, 0] == seq_op(op, R[k - 1]), k
        assert Y[k, 0] == pytest.approx(numpy_op(op, R[k - 1]), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [ann.float64, ann.float32], ids=["f64", "f32"])
def test_backends_agree_bit_for_bit(op, dtype):
    out = {}
    for backend in BACKENDS:
        net, pop, m = lagged_network(op, (4, 5), backend, dtype=dtype)
        net.simulate(8.0)
        out[backend] = (m.get("r"), m.get("y"))
    np.testing.assert_array_equal(out["llvm"][0], out["reference"][0])
    np.testing.assert_array_equal(out["llvm"][1], out["reference"][1])
    if dtype == ann.float32:
        r, y = out["llvm"]
        R, Y = r.reshape(len(r), -1), y.reshape(len(y), -1)
        for k in range(1, len(R)):
            assert np.float32(Y[k, 0]) == seq_op(op, R[k - 1], np.float32)


@pytest.mark.parametrize("backend", BACKENDS)
def test_global_equation_and_ode_use_previous_step(backend):
    """A global variable (``: population``) and an ODE read the lagged value too."""
    net = ann.Network(dt=0.1, seed=3)
    neuron = ann.Neuron(parameters=dict(tau=5.0),
                        equations=["r = Uniform(0.0, 1.0)",
                                   "g = max(r) - min(r) : population",
                                   "tau * dz/dt = norm1(r) - z"], name="G2")
    pop = net.create(6, neuron)
    m = net.monitor(pop, ["r", "g", "z"])
    net.compile(backend=backend)
    net.simulate(3.0)
    r, g, z = m.get("r"), m.get("g"), m.get("z")
    assert g.shape == (30,)
    assert g[0] == 0.0  # initial r is 0 everywhere
    zk = 0.0
    for k in range(1, 30):
        assert g[k] == seq_op("max", r[k - 1]) - seq_op("min", r[k - 1])
    prev = np.zeros(6)
    for k in range(30):
        zk = zk + 0.1 * (((seq_op("norm1", prev) if k else 0.0) - zk) / 5.0)
        assert z[k, 0] == pytest.approx(zk, rel=1e-13)
        prev = r[k]


@pytest.mark.parametrize("backend", BACKENDS)
def test_first_step_reads_zero_also_after_reset(backend):
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(4, ann.Neuron(equations=["y = mean(r)", "r = r + 1.0"], name="Late"))
    m = net.monitor(pop, ["y", "r"])
    net.compile(backend=backend)
    pop.r = [1.0, 2.0, 3.0, 10.0]  # after compile, before the first step
    net.simulate(3.0)
    y = m.get("y")[:, 0]
    np.testing.assert_array_equal(y, [0.0, 5.0, 6.0])  # 0, then the mean of r after the previous step
    np.testing.assert_array_equal(m.get("r")[-1], [4.0, 5.0, 6.0, 13.0])
    net.reset()  # r back to its compile-time 0, the operations to 0
    net.simulate(2.0)
    np.testing.assert_array_equal(m.get("y")[:, 0], [0.0, 1.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_int_attribute_and_two_populations(backend):
    """An int variable as argument; two populations keep their own arrays."""
    net = ann.Network(dt=1.0, seed=1)
    neuron = ann.Neuron(equations=["k = k + 1 : int", "y = max(k)", "r = 0.0"], name="Int")
    a, b = net.create(3, neuron), net.create(2, neuron)
    a.k, b.k = [0, 5, 2], [7, 1]
    ma, mb = net.monitor(a, "y"), net.monitor(b, "y")
    net.compile(backend=backend)
    net.simulate(3.0)
    np.testing.assert_array_equal(ma.get("y")[:, 0], [0.0, 6.0, 7.0])
    np.testing.assert_array_equal(mb.get("y")[:, 0], [0.0, 8.0, 9.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_spiking_population(backend):
    """A global operation in a spiking neuron's ODE and spike condition."""
    net = ann.Network(dt=1.0, seed=1)
    neuron = ann.Neuron(equations=["v = v + 1.0", "m = mean(v)"], spike="v > mean(v) + 1.5",
                        reset="v = 0.0", name="SpikeG")
    pop = net.create(3, neuron)
    pop.v = [0.0, 1.0, 3.0]
    mon = net.monitor(pop, ["v", "m", "spike"])
    net.compile(backend=backend)
    net.simulate(2.0)
    # step 0: mean = 0; v = [1, 2, 4]: neurons 1 and 2 spike (> 1.5), v -> [1, 0, 0]
    # step 1: mean = 1/3; v = [2, 1, 1]: neuron 0 spikes (2 > 1.83)
    spikes = mon.get("spike")
    assert spikes[2] == [0] and spikes[1] == [0] and spikes[0] == [1]
    np.testing.assert_array_equal(mon.get("m")[:, 0], [0.0, 1.0 / 3.0])


def test_dump_shows_the_phases(tmp_path):
    net = ann.Network(dt=1.0, seed=1)
    net.create(3, ann.Neuron(equations=["r = r + 1.0", "y = norm2(r)"], name="D"))
    net.compile(backend="reference", dump_ir=str(tmp_path))
    text = next(tmp_path.glob("*lower-to-kernels.txt")).read_text()
    assert "array pop0._norm2_r: f64[1]" in text
    assert "global-ops-init" not in text and "phase global-ops)" in text
    assert text.index("@update_pop0") < text.index("@global_ops_pop0")


def test_argument_must_be_a_local_attribute():
    net = ann.Network(dt=1.0)
    neuron = ann.Neuron(parameters=dict(tau=10.0), equations=["r = mean(tau)"], name="Bad")
    net.create(3, neuron)
    with pytest.raises(ModelError) as e:
        net.compile(backend="reference")
    assert "tau" in str(e.value)


def test_unknown_argument_is_an_error():
    net = ann.Network(dt=1.0)
    net.create(3, ann.Neuron(equations=["r = max(nothing)"], name="Bad2"))
    with pytest.raises(ModelError) as e:
        net.compile(backend="reference")
    assert "nothing" in str(e.value)


def test_lowering_error_names_the_attribute():
    """The lowering checks the argument itself (for IR built without the parser's check)."""
    import sympy
    from anncompiler.ir.model import Attribute, Equation, ModelIR
    from anncompiler.ir.network import PopulationNode
    from anncompiler.parser.builtins import GLOBAL_OPS
    from anncompiler.passes.lowering.globalops import population_ops
    m = ModelIR("M", "neuron", "rate")
    m.attributes = {"tau": Attribute("tau", "parameter", "global")}
    m.equations = [Equation("r", "assign", GLOBAL_OPS["mean"](sympy.Symbol("tau")), source="r = mean(tau)")]
    with pytest.raises(ModelError) as e:
        population_ops(PopulationNode("P", 3, (3,), m))
    assert e.value.name == "tau" and "tau" in str(e.value)
