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
    U32 = "u32"
    U64 = "u64"
    U16 = "u16"

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(_NUMPY[self])

    def __str__(self) -> str:  # printers show "f64", not "DType.F64"
        return self.value


_NUMPY = {"f64": np.float64, "f32": np.float32, "i32": np.int32, "i64": np.int64, "bool": np.bool_,
          "u32": np.uint32, "u64": np.uint64, "u16": np.uint16}

F64, F32, I32, I64, BOOL = DType.F64, DType.F32, DType.I32, DType.I64, DType.BOOL
#: unsigned integers (wrap-around arithmetic, logical shifts): random number generation, hashing
U32, U64 = DType.U32, DType.U64
#: compact storage of small indices (pre-synaptic ranks of populations under 65536 neurons)
U16 = DType.U16

#: bit width of the integer types
INT_BITS = {I32: 32, I64: 64, U32: 32, U64: 64, U16: 16}


def is_float(t: DType) -> bool:
    return t in (F64, F32)


def is_int(t: DType) -> bool:
    """Signed or unsigned integer (not bool)."""
    return t in (I32, I64, U32, U64, U16)


def is_signed(t: DType) -> bool:
    return t in (I32, I64)


def is_unsigned(t: DType) -> bool:
    return t in (U32, U64, U16)


def from_numpy(dt) -> DType:
    dt = np.dtype(dt)
    for k, v in _NUMPY.items():
        if np.dtype(v) == dt:
            return DType(k)
    raise TypeError(f"no IR type for numpy dtype {dt}")
