"""Monitors created, or given new variables, after compile(): the network is recompiled before
the next simulation with its state arrays carried over (anncompiler/runtime/rebuild.py)."""
import numpy as np
import pytest

import anncompiler as ann

from conftest import counter_neuron

CONFIGS = [("reference", 1), ("llvm", 1), ("llvm", 2)]


def noisy_network(threads, backend):
    """Spiking neurons driven by noise drawn in the equations, connected with delays: the state
    (variables, conductances, spike ring, random counters) must survive a recompile."""
    net = ann.Network(dt=0.5, seed=7)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters=dict(tau=10.0),
                        equations=["tau * dv/dt = -v + g_exc + 6.0 * Uniform(0.0, 1.0)",
                                   "tau * dg_exc/dt = -g_exc"],
                        spike="v > 2.0", reset="v = 0.0")
    pop = net.create(24, neuron, name="P")
    proj = net.connect(pop, pop, "exc")
    proj.fixed_probability(0.25, weights=0.4, delays=1.5)
    whole = net.monitor(pop, "spike", name="whole")
    net._test_objects = (pop, whole)
    net._test_backend = backend
    return net


def record(post: bool, threads: int, backend: str):
    net = noisy_network(threads, backend)
    pop, whole = net._test_objects
    early = None if post else net.monitor(pop[3:9], ["v", "g_exc", "spike"], name="part")
    net.compile(backend=backend)
    net.simulate(15.0)
    if post:
        part = net.monitor(pop[3:9], ["v", "g_exc", "spike"], name="part")
    else:
        part = early
        part.reset()  # forget what the monitor declared before compile recorded so far
    net.simulate(25.0)
    net.step()
    return dict(part=part.get(), whole=whole.get("spike"), v=np.array(pop.v), t=net.current_step,
                rebuilds=net.compile_report.get("rebuilds", 0))


@pytest.mark.parametrize("backend,threads", CONFIGS)
def test_monitor_added_after_compile_records_as_one_declared_before(backend, threads):
    before, after = record(False, threads, backend), record(True, threads, backend)
    assert after["rebuilds"] == 1 and before["rebuilds"] == 0
    assert after["t"] == before["t"] == 81
    assert after["part"]["v"].shape == (51, 6)
    for key in ("v", "g_exc"):  # bit-identical: same code, same state, same random numbers
        np.testing.assert_array_equal(after["part"][key], before["part"][key])
    assert after["part"]["spike"] == before["part"]["spike"]
    assert sum(map(len, after["part"]["spike"].values())) > 5
    assert after["whole"] == before["whole"]  # the first monitor kept its recording
    np.testing.assert_array_equal(after["v"], before["v"])


def test_state_values_and_time_continue_across_the_recompile():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(3, counter_neuron())
    first = net.monitor(pop, "r")
    net.compile()
    net.simulate(4.0)
    pop.r = [10.0, 20.0, 30.0]  # set after compile: kept too
    m = net.monitor(pop[1], "r")
    assert net.current_step == 4
    net.simulate(3.0)
    np.testing.assert_array_equal(m.get("r")[:, 0], [21.0, 22.0, 23.0])
    np.testing.assert_array_equal(first.get("r")[:, 0], [1.0, 2.0, 3.0, 4.0, 11.0, 12.0, 13.0])
    assert net.current_step == 7


def test_several_monitors_added_at_once_cost_one_recompile():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron())
    net.compile()
    a = net.monitor(pop, "r")
    b = ann.Monitor(pop[0], "r")  # the legacy constructor attaches to the population's network
    net.simulate(2.0)
    assert net.compile_report["rebuilds"] == 1
    np.testing.assert_array_equal(a.get("r")[:, 1], [1.0, 2.0])
    np.testing.assert_array_equal(b.get("r")[:, 0], [1.0, 2.0])
    net.simulate(1.0)
    assert net.compile_report["rebuilds"] == 1
    assert net.get_monitors() == [a, b]


