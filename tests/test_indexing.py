"""pop[key] resolution: every key form, geometry of views, negative indices, errors."""
import numpy as np
import pytest

from anncompiler.core.indexing import resolve_index, union_ranks
from anncompiler.errors import IndexOutOfRangeError


def ranks(g, k):
    r, geo, ind = resolve_index(g, k)
    assert r.dtype == np.int64
    return r.tolist()


def test_int_and_negative():
    assert resolve_index(10, 3)[0].tolist() == [3]
    r, geo, ind = resolve_index(10, -1)
    assert r.tolist() == [9] and geo == (1,) and ind is False
    assert ranks((4, 5), 7) == [7]          # an int is a rank, even in 2-D
    assert ranks(10, np.int64(2)) == [2]


def test_slices():
    assert ranks(10, slice(2, 5)) == [2, 3, 4]
    assert ranks(10, slice(None, None, 3)) == [0, 3, 6, 9]
    assert ranks(10, slice(-3, None)) == [7, 8, 9]
    assert ranks(10, slice(None, -8)) == [0, 1]
    assert ranks(10, slice(None, None, -4)) == [9, 5, 1]
    assert resolve_index(10, slice(2, 5))[1] == (3,)


def test_lists_arrays_masks():
    assert ranks(10, [5, 1, -1]) == [5, 1, 9]      # order as given
    assert ranks(10, np.array([0, 2])) == [0, 2]
    assert ranks(10, range(3)) == [0, 1, 2]
    mask = np.zeros(10, bool)
    mask[[1, 4]] = True
    assert ranks(10, mask) == [1, 4]
    assert ranks(3, [True, False, True]) == [0, 2]
    assert resolve_index(10, [5, 1])[1] == (2,)


def test_individual_neuron():
    r, geo, ind = resolve_index((10, 10), (2, 3))
    assert r.tolist() == [23] and geo is None and ind is True
    assert resolve_index((10, 10), (-1, -1))[0].tolist() == [99]
    assert resolve_index(10, (4,))[2] is True


def test_tuple_slices_keep_geometry():
    r, geo, ind = resolve_index((10, 10), (slice(2, 5), slice(None)))
    assert geo == (3, 10) and ind is False
    assert r.tolist() == list(range(20, 50))
    r, geo, _ = resolve_index((3, 3), (slice(1, 3), 1))
    assert geo == (2, 1) and r.tolist() == [4, 7]
    r, geo, _ = resolve_index((2, 3, 4), (1, slice(0, 2), slice(None, None, 2)))
    assert geo == (1, 2, 2) and r.tolist() == [12, 14, 16, 18]
    r, geo, _ = resolve_index((2, 2, 2, 2), (slice(None),) * 4)
    assert geo == (2, 2, 2, 2) and r.tolist() == list(range(16))
    r, geo, _ = resolve_index((3, 3), (slice(-2, None), -1))
    assert r.tolist() == [5, 8]


@pytest.mark.parametrize("g, key", [
    (10, 10), (10, -11), (10, slice(0, 11)), (10, slice(-11, None)), (10, [0, 10]), (10, [-11]),
    (10, np.array([[0, 1]])), (10, [True, False]), ((3, 3), (3, 0)), ((3, 3), (0, -4)),
    ((3, 3), (1,)), ((3, 3), (1, 2, 0)), ((3, 3), (slice(0, 4), 0)), (10, slice(5, 5)), (10, []),
])
def test_errors(g, key):
    with pytest.raises(IndexOutOfRangeError) as e:
        resolve_index(g, key)
    msg = str(e.value)
    assert "index" in msg and str(g if isinstance(g, tuple) else (g,)) in msg


@pytest.mark.parametrize("key", ["a", 1.5, [1.0, 2.0], None])
def test_bad_types(key):
    with pytest.raises(TypeError):
        resolve_index(10, key)


def test_union():
    u = union_ranks(np.array([5, 1, 3]), [3, 7, 0])
    assert u.tolist() == [0, 1, 3, 5, 7] and u.dtype == np.int64
