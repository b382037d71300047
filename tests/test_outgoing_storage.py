"""Spike propagation through the out-synapse (pre-major) storage (passes/lowering/outgoing.py):
the conductances equal a numpy re-implementation of the discrete update (spikes in list order,
then ascending post rank within a spike) bit for bit on every backend and thread count, and the
weights the user sees (proj.w, dendrites, monitors, save/load, reset) keep the post-major order."""
import warnings

import numpy as np
import pytest

import anncompiler as ann

RUNS = [("reference", 1), ("llvm", 1), ("llvm", 2), ("llvm", 3)]
#: a post neuron whose conductances hold the input of one step (reset at each step)
CELL = ann.Neuron(parameters="tau = 1000.0", equations="tau * dv/dt = -v + g_exc - g_inh\ng_exc = 0\ng_inh = 0",
                  spike="v > 1e9", reset="v = 0", name="Holder")
STEPS = 12


def spike_times(n, seed=3):
    """Spike times (ms, dt = 1) of ``n`` sources, several sources at most steps."""
    rng = np.random.default_rng(seed)
    return [sorted(float(t) for t in rng.choice(STEPS - 2, size=int(rng.integers(1, 6)), replace=False))
            for _ in range(n)]


def weights(rng, shape):
    """Weights of very different magnitudes: a sum in another order would differ in its last bits."""
    return rng.uniform(0.1, 1.0, shape) * 10.0 ** rng.integers(-3, 4, shape)


def simulate(connect, backend="llvm", threads=1, n_pre=30, n_post=25, after_compile=None, steps=STEPS):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    times = spike_times(n_pre)
    src = net.create(ann.SpikeSourceArray(times))
    post = net.create(n_post, CELL)
    projections = connect(net, src, post)
    m = net.monitor(post, ["g_exc", "g_inh"])
    net.compile(backend=backend, silent=True)
    if after_compile is not None:
        after_compile(net, projections)
    net.simulate(steps)
    return net, projections, times, m.get("g_exc"), m.get("g_inh")


def expected(projections, times, n_post, delay=1, steps=STEPS, fused=False):
    """g of each target at each step: for each step, the spikes in ascending rank, then each
    spike's synapses in ascending post rank (``fused``: the projections as one, whose synapses
    of one pair of neurons keep the order of the projections)."""
    g = {"exc": np.zeros((steps, n_post)), "inh": np.zeros((steps, n_post))}
    groups = [projections] if fused else [[p] for p in projections]
    for group in groups:
        target = group[0].target
        out = sorted((pre, post, k, w) for k, proj in enumerate(group)
                     for post, pres, ws in zip(proj.post_ranks, proj.pre_ranks, proj.w) for pre, w in zip(pres, ws))
        for s in range(steps - delay):
            for j in (j for j, ts in enumerate(times) if float(s) in ts):
                for pre, post, _, w in out:
                    if pre == j:
                        g[target][s + delay, post] += w
    return g["exc"], g["inh"]


def layout(net, owner):
    """How projection ``owner`` (a Projection or an array prefix) propagates: 'index'
    (``out_post``), 'consecutive' (``out_base``) or 'inverse' (``inv_syn``)."""
    name = getattr(owner, "name", owner)
    arrays = {a.rsplit(".", 1)[1] for a in net.kernel_module.arrays if a.startswith(f"{name}.")}
    return "consecutive" if "out_base" in arrays else "index" if "out_post" in arrays else "inverse"


def layouts(net) -> dict:
    """Every spiking projection (fused ones under their merged name): its layout."""
    owners = {h.array[:-len(".w")] for (_, role), h in net.kernel_module.handles.items() if role == "w"}
    return {o: layout(net, o) for o in sorted(owners)}


def fixed_probability(net, src, post):
    rng = np.random.default_rng(5)
    w = np.where(rng.random((25, 30)) < 0.3, weights(rng, (25, 30)), np.nan)
    return [net.connect(src, post, "exc").from_matrix(np.where(np.isnan(w), None, w).astype(object))]


def all_to_all(net, src, post):
    return [net.connect(src, post, "exc").all_to_all(weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))]


def one_to_one(net, src, post):
    return [net.connect(src[:25], post, "exc").one_to_one(weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))]


def views(net, src, post):
    return [net.connect(src[4:19], post[3:20], "exc").fixed_probability(0.5, weights=ann.Uniform(
                0.0, 2.0, rng=net.default_rng)),
            net.connect(src[10:30], post[5:15], "inh").all_to_all(weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))]


def fused(net, src, post):
    """Two projections with the same pre, post and target: merged into one (fuse-connectivity)."""
    return [net.connect(src[:15], post, "exc").fixed_probability(0.4, weights=ann.Uniform(0.0, 2.0, rng=net.default_rng)),
            net.connect(src[:15], post, "exc").fixed_probability(0.4, weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))]


