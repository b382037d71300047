"""Connection patterns -> Connectivity: counts, order, statistics, self-connections, weights."""
import numpy as np
import pytest

from anncompiler.core import connectors as C
from anncompiler.core.random import Normal, Uniform
from anncompiler.errors import ConnectivityError, ShapeError


def rows(conn):
    """Synapse list (post, pre) from the CSR arrays."""
    post = np.repeat(conn.post_ranks, np.diff(conn.row_ptr))
    return post, conn.pre_ranks


def check_structure(conn):
    conn.verify()
    assert conn.post_ranks.dtype == np.int32 and conn.row_ptr.dtype == np.int32
    assert conn.pre_ranks.dtype == np.int32
    assert np.all(np.diff(conn.post_ranks) > 0)
    assert np.all(np.diff(conn.row_ptr) > 0)           # no empty rows stored
    for k in range(conn.n_rows):
        assert np.all(np.diff(conn.pre_ranks[conn.row_ptr[k]:conn.row_ptr[k + 1]]) > 0)


def n_self(conn):
    post, pre = rows(conn)
    return int(np.sum(post == pre))


R = np.arange


# -- all_to_all --------------------------------------------------------------
def test_all_to_all_counts():
    c = C.all_to_all(R(5), R(4), 5, 4, 0.5)
    check_structure(c)
    assert c.nb_synapses == 20 and c.single_weight and c.weights == 0.5
    assert c.description.startswith("all_to_all") and (c.pre_size, c.post_size) == (5, 4)


def test_all_to_all_self_connections():
    c = C.all_to_all(R(10), R(10), 10, 10, 1.0, same_population=True)
    check_structure(c)
    assert c.nb_synapses == 90 and n_self(c) == 0
    c = C.all_to_all(R(10), R(10), 10, 10, 1.0, same_population=True, allow_self_connections=True)
    assert c.nb_synapses == 100 and n_self(c) == 10
    c = C.all_to_all(R(10), R(10), 10, 10, 1.0, same_population=False)   # two populations
    assert c.nb_synapses == 100


def test_all_to_all_views_of_same_population():
    c = C.all_to_all(R(0, 6), R(3, 10), 10, 10, 1.0, same_population=True)
    check_structure(c)
    assert c.nb_synapses == 6 * 7 - 3 and n_self(c) == 0
    assert c.post_ranks.tolist() == list(range(3, 10))


# -- one_to_one --------------------------------------------------------------
def test_one_to_one():
    c = C.one_to_one(R(5), R(5), 5, 5, 2.0, same_population=True)
    check_structure(c)
    post, pre = rows(c)
    assert post.tolist() == pre.tolist() == list(range(5)) and c.weights == 2.0


def test_one_to_one_views():
    c = C.one_to_one(R(10, 15), R(0, 5), 20, 5, Uniform(0, 1))
    post, pre = rows(c)
    assert pre.tolist() == list(range(10, 15)) and post.tolist() == list(range(5))
    assert c.weights.shape == (5,)
    with pytest.raises(ConnectivityError):
        C.one_to_one(R(4), R(5), 5, 5)


# -- fixed_probability ---------------------------------------------------------
def test_fixed_probability_statistics():
    n_pre, n_post, p = 400, 500, 0.05
    c = C.fixed_probability(p, R(n_pre), R(n_post), n_pre, n_post, 1.0, rng=np.random.default_rng(3))
    check_structure(c)
    mean, sd = n_pre * n_post * p, np.sqrt(n_pre * n_post * p * (1 - p))
    assert abs(c.nb_synapses - mean) < 5 * sd
    assert c.description == "fixed_probability(probability=0.05)"


def test_fixed_probability_self_connections():
    n = 200
    c = C.fixed_probability(0.5, R(n), R(n), n, n, 1.0, same_population=True, rng=np.random.default_rng(0))
    check_structure(c)
    assert n_self(c) == 0
    mean, sd = n * (n - 1) * 0.5, np.sqrt(n * (n - 1) * 0.25)
    assert abs(c.nb_synapses - mean) < 5 * sd
    c = C.fixed_probability(1.0, R(n), R(n), n, n, 1.0, same_population=True, allow_self_connections=True)
    assert n_self(c) == n and c.nb_synapses == n * n


