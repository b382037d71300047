"""``fuse-ring-delivery``: the delivery of the delay rings done in the neuron update's loop.

The delivery of the rings of future input of a population (``lowering/delay_rings.py``) walks its
neurons once per step: ``due_T = ring_T[t % R][i]; ring_T[t % R][i] = 0; g_T[i] += due_T`` (while
it is enabled), and the neuron update walks them again right after, reading ``g_T[i]``.  The
rings outgrow the caches (``R`` x ``N`` floats per target), so the delivery waits for their lines
with nothing else to do.  Merged into the update's loop (at the top of each iteration, before
anything reads ``g_T[i]``), the ring loads overlap the update's arithmetic and ``g_T`` is read
and written once per step instead of twice.

The same values are added in the same order into each ``g_T[i]``, so the bits are unchanged.
The fusion is refused (a note in the dumps says why) unless the delivery is a loop over the
population's neurons, the update's first loop over its neurons is reached only through its
enabled test, and no kernel between the two, nor any statement of the update before that loop,
reads or writes the rings or the ``g_T`` delivered into.  While the population is disabled the
update does not run: the delivery kernel is kept for that case only and drops the values due.
"""
from __future__ import annotations

import dataclasses

from anncompiler.ir.kernel import If, Kernel, Let, Loop, Store, UnOp, Var, replace_exprs, walk_stmts
from anncompiler.ir.kernel_access import touched_arrays, written_arrays
from anncompiler.ir.types import BOOL

from .manager import Pass, register_pass

DELIVERY_PREFIX = "deliver_delayed_"


@dataclasses.dataclass
class _Delivery:
    """The pieces of a delivery kernel: its loop, the ring loads and zeroings (``take``), the
    ``g_T`` increments and the enabled test that guards them (None: no switch)."""
    loop: Loop
    take: list
    deliver: list
    active: object


def _delivery(k: Kernel) -> _Delivery | None:
    if len(k.body) != 1 or not isinstance(k.body[0], Loop):
        return None
    loop = k.body[0]
    if loop.space != k.owner or not loop.parallel:
        return None
    take, rest = [], []
    for s in loop.body:
        (rest if rest or not isinstance(s, (Let, Store)) else take).append(s)
    if len(rest) == 1 and isinstance(rest[0], If) and not rest[0].orelse:
        active, deliver = rest[0].cond, rest[0].then
    else:
        active, deliver = None, rest
    if not deliver or not all(isinstance(s, Store) for s in deliver):
        return None
    return _Delivery(loop, take, deliver, active)


def _neuron_loop(k: Kernel, active) -> tuple[list, int] | None:
    """The statement list of the update ``k`` holding its first loop over its neurons, and the
    loop's position in it: reached through the enabled test ``active`` only (or directly when
    there is no switch)."""
    body = k.body
    if active is not None:
        if len(body) != 1 or not isinstance(body[0], If) or body[0].cond != active or body[0].orelse:
            return None
        body = body[0].then
    for at, s in enumerate(body):
        if isinstance(s, Loop) and s.space == k.owner and s.parallel:
            return body, at
    return None


@register_pass
class FuseRingDelivery(Pass):
    """Move the delivery of each population's delay rings into its neuron update's loop."""
    name = "fuse-ring-delivery"
    stage = "kernel"

    def run(self, module):
        km = module.kernels
        if km is None:
            return
        for d in [k for k in km.kernels if k.name.startswith(DELIVERY_PREFIX)]:
            self._fuse(km, d)

    def _fuse(self, km, d: Kernel) -> None:
        post = d.name[len(DELIVERY_PREFIX):]
        refuse = lambda why: km.notes.append(f"fuse-ring-delivery: {d.name} not fused: {why}")  # noqa: E731
        parts = _delivery(d)
        if parts is None:
            return refuse("not a loop over the neurons of the population")
        position = km.kernels.index(d)
        update = next((k for k in km.kernels[position + 1:] if k.name == f"update_{post}" and k.owner == d.owner),
                      None)
        if update is None:
            return refuse(f"no update kernel of {post} after it")
        found = _neuron_loop(update, parts.active)
        if found is None:
            return refuse(f"update_{post} has no loop over its neurons behind its enabled test")
        holder, at = found
        loop = holder[at]
        if (loop.start, loop.stop) != (parts.loop.start, parts.loop.stop):
            return refuse(f"the loops of the delivery and of update_{post} do not cover the same neurons")
        moved = parts.take + parts.deliver
        between = km.kernels[position + 1:km.kernels.index(update)]
        others = [s for k in between for s in k.body] + holder[:at]
        crossing = (written_arrays(moved) & touched_arrays(others)) | (touched_arrays(moved) & written_arrays(others))
        if crossing:
            return refuse(f"{', '.join(sorted(crossing))} used between the delivery and the update")
        # the delivery's loop variable becomes the update's (the same neurons, the same order)
        rename = {parts.loop.var: loop.var} if parts.loop.var != loop.var else {}
        taken = {s.var.name for s in walk_stmts(loop.body) if isinstance(s, Let)}
        local = {s.var: Var(_fresh(f"_{s.var.name}", taken), s.var.dtype) for s in parts.take if isinstance(s, Let)}
        table = {**rename, **local}
        moved = [_substitute(s, table) for s in moved]
        holder[at] = dataclasses.replace(loop, body=moved + list(loop.body))
        km.notes.append(f"fuse-ring-delivery: {d.name} merged into the loop of update_{post}")
        drop = [s for s in parts.take if isinstance(s, Store)]
        if parts.active is None:
            km.kernels.remove(d)
            return
        d.body = [If(UnOp("not", parts.active, BOOL),
                     [dataclasses.replace(parts.loop, body=drop)])]
        d.doc = f"the delayed spikes due to {post} while it is disabled: dropped (delivered by update_{post})"


def _fresh(name: str, taken: set) -> str:
    """``name``, or with a numbered suffix when the update's loop already binds it."""
    k = 0
    while name + (f"_{k}" if k else "") in taken:
        k += 1
    return name + (f"_{k}" if k else "")


def _substitute(s, table: dict):
    if isinstance(s, Let):
        return Let(table.get(s.var, s.var), replace_exprs(s.value, table))
    if isinstance(s, Store):
        return Store(s.array, replace_exprs(s.index, table), replace_exprs(s.value, table))
    raise TypeError(s)


__all__ = ["FuseRingDelivery"]
