"""Dense storage of plastic rate-coded projections: an all-to-all projection (every pre neuron in
every row) keeps its synaptic variables as [rows x pre] matrices and learns over pre ranks
contiguously; every backend and thread count computes the same bits, and what the user sees
(attributes, dendrites, monitors, save/load, delays) is what CSR storage gives."""
import os
import re

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.passes import DEFAULT_PIPELINE

CONFIGS = [("reference", 1), ("llvm", 1), ("llvm", 2), ("llvm", 3)]
STEPS = 12
#: feed-forward delays (ms at dt = 1): non-uniform, so they live per synapse in the state
DELAYS = np.array([[1.0, 2.0, 3.0, 1.0, 2.0]] * 6 + [[3.0, 1.0, 1.0, 2.0, 2.0]] * 6)

SYNAPSE = dict(
    parameters="""
        eta = 0.02 : projection
        alpha = 0.5 : postsynaptic
        tau = 4.0
    """,
    equations="""
        y = alpha * post.r * post.r : postsynaptic
        tau * dtrace/dt = -trace + pre.r * post.r
        dw/dt = eta * (trace - y * w) + 0.001 * Normal(0.0, 1.0) : min=-1.0, max=1.0
    """,
    psp="w * pre.r + 0.05 * trace")


def network(backend="llvm", threads=1, storage=None, lanes=None, dump=None):
    """12 rate neurons: a plastic all-to-all recurrent projection (self-connections included:
    complete), a plastic feed-forward one from 5 inputs with per-synapse delays (complete), and
    a plastic recurrent one without self-connections (not complete: CSR)."""
    net = ann.Network(dt=1.0, seed=11)
    net.config(num_threads=threads)
    rng = np.random.default_rng(4)
    inp = net.create(5, ann.Neuron(parameters="f = 0.1", equations="r = sin(f * t) + 0.5"))
    inp.f = rng.uniform(0.05, 0.5, 5)
    pop = net.create(12, ann.Neuron(parameters="B = 0.0", equations="r = tanh(sum(exc) + sum(ff) + B)"))
    pop.B = rng.uniform(-0.5, 0.5, 12)
    syn = ann.Synapse(**SYNAPSE)
    rec = net.connect(pop, pop, "exc", syn).all_to_all(
        weights=ann.Uniform(-0.3, 0.3, rng=net.default_rng), allow_self_connections=True, storage_format=storage)
    ff = net.connect(inp, pop, "ff", syn).from_matrix(rng.uniform(-0.5, 0.5, (12, 5)), delays=DELAYS,
                                                      storage_format=storage)
    other = net.connect(pop, pop, "exc", ann.Oja(eta=0.01)).all_to_all(
        weights=ann.Uniform(0.0, 0.1, rng=net.default_rng), storage_format=storage)
    m = net.monitor(pop, "r")
    mw = net.monitor(rec, ["w", "trace", "y"], period=2.0)
    pipeline = None
    if lanes is not None:
        pipeline = DEFAULT_PIPELINE.replace("lower-to-kernels", f"lower-to-kernels{{lanes={lanes}}}")
    net.compile(backend=backend, pipeline=pipeline, dump_ir=dump)
    return net, (rec, ff, other), m, mw


def results(net, projections, m, mw):
    net.simulate(STEPS)
    out = {"r": m.get("r"), "mw": mw.get("w"), "mtrace": mw.get("trace"), "my": mw.get("y")}
    for k, p in enumerate(projections):
        out[f"w{k}"] = np.array(p.w, dtype=object)
        out[f"trace{k}"] = p.connectivity_matrix() if k == 2 else np.array(p.trace)
    return out


def same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        x, y = np.asarray(a[k].tolist() if a[k].dtype == object else a[k]), \
            np.asarray(b[k].tolist() if b[k].dtype == object else b[k])
        assert x.shape == y.shape and np.array_equal(x, y), k


def storage_notes(tmp_path):
    text = open(tmp_path / next(f for f in sorted(os.listdir(tmp_path)) if f.endswith("fuse-connectivity.txt"))).read()
    return sorted(re.findall(r"projection (\w+): .* format=(\w+)", text))


def test_complete_plastic_projections_are_dense_and_the_others_csr(tmp_path):
    network(dump=str(tmp_path))
    assert storage_notes(tmp_path) == [("proj0", "dense"), ("proj1", "dense"), ("proj2", "csr")]
    kernels = open(tmp_path / next(f for f in sorted(os.listdir(tmp_path)) if f.endswith("lower-to-kernels.txt"))).read()
    learn = kernels[kernels.index("kernel @learn_proj0 "):]
    learn = learn[:learn.index("\nkernel ")]
    assert "for %pre in 0 .. 12:  [synapses:proj0]" in learn and "pre_ranks" not in learn
    assert "%s: i64 = ((%k * 12) + %pre)" in learn


def test_asked_csr_stays_csr(tmp_path):
    network(storage="csr", dump=str(tmp_path))
    assert [f for _, f in storage_notes(tmp_path)] == ["csr"] * 3


