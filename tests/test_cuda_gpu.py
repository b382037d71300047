"""The cuda backend on a real GPU (``gpu`` marker; skipped without a CUDA device).

Against the llvm backend on every end-to-end model: spike trains identical in float64 and the
variables within a relative 1e-12 (float64; 1e-5 in float32), since the GPU's ``exp``/``log`` may
change the last bits; the sums run in a fixed order (``cuda-map{order=ordered}``), so the block
size, the partition count and a second run change no bit; with ``order=atomic`` the order of the
float atomic adds may change the last bits, within the same bound; a long run with monitors and
save/load; nothing copied per step.
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


def on(backend, name, block=None, seed=3, options=""):
    net = build(name, seed)
    options = ",".join(x for x in (f"block={block}" if block else "", options) if x)
    pipeline = f"{DEFAULT_PIPELINE},cuda-map{{{options}}}" if options else None
    net.compile(backend=backend, cuda_config=GPU, pipeline=pipeline)
    return net


def assert_same_bits(net, other):
    for pop in net.get_populations():
        for a in pop.attributes:
            got, want = np.asarray(net._state(pop.name, a)), np.asarray(other._state(pop.name, a))
            assert got.tobytes() == want.tobytes(), f"{pop.name}.{a}"


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


@pytest.mark.parametrize("name", ["coba", "delays", "stdp", "rate_dense", "float32"])
def test_ordered_sums_give_the_same_bits_whatever_the_launch(name):
    """Block size, partition count, groups of threads per row and a second run: the same bits
    (the sums' order is fixed)."""
    nets = [on("cuda", name, block, options=options)
            for block, options in ((256, ""), (32, "partitions=7"), (1024, ""), (256, ""), (8, "warp_rows=0"))]
    for net in nets:
        net.simulate(30.0)
    for net in nets[1:]:
        assert_same_bits(net, nets[0])


def test_atomic_order_stays_within_the_bound():
    gpu, cpu = on("cuda", "coba", options="order=atomic"), on("llvm", "coba")
    assert gpu.kernel_module.launch["project_proj0"].atomics
    for net in (gpu, cpu):
        net.simulate(20.0)
    assert_close_runs(gpu, cpu, 1e-12)
