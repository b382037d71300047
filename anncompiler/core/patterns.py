"""Connection patterns beyond the random ones: distance-based (``gaussian``, ``dog``) and
user-defined (``LILConnectivity`` filled by a function), as pure functions -> Connectivity.

Distance-based patterns compare normalized coordinates (each coordinate ``c / (dim - 1)``, 0 for
a dimension of size 1): post neuron ``i`` receives from pre neuron ``j`` the weight of the profile
at the squared distance of their normalized coordinates, and the synapse exists only where that
weight is larger in magnitude than ``limit`` times the profile's peak.  Both populations need the
same number of dimensions.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConnectivityError
from ..ir.connectivity import Connectivity
from . import geometry as geo
from .connectors import _build, _no_self, _ranks

#: post neurons handled at once (bounds the distance matrix in memory)
_CHUNK_ELEMENTS = 1 << 22


def _normalized(geometry, ranks: np.ndarray) -> np.ndarray:
    """Normalized coordinates of ``ranks``: float64 [n, dims]."""
    geometry = geo.normalise_geometry(geometry)
    coords = np.stack(np.unravel_index(ranks, geometry), axis=1).astype(np.float64)
    scale = np.array([1.0 / (d - 1) if d > 1 else 0.0 for d in geometry])
    return coords * scale


def _profile_pattern(profile, peak: float, what: str, pre_ranks, post_ranks, pre_size: int, post_size: int,
                     pre_geometry, post_geometry, delays: Any, limit: float, same_population: bool,
                     allow_self_connections: bool, extra: dict) -> Connectivity:
    """Synapses where ``|profile(squared distance)| > limit * |peak|``, weighted by the profile."""
    if len(geo.normalise_geometry(pre_geometry)) != len(geo.normalise_geometry(post_geometry)):
        raise ConnectivityError(f"{what}: the pre and post populations need the same number of dimensions, "
                                f"got geometries {pre_geometry} and {post_geometry}")
    if not np.isfinite(limit) or limit < 0:
        raise ConnectivityError(f"{what}: limit must be a finite number >= 0, got {limit!r}")
    pre = _ranks(pre_ranks, pre_size, "pre")
    post = _ranks(post_ranks, post_size, "post")
    pre_xy, post_xy = _normalized(pre_geometry, pre), _normalized(post_geometry, post)
    no_self = _no_self(same_population, allow_self_connections)
    threshold = abs(limit * peak)
    rows, cols, values = [], [], []
    step = max(1, _CHUNK_ELEMENTS // max(1, pre.size))
    for start in range(0, post.size, step):
        block = post_xy[start:start + step]
        dist2 = ((block[:, None, :] - pre_xy[None, :, :]) ** 2).sum(axis=2)
        w = profile(dist2)
        keep = np.abs(w) > threshold
        if no_self:
            keep &= post[start:start + step, None] != pre[None, :]
        i, j = np.nonzero(keep)
        rows.append(post[start + i])
        cols.append(pre[j])
        values.append(w[i, j])
    post_of = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    pre_of = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    w = np.concatenate(values) if values else np.zeros(0)
    return _build(post_of, pre_of, pre_size, post_size, w, delays, what, True, extra, presorted=True)


def gaussian(amp: float, sigma: float, pre_ranks, post_ranks, pre_size: int, post_size: int, *,
             pre_geometry, post_geometry, delays: Any = 0.0, limit: float = 0.01, same_population: bool = False,
             allow_self_connections: bool = False) -> Connectivity:
    """``w = amp * exp(-d^2 / (2 sigma^2))`` over normalized coordinates (see the module docstring)."""
    if not sigma > 0:
        raise ConnectivityError(f"gaussian: sigma must be > 0, got {sigma!r}")
    return _profile_pattern(lambda d2: amp * np.exp(-d2 / 2.0 / sigma / sigma), amp,
                            f"gaussian(amp={amp}, sigma={sigma})", pre_ranks, post_ranks, pre_size, post_size,
                            pre_geometry, post_geometry, delays, limit, same_population, allow_self_connections,
                            {"connector": "gaussian", "amp": amp, "sigma": sigma, "limit": limit})


def dog(amp_pos: float, sigma_pos: float, amp_neg: float, sigma_neg: float, pre_ranks, post_ranks,
        pre_size: int, post_size: int, *, pre_geometry, post_geometry, delays: Any = 0.0, limit: float = 0.01,
        same_population: bool = False, allow_self_connections: bool = False) -> Connectivity:
    """A difference of Gaussians: ``amp_pos * exp(-d^2/(2 sigma_pos^2)) - amp_neg * exp(-d^2/(2 sigma_neg^2))``,
    kept where larger in magnitude than ``limit * |amp_pos - amp_neg|``."""
    if not (sigma_pos > 0 and sigma_neg > 0):
        raise ConnectivityError(f"dog: sigma_pos and sigma_neg must be > 0, got {sigma_pos!r}, {sigma_neg!r}")

    def profile(d2):
        return amp_pos * np.exp(-d2 / 2.0 / sigma_pos / sigma_pos) - amp_neg * np.exp(-d2 / 2.0 / sigma_neg / sigma_neg)
    return _profile_pattern(profile, amp_pos - amp_neg, f"dog(amp_pos={amp_pos}, sigma_pos={sigma_pos}, "
                            f"amp_neg={amp_neg}, sigma_neg={sigma_neg})", pre_ranks, post_ranks, pre_size,
                            post_size, pre_geometry, post_geometry, delays, limit, same_population,
                            allow_self_connections, {"connector": "dog", "limit": limit})


class LILConnectivity:
    """Synapses listed dendrite by dendrite, as a user-defined pattern returns them
    (``Projection.from_function``): ``add(post_rank, pre_ranks, weights, delays)``.

    A single weight (or delay) applies to every synapse of the dendrite; delays are in ms.
    Dendrites may come in any order; a post rank given twice is an error.
    """

    def __init__(self, dt: float | None = None):
        self.dt = dt
        self.post_rank: list[int] = []
        self.pre_rank: list[list[int]] = []
        self.w: list[list[float]] = []
        self.delay: list[list[float]] = []

    def add(self, rk, r, w, d=0.0) -> None:
        ranks = [int(x) for x in np.asarray(r, dtype=np.int64).reshape(-1)]
        if not ranks:
            return  # an empty dendrite is no dendrite
        n = len(ranks)
        self.post_rank.append(int(rk))
        self.pre_rank.append(ranks)
        self.w.append(self._per_synapse(w, n, "weights", rk))
        self.delay.append(self._per_synapse(d, n, "delays", rk))

    push_back = add

    @staticmethod
    def _per_synapse(values, n: int, what: str, rk) -> list[float]:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.size == 1:
            return [float(arr[0])] * n
        if arr.size != n:
            raise ConnectivityError(f"LILConnectivity.add({rk}, ...): {arr.size} {what} for {n} pre-synaptic ranks")
        return arr.tolist()

    @property
    def size(self) -> int:
        return len(self.post_rank)

    @property
    def nb_synapses(self) -> int:
        return sum(len(r) for r in self.pre_rank)

    def validate(self) -> None:
        """Raise ConnectivityError for a post rank given twice or a pre rank twice in one dendrite."""
        if len(set(self.post_rank)) != len(self.post_rank):
            raise ConnectivityError("LILConnectivity: a post-synaptic rank was added twice")
        for rk, ranks in zip(self.post_rank, self.pre_rank):
            if len(set(ranks)) != len(ranks):
                raise ConnectivityError(f"LILConnectivity: dendrite {rk} lists a pre-synaptic rank twice")

    def to_connectivity(self, pre_ranks, post_ranks, pre_size: int, post_size: int,
                        description: str = "from_function()") -> Connectivity:
        """The synapses as a Connectivity; every rank must belong to the projection's views."""
        self.validate()
        n = self.nb_synapses
        post = np.repeat(np.asarray(self.post_rank, dtype=np.int64), [len(r) for r in self.pre_rank])
        pre = np.asarray([x for r in self.pre_rank for x in r], dtype=np.int64)
        for ranks, allowed, what in ((post, post_ranks, "post"), (pre, pre_ranks, "pre")):
            bad = ~np.isin(ranks, np.asarray(allowed, dtype=np.int64))
            if bad.any():
                raise ConnectivityError(f"{description}: {what}-synaptic rank {int(ranks[bad][0])} is not a "
                                        f"neuron of the projection's {what}-synaptic population (or view)")
        w = np.asarray([x for v in self.w for x in v], dtype=np.float64) if n else np.zeros(0)
        d = np.asarray([x for v in self.delay for x in v], dtype=np.float64) if n else 0.0
        if n and np.all(d == d[0]):
            d = float(d[0])
        return _build(post, pre, pre_size, post_size, w, d, description, True, {"connector": "from_function"})


__all__ = ["gaussian", "dog", "LILConnectivity"]
