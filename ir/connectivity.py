"""Connectivity of one projection: compressed rows by post-synaptic neuron.

Row ``k`` is the dendrite of post-synaptic neuron ``post_ranks[k]``; its
synapses are ``row_ptr[k]:row_ptr[k+1]``, with pre-synaptic ranks
``pre_ranks[...]`` ascending.  Ranks are population ranks (not view-local).
Only rows with at least one synapse are stored, ascending by post rank, as
ANNarchy's ``post_ranks`` does.  Indices are 32-bit.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Union

import numpy as np


def _weak(value):
    """A weak reference to an array (no memory kept alive), the value itself otherwise."""
    try:
        return weakref.ref(value) if not isinstance(value, (int, float, str)) else value
    except TypeError:
        return value


@dataclass
class Connectivity:
    post_ranks: np.ndarray            # int32 [n_rows]
    row_ptr: np.ndarray               # int32 [n_rows + 1]
    pre_ranks: np.ndarray             # int32 [nnz]
    weights: Union[float, np.ndarray]  # a scalar (one shared weight) or float64 [nnz]
    delays: Union[float, np.ndarray] = 0.0  # ms; a scalar or float64 [nnz]
    pre_size: int = 0                 # size of the pre-synaptic population
    post_size: int = 0                # size of the post-synaptic population
    description: str = ""             # e.g. "fixed_probability(p=0.02)"
    storage_format: str = "csr"
    extra: dict = field(default_factory=dict)

    @property
    def nb_synapses(self) -> int:
        return int(self.row_ptr[-1]) if len(self.row_ptr) else 0

    @property
    def n_rows(self) -> int:
        return len(self.post_ranks)

    @property
    def complete(self) -> bool:
        """Every stored row holds every pre-synaptic rank once (all-to-all onto its rows): the CSR
        order is then the row-major order of a dense [rows x pre size] matrix, element for element."""
        n = self.n_rows * self.pre_size
        if self.nb_synapses != n or n == 0:
            return False
        return bool(np.array_equal(self.pre_ranks, np.tile(np.arange(self.pre_size, dtype=self.pre_ranks.dtype),
                                                           self.n_rows)))

    @property
    def single_weight(self) -> bool:
        return np.ndim(self.weights) == 0

    def verify(self) -> None:
        """Raise ValueError when indices are out of range or arrays inconsistent.  Not walked again
        while its arrays are the ones it was last verified with (the network IR is verified after
        every pass, and passes replace a connectivity's arrays, they do not change them in place:
        at 0.3 G synapses each walk took 0.6 s)."""
        held = self._held()
        verified = self.__dict__.get("_verified")
        if verified is not None and len(verified) == len(held) and all(
                (r() is v) if isinstance(r, weakref.ref) else (type(r) is type(v) and r == v)
                for r, v in zip(verified, held)):
            return
        self._walk()
        self.__dict__["_verified"] = tuple(_weak(v) for v in held)

    def _held(self) -> tuple:
        return (self.post_ranks, self.row_ptr, self.pre_ranks, self.weights, self.delays, self.pre_size,
                self.post_size)

    def _walk(self) -> None:
        n = self.n_rows
        if self.row_ptr.shape != (n + 1,) or self.row_ptr[0] != 0:
            raise ValueError("row_ptr must have n_rows+1 entries starting at 0")
        if np.any(np.diff(self.row_ptr) < 0):
            raise ValueError("row_ptr must be non-decreasing")
        nnz = self.nb_synapses
        if self.pre_ranks.shape != (nnz,):
            raise ValueError("pre_ranks must have one entry per synapse")
        if n and (self.post_ranks.min() < 0 or self.post_ranks.max() >= self.post_size):
            raise ValueError("post rank out of range")
        if nnz and (self.pre_ranks.min() < 0 or self.pre_ranks.max() >= self.pre_size):
            raise ValueError("pre rank out of range")
        if np.any(np.diff(self.post_ranks) <= 0):
            raise ValueError("post_ranks must be strictly ascending")
        if not self.single_weight and np.shape(self.weights) != (nnz,):
            raise ValueError("weights must be a scalar or have one entry per synapse")
        if np.ndim(self.delays) != 0 and np.shape(self.delays) != (nnz,):
            raise ValueError("delays must be a scalar or have one entry per synapse")

    def dense(self, fill: float = 0.0) -> np.ndarray:
        """The weight matrix [post_size, pre_size] (``connectivity_matrix``)."""
        m = np.full((self.post_size, self.pre_size), fill, dtype=float)
        rows = np.repeat(self.post_ranks, np.diff(self.row_ptr))
        m[rows, self.pre_ranks] = self.weights
        return m
