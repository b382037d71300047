"""Delays of rate-coded projections: a delay of d steps reads pre.x as it was d steps before the
undelayed read (psp: after the neuron update of step t - d; synaptic equations: of step t - d + 1);
before the start, the past is the value at the first step.  Every backend and thread count."""
import numpy as np
import pytest

import anncompiler as ann

CONFIGS = [("reference", 1), ("llvm", 1), ("llvm", 2), ("llvm", 3)]
W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # post x pre
D = np.array([[1.0, 3.0, 2.0], [4.0, 1.0, 0.0]])  # ms at dt = 1 (0 is one step)
STEPS = 9


def inputs(s):
    """What the pre population holds during step s."""
    return np.array([1.0, 10.0, 100.0]) * (s + 1) + s * s


def past(s):
    """pre.r after the neuron update of step s (s < 0: the value at the first step)."""
    return inputs(max(s, 0))


def expected(delays_exc, uniform_inh, steps=STEPS, changes=None):
    """r of the post population after each step; ``changes``: {step: (delays_exc, uniform_inh)}."""
    out = []
    d_exc, d_inh = np.maximum(1, np.rint(delays_exc)).astype(int), uniform_inh
    for s in range(steps):
        if changes and s in changes:
            d_exc, d_inh = changes[s]
            d_exc = np.maximum(1, np.rint(d_exc)).astype(int)
        exc = [sum(W[i, j] * past(s - d_exc[i, j])[j] for j in range(3)) for i in range(2)]
        inh = [past(s - d_inh).sum()] * 2
        out.append(np.array(exc) - np.array(inh))
    return np.array(out)


def network(backend, threads, reserve=None, storage_format=None):
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    src = net.create(ann.InputArray(geometry=3))
    if reserve:
        src.max_delay = reserve
    post = net.create(2, ann.Neuron(equations="r = sum(exc) - sum(inh)"))
    varied = net.connect(src, post, "exc").from_matrix(W, delays=D, storage_format=storage_format)
    uniform = net.connect(src, post, "inh").all_to_all(weights=1.0, delays=3.0)
    m = net.monitor(post, "r")
    net.compile(backend=backend)
    return net, src, varied, uniform, m


def run(net, src, steps=STEPS, at=None):
    for s in range(steps):
        if at and s in at:
            at[s]()
        src.r = inputs(s)
        net.step()


@pytest.mark.parametrize("backend,threads", CONFIGS)
def test_uniform_and_per_synapse_delays_of_pre_r(backend, threads):
    net, src, varied, uniform, m = network(backend, threads)
    run(net, src)
    assert np.allclose(m.get("r"), expected(D, 3))
    assert uniform.delay == 3.0 and varied.delay == [[1.0, 3.0, 2.0], [4.0, 1.0, 1.0]]
    assert src.max_delay == 4 and varied.max_delay == 4 and uniform.max_delay == 3


@pytest.mark.parametrize("backend,threads,storage", [c + ("csr",) for c in CONFIGS] + [("llvm", 2, "dense")])
def test_delays_changed_after_compile(backend, threads, storage):
    net, src, varied, uniform, m = network(backend, threads, reserve=6, storage_format=storage)
    new = np.array([[6.0, 1.0, 1.0], [2.0, 5.0, 3.0]])

    def change():
        varied.delay = [list(new[0]), list(new[1])]
        uniform.delay = 6.0
    run(net, src, at={4: change})
    assert np.allclose(m.get("r"), expected(D, 3, changes={4: (new, 6)}))
    assert varied.delay == [list(new[0]), list(new[1])] and uniform.delay == 6.0
    varied.dendrite(1).delay = [1.0, 1.0, 1.0]
    assert varied.dendrite(1).delay == [1.0, 1.0, 1.0] and varied.dendrite(0).synapse(0).delay == 6.0


