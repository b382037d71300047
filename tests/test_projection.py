"""Projection API: connectors, structure queries, weights before and after compile."""
import numpy as np
import pytest

import anncompiler as ann


def rate():
    return ann.Neuron(parameters=dict(tau=1.0), equations="r = sum(exc) + sum(inh)", name="Sum")


@pytest.fixture
def pops():
    net = ann.Network(dt=1.0, seed=11)
    a = net.create(4, rate(), name="a")
    b = net.create(3, rate(), name="b")
    return net, a, b


def test_all_to_all(pops):
    net, a, b = pops
    p = net.connect(a, b, "exc")
    assert p.all_to_all(weights=0.5) is p
    assert p.nb_synapses == 12 and p.size == 3 == len(p)
    assert p.post_ranks == [0, 1, 2]
    assert p.pre_ranks == [[0, 1, 2, 3]] * 3
    assert p.w == 0.5  # a single shared weight reads as a scalar
    np.testing.assert_array_equal(p.connectivity_matrix(), np.full((3, 4), 0.5))
    net.compile()
    assert p.w == 0.5 and p.nb_synapses == 12


def test_all_to_all_same_population_excludes_self(pops):
    net, a, _ = pops
    p = net.connect(a, a, "exc").all_to_all(weights=ann.Uniform(0.0, 1.0, rng=net.default_rng))
    assert p.nb_synapses == 12
    assert p.pre_ranks == [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]
    w = p.w
    assert isinstance(w, list) and [len(row) for row in w] == [3, 3, 3, 3]
    assert all(0.0 <= x <= 1.0 for row in w for x in row)
    assert np.all(np.diag(p.connectivity_matrix()) == 0.0)
    q = net.connect(a, a, "inh").all_to_all(weights=1.0, allow_self_connections=True)
    assert q.nb_synapses == 16


def test_one_to_one(pops):
    net, a, b = pops
    p = net.connect(a[1:], b, "exc").one_to_one(weights=2.0)
    assert p.nb_synapses == 3 and p.post_ranks == [0, 1, 2] and p.pre_ranks == [[1], [2], [3]]
    with pytest.raises(ann.ConnectivityError):
        net.connect(a, b, "inh").one_to_one(weights=1.0)


def test_fixed_probability_and_numbers(pops):
    net, a, b = pops
    p = net.connect(a, b, "exc").fixed_probability(1.0, weights=1.0)
    assert p.nb_synapses == 12
    p0 = net.connect(b, a, "exc").fixed_probability(0.5, weights=1.0)
    assert 0 <= p0.nb_synapses <= 12
    q = net.connect(a, b, "inh").fixed_number_pre(2, weights=1.0)
    assert [len(r) for r in q.pre_ranks] == [2, 2, 2] and q.post_ranks == [0, 1, 2]
    r = net.connect(b, a, "inh").fixed_number_post(2, weights=1.0)
    counts = np.bincount(np.concatenate(r.pre_ranks), minlength=3)
    np.testing.assert_array_equal(counts, [2, 2, 2])
    with pytest.raises(ann.ConnectivityError):
        net.connect(a, a, "x").fixed_probability(1.5, weights=1.0)


def test_self_connections_through_views_excluded_by_default(pops):
    net, a, _ = pops
    p = net.connect(a[:2], a[1:], "exc").fixed_probability(1.0, weights=1.0)
    # pre {0, 1} -> post {1, 2, 3}; 1 -> 1 is a self-connection
    assert p.post_ranks == [1, 2, 3]
    assert p.pre_ranks == [[0], [0, 1], [0, 1]]
    q = net.connect(a[:2], a[1:], "inh").fixed_probability(1.0, weights=1.0, allow_self_connections=True)
    assert q.pre_ranks == [[0, 1], [0, 1], [0, 1]]
    r = net.connect(a[:3], a, "x").fixed_number_pre(2, weights=1.0)
    for post, pres in zip(r.post_ranks, r.pre_ranks):
        assert post not in pres


def test_from_matrix(pops):
    net, a, b = pops
    W = np.array([[1.0, 0.0, 2.0, 0.0], [0.5, 0.0, 0.0, 0.0], [0.0, 3.0, 0.0, 4.0]])
    p = net.connect(a, b, "exc").from_matrix(W)
    assert p.nb_synapses == 12  # numeric zeros are synapses (ANNarchy); None means none
    np.testing.assert_array_equal(p.connectivity_matrix(), W)
    lol = [[1.0, None, 2.0, None], [None, None, None, None], [None, 3.0, None, 4.0]]
    q = net.connect(a, b, "inh").from_matrix(lol)
    assert q.nb_synapses == 4 and q.post_ranks == [0, 2] and q.pre_ranks == [[0, 2], [1, 3]]
    assert q.w == [[1.0, 2.0], [3.0, 4.0]]
    net.compile()
    assert q.w == [[1.0, 2.0], [3.0, 4.0]]
    q.w = [[5.0, 6.0], [7.0, 8.0]]
    np.testing.assert_array_equal(q.connectivity_matrix(),
                                  [[5.0, 0, 6.0, 0], [0, 0, 0, 0], [0, 7.0, 0, 8.0]])