def test_every_backend_and_thread_count_computes_the_same_bits():
    reference = results(*network("reference"))
    assert np.abs(reference["r"]).max() > 0.1 and np.abs(reference["mtrace"]).max() > 1e-3
    for backend, threads in CONFIGS[1:]:
        same(results(*network(backend, threads)), reference)


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_dense_gives_the_bits_of_csr_in_the_same_summation_order(backend, threads):
    """With the same lanes (the order of the weighted sums), dense and CSR storage compute the
    same bits: the learning kernels do the same operations on the same synapses."""
    dense = results(*network(backend, threads, lanes=1))
    csr = results(*network(backend, threads, storage="csr", lanes=1))
    same(dense, csr)


def test_user_visible_attributes_are_those_of_csr(tmp_path):
    net, (rec, ff, _), _, _ = network()
    cnet, (crec, cff, _), _, _ = network(storage="csr")
    for a, b in ((rec, crec), (ff, cff)):
        for name in ("w", "trace", "tau"):
            x, y = getattr(a, name), getattr(b, name)
            assert len(x) == len(y) == 12 and all(len(r) == len(s) for r, s in zip(x, y))
            assert np.array_equal(np.array(x), np.array(y)), name
        assert np.shape(a.y) == np.shape(b.y) == (12,) and np.ndim(a.eta) == 0
        assert a.dendrite(3).pre_ranks == b.dendrite(3).pre_ranks
        assert np.array_equal(a.dendrite(3).w, b.dendrite(3).w)
    # writes go into the matrices the kernels read: a synapse, a dendrite, a whole attribute
    rec.dendrite(2).synapse(5).w = 0.75
    rec.dendrite(4).trace = np.full(12, 0.25)
    ff.tau = 2.0
    assert rec.dendrite(2).synapse(5).w == 0.75 and np.array_equal(rec.dendrite(4).trace, np.full(12, 0.25))
    assert np.array(rec.w)[2, 5] == 0.75 and np.array(ff.tau).min() == np.array(ff.tau).max() == 2.0
    w_before = np.array(rec.w)
    net.simulate(1)
    assert not np.array_equal(np.array(rec.w), w_before)
    # save and load give back the state: the next steps have the same bits
    path = tmp_path / "state.data"
    net.save(str(path))
    net.simulate(3)
    after = np.array(rec.trace), np.array(ff.w)
    net.load(str(path))
    net.simulate(3)
    assert np.array_equal(np.array(rec.trace), after[0]) and np.array_equal(np.array(ff.w), after[1])


def test_delays_after_compile_change_what_dense_synapses_read():
    net, (_, ff, _), m, _ = network("reference")
    cnet, (_, cff, _), cm, _ = network("reference", storage="csr")
    for n, p in ((net, ff), (cnet, cff)):
        p.dendrite(0).synapse(1).delay = 3.0
        n.simulate(6)
    assert np.array(ff.delay)[0][1] == 3.0
    r = m.get("r")
    unchanged, _, um, _ = network("reference")
    unchanged.simulate(6)
    assert not np.allclose(r, um.get("r"), rtol=1e-6)
    # the sums differ in the order of their terms only (16 lanes dense, 1 CSR rows of 5)
    np.testing.assert_allclose(r, cm.get("r"), rtol=1e-12, atol=1e-14)


def test_learning_loop_is_vectorised(tmp_path):
    net = ann.Network(dt=1.0)
    inp = net.create(64, ann.Neuron(parameters="r = 1.0"))
    out = net.create(8, ann.Neuron(equations="r = sum(exc)"))
    net.connect(inp, out, "exc", ann.Oja(eta=0.01)).all_to_all(weights=0.1)
    net.compile(dump_ir=str(tmp_path))
    text = open(tmp_path / next(f for f in os.listdir(tmp_path) if f.endswith("llvm-opt.ll"))).read()
    learn = re.search(r"define[^\n]*learn_proj0[^\n]*\{(.*?)\n\}", text, re.S)
    assert learn and re.search(r"<\d+ x double>", learn.group(1))


def test_fused_halves_make_a_complete_dense_projection_with_each_members_weights():
    net = ann.Network(dt=1.0)
    inp = net.create(ann.InputArray(6))
    inp.r = np.arange(6.0) + 1.0
    out = net.create(3, ann.Neuron(equations="r = sum(exc)"))
    rng = np.random.default_rng(0)
    w1, w2 = rng.uniform(size=(3, 3)), rng.uniform(size=(3, 3))
    p1 = net.connect(inp[:3], out, "exc").from_matrix(w1)
    p2 = net.connect(inp[3:], out, "exc").from_matrix(w2)
    net.compile()
    net.simulate(2)
    np.testing.assert_allclose(out.r, w1 @ (np.arange(3.0) + 1.0) + w2 @ (np.arange(3.0) + 4.0), rtol=1e-14)
    p1.w = np.zeros((3, 3)).tolist()
    net.simulate(1)
    np.testing.assert_allclose(out.r, w2 @ (np.arange(3.0) + 4.0), rtol=1e-14)
    assert np.array_equal(np.array(p2.w), w2) and np.array(p1.w).shape == (3, 3)
