"""Per-synapse values of a projection read back from the kernel module that stores them.

Once a projection is lowered, its weights and delays are in the kernel module, in the module's
own order (out-synapse order, padded slots, a dense matrix...).  Keeping the connectivity's
arrays as well would hold every synapse's values twice: 16 bytes a synapse for weights and
delays, about 4.5 GiB for the 0.3 G synapses of the full-scale cortical microcircuit.  The
lowering therefore gives the network IR's connectivity a :class:`CompiledValues` in their place,
and the front end takes it over once the compile is done (``anncompiler/runtime/compile.py``).
It is read like the array it replaces (``np.asarray``, ``ndim``, ``shape``, ``size``) and gives
the same values, from the arrays' values at compile time (``ArrayDecl.init``) through the
handle of ``(owner, role)``, so a recompile lowers the same network from it.
"""
from __future__ import annotations

import numpy as np


class CompiledValues:
    """The values ``role`` (``w``, ``synapse_delays``, ``ring_offset``) of projection ``owner``, one
    per synapse in connectivity order, read from kernel module ``km`` when asked, times ``scale``
    (the time step: delays are stored in steps and read in ms).  ``ring``: the values are ring
    offsets ``(d - 1) * ring + post`` (``passes/lowering/delay_rings.py``), read as the delays ``d``."""

    ndim = 1
    dtype = np.dtype(np.float64)

    def __init__(self, km, owner: str, role: str, size: int, scale: float | None = None, ring: int | None = None):
        self.km, self.owner, self.role, self.size, self.scale, self.ring = km, owner, role, int(size), scale, ring

    @property
    def shape(self) -> tuple:
        return (self.size,)

    def __len__(self) -> int:
        return self.size

    def take(self, positions) -> np.ndarray:
        """The values of the synapses ``positions`` (connectivity order), float64."""
        handle = self.km.handles[(self.owner, self.role)]
        data = np.asarray(self.km.arrays[handle.array].init).reshape(-1)
        at = np.asarray(positions, dtype=np.int64)
        values = data[at if handle.index is None else np.asarray(handle.index)[at]]
        if self.ring is not None:
            values = values.astype(np.int64) // self.ring + 1
        values = values.astype(np.float64)
        if self.scale is not None:
            values *= self.scale
        return values

    def __array__(self, dtype=None, copy=None):
        values = self.take(np.arange(self.size))
        return values if dtype is None else values.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"CompiledValues({self.owner}.{self.role}, {self.size} synapses)"


def materialised(values):
    """``values`` as a plain array when it is a :class:`CompiledValues` (a lowering that builds
    new arrays from it must not keep the previous module alive through it)."""
    return np.asarray(values) if isinstance(values, CompiledValues) else values
