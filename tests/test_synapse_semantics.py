"""Spiking-synapse semantics: ``unless_post``, random numbers in synapses, continuous ``psp`` on
spiking projections (gap junctions, NMDA-like synapses), lists of targets and targets that the
post-synaptic neuron does not use.  Each is checked against hand-computed values or a numpy
re-implementation of the discrete update, on every backend and thread count."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.ir import philox

RUNS = [("llvm", 1), ("reference", 1), ("llvm", 2)]


def compile_run(net, backend, threads, duration):
    net.config(num_threads=threads)
    net.compile(backend=backend)
    net.simulate(duration)


def timed_neuron(name="Timed"):
    """Spikes at the local times t1 and t2 (ms); g_exc unused but declared by the equation."""
    return ann.Neuron(parameters="t1 = -1.0\nt2 = -1.0", equations="dv/dt = g_exc - v",
                      spike="(abs(t - t1) < 0.25) or (abs(t - t2) < 0.25)", reset="v = 0.0", name=name)


def uniform_oracle(index, step, stream, seed, a=0.0, b=1.0):
    """``Uniform(a, b)`` of the counter-based generator (ir/philox.py) in plain Python: element
    ``index`` takes its half of the block of ``index >> 1``."""
    w = philox.philox4x32_10_py((index >> 1, step & 0xFFFFFFFF, step >> 32, stream), (seed & 0xFFFFFFFF, seed >> 32))
    hi, lo = (w[2], w[3]) if index & 1 else (w[0], w[1])
    return a + (b - a) * ((hi >> 5) * 2.0 ** 26 + (lo >> 6)) * 2.0 ** -53


# --------------------------------------------------------------------------
# unless_post

COUNTING = ann.Synapse(equations="dc/dt = 0.0\ndd/dt = 0.0",
                       pre_spike="g_target += w\nc += 1.0\nd += 1.0 : unless_post", name="Counting")


@pytest.mark.parametrize("backend, threads", RUNS)
def test_unless_post_skips_pre_spike_statements_when_both_spiked_at_the_same_step(backend, threads):
    """Four pre and five post neurons spiking at their own steps: ``c`` counts every pre spike,
    ``d`` those at a step where the post neuron did not spike."""
    net = ann.Network(dt=1.0)
    pre, post = net.create(4, timed_neuron("Pre")), net.create(5, timed_neuron("Post"))
    pre_times = np.array([[3.0, 8.0], [5.0, 9.0], [8.0, -1.0], [2.0, 12.0]])
    post_times = np.array([[3.0, 9.0], [8.0, -1.0], [5.0, 12.0], [-1.0, -1.0], [2.0, 8.0]])
    pre.t1, pre.t2 = pre_times[:, 0], pre_times[:, 1]
    post.t1, post.t2 = post_times[:, 0], post_times[:, 1]
    proj = net.connect(pre, post, "exc", COUNTING).all_to_all(weights=0.5)
    compile_run(net, backend, threads, 20.0)
    c = np.zeros((5, 4))
    d = np.zeros((5, 4))
    for j in range(5):
        for i in range(4):
            for ts in pre_times[i][pre_times[i] >= 0]:
                c[j, i] += 1
                d[j, i] += ts not in post_times[j]
    np.testing.assert_array_equal(np.array(proj.c), c)
    np.testing.assert_array_equal(np.array(proj.d), d)


@pytest.mark.parametrize("backend, threads", RUNS)
def test_unless_post_on_the_conductance_increment(backend, threads):
    syn = ann.Synapse(pre_spike="g_target += w : unless_post", name="Guarded")
    net = ann.Network(dt=1.0)
    pre, post = net.create(1, timed_neuron("Pre")), net.create(1, timed_neuron("Post"))
    pre.t1, pre.t2, post.t1 = 4.0, 9.0, 9.0
    net.connect(pre, post, "exc", syn).all_to_all(weights=0.25)
    g = net.monitor(post, "g_exc")
    compile_run(net, backend, threads, 12.0)
    expected = np.zeros(12)
    expected[5] = 0.25  # the spike at 9 ms meets a post spike at 9 ms: not transmitted
    np.testing.assert_array_equal(g.get("g_exc")[:, 0], expected)


def test_unless_post_outside_pre_spike_is_an_error():
    for kw in (dict(pre_spike="g_target += w", post_spike="w += 1.0 : unless_post"),
               dict(equations="dx/dt = -x : unless_post")):
        with pytest.raises(ann.FlagError, match="unless_post"):
            net = ann.Network(dt=1.0)
            pop = net.create(2, timed_neuron())
            net.connect(pop, pop, "exc", ann.Synapse(**kw)).all_to_all(weights=1.0)
            net.compile(backend="reference")


def test_unless_post_needs_a_spiking_post_population():
    net = ann.Network(dt=1.0)
    pre = net.create(2, timed_neuron())
    post = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    syn = ann.Synapse(equations="dc/dt = 0.0", psp="w * c", pre_spike="c += 1.0 : unless_post")
    net.connect(pre, post, "exc", syn).all_to_all(weights=1.0)
    with pytest.raises(ann.ModelError, match="unless_post.*rate-coded"):
        net.compile(backend="reference")
    assert not net.compiled


# --------------------------------------------------------------------------
# random numbers in synapses

@pytest.mark.parametrize("backend, threads", RUNS)
def test_random_synaptic_equations_per_synapse_dendrite_and_projection(backend, threads):
    """Stream = the call (after the populations' draws), index = synapse / dendrite / 0, step = the step."""
    net = ann.Network(dt=1.0, seed=42)
    inp = net.create(3, ann.Neuron(equations="r = Normal(0.0, 1.0)"))  # stream 0
    out = net.create(4, ann.Neuron(equations="r = sum(exc)"))
    syn = ann.Synapse(equations=["z = Uniform(-1.0, 0.0) : projection", "y = Uniform(0.0, 1.0) : postsynaptic",
                                 "x = Uniform(2.0, 3.0)"])
    proj = net.connect(inp, out, "exc", syn).all_to_all(weights=0.5)
    compile_run(net, backend, threads, 3.0)
    last = 2  # the step counter of the last step
    # globals first (stream 1 is z), then the semiglobal y (2) and the local x (3)
    assert proj.z == uniform_oracle(0, last, 1, 42, -1.0, 0.0)
    np.testing.assert_array_equal(proj.y, [uniform_oracle(k, last, 2, 42) for k in range(4)])
    np.testing.assert_array_equal(np.ravel(proj.x), [uniform_oracle(s, last, 3, 42, 2.0, 3.0) for s in range(12)])


@pytest.mark.parametrize("backend, threads", RUNS)
def test_random_pre_spike_and_post_spike_statements(backend, threads):
    """A pre spike at step s draws at step s+1 (when it is delivered), a post spike at its own step,
    each synapse with its own numbers."""
    syn = ann.Synapse(equations="da/dt = 0.0\ndb/dt = 0.0",
                      pre_spike="g_target += w * Uniform(0.0, 1.0)\na = Uniform(10.0, 11.0)",
                      post_spike="b = Uniform(-2.0, -1.0)", name="Noisy")
    net = ann.Network(dt=1.0, seed=7)
    post_model = ann.Neuron(parameters="t1 = -1.0\nt2 = -1.0", equations="noise = Normal(0.0, 1.0)\nv = g_exc",
                            spike="(abs(t - t1) < 0.25) or (abs(t - t2) < 0.25)", name="NoisyPost")
    pre, post = net.create(3, timed_neuron("Pre")), net.create(2, post_model)  # post draws: stream 0
    pre.t1 = [2.0, 4.0, 6.0]
    post.t1 = [3.0, 5.0]
    proj = net.connect(pre, post, "exc", syn).all_to_all(weights=2.0)
    g = net.monitor(post, "g_exc")
    compile_run(net, backend, threads, 8.0)
    a = [uniform_oracle(3 * j + i, int(pre.t1[i]) + 1, 2, 7, 10.0, 11.0) for j in range(2) for i in range(3)]
    b = [uniform_oracle(3 * j + i, int(post.t1[j]), 3, 7, -2.0, -1.0) for j in range(2) for i in range(3)]
    np.testing.assert_array_equal(np.ravel(proj.a), a)
    np.testing.assert_array_equal(np.ravel(proj.b), b)
    recorded = g.get("g_exc")
    for i in range(3):
        step = int(pre.t1[i]) + 1
        np.testing.assert_array_equal(recorded[step], [2.0 * uniform_oracle(3 * j + i, step, 1, 7) for j in range(2)])


def test_random_numbers_in_a_psp_or_an_event_driven_equation_are_refused():
    net = ann.Network(dt=1.0)
    inp = net.create(2, ann.Neuron(equations="r = 1.0"))
    net.connect(inp, inp, "exc", ann.Synapse(psp="w * Uniform(0.0, 1.0)")).all_to_all(weights=1.0)
    with pytest.raises(ann.ModelError, match="random numbers.*psp"):
        net.compile(backend="reference")
    net = ann.Network(dt=1.0)
    pop = net.create(2, timed_neuron())
    syn = ann.Synapse(equations="10.0 * dx/dt = -x + Normal(0.0, 1.0) : event-driven", pre_spike="x += 1.0")
    net.connect(pop, pop, "exc", syn).all_to_all(weights=1.0)
    with pytest.raises(ann.ModelError, match="random numbers.*event-driven"):
        net.compile(backend="reference")


# --------------------------------------------------------------------------
# continuous psp on spiking projections

GAP_NEURON = ann.Neuron(parameters="tau = 5.0\nI = 0.0\nvt = 1.0",
                        equations="tau * dv/dt = -v + I + g_gap", spike="v > vt", reset="v = 0.0", name="Gap")


def gap_by_hand(I, w, dt, tau, vt, steps):
    """g = sum_j w (v_j - v_i) with the values of the previous step, then the explicit Euler step."""
    n = len(I)
    W = np.full((n, n), w) - np.diag(np.full(n, w))
    v = np.zeros(n)
    history = []
    for _ in range(steps):
        g = W @ v - W.sum(axis=1) * v
        v = v + dt * ((-v + I + g) / tau)
        v[v > vt] = 0.0
        history.append(v.copy())
    return np.array(history)


@pytest.mark.parametrize("backend, threads", RUNS)
def test_gap_junctions(backend, threads):
    net = ann.Network(dt=0.5)
    pop = net.create(7, GAP_NEURON)
    I = np.linspace(0.5, 1.6, 7)
    pop.I = I
    proj = net.connect(pop, pop, "gap", ann.Synapse(psp="w * (pre.v - post.v)")).all_to_all(weights=0.3)
    m = net.monitor(pop, "v")
    compile_run(net, backend, threads, 20.0)
    np.testing.assert_allclose(m.get("v"), gap_by_hand(I, 0.3, 0.5, 5.0, 1.0, 40), rtol=1e-12, atol=1e-14)
    assert proj.synapse_type is not None and proj.nb_synapses == 42


@pytest.mark.parametrize("backend, threads", RUNS)
def test_nmda_like_synapse_continuous_psp_of_a_synaptic_variable(backend, threads):
    """``x`` jumps at each pre spike (delivered the next step, before the psp), decays every step;
    g_nmda = sum w x at every step."""
    syn = ann.Synapse(parameters="tau = 4.0", equations="tau * dx/dt = -x", pre_spike="x += 1.0", psp="w * x")
    net = ann.Network(dt=1.0)
    src = net.create(ann.SpikeSourceArray([[2.0, 5.0], [3.0]]))
    post = net.create(3, ann.Neuron(equations="v = g_nmda", spike="v > 100.0", name="Nmda"))
    weights = np.array([[0.5, 1.5], [2.0, 0.0], [1.0, 1.0]])
    net.connect(src, post, "nmda", syn).from_matrix(weights)
    m = net.monitor(post, "g_nmda")
    compile_run(net, backend, threads, 10.0)
    x, expected = np.zeros(2), []
    spikes = {2: [0], 3: [1], 5: [0]}
    for step in range(10):
        for i in spikes.get(step - 1, []):
            x[i] += 1.0
        expected.append(weights @ x)
        x = x + 1.0 * (-x / 4.0)
    np.testing.assert_allclose(m.get("g_nmda"), np.array(expected), rtol=1e-14)


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_continuous_psp_from_spiking_into_a_rate_coded_population(backend):
    net = ann.Network(dt=1.0)
    pre = net.create(3, GAP_NEURON)
    pre.I = [0.5, 0.8, 0.9]
    post = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    net.connect(pre, post, "exc", ann.Synapse(psp="w * pre.v")).all_to_all(weights=2.0)
    m = net.monitor(post, "r")
    net.compile(backend=backend)
    net.simulate(4.0)
    v, expected = np.zeros(3), []
    for _ in range(4):
        expected.append([2.0 * v.sum()] * 2)
        v = v + (-v + np.array([0.5, 0.8, 0.9])) / 5.0
    np.testing.assert_allclose(m.get("r"), expected, rtol=1e-14)


def test_continuous_psp_refusals():
    net = ann.Network(dt=1.0)
    pop = net.create(3, GAP_NEURON)
    net.connect(pop, pop, "gap", ann.Synapse(psp="w * pre.v")).all_to_all(weights=1.0, delays=3.0)
    with pytest.raises(ann.NetworkError, match="delays of a continuous psp"):
        net.compile(backend="reference")
    net = ann.Network(dt=1.0)
    pop = net.create(3, GAP_NEURON)
    net.connect(pop, pop, "gap", ann.Synapse(psp="w * pre.v", operation="max")).all_to_all(weights=1.0)
    with pytest.raises(ann.NetworkError, match="operation 'max'"):
        net.compile(backend="reference")


# --------------------------------------------------------------------------
# lists of targets

@pytest.mark.parametrize("backend, threads", RUNS)
def test_rate_coded_list_of_targets(backend, threads):
    net = ann.Network(dt=1.0)
    inp = net.create(3, ann.Neuron(parameters="r0 = 0.0", equations="r = r0"))
    inp.r0 = [1.0, 2.0, 4.0]
    out = net.create(5, ann.Neuron(equations="r = sum(exc) - 0.25 * sum(inh)"))
    proj = net.connect(inp, out, ["exc", "inh"]).all_to_all(weights=0.5)
    peak = net.connect(inp, out, ["mx", "inh2"], ann.Synapse(operation="max")).all_to_all(weights=1.0)
    assert proj.target == ["exc", "inh"] and peak.target == ["mx", "inh2"]
    assert net.get_projections(post=out, target="inh") == [proj]
    compile_run(net, backend, threads, 2.0)
    np.testing.assert_array_equal(out.sum("exc"), np.full(5, 3.5))
    np.testing.assert_array_equal(out.sum("inh"), np.full(5, 3.5))
    np.testing.assert_array_equal(out.sum("mx"), np.full(5, 4.0))
    np.testing.assert_array_equal(out.sum("inh2"), np.full(5, 4.0))
    np.testing.assert_array_equal(out.r, np.full(5, 3.5 * 0.75))


@pytest.mark.parametrize("backend, threads", RUNS)
def test_spiking_list_of_targets(backend, threads):
    neuron = ann.Neuron(equations="v = g_ampa + g_nmda + g_gaba", spike="v > 100.0", name="Receptors")
    net = ann.Network(dt=1.0)
    src = net.create(ann.SpikeSourceArray([[2.0], [2.0, 4.0]]))
    post = net.create(4, neuron)
    net.connect(src, post, ["ampa", "nmda"]).all_to_all(weights=0.5)
    net.connect(src, post, ["gaba", "nmda"], ann.Synapse(pre_spike="g_target += 3.0 * w")).all_to_all(weights=0.25)
    m = net.monitor(post, ["g_ampa", "g_nmda", "g_gaba"])
    compile_run(net, backend, threads, 6.0)
    ampa, gaba = np.zeros((6, 4)), np.zeros((6, 4))
    ampa[3], ampa[5] = 1.0, 0.5
    gaba[3], gaba[5] = 1.5, 0.75
    np.testing.assert_array_equal(m.get("g_ampa"), ampa)
    np.testing.assert_array_equal(m.get("g_gaba"), gaba)
    np.testing.assert_array_equal(m.get("g_nmda"), ampa + gaba)


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_continuous_psp_with_a_list_of_targets(backend):
    neuron = ann.Neuron(parameters="I = 0.0", equations="dv/dt = I - v\ns = g_a + g_b",
                        spike="v > 100.0", name="Two")
    net = ann.Network(dt=1.0)
    pop = net.create(2, neuron)
    pop.I = [1.0, 3.0]
    net.connect(pop, pop, ["a", "b"], ann.Synapse(psp="w * pre.v")).all_to_all(weights=2.0)
    m = net.monitor(pop, ["g_a", "g_b", "v"])
    net.compile(backend=backend)
    net.simulate(3.0)
    v = m.get("v")
    expected = 2.0 * np.vstack([[0.0, 0.0], v[:-1, ::-1]])  # the other neuron's v of the previous step
    np.testing.assert_array_equal(m.get("g_a"), expected)
    np.testing.assert_array_equal(m.get("g_b"), expected)


# --------------------------------------------------------------------------
# targets the post-synaptic neuron does not use

@pytest.mark.parametrize("backend, threads", RUNS)
def test_a_target_the_spiking_neuron_does_not_use_is_collected_in_its_sum(backend, threads):
    net = ann.Network(dt=1.0)
    src = net.create(ann.SpikeSourceArray([[1.0, 3.0]]))
    post = net.create(3, ann.Neuron(equations="dv/dt = -v + g_exc", spike="v > 100.0", name="OnlyExc"))
    net.connect(src, post, "exc").all_to_all(weights=0.5)
    net.connect(src, post, "modulation").all_to_all(weights=2.0)
    m = net.monitor(post, ["sum(modulation)", "g_exc"])
    compile_run(net, backend, threads, 5.0)
    expected = np.zeros((5, 3))
    expected[[2, 4]] = 2.0  # delivered the step after each spike, zeroed at the next step
    np.testing.assert_array_equal(m.get("sum(modulation)"), expected)
    np.testing.assert_array_equal(m.get("g_exc"), expected / 4.0)
    np.testing.assert_array_equal(post.sum("modulation"), expected[-1])


def test_target_errors():
    net = ann.Network(dt=1.0)
    src = net.create(ann.SpikeSourceArray([[1.0]]))
    post = net.create(2, ann.Neuron(parameters="g_exc = 1.0 : population", equations="dv/dt = -v + g_exc",
                                    spike="v > 100.0", name="GlobalG"))
    net.connect(src, post, "exc").all_to_all(weights=1.0)
    with pytest.raises(ann.NetworkError, match="g_exc.*local variable"):
        net.compile(backend="reference")
    net = ann.Network(dt=1.0)
    src = net.create(ann.SpikeSourceArray([[1.0]]))
    rate = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    net.connect(src, rate, "exc").all_to_all(weights=1.0)
    with pytest.raises(ann.NetworkError, match="rate-coded population.*DecodingProjection"):
        net.compile(backend="reference")


# --------------------------------------------------------------------------
# the CUDA renderer (NVRTC compiles what these features lower to)

def every_feature(net):
    pop = net.create(20, GAP_NEURON)
    pop.I = np.linspace(0.5, 1.5, 20)
    other = net.create(10, ann.Neuron(equations="dv/dt = -v + g_exc + g_inh + 1.3", spike="v > 1.0", reset="v = 0.0"))
    rate = net.create(5, ann.Neuron(equations="r = sum(a) + sum(b)"))
    net.connect(pop, pop, "gap", ann.Synapse(psp="w * (pre.v - post.v)")).all_to_all(weights=0.1)
    stdp = ann.Synapse(equations="dn/dt = Normal(0.0, 0.1)\nm = Uniform(0.0, 1.0) : postsynaptic",
                       pre_spike="g_target += w * Uniform(0.5, 1.5)\nw += 0.01 : unless_post",
                       post_spike="w -= 0.01 * Uniform(0.0, 1.0)", psp="0.1 * w * n")
    net.connect(pop, other, ["exc", "inh", "unused"], stdp).fixed_probability(0.3, weights=0.2)
    net.connect(pop, rate, ["a", "b"], ann.Synapse(psp="w * pre.v")).all_to_all(weights=1.0)
    return net


def test_cuda_renders_compiles_and_maps_every_feature():
    pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
    from test_cuda_render import assert_same_run, emit, kernel_module
    km = kernel_module(every_feature(ann.Network(dt=0.5, seed=5)))
    source = emit(km).dumps["cuda.cu"]
    assert "project_proj1_psp" in source and "a_pop1__sum_unused" in source
    neutral = kernel_module(every_feature(ann.Network(dt=0.5, seed=5)), mapped=False)
    assert_same_run(neutral, km, 30)  # the grid mapping computes what the neutral module computes


@pytest.mark.parametrize("threads", [1, 2])
def test_every_feature_agrees_with_the_reference(threads):
    results = []
    for backend, n in (("reference", 1), ("llvm", threads)):
        net = every_feature(ann.Network(dt=0.5, seed=5))
        compile_run(net, backend, n, 15.0)
        results.append([np.array(net.get_population(p).v) for p in ("pop0", "pop1")]
                       + [np.concatenate(net.get_projection("proj1").w), net.get_population("pop2").r])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)
