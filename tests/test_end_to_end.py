"""Whole-network runs against reference trajectories and hand-written numpy loops."""
import pathlib

import numpy as np
import pytest

import anncompiler as ann

#: ANNarchy 5's trajectory of a 10-neuron rate network, recorded with ANNarchy (tests/data/rate_traj.*)
REF = pathlib.Path(__file__).parent / "data"


# --------------------------------------------------------------------------
# 1. rate_traj: the 10-neuron recurrent rate network simulated with ANNarchy
# --------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_rate_traj_matches_annarchy(backend):
    params = np.load(REF / "rate_traj_params.npz")
    expected = np.load(REF / "rate_traj.npy")
    net = ann.Network(dt=float(params["dt"]), seed=1)
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=ann.Parameter(0.0, locality="local")),
                        equations=["tau * dr/dt + r = sum(exc) + B : min=0.0"])
    pop = net.create(10, neuron)
    pop.B = params["B"]
    pop.r = params["r0"]
    proj = net.connect(pop, pop, "exc")
    proj.from_matrix(params["W"])
    assert proj.nb_synapses == 100  # from_matrix keeps the diagonal
    m = net.monitor(pop, "r")
    net.compile(backend=backend)
    r0 = pop.r
    net.simulate(100.0)
    got = np.vstack([r0[None, :], m.get("r")])
    assert got.shape == expected.shape == (101, 10)
    assert np.max(np.abs(got - expected)) <= 1e-12


# --------------------------------------------------------------------------
# 2. a LIF neuron with a refractory period against a plain Python loop
# --------------------------------------------------------------------------
def lif_loop(n_steps, dt=0.1, tau=10.0, El=-65.0, Vt=-50.0, Vr=-70.0, I=20.0, v0=-65.0, refractory=5.0):
    """ANNarchy's rule: a refractory neuron only counts down; others update, then test and reset."""
    v, remaining, trace, spikes = v0, 0, [], []
    for k in range(n_steps):
        if remaining > 0:
            remaining -= 1
        else:
            v = v + dt * ((El - v + I) / tau)
            if v > Vt:
                v = Vr
                spikes.append(k)
                remaining = int(round(refractory / dt))
        trace.append(v)
    return np.array(trace), spikes


@pytest.mark.parametrize("backend", ["llvm", "reference"])
@pytest.mark.parametrize("refractory", [5.0, "tref"])
def test_lif_refractory_matches_python_loop(backend, refractory):
    params = dict(tau=10.0, El=-65.0, Vt=-50.0, Vr=-70.0, I=20.0)
    if refractory == "tref":
        params["tref"] = 5.0
    neuron = ann.Neuron(parameters=params, equations="tau*dv/dt = El - v + I : init=-65.0",
                        spike="v > Vt", reset="v = Vr", refractory=refractory, name="LIF")
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create(1, neuron)
    m = net.monitor(pop, ["v", "spike"])
    net.compile(backend=backend)
    net.simulate(60.0)
    v = m.get("v")
    spikes = m.get("spike")
    expected_v, expected_spikes = lif_loop(600)
    assert len(expected_spikes) >= 2  # the refractory period is exercised
    assert v.shape == (600, 1)
    assert spikes == {0: expected_spikes}
    np.testing.assert_allclose(v[:, 0], expected_v, rtol=1e-12, atol=1e-12)
    assert pop.refractory == pytest.approx(5.0) or refractory == "tref"


def test_lif_refractory_set_from_population():
    """pop.refractory set before compile overrides the model's value."""
    neuron = ann.Neuron(parameters=dict(tau=10.0, El=-65.0, Vt=-50.0, Vr=-70.0, I=20.0),
                        equations="tau*dv/dt = El - v + I : init=-65.0",
                        spike="v > Vt", reset="v = Vr", name="LIF")
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create(1, neuron)
    pop.refractory = 2.0
    m = net.monitor(pop, ["spike"])
    net.compile()
    net.simulate(60.0)
    assert m.get("spike") == {0: lif_loop(600, refractory=2.0)[1]}


