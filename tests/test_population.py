"""Population, PopulationView and IndividualNeuron: geometry, attribute access, indexing."""
import numpy as np
import pytest

import anncompiler as ann


def model():
    return ann.Neuron(parameters=dict(tau=10.0, g=ann.Parameter(1.0), B=ann.Parameter(0.5, locality="local")),
                      equations="tau*dr/dt = -r + B*g", name="N")


@pytest.mark.parametrize("geometry, size", [(5, 5), ((5,), 5), ((3, 4), 12), ((2, 3, 4), 24)])
def test_geometry_and_shapes(geometry, size):
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create(geometry, model())
    geom = geometry if isinstance(geometry, tuple) else (geometry,)
    assert pop.geometry == geom and pop.size == size == len(pop) and pop.dimension == len(geom)
    assert pop.width == geom[0]
    assert pop.height == (geom[1] if len(geom) > 1 else 1)
    assert pop.depth == (geom[2] if len(geom) > 2 else 1)
    np.testing.assert_array_equal(pop.ranks, np.arange(size))
    for compiled in (False, True):
        assert pop.r.shape == geom and pop.B.shape == geom
        np.testing.assert_array_equal(pop.B, np.full(geom, 0.5))
        assert isinstance(pop.tau, float) and pop.tau == 10.0  # global -> scalar
        assert isinstance(pop.get("g"), float)
        if not compiled:
            net.compile()


