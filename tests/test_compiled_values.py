"""Per-synapse weights and delays held once: after lowering, the connectivity reads them back from
the kernel module (``ir/compiled_values.py``), and the front end, which lent its arrays to the
compile (``anncompiler/runtime/lent_values.py``), takes those views back.  Checked: the same values
through every reader (attributes, delays, files, matrices), the user's arrays freed, a recompile,
a failed compile, and ``load=False``."""
import gc
import weakref

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import AnnCompilerError
from anncompiler.ir.compiled_values import CompiledValues
from anncompiler.passes import DEFAULT_PIPELINE, Pass, register_pass

LIF = ann.Neuron(parameters="tau = 10.0 : population", equations="tau * dv/dt = -v + g_exc + 1.2",
                 spike="v > 1.0", reset="v = 0.0", name="LIF_values")
RUNS = [("reference", 1), ("llvm", 1), ("llvm", 2)]


def build(threads=1, seed=3):
    net = ann.Network(dt=0.1, seed=seed)
    net.config(num_threads=threads)
    pop = net.create(120, LIF, name="pop")
    ring = net.connect(pop, pop, "exc", name="ring").fixed_probability(
        0.2, weights=ann.Uniform(0.0, 0.05), delays=ann.Uniform(0.1, 2.0))
    uniform = net.connect(pop, pop, "exc", name="uniform").fixed_number_pre(10, weights=ann.Uniform(0.0, 0.02),
                                                                           delays=0.5)
    return net, ring, uniform


def originals(*projections):
    return {p.name: (np.array(p.connectivity.weights), np.array(p.connectivity.delays)) for p in projections}


def steps(delays_ms, dt=0.1):
    return np.maximum(1, np.rint(np.asarray(delays_ms, dtype=float) / dt)).astype(int)


@pytest.mark.parametrize("backend,threads", RUNS)
def test_values_read_back_from_the_module(backend, threads):
    net, ring, uniform = build(threads)
    before = originals(ring, uniform)
    net.compile(backend=backend)
    for proj in (ring, uniform):
        w, d = before[proj.name]
        c = proj.connectivity
        assert isinstance(c.weights, CompiledValues) and c.weights.shape == w.shape
        assert np.array_equal(np.asarray(c.weights), w)
        assert np.array_equal(np.concatenate(proj.w), w)
        if np.ndim(d):
            assert isinstance(c.delays, CompiledValues)
            assert np.array_equal(steps(c.delays), steps(d))
            assert np.array_equal(steps(np.concatenate(proj.delay)), steps(d))
        else:
            assert c.delays == d
    assert np.array_equal(ring.connectivity_matrix(), ring.connectivity.dense())


def test_the_users_arrays_are_freed():
    net, ring, _ = build()
    w_ref, d_ref = weakref.ref(ring.connectivity.weights), weakref.ref(ring.connectivity.delays)
    net.compile()
    gc.collect()
    assert w_ref() is None and d_ref() is None


def test_files_and_state_after_compile(tmp_path):
    net, ring, _ = build()
    w, d = originals(ring)["ring"]
    net.compile()
    net.simulate(5.0)
    ring.save_connectivity(str(tmp_path / "ring.data"))
    copy = ann.Network(dt=0.1, seed=4)
    pop = copy.create(120, LIF, name="pop")
    again = copy.connect(pop, pop, "exc", name="ring").from_file(str(tmp_path / "ring.data"))
    assert np.array_equal(np.asarray(again.connectivity.weights), w)
    assert np.array_equal(steps(again.connectivity.delays), steps(d))
    ring.w = 0.5  # the state changes, not the compile-time values the views read
    assert np.array_equal(np.asarray(ring.connectivity.weights), w)
    net.reset(projections=True)
    assert np.array_equal(np.concatenate(ring.w), w)


def test_dendrite_delays_set_after_compile():
    net, ring, _ = build()
    d = originals(ring)["ring"][1]
    net.compile()
    row = ring.dendrite(ring.post_ranks[0])
    row.delay = 0.3
    expected = steps(d)
    expected[:ring.connectivity.row_ptr[1]] = 3
    assert np.array_equal(steps(np.concatenate(ring.delay)), expected)
    net.simulate(3.0)


def test_recompile_reads_the_previous_module_and_lets_it_go():
    net, ring, uniform = build()
    before = originals(ring, uniform)
    net.compile()
    old = weakref.ref(net.kernel_module)
    m = net.monitor(net.get_population("pop"), "v")  # after compile: the next simulate() recompiles
    net.simulate(2.0)
    gc.collect()
    assert old() is None and net.compile_report.get("rebuilds") == 1
    assert ring.connectivity.weights.km is net.kernel_module
    for proj in (ring, uniform):
        assert np.array_equal(np.asarray(proj.connectivity.weights), before[proj.name][0])
    assert np.array_equal(steps(ring.connectivity.delays), steps(before["ring"][1]))
    assert m.get("v").shape == (20, 120)


