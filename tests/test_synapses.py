"""Spiking synapses with their own ``pre_spike`` statements, and plasticity refused clearly."""
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


@pytest.mark.parametrize("synapse, what", [
    (ann.Synapse(parameters="tau = 100.0", equations="tau * dw/dt = pre.r * post.r", name="Hebb"),
     "continuous synaptic equations"),
    (ann.Synapse(pre_spike="g_target += w", post_spike="w += 0.1", name="PostOnly"), "post_spike statements"),
])
def test_plasticity_is_refused_not_ignored(synapse, what):
    net = ann.Network(dt=1.0)
    kind = "spike" if synapse.post_spike else "rate"
    pre = net.create(3, ann.Neuron(equations="r = 1.0") if kind == "rate" else RECEIVER)
    post = net.create(3, ann.Neuron(equations="r = sum(exc)") if kind == "rate" else RECEIVER)
    net.connect(pre, post, "exc", synapse).all_to_all(weights=0.5)
    with pytest.raises(ann.ModelError, match=f"{synapse.name}.*proj0: {what}.*not supported yet"):
        net.compile()