CASES = {"fixed_probability": (fixed_probability, ["index"]), "all_to_all": (all_to_all, ["consecutive"]),
         "one_to_one": (one_to_one, ["consecutive"]), "views": (views, ["consecutive", "index"]),
         "fused": (fused, ["index"])}


@pytest.mark.parametrize("backend,threads", RUNS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_propagation_equals_numpy(case, backend, threads):
    connect, want = CASES[case]
    net, projections, times, g_exc, g_inh = simulate(connect, backend, threads)
    want_exc, want_inh = expected(projections, times, 25, fused=case == "fused")
    assert np.any(want_exc) and np.array_equal(g_exc, want_exc) and np.array_equal(g_inh, want_inh)
    found = layouts(net)
    assert sorted(found.values()) == want
    assert ("+" in next(iter(found))) == (case == "fused")


@pytest.mark.parametrize("backend,threads", RUNS)
def test_all_to_all_without_self_connections_is_padded(backend, threads):
    """Recurrent all-to-all (no self-connections): one missing synapse per pre neuron, padded with
    w = -0.0 (``+=``) or +0.0 (``-=``), neither of which changes a bit of g."""
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    pop = net.create(20, ann.Neuron(equations="v = g_exc - g_inh\ng_exc = 0\ng_inh = 0", spike="v > 0.5",
                                    name="Hold"))
    driver = net.create(ann.SpikeSourceArray(spike_times(20)))
    net.connect(driver, pop, "exc").one_to_one(weights=1.0)
    minus = ann.Synapse(parameters="w = 0.0", pre_spike="g_target -= w", name="Minus")
    rec = net.connect(pop, pop, "exc").all_to_all(weights=ann.Uniform(-1.0, 2.0, rng=net.default_rng))
    neg = net.connect(pop, pop, "inh", minus).all_to_all(weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))
    m = net.monitor(pop, ["g_exc", "g_inh", "spike"])
    net.compile(backend=backend, silent=True)
    assert layout(net, rec) == "consecutive" and layout(net, neg) == "consecutive"
    assert net.kernel_module.arrays[f"{rec.name}.w"].size == 20 * 19 + 18  # no gap inside the rows of 0 and 19
    w = np.array(net.kernel_module.handles[(rec.name, "w")].index)
    assert len(w) == 20 * 19 and np.array_equal(rec.connectivity_matrix().diagonal(), np.zeros(20))
    # pre 0's slots are posts 1 .. 19; pre 1's from slot 19: posts 0 .. 19, itself (slot 20) padded
    padding = [net.kernel_module.arrays[f"{p.name}.w"].init[20] for p in (rec, neg)]
    assert padding == [0.0, 0.0] and list(np.signbit(padding)) == [True, False]
    net.simulate(STEPS)
    # the recurrent input of step s: the spikes of pop at s - 1 through rec (exc) and neg (inh)
    data = m.get()
    spikes, g_exc, g_inh = data["spike"], data["g_exc"], data["g_inh"]
    W, N = rec.connectivity_matrix(), neg.connectivity_matrix()
    drive = np.zeros((STEPS, 20))
    for j, ts in enumerate(spike_times(20)):
        for t in ts:
            if t + 1 < STEPS:
                drive[int(t) + 1, j] += 1.0
    for s in range(1, STEPS):
        exc, inh = drive[s].copy(), np.zeros(20)
        for j in sorted(k for k, ts in spikes.items() if s - 1 in ts):
            for i in range(20):
                if i != j:
                    exc[i] += W[i, j]
                    inh[i] -= N[i, j]
        assert np.array_equal(g_exc[s], exc) and np.array_equal(g_inh[s], inh)
    assert sum(len(ts) for ts in spikes.values()) > 10


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_uniform_delays(backend, threads):
    def connect(net, src, post):
        return [net.connect(src, post, "exc").all_to_all(weights=ann.Uniform(0.0, 2.0, rng=net.default_rng),
                                                          delays=3.0),
                net.connect(src, post, "inh").fixed_probability(0.3, weights=ann.Uniform(
                    0.0, 2.0, rng=net.default_rng), delays=2.0)]
    net, projections, times, g_exc, g_inh = simulate(connect, backend, threads)
    want_exc, _ = expected(projections[:1], times, 25, delay=3)
    _, want_inh = expected(projections[1:], times, 25, delay=2)
    assert np.any(want_exc) and np.array_equal(g_exc, want_exc) and np.array_equal(g_inh, want_inh)
    assert [layout(net, p) for p in projections] == ["consecutive", "index"]


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 1), ("llvm", 3)])
def test_weights_written_after_compile_change_the_propagation(backend, threads):
    rng = np.random.default_rng(9)
    new = {}

    def rewrite(net, projections):
        fp, a2a = projections
        before = [np.array(p.connectivity_matrix()) for p in projections]
        assert np.array_equal(before[1], np.array(a2a.connectivity_matrix()))
        new["fp"] = [list(weights(rng, len(ws))) for ws in fp.w]
        fp.w = new["fp"]
        a2a.dendrite(a2a.post_ranks[2]).w = 7.5
        a2a.dendrite(a2a.post_ranks[3]).w = list(np.arange(len(a2a.pre_ranks[3]), dtype=float))
        assert [list(x) for x in fp.w] == new["fp"]
        assert a2a.dendrite(a2a.post_ranks[2]).w == [7.5] * len(a2a.pre_ranks[2])

    def connect(net, src, post):
        return [net.connect(src, post, "exc").fixed_probability(0.3, weights=ann.Uniform(0.0, 2.0, rng=net.default_rng)),
                net.connect(src, post, "inh").all_to_all(weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))]
    net, projections, times, g_exc, g_inh = simulate(connect, backend, threads, after_compile=rewrite)
    fp, a2a = projections
    assert [list(x) for x in fp.w] == new["fp"] and a2a.w[3] == list(np.arange(len(a2a.pre_ranks[3]), dtype=float))
    want_exc, want_inh = expected(projections, times, 25)
    assert np.array_equal(g_exc, want_exc) and np.array_equal(g_inh, want_inh)


