"""Per-synapse spiking delays through the rings of future input of the post population
(``passes/lowering/delay_rings.py``): each spike adds ``w`` at emission to the slot of the step it
is due; each neuron adds that step's slot to ``g_target`` once.  Checked bit for bit against a
numpy re-implementation of that order, on every backend and thread count, with delays changed
after compile, save/load, reset and a disabled post-synaptic population."""
from collections import defaultdict

import numpy as np
import pytest

import anncompiler as ann

N_SRC, N_A, STEPS, THRESHOLD = 12, 9, 40, 2.0
INTEGRATOR = ann.Neuron(equations="dv/dt = g_exc", spike=f"v > {THRESHOLD}", reset="v = 0.0", name="Integrator")
RUNS = [("reference", 1), ("llvm", 1), ("llvm", 2), ("llvm", 3)]


def connectivity(seed, n_post, n_pre, max_steps):
    """Weights (None: no synapse) with last bits that make the order of a sum matter, and
    delays of 1 to ``max_steps`` steps (dt = 1 ms)."""
    rng = np.random.default_rng(seed)
    present = rng.random((n_post, n_pre)) < 0.6
    weights = rng.uniform(0.05, 0.7, (n_post, n_pre))
    delays = rng.integers(1, max_steps + 1, (n_post, n_pre)).astype(float)
    return present, weights, delays


SRC_TIMES = [sorted({int(t) for t in np.random.default_rng(10 + j).integers(0, 25, 4)}) for j in range(N_SRC)]
FEED = connectivity(1, N_A, N_SRC, 6)
LOOP = connectivity(2, N_A, N_A, 4)


def as_matrix(present, weights):
    return [[float(weights[i, j]) if present[i, j] else None for j in range(weights.shape[1])]
            for i in range(weights.shape[0])]


def build(backend="llvm", threads=1, synapse=None, loop_delays=None):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    src = net.create(ann.SpikeSourceArray([[float(t) for t in times] for times in SRC_TIMES]), name="src")
    a = net.create(N_A, INTEGRATOR, name="A")
    present, w, d = FEED
    net.connect(src, a, "exc", synapse, name="feed").from_matrix(as_matrix(present, w), delays=d)
    present, w, d = LOOP
    net.connect(a, a, "exc", synapse, name="loop").from_matrix(as_matrix(present, w),
                                                               delays=d if loop_delays is None else loop_delays)
    m = net.monitor(a, ["spike", "g_exc"])
    net.compile(backend=backend)
    return net, m


class Emulation:
    """The ring semantic in numpy: values due at step ``t`` summed from 0 in emission order
    (step, then projection, then pre rank), then added to the conductance (0 at each step)."""

    def __init__(self):
        self.pending = defaultdict(lambda: np.zeros(N_A))
        self.v, self.t, self.fired = np.zeros(N_A), 0, []
        self.g, self.spikes = [], defaultdict(list)
        self.loop_delays = LOOP[2]

    def run(self, steps):
        for _ in range(steps):
            t = self.t
            src_fired = [j for j in range(N_SRC) if t - 1 in SRC_TIMES[j]]
            for (present, w, _), d, fired in ((FEED, FEED[2], src_fired), (LOOP, self.loop_delays, self.fired)):
                for j in fired:
                    for i in np.flatnonzero(present[:, j]):
                        self.pending[t - 1 + int(d[i, j])][i] += w[i, j]
            g = 0.0 + self.pending.pop(t, np.zeros(N_A))
            self.v = g * 1.0 + self.v
            spiking = self.v > THRESHOLD
            self.v[spiking] = 0.0
            self.fired = list(np.flatnonzero(spiking))
            for i in self.fired:
                self.spikes[int(i)].append(t)
            self.g.append(g)
            self.t += 1
        return self


def spikes_of(m):
    return {int(k): [int(s) for s in v] for k, v in m.get("spike").items() if len(v)}


@pytest.mark.parametrize("backend,threads", RUNS)
def test_rings_follow_the_numpy_order(backend, threads):
    net, m = build(backend, threads)
    assert "A._delay_ring_exc" in net.kernel_module.arrays  # both projections feed one ring
    assert "loop.inv_dptr" not in net.kernel_module.arrays
    net.simulate(STEPS)
    want = Emulation().run(STEPS)
    assert sum(len(s) for s in want.spikes.values()) > 15
    assert np.array_equal(m.get("g_exc"), np.array(want.g))
    assert spikes_of(m) == dict(want.spikes)


@pytest.mark.parametrize("backend,threads", RUNS)
def test_new_delays_apply_to_the_spikes_emitted_after(backend, threads):
    """Spikes already in a ring keep the delay they left with."""
    net, m = build(backend, threads)
    net.simulate(15)
    new = np.where(LOOP[2] > 2, LOOP[2] - 2, LOOP[2] + 2)
    loop = net.get_projection("loop")
    loop.delay = [[float(new[i, j]) for j in np.flatnonzero(LOOP[0][i])] for i in range(N_A)]
    net.simulate(STEPS - 15)
    want = Emulation().run(15)
    want.loop_delays = new
    want.run(STEPS - 15)
    assert np.array_equal(m.get("g_exc"), np.array(want.g))
    assert spikes_of(m) == dict(want.spikes)
    with pytest.raises(ann.InvalidValueError, match="longer than the maximum"):
        loop.delay = 9.0


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 2)])
def test_save_and_load_keep_the_spikes_in_flight(tmp_path, backend, threads):
    net, m = build(backend, threads)
    net.simulate(12)
    ring = net._state("A", "delay_ring:exc")
    assert np.count_nonzero(ring) > 0  # spikes in flight
    net.save(str(tmp_path / "state.npz"))
    m.get()  # what was recorded before the save
    net.simulate(20)
    first = (m.get("g_exc"), spikes_of(m))
    ring[...] = 0.0
    net.load(str(tmp_path / "state.npz"))
    net.simulate(20)
    again = (m.get("g_exc"), spikes_of(m))
    assert np.array_equal(first[0], again[0]) and first[1] == again[1]