def test_synaptic_equations_read_pre_delayed_one_step_later():
    """Synaptic equations run after the neuron update: with a delay of d steps they read pre.r
    after the update of step t - d + 1 (as the psp of the next step does)."""
    for backend, threads in CONFIGS:
        net = ann.Network(dt=1.0)
        net.config(num_threads=threads)
        src = net.create(ann.InputArray(geometry=3))
        post = net.create(2, ann.Neuron(equations="r = sum(exc)"))
        seen = ann.Synapse(equations="x = pre.r", psp="w * pre.r")
        proj = net.connect(src, post, "exc", seen).from_matrix(W, delays=D)
        net.compile(backend=backend)
        d = np.maximum(1, np.rint(D)).astype(int)
        for s in range(6):
            src.r = inputs(s)
            net.step()
            want = [[past(s - d[i, j] + 1)[j] for j in range(3)] for i in range(2)]
            assert np.allclose(proj.x, want), (backend, threads, s)


def test_delayed_rate_network_is_the_same_on_every_thread_count_and_backend():
    def simulate(backend, threads):
        net = ann.Network(dt=0.5, seed=5)
        net.config(num_threads=threads)
        leaky = ann.Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc) - sum(inh) + 0.5 : min=0.0")
        a, b = net.create(50, leaky), net.create(30, leaky)
        hebb = ann.Synapse(parameters="eta = 0.001", equations="dw/dt = eta * pre.r * post.r : max=1.0")
        net.connect(a, b, "exc", hebb).fixed_probability(0.3, weights=ann.Uniform(0.0, 0.2, rng=net.default_rng),
                                                         delays=ann.Uniform(0.5, 5.0, rng=net.default_rng))
        net.connect(b, a, "inh").fixed_probability(0.3, weights=0.05, delays=2.0)
        net.connect(a, a, "exc").fixed_probability(0.1, weights=0.02)
        m = net.monitor(b, "r")
        net.compile(backend=backend)
        net.simulate(40.0)
        return m.get("r")
    ref = simulate("llvm", 1)
    assert np.ptp(ref) > 0.1
    for backend, threads in (("llvm", 2), ("llvm", 3), ("reference", 1)):
        assert np.allclose(simulate(backend, threads), ref, rtol=1e-12, atol=1e-12)


