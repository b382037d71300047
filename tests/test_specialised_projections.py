"""Copy, Transpose, CurrentInjection and DecodingProjection against hand-computed values on the
reference backend and llvm at 1 and 2 threads; shared weights follow changes of the original;
bad input raises clear errors."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import (ConnectivityError, InvalidTypeError, InvalidValueError, NetworkError,
                                NotSupportedError, ShapeError)
from anncompiler.extensions.convolution import Copy, Transpose

RATE = ann.Neuron(parameters="r = 0.0", name="Rate")
OUT = ann.Neuron(equations="r = sum(exc)", name="Out")
M = np.array([[1., 2, 0], [0, 3, 4], [5, 0, 6], [7, 8, 9]])  # post x pre, 0: no synapse
# fires at step T (v is 1 there), receives g_exc and g_inh
TIMED = ann.Neuron(parameters="T = -1.0", equations="v = ite(abs(t - T) < 0.5, 1.0, 0.0)\ng_exc = 0\ng_inh = 0",
                   spike="v > 0.5", reset="v = 0", name="Timed")
BACKENDS = [("reference", 1), ("llvm", 1), ("llvm", 2)]


def network(threads):
    net = ann.Network(dt=1.0, seed=3)
    net.config(num_threads=threads)
    return net


@pytest.mark.parametrize("backend,threads", BACKENDS)
def test_copy_and_transpose_rate_coded(backend, threads):
    net = network(threads)
    A = net.create(3, RATE, name="A")
    B = net.create(4, RATE, name="B")
    C = net.create(4, RATE, name="C")
    ff = net.connect(A, B, "exc").from_matrix(np.where(M == 0, None, M))
    net.connect(A, B, "exc").all_to_all(0.5, force_multiple_weights=True)  # fused with ff
    copy_max = net.connect(Copy(A, C, "exc", operation="max")).connect_copy(ff)
    copy_psp = net.connect(Copy(A, C, "sq", psp="w * pre.r * pre.r")).copy(ff)
    fb = net.connect(Transpose(ff, "fb")).connect_transpose()
    A.r, B.r = [1., 2., -3.], [0.5, -1., 2., 1.]
    net.compile(backend=backend)
    assert net.kernel_module.handles[(ff.name, "w")].index is not None  # ff's weights: part of a fused array
    net.simulate(2.0)
    mask = M != 0
    np.testing.assert_allclose(C.sum("exc"), np.where(mask, M * A.r, -np.inf).max(axis=1))
    np.testing.assert_allclose(C.sum("sq"), M @ (A.r ** 2))
    np.testing.assert_allclose(A.sum("fb"), M.T @ B.r)
    assert fb.pre is B and fb.post is A and fb.nb_synapses == ff.nb_synapses
    # the weights are shared: changing the original changes both
    M2 = M * 10 + mask * np.arange(4)[:, None]
    ff.w = [list(row[row != 0]) for row in M2]
    net.simulate(1.0)
    np.testing.assert_allclose(A.sum("fb"), M2.T @ B.r)
    np.testing.assert_allclose(C.sum("sq"), M2 @ (A.r ** 2))
    assert copy_max.w == ff.w
    assert fb.dendrite(0).pre_ranks == [0, 2, 3] and fb.dendrite(0).w == pytest.approx(list(M2[[0, 2, 3], 0]))
    # and writing through the copy writes the original's weights
    copy_psp.w = 1.0
    assert np.all(np.array(sum(ff.w, [])) == 1.0)


@pytest.mark.parametrize("backend,threads", BACKENDS)
def test_copy_and_transpose_spiking(backend, threads):
    net = network(threads)
    P = net.create(3, TIMED, name="P")
    Q = net.create(4, TIMED, name="Q")
    R = net.create(4, TIMED, name="R")
    P.T, Q.T = [2.0, 4.0, 6.0], [3.0, 5.0, 7.0, 9.0]
    ff = net.connect(P, Q, "exc").from_matrix(np.where(M == 0, None, M))
    net.connect(Copy(P, R, "exc")).connect_copy(ff)
    net.connect(Transpose(ff, "inh")).transpose()
    mq, mr, mp = net.monitor(Q, "g_exc"), net.monitor(R, "g_exc"), net.monitor(P, "g_inh")
    net.compile(backend=backend)
    net.simulate(12.0)
    g_exc, g_inh = np.zeros((12, 4)), np.zeros((12, 3))
    for j, s in enumerate((2, 4, 6)):  # a spike at step s shows at step s + 1
        g_exc[s + 1] += M[:, j]
    for i, s in enumerate((3, 5, 7, 9)):
        g_inh[s + 1] += M[i, :]
    np.testing.assert_allclose(mq.get("g_exc"), g_exc)
    np.testing.assert_allclose(mr.get("g_exc"), g_exc)
    np.testing.assert_allclose(mp.get("g_inh"), g_inh)


@pytest.mark.parametrize("backend,threads", BACKENDS)
def test_current_injection(backend, threads):
    net = network(threads)
    inp = net.create(3, RATE)
    cell = ann.Neuron(parameters="tau = 10.0", equations="tau * dv/dt = -v + g_exc", spike="v > 1000", reset="v = 0")
    post = net.create(3, cell)
    proj = net.connect(ann.CurrentInjection(inp, post, "exc"))
    proj.connect_current()
    m = net.monitor(post, ["g_exc", "v"])
    inp.r = [1.0, 2.0, 3.0]
    net.compile(backend=backend)
    net.simulate(4.0)
    inp.r = [-1.0, 0.5, 4.0]
    net.simulate(3.0)
    rates = np.array([[1.0, 2.0, 3.0]] * 4 + [[-1.0, 0.5, 4.0]] * 3)
    v, vs = np.zeros(3), []
    for r in rates:  # explicit Euler with g_exc = r at every step
        v = v + 1.0 * (-v + r) / 10.0
        vs.append(v)
    data = m.get()
    np.testing.assert_allclose(data["g_exc"], rates)
    np.testing.assert_allclose(data["v"], np.array(vs), rtol=1e-12)


def decoded(spikes, weights, window, steps, dt=1.0):
    """r[t] = mean over the synapses of w * (spikes in steps t-W .. t-1) / (W dt) * 1000."""
    W = max(1, int(round(window / dt)))
    out = np.zeros((steps, weights.shape[0]))
    for t in range(steps):
        counts = np.array([sum(1 for s in times if t - W <= s <= t - 1) for times in spikes], dtype=float)
        for i, row in enumerate(weights):
            have = ~np.isnan(row)
            out[t, i] = np.sum(row[have] * counts[have]) / (W * dt) * 1000.0 / have.sum()
    return out


@pytest.mark.parametrize("backend,threads", BACKENDS)
def test_decoding(backend, threads):
    net = network(threads)
    times = [[1, 2, 5], [2], [3, 4, 6, 7]]
    src = net.create(ann.SpikeSourceArray([[float(s) for s in ts] for ts in times]))
    R1 = net.create(2, OUT)
    R2 = net.create(1, OUT)
    weights = np.array([[1.0, 0.5, np.nan], [2.0, 1.0, 1.0]])
    net.connect(ann.DecodingProjection(src, R1, "exc", window=3.0)).from_matrix(
        np.where(np.isnan(weights), None, weights), delays=5.0)
    net.connect(ann.DecodingProjection(src, R2, "exc")).all_to_all(0.01)
    m1, m2 = net.monitor(R1, "r"), net.monitor(R2, "r")
    net.compile(backend=backend)
    net.simulate(10.0)
    np.testing.assert_allclose(m1.get("r"), decoded(times, weights, 3.0, 10))
    np.testing.assert_allclose(m2.get("r"), decoded(times, np.full((1, 3), 0.01), 1.0, 10))


def test_bad_input():
    net = ann.Network(dt=1.0)
    rate, rate4 = net.create(3, RATE), net.create(4, RATE)
    spiking = net.create(3, TIMED)
    no_g = net.create(3, ann.Neuron(equations="v = 0", spike="v > 1"))
    ff = net.connect(rate, rate4, "exc").all_to_all(1.0)
    with pytest.raises(NetworkError, match="spiking post-synaptic"):
        ann.CurrentInjection(rate, rate4, "exc")
    with pytest.raises(NetworkError, match="rate-coded pre-synaptic"):
        ann.CurrentInjection(spiking, spiking, "exc")
    with pytest.raises(NetworkError, match="g_exc"):
        ann.CurrentInjection(rate, no_g, "exc")
    with pytest.raises(ConnectivityError, match="same size"):
        ann.CurrentInjection(rate4, spiking, "exc").connect_current()
    with pytest.raises(NotSupportedError, match="connect_current"):
        ann.CurrentInjection(rate, spiking, "inh").all_to_all(1.0)
    with pytest.raises(NetworkError, match="spiking pre-synaptic"):
        ann.DecodingProjection(rate, rate4, "exc")
    with pytest.raises(NetworkError, match="rate-coded post-synaptic"):
        ann.DecodingProjection(spiking, spiking, "exc")
    with pytest.raises(InvalidValueError, match="window"):
        ann.DecodingProjection(spiking, rate4, "exc", window=-1.0)
    with pytest.raises(ShapeError, match="geometries"):
        Copy(rate4, rate, "exc").connect_copy(ff)
    with pytest.raises(InvalidTypeError, match="projection"):
        Copy(rate, rate4, "exc").connect_copy("ff")
    with pytest.raises(NetworkError, match="not connected"):
        Transpose(net.connect(rate, rate4, "inh"), "fb")
    mixed = net.connect(spiking, rate4, "exc").all_to_all(1.0)
    with pytest.raises(NetworkError, match="rate-coded -> rate-coded or spiking -> spiking"):
        Transpose(mixed, "fb")
    conv = net.connect(ann.Convolution(rate, rate, "exc")).connect_filter([1.0, 2.0, 1.0])
    with pytest.raises(NotSupportedError, match="Convolution"):
        Copy(rate, rate, "exc").connect_copy(conv)
    with pytest.raises(NotSupportedError, match="save_connectivity"):
        conv.save_connectivity("x.npz")
