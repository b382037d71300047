"""Rows of a weighted sum folded by a group of GPU threads, in the lanes' declared order.

A rate-coded projection's row (``rows:proj``) folds its synapses with a :class:`Reduce` whose
``lanes`` L are part of its meaning: element ``start + c*L + k`` goes to partial ``k``, the
partials are combined in order.  ``cuda-map`` gives such a row a group of W threads (W the
largest power of two dividing L, at most a warp and dividing the block): thread ``j`` folds the
partials ``k`` with ``k % W == j`` (consecutive threads read consecutive synapses: coalesced
loads), the first thread also the tail, and every thread then combines the L partials in order
through warp shuffles: the bits of one thread folding the row (``LaunchConfig.group``).

The rest of the row runs on every thread of the group and stores from the first only, so the
row must not store before its fold (every thread then sees the same memory up to the fold and
reaches the shuffles), nor contain an inner loop or an append.
"""
from __future__ import annotations

from anncompiler.ir.kernel import Accumulate, Append, Loop, Reduce, Store, walk_stmts
from anncompiler.ir.types import F32, F64, I32, I64, U32, U64

#: the accumulator types a warp shuffle moves
SHUFFLE_TYPES = (F64, F32, I32, I64, U32, U64)
WARP = 32


def row_group(loop: Loop, block: int) -> int:
    """Threads per iteration of the grid loop ``loop`` (1: one thread folds the row)."""
    if not loop.space.startswith("rows:"):
        return 1
    reduce = None
    for s in walk_stmts(loop.body):
        if isinstance(s, (Loop, Append)):
            return 1
        if isinstance(s, Reduce):
            if reduce is not None:
                return 1
            reduce = s
        elif isinstance(s, (Store, Accumulate)) and reduce is None:
            return 1
    if reduce is None or reduce.acc.dtype not in SHUFFLE_TYPES:
        return 1
    w = 1
    while w < WARP and reduce.lanes % (2 * w) == 0 and block % (2 * w) == 0:
        w *= 2
    return w
