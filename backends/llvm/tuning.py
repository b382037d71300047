"""Choices of the CPU platform passes that depend on the host's vector unit (never on results)."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def dense_row_block() -> int:
    """Rows per pass of ``cpu-block-rows``: 8 with AVX-512 (8 rows of 16 partial sums fill half
    of its 32 vector registers), else 1 (off).

    Measured on the 2000 x 2000 dense rate benchmark, one thread, AMD Zen 4: 8 rows ran 12-20 %
    faster than one; with the code limited to AVX2 (16 registers of 4 doubles) 2, 4 or 8 rows all
    ran 10-35 % slower than one (the partial sums no longer fit in registers).  The bits do not
    depend on it."""
    try:
        import llvmlite.binding as llvm
        features = llvm.get_host_cpu_features()
    except Exception:  # no llvmlite, or a host whose features cannot be read
        return 1
    return 8 if features.get("avx512f", False) else 1
