"""Dendrites, individual synapses and receptive fields of a projection, before and after compile."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import IndexOutOfRangeError, NetworkError, ShapeError

INPUT = ann.Neuron(parameters="r0 = 0.0", equations="r = r0")
RATE = ann.Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc)")
LEARNING = ann.Synapse(parameters="eta = 0.1 : projection\ntheta = 0.5 : postsynaptic",
                       equations="dw/dt = eta * pre.r * (post.r - theta)")


def network(synapse=None, seed=4):
    net = ann.Network(dt=1.0, seed=seed)
    inp = net.create((4, 3), INPUT)
    out = net.create((2, 3), RATE)
    proj = net.connect(inp, out, "exc", synapse).fixed_probability(
        0.6, weights=ann.Uniform(0, 1, rng=net.default_rng))
    return net, inp, out, proj


@pytest.mark.parametrize("compiled", [False, True])
def test_dendrites_read_and_write_the_projection(compiled):
    net, inp, out, proj = network()
    if compiled:
        net.compile()
    c = proj.connectivity
    assert len(proj.dendrites) == proj.size and [d.post_rank for d in proj] == proj.post_ranks
    for k, d in enumerate(proj):
        assert d.pre_ranks == proj.pre_ranks[k] and d.size == len(d) == len(d.pre_ranks)
        assert d.w == proj.w[k]
    first = proj.post_ranks[0]
    coords = out.coordinates_from_rank(first)
    assert proj.dendrite(coords).post_rank == proj[first].post_rank == first
    proj[first].w = 0.25
    assert proj.w[0] == [0.25] * proj[first].size
    syn = proj.synapse(proj[first].pre_ranks[-1], first)
    syn.w = 3.0
    assert proj[first].w[-1] == 3.0 and syn.w == 3.0 and syn.pre_rank == proj[first].pre_ranks[-1]
    m = proj.connectivity_matrix()
    assert m[first, syn.pre_rank] == 3.0
    assert c.nb_synapses == proj.nb_synapses


def test_semiglobal_and_global_attributes_through_dendrites():
    net, inp, out, proj = network(LEARNING)
    first = proj.post_ranks[0]
    assert proj[first].theta == 0.5 and proj[first].eta == 0.1
    proj[first].theta = 0.8
    assert proj.theta[0] == 0.8 and all(t == 0.5 for t in proj.theta[1:])
    with pytest.raises(NetworkError, match="global"):
        proj[first].eta = 0.2
    net.compile()
    proj[first].theta = 0.9
    assert proj.theta[0] == 0.9
    with pytest.raises(ShapeError, match="one value per dendrite"):
        proj[first].theta = [1.0, 2.0]


def test_the_learning_rule_sees_a_weight_set_through_a_dendrite():
    net, inp, out, proj = network(LEARNING)
    inp.r0 = 1.0
    net.compile()
    first = proj.post_ranks[0]
    proj[first].w = 0.0
    net.simulate(1.0)
    expected = 0.1 * 1.0 * (0.0 - 0.5)  # the first step: post.r is 0 until the input arrives
    assert np.allclose(proj[first].w, 0.0 + expected)


def test_receptive_fields():
    net, inp, out, proj = network()
    fields = proj.receptive_fields()
    assert fields.shape == (2 * 4, 3 * 3)
    for rank in range(out.size):
        y, x = out.coordinates_from_rank(rank)
        tile = fields[y * 4:(y + 1) * 4, x * 3:(x + 1) * 3]
        expected = np.zeros(12)
        if rank in proj.post_ranks:
            d = proj[rank]
            expected[d.pre_ranks] = d.w
        assert np.array_equal(tile, expected.reshape(4, 3))
    assert proj.receptive_fields(in_post_geometry=False).shape == (6 * 4, 3)


def test_bad_dendrite_and_synapse_requests():
    net, inp, out, proj = network()
    with pytest.raises(IndexOutOfRangeError, match="outside population"):
        proj.dendrite(99)
    missing = next((r for r in range(out.size) if r not in proj.post_ranks), None)
    if missing is not None:
        with pytest.raises(IndexOutOfRangeError, match="has no synapse"):
            proj.dendrite(missing)
    d = proj[proj.post_ranks[0]]
    absent = next(r for r in range(inp.size) if r not in d.pre_ranks)
    with pytest.raises(IndexOutOfRangeError, match="no synapse from"):
        d.synapse(absent)
    with pytest.raises(ShapeError, match="values for the"):
        d.w = [1.0] * (d.size + 1)
    with pytest.raises(NetworkError, match="not supported yet"):
        d.create_synapse(absent, 1.0)
