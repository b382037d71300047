"""The paired draws of :mod:`anncompiler.ir.philox` in plain Python: the same bits as the kernel IR
of every backend (IEEE double operations in the same order, no fused multiply-add), for the
tests and for anyone who wants to reproduce a simulation's numbers outside it.

Element ``index`` of a random call with stream ``stream`` draws, at step ``step``, from the
block of counter ``(index >> 1, step & 0xffffffff, step >> 32, stream)`` and key
``(seed & 0xffffffff, seed >> 32)``: the even element of the pair takes words 0-1 (the cosine
output of Box-Muller), the odd one words 2-3 (the sine output).
"""
from __future__ import annotations

import math

from .philox import MASK32, philox4x32_10_py
from .rng_math import cos_sin_quarter_py, log_int_py


def pair_block_py(index: int, step: int, stream: int, seed: int | None) -> tuple[int, int, int, int]:
    """The four words of the block that element ``index`` shares with its pair."""
    s = int(seed or 0) & ((1 << 64) - 1)
    return philox4x32_10_py((index >> 1, step & MASK32, step >> 32, stream), (s & MASK32, s >> 32))


def _int53(hi: int, lo: int) -> float:
    return float(hi >> 5) * 2.0 ** 26 + float(lo >> 6)


def uniform_py(index: int, step: int, stream: int, seed: int | None, a: float = 0.0, b: float = 1.0) -> float:
    """``Uniform(a, b)`` of element ``index`` (f64)."""
    w = pair_block_py(index, step, stream, seed)
    hi, lo = (w[2], w[3]) if index & 1 else (w[0], w[1])
    return a + (b - a) * (_int53(hi, lo) * 2.0 ** -53)


def normal_py(index: int, step: int, stream: int, seed: int | None, mu: float = 0.0, sigma: float = 1.0) -> float:
    """``Normal(mu, sigma)`` of element ``index`` (f64): Box-Muller on the pair's block."""
    w = pair_block_py(index, step, stream, seed)
    r = math.sqrt(-2.0 * log_int_py(_int53(w[0], w[1]) + 1.0, -53))
    f = (float((w[2] >> 5) & ((1 << 25) - 1)) * 2.0 ** 26 + float(w[3] >> 6)) * 2.0 ** -51
    cos, sin = cos_sin_quarter_py(w[2] >> 30, f)
    return mu + sigma * (r * (sin if index & 1 else cos))
