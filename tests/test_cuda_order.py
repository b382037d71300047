"""The order of the sums on the GPU (``cuda-map{order=ordered}``, the default).

Spike propagation is divided by post-synaptic neuron: each thread walks the spike list in order
over its own synapses, so every input receives its increments in the sequential order.  Checked
without a GPU on the host device run with a *thread schedule*: every thread of every launch runs
on its own, in a random order (a schedule a GPU may pick).  The ordered mapping gives the llvm
backend's bits under any such schedule; the atomic mapping (``order=atomic``) does not, and its
difference stays within a relative 1e-12 (float64) over a short run.
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
from anncompiler.errors import PipelineError  # noqa: E402
from anncompiler.ir import kernel as K  # noqa: E402
from anncompiler.passes import DEFAULT_PIPELINE  # noqa: E402
from anncompiler.passes.platform.cuda_ordered import MIN_SPLIT_ENTRIES, SPLIT_ENTRIES_PER_SYNAPSE, split_partitions  # noqa: E402

from test_cuda_render import MODELS, assert_same_run as assert_same_reference_run  # noqa: E402
from test_cuda_render import build, coba, cuda_map, emit, kernel_module, neutral_sample  # noqa: E402
from test_cuda_runtime import assert_same_run  # noqa: E402

HOST = {"device": "host"}


def coba_random(net):
    """COBA with a different weight per synapse: the order of a sum changes its last bits."""
    coba(net, 60)
    for proj, (lo, hi) in zip(net.get_projections(), ((0.3, 0.9), (4.0, 9.0))):
        proj.w = ann.Uniform(lo, hi, rng=net.default_rng)


def delays_driven(net, synapse=None):
    """Uniform and non-uniform delays, a different weight per synapse, neurons that fire."""
    lif = ann.Neuron(parameters=dict(tau=4.0, I=ann.Parameter(1.0, locality="local")),
                     equations=["tau * dv/dt = -v + g_exc + I", "5.0 * dg_exc/dt = -g_exc"],
                     spike="v > 1.0", reset="v = 0.0", refractory=1.0, name="Driven")
    pop = net.create(40, lif)
    pop.I = np.linspace(1.05, 3.0, 40)
    net.connect(pop[:30], pop, "exc", synapse).fixed_probability(0.3, weights=ann.Uniform(0.1, 0.4, rng=net.default_rng),
                                                        delays=ann.Uniform(0.1, 1.0, rng=net.default_rng))
    net.connect(pop[30:], pop, "exc").fixed_probability(0.3, weights=ann.Uniform(-0.5, -0.2, rng=net.default_rng),
                                                        delays=0.5)
    net.monitor(pop, ["spike", "v"])


def fan_in(net):
    """Forty sources firing together onto six neurons: forty increments of different sizes per
    input and step, whose sum depends on its order."""
    src = net.create(ann.SpikeSourceArray([[0.5 + 0.2 * k for k in range(12)]] * 40))
    cell = ann.Neuron(equations=["dv/dt = -v + g_exc", "2.0 * dg_exc/dt = -g_exc"], spike="v > 1e9", name="Sink")
    post = net.create(6, cell)
    net.connect(src, post, "exc").all_to_all(weights=ann.Uniform(1e-3, 1.0, rng=net.default_rng))
    net.monitor(post, ["v", "g_exc"])


LOCAL_MODELS = {"coba_random": coba_random, "delays_driven": delays_driven, "fan_in": fan_in}


def model(name, seed=3):
    if name in LOCAL_MODELS:
        net = ann.Network(dt=0.1, seed=seed)
        LOCAL_MODELS[name](net)
        return net
    return build(name, seed)


@pytest.fixture
def scheduled(monkeypatch):
    """Compiles for the host device run with a random thread schedule (seeded)."""
    def compile_net(net, order=None, seed=11):
        monkeypatch.setattr(device_module, "open_device", lambda value: HostDevice(schedule=seed))
        pipeline = f"{DEFAULT_PIPELINE},cuda-map{{order={order}}}" if order else None
        net.compile(backend="cuda", cuda_config=HOST, pipeline=pipeline)
        assert net._simulator.device.schedule is not None
        return net
    return compile_net


def llvm(name, threads=1):
    net = model(name)
    net.config(num_threads=threads)
    net.compile(backend="llvm")
    return net


def spike_count(net) -> int:
    return sum(len(times) for m in net.get_monitors()
               for times in m.get(keep=True, force_dict=True).get("spike", {}).values())


# ---------------------------------------------------------------------------------------------
# the ordered mapping: the CPU's bits under any thread order
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["fan_in", "coba_random", "delays_driven", "stdp"])
def test_ordered_mapping_matches_llvm_under_any_thread_order(name, scheduled):
    gpu = scheduled(model(name))
    kinds = {k.body[0].space.split(":")[0] for k in gpu.kernel_module.kernels
             if gpu.kernel_module.launch[k.name].grid_loops and k.phase == "input"
             and not k.name.startswith("deliver_delayed_")}  # the rings of per-synapse delays: per neuron
    assert kinds == {"partitions"}  # every propagation on the grid, by post-synaptic neuron
    assert not any(c.atomics for c in gpu.kernel_module.launch.values())
    cpu = llvm(name)
    for net in (gpu, cpu):
        net.simulate(12.0)
    if name not in ("stdp", "fan_in"):
        assert spike_count(cpu) > 20  # spikes were propagated
    assert_same_run(gpu, cpu)


def test_another_schedule_and_two_threads_give_the_same_bits(scheduled):
    gpu = scheduled(model("coba_random"), seed=5)
    cpu = llvm("coba_random", threads=2)
    for net in (gpu, cpu):
        net.simulate(10.0)
    assert_same_run(gpu, cpu, arrays=False)  # partitions lay some arrays out differently


@pytest.mark.parametrize("path", ["rings", "index"])
def test_new_delays_rebuild_the_split(scheduled, path):
    """Per-synapse delays changed after compile: written where the rings read them, or (a
    ``pre_spike`` that cannot go through the rings) rebuild the partitions' split of the delayed
    index."""
    nets = []
    synapse = ann.Synapse(pre_spike="g_target += w : unless_post") if path == "index" else None
    for backend in ("cuda", "llvm"):
        net = ann.Network(dt=0.1, seed=3)
        delays_driven(net, synapse)
        proj = net.get_projections()[0]
        if backend == "cuda":
            scheduled(net)
            role = "inv_dsplit" if path == "index" else "ring_offset"
            assert np.asarray(net._state(proj.name, role)).size > 1
        else:
            net.compile(backend="llvm")
        proj.delay = [[0.1 + 0.1 * ((i + j) % 7) for j in range(len(d.pre_ranks))]
                      for i, d in enumerate(proj.dendrites)]
        net.simulate(10.0)
        nets.append(net)
    assert_same_run(*nets, arrays=False)


# ---------------------------------------------------------------------------------------------
# the atomic mapping: faster, the sums' order left to the scheduler
# ---------------------------------------------------------------------------------------------
def test_atomics_depend_on_the_thread_order_within_the_bound(scheduled):
    """With float atomics a schedule changes the last bits of the inputs (what the ordered
    mapping's test would see), by less than a relative 1e-12."""
    gpu = scheduled(model("fan_in"), order="atomic")
    assert gpu.kernel_module.launch["project_proj0"].atomics == ("pop1.g_exc",)
    cpu = llvm("fan_in")
    for net in (gpu, cpu):
        net.simulate(3.0)
    for v in ("g_exc", "v"):
        got, want = (net.get_monitors()[0].get(v) for net in (gpu, cpu))
        assert not np.array_equal(got.view(np.uint64), want.view(np.uint64))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------------------------
# the mapped kernel IR
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("partitions", [1, 3, 1024])
def test_any_partition_count_computes_the_neutral_bits(partitions):
    """The mapped module run by the reference interpreter gives the neutral module's bits."""
    for name in ("coba", "delays", "stdp"):
        neutral = kernel_module(build(name), mapped=False)
        mapped = kernel_module(build(name), suffix=f"cuda-map{{partitions={partitions}}}")
        K.verify_module(mapped)
        project = mapped.kernels[0]
        assert project.body[0].space.startswith("partitions:")
        assert mapped.launch[project.name].iterations == (min(partitions, 40 if name == "delays" else
                                                              80 if name == "coba" else 1),)
        assert_same_reference_run(neutral, mapped, 30)


def test_split_tables_are_bounded():
    """``rows * (P + 1)`` entries, within a few per synapse (or a small fixed size)."""
    assert split_partitions(rows=100, synapses=8000, post_size=50, partitions=1024) == 50
    assert split_partitions(rows=400_000, synapses=32_000_000, post_size=400_000, partitions=1024) == 319
    assert split_partitions(rows=10**7, synapses=10**7, post_size=10**6, partitions=1024) == 3
    assert split_partitions(rows=10**7, synapses=10**6, post_size=10**6, partitions=1024) == 1
    for rows, synapses in ((400_000, 32_000_000), (10**6, 10**6), (3000, 30)):
        p = split_partitions(rows, synapses, 10**6, 1024)
        assert rows * (p + 1) <= max(SPLIT_ENTRIES_PER_SYNAPSE * synapses, MIN_SPLIT_ENTRIES) or p == 1
    km = kernel_module(build("coba"), suffix="cuda-map{partitions=7}")
    assert km.arrays["proj0.inv_split"].size == 80 * 8  # a row per pre-synaptic rank, 7 partitions


def test_post_events_run_one_thread_per_spike():
    km = kernel_module(build("stdp"))
    post = next(k for k in km.kernels if k.name == "post_events_proj0")
    loop = post.body[0]
    assert loop.space == "spikes:pop1" and loop.parallel and km.launch[post.name].grid_loops == (0,)
    assert not any(isinstance(s, K.Accumulate) for s in K.walk_stmts(post.body))


def test_unowned_float_sums_stay_on_one_thread():
    """No owner (nothing to divide the work by): the float sums run in order on one thread."""
    mapped = cuda_map(copy.deepcopy(neutral_sample()))
    assert not mapped.launch["project"].grid_loops and not mapped.launch["project"].atomics
    assert "atomicAdd" not in emit(mapped).dumps["cuda.cu"].split("__global__", 1)[1]


def test_ordered_mapping_compiles_with_nvrtc():
    for name in sorted(MODELS):
        km = kernel_module(build(name), suffix="cuda-map{partitions=5,block=64}")
        emit(km)


def test_option_errors():
    with pytest.raises(PipelineError, match="partitions"):
        cuda_map(neutral_sample(), "cuda-map{partitions=0}")
    with pytest.raises(PipelineError, match="order"):
        cuda_map(neutral_sample(), "cuda-map{order=shuffled}")
