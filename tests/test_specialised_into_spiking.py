"""Rate-coded Convolution and Pooling into a spiking population add their result to ``g_target``
(as ANNarchy); a rate-coded Copy into a spiking population feeds ``sum(target)``, as an ordinary
rate-coded projection.  Checked against the same projections into a rate-coded population, and
by hand, on the reference interpreter and llvm (1 and 2 threads)."""
import numpy as np
import pytest

import anncompiler as ann

BACKENDS = [("reference", 1), ("llvm", 1), ("llvm", 2)]
INPUT = ann.Neuron(parameters="r0 = 0.0", equations="r = r0", name="Input")
RATE = ann.Neuron(equations="r = sum(exc) + sum(inh)", name="Rate")
SPIKING = ann.Neuron(equations="v = g_exc + sum(inh)", spike="v > 1e9", name="Spiking")
# a conductance with its own decay: the input adds to what is left of it
DECAYING = ann.Neuron(equations="g_exc = 0.5 * g_exc", spike="g_exc > 1e9", name="Decaying")
VALUES = np.array([[1.0, -3.0, 2.0, 5.0], [0.5, 4.0, -1.0, 2.0], [3.0, 1.0, 0.0, -2.0], [1.0, 1.0, 6.0, 2.0]])
FILTER = np.array([[0.0, 1.0, 0.5], [2.0, -1.0, 0.0], [0.25, 0.0, 1.0]])


def network(threads, post_neuron, operation="max"):
    net = ann.Network(dt=1.0, seed=2)
    net.config(num_threads=threads)
    inp = net.create((4, 4), INPUT, name="inp")
    inp.r0 = VALUES
    conv_post = net.create((4, 4), post_neuron, name="conv_post")
    net.connect(ann.Convolution(inp, conv_post, "exc")).connect_filter(FILTER)
    pool_post = net.create((2, 2), post_neuron, name="pool_post")
    net.connect(ann.Pooling(inp, pool_post, "exc", operation=operation)).pooling()
    return net, conv_post, pool_post


@pytest.mark.parametrize("backend,threads", BACKENDS)
@pytest.mark.parametrize("operation", ["max", "mean"])
def test_convolution_and_pooling_into_g_target(backend, threads, operation):
    rate, rc, rp = network(threads, RATE, operation)
    mr = [rate.monitor(rc, "sum(exc)"), rate.monitor(rp, "sum(exc)")]
    rate.compile(backend=backend)
    rate.simulate(3)
    spiking, sc, sp = network(threads, SPIKING, operation)
    ms = [spiking.monitor(sc, "g_exc"), spiking.monitor(sp, "g_exc")]
    spiking.compile(backend=backend)
    spiking.simulate(3)
    for want, got in zip(mr, ms):
        np.testing.assert_array_equal(got.get("g_exc"), want.get("sum(exc)"))
    blocks = VALUES.reshape(2, 2, 2, 2).swapaxes(1, 2).reshape(2, 2, 4)
    pooled = blocks.max(axis=2) if operation == "max" else blocks.mean(axis=2)
    np.testing.assert_allclose(sp.g_exc, pooled)  # the input of the last step


@pytest.mark.parametrize("backend,threads", BACKENDS)
def test_pooling_max_adds_to_a_decaying_conductance(backend, threads):
    """ANNarchy adds the pooled value (``g_target += max``), also for max: with ``g = 0.5 g`` after
    the input, g after a step is ``(g + m) / 2`` of the previous g, where m is the pooled ``r`` of the
    previous step (0 in the first step: ``r`` is set by the first neuron update)."""
    net, _, post = network(threads, DECAYING, "max")
    m = net.monitor(post, "g_exc")
    net.compile(backend=backend)
    net.simulate(4)
    pooled = VALUES.reshape(2, 2, 2, 2).swapaxes(1, 2).reshape(2, 2, 4).max(axis=2)
    g, want = np.zeros((2, 2)), []
    for step in range(4):
        g = 0.5 * (g + (pooled if step else 0.0))
        want.append(g.copy())
    np.testing.assert_allclose(m.get("g_exc"), np.array(want))


@pytest.mark.parametrize("backend,threads", BACKENDS)
def test_copy_into_a_spiking_population_feeds_sum_target(backend, threads):
    net = ann.Network(dt=1.0, seed=3)
    net.config(num_threads=threads)
    inp = net.create(4, INPUT)
    inp.r0 = VALUES[0]
    post = net.create(4, SPIKING)
    rate_post = net.create(4, RATE)
    orig = net.connect(inp, rate_post, "inh")
    orig.all_to_all(weights=ann.Uniform(0.0, 1.0, rng=np.random.default_rng(1)))
    cp = net.connect(ann.Copy(inp, post, "inh"))
    cp.copy(orig)
    m = net.monitor(post, ["v", "sum(inh)"])
    net.compile(backend=backend)
    net.simulate(2)
    w = np.array(orig.w)
    want = w @ VALUES[0]
    np.testing.assert_allclose(m.get("sum(inh)")[1], want)
    np.testing.assert_allclose(m.get("v")[1], want)  # v = g_exc + sum(inh), no g_exc input
