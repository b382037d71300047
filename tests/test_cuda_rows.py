"""Rows of a rate-coded weighted sum folded by a group of GPU threads (``cuda_rows.py``).

The group's threads fold the lanes of the row's ``Reduce`` and combine them in the declared order
through warp shuffles: the bits of one thread.  Checked without a GPU on the host device with
``lanes=True``: the threads of a group run at the same time on host threads and exchange their
partial sums through the shim's shuffles, one group after another in a random order.
"""
import copy
import shutil

import numpy as np
import pytest

pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
if shutil.which("g++") is None:
    pytest.skip("no host C++ compiler", allow_module_level=True)

import anncompiler as ann  # noqa: E402
from anncompiler.backends.cuda import device as device_module  # noqa: E402
from anncompiler.backends.cuda.device import HostDevice  # noqa: E402
from anncompiler.errors import BackendError, IRVerificationError  # noqa: E402
from anncompiler.ir import kernel as K  # noqa: E402
from anncompiler.ir.launch import LaunchConfig  # noqa: E402
from anncompiler.ir.types import F64, I64  # noqa: E402
from anncompiler.passes import DEFAULT_PIPELINE  # noqa: E402
from anncompiler.passes.platform.cuda_rows import row_group  # noqa: E402
from anncompiler.passes.platform.guards import top_level  # noqa: E402

from test_cuda_render import build, cuda_map, emit, kernel_module, neutral_sample  # noqa: E402
from test_cuda_runtime import assert_same_run  # noqa: E402


def dense_rate(net, float32=False):
    """Forty inputs onto eight rate neurons through a dense matrix of different weights."""
    if float32:
        net.config(dtype=ann.float32)
    leaky = ann.Neuron(parameters=dict(tau=ann.Parameter(10.0), B=ann.Parameter(0.0, locality="local")),
                       equations="tau * dr/dt + r = B + sum(exc) : min=0.0")
    pre, post = net.create(43, leaky), net.create(8, leaky)
    pre.B = np.linspace(0.1, 2.0, 43)
    net.connect(pre, post, "exc").all_to_all(weights=ann.Uniform(-0.3, 0.5, rng=net.default_rng))
    net.connect(post, post, "exc").all_to_all(weights=ann.Uniform(0.0, 0.1, rng=net.default_rng))
    net.monitor(post, "r")
    return net


def compiled(float32=False, block=32, lanes=True, seed=7, monkeypatch=None):
    net = dense_rate(ann.Network(dt=0.1, seed=1), float32)
    monkeypatch.setattr(device_module, "open_device", lambda value: HostDevice(schedule=seed, lanes=lanes))
    net.compile(backend="cuda", cuda_config={"device": "host"},
                pipeline=f"{DEFAULT_PIPELINE},cuda-map{{block={block}}}")
    return net


def llvm(float32=False):
    net = dense_rate(ann.Network(dt=0.1, seed=1), float32)
    net.compile(backend="llvm")
    return net


@pytest.mark.parametrize("float32", [False, True])
def test_groups_of_threads_give_one_threads_bits(float32, monkeypatch):
    gpu = compiled(float32, monkeypatch=monkeypatch)
    launch = gpu.kernel_module.launch["project_proj0"]
    assert launch.group and launch.group[0] > 1
    cpu = llvm(float32)
    for net in (gpu, cpu):
        net.simulate(0.6)
    assert np.ptp(np.asarray(cpu.get_population("pop1").r)) > 0
    assert_same_run(gpu, cpu)


def test_groups_of_the_mapping():
    km = kernel_module(build("rate_dense"))
    reduce = next(s for s in K.walk_stmts(km.kernels[1].body) if isinstance(s, K.Reduce))
    assert km.launch["project_proj0"].group == (min(32, reduce.lanes),) and reduce.lanes > 1
    assert "launch @project_proj0: grid over statement 0 (40 iterations, 16 threads each)" in K.format_module(km)
    assert kernel_module(build("rate_dense"), suffix="cuda-map{block=8}").launch["project_proj0"].group == (8,)
    assert not kernel_module(build("rate_dense"), suffix="cuda-map{warp_rows=0}").launch["project_proj0"].group
    sparse = kernel_module(build("rate_sparse"))
    assert not sparse.launch["project_proj0"].group  # one lane: the sequential fold
    artefact = emit(km)
    spec = next(s for s in artefact.payload.launches if s.function == "k1_project_proj0")
    assert spec.group == 16 and spec.iterations == 40 * 16
    assert "shfl.sync" in artefact.dumps["cuda.ptx"]


def test_a_row_storing_before_its_fold_stays_on_one_thread():
    km = kernel_module(build("rate_dense"), mapped=False)
    kernel = next(k for k in km.kernels if k.name == "project_proj0")
    loop = top_level(kernel.body)[0]
    assert row_group(loop, 256) == 16
    stored = copy.deepcopy(loop)
    stored.body.insert(0, K.Store("pop0.r", K.Const(0, I64), K.Const(1.0, F64)))
    assert row_group(stored, 256) == 1
    nested = copy.deepcopy(loop)
    nested.body.append(K.Loop(K.Var("j", I64), K.Const(0, I64), K.Const(2, I64), []))
    assert row_group(nested, 256) == 1
    assert row_group(loop, 12) == 4 and row_group(loop, 1) == 1
    assert row_group(K.Loop(loop.var, loop.start, loop.stop, loop.body, "neurons:pop0"), 256) == 1


def test_verifier_and_device_errors():
    m = cuda_map(neutral_sample())
    m.launch["update"] = LaunchConfig((2,), (37,), 256, (), (3,))
    with pytest.raises(IRVerificationError, match="power of two"):
        K.verify_module(m)
    with pytest.raises(BackendError, match="schedule"):
        HostDevice(lanes=True)


def test_plastic_dense_rows_in_groups(monkeypatch):
    """A plastic projection kept as a dense matrix: its rows in groups, learning on one thread each."""
    monkeypatch.setattr(device_module, "open_device", lambda value: HostDevice(schedule=3, lanes=True))
    gpu, cpu = build("plasticity"), build("plasticity")
    gpu.compile(backend="cuda", cuda_config={"device": "host"})
    cpu.compile(backend="llvm")
    assert any(c.group for c in gpu.kernel_module.launch.values())
    for net in (gpu, cpu):
        net.simulate(0.4)
    assert_same_run(gpu, cpu)
