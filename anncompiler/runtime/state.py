"""State arrays: one numpy array per kernel-module array, shared with the native code."""
from __future__ import annotations

import numpy as np


def allocate_arrays(km) -> dict[str, np.ndarray]:
    """Allocate and fill every declared array (C-contiguous, the declared dtype)."""
    arrays = {}
    for decl in km.arrays.values():
        dtype = decl.dtype.numpy
        arr = np.zeros(max(1, decl.size), dtype=dtype)
        init = decl.init
        if init is not None:
            value = np.asarray(init)
            if value.ndim == 0 or value.size == 1:
                arr[:] = value.reshape(-1)[0] if value.size else 0
            else:
                arr[:value.size] = value.reshape(-1).astype(dtype, copy=False)
        arrays[decl.name] = arr
    return arrays
