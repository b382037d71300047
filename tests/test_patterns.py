"""Distance-based, user-defined and file-based connectors against direct numpy computations."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import ConnectivityError

RATE = ann.Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc)")
INPUT = ann.Neuron(parameters="r0 = 0.0", equations="r = r0")


def normalized(geometry):
    coords = np.stack(np.unravel_index(np.arange(int(np.prod(geometry))), geometry), axis=1).astype(float)
    return coords / np.array([d - 1 if d > 1 else np.inf for d in geometry])


def expected(profile, peak, limit, pre_geo, post_geo, no_self):
    """{(post, pre): w} by direct evaluation of every pair."""
    pre, post = normalized(pre_geo), normalized(post_geo)
    out = {}
    for i, p in enumerate(post):
        for j, q in enumerate(pre):
            w = profile(((p - q) ** 2).sum())
            if abs(w) > abs(limit * peak) and not (no_self and i == j):
                out[(i, j)] = w
    return out


def synapses(proj):
    m = proj.connectivity_matrix(fill=np.nan)
    return {(int(i), int(j)): m[i, j] for i, j in zip(*np.nonzero(~np.isnan(m)))}


def check(found, wanted):
    assert found.keys() == wanted.keys()
    assert all(np.isclose(found[k], wanted[k], rtol=1e-12, atol=0) for k in wanted)


def test_gaussian_between_two_populations():
    net = ann.Network(dt=1.0, seed=1)
    pre, post = net.create((9, 9), INPUT), net.create((5, 5), RATE)
    proj = net.connect(pre, post, "exc").gaussian(amp=2.0, sigma=0.2, limit=0.05)
    check(synapses(proj), expected(lambda d2: 2.0 * np.exp(-d2 / 0.08), 2.0, 0.05, (9, 9), (5, 5), False))


def test_dog_onto_itself_without_self_connections():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create((7, 6), RATE)
    proj = net.connect(pop, pop, "exc").dog(amp_pos=1.0, sigma_pos=0.2, amp_neg=0.4, sigma_neg=0.5)

    def profile(d2):
        return np.exp(-d2 / 2 / 0.04) - 0.4 * np.exp(-d2 / 2 / 0.25)
    check(synapses(proj), expected(profile, 0.6, 0.01, (7, 6), (7, 6), True))
    net.compile()
    net.simulate(2.0)  # compiles and runs


def test_distance_patterns_refuse_views_and_mismatched_dimensions():
    net = ann.Network(dt=1.0)
    a, b = net.create((4, 4), INPUT), net.create(16, RATE)
    with pytest.raises(ConnectivityError, match="same number of dimensions"):
        net.connect(a, b, "exc").gaussian(1.0, 0.3)
    with pytest.raises(ConnectivityError, match="whole populations"):
        net.connect(a[:2, :], net.create((4, 4), RATE), "exc").gaussian(1.0, 0.3)


def pattern(pre, post, weight, every, dt=None):
    """Post neuron k receives from every ``every``-th pre neuron (delays of 2 steps)."""
    lil = ann.LILConnectivity()
    for k in post.ranks[::-1]:  # any order
        lil.add(int(k), list(range(0, pre.size, every)), weight, 2 * dt)
    return lil


def test_from_function_builds_the_listed_synapses_and_simulates():
    net = ann.Network(dt=1.0, seed=2)
    pre, post = net.create(10, INPUT), net.create(4, RATE)
    pre.r0 = np.arange(10.0)
    proj = net.connect(pre, post, "exc").from_function(pattern, weight=0.5, every=3)
    assert proj.nb_synapses == 4 * 4 and proj.post_ranks == [0, 1, 2, 3]
    assert proj.pre_ranks == [[0, 3, 6, 9]] * 4
    assert np.allclose(proj.connectivity.delays, 2.0)
    with pytest.raises(ConnectivityError, match="not an ann.LILConnectivity"):
        net.connect(pre, post, "inh").from_function(lambda pre, post: [])


def test_from_function_checks_ranks():
    net = ann.Network(dt=1.0)
    pre, post = net.create(5, INPUT), net.create(3, RATE)

    def outside(pre, post):
        lil = ann.LILConnectivity()
        lil.add(7, [0, 1], 1.0)
        return lil
    with pytest.raises(ConnectivityError, match="post-synaptic rank 7"):
        net.connect(pre, post, "exc").from_function(outside)
    with pytest.raises(ConnectivityError, match="2 weights for 3"):
        ann.LILConnectivity().add(0, [0, 1, 2], [1.0, 2.0])


@pytest.mark.parametrize("suffix", [".npz", ".data", ".data.gz"])
def test_save_connectivity_round_trip(tmp_path, suffix):
    net = ann.Network(dt=1.0, seed=3)
    pre, post = net.create(30, INPUT), net.create(20, RATE)
    proj = net.connect(pre, post, "exc").fixed_probability(0.3, weights=ann.Uniform(0, 1, rng=net.default_rng),
                                                             delays=1.0)
    net.compile()
    proj.w = 0.25  # changed after compile: the saved weights are the current ones
    filename = str(tmp_path / f"c{suffix}")
    proj.save_connectivity(filename)
    other = ann.Network(dt=1.0)
    a, b = other.create(30, INPUT), other.create(20, RATE)
    copy = other.connect(a, b, "exc").from_file(filename)
    assert copy.pre_ranks == proj.pre_ranks and copy.post_ranks == proj.post_ranks
    assert np.array_equal(copy.connectivity_matrix(), proj.connectivity_matrix())
    m = copy.connectivity_matrix(fill=np.nan)
    assert np.all(np.isnan(m) | (m == 0.25)) and (m == 0.25).sum() == proj.nb_synapses
    with pytest.raises(ConnectivityError, match="no file"):
        other.connect(a, b, "inh").from_file(str(tmp_path / "missing.npz"))


def test_from_matrix_market(tmp_path):
    path = tmp_path / "m.mtx"
    path.write_text("%%MatrixMarket matrix coordinate real general\n% a comment\n3 4 4\n"
                    "1 1 0.5\n1 4 -1.0\n3 2 2.0\n3 3 0.25\n")
    net = ann.Network(dt=1.0)
    pre, post = net.create(4, INPUT), net.create(3, RATE)
    proj = net.connect(pre, post, "exc").from_matrix_market(str(path))
    m = proj.connectivity_matrix(fill=np.nan)
    assert proj.post_ranks == [0, 2] and proj.pre_ranks == [[0, 3], [1, 2]]
    assert m[0, 0] == 0.5 and m[0, 3] == -1.0 and m[2, 1] == 2.0 and m[2, 2] == 0.25 and np.isnan(m[1]).all()
    bad = tmp_path / "bad.mtx"
    bad.write_text("%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n")
    with pytest.raises(ConnectivityError, match="outside"):
        net.connect(pre, post, "inh").from_matrix_market(str(bad))


def test_sparse_random_matrix_and_from_sparse():
    pytest.importorskip("scipy.sparse")
    w = ann.sparse_random_matrix(50, 40, 0.2, 0.5)
    assert w.shape == (50, 40)
    net = ann.Network(dt=1.0)
    pre, post = net.create(50, INPUT), net.create(40, RATE)
    proj = net.connect(pre, post, "exc").from_sparse(w)
    assert proj.nb_synapses == w.nnz
    assert np.array_equal(np.nan_to_num(proj.connectivity_matrix()), w.toarray().T)
