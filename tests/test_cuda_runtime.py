"""The cuda backend's device runtime on the fake device (``cuda_config={"device": "host"}``): the
CUDA C of every end-to-end model compiled for the CPU and driven by the same simulator as on a GPU
(state on the "device", explicit copies, graphs of steps, stop flag, monitor draining).  One
thread runs every launch in order and the host's libm computes the math, so the results must be
the llvm and reference backends' bits; the copy counters check that nothing crosses per step."""
import shutil

import numpy as np
import pytest

pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
if shutil.which("g++") is None:
    pytest.skip("no host C++ compiler", allow_module_level=True)

import anncompiler as ann  # noqa: E402
from anncompiler.backends.cuda import CUDABackend  # noqa: E402
from anncompiler.backends.cuda.device import HostDevice, TransferStats  # noqa: E402
from anncompiler.backends.cuda.device_array import DeviceArray  # noqa: E402
from anncompiler.backends.cuda.runtime import GRAPH_STEPS  # noqa: E402
from anncompiler.errors import BackendError, InvalidTypeError, InvalidValueError  # noqa: E402

from test_cuda_render import MODELS, build  # noqa: E402

HOST = {"device": "host"}


def compiled(name, backend="cuda", threads=1, seed=3):
    net = build(name, seed)
    net.config(num_threads=threads)
    net.compile(backend=backend, cuda_config=HOST)
    return net


def recordings(net) -> dict:
    return {m.name: m.get(keep=True, force_dict=True) for m in net.get_monitors()}


