"""Spike-timing plasticity: event-driven traces decayed lazily at the events of each synapse,
``pre_spike`` (at the step after the pre spike, decayed to the spike's step) and ``post_spike``
(in the step of the post spike, after the synaptic equations): docs/semantics.md, "Event-driven variables"."""
import math

import numpy as np
import pytest

import anncompiler as ann

STDP = ann.Synapse(
    parameters="tau_plus = 20.0\ntau_minus = 20.0\nA_plus = 0.01\nA_minus = 0.0105\nw_max = 1.0",
    equations="""
        tau_plus  * dx/dt = -x : event-driven
        tau_minus * dy/dt = -y : event-driven
    """,
    pre_spike="""
        g_target += w
        x += A_plus * w_max
        w = clip(w + y, 0.0, w_max)
    """,
    post_spike="""
        y -= A_minus * w_max
        w = clip(w + x, 0.0, w_max)
    """, name="STDP")


def timed(times):
    """A neuron that spikes at the given times (ms) and receives g_exc."""
    cond = " or ".join(f"(t == {t:.1f})" for t in times) or "t < 0.0"
    return ann.Neuron(equations="dv/dt = g_exc - v", spike=cond, reset="v = 0.0", name="Timed")


def pair(pre_times, post_times, backend="llvm", threads=1, synapse=STDP, duration=40.0):
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    pre = net.create(1, timed(pre_times))
    post = net.create(1, timed(post_times))
    proj = net.connect(pre, post, "exc", synapse).all_to_all(weights=0.5)
    g = net.monitor(post, "g_exc")
    net.compile(backend=backend)
    net.simulate(duration)
    return proj, g.get("g_exc")[:, 0]


def by_hand():
    """pre at 10 and 30 ms, post at 15 and 27 ms, traces decayed to each event's time."""
    e = lambda ms: math.exp(-ms / 20.0)  # noqa: E731
    x, y, w = 0.01, 0.0, 0.5                      # pre spike at 10 (handled at step 11)
    x *= e(5); y -= 0.0105; w += x                # post spike at 15
    x *= e(12); y *= e(12); y -= 0.0105; w += x   # post spike at 27
    x *= e(3); y *= e(3); x += 0.01; w += y       # pre spike at 30 (handled at step 31)
    return w, x, y


@pytest.mark.parametrize("backend, threads", [("llvm", 1), ("reference", 1), ("llvm", 2)])
def test_pair_based_stdp_by_hand(backend, threads):
    proj, g = pair([10.0, 30.0], [15.0, 27.0], backend, threads)
    w, x, y = by_hand()
    assert proj.w == [[pytest.approx(w, rel=1e-14)]]
    assert proj.x == [[pytest.approx(x, rel=1e-14)]] and proj.y == [[pytest.approx(y, rel=1e-14)]]
    assert g[11] == 0.5 and g[31] == pytest.approx(by_hand()[0] - by_hand()[2], rel=1e-14)  # w before the event


def test_causal_pairs_potentiate_and_anti_causal_pairs_depress():
    causal, _ = pair([10.0], [12.0])
    anti, _ = pair([12.0], [10.0])
    assert causal.w[0][0] > 0.5 > anti.w[0][0]


def test_bounds_of_a_variable_apply_after_each_event_statement():
    bounded = ann.Synapse(parameters="step = 0.3", equations="du/dt = 0.0 : min=0.1, max=0.9, init=0.5",
                          pre_spike="g_target += w\nu += step", post_spike="u -= 2.0 * step", name="Bounded")
    proj, _ = pair([5.0, 10.0], [], synapse=bounded, duration=20.0)
    assert proj.u == [[pytest.approx(0.9)]]  # 0.5 + 0.3, + 0.3 clipped
    proj, _ = pair([5.0], [10.0, 12.0], synapse=bounded, duration=20.0)
    assert proj.u == [[pytest.approx(0.1)]]  # 0.8 - 0.6, - 0.6 clipped


def test_event_driven_needs_a_constant_steady_state():
    bad = ann.Synapse(equations="tau * dx/dt = post.v - x : event-driven", parameters="tau = 10.0",
                      pre_spike="g_target += w", name="Bad")
    with pytest.raises(ann.ModelError, match="Bad.*event-driven.*free of variables .post.v."):
        pair([5.0], [], synapse=bad)


def test_many_neurons_bit_identical_for_any_thread_count():
    def run(threads):
        net = ann.Network(dt=0.5, seed=2)
        net.config(num_threads=threads)
        noisy = ann.Neuron(parameters="rate = 30.0", equations="dv/dt = g_exc - v",
                           spike="Uniform(0.0, 1.0) < rate * dt / 1000.0", reset="v = 0.0", name="Noisy")
        pre, post = net.create(60, noisy), net.create(25, noisy)
        proj = net.connect(pre, post, "exc", STDP).fixed_probability(0.5, weights=0.5)
        net.compile()
        net.simulate(300.0)
        return np.array(proj.connectivity_matrix(fill=np.nan))
    w1 = run(1)
    assert np.nanstd(w1) > 0  # the weights moved apart
    for threads in (2, 3):
        np.testing.assert_array_equal(run(threads), w1)


def test_continuous_equations_cannot_read_event_driven_variables():
    bad = ann.Synapse(equations="tau * dx/dt = -x : event-driven\ndz/dt = x", parameters="tau = 10.0",
                      pre_spike="g_target += w\nx += 1.0", name="Stale")
    with pytest.raises(ann.ModelError, match="Stale.*event-driven variable 'x' cannot be read"):
        pair([5.0], [], synapse=bad)