def test_set_scalars_arrays_distributions_before_and_after_compile():
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create((3, 4), model())
    pop.r = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(pop.r, np.arange(12.0).reshape(3, 4))
    pop.B = np.arange(12.0)  # flat array for a 2-D population
    np.testing.assert_array_equal(pop.B, np.arange(12.0).reshape(3, 4))
    pop.tau = 20.0
    assert pop.tau == 20.0
    pop.set({"g": 2.0})
    assert pop.get("g") == 2.0
    net.compile()
    np.testing.assert_array_equal(pop.r, np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(pop.B, np.arange(12.0).reshape(3, 4))
    assert pop.tau == 20.0 and pop.g == 2.0
    pop.r = 1.5
    np.testing.assert_array_equal(pop.r, np.full((3, 4), 1.5))
    pop.r = np.arange(12.0)
    np.testing.assert_array_equal(pop.r, np.arange(12.0).reshape(3, 4))
    pop.r = ann.Uniform(2.0, 3.0, rng=net.default_rng)
    assert pop.r.shape == (3, 4) and np.all((pop.r >= 2.0) & (pop.r <= 3.0)) and np.unique(pop.r).size == 12
    pop.tau = 5.0
    assert pop.tau == 5.0
    # the reads are snapshots: modifying them changes nothing
    snapshot = pop.r
    snapshot[:] = -1.0
    assert np.all(pop.r >= 2.0)


def test_distribution_before_compile_is_sampled_once_and_seeded():
    values = []
    for _ in range(2):
        net = ann.Network(dt=0.1, seed=7)
        pop = net.create(20, model())
        pop.r = ann.Normal(0.0, 1.0, rng=net.default_rng)
        first = pop.r
        np.testing.assert_array_equal(first, pop.r)  # sampled at assignment, not at each read
        net.compile()
        np.testing.assert_array_equal(pop.r, first)
        values.append(first)
    np.testing.assert_array_equal(values[0], values[1])


def test_values_reach_the_simulation():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(4, model())
    pop.B = [1.0, 2.0, 3.0, 4.0]
    net.compile()
    net.step()
    # r = 0 + dt/tau * (B*g - 0)
    np.testing.assert_allclose(pop.r, np.array([1.0, 2.0, 3.0, 4.0]) / 10.0, rtol=1e-15)
    pop.g = 2.0
    pop.r = 0.0
    net.step()
    np.testing.assert_allclose(pop.r, np.array([2.0, 4.0, 6.0, 8.0]) / 10.0, rtol=1e-15)


def test_global_parameter_promoted_to_local_before_compile():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(5, model())
    pop.tau = np.array([1.0, 2.0, 4.0, 5.0, 10.0])
    pop[1:3].g = 3.0  # per-neuron through a view: promoted as well
    np.testing.assert_array_equal(pop.g, [1.0, 3.0, 3.0, 1.0, 1.0])
    net.compile()
    np.testing.assert_array_equal(pop.tau, [1.0, 2.0, 4.0, 5.0, 10.0])
    np.testing.assert_array_equal(pop.g, [1.0, 3.0, 3.0, 1.0, 1.0])
    net.step()
    np.testing.assert_allclose(pop.r, 0.5 * np.array([1.0, 3.0, 3.0, 1.0, 1.0]) / [1.0, 2.0, 4.0, 5.0, 10.0],
                               rtol=1e-15)


def test_global_parameter_per_neuron_after_compile_is_an_error():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(5, model(), name="exc")
    net.compile()
    with pytest.raises(ann.AnnCompilerError) as err:
        pop.tau = np.arange(5.0) + 1.0
    assert "tau" in str(err.value) and "exc" in str(err.value)
    with pytest.raises(ann.AnnCompilerError):
        pop[1:3].tau = np.array([1.0, 2.0])
    assert pop.tau == 10.0
    pop.tau = np.full(5, 3.0)  # all equal: still one value
    assert pop.tau == 3.0


def test_population_view_get_set():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(10, model())
    pop.r = np.arange(10.0)
    view = pop[2:5]
    assert isinstance(view, ann.PopulationView) and view.size == 3 and view.geometry == (3,)
    np.testing.assert_array_equal(view.ranks, [2, 3, 4])
    np.testing.assert_array_equal(view.r, [2.0, 3.0, 4.0])
    view.r = -1.0
    np.testing.assert_array_equal(pop.r, [0, 1, -1, -1, -1, 5, 6, 7, 8, 9])
    v2 = pop[[1, 3]]
    np.testing.assert_array_equal(v2.r, [1.0, -1.0])
    v2.r = [10.0, 30.0]
    assert pop.r[1] == 10.0 and pop.r[3] == 30.0
    assert pop[-1].ranks.tolist() == [9]
    net.compile()
    np.testing.assert_array_equal(pop[2:5].r, [-1.0, 30.0, -1.0])
    pop[2:5].r = np.array([7.0, 8.0, 9.0])
    np.testing.assert_array_equal(pop.r, [0, 10, 7, 8, 9, 5, 6, 7, 8, 9])
    pop[[1, 3]].set({"r": 0.0})
    assert pop.r[1] == 0.0 and pop.r[3] == 0.0
    assert pop[2:5].tau == 10.0
    pop[2:5].tau = 4.0  # a global attribute set through a view changes the whole population
    assert pop.tau == 4.0
    with pytest.raises(ann.ShapeError):
        pop[2:5].r = np.zeros(4)


def test_population_view_2d_keeps_geometry():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create((4, 5), model())
    pop.r = np.arange(20.0).reshape(4, 5)
    view = pop[1:3, :]
    assert view.geometry == (2, 5) and view.size == 10
    np.testing.assert_array_equal(view.ranks, np.arange(5, 15))
    np.testing.assert_array_equal(view.r, np.arange(5.0, 15.0).reshape(2, 5))
    sub = pop[0:2, 1:3]
    assert sub.geometry == (2, 2)
    np.testing.assert_array_equal(sub.ranks, [1, 2, 6, 7])
    net.compile()
    sub.r = np.array([[100.0, 101.0], [102.0, 103.0]])
    np.testing.assert_array_equal(pop.r[0:2, 1:3], [[100.0, 101.0], [102.0, 103.0]])
    np.testing.assert_array_equal(pop[0:2, 1:3].r, [[100.0, 101.0], [102.0, 103.0]])
    assert view.rank_from_coordinates((1, 0)) == 10
    assert view.rank_from_coordinates((1, 0), local=True) == 5
    assert view.coordinates_from_rank(10) == (1, 0)


def test_rank_coordinates():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create((3, 4, 2), model())
    for rank in range(pop.size):
        coord = pop.coordinates_from_rank(rank)
        assert tuple(coord) == np.unravel_index(rank, (3, 4, 2))
        assert pop.rank_from_coordinates(coord) == rank
    assert pop.rank_from_coordinates((1, 2, 1)) == 1 * 8 + 2 * 2 + 1
    with pytest.raises(ann.IndexOutOfRangeError):
        pop.rank_from_coordinates((3, 0, 0))
    with pytest.raises(ann.IndexOutOfRangeError):
        pop.coordinates_from_rank(24)


def test_individual_neuron():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create((3, 4), model())
    pop.r = np.arange(12.0).reshape(3, 4)
    n = pop[1, 2]
    assert isinstance(n, ann.IndividualNeuron) and n.rank == 6
    assert n.r == 6.0
    n.r = -5.0
    assert pop.r[1, 2] == -5.0
    assert pop.neuron(1, 2).rank == 6 and pop.neuron((1, 2)).rank == 6
    net.compile()
    assert pop.neuron(1, 2).r == -5.0
    pop.neuron(0, 0).r = 42.0
    assert pop.r[0, 0] == 42.0
    assert len(pop.neurons) == 12 and [x.rank for x in pop][:3] == [0, 1, 2]
    assert pop.neuron(2).rank == 2 if pop.dimension == 1 else True


def test_wrong_shape_and_out_of_range():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create((3, 4), model(), name="grid")
    with pytest.raises(ann.ShapeError) as err:
        pop.r = np.zeros(5)
    assert "grid" in str(err.value) and "r" in str(err.value)
    with pytest.raises(ann.ShapeError):
        pop.B = np.zeros((4, 4))
    with pytest.raises(ann.IndexOutOfRangeError):
        pop[12]
    with pytest.raises(ann.IndexOutOfRangeError):
        pop[[0, 12]]
    with pytest.raises(ann.IndexOutOfRangeError):
        pop[0:13]
    with pytest.raises(ann.IndexOutOfRangeError):
        pop[3, 0]
    with pytest.raises(ann.IndexOutOfRangeError):
        pop[0:2, 0:5]
    net.compile()
    with pytest.raises(ann.ShapeError):
        pop.r = np.zeros(13)
    with pytest.raises(AttributeError):
        pop.nonexistent
    with pytest.raises(AttributeError):
        pop.nonexistent = 1.0


def test_view_union_and_spiking_population_attributes():
    net = ann.Network(dt=1.0, seed=1)
    neuron = ann.Neuron(parameters=dict(Vt=1.0), equations="v = v + 0.4", spike="v > Vt", reset="v = 0.0")
    pop = net.create(6, neuron)
    u = pop[0:2] + pop[[4]]
    np.testing.assert_array_equal(u.ranks, [0, 1, 4])
    pop.v = np.array([0.0, 0.1, 0.6, 0.0, 0.0, 0.0])
    net.compile()
    net.step()
    assert pop.spike == []
    net.step()  # 0.6 + 0.8 = 1.4 > 1
    assert pop.spike == [2]


def test_a_value_set_before_compile_is_not_replaced_by_a_distribution_init():
    net = ann.Network(seed=1)
    pop = net.create(3, ann.Neuron(equations="r = x\nx = x : init=Uniform(0.0, 1.0)"))
    pop.x = 5.0
    np.testing.assert_array_equal(pop.x, [5.0, 5.0, 5.0])
    pop[1:].x = 7.0
    np.testing.assert_array_equal(pop.x, [5.0, 7.0, 7.0])
    net.compile()
    np.testing.assert_array_equal(pop.x, [5.0, 7.0, 7.0])


def test_a_population_class_given_as_a_model_is_a_clear_error():
    net = ann.Network()
    with pytest.raises(ann.InvalidTypeError, match="InputArray is not a neuron model"):
        net.create(2, ann.InputArray)
    assert net.create(3, ann.Izhikevich).size == 3  # a model class is still fine