def assert_same_bits(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, what
    if a.dtype.kind == "f":
        np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"), err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def assert_same_run(net, other, arrays=True):
    """Same recordings (spike trains, variables), same step, same attributes and (``arrays``: for
    modules laid out alike) same state arrays, bit for bit."""
    assert net.current_step == other.current_step
    mine, theirs = recordings(net), recordings(other)
    for monitor, variables in theirs.items():
        for v, want in variables.items():
            got = mine[monitor][v]
            if v == "spike":
                assert got == want, f"{monitor}: spike trains differ"
            else:
                assert_same_bits(got, want, f"{monitor}.{v}")
    for obj in net.get_populations() + net.get_projections():
        twin = (other.get_population if obj in net.get_populations() else other.get_projection)(obj.name)
        for attribute in obj._model_ir().attributes:
            assert_same_bits(np.asarray(net._state(obj.name, attribute)), np.asarray(other._state(twin.name, attribute)),
                             f"{obj.name}.{attribute}")
    if not arrays:
        return
    for name, want in other._arrays.items():
        got = net._arrays.get(name)
        if got is not None and got.size == want.size and not name.startswith("_"):
            assert_same_bits(np.asarray(got), np.asarray(want), name)


def stats(net) -> TransferStats:
    return net._simulator.device.stats.copy()


# ---------------------------------------------------------------------------------------------
# the same numbers as the CPU backends
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_match_llvm(name):
    cuda, cpu = compiled(name), compiled(name, "llvm")
    assert type(cuda._simulator).__name__ == "CUDASimulator"
    assert isinstance(cuda._arrays["net.t"], DeviceArray)
    for net in (cuda, cpu):
        net.simulate(15.0)
    assert_same_run(cuda, cpu)


@pytest.mark.parametrize("name", ["coba", "delays"])
def test_models_match_llvm_on_two_threads_and_the_reference(name):
    cuda = compiled(name)
    cuda.simulate(8.0)
    for backend, threads in (("llvm", 2), ("reference", 1)):
        other = compiled(name, backend, threads)
        other.simulate(8.0)
        assert_same_run(cuda, other, arrays=False)  # partitions lay some arrays out differently


def test_simulate_until_stops_at_the_same_step():
    nets = [compiled("stop_conditions", backend) for backend in ("cuda", "llvm")]
    elapsed = [net.simulate_until(100.0, net.get_population("P0")) for net in nets]
    assert elapsed[0] == elapsed[1] and nets[0].current_step == nets[1].current_step == 11
    for net in nets:
        net.simulate(3.0)
    assert_same_run(*nets)


# ---------------------------------------------------------------------------------------------
# what crosses between host and device
# ---------------------------------------------------------------------------------------------
def lif_network(monitor=None):
    net = ann.Network(dt=0.1, seed=5)
    neuron = ann.Neuron(parameters=dict(tau=10.0, I=ann.Parameter(20.0, locality="local")),
                        equations="tau * dv/dt = -v + I + g_exc : init=-65.0",
                        spike="v > 15.0", reset="v = 0.0", name="L")
    pop = net.create(30, neuron)
    pop.I = np.linspace(14.0, 22.0, 30)
    net.connect(pop, pop, "exc").fixed_probability(0.2, weights=0.5)
    if monitor:
        net.monitor(pop, monitor)
    net.compile(backend="cuda", cuda_config=HOST)
    return net, pop


def test_nothing_crosses_per_step_and_a_chunk_is_replayed_graphs():
    net, _ = lif_network()
    sim = net._simulator
    before = stats(net)
    net.simulate(GRAPH_STEPS * 3 * 0.1 + 0.5)  # 3 graphs of GRAPH_STEPS steps, then 5 launched steps
    moved = stats(net).since(before)
    assert (moved.uploads, moved.downloads, moved.bytes_up, moved.bytes_down) == (0, 0, 0, 0)
    assert moved.graph_replays == 3
    assert moved.launches == (3 * GRAPH_STEPS + 5) * len(sim.step_launches)
    assert net.current_step == 3 * GRAPH_STEPS + 5
    before = stats(net)
    net.step()
    moved = stats(net).since(before)
    assert moved.graph_replays == 1 and moved.bytes_up == moved.bytes_down == 0


def test_monitors_move_only_what_they_recorded():
    net, pop = lif_network(["v", "spike"])
    before = stats(net)
    steps = 2500
    net.simulate(steps * 0.1)
    moved = stats(net).since(before)
    data = net.get_monitors()[0].get(keep=True)
    spikes = sum(len(t) for t in data["spike"].values())
    recorded = data["v"].nbytes + spikes * (8 + 4)  # the rows of v; each spike's step and rank
    assert data["v"].shape == (steps, pop.size)
    rows = net.kernel_module.arrays[net.kernel_module.handles[(net.get_monitors()[0].name, "buffer:v")].array].size \
        // pop.size
    chunks = -(-steps // rows) + 2
    # per chunk: the step counter twice, the row and spike counters (read, then reset to 0)
    assert recorded <= moved.bytes_down <= recorded + chunks * 64
    assert moved.bytes_up <= chunks * 32
    assert moved.launches >= steps * len(net._simulator.step_launches)


def test_attribute_reads_and_writes_copy_what_was_asked():
    net, pop = lif_network()
    n = pop.size
    before = stats(net)
    v = pop.v
    moved = stats(net).since(before)
    assert (moved.downloads, moved.bytes_down, moved.bytes_up) == (1, 8 * n, 0)
    assert isinstance(v, np.ndarray) and v.shape == (n,)

    before = stats(net)
    pop.v = np.arange(n, dtype=float)
    moved = stats(net).since(before)
    assert (moved.uploads, moved.bytes_up, moved.bytes_down) == (1, 8 * n, 0)
    np.testing.assert_array_equal(pop.v, np.arange(n))

    before = stats(net)
    view = pop[3:6]
    view.v = -1.0
    moved = stats(net).since(before)
    assert moved.bytes_up <= 3 * 8 * 2 and moved.bytes_down == 0  # the ranks and their values
    before = stats(net)
    assert list(view.v) == [-1.0] * 3
    moved = stats(net).since(before)
    assert moved.bytes_down == 3 * 8 and moved.bytes_up <= 3 * 8
    assert pop.v[2] == 2.0 and pop.v[6] == 6.0

    before = stats(net)
    assert net.current_step == 0
    assert stats(net).since(before).bytes_down == 8


def test_written_state_is_what_the_kernels_read():
    """Writes through the views reach the device: the run goes on like the llvm backend's."""
    nets = [compiled("coba", backend) for backend in ("cuda", "llvm")]
    for net in nets:
        net.simulate(5.0)
        pop, proj = net.get_population("pop0"), net.get_projections()[0]
        pop.v = np.linspace(-70.0, -45.0, pop.size)
        pop[10:20].g_exc = 2.5
        proj.w = 0.9
        net.simulate(5.0)
    assert_same_run(*nets)


def test_per_synapse_writes():
    nets = [compiled("stdp", backend) for backend in ("cuda", "llvm")]
    for net in nets:
        proj = net.get_projections()[0]
        net.simulate(3.0)
        proj.dendrite(0).w = np.linspace(0.0, 0.01, proj.dendrite(0).size)
        net.simulate(3.0)
    assert_same_run(*nets)


def test_rate_weights_in_a_dense_matrix():
    nets = [compiled("rate_dense", backend) for backend in ("cuda", "llvm")]
    for net in nets:
        proj = net.get_projections()[0]
        proj.w = np.asarray(proj.w).reshape(-1) * 0.5  # gathered from the dense matrix, scattered back
        net.simulate(5.0)
    assert_same_run(*nets)


# ---------------------------------------------------------------------------------------------
# the rest of the runtime through the views: save/load, reset, monitors added after compile
# ---------------------------------------------------------------------------------------------
def test_save_load_continue_like_llvm(tmp_path):
    cuda = compiled("stdp")
    cuda.simulate(5.0)
    cuda.save(str(tmp_path / "state.npz"))
    cuda.simulate(5.0)
    first = recordings(cuda)["monitor0"]
    cuda.get_monitors()[0].get()  # empties it
    cuda.load(str(tmp_path / "state.npz"))
    assert cuda.current_step == 50
    cuda.simulate(5.0)
    again = recordings(cuda)["monitor0"]
    assert {r: [t for t in ts if t >= 5.0] for r, ts in first["spike"].items()} == again["spike"]
    assert_same_bits(first["v"][50:], again["v"], "v after load")
    # the file is the llvm backend's: an llvm network continues from it the same way
    cpu = compiled("stdp", "llvm")
    cpu.load(str(tmp_path / "state.npz"))
    cpu.simulate(5.0)
    assert_same_bits(recordings(cpu)["monitor0"]["v"], again["v"], "llvm from the cuda file")


def test_reset_runs_the_same_steps_again():
    net = compiled("izhikevich")
    net.simulate(10.0)
    first = recordings(net)
    net.reset()
    net.simulate(10.0)
    # the noise follows the step counter: after a reset to step 0 the run repeats itself
    assert recordings(net) == first or all(
        first[m]["spike"] == recordings(net)[m]["spike"] for m in first)


def test_monitor_added_after_compile_keeps_the_state_on_the_device():
    nets = [compiled("rate_sparse", backend) for backend in ("cuda", "llvm")]
    for net in nets:
        net.simulate(3.0)
    old = dict(nets[0]._arrays)
    before = stats(nets[0])
    for net in nets:
        net.monitor(net.get_population("pop0"), "r")
        net.simulate(3.0)
    moved = stats(nets[0]).since(before)
    kept = [name for name, a in nets[0]._arrays.items() if old.get(name) is a]
    new = sum(a.nbytes for name, a in nets[0]._arrays.items() if name not in kept)
    assert kept and new < sum(a.nbytes for a in nets[0]._arrays.values())
    # the new monitor's arrays (and a stop flag), then the counters reset by the drains
    assert new <= moved.bytes_up <= new + 1 + 64
    assert nets[0].compile_report.get("rebuilds") == 1
    assert_same_run(*nets)


# ---------------------------------------------------------------------------------------------
# choosing the backend and the device
# ---------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_paradigm_selects_the_cuda_backend():
    ann.setup(paradigm="cuda")
    pop = ann.Population(4, ann.Neuron(equations="r = r + 1.0", name="C"))
    ann.compile(cuda_config=HOST)
    ann.simulate(3.0)
    assert type(ann.magic_network()._simulator).__name__ == "CUDASimulator"
    np.testing.assert_array_equal(pop.r, [3.0] * 4)

    net = ann.Network(dt=1.0)
    net.config(paradigm="cuda")
    net.create(2, ann.Neuron(equations="r = r + 2.0", name="D"))
    net.compile(cuda_config={"device": "host"})
    net.simulate(2.0)
    assert net.compile_report["pipeline"].endswith("cuda-map")


def test_selection_errors():
    net = ann.Network(dt=1.0)
    with pytest.raises(InvalidValueError, match="paradigm"):
        net.config(paradigm="gpu")
    net.create(2, ann.Neuron(equations="r = r + 2.0", name="E"))
    with pytest.raises(InvalidTypeError, match="cuda_config"):
        net.compile(backend="cuda", cuda_config=0)
    for device in (-1, "cpu", 1.5, True):
        with pytest.raises(BackendError, match="device"):
            net.compile(backend="cuda", cuda_config={"device": device})
    assert not net.compiled
    if not CUDABackend.is_available():
        with pytest.raises(BackendError, match="cannot run on a GPU: .*(driver|device)"):
            net.compile(backend="cuda", cuda_config={"device": 0})
    net.compile(backend="cuda", cuda_config=HOST)  # the network is still usable
    net.simulate(1.0)


# ---------------------------------------------------------------------------------------------
# DeviceArray: numpy's answers, through copies
# ---------------------------------------------------------------------------------------------
def test_device_array_behaves_like_numpy():
    device = HostDevice()
    host = np.arange(10, dtype=np.float64) * 1.5
    arr = DeviceArray(device, device.to_device(host), host.dtype, host.size, "x")
    keys = [3, -1, np.int64(2), slice(None), slice(2, 7), slice(1, 9, 3), slice(8, 2, -2), Ellipsis,
            [0, 4, 4], np.array([1, -2]), host > 5.0, np.array([], dtype=np.int64), (slice(0, 2),)]
    for key in keys:
        assert_same_bits(arr[key], host[key], repr(key))
    for key, value in [(3, 7.0), (-1, 8.0), (slice(2, 4), [1.0, 2.0]), (slice(0, 10, 4), 9.0),
                       ([1, 5], [-1.0, -5.0]), (host > 8.0, 0.5), (Ellipsis, host + 1.0), (slice(4, 4), 1.0)]:
        expected = np.asarray(arr).copy()
        expected[key] = value
        arr[key] = value
        assert_same_bits(np.asarray(arr), expected, repr(key))
    assert arr.shape == (10,) and len(arr) == 10 and arr.nbytes == 80 and arr.copy().flags.owndata
    assert (arr + 1.0).tolist() == (np.asarray(arr) + 1.0).tolist()
    assert arr.reshape(2, 5).shape == (2, 5) and arr[0].item() == np.asarray(arr)[0]
    arr.fill(2)
    assert np.all(arr == 2.0)
    with pytest.raises(IndexError):
        arr[10]
    with pytest.raises(IndexError):
        arr[[0, 11]] = 1.0


class Counting(ann.Network):
    def __init__(self):
        self.create(3, ann.Neuron(equations="r = r + 1.0", name="F"))


def test_copy_runs_on_the_same_device():
    net = Counting(dt=1.0)
    net.compile(backend="cuda", cuda_config=HOST)
    twin = net.copy()
    assert twin._simulator.device.kind == "host"
    twin.simulate(2.0)
    np.testing.assert_array_equal(twin.get_populations()[0].r, [2.0] * 3)


def test_specialised_projections_and_synapse_features_match_llvm():
    """Gap junctions, lists of targets, random numbers in synapses, a convolution."""
    import test_synapse_semantics
    from anncompiler.extensions.convolution import Convolution
    from test_convolution import F3, INPUT, OUTPUT

    def convolution():
        net = ann.Network(dt=1.0, seed=1)
        a, b = net.create((6, 8), INPUT), net.create((6, 8), OUTPUT)
        a.r = np.arange(48.0).reshape(6, 8) / 48.0
        net.connect(Convolution(a, b, "exc")).connect_filter(F3)
        return net

    builders = [convolution, lambda: test_synapse_semantics.every_feature(ann.Network(dt=0.5, seed=5))]
    for builder in builders:
        nets = []
        for backend in ("cuda", "llvm"):
            net = builder()
            net.compile(backend=backend, cuda_config=HOST)
            net.simulate(5.0)
            nets.append(net)
        assert_same_run(*nets)
