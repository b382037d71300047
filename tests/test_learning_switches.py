"""The switches of a projection: transmission, update, plasticity, enable/disable_learning, with
periodic learning; they change between two simulate calls and every backend and thread count
follows them."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import InvalidTypeError, NetworkError

INPUT = ann.Neuron(parameters="r0 = 1.0", equations="r = r0")
RATE = ann.Neuron(equations="r = sum(exc)")
HEBB = ann.Synapse(parameters="eta = 0.1", equations="dw/dt = eta * pre.r * post.r")
LIF = ann.Neuron(parameters="tau = 10.0", equations="tau * dv/dt = -v + g_exc", spike="v > 1.0",
                 reset="v = 0.0")
STDP = ann.Synapse(parameters="tau = 10.0", equations="tau * dx/dt = -x : event-driven",
                   pre_spike="g_target += w\nx += 1.0\nw += 0.01", post_spike="w -= 0.005")


def rate_net(threads=1):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    a, b = net.create(3, INPUT), net.create(2, RATE)
    proj = net.connect(a, b, "exc", HEBB).all_to_all(weights=0.1, force_multiple_weights=True)
    return net, b, proj


def hebb(w, steps):
    """Explicit Euler of dw/dt = eta * pre.r * post.r, post.r = sum of the weights of the previous step."""
    w = np.array(w, dtype=float)
    for _ in range(steps):
        post = w.sum(axis=1)  # pre.r = 1
        w = w + 0.1 * 1.0 * post[:, None]
    return w


@pytest.mark.parametrize("backend,threads", [("llvm", 1), ("llvm", 2), ("reference", 1)])
def test_update_and_transmission_switch_between_runs(backend, threads):
    net, b, proj = rate_net(threads)
    net.compile(backend=backend)
    net.simulate(3.0)
    w = np.array(proj.w)
    proj.update = False  # the equations stop, the input goes on
    net.simulate(2.0)
    assert np.array_equal(proj.w, w) and proj.update is False
    assert np.allclose(b.r, w.sum(axis=1))
    proj.transmission = False  # no input
    net.simulate(1.0)
    assert np.all(b.r == 0.0)
    proj.transmission = proj.update = True
    net.simulate(1.0)
    assert not np.array_equal(proj.w, w)


def test_periodic_learning_and_disable_learning():
    net, b, proj = rate_net()
    net.compile()
    proj.disable_learning()  # rate-coded: update=False
    assert proj.update is False and proj.plasticity is True
    net.simulate(4.0)
    frozen = np.array(proj.w)
    assert np.allclose(frozen, 0.1)
    net.enable_learning(period=2.0, offset=1.0)  # every other step, on odd steps
    changes = []
    for _ in range(4):
        before = np.array(proj.w)
        net.simulate(1.0)
        changes.append(not np.array_equal(before, proj.w))
    assert changes == [False, True, False, True]  # steps 4, 5, 6, 7


def test_plasticity_off_keeps_w_but_not_the_other_variables():
    net = ann.Network(dt=1.0, seed=2)
    src = net.create(ann.SpikeSourceArray([[2.0, 5.0, 8.0]]))
    post = net.create(1, LIF)
    proj = net.connect(src, post, "exc", STDP).all_to_all(weights=0.5)
    net.compile()
    proj.disable_learning()  # spiking: plasticity=False
    assert proj.plasticity is False and proj.update is True
    net.simulate(10.0)
    assert proj.w == [[0.5]]
    assert proj.x[0][0] > 0  # the trace still follows the spikes
    proj.plasticity = True
    net.simulate(10.0)
    assert proj.w == [[0.5]]  # no spike after t=8: nothing changed yet
    with pytest.raises(InvalidTypeError):
        proj.plasticity = "yes"


def test_switches_before_compile_and_fused_projections():
    net, b, proj = rate_net()
    proj.transmission = False
    net.compile()
    net.simulate(2.0)
    assert np.all(b.r == 0.0) and np.allclose(proj.w, 0.1)
    net2 = ann.Network(dt=1.0)
    a, c = net2.create(3, INPUT), net2.create(2, RATE)
    p1 = net2.connect(a, c, "exc").all_to_all(weights=ann.Uniform(0, 1, rng=net2.default_rng))
    net2.connect(a, c, "exc").all_to_all(weights=ann.Uniform(0, 1, rng=net2.default_rng))
    net2.compile()
    with pytest.raises(NetworkError, match="fused"):
        p1.transmission = False
