"""Network API (dt, seed, time, step, simulate, compile, constants) and the legacy global API."""
import math
import warnings

import numpy as np
import pytest

import anncompiler as ann

from conftest import counter_neuron, leaky_rate


def test_dt_seed_and_config():
    net = ann.Network(dt=0.25, seed=5)
    assert net.dt == 0.25 and net.seed == 5
    net.config(dt=0.5)
    assert net.dt == 0.5
    assert ann.Network().dt == 1.0
    assert isinstance(ann.Network().seed, int)
    with pytest.raises(AttributeError):
        net.seed = 3
    net.create(1, counter_neuron())
    net.compile()
    with pytest.raises(ann.NetworkError):
        net.config(dt=0.1)


def test_default_rng_is_seeded():
    a, b = ann.Network(seed=99), ann.Network(seed=99)
    np.testing.assert_array_equal(a.default_rng.random(5), b.default_rng.random(5))
    assert not np.array_equal(ann.Network(seed=1).default_rng.random(5), ann.Network(seed=2).default_rng.random(5))


def _random_network(seed, backend="llvm"):
    net = ann.Network(dt=1.0, seed=seed)
    pop = net.create(30, leaky_rate())
    pop.B = ann.Uniform(0.0, 1.0, rng=net.default_rng)
    proj = net.connect(pop, pop, "exc").fixed_probability(0.2, weights=ann.Normal(0.0, 0.1, rng=net.default_rng))
    m = net.monitor(pop, "r")
    net.compile(backend=backend)
    net.simulate(20.0)
    return proj.connectivity_matrix(), m.get("r")


def test_same_seed_same_connectivity_and_results():
    w1, r1 = _random_network(2024)
    w2, r2 = _random_network(2024)
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(r1, r2)
    w3, _ = _random_network(2025)
    assert not np.array_equal(w1, w3)


def test_time_step_and_simulate():
    net = ann.Network(dt=0.25, seed=1)
    pop = net.create(2, counter_neuron())
    assert net.current_step == 0 and net.time == 0.0
    net.compile()
    net.step()
    assert net.current_step == 1 and net.time == 0.25
    np.testing.assert_array_equal(pop.r, [1.0, 1.0])
    net.simulate(1.0)
    assert net.current_step == 5 and net.time == pytest.approx(1.25)
    net.simulate(0.3)  # ceil(0.3 / 0.25) = 2 steps
    assert net.current_step == 7
    np.testing.assert_array_equal(pop.r, [7.0, 7.0])
    net.time = 10.0
    assert net.current_step == 40 and net.time == 10.0
    net.current_step = 3
    assert net.time == 0.75


@pytest.mark.parametrize("dt, duration", [(0.1, 1.0), (0.1, 100.0), (0.1, 0.05), (1.0, 2.5), (0.5, 7.0)])
def test_simulate_does_ceil_steps(dt, duration):
    net = ann.Network(dt=dt, seed=1)
    net.create(1, counter_neuron())
    net.compile()
    net.simulate(duration)
    assert net.current_step == math.ceil(round(duration / dt, 9))


def test_t_in_equations_is_step_times_dt():
    net = ann.Network(dt=0.5, seed=1)
    pop = net.create(1, ann.Neuron(equations="r = t"))
    m = net.monitor(pop, "r")
    net.compile()
    net.simulate(2.0)
    np.testing.assert_array_equal(m.get("r")[:, 0], [0.0, 0.5, 1.0, 1.5])


def test_compile_options_and_compile_twice(tmp_path):
    net = ann.Network(dt=1.0, seed=1)
    net.create(2, counter_neuron())
    net.compile(directory=str(tmp_path / "annarchy"), silent=True)
    assert net.compiled
    with pytest.raises(ann.NetworkError, match="already compiled"):
        net.compile()


def test_no_population_or_projection_can_be_added_after_compile():
    """Monitors can (tests/test_monitor_after_compile.py)."""
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron())
    net.compile()
    with pytest.raises(ann.NetworkError):
        net.create(2, counter_neuron())
    with pytest.raises(ann.NetworkError):
        net.connect(pop, pop, "exc")


