"""Sparse rate rows prefetch their weight and index streams: a hint that never changes a result."""
import os

import numpy as np
import pytest

import anncompiler as ann
import anncompiler.ir.kernel as K
from anncompiler.errors import IRVerificationError
from anncompiler.ir.types import F64, I64
from anncompiler.passes import DEFAULT_PIPELINE

NO_PREFETCH = DEFAULT_PIPELINE + ",cpu-expand-reductions{prefetch=0}"


def sparse_rate_network(backend="llvm", pipeline=None, threads=1, dump=None):
    net = ann.Network(dt=1.0, seed=3)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0), equations="tau * dr/dt + r = sum(exc) + B : min=0.0")
    pop = net.create(300, neuron)
    proj = net.connect(pop, pop, "exc")
    proj.fixed_probability(0.2, weights=ann.Uniform(-0.05, 0.05, rng=net.default_rng))
    m = net.monitor(pop, "r")
    net.compile(backend=backend, pipeline=pipeline, dump_ir=dump)
    net.simulate(30)
    return m.get("r")


def test_sparse_rows_prefetch_weights_and_pre_ranks(tmp_path):
    sparse_rate_network(dump=str(tmp_path))
    files = sorted(os.listdir(tmp_path))
    neutral = open(tmp_path / next(f for f in files if f.endswith("lower-to-kernels.txt"))).read()
    assert "prefetch" not in neutral  # a CPU matter: the neutral kernel IR has none
    kernels = open(tmp_path / next(f for f in files if f.endswith("cpu-expand-reductions.txt"))).read()
    assert "prefetch proj0.w[" in kernels and "prefetch proj0.pre_ranks[" in kernels
    optimised = open(tmp_path / next(f for f in files if f.endswith("llvm-opt.ll"))).read()
    assert "@llvm.prefetch" in optimised


def test_prefetch_changes_no_result():
    # every prefetch of this small network points far beyond the end of its arrays
    reference = sparse_rate_network(pipeline=NO_PREFETCH)
    assert np.array_equal(sparse_rate_network(), reference)
    assert np.array_equal(sparse_rate_network(threads=2), reference)
    assert np.array_equal(sparse_rate_network(backend="reference"), reference)


def test_no_prefetch_option(tmp_path):
    sparse_rate_network(pipeline=NO_PREFETCH, dump=str(tmp_path))
    kernels = open(tmp_path / next(f for f in os.listdir(tmp_path) if f.endswith("lower-to-kernels.txt"))).read()
    assert "prefetch" not in kernels


def test_verifier_checks_prefetch():
    def module(stmt):
        km = K.KernelModule(arrays={}, kernels=[K.Kernel("k", "input", [stmt])])
        km.declare(K.STEP_COUNTER, I64, 1, "internal")
        km.declare("x", F64, 4)
        return km
    K.verify_module(module(K.Prefetch("x", K.Const(1000, I64))))
    with pytest.raises(IRVerificationError, match="undeclared array 'y'"):
        K.verify_module(module(K.Prefetch("y", K.Const(0, I64))))
    with pytest.raises(IRVerificationError, match="not an integer"):
        K.verify_module(module(K.Prefetch("x", K.Const(0.5, F64))))
    assert K.format_kernel(module(K.Prefetch("x", K.Const(8, I64))).kernels[0]).endswith("prefetch x[8]")


@pytest.mark.parametrize("pre_size, dtype", [(300, "u16"), (65536, "u16"), (65537, "i32")])
def test_pre_ranks_are_16_bit_when_they_fit(pre_size, dtype):
    net = ann.Network(dt=1.0)
    pre = net.create(pre_size, ann.Neuron(parameters="r = 1.0"))
    post = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    ranks = [pre_size - 1, 0]  # the largest rank must survive the narrower type
    proj = net.connect(pre, post, "exc").from_matrix(
        [[1.0 if j == ranks[i] else None for j in range(pre_size)] for i in range(2)])
    pre.r = np.arange(pre_size, dtype=float)
    net.compile()
    assert str(net.kernel_module.arrays[f"{proj.name}.pre_ranks"].dtype) == dtype
    net.simulate(2)
    assert list(post.r) == [pre_size - 1.0, 0.0]
    assert proj.pre_ranks == [[pre_size - 1], [0]]
