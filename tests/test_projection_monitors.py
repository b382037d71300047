"""Monitors of a Projection or a Dendrite (core/projection_monitor.py,
passes/lowering/synapse_monitors.py): synaptic variables recorded by the native loop, checked
against the hand-computed learning rule on every backend and thread count."""
import warnings

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import NetworkError, NotSupportedError

RUNS = [("reference", 1), ("llvm", 1), ("llvm", 2)]
SYN = ann.Synapse(parameters="eta = 0.1", equations="w += eta * pre.r\nk = k + 1 : postsynaptic\n"
                                                    "g = g + 2 : projection", name="Grow")
W = np.array([[1.0, None, 2.0], [0.5, 0.25, 0.125]], dtype=object)


def network(backend, threads, weights=W, synapse=SYN):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    a = net.create(3, ann.Neuron(equations="r = r + 1", name="Ramp"))
    b = net.create(2, ann.Neuron(equations="r = sum(exc)", name="Sum"))
    proj = net.connect(a, b, "exc", synapse)
    proj.from_matrix(weights)
    return net, proj


def expected_w(w0, steps):
    """w after each step: pre.r of step k is k + 1, so w grows by 0.1 * (k + 1)."""
    return [w0 + 0.1 * sum(range(1, k + 2)) for k in range(steps)]


@pytest.mark.parametrize("backend,threads", RUNS)
def test_projection_and_dendrite_recordings(backend, threads):
    net, proj = network(backend, threads)
    with pytest.warns(UserWarning, match="every step"):
        m = net.monitor(proj, ["w", "k", "g"])
    md = net.monitor(proj.dendrite(1), ["w", "k", "g"], period=2.0)
    net.compile(backend=backend)
    net.simulate(3.0)
    w = m.get("w")
    assert w.shape == (3, 2) and w.dtype == object  # dendrites of 2 and 3 synapses
    rows = [np.array([1.0, 2.0]), np.array([0.5, 0.25, 0.125])]
    for k, exp in enumerate(zip(expected_w(rows[0], 3), expected_w(rows[1], 3))):
        for d in range(2):
            np.testing.assert_allclose(w[k, d], exp[d], rtol=1e-14)
    np.testing.assert_array_equal(m.get("k"), [[1, 1], [2, 2], [3, 3]])
    np.testing.assert_array_equal(m.get("g"), [2, 4, 6])
    dw = md.get("w")
    assert dw.shape == (2, 3)  # steps 0 and 2
    np.testing.assert_allclose(dw, [expected_w(rows[1], 3)[0], expected_w(rows[1], 3)[2]], rtol=1e-14)
    np.testing.assert_array_equal(md.get("k"), [1, 3])
    np.testing.assert_array_equal(md.get("g"), [2, 6])
    assert m.get("w").shape == (0, 2)  # emptied by get()


@pytest.mark.parametrize("backend,threads", RUNS)
def test_regular_dendrites_give_a_float_array_and_a_monitor_after_compile(backend, threads):
    full = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    net, proj = network(backend, threads, weights=full)
    net.compile(backend=backend)
    net.simulate(2.0)
    m = net.monitor(proj, "w", period=2.0)  # after compile: recompiled, state kept
    net.simulate(4.0)  # steps 2..5: recorded at 2 and 4
    w = m.get("w")
    assert w.shape == (2, 2, 3) and w.dtype == np.float64
    exp = expected_w(full, 6)
    np.testing.assert_allclose(w, [exp[2], exp[4]], rtol=1e-14)
    np.testing.assert_allclose(proj.w, exp[5], rtol=1e-14)


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_static_weights_of_any_storage(storage):
    """A non-plastic projection (dense or CSR, possibly fused) records its weights as stored."""
    out = []
    for backend, threads in RUNS:
        net = ann.Network(dt=1.0, seed=1)
        net.config(num_threads=threads)
        a = net.create(4, ann.Neuron(equations="r = 1.0"))
        b = net.create(3, ann.Neuron(equations="r = sum(exc)"))
        w = np.arange(12.0).reshape(3, 4) / 10
        p1 = net.connect(a, b, "exc")
        p1.from_matrix(w, storage_format=storage)
        p2 = net.connect(a, b, "exc")  # fused with p1 by fuse-connectivity
        p2.from_matrix(-w, storage_format=storage)
        m1 = net.monitor(p1, "w", period=2.0)
        m2 = net.monitor(p2.dendrite(2), "w")
        net.compile(backend=backend)
        net.simulate(3.0)
        np.testing.assert_array_equal(m1.get("w"), [w, w])
        np.testing.assert_array_equal(m2.get("w"), [-w[2]] * 3)
        out.append(b.r)
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])


def test_single_weight_is_global_and_errors():
    net = ann.Network(dt=1.0, seed=1)
    a = net.create(2, ann.Neuron(equations="r = 1.0"))
    b = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b, "exc")
    proj.all_to_all(weights=0.5)
    m = net.monitor(proj, "w", period=5.0)
    with pytest.raises(NetworkError, match="no such attribute"):
        net.monitor(proj, "nothing", period=5.0)
    with pytest.raises(NetworkError, match="spike"):
        net.monitor(proj.dendrite(0), "spike")
    with pytest.raises(NotSupportedError):
        net.monitor(proj, "w", period=5.0, stream="x.h5")
    net.compile(backend="reference")
    net.simulate(10.0)
    np.testing.assert_array_equal(m.get("w"), [0.5, 0.5])


def test_parameters_are_not_recordable_and_dendrite_needs_no_warning():
    net, proj = network("reference", 1)
    with pytest.raises(NetworkError, match="parameter"):
        net.monitor(proj.dendrite(0), "eta")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.monitor(proj.dendrite(0), "w")


def test_save_npy(tmp_path):
    net, proj = network("llvm", 1)
    m = net.monitor(proj.dendrite(0), "w", period=1.0)
    net.compile(backend="llvm")
    net.simulate(2.0)
    m.save(str(tmp_path / "w.npy"), "w")
    np.testing.assert_allclose(np.load(tmp_path / "w.npy"), expected_w(np.array([1.0, 2.0]), 2), rtol=1e-14)
    with pytest.raises(NotSupportedError):
        m.save(str(tmp_path / "w.h5"))
