"""The cuda backend on a real GPU (``gpu`` marker; skipped without a CUDA device).

Against the llvm backend on every end-to-end model: spike trains identical in float64 and the
variables within a relative 1e-12 (float64; 1e-5 in float32), since the GPU's ``exp``/``log`` and
the order of float atomic adds may change the last bits; the grid's block size does not change
the results beyond that bound; a long run with monitors and save/load; nothing copied per step.
"""
import numpy as np
import pytest

pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")

from anncompiler.backends.cuda import CUDABackend  # noqa: E402
from anncompiler.passes import DEFAULT_PIPELINE  # noqa: E402

from test_cuda_render import MODELS, build  # noqa: E402

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not CUDABackend.is_available(), reason="no CUDA device on this machine")]

GPU = {"device": 0}


def on(backend, name, block=None, seed=3):
    net = build(name, seed)
    pipeline = f"{DEFAULT_PIPELINE},cuda-map{{block={block}}}" if block else None
    net.compile(backend=backend, cuda_config=GPU, pipeline=pipeline)
    return net


def assert_close_runs(net, other, rtol):
    assert net.current_step == other.current_step
    for m, twin in zip(net.get_monitors(), other.get_monitors()):
        got, want = m.get(keep=True, force_dict=True), twin.get(keep=True, force_dict=True)
        for v in want:
            if v == "spike":
                assert got[v] == want[v], f"{m.name}: spike trains differ"
            else:
                np.testing.assert_allclose(got[v], want[v], rtol=rtol, atol=rtol * 1e-3, err_msg=f"{m.name}.{v}")
    for pop in net.get_populations():
        for a in pop.attributes:
            np.testing.assert_allclose(np.asarray(net._state(pop.name, a)), np.asarray(other._state(pop.name, a)),
                                       rtol=rtol, atol=rtol * 1e-3, err_msg=f"{pop.name}.{a}")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_match_llvm(name):
    gpu, cpu = on("cuda", name), on("llvm", name)
    assert gpu._simulator.device.kind == "cupy"
    for net in (gpu, cpu):
        net.simulate(50.0)
    assert_close_runs(gpu, cpu, 1e-5 if name == "float32" else 1e-12)


@pytest.mark.parametrize("name", ["coba", "stdp", "spike_sources", "global_ops"])
def test_models_match_the_reference(name):
    gpu, ref = on("cuda", name), on("reference", name)
    for net in (gpu, ref):
        net.simulate(10.0)
    assert_close_runs(gpu, ref, 1e-12)


@pytest.mark.parametrize("name", ["coba", "rate_sparse", "delays"])
def test_block_size_does_not_change_the_results(name):
    nets = [on("cuda", name, block) for block in (32, 256, 1024)]
    for net in nets:
        net.simulate(30.0)
    assert_close_runs(nets[0], nets[1], 1e-12)
    assert_close_runs(nets[2], nets[1], 1e-12)


def test_nothing_crosses_per_step():
    net = build("rate_sparse")
    net._monitors.clear()
    net.compile(backend="cuda", cuda_config=GPU)
    before = net._simulator.device.stats.copy()
    net.simulate(100.0)
    moved = net._simulator.device.stats.since(before)
    assert moved.bytes_up == moved.bytes_down == 0 and moved.graph_replays >= 1


def test_long_run_with_monitors_and_save_load(tmp_path):
    gpu, cpu = on("cuda", "coba"), on("llvm", "coba")
    for net in (gpu, cpu):
        net.simulate(500.0)  # 5000 steps: several monitor drains
    assert_close_runs(gpu, cpu, 1e-12)
    gpu.get_monitors()[0].get()  # empties it
    gpu.save(str(tmp_path / "gpu.npz"))
    gpu.simulate(100.0)
    after = gpu.get_monitors()[0].get(keep=False)
    gpu.load(str(tmp_path / "gpu.npz"))
    gpu.simulate(100.0)
    again = gpu.get_monitors()[0].get()
    assert again["spike"] == after["spike"]
    np.testing.assert_array_equal(again["v"], after["v"])
