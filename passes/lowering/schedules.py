"""The ``schedules`` phase: populations whose parameters follow a schedule of rows
(TimedPoissonPopulation, HomogeneousCorrelatedSpikeTrains) get them set before their update.

A population node with ``data["schedule"]`` = ``{"columns": {attribute: rows}, "starts": steps,
"period": steps}`` (``rows`` of shape ``(n_rows, width)``, width 1 for a global attribute or the
population size for a local one) runs, each step, on its own clock: when the next row's start
equals the clock, every column's row is copied into its attribute and the sequence moves to the
following row; then, with a period of ``P`` steps, a clock at ``P - 1`` goes back to 0 (and the
sequence to its first row), else the clock advances.  The rows, the starts, the row count and the
period live in arrays the runtime rewrites between chunks (``update()``), sized at compile.
"""
from __future__ import annotations

import numpy as np

from anncompiler.ir.kernel import BinOp, Cmp, If, Kernel, Let, Logic, Loop, Var
from anncompiler.ir.network import NetworkIR
from anncompiler.ir.types import I64

from .context import LoweringContext, c64, neurons
from .phases import register_phase

I = Var("i", I64)


def _scheduled(net: NetworkIR) -> list[str]:
    return [p.name for p in net.populations if p.data.get("schedule")]


def schedule_arrays(ctx: LoweringContext, P: str, columns: dict, starts, period: int) -> None:
    """The rows of each column, the starts, the row count, the period and the clock of ``P``."""
    n_rows = len(starts)
    for attr, rows in columns.items():
        rows = np.asarray(rows, dtype=float).reshape(n_rows, -1) if n_rows else np.zeros((0, 1))
        width = max(1, rows.shape[1])
        table = np.zeros(max(1, n_rows * width))
        table[:rows.size] = rows.reshape(-1)
        ctx.declare(f"{P}._sched_{attr}", ctx.ft, max(1, n_rows * width), "parameter", table,
                    handle=(P, f"sched:{attr}"))
    ctx.declare(f"{P}._sched_starts", I64, max(1, n_rows), "parameter",
                np.asarray(starts, dtype=np.int64) if n_rows else 0, handle=(P, "sched_starts"))
    ctx.declare(f"{P}._sched_rows", I64, 1, "parameter", n_rows, handle=(P, "sched_rows"))
    ctx.declare(f"{P}._sched_period", I64, 1, "parameter", int(period), handle=(P, "sched_period"))
    ctx.declare(f"{P}._sched_clock", I64, 1, "state", 0, handle=(P, "sched_clock"))
    ctx.declare(f"{P}._sched_next", I64, 1, "state", 0, handle=(P, "sched_next"))


def schedule_kernel(ctx: LoweringContext, P: str) -> Kernel:
    p = ctx.net.population(P)
    spec = p.data["schedule"]
    columns, starts = spec["columns"], spec["starts"]
    schedule_arrays(ctx, P, columns, starts, spec["period"])
    clock, nxt = Var("clock", I64), Var("next", I64)
    copies = []
    for attr in columns:
        width = ctx.km.arrays[f"{P}.{attr}"].size
        row = BinOp("*", nxt, c64(width), I64)
        if width == 1:
            copies.append(ctx.store(f"{P}.{attr}", 0, ctx.load(f"{P}._sched_{attr}", row)))
        else:
            copies.append(Loop(I, c64(0), c64(width), [
                ctx.store(f"{P}.{attr}", I, ctx.load(f"{P}._sched_{attr}", BinOp("+", row, I, I64)))], neurons(P)))
    cycle = ctx.load(f"{P}._sched_period", 0)
    body = [
        Let(clock, ctx.load(f"{P}._sched_clock", 0)),
        Let(nxt, ctx.load(f"{P}._sched_next", 0)),
        If(Cmp("<", nxt, ctx.load(f"{P}._sched_rows", 0)), [
            If(Cmp("==", ctx.load(f"{P}._sched_starts", nxt), clock), copies + [
                ctx.store(f"{P}._sched_next", 0, BinOp("+", nxt, c64(1), I64)),
            ]),
        ]),
        If(Logic("and", Cmp(">", cycle, c64(0)), Cmp("==", clock, BinOp("-", cycle, c64(1), I64))), [
            ctx.store(f"{P}._sched_clock", 0, c64(0)),
            ctx.store(f"{P}._sched_next", 0, c64(0)),
        ], [
            ctx.store(f"{P}._sched_clock", 0, BinOp("+", clock, c64(1), I64)),
        ]),
    ]
    return Kernel(f"schedule_{P}", "schedules", body,
                  f"schedule of {', '.join(columns)} ({len(starts)} rows)")


@register_phase("schedules", _scheduled, before="neurons")
def _schedules(ctx: LoweringContext, names):
    return [schedule_kernel(ctx, name) for name in names]