def test_read_back_before_and_after_compile_reset_and_synapse():
    net = ann.Network(dt=1.0, seed=2)
    src = net.create(ann.SpikeSourceArray(spike_times(30)))
    post = net.create(25, CELL)
    proj = net.connect(src, post, "exc").fixed_probability(0.3, weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))
    before = [list(w) for w in proj.w]
    matrix = proj.connectivity_matrix()
    net.compile(silent=True)
    assert layout(net, proj) == "index"
    assert [list(w) for w in proj.w] == before and np.array_equal(proj.connectivity_matrix(), matrix)
    post_rank, pre_rank = proj.post_ranks[4], proj.pre_ranks[4][1]
    assert proj.synapse(pre_rank, post_rank).w == before[4][1]
    proj.w = 0.25
    net.simulate(3)
    net.reset(projections=True)  # the weights of the compile, each at its own synapse
    assert [list(w) for w in proj.w] == before


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_save_load_round_trip(tmp_path, backend, threads):
    def connect(net, src, post):
        return [net.connect(src, post, "exc").fixed_probability(0.3, weights=ann.Uniform(0.0, 2.0, rng=net.default_rng)),
                net.connect(src, post, "inh").all_to_all(weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))]
    net, projections, times, _, _ = simulate(connect, backend, threads, steps=1)
    saved = [[list(w) for w in p.w] for p in projections]
    path = str(tmp_path / "state.npz")
    net.save(path)
    for p in projections:
        p.w = 0.0
    net.load(path)
    assert [[list(w) for w in p.w] for p in projections] == saved
    for p, w in zip(projections, saved):
        p.w = 0.0
        p.save(str(tmp_path / f"{p.name}.npz"))
        p.w = w
        assert [list(x) for x in p.w] == w
        p.load(str(tmp_path / f"{p.name}.npz"))
        assert all(x == 0.0 for ws in p.w for x in ws)


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_projection_monitor_of_w(backend, threads):
    rng = np.random.default_rng(4)
    values = {}

    def connect(net, src, post):
        proj = net.connect(src, post, "exc").fixed_probability(0.3, weights=ann.Uniform(0.0, 2.0, rng=net.default_rng))
        with warnings.catch_warnings():  # recording every synapse at every step is heavy: yes
            warnings.simplefilter("ignore")
            values["m"] = net.monitor(proj, "w")
        values["d"] = net.monitor(proj.dendrite(proj.post_ranks[3]), "w")
        return [proj]

    def rewrite(net, projections):
        values["w"] = [list(weights(rng, len(ws))) for ws in projections[0].w]
        projections[0].w = values["w"]
    net, (proj,), _, _, _ = simulate(connect, backend, threads, after_compile=rewrite, steps=3)
    assert layout(net, proj) == "index"
    recorded = values["m"].get("w")
    assert len(recorded) == 3
    for row in recorded:
        assert [list(x) for x in row] == values["w"]
    assert all(list(row) == values["w"][3] for row in values["d"].get("w"))