def test_setting_w_after_compile_changes_next_step():
    net = ann.Network(dt=1.0, seed=1)
    src = net.create(2, ann.Neuron(parameters=dict(c=ann.Parameter(1.0, locality="local")), equations="r = c"))
    dst = net.create(1, ann.Neuron(equations="r = sum(exc)"))
    src.c = [1.0, 2.0]
    single = net.connect(src, dst, "exc").all_to_all(weights=1.0)
    net.compile()
    net.step()
    net.step()  # sums use the previous step's pre.r
    assert dst.r[0] == 3.0
    single.w = 0.5
    assert single.w == 0.5
    net.step()
    assert dst.r[0] == 1.5


def test_setting_per_synapse_weights_after_compile():
    net = ann.Network(dt=1.0, seed=1)
    src = net.create(2, ann.Neuron(parameters=dict(c=ann.Parameter(1.0, locality="local")), equations="r = c"))
    dst = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    src.c = [1.0, 2.0]
    p = net.connect(src, dst, "exc").all_to_all(weights=1.0, force_multiple_weights=True)
    net.compile()
    net.simulate(2.0)
    np.testing.assert_array_equal(dst.r, [3.0, 3.0])
    p.w = [[1.0, 0.0], [0.0, 10.0]]
    assert p.w == [[1.0, 0.0], [0.0, 10.0]]
    net.step()
    np.testing.assert_array_equal(dst.r, [1.0, 20.0])
    p.w = 0.0
    net.step()
    np.testing.assert_array_equal(dst.r, [0.0, 0.0])
    with pytest.raises(ann.ShapeError):
        p.w = [[1.0], [2.0]]


def test_single_weight_cannot_take_per_synapse_values_after_compile(pops):
    net, a, b = pops
    p = net.connect(a, b, "exc").all_to_all(weights=1.0)
    net.compile()
    with pytest.raises(ann.NetworkError):
        p.w = [[1.0, 2.0, 3.0, 4.0]] * 3


def test_projection_by_population_name_and_lookup(pops):
    net, a, b = pops
    p = net.connect("a", "b", "exc", name="ab").all_to_all(weights=1.0)
    assert p.pre is a and p.post is b
    assert net.get_projection("ab") is p
    assert net.get_projections(post=b) == [p] and net.get_projections(pre="a") == [p]
    assert net.get_projections(target="inh") == []


def test_unconnected_projection_is_an_error_at_compile(pops):
    net, a, b = pops
    net.connect(a, b, "exc")
    with pytest.raises(ann.NetworkError, match="connector"):
        net.compile()


def test_projection_without_synapses_reads_empty_weights():
    net = ann.Network(dt=1.0)
    one = net.create(1, rate())
    p = net.connect(one, one, "exc").all_to_all(weights=ann.Uniform(0.0, 1.0))  # no self-connection
    assert p.nb_synapses == 0 and p.w == []  # no dendrite
    net.compile()
    net.simulate(2)
    assert p.w == [] and one.r[0] == 0.0


@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_rate_coded_projection_into_a_spiking_neuron_feeds_sum_even_with_a_conductance(backend):
    """A spiking neuron reads a rate-coded projection as ``sum(target)``, also when it has
    ``g_target`` for spiking inputs (which the rate-coded projection leaves alone)."""
    net = ann.Network(dt=1.0)
    rates = net.create(3, ann.Neuron(equations="r = 1.0"))
    lif = net.create(3, ann.Neuron(parameters="tau = 10.0", equations="tau * dv/dt = -v + sum(exc) + g_exc",
                                   spike="v > 100.0", reset="v = 0.0"))
    net.connect(rates, lif, "exc").one_to_one(2.0)
    m = net.monitor(lif, ["v", "g_exc"])
    net.compile(backend=backend)
    net.simulate(3)
    v = m.get("v")[:, 0]
    np.testing.assert_allclose(v, [0.0, 0.2, 0.2 + 0.1 * (2.0 - 0.2)])  # r of the previous step
    assert not m.get("g_exc").any()


@pytest.mark.parametrize("connect", [lambda p: p.all_to_all(ann.Uniform(0.0, 1.0)),
                                     lambda p: p.fixed_number_pre(2, ann.Uniform(0.0, 1.0))])
def test_weights_read_as_an_array_can_be_written_back(connect):
    """``proj.w`` of equal dendrites reads as a (dendrites, synapses) array; writing such an array
    back sets the same synapses (it was a raw numpy broadcasting error)."""
    net = ann.Network()
    a = net.create(4, ann.Neuron(equations="r = 1.0"))
    b = net.create(3, ann.Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b, "exc")
    connect(proj)
    net.compile()
    w = np.asarray(proj.w)
    assert w.ndim == 2
    proj.w = w * 0.5
    np.testing.assert_array_equal(np.asarray(proj.w), w * 0.5)
    with pytest.raises(ann.ShapeError):
        proj.w = np.zeros((2, 2))


def test_projection_lists_its_parameters_variables_and_attributes():
    net = ann.Network()
    pop = net.create(3, ann.Neuron(equations="r = 1"))
    plastic = net.connect(pop, pop, 'exc', synapse=ann.Synapse(parameters="eta = 0.1", equations="dw/dt = eta * pre.r"))
    plastic.all_to_all(weights=0.5)
    static = net.connect(pop, pop, 'inh')
    static.all_to_all(weights=0.5)
    assert (plastic.parameters, plastic.variables, plastic.attributes) == (["eta"], ["w"], ["eta", "w"])
    assert (static.parameters, static.variables, static.attributes) == (["w"], [], ["w"])
    net.compile()
    assert plastic.attributes == ["eta", "w"]
