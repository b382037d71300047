"""Scalar element types shared by every IR stage and backend."""
from __future__ import annotations

from enum import Enum

import numpy as np


class DType(str, Enum):
    F64 = "f64"
    F32 = "f32"
    I32 = "i32"
    I64 = "i64"
    BOOL = "bool"

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(_NUMPY[self])

    def __str__(self) -> str:  # printers show "f64", not "DType.F64"
        return self.value


_NUMPY = {"f64": np.float64, "f32": np.float32, "i32": np.int32, "i64": np.int64, "bool": np.bool_}

F64, F32, I32, I64, BOOL = DType.F64, DType.F32, DType.I32, DType.I64, DType.BOOL


def is_float(t: DType) -> bool:
    return t in (F64, F32)


def is_int(t: DType) -> bool:
    return t in (I32, I64)


def from_numpy(dt) -> DType:
    dt = np.dtype(dt)
    for k, v in _NUMPY.items():
        if np.dtype(v) == dt:
            return DType(k)
    raise TypeError(f"no IR type for numpy dtype {dt}")