def test_start_with_new_variables_after_compile():
    net = ann.Network(dt=0.5, seed=1)
    neuron = ann.Neuron(parameters=dict(k=1.0), equations=["r = r + 1.0", "g = g + k : population"])
    pop = net.create(2, neuron)
    m = net.monitor(pop, "r")
    net.compile()
    net.simulate(1.0)  # steps 0, 1
    m.start(["g", "r"])  # 'r' is recorded already
    assert m.variables == ["r", "g"]
    net.simulate(1.5)  # steps 2, 3, 4
    data = m.get()
    np.testing.assert_array_equal(data["r"][:, 0], [1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(data["g"], [3.0, 4.0, 5.0])  # global: one value per step
    assert m.times()["g"]["start"] == [2] and m.times()["r"]["start"] == [0]


def test_start_period_counts_from_now_and_changes_without_recompile():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(1, counter_neuron())
    m = net.monitor(pop, "r", period=2.0)
    net.compile()
    net.simulate(5.0)  # steps 0, 2, 4
    m.start(period=3.0)  # from step 5: 5, 8, 11
    net.simulate(7.0)
    assert net.compile_report.get("rebuilds") is None
    np.testing.assert_array_equal(m.get("r")[:, 0], [1.0, 3.0, 5.0, 6.0, 9.0, 12.0])
    assert m.period == 3.0


def test_periods_of_a_monitor_added_after_compile_start_at_its_creation():
    """As in ANNarchy: the period of a monitor is counted from the step it was created."""
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(1, counter_neuron())
    net.compile()
    net.simulate(3.0)
    m = net.monitor(pop, "r", period=4.0, period_offset=1.0)
    net.simulate(10.0)  # steps 3..12: recorded at 4, 8, 12
    np.testing.assert_array_equal(m.get("r")[:, 0], [5.0, 9.0, 13.0])


def test_start_false_then_start_after_compile():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(1, counter_neuron())
    net.compile()
    m = net.monitor(pop, "r", start=False)
    net.simulate(2.0)
    assert m.get("r").shape == (0, 1)
    m.start()
    net.simulate(2.0)
    m.pause()
    net.simulate(1.0)
    np.testing.assert_array_equal(m.get("r")[:, 0], [3.0, 4.0])
    assert m.times() == {"r": {"start": [2], "stop": [4]}}


def test_bad_monitors_after_compile_are_refused_and_the_network_goes_on():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron(), name="counters")
    m = net.monitor(pop, "r")
    net.compile()
    for bad in (lambda: net.monitor(pop, "nope"), lambda: net.monitor(pop, "spike"),
                lambda: net.monitor(pop, "sum(exc)"), lambda: m.start("nope"),
                lambda: net.monitor(pop, "r", name=m.name),
                lambda: net.monitor(pop, "r", period=2.0, period_offset=2.0)):
        with pytest.raises(ann.AnnCompilerError):
            bad()
    net.simulate(2.0)
    assert m.get("r").shape == (2, 2)
    assert net.compile_report.get("rebuilds") is None
    assert m.variables == ["r"]


def test_sum_of_a_target_recorded_after_compile():
    net = ann.Network(dt=1.0, seed=1)
    src = net.create(3, ann.Neuron(equations="r = r + 1.0"), name="src")
    dst = net.create(2, ann.Neuron(equations="r = sum(exc)"), name="dst")
    net.connect(src, dst, "exc").all_to_all(weights=0.5)
    net.compile()
    net.simulate(2.0)
    m = net.monitor(dst, ["sum(exc)", "r"])
    net.simulate(3.0)  # steps 2..4; src.r before step t is t, in every neuron
    s = m.get("sum(exc)")
    assert s.shape == (3, 2)
    np.testing.assert_array_equal(s[:, 0], [3 * 0.5 * 2.0, 3 * 0.5 * 3.0, 3 * 0.5 * 4.0])


def test_monitors_of_other_objects_are_refused_clearly():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    proj = net.connect(pop, pop, "exc")
    proj.all_to_all(weights=1.0)
    for obj in (proj.connectivity_matrix, 3.0):
        with pytest.raises(ann.NetworkError, match="a Monitor records"):
            net.monitor(obj, "w")
    assert net.get_monitors() == []
