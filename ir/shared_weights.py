"""Weights that the synapses of a projection read from an array they share.

A convolution's synapses all read one small filter; a copied or transposed projection reads
the weights of another projection, so that changes to those weights (learning, ``proj.w = ...``)
show at once.  Synapse ``s`` has weight ``source_w[index[s]]``, where ``source_w`` is the weight
state of projection ``source`` (``index`` counts its weights in the order the user sees them).

A convolution with a numerical ``padding`` also has *padded* synapses: kernel positions that
fall outside the pre-synaptic population.  They read the filter at ``pad_index`` and see every
pre-synaptic attribute as ``padding``; ``pad_ptr`` gives each row's range of them, as ``row_ptr``
does for the ordinary synapses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class SharedWeights:
    #: the projection whose weights are read (the projection itself for a convolution's filter)
    source: str
    #: per synapse: position in the source's weights
    index: np.ndarray
    #: the filter (any shape) when the projection owns its weights, else None
    filter: Optional[np.ndarray] = None
    #: padded kernel positions: row ranges (n_rows + 1) and their filter positions
    pad_ptr: Optional[np.ndarray] = None
    pad_index: Optional[np.ndarray] = None
    padding: float = 0.0

    @property
    def has_padding(self) -> bool:
        return self.pad_ptr is not None and int(self.pad_ptr[-1]) > 0

    def verify(self, nb_synapses: int, n_rows: int) -> None:
        """Raise ValueError when the indices do not fit the connectivity or the filter."""
        if np.shape(self.index) != (nb_synapses,):
            raise ValueError("shared weights: one index per synapse is needed")
        if self.filter is not None:
            size = int(np.size(self.filter))
            for what, idx in (("index", self.index), ("pad_index", self.pad_index)):
                if idx is not None and len(idx) and (np.min(idx) < 0 or np.max(idx) >= size):
                    raise ValueError(f"shared weights: {what} outside the filter")
        if self.pad_ptr is not None:
            if np.shape(self.pad_ptr) != (n_rows + 1,) or self.pad_ptr[0] != 0 or np.any(np.diff(self.pad_ptr) < 0):
                raise ValueError("shared weights: pad_ptr must have n_rows+1 non-decreasing entries from 0")
            if np.shape(self.pad_index) != (int(self.pad_ptr[-1]),):
                raise ValueError("shared weights: one pad_index per padded position is needed")
