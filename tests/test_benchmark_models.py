"""The benchmark models of benchmarks/ (the speed is measured there, not here): the microcircuit's
parameters and scaling, and that the new builders make the networks they describe and run the
same on every backend and thread count."""
import os
import sys

import numpy as np
import pytest

import anncompiler as ann

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import microcircuit as mc  # noqa: E402
from models import BENCHMARKS, coba_delayed, izhikevich_network, reward_trace  # noqa: E402


def test_microcircuit_full_scale_numbers():
    """77,169 neurons and about 0.3 billion synapses at full scale (the paper's figures)."""
    assert mc.N_FULL.sum() == 77169
    assert 2.95e8 < mc.synapse_counts_full().sum() < 3.05e8
    w = mc.weight_matrix()
    assert w[0, 2] == 2 * 87.8 and w[1, 2] == 87.8 and w[4, 5] == -4 * 87.8


def test_microcircuit_scaling_keeps_the_mean_input():
    s, full = mc.scaled(0.1), mc.scaled(1.0)
    np.testing.assert_array_equal(s["n"], [2068, 583, 2192, 548, 485, 106, 1440, 295])
    assert ((s["probs"] > 0) == (mc.CONN_PROBS > 0)).all() and s["probs"].max() < 0.5
    # a pair's probability is the expected synapse count; close to C when C is small
    small = (mc.CONN_PROBS > 0) & (mc.CONN_PROBS < 0.01)
    np.testing.assert_allclose(s["probs"][small], mc.CONN_PROBS[small], rtol=0.01)
    np.testing.assert_array_equal(full["dc"], 0.0)
    np.testing.assert_allclose(s["w"] * np.sqrt(0.1), mc.weight_matrix())

    def mean_current(p):  # pA: in-degree x weight x full-scale rate x tau_syn, plus the DC
        indegree = p["probs"] * p["n"][None, :]
        return (indegree * p["w"] * mc.FULL_MEAN_RATES).sum(axis=1) * 0.5e-3 + p["dc"]

    np.testing.assert_allclose(mean_current(s), mean_current(full), rtol=1e-2)


def _spikes(net):
    return [{r: list(t) for r, t in m.get("spike", keep=True).items()} for m in net.get_monitors()]


def _run_microcircuit(backend, threads, background):
    net = ann.Network(dt=0.1, seed=3)
    net.config(num_threads=threads)
    duration, measure = mc.build(ann, net, scale=0.01, duration=20.0, background=background)
    net.compile(backend=backend)
    net.simulate(duration)
    return _spikes(net), measure()


def test_microcircuit_same_spikes_at_1_and_2_threads():
    """1 % scale with the Poisson background (Binomial draws), 20 ms."""
    (spikes, rates), (spikes2, _) = _run_microcircuit("llvm", 1, "poisson"), _run_microcircuit("llvm", 2, "poisson")
    assert spikes == spikes2
    assert rates["value"] > 0 and list(rates["detail"]) == mc.POPULATIONS
    counts = [sum(len(t) for t in m.values()) for m in spikes]
    np.testing.assert_allclose(list(rates["detail"].values()), np.array(counts) / mc.scaled(0.01)["n"] / 0.02)


def test_microcircuit_reference_backend_agrees():
    """The DC background (the reference interpreter draws Binomial(n, p) too slowly for n ~ 2000)."""
    spikes, rates = _run_microcircuit("llvm", 1, "dc")
    assert spikes == _run_microcircuit("reference", 1, "dc")[0]
    assert rates["value"] > 0


@pytest.mark.parametrize("kind", ["uniform", "random"])
def test_delayed_coba_has_the_delays_it_says(kind):
    net = ann.Network(dt=0.1, seed=1)
    coba_delayed(ann, net, kind)
    for proj in net.get_projections():
        d = np.concatenate([np.ravel(x) for x in proj.delay]) if kind == "random" else np.ravel(proj.delay)
        if kind == "uniform":
            np.testing.assert_allclose(d, 1.5)
        else:
            assert d.min() >= 0.1 - 1e-9 and d.max() <= 3.0 + 1e-9 and d.std() > 0.5


def test_izhikevich_scaled_keeps_the_in_degree():
    net = ann.Network(dt=1.0, seed=2)
    izhikevich_network(ann, net, 2000)
    exc, inh = net.get_projections()
    assert exc.nb_synapses / 2000 == pytest.approx(800, rel=0.05)
    assert inh.nb_synapses / 2000 == pytest.approx(200, rel=0.1)


def test_sparse_reward_trace_measures_every_synapse():
    net = ann.Network(dt=1.0, seed=4)
    duration, measure = reward_trace(ann, net, n=50, p=0.2)
    net.compile()
    net.simulate(20.0)
    rec = net.get_projections()[1]
    assert rec.nb_synapses > 300
    assert measure() == pytest.approx(np.mean(np.abs(np.concatenate([np.ravel(t) for t in rec.trace]))))
    assert measure() > 0.0


def test_every_benchmark_is_registered_with_its_dt():
    for name in ("reward_trace", "reward_trace_dense", "izhikevich_10k", "coba_delay", "coba_delay_random",
                 "microcircuit", "microcircuit_dc"):
        dt, build = BENCHMARKS[name]
        assert dt in (0.1, 1.0) and callable(build)


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_a_target_named_like_a_python_keyword(backend):
    """ANNarchy's Miconi example sums target 'in' (a Python keyword): sum(in) reads it."""
    net = ann.Network(dt=1.0, seed=1)
    inp = net.create(ann.InputArray(2))
    pop = net.create(3, ann.Neuron(equations="r = sum(in) + 10 * sum(exc)"))
    net.connect(inp, pop, 'in').from_matrix(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    net.connect(inp, pop, 'exc').all_to_all(weights=1.0)
    inp.r = np.array([1.0, -2.0])
    net.compile(backend=backend)
    net.simulate(2.0)
    np.testing.assert_allclose(pop.r, [-3.0 - 10.0, -5.0 - 10.0, -7.0 - 10.0])
