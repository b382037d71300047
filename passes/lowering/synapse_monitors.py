"""Lowering of monitors of a Projection or a Dendrite: synaptic variables recorded in the native
step loop, as population variables are (``monitors.py``).

When the monitor is active and ``t % period == offset``, one row is appended to ``M.<var>``: the
recorded synapses of a local variable (dendrite by dendrite, in the projection's order), the
recorded dendrites of a semiglobal one, or the value of a global one.  The elements are gathered
through a table of positions ``M._at_<var>`` in the array that holds the variable (the
projection's own, a dense matrix, or the array of the projection it was fused into: its handle
says which), so any storage records the same values.
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import NetworkError
from anncompiler.ir.kernel import BinOp, Cmp, Const, If, Kernel, Let, Logic, Loop, Var
from anncompiler.ir.network import MonitorSpec
from anncompiler.ir.types import BOOL, I64

from .context import LoweringContext, c64
from .monitors import ROW_BUDGET_BYTES, declare_switches


def synapse_monitor_kernel(ctx: LoweringContext, spec: MonitorSpec) -> Kernel:
    M, P = spec.name, spec.projection
    declare_switches(ctx, spec)
    positions = {v: _positions(ctx, spec, v) for v in spec.variables}
    widest = max([len(p) for _, p in positions.values()] + [1])
    rows = int(max(1, min(1000, ROW_BUDGET_BYTES // (8 * widest))))
    ctx.declare(f"{M}._rows", I64, 1, "internal", 0, handle=(M, "rows"))
    j = Var("j", I64)
    row_count = ctx.load(f"{M}._rows", 0)
    stores = []
    for v, (array, at) in positions.items():
        n = len(at)
        dtype = ctx.km.arrays[array].dtype
        ctx.declare(f"{M}.{v}", dtype, max(1, n) * rows, "buffer", 0, handle=(M, f"buffer:{v}"))
        if spec.localities.get(v) == "global":
            stores.append(ctx.store(f"{M}.{v}", row_count, ctx.load(array, int(at[0]))))
            continue
        ctx.declare(f"{M}._at_{v}", I64, max(1, n), "parameter", at if n else 0)
        index = BinOp("+", Var("base_" + v, I64), j, I64)
        stores += [Let(Var("base_" + v, I64), BinOp("*", row_count, c64(n), I64)),
                   Loop(j, c64(0), c64(n), [ctx.store(f"{M}.{v}", index, ctx.load(array, ctx.load(f"{M}._at_{v}", j)))],
                        f"monitor:{M}")]
    t = ctx.load("net.t", 0)
    active = Cmp("!=", ctx.load(f"{M}._active", 0), Const(False, BOOL))
    due = Cmp("==", BinOp("%", t, ctx.load(f"{M}._period", 0), I64), ctx.load(f"{M}._offset", 0))
    body = [If(Logic("and", active, due), stores + [
        ctx.store(f"{M}._rows", 0, BinOp("+", row_count, c64(1), I64))])]
    ctx.km.exit_conditions.append(Cmp(">=", ctx.load(f"{M}._rows", 0), c64(rows)))
    return Kernel(f"record_{M}", "record", body, f"monitor of {P}: {', '.join(spec.variables)}")


def _positions(ctx: LoweringContext, spec: MonitorSpec, v: str) -> tuple[str, np.ndarray]:
    """(array holding ``v``, positions of the recorded elements in it)."""
    handle = ctx.km.handles.get((spec.projection, v))
    if handle is None:
        raise NetworkError(f"monitor {spec.name}: projection {spec.projection} has no recordable '{v}' "
                           "in the compiled network")
    locality = spec.localities.get(v, "local")
    if locality == "global":
        elements = np.zeros(1, np.int64)
    elif locality == "semiglobal":
        elements = np.asarray(spec.ranks, dtype=np.int64)
    else:
        elements = np.asarray(spec.synapses, dtype=np.int64)
    if handle.index is not None:
        elements = np.asarray(handle.index, dtype=np.int64)[elements]
    return handle.array, elements