def test_reset_empties_the_rings():
    net, m = build()
    net.simulate(12)
    assert np.count_nonzero(net._state("A", "delay_ring:exc")) > 0
    net.reset()
    assert np.count_nonzero(net._state("A", "delay_ring:exc")) == 0
    net.simulate(STEPS)
    assert np.array_equal(m.get("g_exc"), np.array(Emulation().run(STEPS).g))


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 3)])
def test_a_disabled_population_drops_what_is_due_meanwhile(backend, threads):
    """Values due while the post population is disabled are dropped; those due after enable()
    arrive on time (as spikes read from the pre-synaptic ring of past spike lists)."""
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    src = net.create(ann.SpikeSourceArray([[1.0], [2.0]]))
    cell = ann.Neuron(equations="dv/dt = g_exc", spike="v > 1e9")
    post = net.create(2, cell)
    net.connect(src, post, "exc").from_matrix([[1.0, 2.0], [4.0, 8.0]], delays=[[2.0, 6.0], [4.0, 3.0]])
    m = net.monitor(post, "g_exc")
    net.compile(backend=backend)
    net.simulate(4)  # due: step 3 (1.0 -> 0), 5 (4.0 -> 1), 5 (8.0 -> 1), 8 (2.0 -> 0)
    post.disable()
    net.simulate(3)  # steps 4 .. 6: 12.0 is dropped
    post.enable()
    net.simulate(3)
    want = np.zeros((10, 2))
    want[3:7, 0] = 1.0  # kept while disabled (neither reset nor fed)
    want[8, 0] = 2.0
    assert np.array_equal(m.get("g_exc"), want)


@pytest.mark.parametrize("pre_spike,ring", [
    ("g_target += w", True),
    ("g_target += scale * w", True),
    ("g_target -= w", True),
    ("g_target += w\nw += 0.1", False),  # plastic: w at arrival
    ("g_target += w * (1.0 + post.v)", False),
    ("g_target += w : unless_post", False),
    ("g_target += w * t", False),
])
def test_the_rings_carry_what_cannot_change_in_flight(pre_spike, ring):
    """Rings for values fixed at emission; otherwise the index by delay, which reads the
    synapse when the spike arrives.  Both deliver the same values here."""
    synapse = ann.Synapse(parameters="scale = 1.0", pre_spike=pre_spike)
    net, m = build("llvm", 2, synapse)
    assert ("A._delay_ring_exc" in net.kernel_module.arrays) == ring
    assert ("feed.inv_dptr" in net.kernel_module.arrays) != ring
    net.simulate(10)
    g = m.get("g_exc")
    if pre_spike.endswith("w") and "-" not in pre_spike:
        np.testing.assert_allclose(g, np.array(Emulation().run(10).g), rtol=1e-12)
    assert np.count_nonzero(g) > 5


def test_a_monitor_added_mid_flight_recompiles_with_the_rings_as_they_are():
    net, m = build("llvm", 2)
    net.simulate(12)
    assert np.count_nonzero(net._state("A", "delay_ring:exc")) > 0
    late = net.monitor(net.get_population("A"), "v")
    net.simulate(STEPS - 12)
    want = Emulation().run(STEPS)
    assert np.array_equal(m.get("g_exc"), np.array(want.g)) and spikes_of(m) == dict(want.spikes)
    assert late.get("v").shape == (STEPS - 12, N_A)


def test_one_projection_into_two_targets_fills_both_rings():
    net = ann.Network(dt=1.0)
    src = net.create(ann.SpikeSourceArray([[0.0, 3.0], [1.0]]))
    cell = ann.Neuron(equations="dv/dt = g_a + g_b", spike="v > 1e9")
    post = net.create(2, cell)
    net.connect(src, post, ["a", "b"]).from_matrix([[1.0, 2.0], [4.0, None]], delays=[[2.0, 1.0], [3.0, 1.0]])
    m = net.monitor(post, ["g_a", "g_b"])
    net.compile()
    assert {"pop1._delay_ring_a", "pop1._delay_ring_b"} <= set(net.kernel_module.arrays)
    net.simulate(8)
    want = np.zeros((8, 2))
    want[[2, 5], 0] += 1.0  # src 0 at 0 and 3, 2 steps
    want[2, 0] += 2.0  # src 1 at 1, 1 step
    want[[3, 6], 1] += 4.0  # src 0, 3 steps
    assert np.array_equal(m.get("g_a"), want) and np.array_equal(m.get("g_b"), want)


def test_a_population_whose_delays_all_go_into_rings_keeps_no_past_spike_lists():
    net, _ = build()
    kernels = {k.name for k in net.kernel_module.kernels}
    assert "history_A" not in kernels and "A._spike_ring" not in net.kernel_module.arrays
    assert net.get_population("A").max_delay == 4 and net.get_population("src").max_delay == 6
