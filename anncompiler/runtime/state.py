"""State arrays: one numpy array per kernel-module array, shared with the native code."""
from __future__ import annotations

import numpy as np


def allocate_arrays(km) -> dict[str, np.ndarray]:
    """Allocate and fill every declared array (C-contiguous, the declared dtype)."""
    return {decl.name: initial_array(decl) for decl in km.arrays.values()}


def initial_array(decl) -> np.ndarray:
    """A new array holding what ``decl`` is filled with at allocation (its values at compile time:
    ``reset()`` writes them back)."""
    dtype = decl.dtype.numpy
    arr = np.zeros(max(1, decl.size), dtype=dtype)
    init = decl.init
    if init is not None:
        value = np.asarray(init)
        if value.ndim == 0 or value.size == 1:
            arr[:] = value.reshape(-1)[0] if value.size else 0
        else:
            arr[:value.size] = value.reshape(-1).astype(dtype, copy=False)
    return arr


def state_of(km, arrays: dict, owner: str, role: str):
    """The state ``role`` of ``owner`` through its handle in the kernel module: the array itself,
    or a :class:`GatheredArray` of its elements; None when the module has no such state."""
    handle = km.handles.get((owner, role)) if km is not None else None
    if handle is None:
        return None
    array = arrays[handle.array]
    return array if handle.index is None else GatheredArray(array, handle.index)


class GatheredArray:
    """The elements ``index`` of a state array, read and written in place.

    What a user sees of an attribute stored inside another array (per-synapse weights kept in
    a dense matrix or in a fused projection): reads gather a copy, writes scatter into the
    shared array the native code uses.
    """

    def __init__(self, base: np.ndarray, index: np.ndarray):
        self.base, self.index = base, np.asarray(index, dtype=np.int64)

    @property
    def size(self) -> int:
        return len(self.index)

    @property
    def dtype(self):
        return self.base.dtype

    def __len__(self):
        return len(self.index)

    def __array__(self, dtype=None, copy=None):
        out = self.base[self.index]
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, key):
        return np.asarray(self)[key]

    def __setitem__(self, key, value):
        if key is Ellipsis or key == slice(None):
            self.base[self.index] = value
        else:
            self.base[self.index[key]] = value

    def reshape(self, *shape):
        return np.asarray(self).reshape(*shape)

    def tolist(self):
        return np.asarray(self).tolist()
