"""Rate-coded synaptic plasticity: synaptic equations run after the neuron updates (docs/semantics.md,
"One step"), globals first, then per dendrite, then per synapse; checked against numpy."""
import numpy as np
import pytest

import anncompiler as ann

DT, STEPS = 0.5, 60
FREQUENCIES = np.linspace(0.05, 0.3, 6)
BCM = ann.Synapse(
    parameters="eta = 0.05 : projection\ntau_theta = 20.0 : projection\ntau_k = 30.0 : projection",
    equations="""
        tau_k * dk/dt = 1.0 - k : projection
        tau_theta * dtheta/dt = post.r^2 - theta : postsynaptic, init=0.1
        dw/dt = eta * k * post.r * (post.r - theta) * pre.r : min=0.0
    """, name="BCM")


def layers(net):
    inp = net.create(6, ann.Neuron(parameters="f = 0.1", equations="r = 1.0 + sin(f * t)"), name="inp")
    out = net.create(4, ann.Neuron(parameters="tau = 5.0", equations="tau * dr/dt + r = sum(exc)"), name="out")
    inp.f = FREQUENCIES
    return inp, out


def bcm_network(threads=1, backend="llvm", synapse=BCM):
    """Inputs oscillating at different frequencies, one layer learning with a BCM-like rule: a
    global gain ``k``, a semiglobal threshold ``theta`` and local weights bounded below."""
    net = ann.Network(dt=DT, seed=5)
    net.config(num_threads=threads)
    inp, out = layers(net)
    proj = net.connect(inp, out, "exc", synapse)
    proj.fixed_probability(0.7, weights=ann.Uniform(0.1, 0.5, rng=np.random.default_rng(3)))
    w0 = proj.connectivity_matrix(fill=np.nan)
    m = net.monitor(out, "r")
    net.compile(backend=backend)
    net.simulate(STEPS * DT)
    return proj, w0, m.get("r")


def numpy_bcm(w0):
    """The same network written out with the step order of docs/semantics.md, "One step"."""
    mask = ~np.isnan(w0)
    w = np.where(mask, w0, 0.0)
    r_in, r_out = np.zeros(6), np.zeros(4)
    theta, k = np.full(4, 0.1), 0.0
    trace = []
    for step in range(STEPS):
        s = w @ r_in                                   # 1. input, previous-step rates
        r_in = 1.0 + np.sin(FREQUENCIES * step * DT)   # 3. neurons
        r_out = r_out + DT * (s - r_out) / 5.0
        k = k + DT * (1.0 - k) / 30.0                  # 6. synapses: global,
        theta = theta + DT * (r_out ** 2 - theta) / 20.0  # semiglobal, then local
        dw = 0.05 * k * (r_out * (r_out - theta))[:, None] * r_in[None, :]
        w = np.where(mask, np.maximum(w + DT * dw, 0.0), 0.0)
        trace.append(r_out.copy())
    return np.array(trace), np.where(mask, w, np.nan), theta, k


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_bcm_rule_against_numpy(backend):
    proj, w0, rates = bcm_network(backend=backend)
    trace, w, theta, k = numpy_bcm(w0)
    np.testing.assert_allclose(rates, trace, rtol=1e-12)
    np.testing.assert_allclose(proj.connectivity_matrix(fill=np.nan), w, rtol=1e-12)
    assert not np.allclose(np.nan_to_num(w), np.nan_to_num(w0))  # it learned
    np.testing.assert_allclose(proj.theta, theta[proj.post_ranks], rtol=1e-12)
    assert proj.k == pytest.approx(k, rel=1e-12)


def test_plasticity_bit_identical_for_any_thread_count():
    _, _, reference = bcm_network(threads=1)
    for threads in (2, 3):
        assert np.array_equal(bcm_network(threads=threads)[2], reference)


def test_shared_weight_becomes_per_synapse_when_learned():
    net = ann.Network(dt=1.0)
    inp, out = layers(net)
    hebb = ann.Synapse(parameters="eta = 0.01", equations="dw/dt = eta * pre.r * post.r", name="Hebb")
    proj = net.connect(inp, out, "exc", hebb).all_to_all(weights=0.2)
    net.compile()
    net.simulate(10.0)
    w = np.array(proj.w)
    assert w.shape == (4, 6) and np.all(w > 0.2) and len(np.unique(w[0])) == 6


@pytest.mark.parametrize("equations, culprit", [
    ("dg/dt = post.r : projection", "global variable 'g' .projection. cannot depend on the finer-grained 'post.r'"),
    ("dg/dt = w : projection", "global variable 'g' .projection. cannot depend on the finer-grained 'w'"),
    ("dh/dt = pre.r : postsynaptic", "'h' .postsynaptic. cannot depend on the finer-grained 'pre.r'"),
])
def test_locality_rules(equations, culprit):
    net = ann.Network(dt=1.0)
    inp, out = layers(net)
    net.connect(inp, out, "exc", ann.Synapse(equations=equations, name="Bad")).all_to_all(weights=0.2)
    with pytest.raises(ann.ModelError, match=f"Bad.*{culprit}"):
        net.compile()


def test_random_numbers_in_synaptic_equations():
    """Each synapse draws its own numbers, the same on every backend (tests/test_synapse_semantics.py)."""
    weights = []
    for backend in ("reference", "llvm"):
        net = ann.Network(dt=1.0, seed=3)
        inp, out = layers(net)
        noisy = ann.Synapse(equations="dw/dt = Normal(0.0, 1.0)", name="Noisy")
        proj = net.connect(inp, out, "exc", noisy).all_to_all(weights=0.2)
        net.compile(backend=backend)
        net.simulate(2.0)
        weights.append(np.ravel(proj.w))
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-13)
    assert len(set(weights[0])) == len(weights[0])