def test_fixed_probability_views_of_same_population_drop_self():
    # anncompiler differs from ANNarchy 5.0.4 here (documented)
    c = C.fixed_probability(1.0, R(0, 50), R(25, 100), 100, 100, 1.0, same_population=True)
    check_structure(c)
    assert n_self(c) == 0 and c.nb_synapses == 50 * 75 - 25


def test_fixed_probability_edges_and_errors():
    c = C.fixed_probability(0.0, R(10), R(10), 10, 10)
    check_structure(c)
    assert c.nb_synapses == 0 and c.n_rows == 0
    for p in (-0.1, 1.1):
        with pytest.raises(ConnectivityError):
            C.fixed_probability(p, R(10), R(10), 10, 10)


def test_fixed_probability_reproducible():
    a = C.fixed_probability(0.1, R(100), R(100), 100, 100, Normal(0, 1, rng=np.random.default_rng(1)),
                            rng=np.random.default_rng(7))
    b = C.fixed_probability(0.1, R(100), R(100), 100, 100, Normal(0, 1, rng=np.random.default_rng(1)),
                            rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.pre_ranks, b.pre_ranks)
    np.testing.assert_array_equal(a.row_ptr, b.row_ptr)
    np.testing.assert_array_equal(a.weights, b.weights)


def test_fixed_probability_speed():
    import time
    rng = np.random.default_rng(0)
    C.fixed_probability(0.02, R(3200), R(4000), 3200, 4000, 1.0, rng=rng)  # warm-up
    t = time.perf_counter()
    c = C.fixed_probability(0.02, R(3200), R(4000), 3200, 4000, 1.0, rng=rng)
    dt = time.perf_counter() - t
    check_structure(c)
    assert dt < 0.25  # target < 50 ms; loose bound for loaded CI machines


# -- fixed_number_pre / post -------------------------------------------------
def test_fixed_number_pre():
    c = C.fixed_number_pre(7, R(20), R(30), 20, 30, 1.0, same_population=False, rng=np.random.default_rng(0))
    check_structure(c)
    assert c.n_rows == 30 and np.all(np.diff(c.row_ptr) == 7)


def test_fixed_number_pre_self():
    c = C.fixed_number_pre(9, R(10), R(10), 10, 10, 1.0, same_population=True, rng=np.random.default_rng(0))
    check_structure(c)
    assert n_self(c) == 0 and np.all(np.diff(c.row_ptr) == 9)
    with pytest.raises(ConnectivityError):
        C.fixed_number_pre(10, R(10), R(10), 10, 10, same_population=True)
    c = C.fixed_number_pre(10, R(10), R(10), 10, 10, same_population=True, allow_self_connections=True)
    assert n_self(c) == 10
    # views of the same population
    c = C.fixed_number_pre(4, R(0, 5), R(0, 10), 10, 10, same_population=True, rng=np.random.default_rng(1))
    assert n_self(c) == 0 and c.nb_synapses == 40


def test_fixed_number_post():
    c = C.fixed_number_post(5, R(20), R(30), 20, 30, Uniform(0, 1), rng=np.random.default_rng(0))
    check_structure(c)
    post, pre = rows(c)
    assert np.all(np.bincount(pre, minlength=20) == 5)
    assert c.weights.shape == (100,)
    c = C.fixed_number_post(9, R(10), R(10), 10, 10, same_population=True, rng=np.random.default_rng(2))
    check_structure(c)
    assert n_self(c) == 0 and c.nb_synapses == 90
    with pytest.raises(ConnectivityError):
        C.fixed_number_post(31, R(20), R(30), 20, 30)


# -- from_matrix -------------------------------------------------------------
def test_from_matrix_full_float_keeps_everything():
    W = np.arange(100, dtype=float).reshape(10, 10)
    W[3, :] = 0.0
    c = C.from_matrix(W, R(10), R(10), 10, 10)
    check_structure(c)
    assert c.nb_synapses == 100 and n_self(c) == 10
    np.testing.assert_array_equal(c.dense(), W)


def test_from_matrix_object_with_none():
    W = [[None, 1.0, 2.0], [0.5, None, None]]        # post x pre
    c = C.from_matrix(W, R(3), R(2), 3, 2)
    check_structure(c)
    post, pre = rows(c)
    assert list(zip(post.tolist(), pre.tolist())) == [(0, 1), (0, 2), (1, 0)]
    assert c.weights.tolist() == [1.0, 2.0, 0.5]


