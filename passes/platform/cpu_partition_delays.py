"""Thread partitions of the spike propagation of a projection with non-uniform delays.

The kernel is ``for d: for spike of step t-d: for q in inv_dptr[pre*R+d-1] .. inv_dptr[pre*R+d]``
(``passes/lowering/delays.py``).  Within a (pre, delay) group the synapses are in synapse order,
hence by post rank, so each partition runs the same loops over its own part of every group
(``proj.inv_dsplit``, i32[groups*(T+1)]): each post neuron receives its increments in the
sequential order, so every thread count computes the same bits.  The split has a handle
``(proj, 'inv_dsplit')``: new delays after compile rebuild it with the index.
"""
from __future__ import annotations

import dataclasses

from anncompiler.ir.kernel import BinOp, Cast, Kernel, Load, Loop, walk_stmts
from anncompiler.ir.types import I32, I64

from ..lowering.context import c64, i64
from ..lowering.delays import delayed_split


def delayed_propagation(p, k: Kernel, loop: Loop, projection: str, size: int) -> Kernel:
    """``k`` (owned by the post population, ``size`` neurons) as a parallel kernel over partitions;
    ``p`` is the partitioner."""
    from .cpu_partition import _serial
    inner = [s for s in walk_stmts(loop.body) if isinstance(s, Loop) and s.space == f"delayed-synapses:{projection}"]
    if len(inner) != 1:
        return _serial(k)
    group = inner[0]
    start = group.start.a if isinstance(group.start, Cast) else group.start
    if not (isinstance(start, Load) and start.array == f"{projection}.inv_dptr"):
        return _serial(k)
    name = f"{projection}.inv_dsplit"
    if name not in p.km.arrays:
        split = delayed_split(p._init(f"{projection}.inv_dptr"), p._init(f"{projection}.inv_row"),
                              p._init(f"{projection}.post_ranks"), p.boundaries(size))
        p.km.declare(name, I32, len(split), "connectivity", split)
        p.km.handle(projection, "inv_dsplit", name)
    from .cpu_partition import PART
    at = BinOp("+", BinOp("*", i64(start.index), c64(p.T + 1), I64), PART, I64)
    group.start = i64(p.load(name, at))
    group.stop = i64(p.load(name, BinOp("+", at, c64(1), I64)))
    _serial(k)
    return dataclasses.replace(k, body=[p.partitions(projection, [loop])], parallel=True)