def test_plastic_weights_keep_the_inverse_index():
    net = ann.Network(dt=1.0, seed=2)
    src = net.create(ann.SpikeSourceArray(spike_times(10)))
    post = net.create(5, CELL)
    stdp = net.connect(src, post, "exc", ann.STDP()).all_to_all(weights=0.5)
    grow = net.connect(src, post, "inh", ann.Synapse(parameters="w = 0.0", equations="x = x + 1",
                                                     pre_spike="g_target += w * x", name="Grow")).all_to_all(weights=0.5)
    static = net.connect(src, post, "inh").all_to_all(weights=0.5)
    net.compile(silent=True)
    assert layout(net, stdp) == "inverse" and layout(net, grow) == "inverse" and layout(net, static) == "consecutive"


def test_decision_is_in_the_kernel_dump():
    net = ann.Network(dt=1.0, seed=2)
    pop = net.create(40, CELL)
    net.connect(pop, pop, "exc").all_to_all(weights=ann.Uniform(0.0, 1.0, rng=net.default_rng))
    net.connect(pop, pop, "inh").fixed_probability(0.5, weights=0.3)
    net.compile(silent=True)
    docs = sorted(k.doc for k in net.kernel_module.kernels if k.name.startswith("project_"))
    assert docs[0].endswith("storage out-synapse order (w read only here; consecutive post ranks, 38 padded)")
    assert docs[1].endswith("storage out-synapse order (no per-synapse array; post ranks in out_post)")


def test_cuda_rendering_gives_the_reference_bits(tmp_path):
    """The rendered CUDA C (NVRTC compiles it; the host stand-in runs it) of both layouts, with a
    padded recurrent all-to-all: the reference interpreter's bits."""
    pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
    import shutil
    if shutil.which("g++") is None:
        pytest.skip("no host C++ compiler")
    from test_cuda_host import assert_bitwise, run_host, run_reference
    from test_cuda_render import emit, kernel_module

    def build():
        net = ann.Network(dt=1.0, seed=3)
        pop = net.create(40, ann.Neuron(equations="v = g_exc - g_inh + 0.2 * Uniform(0, 1)\ng_exc = 0\ng_inh = 0",
                                        spike="v > 0.15", name="Hold"))
        net.connect(pop, pop, "exc").all_to_all(weights=ann.Uniform(0.0, 0.02, rng=net.default_rng))
        net.connect(pop[:30], pop[5:], "inh").fixed_probability(0.3, weights=ann.Uniform(0.0, 0.05, rng=net.default_rng))
        net.monitor(pop, "spike")
        return net
    km, neutral = kernel_module(build()), kernel_module(build(), mapped=False)
    assert sorted(a.rsplit(".", 1)[1] for a in neutral.arrays if a.rsplit(".", 1)[1] in ("out_base", "out_post")) \
        == ["out_base", "out_post"]
    emit(km)  # NVRTC compiles it
    got, _ = run_host(km, tmp_path, 30)
    want, _ = run_reference(neutral, 30)
    assert_bitwise(got, want, neutral.arrays)
    assert want["monitor0._n_spikes"][0] > 100  # the recurrent input mattered


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_other_synaptic_parameters_read_by_the_propagation(backend, threads):
    """``g_target += w * c``, c per synapse (reordered with the weights), w per projection."""
    syn = ann.Synapse(parameters="w = 0.5 : projection\nc = 1.0", pre_spike="g_target += w * c", name="Scaled")
    rng = np.random.default_rng(8)
    c = {}

    def connect(net, src, post):
        proj = net.connect(src, post, "exc", syn).fixed_probability(0.4, weights=0.75)
        proj.c = ann.Uniform(0.0, 3.0, rng=net.default_rng)
        return [proj]

    def rewrite(net, projections):
        c["new"] = [list(weights(rng, len(x))) for x in projections[0].c]
        projections[0].c = c["new"]
    net, (proj,), times, g_exc, _ = simulate(connect, backend, threads, after_compile=rewrite)
    assert layout(net, proj) == "index" and [list(x) for x in proj.c] == c["new"]
    want = np.zeros((STEPS, 25))
    out = sorted((pre, post, x) for post, pres, xs in zip(proj.post_ranks, proj.pre_ranks, c["new"])
                 for pre, x in zip(pres, xs))
    for s in range(STEPS - 1):
        for j in (j for j, ts in enumerate(times) if float(s) in ts):
            for pre, post, x in out:
                if pre == j:
                    want[s + 1, post] += 0.75 * x
    assert np.any(want) and np.array_equal(g_exc, want)


def test_post_ranks_are_16_bits_on_the_cpu():
    """cpu-narrow-ranks stores ``out_post`` as u16 when the post population has at most 65536
    neurons (the reference backend runs the neutral module: i32)."""
    from anncompiler.ir.types import I32, U16
    dtypes = {}
    for backend in ("llvm", "reference"):
        net, (proj,), _, _, _ = simulate(fixed_probability, backend, steps=1)
        dtypes[backend] = net.kernel_module.arrays[f"{proj.name}.out_post"].dtype
    assert dtypes == {"llvm": U16, "reference": I32}
