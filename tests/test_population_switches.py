"""pop.enable()/disable()/clear(), pop.spike and view.spike (core/population_switches.py,
passes/lowering/activity.py): hand-computed traces on every backend and thread count."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import NetworkError

RUNS = [("reference", 1), ("llvm", 1), ("llvm", 2)]


def spiking_network(backend, threads):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    src = net.create(ann.SpikeSourceArray([list(range(8))] * 4))
    neuron = ann.Neuron(parameters=dict(Vt=2.5), equations="v = v + 1 + g_exc", spike="v > Vt", reset="v = 0")
    post = net.create(4, neuron)
    net.connect(src, post, "exc").one_to_one(weights=0.5)
    rate = net.create(3, ann.Neuron(equations="r = r + 1\ny = mean(r)"))
    mons = (net.monitor(post, ["v", "spike"]), net.monitor(rate, ["r", "y"]), net.monitor(src, "spike"))
    net.compile(backend=backend)
    return net, src, post, rate, mons


@pytest.mark.parametrize("backend,threads", RUNS)
def test_disabled_populations_are_frozen_and_silent(backend, threads):
    net, src, post, rate, (m, mr, ms) = spiking_network(backend, threads)
    net.simulate(2.0)
    for p in (post, rate, src):
        p.disable()
    assert not post.enabled
    net.simulate(3.0)  # steps 2-4: nothing is updated, no spikes
    for p in (post, rate, src):
        p.enable()
    net.simulate(2.0)
    # v: 1; 1 + 1 + 0.5 = 2.5; frozen; step 5: g was not reset nor fed while disabled, the reset of
    # step 5 zeroes it: 2.5 + 1 = 3.5 > 2.5 spikes -> 0; step 6: the spike of step 5 -> 1.5
    np.testing.assert_array_equal(m.get("v")[:, 0], [1.0, 2.5, 2.5, 2.5, 2.5, 0.0, 1.5])
    assert m.get("spike") == {i: [5] for i in range(4)}
    np.testing.assert_array_equal(mr.get("r")[:, 0], [1, 2, 2, 2, 2, 3, 4])
    np.testing.assert_array_equal(mr.get("y")[:, 0], [0, 1, 1, 1, 1, 2, 3])  # 0 first, then frozen
    assert ms.get("spike")[0] == [0, 1, 5, 6]  # the source skipped its spikes while disabled


@pytest.mark.parametrize("backend,threads", RUNS)
def test_disabled_before_compile_and_rate_projection_not_fed(backend, threads):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    a = net.create(2, ann.Neuron(equations="r = r + 1"))
    b = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    net.connect(a, b, "exc").one_to_one(weights=2.0)
    b.disable()
    m = net.monitor(b, ["r", "sum(exc)"])
    net.compile(backend=backend)
    net.simulate(2.0)
    b.enable()
    net.simulate(2.0)
    np.testing.assert_array_equal(m.get("r")[:, 0], [0, 0, 4, 6])  # a.r of the previous step: 2, 3
    np.testing.assert_array_equal(m.get("sum(exc)")[:, 0], [0, 0, 4, 6])


@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_clear_and_spike(backend):
    net = ann.Network(dt=1.0, seed=1)
    neuron = ann.Neuron(equations="v = v + 1", spike="v > 1.5", reset="v = 0", refractory=3.0)
    pop = net.create(3, neuron)
    with pytest.raises(NetworkError):
        pop.spike
    pop.v = [1.0, 0.0, 0.0]
    net.compile(backend=backend)
    net.step()
    assert pop.spike == [0] and pop[1:3].spike == [] and pop[[0, 2]].spike == [0]
    pop.clear()  # the refractory counter too: neuron 0 may spike again at once
    assert pop.spike == []
    pop.v = [2.0, 0.0, 0.0]
    net.step()
    assert pop.spike == [0]


def test_rate_population_clear_does_nothing():
    net = ann.Network(dt=1.0)
    pop = net.create(2, ann.Neuron(equations="r = r + 1"))
    net.compile(backend="reference")
    net.simulate(2.0)
    pop.clear()
    np.testing.assert_array_equal(pop.r, [2.0, 2.0])


@pytest.mark.parametrize("threads", [1, 2])
def test_llvm_threads_agree_with_reference_on_a_random_network(threads):
    def run(backend, threads):
        net = ann.Network(dt=0.5, seed=3)
        net.config(num_threads=threads)
        neuron = ann.Neuron(parameters=dict(tau=10.0), equations="tau * dv/dt = -v + g_exc + 20 * Uniform(0, 1)\n"
                            "m = max(v)", spike="v > 5.0", reset="v = 0")
        pop = net.create(40, neuron)
        net.connect(pop, pop, "exc").fixed_probability(0.2, weights=0.3)
        m = net.monitor(pop, ["v", "m", "spike"])
        net.compile(backend=backend)
        net.simulate(10.0)
        pop.disable()
        net.simulate(5.0)
        pop.enable()
        net.simulate(10.0)
        return m.get("v"), m.get("m"), m.get("spike")
    ref, got = run("reference", 1), run("llvm", threads)
    np.testing.assert_array_equal(ref[0], got[0])
    np.testing.assert_array_equal(ref[1], got[1])
    assert ref[2] == got[2]


@pytest.mark.parametrize("backend,threads", RUNS)
def test_disabled_population_sends_no_axonal_spikes(backend, threads):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    neuron = ann.Neuron(equations="v = v + 2", spike="v > 100", reset="v = 0", axon_spike="v > 3",
                        axon_reset="v -= 2")
    pre = net.create(1, neuron)
    post = net.create(1, ann.Neuron(equations="v = g_exc", spike="v > 1e9"))
    net.connect(pre, post, "exc", ann.Synapse(pre_spike="g_target += w", pre_axon_spike="g_target += w")) \
        .one_to_one(weights=1.0)
    m = net.monitor(post, "v")
    net.compile(backend=backend)
    net.simulate(2.0)  # v: 2, 4 (axonal spike at step 1, v -> 2)
    pre.disable()
    net.simulate(3.0)  # the axonal spike of step 1 arrives at step 2, then nothing
    np.testing.assert_array_equal(m.get("v")[:, 0], [0, 0, 1, 0, 0])
