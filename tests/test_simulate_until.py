"""stop_condition and Network.simulate_until (passes/lowering/stop.py, anncompiler/runtime/simulate.py).

A counter neuron (``r = r + 1`` per step) makes the stopping step easy to predict: after
``s`` steps, ``r = r0 + s``.  dt = 0.5 so that the returned time in ms (steps * dt) differs
from ANNarchy's buggy steps / dt.
"""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import ModelError, NetworkError

BACKENDS = ["llvm", "reference"]
DT = 0.5


def counter(name="Counter"):
    return ann.Neuron(equations="r = r + 1.0", name=name)


def make(backend, conditions, r0s, monitor=False):
    net = ann.Network(dt=DT, seed=1)
    pops = []
    for k, (cond, r0) in enumerate(zip(conditions, r0s)):
        p = net.create(len(r0), counter(f"C{k}"), stop_condition=cond, name=f"P{k}")
        p.r = r0
        pops.append(p)
    mons = [net.monitor(p, "r") for p in pops] if monitor else []
    net.compile(backend=backend)
    return net, pops, mons


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode,steps", [("any", 7), ("all", 11), ("", 7)])
def test_one_population_any_all(backend, mode, steps):
    cond = "r > 10.0" + (f" : {mode}" if mode else "")
    net, (p,), (m,) = make(backend, [cond], [[0.0, 2.0, 4.0]], monitor=True)
    elapsed = net.simulate_until(100.0, p)
    assert elapsed == steps * DT  # ms, not steps / dt
    assert net.current_step == steps
    assert net.time == steps * DT
    r = m.get("r")
    assert r.shape == (steps, 3)  # every step recorded
    np.testing.assert_array_equal(r[-1], np.array([0.0, 2.0, 4.0]) + steps)
    # a second call continues from there: the condition already holds, so one more step
    assert net.simulate_until(100.0, p) == DT
    assert net.current_step == steps + 1
    assert m.get("r").shape == (1, 3)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("operator,steps", [("and", 9), ("or", 4)])
def test_two_populations(backend, operator, steps):
    # P0 holds after 4 steps (r > 5 with r0 = 2), P1 after 9 steps (r > 10 with r0 = 2)
    net, (a, b), _ = make(backend, ["r > 5.0 : all", "r > 10.0 : any"], [[2.0, 1.5], [2.0, 0.0]])
    assert net.simulate_until(50.0, [a, b], operator=operator) == steps * DT
    assert net.current_step == steps
    assert a.r[0] == 2.0 + steps and b.r[0] == 2.0 + steps


@pytest.mark.parametrize("backend", BACKENDS)
def test_continues_to_the_next_event(backend):
    """The condition depends on state that changes: a second call runs to the next hit."""
    net = ann.Network(dt=DT, seed=1)
    neuron = ann.Neuron(equations=["r = ite(r >= 4.0, 0.0, r + 1.0)"], name="Saw")
    p = net.create(2, neuron, stop_condition="r >= 4.0 : any")
    net.compile(backend=backend)
    assert net.simulate_until(100.0, p) == 4 * DT  # r: 1 2 3 4
    assert net.simulate_until(100.0, p) == 5 * DT  # r: 0 1 2 3 4
    assert net.current_step == 9
    assert net.simulate_until(100.0, [p], operator="or") == 5 * DT
    assert net.current_step == 14


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_duration_reached(backend):
    net, (p,), (m,) = make(backend, ["r < 0.0"], [[0.0, 1.0]], monitor=True)
    assert net.simulate_until(12.0, p) == 12.0
    assert net.current_step == 24
    assert m.get("r").shape == (24, 2)
    assert net.simulate_until(0.7, p) == 1.0  # ceil(0.7 / 0.5) steps
    assert net.current_step == 26
    assert net.simulate_until(0.0, p) == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_plain_simulate_is_not_stopped(backend):
    net, (p,), _ = make(backend, ["r > 1.0"], [[5.0]])
    net.simulate(10.0)
    assert net.current_step == 20
    net.step()
    assert net.current_step == 21


def test_long_run_across_monitor_drains():
    """The native loop also returns early to drain monitor buffers; simulate_until goes on."""
    net, (p,), (m,) = make("llvm", ["r > 2500.0"], [[0.0, 0.0]], monitor=True)
    assert net.simulate_until(10000.0, p) == 2501 * DT
    assert net.current_step == 2501
    r = m.get("r")
    assert r.shape == (2501, 2)
    np.testing.assert_array_equal(r[:, 0], np.arange(1.0, 2502.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_condition_with_global_attribute_constant_and_t(backend):
    net = ann.Network(dt=DT, seed=1)
    net.constant("limit", 3.0)
    neuron = ann.Neuron(parameters=dict(offset=1.0), equations="r = r + 1.0", name="G")
    p = net.create(3, neuron, stop_condition="(r + offset > limit) and (t >= 2.0) : all")
    q = net.create(2, counter("T"), stop_condition="t > 7.0")  # t: the time after the step
    net.compile(backend=backend)
    assert net.simulate_until(100.0, p) == 4 * DT  # t >= 2.0 after 4 steps; r + 1 > 3 after 3
    assert net.simulate_until(100.0, q) == 11 * DT  # returns at time 7.5 = 15 steps
    assert net.time == 7.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_spiking_population_condition(backend):
    net = ann.Network(dt=1.0, seed=1)
    neuron = ann.Neuron(parameters=dict(Vt=1.0), equations="v = v + 0.3", spike="v > Vt", reset="v = 0.0",
                        name="Ramp")
    p = net.create(2, neuron, stop_condition="v == 0.0 : any")
    p.v = [0.5, 0.0]
    net.compile(backend=backend)
    # neuron 0: 0.8, 1.1 -> spike, reset at step 2
    assert net.simulate_until(100.0, p) == 2.0


def test_legacy_api(quiet_deprecations):
    pop = ann.Population(3, counter("Legacy"), stop_condition="r > 2.0 : all")
    pop.r = [0.0, 1.0, 2.0]
    ann.compile()
    assert ann.simulate_until(20.0, pop) == 3.0  # dt = 1.0
    assert ann.get_current_step() == 3


def test_errors():
    net = ann.Network(dt=1.0)
    a = net.create(2, counter("A"), stop_condition="r > 1.0")
    b = net.create(2, counter("B"))
    with pytest.raises(NetworkError):
        net.simulate_until(10.0, a)  # not compiled
    net.compile(backend="reference")
    with pytest.raises(NetworkError, match="stop_condition"):
        net.simulate_until(10.0, b)
    with pytest.raises(NetworkError, match="stop_condition"):
        net.simulate_until(10.0, [a, b], operator="or")
    with pytest.raises(NetworkError, match="operator"):
        net.simulate_until(10.0, a, operator="xor")
    assert net.current_step == 0
    assert net.simulate_until(10.0, a.name) == 2.0  # a name works too (r = 2 > 1 after 2 steps)


def test_global_operation_in_stop_condition_is_an_error():
    net = ann.Network(dt=1.0)
    net.create(2, counter("M"), stop_condition="mean(r) > 1.0")
    with pytest.raises(ModelError, match="global operations"):
        net.compile(backend="reference")


def test_stop_condition_must_be_boolean_and_known():
    net = ann.Network(dt=1.0)
    net.create(2, counter("K"), stop_condition="unknown_name > 1.0")
    with pytest.raises(ModelError, match="unknown_name"):
        net.compile(backend="reference")