def test_simulate_before_compile_is_an_error():
    net = ann.Network(dt=1.0, seed=1)
    net.create(2, counter_neuron())
    with pytest.raises(ann.NetworkError, match="compile"):
        net.simulate(1.0)
    with pytest.raises(ann.NetworkError, match="compile"):
        net.step()


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_constant_in_equation_and_set_after_compile(backend):
    net = ann.Network(dt=1.0, seed=1)
    k = net.constant("k", 2.0)
    assert float(k) == 2.0 and k.name == "k"
    pop = net.create(2, ann.Neuron(equations="r = r + k"))
    net.compile(backend=backend)
    net.simulate(2.0)
    np.testing.assert_array_equal(pop.r, [4.0, 4.0])
    k.set(10.0)
    assert float(k) == 10.0 and net.get_constant("k") is k
    net.step()
    np.testing.assert_array_equal(pop.r, [14.0, 14.0])


def test_lookup_by_name():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron(), name="counters")
    m = net.monitor(pop, "r", name="mon")
    assert net.get_population("counters") is pop and net.get_monitor("mon") is m
    assert net.get_populations() == [pop] and net.get_monitors() == [m]
    with pytest.raises(ann.NetworkError, match="nothere"):
        net.get_population("nothere")
    with pytest.raises(ann.NetworkError):
        net.create(2, counter_neuron(), name="counters")


def test_two_networks_are_independent():
    a, b = ann.Network(dt=1.0, seed=1), ann.Network(dt=0.5, seed=1)
    pa, pb = a.create(2, counter_neuron()), b.create(3, counter_neuron())
    a.compile()
    b.compile()
    a.simulate(5.0)
    b.simulate(1.0)
    np.testing.assert_array_equal(pa.r, [5.0, 5.0])
    np.testing.assert_array_equal(pb.r, [2.0, 2.0, 2.0])


# --------------------------------------------------------------------------
# legacy global API
# --------------------------------------------------------------------------
def _legacy_model():
    return dict(neuron=ann.Neuron(parameters=dict(tau=10.0, B=ann.Parameter(0.0, locality="local")),
                                  equations=["tau * dr/dt + r = sum(exc) + B : min=0.0"], name="LegacyLeaky"),
                B=np.linspace(-0.5, 1.0, 8), W=np.random.default_rng(3).uniform(-0.3, 0.3, (8, 8)))


def test_legacy_api_matches_network_api():
    spec = _legacy_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # legacy calls warn (once per function)
        ann.setup(dt=0.5)
        pop = ann.Population(8, spec["neuron"])
        pop.B = spec["B"]
        pop.r = 0.5
        proj = ann.Projection(pop, pop, "exc")
        proj.from_matrix(spec["W"])
        m = ann.Monitor(pop, "r")
        ann.compile()
        ann.simulate(20.0)
        legacy = m.get("r")
        assert ann.get_time() == 20.0 and ann.get_current_step() == 40 and ann.dt() == 0.5
        assert ann.get_population(pop.name) is pop and ann.populations() == [pop]
        assert ann.projections() == [proj] and ann.monitors() == [m]
        ann.step()
        assert ann.get_current_step() == 41

    net = ann.Network(dt=0.5)
    pop2 = net.create(8, spec["neuron"])
    pop2.B = spec["B"]
    pop2.r = 0.5
    net.connect(pop2, pop2, "exc").from_matrix(spec["W"])
    m2 = net.monitor(pop2, "r")
    net.compile()
    net.simulate(20.0)
    np.testing.assert_array_equal(legacy, m2.get("r"))


def test_legacy_objects_warn_and_clear_starts_over():
    with pytest.warns(DeprecationWarning):
        ann.Population(2, counter_neuron(), name="legacy")
    first = ann.magic_network()
    ann.clear()
    assert ann.magic_network() is not first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ann.Population(2, counter_neuron(), name="legacy")  # no name clash after clear()
        ann.compile()
        ann.simulate(3.0)
        assert ann.get_current_step() == 3


def test_constant_arithmetic_uses_the_current_value():
    net = ann.Network()
    c = net.constant("kc_arith", 2.0)
    c.set(5.0)
    assert c + 1 == 6.0 and 1 + c == 6.0 and c * 2 == 10.0 and c == 5.0 and float(c) == 5.0
    assert f"{c:.1f}" == "5.0" and c > 4
