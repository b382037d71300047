"""Ring projections (per-synapse spiking delays into rings of future input) with their weights in
out-synapse order (``passes/lowering/outgoing.py`` without padding): the emission reads ``w[q]``
and ``ring_offset[q]``, no inverse index.  Checked bit for bit against the same model kept on the
inverse index (a ``postsynaptic`` factor of 1.0: ``w * 1.0`` is ``w``, but a semiglobal attribute
needs the row of each synapse), with weights and delays written after compile, on every backend
and thread count."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.ir.kernel import Load, stmt_exprs, walk_expr, walk_stmts

N_SRC, N_A = 10, 8
INTEGRATOR = ann.Neuron(equations="dv/dt = g_exc", spike="v > 2.0", reset="v = 0.0", name="Integrator")
OUT_SYNAPSE = ann.Synapse(pre_spike="g_target += w", name="Plain")
INVERSE = ann.Synapse(parameters="one = 1.0 : postsynaptic", pre_spike="g_target += w * one", name="Semiglobal")
SRC_TIMES = [sorted({float(t) for t in np.random.default_rng(40 + j).integers(0, 20, 4)}) for j in range(N_SRC)]


def connectivity(seed, n_post, n_pre, max_steps, density):
    rng = np.random.default_rng(seed)
    present = rng.random((n_post, n_pre)) < density
    present[:, 0] = False  # a pre neuron without synapses
    weights = rng.uniform(0.05, 0.7, (n_post, n_pre))
    delays = rng.integers(1, max_steps + 1, (n_post, n_pre)).astype(float)
    return present, weights, delays


FEED = connectivity(3, N_A, N_SRC, 5, 0.6)
LOOP = connectivity(4, N_A, N_A, 4, 1.0)  # every other pre neuron onto every post neuron


def lists(present, values):
    """Per-dendrite lists (post-major order) of ``values`` where there is a synapse."""
    return [[float(values[i, j]) for j in np.flatnonzero(present[i])] for i in range(present.shape[0])]


def matrix(present, weights):
    return [[float(weights[i, j]) if present[i, j] else None for j in range(weights.shape[1])]
            for i in range(weights.shape[0])]


def build(synapse, backend="llvm", threads=1):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    src = net.create(ann.SpikeSourceArray(SRC_TIMES), name="src")
    a = net.create(N_A, INTEGRATOR, name="A")
    for pre, (present, w, d), name in ((src, FEED, "feed"), (a, LOOP, "loop")):
        net.connect(pre, a, "exc", synapse, name=name).from_matrix(matrix(present, w), delays=d)
    m = net.monitor(a, ["spike", "g_exc"])
    net.compile(backend=backend, silent=True)
    return net, m


def emission_loads(net, projection):
    kernel = next(k for k in net.kernel_module.kernels if k.name == f"project_{projection}")
    return {x.array for s in walk_stmts(kernel.body) for e in stmt_exprs(s) for x in walk_expr(e)
            if isinstance(x, Load)}


def scenario(net, m):
    """Weights and delays written after compile, while spikes are in flight."""
    loop, feed = net.get_projection("loop"), net.get_projection("feed")
    net.simulate(12)
    feed.w = lists(FEED[0], FEED[1] * 1.5)
    net.simulate(6)
    new = np.where(LOOP[2] > 2, LOOP[2] - 2, LOOP[2] + 1)
    loop.delay = lists(LOOP[0], new)
    loop.w = lists(LOOP[0], LOOP[1][::-1])
    net.simulate(22)
    cells = (new.astype(np.int64) - 1) * N_A + np.arange(N_A)[:, None]  # the ring cell of (post, pre)
    stored = np.asarray(net._arrays["loop.ring_offset"])  # out-synapse order: by pre, then post
    assert np.array_equal(stored, cells.T[LOOP[0].T])
    return m.get("g_exc"), {int(k): list(v) for k, v in m.get("spike").items()}, loop.w, loop.delay


@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_ring_projections_read_their_weights_in_out_synapse_order(backend):
    net, _ = build(OUT_SYNAPSE, backend)
    arrays = net.kernel_module.arrays
    for name in ("feed", "loop"):
        assert "A._delay_ring_exc" in arrays and f"{name}.inv_dptr" not in arrays
        assert not {f"{name}.inv_syn", f"{name}.inv_row", f"{name}.out_post", f"{name}.out_base"} & set(arrays)
        assert emission_loads(net, name) >= {f"{name}.w", f"{name}.ring_offset"}
        assert not any(a.startswith(f"{name}.inv_syn") or a.startswith(f"{name}.inv_row")
                       for a in emission_loads(net, name))
    # the storage holds each pre neuron's synapses together; the user sees the post-major order
    present, w, _ = FEED
    stored = np.asarray(net._arrays["feed.w"])[:int(present.sum())]
    assert np.array_equal(stored, w.T[present.T])
    assert net.get_projection("feed").w == lists(present, w)
    old, _ = build(INVERSE, backend)
    assert {"feed.inv_syn", "loop.inv_syn"} <= set(old.kernel_module.arrays)  # the comparison's old path
    assert "A._delay_ring_exc" in old.kernel_module.arrays


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 1), ("llvm", 2), ("llvm", 3)])
def test_weights_and_delays_written_after_compile_give_the_inverse_index_bits(backend, threads):
    want = scenario(*build(INVERSE, "reference"))
    got = scenario(*build(OUT_SYNAPSE, backend, threads))
    assert sum(len(s) for s in want[1].values()) > 10
    assert np.array_equal(got[0], want[0]) and got[1] == want[1]
    assert got[2] == want[2] == lists(LOOP[0], LOOP[1][::-1])
    assert got[3] == want[3]


def test_save_and_load_keep_the_out_synapse_weights(tmp_path):
    net, m = build(OUT_SYNAPSE, "llvm", 2)
    net.simulate(10)
    net.get_projection("loop").w = lists(LOOP[0], LOOP[1] * 0.5)
    net.save(str(tmp_path / "state.npz"))
    m.get()
    net.simulate(15)
    first = m.get("g_exc")
    net.get_projection("loop").w = 0.0
    net._state("A", "delay_ring:exc")[...] = 0.0
    net.load(str(tmp_path / "state.npz"))
    assert net.get_projection("loop").w == lists(LOOP[0], LOOP[1] * 0.5)
    net.simulate(15)
    assert np.array_equal(m.get("g_exc"), first)
