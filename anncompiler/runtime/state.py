"""State arrays: one numpy array per kernel-module array, shared with the native code."""
from __future__ import annotations

import numpy as np


def allocate_arrays(km, reuse: dict | None = None) -> dict[str, np.ndarray]:
    """Allocate and fill every declared array (C-contiguous, the declared dtype); an array of
    ``reuse`` with the name, dtype and size of a declared one is taken as it is instead (a
    recompile keeps the state, ``runtime/rebuild.py``).

    An array that no kernel writes and that ``reset()`` never restores (connectivity, per-synapse
    delays) is its compile-time values themselves, not a copy: the per-synapse arrays of a large
    network (0.3 G synapses for the full-scale cortical microcircuit) would otherwise be held twice."""
    from anncompiler.ir.kernel_access import written_arrays
    written = set().union(*(written_arrays(k.body) for k in km.kernels)) if km.kernels else set()
    arrays = {}
    reuse = reuse or {}
    for decl in km.arrays.values():
        old = reuse.get(decl.name)
        if old is not None and old.dtype == decl.dtype.numpy and old.size == max(1, decl.size):
            arrays[decl.name] = old
            continue
        constant = decl.kind == "connectivity" or decl.never_reset or decl.shared_until_written
        shared = _shared_init(decl) if constant and decl.name not in written else None
        if shared is not None and decl.shared_until_written and not decl.never_reset:
            shared.flags.writeable = False  # until ensure_writable keeps a copy for reset()
        arrays[decl.name] = initial_array(decl) if shared is None else shared
    return arrays


def ensure_writable(km, arrays: dict, name: str) -> None:
    """Before the front end writes array ``name``: an array that is still its compile-time values
    (``ArrayDecl.shared_until_written``) keeps a copy of them for ``reset()`` and becomes writable.
    A write without this call fails loudly (the array is read-only) instead of changing what
    ``reset()`` restores."""
    arr = arrays.get(name)
    if not isinstance(arr, np.ndarray) or arr.flags.writeable:
        return
    decl = km.arrays.get(name)
    if decl is not None and decl.init is arr:
        decl.init = arr.copy()
    arr.flags.writeable = True


def unwritten(km, arrays: dict, name: str) -> bool:
    """Whether array ``name`` is still its compile-time values (never written since allocation)."""
    arr = arrays.get(name)
    decl = km.arrays.get(name)
    return isinstance(arr, np.ndarray) and not arr.flags.writeable and decl is not None and decl.init is arr


def _shared_init(decl) -> np.ndarray | None:
    """``decl.init`` itself when it already is the array :func:`initial_array` would make."""
    init = decl.init
    if (isinstance(init, np.ndarray) and init.dtype == decl.dtype.numpy and init.ndim == 1
            and init.size == max(1, decl.size) and init.flags.c_contiguous and init.flags.writeable):
        return init
    return None


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
        index = np.asarray(index)
        # int32 positions (the handles of large projections) index as they are: no int64 copy
        self.base, self.index = base, index if index.dtype in (np.int32, np.int64) else index.astype(np.int64)

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
