"""Global operations of pre./post. attributes in synapses (passes/lowering/globalops.py): the
population at that end computes them in its global-ops phase, so a psp (input phase) reads the
previous step's values (0 in the first step) and synaptic equations (after the neurons) this step's."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import ModelError


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 1), ("llvm", 2)])
def test_psp_and_equation_read_pre_and_post_operations(backend, threads):
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    a = net.create(3, ann.Neuron(equations="r = r + 1"))
    b = net.create(2, ann.Neuron(equations="r = sum(exc) + 1"))
    syn = ann.Synapse(equations="x = mean(pre.r) + max(post.r)", psp="w * pre.r + norm1(pre.r)")
    proj = net.connect(a, b, "exc", syn)
    proj.all_to_all(1.0)
    m, mx = net.monitor(b, "r"), net.monitor(proj.dendrite(0), "x")
    net.compile(backend=backend)
    net.simulate(3.0)
    # step k: a.r = k + 1 after its update; the psp reads a.r = k and norm1 of step k - 1 (3k - 3,
    # 0 at step 0): b.r = 3 * (k + 3(k - 1)) + 1 for k >= 1; x = mean(a.r) + max(b.r) of this step
    np.testing.assert_array_equal(m.get("r")[:, 0], [1.0, 13.0, 25.0])
    np.testing.assert_array_equal(mx.get("x")[:, 0], [2.0, 15.0, 28.0])


def test_argument_must_be_a_local_attribute_of_that_population():
    net = ann.Network(dt=1.0)
    a = net.create(3, ann.Neuron(parameters=dict(k=1.0), equations="r = 1"))
    b = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    net.connect(a, b, "exc", ann.Synapse(equations="x = mean(pre.k)")).all_to_all(1.0)
    with pytest.raises(ModelError, match="k"):
        net.compile(backend="reference")