def test_bad_delays_after_compile_raise_and_leave_the_network_usable():
    net, src, varied, uniform, m = network("llvm", 1)
    with pytest.raises(ann.InvalidValueError, match="maximum compiled for population .*4 steps"):
        uniform.delay = 5.0
    with pytest.raises(ann.InvalidValueError, match="uniform"):
        uniform.delay = [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    with pytest.raises(ann.ShapeError):
        varied.delay = [[1.0, 2.0]]
    with pytest.raises(ann.InvalidValueError):
        varied.delay = [[1.0, -2.0, 1.0], [1.0, 1.0, 1.0]]
    with pytest.raises(ann.NetworkError, match="fixed at compile"):
        src.max_delay = 10
    assert uniform.delay == 3.0 and varied.delay == [[1.0, 3.0, 2.0], [4.0, 1.0, 1.0]]
    run(net, src)
    assert np.allclose(m.get("r"), expected(D, 3))


def test_projection_compiled_without_delays_keeps_them_and_max_delay_checks():
    net = ann.Network(dt=1.0)
    a = net.create(3, ann.Neuron(equations="r = sum(exc) + 1"))
    p = net.connect(a, a, "exc").all_to_all(weights=1.0)
    for bad, error in ((0, ann.InvalidValueError), (2.5, ann.InvalidTypeError), (True, ann.InvalidTypeError)):
        with pytest.raises(error, match="max_delay"):
            a.max_delay = bad
    assert a.max_delay == 1
    net.compile()
    p.delay = 0.0  # still one step
    with pytest.raises(ann.NetworkError, match="compiled without delays.*max_delay"):
        p.delay = 2.0
    assert p.delay == 1.0
    net.simulate(2.0)
    assert np.allclose(a.r, 3.0)


def test_projection_max_delay_is_read_only():
    net, src, varied, uniform, m = network("reference", 1)
    with pytest.raises(ann.NetworkError, match="pre-synaptic population"):
        uniform.max_delay = 5


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_reserved_max_delay_lets_one_step_projections_change(backend, threads):
    """With room reserved (pop.max_delay, also through a view), projections compiled with the
    inherent step read their delay from the state; distributions of delays need a max."""
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    src = net.create(ann.InputArray(geometry=3))
    src[1:].max_delay = 5
    post = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    other = ann.Network(dt=1.0)
    a = other.create(2, ann.Neuron(equations="r = 1"))
    with pytest.raises(ann.InvalidValueError, match="needs a max"):
        other.connect(a, a, "exc").all_to_all(weights=1.0, delays=ann.Normal(2.0, 1.0))
    p = net.connect(src, post, "exc").from_matrix(W)
    m = net.monitor(post, "r")
    net.compile(backend=backend)
    assert src.max_delay == 5 and p.max_delay == 1
    run(net, src, at={3: lambda: setattr(p, "delay", 5.0)})
    want = [W @ past(s - (5 if s >= 3 else 1)) for s in range(STEPS)]
    assert np.allclose(m.get("r"), want)


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_convolution_and_pooling_read_their_input_delayed(backend, threads):
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    src = net.create(ann.InputArray(geometry=(4, 4)))
    out = net.create((4, 4), ann.Neuron(equations="r = sum(exc)"))
    pooled = net.create((2, 2), ann.Neuron(equations="r = sum(exc)"))
    k = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    net.connect(ann.Convolution(src, out, "exc")).connect_filter(k, delays=2.0)
    net.connect(ann.Pooling(src, pooled, "exc", operation="max")).pooling(extent=(2, 2), delays=3.0)
    m, mp = net.monitor(out, "r"), net.monitor(pooled, "r")
    net.compile(backend=backend)
    values = [np.arange(16.0).reshape(4, 4) * (s + 1) + s * s for s in range(6)]
    for x in values:
        src.r = x
        net.step()

    def filtered(x):  # zero padding, centred kernel
        p = np.pad(x, 1)
        return np.array([[np.sum(p[i:i + 3, j:j + 3] * k) for j in range(4)] for i in range(4)])
    r, rp = m.get("r"), mp.get("r")
    for s in range(6):
        assert np.allclose(r[s], filtered(values[max(s - 2, 0)]))
        assert np.allclose(rp[s], values[max(s - 3, 0)].reshape(2, 2, 2, 2).max(axis=(1, 3)))


def test_decoding_projection_delays_are_ignored_or_refused():
    net = ann.Network(dt=1.0)
    lif = net.create(3, ann.Neuron(equations="dv/dt = -v + 2", spike="v > 1", reset="v = 0"))
    rate = net.create(3, ann.Neuron(equations="r = sum(exc)"))
    p = net.connect(ann.DecodingProjection(lif, rate, "exc", window=5.0)).one_to_one(weights=1.0, delays=3.0)
    assert p.delay == 1.0  # ignored by the connector, as in ANNarchy
    p.delay = 3.0
    with pytest.raises(ann.NotSupportedError, match="decoding projection"):
        net.compile()


def test_reset_refills_the_past_and_keeps_new_delays():
    """net.reset() empties the rings (the past is the initial state again) and keeps delays set
    after compile."""
    net, src, varied, uniform, m = network("llvm", 2)
    uniform.delay = 2.0
    run(net, src)
    first = m.get("r")
    net.reset()
    assert uniform.delay == 2.0
    run(net, src)
    assert np.array_equal(m.get("r"), first) and np.allclose(first, expected(D, 2))


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_shorter_delays_then_a_monitor_after_compile_keep_the_ring(backend, threads):
    """A monitor created after compile recompiles the network with its state: delays set after
    compile are kept, and so is the pre population's ring (its max_delay)."""
    net, src, varied, uniform, m = network(backend, threads)
    uniform.delay = 1.0
    varied.delay = 1.0
    holder = {}

    def add_monitor():
        holder["late"] = net.monitor(varied.post, "r")
    run(net, src, steps=6, at={3: add_monitor, 4: lambda: setattr(uniform, "delay", 4.0)})
    assert src.max_delay == 4 and uniform.delay == 4.0 and varied.delay == 1.0
    want = np.array([W @ past(s - 1) - past(s - (1 if s < 4 else 4)).sum() for s in range(6)])
    assert np.allclose(m.get("r"), want)
    assert np.allclose(holder["late"].get("r"), want[3:])
