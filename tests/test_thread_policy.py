"""How many threads a network runs on (passes/platform/cpu_threads.py) and the serial kernels
that ride along with a parallel segment (passes/platform/cpu_riders.py).

``thread_policy="auto"`` (the default) lowers a network too small to gain from threads for one
thread whatever ``num_threads`` says; ``"always"`` keeps every thread asked for.  Either way the
results are the same bits.  (conftest.py makes "always" the tests' default through
``ANNC_THREAD_POLICY``; these tests name the policy they check.)
"""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import InvalidValueError
from anncompiler.passes.platform import cpu_threads
from anncompiler.ir.kernel import format_module

from test_multicore import assert_same, final_state


def lif_network(net, n):
    """A COBA-like spiking network of ``n`` neurons (80 excitatory in-synapses per neuron)."""
    lif = ann.Neuron(parameters="tau = 20.0\n I = 1.2",
                     equations=["tau * dv/dt = -v + I + g_exc - g_inh",
                                "5.0 * dg_exc/dt = -g_exc", "10.0 * dg_inh/dt = -g_inh"],
                     spike="v > 1.0", reset="v = 0.0", refractory=5.0, name="PolicyLIF")
    pop = net.create(n, lif)
    pop.v = net.default_rng.uniform(0.0, 1.0, n)
    p = min(1.0, 80.0 / n)
    net.connect(pop[:n * 4 // 5], pop, "exc").fixed_probability(p, weights=0.02)
    net.connect(pop[n * 4 // 5:], pop, "inh").fixed_probability(p, weights=0.1)
    return [net.monitor(pop, "spike")]


def compiled(build, threads, policy, backend="llvm", **kw):
    net = ann.Network(dt=0.1, seed=7)
    net.config(num_threads=threads, thread_policy=policy)
    monitors = build(net, **kw)
    net.compile(backend=backend)
    return net, monitors


def spikes(monitor):
    return {r: list(map(int, v)) for r, v in monitor.get("spike").items()}


def test_a_tiny_network_runs_on_one_thread_with_the_same_bits():
    auto, (m_auto,) = compiled(lif_network, 2, "auto", n=100)
    team, (m_team,) = compiled(lif_network, 2, "always", n=100)
    km = auto.kernel_module
    assert km.num_threads == 1 and not any(k.parallel for k in km.kernels)
    assert auto.compile_report["threads"] == 1
    assert any("too small to gain from threads" in n for n in km.notes)
    assert "// note: threads: 1 instead of 2" in format_module(km)
    assert team.kernel_module.num_threads == 2 and team.compile_report["threads"] == 2
    for net in (auto, team):
        net.simulate(50.0)
    assert_same(final_state(auto), final_state(team))
    got = spikes(m_auto)  # get() empties the monitor
    assert got == spikes(m_team) and sum(map(len, got.values())) > 0


def test_a_large_network_keeps_its_threads():
    net, _ = compiled(lif_network, 2, "auto", n=8000)
    km = net.kernel_module
    assert km.num_threads == 2 and any(k.parallel for k in km.kernels)
    assert net.compile_report["threads"] == 2
    assert any(n.startswith("threads: 2 partitions: estimated") for n in km.notes)


def test_the_estimate_grows_with_the_network_and_counts_the_waits():
    est = {}
    for n in (100, 1000):
        net = ann.Network(dt=0.1, seed=7)
        lif_network(net, n)
        net.config(num_threads=2, thread_policy="auto")
        net.compile()
        note = net.kernel_module.notes[0]
        est[n] = float(note.split("estimated ")[1].split(" ")[0])
        assert "(2 waits of" in note  # inputs + update, then the serial spike list
    assert est[1000] > 9 * est[100]


def test_the_environment_gives_the_default_policy(monkeypatch):
    monkeypatch.setenv("ANNC_THREAD_POLICY", "auto")
    net, _ = compiled(lif_network, 2, None, n=100)
    assert net.kernel_module.num_threads == 1
    net, _ = compiled(lif_network, 2, "always", n=100)  # the network's config wins
    assert net.kernel_module.num_threads == 2
    monkeypatch.setenv("ANNC_THREAD_POLICY", "sometimes")
    net = ann.Network(dt=0.1, seed=7)
    lif_network(net, 50)
    net.config(num_threads=2)
    with pytest.raises(InvalidValueError, match="thread_policy"):
        net.compile()
    monkeypatch.setenv("ANNC_THREAD_POLICY", "always")
    net.compile()  # still usable
    assert net.kernel_module.num_threads == 2


def test_a_bad_policy_is_refused_by_config():
    net = ann.Network(dt=0.1, seed=7)
    with pytest.raises(InvalidValueError, match="thread_policy"):
        net.config(thread_policy="never")
    with pytest.raises(InvalidValueError, match="thread_policy"):
        net.config(thread_policy=2)


def test_one_thread_asked_makes_no_estimate():
    net, _ = compiled(lif_network, 1, "auto", n=100)
    assert net.kernel_module.num_threads == 1
    assert not [n for n in net.kernel_module.notes if n.startswith("threads")]


def test_a_tighter_model_changes_only_the_choice(monkeypatch):
    """With free waits the model picks two threads for the tiny network: still the same bits."""
    monkeypatch.setattr(cpu_threads, "WAIT_COST", 0.0)
    net, (m,) = compiled(lif_network, 2, "auto", n=100)
    assert net.kernel_module.num_threads == 2
    ref, (m_ref,) = compiled(lif_network, 1, "auto", n=100)
    net.simulate(30.0)
    ref.simulate(30.0)
    assert_same(final_state(ref), final_state(net))
    assert spikes(m) == spikes(m_ref)


# --- serial kernels riding in a parallel segment ---------------------------------------------

def input_and_rate_network(net, n=60):
    """A rate network fed by a 2-neuron input whose (serial) update sits between the update of
    the rate population and the learning of its plastic synapses."""
    neuron = ann.Neuron(parameters="tau = 10.0",
                        equations=["tau * dx/dt + x = sum(in) + sum(exc) + 0.1 * Uniform(-1.0, 1.0)",
                                   "rprev = r", "r = tanh(x)"], name="RiderRate")
    synapse = ann.Synapse(parameters="eta = 0.01 : projection",
                          equations="trace += pre.rprev * post.r\n w += eta * 0.001 * trace",
                          name="RiderTrace")
    inp = net.create(ann.InputArray(2))
    pop = net.create(n, neuron)
    net.connect(inp, pop, "in").all_to_all(weights=ann.Uniform(-1.0, 1.0, rng=net.default_rng))
    proj = net.connect(pop, pop, "exc", synapse)
    proj.fixed_probability(0.2, weights=ann.Normal(0.0, 0.3, rng=net.default_rng))
    inp.r = np.array([1.0, -1.0])
    return [net.monitor(pop[:5], "r")]


def test_a_serial_update_rides_in_a_parallel_segment():
    net, _ = compiled(input_and_rate_network, 2, "always")
    kernels = net.kernel_module.kernels
    rider = next(k for k in kernels if k.name == "update_pop0")  # the InputArray
    assert rider.parallel and not rider.barrier and "in partition 0" in rider.doc
    segments = sum(1 for n, k in enumerate(kernels) if n == 0 or k.barrier or k.parallel != kernels[n - 1].parallel)
    # inputs | updates (the input's riding along) | learning | the monitor (serial, last)
    assert segments == 4
    assert [k.name for k in kernels if k.barrier] == ["update_pop1", "learn_proj1", "record_monitor0"]


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_riders_keep_the_bits_on_any_team(backend):
    results = []
    for threads in (1, 2, 3):
        net, (m,) = compiled(input_and_rate_network, threads, "always", backend=backend)
        net.simulate(20.0 if backend == "llvm" else 4.0)  # the interpreter is slow
        results.append((final_state(net), np.asarray(m.get("r"))))
    for state, r in results[1:]:
        assert_same(results[0][0], state)
        np.testing.assert_array_equal(results[0][1], r)


def crossing_lines(net) -> float:
    note = next(n for n in net.kernel_module.notes if n.startswith("threads:"))
    return float(note.split(", ")[-1].split(" cache lines")[0])


def test_the_model_counts_what_crosses_partitions():
    """A rate-coded sum reads r of every pre-synaptic neuron, which the other partition wrote
    (60 neurons: 480 bytes, half of them remote, in 64-byte lines); a spiking network's inputs
    stay in their partition."""
    rate, _ = compiled(input_and_rate_network, 2, "auto")
    spiking, _ = compiled(lif_network, 2, "auto", n=100)
    assert crossing_lines(spiking) == 0
    # r, read by the weighted sum, and rprev, read by the learning rule
    assert crossing_lines(rate) == pytest.approx(2 * 60 * 8 / 64 / 2)


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_that_leave_a_waiting_team_keep_the_bits(monkeypatch, threads):
    """A thread that waits too long leaves the team (backends/llvm/teamloop.py): here every wait
    is too long, so the team shrinks to one thread within the first steps; the others run every
    chunk, and the results do not change."""
    from anncompiler.backends.llvm import teamloop
    ref, (m_ref,) = compiled(lif_network, 1, "always", n=100)
    for _ in range(3):
        ref.simulate(10.0)
    monkeypatch.setattr(teamloop, "SPINS", 0)
    monkeypatch.setattr(teamloop, "LEAVE_YIELDS", 0)
    net, (m,) = compiled(lif_network, threads, "always", n=100)
    assert net.compile_report["threads"] == threads
    for _ in range(3):  # each call starts the whole team again
        net.simulate(10.0)
    assert_same(final_state(ref), final_state(net))
    assert spikes(m) == spikes(m_ref)


def test_the_pass_option_names_the_policy():
    """``cpu-partition{policy=auto}`` decides whatever the compile's policy (here "always")."""
    from anncompiler.passes import DEFAULT_PIPELINE
    net = ann.Network(dt=0.1, seed=7)
    lif_network(net, 100)
    net.config(num_threads=2, thread_policy="always")
    net.compile(pipeline=DEFAULT_PIPELINE + ",cpu-partition{threads=2,policy=auto}")
    assert net.kernel_module.num_threads == 1
    assert "cpu-partition{threads=2,policy=auto}" in net.compile_report["pipeline"]


def team_estimate(net) -> float:
    note = next(n for n in net.kernel_module.notes if n.startswith("threads:"))
    return float(note.split("one thread, ")[1].split(" ")[0])


def test_index_tables_beyond_the_caches_cost_a_miss_per_spike_in_every_partition(monkeypatch):
    """With tables deemed too large for the caches, a partition pays a miss per spike and
    projection: at the assumed 10 Hz, 100 neurons * 10 Hz * 0.1 ms = 0.1 spike per step in the
    list that each of the two projections walks (both read the spike list of the population)."""
    small, _ = compiled(lif_network, 2, "auto", n=100)
    monkeypatch.setattr(cpu_threads, "CACHED_TABLE_BYTES", 0)
    big, _ = compiled(lif_network, 2, "auto", n=100)
    expected = 2 * 100 * 10.0 * 0.1 / 1000.0 * cpu_threads.LINE_COST
    assert team_estimate(big) - team_estimate(small) == pytest.approx(expected, rel=1e-6)
