"""Serial kernels that ride along with a parallel segment instead of costing two waits.

A serial kernel between two parallel segments runs on one thread while the others wait for it,
then for each other: two waits of the team for what is often a few operations (the update of a
small input population, a global update).  When the serial kernels of such a segment share no
written array with the kernels of the parallel segment before it (or else after it), they
commute with it: they run inside partition 0's chunk of that segment, after (or before) its
own share, while the other threads run theirs.  Both waits around the serial segment become
one, and what each kernel computes is unchanged (the same bits).

A serial segment at the end of the step stays: the step's last chunk also evaluates the exit
conditions, which a parallel segment would need a chunk of its own for.
"""
from __future__ import annotations

from anncompiler.ir.kernel import Cmp, Const, If, Kernel, Loop, Var
from anncompiler.ir.types import I64

from .cpu_barriers import _shared, footprint

_PART = Var("part", I64)


def _segments(kernels: list[Kernel]) -> list[list[Kernel]]:
    out: list[list[Kernel]] = []
    for k in kernels:
        if not out or k.barrier or k.parallel != out[-1][-1].parallel:
            out.append([])
        out[-1].append(k)
    return out


def _rider(k: Kernel, threads: int) -> Kernel:
    """``k`` as a parallel kernel whose partition 0 runs all of it (the others: nothing)."""
    body = [If(Cmp("==", _PART, Const(0, I64)), k.body)]
    k.body = [Loop(_PART, Const(0, I64), Const(threads, I64), body, "partitions:serial", True)]
    k.parallel, k.barrier = True, False
    k.doc = (k.doc + "; " if k.doc else "") + "serial, in partition 0 of its segment"
    return k


def fold_serial_segments(kernels: list[Kernel], threads: int) -> None:
    """Fold every serial segment between two parallel ones into one of them (module docstring)."""
    segs = _segments(kernels)
    prints: dict[int, dict] = {}

    def of(k: Kernel) -> dict:
        if id(k) not in prints:
            prints[id(k)] = footprint(k)
        return prints[id(k)]

    def commutes(serial: list[Kernel], segment: list[Kernel]) -> bool:
        return not any(_shared(of(s), of(g)) for s in serial for g in segment)

    out: list[list[Kernel]] = []
    n = 0
    while n < len(segs):
        seg = segs[n]
        after = segs[n + 1] if n + 1 < len(segs) else None
        if seg[0].parallel or not out or not out[-1][0].parallel or after is None or not after[0].parallel:
            out.append(seg)
            n += 1
            continue
        if commutes(seg, out[-1]):
            out[-1] += [_rider(k, threads) for k in seg]
            n += 1
        elif commutes(seg, after):
            first = after[0].barrier
            riders = [_rider(k, threads) for k in seg]
            riders[0].barrier = first
            after[0].barrier = False
            out.append(riders + after)
            n += 2
        else:
            out.append(seg)
            n += 1
            continue
    kernels[:] = [k for seg in out for k in seg]
