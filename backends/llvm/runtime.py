"""The llvm Simulator: binds the runtime's arrays to the JIT-compiled ``run``.

The pointer table is built once; the arrays are referenced (never copied)
so that their memory stays valid and the runtime sees every write.
"""
from __future__ import annotations

import ctypes

import numpy as np

from anncompiler.errors import BackendError
from anncompiler.ir.kernel import KernelModule

from ..base import Simulator, check_arrays
from .jit import Compiled


class LLVMSimulator(Simulator):
    def __init__(self, compiled: Compiled, module: KernelModule, arrays: dict[str, np.ndarray]):
        check_arrays(module, arrays)
        self.compiled = compiled  # keeps the execution engine (the code) alive
        self.arrays = {name: arrays[name] for name in module.arrays}  # keeps the memory alive
        _check_disjoint(self.arrays)
        table = (ctypes.c_void_p * max(1, len(self.arrays)))()
        for k, a in enumerate(self.arrays.values()):
            table[k] = a.ctypes.data
        self.table = table

    def run(self, n_steps: int) -> int:
        n_steps = int(n_steps)
        if n_steps < 0:
            raise BackendError(f"cannot run a negative number of steps ({n_steps})")
        return int(self.compiled.run(ctypes.addressof(self.table), n_steps))


def _check_disjoint(arrays: dict[str, np.ndarray]) -> None:
    """The kernels' pointer arguments are ``noalias``: two names sharing
    memory would be silently miscompiled, so refuse them."""
    spans = sorted((a.ctypes.data, a.ctypes.data + a.nbytes, name)
                   for name, a in arrays.items() if a.nbytes)
    for (_, end, first), (start, _, second) in zip(spans, spans[1:]):
        if start < end:
            raise BackendError(f"arrays {first!r} and {second!r} share memory")
