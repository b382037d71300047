"""The team of threads of the llvm backend: where it waits, and that claiming partitions keeps the
results bit-identical (passes/platform/cpu_barriers.py, backends/llvm/teamloop.py).

A step is a few segments separated by waits; the threads claim the partitions of each segment
(any thread may run any partition), so the results must not depend on the team size, on the
number of partitions, nor on which thread ran what.
"""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.backends.llvm.teamloop import chunks_per_step
from anncompiler.ir.kernel_print import format_kernel
from anncompiler.passes import DEFAULT_PIPELINE
from anncompiler.passes.platform.cpu_barriers import footprint

from test_multicore import assert_same, final_state, simulate


def lif_network(net, n=120, **population):
    """A COBA-like spiking network: two projections, a spike monitor."""
    lif = ann.Neuron(parameters="tau = 10.0\n I = 1.3",
                     equations="tau * dv/dt = -v + I + g_exc - g_inh + Normal(0.0, 0.2)",
                     spike="v > 1.0", reset="v = 0.0", refractory=2.0, name="ScaleLIF")
    pop = net.create(n, lif, **population)
    pop.v = net.default_rng.uniform(0.0, 1.0, n)
    net.connect(pop[:n * 4 // 5], pop, "exc").fixed_probability(0.1, weights=0.05)
    net.connect(pop[n * 4 // 5:], pop, "inh").fixed_probability(0.1, weights=0.2)
    return [net.monitor(pop, "spike")]


def rate_network(net, n=90):
    leaky = ann.Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc) + 0.5 : min=0.0",
                       name="ScaleLeaky")
    pop = net.create(n, leaky)
    net.connect(pop, pop, "exc").fixed_probability(0.2, weights=ann.Uniform(-0.1, 0.1, rng=net.default_rng))
    return [net.monitor(pop[:7], "r")]


def stdp_network(net, inputs=200, posts=3):
    """Song-Abbott in small: Poisson inputs onto a few neurons through STDP (pre and post events)."""
    gmax = 0.05
    neuron = ann.Neuron(parameters=dict(tau_m=10.0, tau_e=5.0, vt=-54.0, vr=-60.0, El=-74.0, Ee=0.0),
                        equations=["tau_m * dv/dt = El - v + g_exc * (Ee - v) : init=-60.0",
                                   "tau_e * dg_exc/dt = -g_exc"],
                        spike="v > vt", reset="v = vr", name="ScaleIF")
    stdp = ann.Synapse(
        parameters=dict(tau_plus=20.0, tau_minus=20.0, A_plus=0.01 * gmax, A_minus=0.0105 * gmax, w_max=gmax),
        equations="tau_plus * dx/dt = -x : event-driven\n tau_minus * dy/dt = -y : event-driven",
        pre_spike="g_target += w\n x += A_plus\n w = clip(w + y, 0.0, w_max)",
        post_spike="y -= A_minus\n w = clip(w + x, 0.0, w_max)", name="ScaleSTDP")
    source = net.create(ann.PoissonPopulation(inputs, rates=30.0))
    post = net.create(posts, neuron)
    net.connect(source, post, "exc", stdp).all_to_all(weights=ann.Uniform(0.0, gmax, rng=net.default_rng))
    return [net.monitor(post, ["spike", "v"])]


def compiled(build, threads, dt=1.0, pipeline=None):
    net = ann.Network(dt=dt, seed=3)
    net.config(num_threads=threads)
    build(net)
    net.compile(pipeline=pipeline)
    return net


def barriers(net):
    return [k.name for k in net.kernel_module.kernels if k.barrier]


# --- where the team waits ---------------------------------------------------------------------

def test_spiking_input_and_update_share_a_segment():
    """Spike propagation writes only the partition's own conductances, which its update reads:
    one wait in the step (before the serial concatenation of the spike list), not three."""
    net = compiled(lif_network, 2)
    kernels = net.kernel_module.kernels
    assert barriers(net) == ["compact_pop0__spiked"]
    update = next(k for k in kernels if k.name == "update_pop0")
    assert update.parallel and not update.barrier
    assert chunks_per_step(net.kernel_module) == 2 + 1  # two partitions, then one serial chunk


def test_rate_projection_waits_before_the_update():
    """A weighted sum reads r of every pre-synaptic neuron: the update writing r waits for it."""
    net = compiled(rate_network, 2)
    assert barriers(net) == ["update_pop0", "record_monitor0"]  # the serial monitor waits too
    project = next(k for k in net.kernel_module.kernels if k.name.startswith("project"))
    reads = footprint(project)["pop0.r"]
    assert reads == ({None}, False)  # any element: not the partition's own


def test_post_events_read_their_segment_and_join_the_updates():
    net = compiled(stdp_network, 2, dt=0.1)
    kernels = net.kernel_module.kernels
    names = [k.name for k in kernels]
    post = kernels[names.index("post_events_proj0")]
    assert post.parallel and not post.barrier
    assert names.index("post_events_proj0") < names.index("compact_pop1__spiked")
    text = format_kernel(post)
    assert "pop1._spiked.partition_segments" in text and "pop1._n_spiked" not in text
    assert barriers(net) == ["compact_pop0__spiked"]


def test_serial_global_update_stays_before_the_update_reading_it():
    """Hoisting moves a parallel kernel only over serial kernels it shares nothing with."""
    neuron = ann.Neuron(parameters="tau = 10.0 : population", equations=["tau * dg/dt = 1.0 - g : population",
                                                             "tau * dr/dt + r = g + sum(exc)"], name="ScaleGlobal")

    def build(net):
        pop = net.create(40, neuron)
        net.connect(pop, pop, "exc").fixed_probability(0.3, weights=0.01)
        return [net.monitor(pop, "r")]
    net = compiled(build, 2)
    names = [k.name for k in net.kernel_module.kernels]
    assert names.index("update_pop0_global") < names.index("update_pop0")
    assert net.kernel_module.kernels[names.index("update_pop0")].barrier


# --- the same bits ----------------------------------------------------------------------------

def _same_as_one_thread(build, duration, dt, **variants):
    net1, ref, rec1 = simulate(build, 1, duration, dt)
    for label, (threads, pipeline) in variants.items():
        net, state, rec = simulate(build, threads, duration, dt, pipeline=pipeline)
        assert_same(ref, state)
        assert rec.keys() == rec1.keys()
        for key in rec:
            if isinstance(rec[key], dict):
                assert rec[key] == rec1[key], (label, key)
            else:
                np.testing.assert_array_equal(rec[key], rec1[key], err_msg=f"{label} {key}")
    return ref, rec1


def _partitions(n: int) -> str:
    return DEFAULT_PIPELINE + f",cpu-narrow-ranks,cpu-partition{{threads={n}}},cpu-flag-scan,cpu-expand-reductions"


def test_stdp_bit_identical_for_teams_and_partitions():
    """2 and 3 threads; 5 partitions shared by 2 threads; 2 partitions and a team of 3."""
    ref, rec = _same_as_one_thread(stdp_network, 300.0, 0.1, two=(2, None), three=(3, None),
                                   five_by_two=(2, _partitions(5)), two_by_three=(3, _partitions(2)))
    assert sum(map(len, rec["0.spike"].values())) > 5


def test_spiking_network_bit_identical_with_more_threads_than_cores():
    ref, rec = _same_as_one_thread(lif_network, 150.0, 1.0, four=(4, None), seven_by_two=(2, _partitions(7)))
    assert sum(map(len, rec["0.spike"].values())) > 100


def test_rate_network_bit_identical_for_teams_and_partitions():
    _same_as_one_thread(rate_network, 100.0, 1.0, two=(2, None), four_by_three=(3, _partitions(4)))


@pytest.mark.parametrize("threads", [2, 3])
def test_simulate_until_stops_at_the_same_step(threads):
    """An exit condition ends the run after the same step whatever the team."""
    results = []
    for t in (1, threads):
        net = ann.Network(dt=1.0, seed=3)
        net.config(num_threads=t)
        lif_network(net, stop_condition="v > 0.95 : any")
        net.compile()
        stopped = []
        for _ in range(4):
            stopped.append(net.simulate_until(500.0, population=net.get_populations()[0]))
            net.simulate(3.0)
        results.append((stopped, net.current_step, final_state(net)))
    (s1, step1, state1), (s2, step2, state2) = results
    assert s1 == s2 and step1 == step2 and 0 < step1 < 2000
    assert_same(state1, state2)


def test_many_short_runs_equal_one_long_run():
    """The step counter: each thread reads its own copy, the shared one moves once per run."""
    net1, ref, rec = simulate(lif_network, 2, 60.0, 1.0, seed=3)
    net = ann.Network(dt=1.0, seed=3)
    net.config(num_threads=2)
    (monitor,) = lif_network(net)
    net.compile()
    for _ in range(60):
        net.simulate(1.0)
    assert net.current_step == net1.current_step == 60
    state = final_state(net)
    assert_same({k: v for k, v in ref.items() if not k.startswith("monitor")},
                {k: v for k, v in state.items() if not k.startswith("monitor")})
    spikes = {r: list(map(int, v)) for r, v in monitor.get("spike").items()}
    assert spikes == rec["0.spike"] and sum(map(len, spikes.values())) > 20


def test_disabled_post_population_bit_identical():
    """Post events read the partition's spike segment only while the population is enabled
    (they are skipped with it); disabling and enabling between runs gives the same bits."""
    def run(threads):
        net = ann.Network(dt=0.1, seed=5)
        net.config(num_threads=threads)
        stdp_network(net)
        net.compile()
        post = net.get_populations()[1]
        net.simulate(100.0)
        post.disable()
        net.simulate(50.0)
        post.enable()
        net.simulate(100.0)
        return final_state(net)
    ref = run(1)
    for threads in (2, 3):
        assert_same(ref, run(threads))