@register_pass
class FailAfterLowering(Pass):
    """Stands for any failure after the lowering (a platform pass, the backend)."""
    name = "test-fail-after-lowering"
    stage = "kernel"

    def run(self, module):
        raise AnnCompilerError("test-fail-after-lowering: failing on purpose")


def test_a_failed_compile_gives_arrays_back():
    net, ring, uniform = build()
    before = originals(ring, uniform)
    with pytest.raises(AnnCompilerError, match="on purpose"):
        net.compile(pipeline=DEFAULT_PIPELINE + ",test-fail-after-lowering")
    for proj in (ring, uniform):
        c = proj.connectivity
        assert type(c.weights) is np.ndarray and np.array_equal(c.weights, before[proj.name][0])
    assert type(ring.connectivity.delays) is np.ndarray
    assert np.array_equal(steps(ring.connectivity.delays), steps(before["ring"][1]))
    net.compile()  # the network is still usable
    net.simulate(2.0)
    assert np.array_equal(np.concatenate(ring.w), before["ring"][0])


def test_load_false_keeps_the_users_arrays():
    net, ring, _ = build()
    w, d = ring.connectivity.weights, ring.connectivity.delays
    net.compile(load=False)
    assert ring.connectivity.weights is w and ring.connectivity.delays is d


def test_same_spikes_as_a_network_that_kept_its_arrays():
    """A recompile lowers from the views: its simulation is the first compile's, bit for bit."""
    runs = []
    for recompile in (False, True):
        net, ring, _ = build(seed=5)
        if recompile:
            net.compile()
            net.monitor(net.get_population("pop"), "v")  # rebuilt at the next simulate
        m = net.monitor(net.get_population("pop"), "spike")
        if not recompile:
            net.compile()
        net.simulate(30.0)
        runs.append(m.get("spike"))
    assert runs[0] == runs[1] and sum(len(t) for t in runs[0].values()) > 0


# the live weights of a static projection are its compile-time values until the front end writes
def live_and_init(net, proj):
    handle = net.kernel_module.handles[(proj.name, "w")]
    return net._arrays[handle.array], net.kernel_module.arrays[handle.array].init


@pytest.mark.parametrize("backend,threads", RUNS)
def test_static_weights_held_once(backend, threads):
    net, ring, _ = build(threads)
    w = originals(ring)["ring"][0]
    net.compile(backend=backend)
    live, init = live_and_init(net, ring)
    assert live is init and not live.flags.writeable
    net.simulate(5.0)
    net.reset(projections=True)  # nothing written: nothing to restore, nothing copied
    assert live_and_init(net, ring)[1] is live
    assert np.array_equal(np.concatenate(ring.w), w)


@pytest.mark.parametrize("write", ["attribute", "dendrite", "load"])
def test_first_write_keeps_what_reset_restores(write, tmp_path):
    net, ring, _ = build()
    w = originals(ring)["ring"][0]
    net.compile()
    if write == "load":
        ring.w = 0.25
        ring.save(str(tmp_path / "ring.npz"))
        net.reset(projections=True)
        net, ring, _ = build()  # the same synapses (not the same weights: another draw)
        w = originals(ring)["ring"][0]
        net.compile()
        ring.load(str(tmp_path / "ring.npz"))
    elif write == "attribute":
        ring.w = 0.25
    else:
        ring.dendrite(ring.post_ranks[0]).w = 0.25
    live, init = live_and_init(net, ring)
    assert live is not init and live.flags.writeable
    assert np.array_equal(np.asarray(ring.connectivity.weights), w)  # the compile-time values, kept
    assert np.any(np.concatenate(ring.w) == 0.25)
    net.simulate(2.0)
    net.reset(projections=True)
    assert np.array_equal(np.concatenate(ring.w), w)


def test_learned_weights_are_not_shared():
    net = ann.Network(dt=0.1, seed=2)
    pop = net.create(50, LIF, name="pop")
    stdp = ann.Synapse(parameters="tau = 10.0", equations="tau * dx/dt = -x : event-driven",
                       pre_spike="g_target += w; x += 1.0", post_spike="w = clip(w + 0.01 * x, 0.0, 1.0)")
    proj = net.connect(pop, pop, "exc", stdp, name="plastic").fixed_probability(0.2, weights=0.05,
                                                                                force_multiple_weights=True)
    net.compile()
    live, init = live_and_init(net, proj)
    assert live is not init and live.flags.writeable
    net.simulate(60.0)
    assert not np.all(np.concatenate(proj.w) == 0.05)
    net.reset(projections=True)
    assert np.all(np.concatenate(proj.w) == 0.05)


