"""ANNarchy's ``pop[key]`` rules, as a pure function of the geometry and the key.

``resolve_index`` turns any accepted key into population ranks plus what the
result should be (a PopulationView with a geometry, or an IndividualNeuron),
so that Population and PopulationView only wrap the answer.  Mistakes raise
IndexOutOfRangeError naming the key and the population geometry, instead of
ANNarchy's silent garbage ranks.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional

import numpy as np

from ..errors import IndexOutOfRangeError
from .geometry import normalise_geometry

_RANK_DTYPE = np.int64


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _fail(key: Any, geometry: tuple, why: str) -> IndexOutOfRangeError:
    size = math.prod(geometry)
    return IndexOutOfRangeError(
        f"index {key!r} {why} (population of size {size}, geometry {geometry})")


def _one_int(value: int, extent: int, key: Any, geometry: tuple) -> int:
    """A (possibly negative) index into ``range(extent)``."""
    v = int(value)
    if v < 0:
        v += extent
    if not 0 <= v < extent:
        raise _fail(key, geometry, f"is out of range: {value} not in [-{extent}, {extent - 1}]")
    return v


def _one_slice(s: slice, extent: int, key: Any, geometry: tuple) -> np.ndarray:
    """Indices selected by ``s`` along an axis of ``extent``.

    Bounds beyond the axis are errors (numpy would clamp them; ANNarchy would
    produce invalid ranks), negative bounds count from the end.
    """
    for k in (s.start, s.stop, s.step):
        if k is not None and not _is_int(k):
            raise _fail(key, geometry, "has a slice with non-integer bounds")
    if s.step == 0:
        raise _fail(key, geometry, "has a slice step of zero")
    for bound in (s.start, s.stop):
        if bound is not None:
            b = bound + extent if bound < 0 else bound
            if not 0 <= b <= extent:
                raise _fail(key, geometry, f"is out of range: slice bound {bound} outside an axis of {extent}")
    return np.arange(*s.indices(extent), dtype=_RANK_DTYPE)


def _int_array(values: Any, extent: int, key: Any, geometry: tuple) -> np.ndarray:
    """A 1-D list/array of ints (negative allowed) or a boolean mask of length ``extent``."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise _fail(key, geometry, "must be one-dimensional (use a tuple for coordinates)")
    if arr.dtype == bool:
        if arr.shape[0] != extent:
            raise _fail(key, geometry, f"is a boolean mask of length {arr.shape[0]}, expected {extent}")
        return np.flatnonzero(arr).astype(_RANK_DTYPE)
    if arr.size == 0:
        return np.zeros(0, dtype=_RANK_DTYPE)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"population indices must be integers or booleans, got {key!r}")
    arr = arr.astype(_RANK_DTYPE)
    bad = (arr < -extent) | (arr >= extent)
    if bad.any():
        raise _fail(key, geometry, f"is out of range: contains {arr[bad][0]}")
    return np.where(arr < 0, arr + extent, arr)


def resolve_index(geometry: Any, key: Any) -> tuple[np.ndarray, Optional[tuple], bool]:
    """Resolve ``pop[key]`` -> ``(ranks, view_geometry, individual)``.

    * int (negative allowed)             -> ranks ``[k]``, geometry ``(1,)``
    * slice / list / range / 1-D ndarray -> ranks in the given order, geometry ``(n,)``;
      a boolean list/array is a mask over all ranks
    * tuple of ints, one per dimension   -> an individual neuron: ``([rank], None, True)``
    * tuple mixing ints and slices (or int lists) -> a view keeping its geometry,
      ranks in C order; an int keeps its axis with length 1 (``pop[1:3, 1]`` -> ``(2, 1)``)

    ``view_geometry`` follows ANNarchy (``(n,)`` for flat selections).  An empty
    selection is refused: a PopulationView needs at least one neuron.
    """
    geometry = normalise_geometry(geometry)
    size = math.prod(geometry)
    individual = False

    if _is_int(key):
        ranks = np.array([_one_int(key, size, key, geometry)], dtype=_RANK_DTYPE)
        view_geometry: Optional[tuple] = (1,)
    elif isinstance(key, slice):
        ranks = _one_slice(key, size, key, geometry)
        view_geometry = (len(ranks),)
    elif isinstance(key, (list, range, np.ndarray)):
        if isinstance(key, np.ndarray) and key.ndim == 0:
            return resolve_index(geometry, key.item())
        ranks = _int_array(list(key) if isinstance(key, range) else key, size, key, geometry)
        view_geometry = (len(ranks),)
    elif isinstance(key, tuple):
        if len(key) != len(geometry):
            raise _fail(key, geometry, f"has {len(key)} coordinate(s) but the population has "
                                       f"{len(geometry)} dimension(s)")
        if all(_is_int(k) for k in key):
            coords = [_one_int(k, d, key, geometry) for k, d in zip(key, geometry)]
            rank = int(np.ravel_multi_index(coords, geometry))
            ranks = np.array([rank], dtype=_RANK_DTYPE)
            view_geometry = None
            individual = True
        else:
            axes = []
            for k, d in zip(key, geometry):
                if _is_int(k):
                    axes.append(np.array([_one_int(k, d, key, geometry)], dtype=_RANK_DTYPE))
                elif isinstance(k, slice):
                    axes.append(_one_slice(k, d, key, geometry))
                elif isinstance(k, (list, range, np.ndarray)):
                    axes.append(_int_array(list(k) if isinstance(k, range) else k, d, key, geometry))
                else:
                    raise TypeError(f"cannot index a population with {key!r}: "
                                    f"coordinates must be ints, slices or lists of ints")
            view_geometry = tuple(len(a) for a in axes)
            grids = np.meshgrid(*axes, indexing="ij")
            ranks = np.ravel_multi_index([g.ravel() for g in grids], geometry).astype(_RANK_DTYPE)
    else:
        raise TypeError(f"cannot index a population with {key!r} of type {type(key).__name__}: "
                        f"use an int, a slice, a list/array of ints or booleans, or a tuple of coordinates")

    if len(ranks) == 0:
        raise _fail(key, geometry, "selects no neuron")
    return ranks, view_geometry, individual


def union_ranks(a: Any, b: Any) -> np.ndarray:
    """Ranks of ``view_a + view_b``: the sorted, duplicate-free union.

    ANNarchy builds ``list(set(a + b))``; for ints that is in practice sorted
    ascending, which we make explicit (the geometry of the sum is lost, as in
    ANNarchy).
    """
    return np.union1d(np.asarray(a, dtype=_RANK_DTYPE).ravel(),
                      np.asarray(b, dtype=_RANK_DTYPE).ravel()).astype(_RANK_DTYPE)


__all__ = ["resolve_index", "union_ranks"]
