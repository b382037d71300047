"""Axonal spikes: ``axon_spike``/``axon_reset`` of a neuron, ``pre_axon_spike`` of a synapse, the
``axon_transmission`` flag and recording ``axon_spike``, against hand-computed traces on the
reference interpreter and llvm (1 and 2 threads)."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import ModelError, NetworkError, NotSupportedError

BACKENDS = [("reference", 1), ("llvm", 1), ("llvm", 2)]

# v grows by I each step; a spike above 10 (reset to 0), an axonal spike above 3 (v -= 2)
AXON = dict(parameters="I = 1.0", equations="v = v + I", spike="v > 10", reset="v = 0",
            axon_spike="v > 3", axon_reset="v -= 2")
CURRENTS = [1.0, 2.0, 6.0]
STEPS = 9
# by hand, for I = 1, 2, 6 over 9 steps of 1 ms
AXONAL = {0: [3, 5, 7], 1: [1, 2, 3, 4, 5, 6, 7, 8], 2: [0, 1, 3, 4, 6, 7]}
SPIKES = {0: [], 1: [], 2: [2, 5, 8]}
V = [[1, 2, 3, 2, 3, 2, 3, 2, 3], [2, 2, 2, 2, 2, 2, 2, 2, 2], [4, 8, 0, 4, 8, 0, 4, 8, 0]]
# with a refractory period of 2 ms: no axonal spike while refractory
AXONAL_REFRACTORY = {0: [3, 5, 7], 1: [1, 2, 3, 4, 5, 6, 7, 8], 2: [0, 1, 5, 6]}
SPIKES_REFRACTORY = {0: [], 1: [], 2: [2, 7]}
V_REFRACTORY = [[1, 2, 3, 2, 3, 2, 3, 2, 3], [2, 2, 2, 2, 2, 2, 2, 2, 2], [4, 8, 0, 0, 0, 4, 8, 0, 0]]

RECEIVER = ann.Neuron(equations="v = g_exc", spike="v > 1e9", name="Receiver")


def network(threads, refractory=None, synapse=None, neuron=None):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    P = net.create(3, neuron or ann.Neuron(**AXON, refractory=refractory, name="Axonal"), name="P")
    P.I = np.array(CURRENTS)
    Q = net.create(3, RECEIVER, name="Q")
    proj = None
    if synapse is not None:
        proj = net.connect(P, Q, "exc", synapse=synapse, name="proj")
        proj.one_to_one(weights=1.0)
    return net, P, Q, proj


@pytest.mark.parametrize("backend,threads", BACKENDS)
@pytest.mark.parametrize("refractory", [None, 2.0])
def test_axonal_spikes_by_hand(backend, threads, refractory):
    net, P, _, _ = network(threads, refractory)
    m = net.monitor(P, ["v", "spike", "axon_spike"])
    net.compile(backend=backend)
    net.simulate(STEPS)
    data = m.get()
    want_v, want_spikes, want_axonal = (V, SPIKES, AXONAL) if refractory is None else \
        (V_REFRACTORY, SPIKES_REFRACTORY, AXONAL_REFRACTORY)
    np.testing.assert_array_equal(data["v"].T, want_v)
    assert data["spike"] == want_spikes
    assert data["axon_spike"] == want_axonal


def conductance(events: dict, weights: dict, steps: int = STEPS) -> np.ndarray:
    """``g_exc`` of the receivers: ``weights[kind]`` per event of the previous step."""
    g = np.zeros((3, steps))
    for kind, per_neuron in events.items():
        for rank, at in per_neuron.items():
            for t in at:
                if t + 1 < steps:
                    g[rank, t + 1] += weights[kind]
    return g


OWN = ann.Synapse(pre_spike="g_target += w", pre_axon_spike="g_target += 0.5 * w", name="Own")


@pytest.mark.parametrize("backend,threads", BACKENDS)
@pytest.mark.parametrize("flags,weights", [
    ({}, {"spike": 1.0, "axonal": 0.5}),
    ({"axon_transmission": False}, {"spike": 1.0, "axonal": 0.0}),
    ({"transmission": False}, {"spike": 0.0, "axonal": 0.5}),  # axonal spikes obey axon_transmission only
])
def test_pre_axon_spike_increments_g_target(backend, threads, flags, weights):
    net, _, Q, proj = network(threads, synapse=OWN)
    m = net.monitor(Q, "g_exc")
    net.compile(backend=backend)
    for flag, value in flags.items():
        setattr(proj, flag, value)
        assert getattr(proj, flag) is value
    net.simulate(STEPS)
    want = conductance({"spike": SPIKES, "axonal": AXONAL}, weights)
    np.testing.assert_allclose(m.get("g_exc").T, want)


SHARED = ann.Synapse(pre_spike="g_target += w\nw += 1.0", pre_axon_spike="g_target += w\nw += 1.0",
                     name="Shared")


def shared_trace(rank, transmit_axonal=True, steps=STEPS):
    """The same statements for spikes and axonal spikes: ``g += w`` with ``w`` before the event,
    then ``w += 1``; returns (g trace, final w)."""
    events = sorted(SPIKES[rank] + (AXONAL[rank] if transmit_axonal else []))
    g, w = np.zeros(steps), 1.0
    for t in events:
        if t + 1 < steps:
            g[t + 1] += w
            w += 1.0
    return g, w


@pytest.mark.parametrize("backend,threads", BACKENDS)
@pytest.mark.parametrize("axon_transmission", [True, False])
def test_pre_axon_spike_same_as_pre_spike_runs_every_statement(backend, threads, axon_transmission):
    net, _, Q, proj = network(threads, synapse=SHARED)
    m = net.monitor(Q, "g_exc")
    proj.axon_transmission = axon_transmission  # before compile
    net.compile(backend=backend)
    net.simulate(STEPS)
    g = m.get("g_exc").T
    for rank in range(3):
        want_g, want_w = shared_trace(rank, axon_transmission)
        np.testing.assert_allclose(g[rank], want_g)
        assert proj.dendrite(rank).w[0] == want_w


def test_shared_statements_stop_with_transmission():
    net, _, Q, proj = network(1, synapse=SHARED)
    m = net.monitor(Q, "g_exc")
    net.compile(backend="reference")
    proj.transmission = False
    net.simulate(STEPS)
    assert not m.get("g_exc").any()
    assert proj.w == [[1.0], [1.0], [1.0]]


@pytest.mark.parametrize("backend,threads", BACKENDS)
def test_random_axonal_condition_is_the_same_everywhere(backend, threads):
    neuron = ann.Neuron(equations="v = 0.0", spike="v > 1.0", axon_spike="Uniform(0.0, 1.0) < 0.3",
                        name="RandomAxon")
    net = ann.Network(dt=1.0, seed=7)
    net.config(num_threads=threads)
    P = net.create(40, neuron)
    m = net.monitor(P, "axon_spike")
    net.compile(backend=backend)
    net.simulate(50)
    got = m.get("axon_spike")
    total = sum(len(v) for v in got.values())
    assert 0.2 * 2000 < total < 0.4 * 2000
    ref = ann.Network(dt=1.0, seed=7)
    Pr = ref.create(40, neuron)
    mr = ref.monitor(Pr, "axon_spike")
    ref.compile(backend="reference")
    ref.simulate(50)
    assert mr.get("axon_spike") == got


def test_monitor_of_a_view_and_after_compile():
    net, P, _, _ = network(1)
    net.compile(backend="llvm")
    m = net.monitor(P[1:], "axon_spike")  # added after compile: recompiled before the next run
    net.simulate(STEPS)
    assert m.get("axon_spike") == {1: AXONAL[1], 2: AXONAL[2]}
    net.simulate(2)
    assert m.get("axon_spike") == {1: [9, 10], 2: [9, 10]}


# errors -----------------------------------------------------------------------------------------

def test_model_errors():
    from anncompiler.parser import parse_model
    with pytest.raises(ModelError, match="need a spiking neuron"):
        parse_model(ann.Neuron(equations="r = 1.0", axon_spike="r > 0.5"))
    with pytest.raises(ModelError, match="needs an 'axon_spike'"):
        parse_model(ann.Neuron(equations="v = v + 1", spike="v > 5", axon_reset="v = 0"))
    with pytest.raises(ModelError, match="only change 'g_target'"):
        parse_model(ann.Synapse(pre_spike="g_target += w", pre_axon_spike="g_target += w\nw += 1"))
    with pytest.raises(ModelError, match="must be a condition"):
        parse_model(ann.Neuron(equations="v = v + 1", spike="v > 5", axon_spike="v + 1"))
    with pytest.raises(ModelError, match="parameter"):
        parse_model(ann.Neuron(parameters="a = 1.0", equations="v = v + 1", spike="v > 5",
                               axon_spike="v > 2", axon_reset="a = 0"))


def test_network_errors():
    plain = ann.Neuron(equations="v = v + 1", spike="v > 5", name="Plain")
    net = ann.Network(dt=1.0)
    P, Q = net.create(2, plain), net.create(2, RECEIVER)
    net.connect(P, Q, "exc", synapse=OWN).one_to_one(weights=1.0)
    with pytest.raises(NetworkError, match="defines no axon_spike"):
        net.compile(backend="reference")

    net, P, Q, _ = network(1)
    proj = net.connect(P, Q, "exc", synapse=OWN)
    proj.one_to_one(weights=1.0, delays=3.0)
    with pytest.raises(NotSupportedError, match="delays"):
        net.compile(backend="reference")

    net = ann.Network(dt=1.0)
    P = net.create(2, plain)
    with pytest.raises(NetworkError, match="axon_spike"):
        net.monitor(P, "axon_spike")
    net, P, _, _ = network(1)
    with pytest.raises(NotSupportedError, match="stream"):
        net.monitor(P, "axon_spike", stream="x.h5")


def test_axon_transmission_of_a_projection_without_axonal_events():
    net, P, Q, _ = network(1)
    proj = net.connect(P, Q, "exc")
    proj.one_to_one(weights=1.0)
    net.compile(backend="reference")
    proj.axon_transmission = False  # nothing to switch: kept, no error
    assert proj.axon_transmission is False
    with pytest.raises(ann.InvalidTypeError):
        proj.axon_transmission = 1


def test_model_and_kernel_dumps_show_the_axonal_parts():
    from anncompiler.ir.kernel import format_module
    net, _, _, _ = network(1, synapse=OWN)
    net.compile(backend="reference")
    text = format_module(net.kernel_module)
    assert "append P._axonal[P._n_axonal]" in text
    assert "kernel @project_proj_axonal" in text and "proj._axon_transmission[0]" in text
    names = [k.name for k in net.kernel_module.kernels]
    assert names.index("project_proj_axonal") < names.index("project_proj")  # before the spikes


def test_cuda_renders_compiles_and_maps_the_axonal_kernels():
    """NVRTC compiles the CUDA C of a network with axonal spikes; the mapped module (run on the
    reference interpreter) computes the neutral module's bits."""
    pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
    from anncompiler.backends.cuda import CUDABackend
    from anncompiler.backends.reference import ReferenceSimulator
    from anncompiler.ir.module import CompilationModule
    from anncompiler.passes import DEFAULT_PIPELINE, PassManager
    from anncompiler.runtime.compile import build_network_ir
    from anncompiler.runtime.state import allocate_arrays

    def kernels(mapped):
        net, P, _, _ = network(1, refractory=2.0, synapse=OWN)
        net.monitor(P, ["spike", "axon_spike"])
        module = CompilationModule(build_network_ir(net), options={"method": "explicit", "num_threads": 1})
        PassManager(DEFAULT_PIPELINE + ("," + CUDABackend().pipeline_suffix() if mapped else "")).run(module)
        return module.kernels

    mapped = kernels(True)
    assert "update_P.compact" in mapped.launch and "update_P.compact1" in mapped.launch
    artefact = CUDABackend(cache=False).emit(mapped)
    assert ".entry" in artefact.dumps["cuda.ptx"]
    neutral = kernels(False)
    want, got = allocate_arrays(neutral), allocate_arrays(mapped)
    ReferenceSimulator(neutral, want).run(STEPS)
    ReferenceSimulator(mapped, got).run(STEPS)
    for name in neutral.arrays:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert got["monitor0._n_axon_spikes"][0] == sum(len(v) for v in AXONAL_REFRACTORY.values())
