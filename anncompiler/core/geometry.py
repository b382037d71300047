"""Pure functions on population geometries (rank <-> coordinates).

A geometry is a tuple of positive ints, e.g. ``(100,)`` or ``(10, 10)``.
Ranks follow C order like numpy (the last coordinate varies fastest), as in
ANNarchy.  Kept free of any Population object so that views, connectors and
the compiler can share them.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from ..errors import IndexOutOfRangeError, InvalidTypeError, InvalidValueError


def _as_int(value: Any, what: str) -> int:
    """An integral value as int; bools and non-integral numbers are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{what} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if float(value).is_integer():
        return int(value)
    raise InvalidValueError(f"{what} must be an integer, got {value!r}")


def normalise_geometry(geometry: Any) -> tuple:
    """``n`` -> ``(n,)``; a tuple/list -> a tuple of ints; non-positive sizes -> ValueError.

    Integral floats are accepted (ANNarchy calls ``int()`` on them).
    """
    if isinstance(geometry, (tuple, list)):
        if len(geometry) == 0:
            raise InvalidValueError("a geometry needs at least one dimension")
        dims = tuple(_as_int(d, "a geometry dimension") for d in geometry)
    else:
        dims = (_as_int(geometry, "a population size"),)
    if any(d <= 0 for d in dims):
        raise InvalidValueError(f"every dimension of a geometry must be positive, got {dims}")
    return dims


def size_of(geometry: Any) -> int:
    """Number of neurons of a geometry."""
    return math.prod(normalise_geometry(geometry))


def rank_from_coordinates(geometry: Any, coord: Any) -> int:
    """Rank of the neuron at ``coord`` (C order).

    A 1-D geometry also accepts a bare int.  Negative or too large coordinates
    raise IndexOutOfRangeError (no wrap-around: a coordinate names a neuron).
    """
    geometry = normalise_geometry(geometry)
    if isinstance(coord, (tuple, list)):
        coords = tuple(coord)
    elif len(geometry) == 1 and not isinstance(coord, bool) and isinstance(coord, numbers.Integral):
        coords = (coord,)
    else:
        raise IndexOutOfRangeError(
            f"coordinates {coord!r} do not match a population of geometry {geometry}: "
            f"give a tuple of {len(geometry)} integers")
    if len(coords) != len(geometry):
        raise IndexOutOfRangeError(
            f"coordinates {coord!r} have {len(coords)} dimension(s), but the population "
            f"has geometry {geometry} ({len(geometry)} dimension(s))")
    rank = 0
    for c, d in zip(coords, geometry):
        if isinstance(c, bool) or not isinstance(c, numbers.Integral):
            raise IndexOutOfRangeError(
                f"coordinates {coord!r} must be integers (population geometry {geometry})")
        c = int(c)
        if not 0 <= c < d:
            raise IndexOutOfRangeError(
                f"there is no neuron of coordinates {coord!r} in a population of geometry {geometry}")
        rank = rank * d + c
    return rank


def coordinates_from_rank(geometry: Any, rank: Any) -> tuple:
    """Coordinates (a tuple of ints, C order) of the neuron of ``rank``.

    Like ANNarchy, a 1-D population gives a 1-tuple: ``(rank,)``.
    """
    geometry = normalise_geometry(geometry)
    size = math.prod(geometry)
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral):
        raise IndexOutOfRangeError(f"a rank must be an integer, got {rank!r}")
    rank = int(rank)
    if not 0 <= rank < size:
        raise IndexOutOfRangeError(
            f"there is no neuron of rank {rank} in a population of size {size} (geometry {geometry})")
    coords = []
    for d in reversed(geometry):
        rank, c = divmod(rank, d)
        coords.append(c)
    return tuple(reversed(coords))


def normalized_coordinates_from_rank(geometry: Any, rank: Any, norm: float = 1.0) -> tuple:
    """Coordinates mapped onto [0, norm]^d: ``c / (dim - 1) * norm``; dims of size 1 give 0.0.

    (ANNarchy's Cython version ignores ``norm`` for 1-3 dimensions; we apply it
    everywhere, as documented.)
    """
    geometry = normalise_geometry(geometry)
    coords = coordinates_from_rank(geometry, rank)
    return tuple(float(norm) * c / (d - 1) if d > 1 else 0.0 for c, d in zip(coords, geometry))


__all__ = ["normalise_geometry", "size_of", "rank_from_coordinates", "coordinates_from_rank",
           "normalized_coordinates_from_rank"]