# --------------------------------------------------------------------------
# 3. COBA (examples/coba.py)
# --------------------------------------------------------------------------
def test_coba_rates():
    net = ann.Network(dt=0.1, seed=42)
    LIF = ann.Neuron(
        parameters=dict(El=-60., Vr=-60., Erev_exc=0., Erev_inh=-80., Vt=-50., tau=20., tau_exc=5.,
                        tau_inh=10., I=20.),
        equations=["tau * dv/dt = (El - v) + g_exc * (Erev_exc - v) + g_inh * (Erev_inh - v) + I",
                   "tau_exc * dg_exc/dt = - g_exc",
                   "tau_inh * dg_inh/dt = - g_inh"],
        spike="v > Vt", reset="v = Vr", refractory=5.0, name="LIF")
    P = net.create(4000, LIF)
    P.v = ann.Normal(-55., 5., rng=net.default_rng)
    P.g_exc = ann.Normal(4., 1.5, rng=net.default_rng)
    P.g_inh = ann.Normal(20., 12., rng=net.default_rng)
    net.connect(P[:3200], P, 'exc').fixed_probability(0.02, weights=0.6)
    net.connect(P[3200:], P, 'inh').fixed_probability(0.02, weights=6.7)
    m = net.monitor(P, 'spike')
    net.compile()
    net.simulate(1000.)
    spikes = m.get('spike')
    exc = sum(len(spikes[r]) for r in range(3200)) / 3200
    inh = sum(len(spikes[r]) for r in range(3200, 4000)) / 800
    assert 17.0 <= exc <= 23.0, exc
    assert 17.0 <= inh <= 23.0, inh


# --------------------------------------------------------------------------
# 4. spike transmission timing
# --------------------------------------------------------------------------
def _transmission(backend, decay):
    net = ann.Network(dt=0.1, seed=1)
    src = ann.SpikeSourceArray([1.0], network=net)
    equations = ["dv/dt = -v + g_exc"]
    params = {}
    if decay:
        equations.append("tau_e * dg_exc/dt = -g_exc")
        params["tau_e"] = 5.0
    neuron = ann.Neuron(parameters=params, equations=equations, spike="v > 1000.0", reset="v = 0.0",
                        name="Receiver")
    post = net.create(1, neuron)
    net.connect(src, post, "exc").all_to_all(weights=0.7)
    m = net.monitor(post, "g_exc")
    ms = net.monitor(src, "spike")
    net.compile(backend=backend)
    net.simulate(3.0)
    spikes = ms.get("spike")
    assert spikes == {0: [10]}  # t = 1.0 ms = step 10
    return m.get("g_exc")[:, 0]


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_spike_transmission_with_decay(backend):
    g = _transmission(backend, decay=True)
    assert np.all(g[:11] == 0.0)
    # delivered at step 11 (one step after the spike), then one Euler step of decay in the same step
    expected = 0.7 * (1.0 - 0.1 / 5.0) ** np.arange(1, len(g) - 10)
    np.testing.assert_allclose(g[11:], expected, rtol=1e-12)


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_spike_transmission_instantaneous_reset(backend):
    """No equation for g_exc: the conductance is reset at the start of every step, so the recording
    shows w exactly at the step after the spike and 0 before and after (ANNarchy's test_SpikingTransmission)."""
    g = _transmission(backend, decay=False)
    expected = np.zeros_like(g)
    expected[11] = 0.7
    np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_spike_transmission_drives_receiver(backend):
    """Whatever the recording shows, the conductance reaches the membrane at the step after the spike."""
    net = ann.Network(dt=0.1, seed=1)
    src = ann.SpikeSourceArray([1.0], network=net)
    neuron = ann.Neuron(equations=["v = v + g_exc"], spike="v > 1000.0", reset="v = 0.0", name="Acc")
    post = net.create(1, neuron)
    net.connect(src, post, "exc").all_to_all(weights=0.7)
    m = net.monitor(post, "v")
    net.compile(backend=backend)
    net.simulate(3.0)
    v = m.get("v")[:, 0]
    expected = np.where(np.arange(30) >= 11, 0.7, 0.0)
    np.testing.assert_allclose(v, expected, rtol=0, atol=0)
