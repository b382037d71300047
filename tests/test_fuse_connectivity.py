"""fuse-connectivity: fused and unfused pipelines agree, dense and CSR agree, the dumps say why."""
import os

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.ir.kernel import format_module
from anncompiler.passes import DEFAULT_PIPELINE

NO_FUSION = DEFAULT_PIPELINE.replace("fuse-connectivity", "fuse-connectivity{fuse=false}")


def rate_net(fmt=None, two=True, threads=1, seed=3):
    net = ann.Network(dt=1.0, seed=seed)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0), equations="tau * dr/dt + r = B + sum(exc) - sum(inh)",
                        name="Leaky")
    pop = net.create(60, neuron)
    pop.r = ann.Uniform(0.0, 1.0, rng=net.default_rng)
    kw = {} if fmt is None else {"storage_format": fmt}
    projs = [net.connect(pop[:40], pop, "exc").fixed_probability(
        0.3, weights=ann.Uniform(0.0, 0.02, rng=net.default_rng), **kw)]
    if two:
        projs.append(net.connect(pop[:40], pop, "exc").all_to_all(
            weights=ann.Uniform(0.0, 0.01, rng=net.default_rng), **kw))
    projs.append(net.connect(pop, pop, "inh").all_to_all(weights=ann.Uniform(0.0, 0.01, rng=net.default_rng), **kw))
    m = net.monitor(pop, "r")
    return net, pop, projs, m


def run(pipeline=DEFAULT_PIPELINE, backend="llvm", **kw):
    net, pop, projs, m = rate_net(**kw)
    net.compile(pipeline=pipeline, backend=backend)
    net.simulate(30.0)
    return net, pop, projs, m.get("r")


def test_fused_and_unfused_agree_and_the_fusion_is_in_the_ir():
    net, _, projs, fused = run()
    _, _, _, unfused = run(NO_FUSION)
    np.testing.assert_allclose(fused, unfused, rtol=1e-12, atol=1e-14)
    names = [k.name for k in net.kernel_module.kernels]
    assert "project_proj0+proj1" in names
    handles = net.kernel_module.handles
    assert handles[("proj0", "w")].index is not None and handles[("proj1", "w")].array == "proj0+proj1.w"


def test_weights_of_fused_projections_stay_addressable():
    net, pop, projs, _ = run()
    before = np.array(projs[0].connectivity_matrix())
    assert projs[0].nb_synapses == projs[0].connectivity.nb_synapses
    np.testing.assert_allclose(sum(map(len, projs[0].w)), projs[0].nb_synapses)
    projs[1].w = 0.0  # switch the second member off after compile
    assert np.all(np.concatenate(projs[1].w) == 0.0)
    np.testing.assert_array_equal(projs[0].connectivity_matrix(), before)
    r0 = pop.r.copy()
    net.simulate(1.0)
    # only the first member (and the inhibition) drive the next step
    assert not np.allclose(pop.r, r0)


def test_dense_and_csr_agree_on_both_backends():
    results = {}
    for fmt in ("dense", "csr"):
        for backend in ("llvm", "reference"):
            results[fmt, backend] = run(fmt=fmt, backend=backend, two=False)[3]
    np.testing.assert_array_equal(results["dense", "llvm"], results["dense", "reference"])
    np.testing.assert_array_equal(results["csr", "llvm"], results["csr", "reference"])
    np.testing.assert_allclose(results["dense", "llvm"], results["csr", "llvm"], rtol=1e-12, atol=1e-14)


def test_auto_picks_dense_for_dense_projections_and_the_dump_says_why(tmp_path):
    net, _, projs, _ = rate_net(two=False)
    net.compile(dump_ir=str(tmp_path))
    text = open(tmp_path / next(f for f in os.listdir(tmp_path) if "fuse-connectivity" in f)).read()
    assert "storage dense: density 1.000 >= 0.5" in text or "storage dense: density 0.983" in text
    assert "storage csr: density" in text  # the sparse fixed_probability one
    kernels = format_module(net.kernel_module)
    assert "dense" in kernels and "csr" in kernels


def test_forced_formats_and_dense_weights_after_compile():
    net, pop, projs, _ = rate_net(fmt="dense", two=False)
    net.compile()
    w = np.concatenate(projs[0].w)
    assert len(w) == projs[0].nb_synapses
    projs[0].w = [list(np.full(len(row), 0.5)) for row in projs[0].w]
    assert np.all(np.concatenate(projs[0].w) == 0.5)
    matrix = projs[0].connectivity_matrix()
    assert np.count_nonzero(matrix == 0.5) == projs[0].nb_synapses


def test_dense_is_refused_for_spiking_and_noted(tmp_path):
    net = ann.Network(dt=0.1, seed=1)
    lif = ann.Neuron(parameters=dict(tau=10.0), equations="tau * dv/dt = -v + g_exc", spike="v > 1", reset="v = 0")
    pop = net.create(10, lif)
    net.connect(pop, pop, "exc").all_to_all(weights=0.1, storage_format="dense")
    net.compile(dump_ir=str(tmp_path))
    text = open(tmp_path / next(f for f in os.listdir(tmp_path) if "fuse-connectivity" in f)).read()
    assert "dense was asked for, but only rate-coded" in text


def test_unknown_storage_format_is_a_clear_error():
    net = ann.Network()
    pop = net.create(3, ann.Neuron(equations="r = sum(exc)"))
    with pytest.raises(ann.NetworkError, match="storage_format"):
        net.connect(pop, pop, "exc").all_to_all(weights=1.0, storage_format="nope")


@pytest.mark.parametrize("threads", [2, 3])
def test_fused_dense_projections_are_thread_count_independent(threads):
    one = run()[3]
    many = run(threads=threads)[3]
    np.testing.assert_array_equal(one, many)
