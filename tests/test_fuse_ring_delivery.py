"""``fuse-ring-delivery``: the delay rings delivered in the neuron update's loop
(``passes/fuse_delivery.py``).  The fused kernel is in the dumps, gives the same bits as the
separate delivery on every backend and thread count (also while the population is disabled),
is refused when something uses the conductance in between, and adds no barrier."""
import os

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.passes import DEFAULT_PIPELINE

UNFUSED = DEFAULT_PIPELINE.replace("fuse-ring-delivery,", "")
RUNS = [("reference", 1), ("llvm", 1), ("llvm", 2), ("llvm", 3)]

LIF = ann.Neuron(
    parameters=dict(tau=20.0, tau_exc=5.0, tau_inh=10.0, I=22.0, Vt=-50.0),
    equations=["tau * dv/dt = (-60 - v) + g_exc * (0 - v) + g_inh * (-80 - v) + I",
               "tau_exc * dg_exc/dt = - g_exc", "tau_inh * dg_inh/dt = - g_inh"],
    spike="v > Vt", reset="v = -60", refractory=2.0, name="LIF")


def network(backend="llvm", threads=1, pipeline=None, extra=False, dump=None, disable=False, ms=60.0):
    """COBA-like: 120 neurons, random delays (rings for both targets); ``extra``: an undelayed
    projection into ``exc`` created after the delayed ones (it adds to ``g_exc`` between the
    delivery and the update)."""
    net = ann.Network(dt=0.1, seed=7)
    net.config(num_threads=threads)
    pop = net.create(120, LIF, name="pop")
    pop.v = ann.Uniform(-60.0, -50.0, rng=net.default_rng)
    for sources, target, w in ((pop[:96], "exc", 0.6), (pop[96:], "inh", 5.3)):
        net.connect(sources, pop, target).fixed_probability(
            0.1, weights=ann.Uniform(0.5 * w, w, rng=net.default_rng), delays=ann.Uniform(0.1, 2.0, rng=net.default_rng))
    if extra:
        net.connect(pop[:10], pop, "exc").fixed_probability(0.2, weights=0.3)
    m = net.monitor(pop, ["spike", "g_exc"])
    net.compile(backend=backend, pipeline=pipeline, dump_ir=dump, silent=True)
    if disable:
        net.simulate(ms / 3)
        pop.disable()
        net.simulate(ms / 3)
        pop.enable()
        net.simulate(ms / 3)
    else:
        net.simulate(ms)
    spikes = m.get("spike")
    return ([spikes[i] for i in sorted(spikes)], np.asarray(m.get("g_exc")), np.array(pop.v), np.array(pop.g_inh))


def assert_same(a, b):
    assert a[0] == b[0]
    for x, y in zip(a[1:], b[1:]):
        assert np.array_equal(x, y)


def _dump(tmp_path, stage):
    return open(tmp_path / next(f for f in sorted(os.listdir(tmp_path)) if f.endswith(stage))).read()


def test_fused_kernel_in_the_dump(tmp_path):
    network(dump=str(tmp_path), ms=1.0)
    text = _dump(tmp_path, "cpu-expand-reductions.txt")
    assert "fuse-ring-delivery: deliver_delayed_pop merged into the loop of update_pop" in text
    update = text[text.index("kernel @update_pop"):]
    update = update[:update.index("\nkernel ")]
    assert "pop._delay_ring_exc[" in update and "pop._delay_ring_inh[" in update
    delivery = text[text.index("kernel @deliver_delayed_pop"):text.index("kernel @update_pop")]
    assert "while it is disabled" in delivery and "pop.g_exc" not in delivery


@pytest.fixture(scope="module")
def unfused():
    return network("llvm", 1, UNFUSED), network("llvm", 1, UNFUSED, disable=True)


@pytest.mark.parametrize("backend,threads", RUNS)
def test_same_bits_as_the_separate_delivery(unfused, backend, threads):
    ms = 20.0 if backend == "reference" else 60.0
    reference = unfused[0] if ms == 60.0 else network("llvm", 1, UNFUSED, ms=ms)
    assert reference[0] and sum(map(len, reference[0])) > 20  # the network fires
    assert_same(network(backend, threads, ms=ms), reference)


@pytest.mark.parametrize("threads", [1, 2])
def test_same_bits_across_a_disabled_period(unfused, threads):
    assert_same(network("llvm", threads, disable=True), unfused[1])


def test_refused_when_the_conductance_is_used_in_between(tmp_path):
    fused = network(extra=True, dump=str(tmp_path), ms=30.0)
    text = _dump(tmp_path, "cpu-expand-reductions.txt")
    assert "deliver_delayed_pop not fused: pop.g_exc used between the delivery and the update" in text
    assert "pop.g_exc" in text[text.index("kernel @deliver_delayed_pop"):text.index("kernel @update_pop")]
    assert_same(fused, network(extra=True, pipeline=UNFUSED, ms=30.0))


def test_no_barrier_before_the_fused_update(tmp_path):
    net = ann.Network(dt=0.1, seed=7)
    net.config(num_threads=2, thread_policy="always")
    pop = net.create(120, LIF, name="pop")
    net.connect(pop, pop, "exc").fixed_probability(0.1, weights=0.5, delays=ann.Uniform(0.1, 2.0, rng=net.default_rng))
    net.compile(dump_ir=str(tmp_path), silent=True)
    text = _dump(tmp_path, "cpu-expand-reductions.txt")
    header = next(line for line in text.splitlines() if line.startswith("kernel @update_pop "))
    assert "parallel" in header and "barrier" not in header