def test_from_matrix_pre_post_and_views():
    W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])   # pre x post
    c = C.from_matrix(W, R(3), np.array([2, 4]), 3, 5, pre_post=True)
    check_structure(c)
    assert c.post_ranks.tolist() == [2, 4]
    np.testing.assert_array_equal(c.dense()[[2, 4]], W.T)


def test_from_matrix_rows_unsorted_with_delays():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    D = np.array([[10.0, 20.0], [30.0, 40.0]])
    c = C.from_matrix(W, np.array([1, 0]), np.array([1, 0]), 2, 2, delays=D)
    check_structure(c)
    # post 0 is row 1 of W, pre 0 is column 1
    assert c.weights.tolist() == [4.0, 3.0, 2.0, 1.0]
    assert c.delays.tolist() == [40.0, 30.0, 20.0, 10.0]


def test_from_matrix_shape_error():
    with pytest.raises(ShapeError) as e:
        C.from_matrix(np.ones((3, 4)), R(3), R(4), 3, 4)
    assert "(3, 4)" in str(e.value) and "(4, 3)" in str(e.value)


def test_from_sparse():
    sp = pytest.importorskip("scipy.sparse")
    M = sp.lil_matrix((3, 4))          # pre x post
    M[0, 1] = 2.0
    M[2, 3] = 5.0
    c = C.from_sparse(M, R(3), R(4), 3, 4)
    check_structure(c)
    assert c.dense()[1, 0] == 2.0 and c.dense()[3, 2] == 5.0 and c.nb_synapses == 2


# -- weights and delays --------------------------------------------------------
def test_single_weight_and_forced_multiple():
    c = C.all_to_all(R(3), R(3), 3, 3, 0.25)
    assert c.single_weight and isinstance(c.weights, float)
    c = C.all_to_all(R(3), R(3), 3, 3, 0.25, force_multiple_weights=True)
    assert not c.single_weight and c.weights.dtype == np.float64 and c.weights.shape == (9,)
    assert np.all(c.weights == 0.25)


class CountingNormal(Normal):
    calls = []

    def get_values(self, shape):
        self.calls.append(shape)
        return super().get_values(shape)


def test_distribution_sampled_once_per_synapse():
    w = CountingNormal(0.0, 1.0, rng=np.random.default_rng(0))
    d = Uniform(1.0, 5.0, rng=np.random.default_rng(1))
    c = C.fixed_probability(0.3, R(50), R(60), 50, 60, w, d, rng=np.random.default_rng(2))
    check_structure(c)
    assert w.calls == [c.nb_synapses]
    assert c.weights.shape == (c.nb_synapses,) and c.delays.shape == (c.nb_synapses,)
    assert len(np.unique(c.weights)) == c.nb_synapses
    assert c.delays.min() >= 1.0 and c.delays.max() < 5.0
    # values in synapse order: the same generator state gives the same first value
    expected = Normal(0.0, 1.0, rng=np.random.default_rng(0)).get_values(c.nb_synapses)
    np.testing.assert_array_equal(c.weights, expected)


def test_scalar_delay_stays_scalar():
    c = C.all_to_all(R(3), R(3), 3, 3, 1.0, 2.0)
    assert np.ndim(c.delays) == 0 and c.delays == 2.0


def test_bad_ranks():
    with pytest.raises(ConnectivityError):
        C.all_to_all(R(5), R(4), 4, 4)


@pytest.mark.parametrize("no_self", [True, False])
def test_whole_populations_skip_the_rank_lookup_with_the_same_pairs(no_self):
    """``fixed_probability``'s candidates of whole populations (no lookup, the diagonal dropped
    before the division) are the pairs of the general path, in the same order."""
    from anncompiler.core.connectors import _candidate_pairs
    rng = np.random.default_rng(4)
    for n in (1, 2, 7, 50):
        ranks = np.arange(n)
        flat = np.sort(rng.choice(n * n, size=min(n * n, 3 * n), replace=False))
        P, Q = _candidate_pairs(flat, ranks, ranks, n, n, no_self)
        rows, cols = flat // n, flat % n
        keep = rows != cols if no_self else np.ones(flat.size, bool)
        assert np.array_equal(P, rows[keep]) and np.array_equal(Q, cols[keep])
