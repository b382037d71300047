"""Synaptic delays of spiking projections: a spike emitted at step s reaches its synapse at step
s + max(1, round(d / dt)); uniform and non-uniform, every backend and thread count."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

import anncompiler as ann

CELL = ann.Neuron(parameters="tau = 1000.0", equations="tau * dv/dt = -v + g_exc\ng_exc = 0\ng_inh = 0",
                  spike="v > 100", reset="v = 0")
WEIGHTS = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # post x pre
DELAYS = np.array([[1.0, 3.0], [4.0, 1.0], [2.0, 2.0]])  # ms, dt = 1


def run(backend="llvm", threads=1, dt=1.0):
    net = ann.Network(dt=dt, seed=1)
    net.config(num_threads=threads)
    src = net.create(ann.SpikeSourceArray([[2.0 * dt], [5.0 * dt]]))
    post = net.create(3, CELL)
    varied = net.connect(src, post, "exc").from_matrix(WEIGHTS, delays=DELAYS * dt)
    uniform = net.connect(src, post, "inh").all_to_all(weights=1.0, delays=3.0 * dt)
    m = net.monitor(post, ["g_exc", "g_inh"])
    net.compile(backend=backend)
    net.simulate(12.0 * dt)
    return m.get("g_exc"), m.get("g_inh"), varied, uniform


def expected():
    """g at each recorded step: spike s of pre j reaches post i at step s + delay[i, j]."""
    g_exc, g_inh = np.zeros((12, 3)), np.zeros((12, 3))
    for j, s in enumerate((2, 5)):
        for i in range(3):
            g_exc[s + int(DELAYS[i, j]), i] += WEIGHTS[i, j]
            g_inh[s + 3, i] += 1.0
    return g_exc, g_inh


@pytest.mark.parametrize("backend,threads", [("llvm", 1), ("llvm", 2), ("llvm", 3), ("reference", 1)])
def test_uniform_and_non_uniform_delays(backend, threads):
    g_exc, g_inh, varied, uniform = run(backend, threads)
    want_exc, want_inh = expected()
    assert np.array_equal(g_exc, want_exc) and np.array_equal(g_inh, want_inh)
    assert uniform.delay == 3.0
    assert varied.delay == [list(DELAYS[i]) for i in range(3)]


def test_delays_round_to_steps_and_zero_is_one_step():
    g_exc, g_inh, varied, uniform = run(dt=0.5)
    want_exc, want_inh = expected()
    assert np.array_equal(g_exc, want_exc) and np.array_equal(g_inh, want_inh)
    net = ann.Network(dt=1.0)
    a = net.create(2, CELL)
    p = net.connect(a, a, "exc").all_to_all(weights=1.0, delays=0.0)
    assert p.delay == 1.0  # the inherent step


def test_delayed_network_is_the_same_on_every_thread_count_and_backend():
    def simulate(threads, backend="llvm"):
        net = ann.Network(dt=0.5, seed=7)
        net.config(num_threads=threads)
        lif = ann.Neuron(parameters="tau = 10.0", equations=["tau * dv/dt = -v + g_exc + 0.8 + Normal(0, 0.5)",
                                                             "5.0 * dg_exc/dt = -g_exc"],
                         spike="v > 1.0", reset="v = 0.0", refractory=1.0)
        pop = net.create(60, lif)
        net.connect(pop[:40], pop, "exc").fixed_probability(
            0.2, weights=0.3, delays=ann.Uniform(0.5, 4.0, rng=net.default_rng))
        net.connect(pop[40:], pop, "exc").fixed_probability(0.2, weights=-0.5, delays=2.0)
        m = net.monitor(pop, "spike")
        net.compile(backend=backend)
        net.simulate(100.0)
        return m.get("spike"), np.array(pop.v)
    ref_spikes, ref_v = simulate(1)
    assert sum(len(v) for v in ref_spikes.values()) > 20
    for threads, backend in ((2, "llvm"), (3, "llvm"), (1, "reference")):
        spikes, v = simulate(threads, backend)
        assert spikes == ref_spikes and np.array_equal(v, ref_v)


def test_projections_with_other_delays_are_not_fused():
    net = ann.Network(dt=1.0)
    a, b = net.create(4, CELL), net.create(4, CELL)
    net.connect(a, b, "exc").all_to_all(weights=1.0, delays=1.0)
    net.connect(a, b, "exc").all_to_all(weights=2.0, delays=3.0, force_multiple_weights=True)
    net.compile()
    assert not any("+" in k.name for k in net.kernel_module.kernels)


@pytest.mark.parametrize("backend,threads", [("llvm", 1), ("llvm", 2), ("llvm", 3), ("reference", 1)])
def test_spiking_delays_changed_after_compile(backend, threads):
    """New per-synapse delays rebuild the delayed index (and its thread partitions); a uniform
    delay changes in place; both up to the pre population's compiled max_delay."""
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    src = net.create(ann.SpikeSourceArray([[2.0], [5.0]]))
    src.max_delay = 6
    post = net.create(3, CELL)
    varied = net.connect(src, post, "exc").from_matrix(WEIGHTS, delays=DELAYS)
    uniform = net.connect(src, post, "inh").all_to_all(weights=1.0, delays=3.0)
    m = net.monitor(post, ["g_exc", "g_inh"])
    net.compile(backend=backend)
    if threads > 1:
        kernel = next(k for k in net.kernel_module.kernels if k.name == f"project_{varied.name}")
        assert kernel.parallel  # partitioned by post neuron
    new = np.array([[6.0, 1.0], [2.0, 2.0], [2.0, 3.0]])
    varied.delay = [list(r) for r in new]
    uniform.delay = 5.0
    with pytest.raises(ann.InvalidValueError, match="6 steps"):
        varied.dendrite(0).delay = [7.0, 1.0]
    net.simulate(12.0)
    g_exc, g_inh = np.zeros((12, 3)), np.zeros((12, 3))
    for j, s in enumerate((2, 5)):
        for i in range(3):
            g_exc[s + int(new[i, j]), i] += WEIGHTS[i, j]
            g_inh[s + 5, i] += 1.0
    assert np.array_equal(m.get("g_exc"), g_exc) and np.array_equal(m.get("g_inh"), g_inh)
    assert varied.delay == [list(r) for r in new] and uniform.delay == 5.0 and src.max_delay == 6


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.0, 20.0, allow_nan=False), min_size=1, max_size=40),
       st.sampled_from([0.05, 0.1, 0.25, 0.3, 1.0]))
def test_delay_summary_from_the_extremes(delays, dt):
    """``uniform_and_longest`` reads only the shortest and longest delay: it must say what the
    steps of every synapse say (``max(1, rint(d / dt))`` never decreases with ``d``)."""
    from types import SimpleNamespace
    from anncompiler.passes.lowering.delays import delay_steps, uniform_and_longest
    d = np.asarray(delays + [delays[0] + dt / 2, delays[-1]])  # near-ties of rounding too
    e = SimpleNamespace(name="p", connectivity=SimpleNamespace(delays=d))
    steps = delay_steps(e, dt)
    expected = (steps, steps) if isinstance(steps, int) else (None, int(np.max(steps)))
    assert uniform_and_longest(SimpleNamespace(dt=dt), e) == expected