def test_ring_delays_are_read_from_the_ring_offsets():
    """A projection through the rings of future input keeps no per-synapse delays besides its ring
    offsets: the front end reads them there, and delays set after compile survive a recompile."""
    net, ring, _ = build()
    d = originals(ring)["ring"][1]
    net.compile()
    assert "ring._delays" not in net.kernel_module.arrays
    assert ring.connectivity.delays.role == "ring_offset"
    assert np.array_equal(steps(ring.connectivity.delays), steps(d))
    row = ring.dendrite(ring.post_ranks[1])
    assert np.array_equal(steps(row.delay), steps(d[ring.connectivity.row_ptr[1]:ring.connectivity.row_ptr[2]]))
    new = np.where(np.arange(len(d)) % 2 == 0, 1.0, 0.5)
    ring.delay = new
    net.monitor(net.get_population("pop"), "v")  # recompiled at the next simulate
    net.simulate(3.0)
    assert net.compile_report.get("rebuilds") == 1
    assert np.array_equal(steps(np.concatenate(ring.delay)), steps(new))
    offsets = net._state("ring", "ring_offset")
    assert np.array_equal(np.asarray(offsets[np.arange(len(offsets))]) // 120 + 1, steps(new))


def test_arrays_no_kernel_uses_are_not_allocated():
    """``drop-unused-arrays`` (the llvm backend's last platform pass): a ring projection's 16-bit pre
    ranks, read by no kernel, are not allocated; the front end still has its connectivity, and the
    network runs as the reference backend (which keeps every array) runs it."""
    spikes = {}
    for backend in ("reference", "llvm"):
        net, ring, _ = build(seed=6)
        m = net.monitor(net.get_population("pop"), "spike")
        net.compile(backend=backend)
        km = net.kernel_module
        if backend == "llvm":
            assert "ring.pre_ranks" not in km.arrays and "ring.pre_ranks" not in net._arrays
            assert any(n.startswith("drop-unused-arrays") for n in km.notes)
        else:
            assert "ring.pre_ranks" in km.arrays
        assert ring.pre_ranks[0] == ring.connectivity.pre_ranks[:ring.connectivity.row_ptr[1]].tolist()
        net.simulate(30.0)
        spikes[backend] = m.get("spike")
    assert spikes["reference"] == spikes["llvm"] and sum(map(len, spikes["llvm"].values())) > 0


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_rate_coded_weights_read_back(storage):
    """A rate-coded projection (a zero-filled dense matrix, or its CSR rows): the same values
    through the view, after a recompile and after reset()."""
    rate = ann.Neuron(equations="tau = 5.0 : population\ntau * dr/dt = sum(exc) - r + 0.5", name="Rate_values")
    net = ann.Network(dt=1.0, seed=8)
    pop = net.create(40, rate, name="rates")
    proj = net.connect(pop, pop, "exc", name="rec").fixed_probability(
        0.3, weights=ann.Uniform(-0.05, 0.05), storage_format=storage)
    w = np.array(proj.connectivity.weights)
    net.compile()
    assert np.array_equal(np.asarray(proj.connectivity.weights), w)
    assert np.array_equal(np.concatenate(proj.w), w)
    proj.w = 0.01
    net.monitor(pop, "r")  # recompiled at the next simulate, from the compile-time values
    net.simulate(5.0)
    assert np.all(np.concatenate(proj.w) == 0.01)
    assert np.array_equal(np.asarray(proj.connectivity.weights), w)
    net.reset(projections=True)
    assert np.array_equal(np.concatenate(proj.w), w)


@pytest.mark.parametrize("kind", ["spiking", "rate"])
def test_the_users_own_array_is_never_the_state(kind):
    """Weights given as the user's own numpy array: compiling neither makes it read-only nor
    lets later changes to it reach the simulation."""
    net = ann.Network(dt=1.0, seed=9)
    if kind == "spiking":
        pop = net.create(30, LIF, name="pop")
    else:
        pop = net.create(30, ann.Neuron(equations="dr/dt = sum(exc) - r", name="Rate_own"), name="pop")
    proj = net.connect(pop, pop, "exc", name="own").fixed_probability(0.3, weights=0.0, force_multiple_weights=True)
    mine = np.linspace(0.0, 0.1, proj.nb_synapses)
    proj.w = mine
    net.compile()
    assert mine.flags.writeable
    mine[:] = 7.0
    assert np.array_equal(np.concatenate(proj.w), np.linspace(0.0, 0.1, proj.nb_synapses))
