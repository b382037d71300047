"""Spiking synapses with their own ``pre_spike`` statements; what is not supported is refused clearly."""
import numpy as np
import pytest

import anncompiler as ann

RECEIVER = ann.Neuron(equations="dv/dt = -v + g_exc", spike="v > 1000.0", reset="v = 0.0", name="Receiver")


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_pre_spike_statements_update_each_synapse(backend):
    """``w += dw`` changes the weight of each synapse of the spiking pre neuron only, also when the
    connector gave one shared weight, and ``g_target += w`` reads w before the change."""
    net = ann.Network(dt=1.0)
    src = ann.SpikeSourceArray([[1.0, 3.0], [2.0]], network=net)
    post = net.create(2, RECEIVER)
    syn = ann.Synapse(parameters="dw = 0.25", pre_spike="g_target += w\nw += dw", name="Potentiating")
    proj = net.connect(src, post, "exc", syn).all_to_all(weights=1.0)
    g = net.monitor(post, "g_exc")
    net.compile(backend=backend)
    net.simulate(5.0)
    assert proj.w == [[1.5, 1.25], [1.5, 1.25]]  # pre 0 spiked twice, pre 1 once
    # spikes at steps 1, 2, 3 arrive one step later, each with the weight before its own update
    np.testing.assert_array_equal(g.get("g_exc")[:, 0], [0.0, 0.0, 1.0, 1.0, 1.25])


def test_rate_coded_delays_longer_than_one_step_are_simulated_not_ignored():
    """(tests/test_rate_delays.py has the details.)"""
    net = ann.Network(dt=0.5)
    pre = net.create(3, ann.Neuron(equations="r = t"))
    post = net.create(3, ann.Neuron(equations="r = sum(exc)"))
    net.connect(pre, post, "exc").all_to_all(weights=1.0, delays=2.0)  # 4 steps
    net.compile()
    net.simulate(5.0)  # at step 9, pre.r after the update of step 5 (t = 2.5 ms) for each pre neuron
    assert np.allclose(post.r, 3 * 2.5)


@pytest.mark.parametrize("definition", [
    lambda: ann.Synapse(pruning="w < 0.1"),
])
def test_unsupported_definition_fields_are_refused(definition):
    from anncompiler.parser import parse_model
    with pytest.raises(ann.ModelError, match="is not supported yet"):
        parse_model(definition())


@pytest.mark.parametrize("zero", ["0", "0.0"])
def test_a_conductance_reset_to_zero_is_reset_before_the_input(zero):
    """``g_exc = 0`` and ``g_exc = 0.0`` both make g_exc a conductance reset at the start of each
    step: the input of a spike shows in the recording of the next step."""
    net = ann.Network(dt=1.0)
    cell = ann.Neuron(equations=f"dv/dt = -v + g_exc\ng_exc = {zero}", spike="v > 1000.0", reset="v = 0.0")
    src = net.create(ann.SpikeSourceArray([[1.0]]))
    post = net.create(1, cell)
    net.connect(src, post, "exc").all_to_all(weights=2.0)
    m = net.monitor(post, "g_exc")
    net.compile()
    net.simulate(4.0)
    assert m.get("g_exc")[:, 0].tolist() == [0.0, 0.0, 2.0, 0.0]
