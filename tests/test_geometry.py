"""Geometry helpers: rank <-> coordinates round trips and errors."""
import pytest

from anncompiler.core.geometry import (coordinates_from_rank, normalise_geometry,
                                       normalized_coordinates_from_rank, rank_from_coordinates,
                                       size_of)
from anncompiler.errors import IndexOutOfRangeError


def test_normalise():
    assert normalise_geometry(5) == (5,)
    assert normalise_geometry((3, 4)) == (3, 4)
    assert normalise_geometry([2, 3, 4]) == (2, 3, 4)
    assert normalise_geometry(10.0) == (10,)
    for bad in (0, -1, (3, 0), ()):
        with pytest.raises(ValueError):
            normalise_geometry(bad)
    assert size_of((2, 3, 4)) == 24 and size_of(7) == 7


@pytest.mark.parametrize("geometry", [(7,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])
def test_round_trip(geometry):
    for rank in range(size_of(geometry)):
        coord = coordinates_from_rank(geometry, rank)
        assert isinstance(coord, tuple) and len(coord) == len(geometry)
        assert rank_from_coordinates(geometry, coord) == rank


def test_c_order_like_annarchy():
    assert coordinates_from_rank((3, 3), 2) == (0, 2)
    assert coordinates_from_rank((3, 3), 6) == (2, 0)
    assert rank_from_coordinates((3, 3), (2, 0)) == 6
    assert rank_from_coordinates((2, 3, 4), (1, 2, 3)) == 23
    assert coordinates_from_rank(3, 1) == (1,)          # ANNarchy: a 1-tuple in 1-D
    assert rank_from_coordinates(3, 1) == 1             # 1-D accepts an int
    assert rank_from_coordinates((3,), (1,)) == 1


@pytest.mark.parametrize("geometry, coord", [((3, 3), (3, 0)), ((3, 3), (0, -1)),
                                             ((3, 3), (1,)), ((3, 3), 1), (5, 5), (5, -1)])
def test_rank_errors(geometry, coord):
    with pytest.raises(IndexOutOfRangeError) as e:
        rank_from_coordinates(geometry, coord)
    assert str(geometry if isinstance(geometry, tuple) else (geometry,)) in str(e.value)


@pytest.mark.parametrize("rank", [-1, 9, 100])
def test_coordinate_errors(rank):
    with pytest.raises(IndexOutOfRangeError) as e:
        coordinates_from_rank((3, 3), rank)
    assert "(3, 3)" in str(e.value)


def test_normalized():
    assert normalized_coordinates_from_rank((5,), 4) == (1.0,)
    assert normalized_coordinates_from_rank((3, 5), 7) == (0.5, 0.5)
    assert normalized_coordinates_from_rank((3, 1), 2) == (1.0, 0.0)
    assert normalized_coordinates_from_rank((3, 5), 14, norm=2.0) == (2.0, 2.0)
