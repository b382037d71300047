"""Lowering of monitors: recording into buffers inside the native step loop.

Variables: when the monitor is active and ``t % period == offset``, one row
of the recorded ranks is appended to ``M.<var>`` and ``M._rows`` grows.
Spikes: (step, rank) pairs of this step's spikes are appended.  Exit
conditions stop the chunk before a buffer could overflow, so the runtime
drains it and goes on; Python is never entered inside a chunk.
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import NetworkError
from anncompiler.ir.kernel import BinOp, Cmp, Const, If, Kernel, Let, Logic, Loop, Var
from anncompiler.ir.model import ref_of
from anncompiler.ir.network import MonitorSpec
from anncompiler.ir.types import BOOL, I32, I64

from .context import LoweringContext, attr_dtype, c64, i64

#: rows of variable buffers between two drains (bounded by a memory budget)
ROW_BUDGET_BYTES = 1 << 24


def monitor_layout(spec: MonitorSpec, pop_size: int) -> dict:
    n = pop_size if spec.ranks is None else len(spec.ranks)
    rows = int(max(1, min(1000, ROW_BUDGET_BYTES // (8 * max(1, n)))))
    return {"n": n, "rows": rows, "spike_capacity": int(max(1 << 16, 8 * pop_size))}


def declare_switches(ctx: LoweringContext, spec: MonitorSpec) -> None:
    """Whether the monitor records, its period and offset (set by the runtime between chunks)."""
    M = spec.name
    ctx.declare(f"{M}._active", BOOL, 1, "internal", bool(spec.start), handle=(M, "active"))
    ctx.declare(f"{M}._period", I64, 1, "internal", max(1, int(spec.period)), handle=(M, "period"))
    ctx.declare(f"{M}._offset", I64, 1, "internal", int(spec.offset), handle=(M, "offset"))


def monitor_kernel(ctx: LoweringContext, spec: MonitorSpec) -> Kernel:
    if spec.projection is not None:  # synaptic variables
        from .synapse_monitors import synapse_monitor_kernel
        return synapse_monitor_kernel(ctx, spec)
    pop = ctx.net.population(spec.population)
    M = spec.name
    lay = monitor_layout(spec, pop.size)
    n, rows = lay["n"], lay["rows"]
    declare_switches(ctx, spec)
    t = ctx.load("net.t", 0)
    active = Cmp("!=", ctx.load(f"{M}._active", 0), Const(False, BOOL))
    body = []
    variables = [v for v in spec.variables if v not in SPIKE_KINDS]
    if variables:
        ctx.declare(f"{M}._rows", I64, 1, "internal", 0, handle=(M, "rows"))
        if spec.ranks is not None:
            ctx.declare(f"{M}._ranks", I32, max(1, n), "parameter", np.asarray(spec.ranks, dtype=np.int32))
        j, base = Var("j", I64), Var("base", I64)
        row_count = ctx.load(f"{M}._rows", 0)
        stores = []
        for v in variables:
            src, local, dtype = _source(ctx, pop, v)
            ctx.declare(f"{M}.{v}", dtype, (n if local else 1) * rows, "buffer", 0, handle=(M, f"buffer:{v}"))
            if local:
                idx = j if spec.ranks is None else i64(ctx.load(f"{M}._ranks", j))
                stores.append(Loop(j, c64(0), c64(n), [
                    ctx.store(f"{M}.{v}", BinOp("+", Var("base", I64), j, I64), ctx.load(src, idx))],
                    f"monitor:{M}"))
            else:
                stores.append(ctx.store(f"{M}.{v}", row_count, ctx.load(src, 0)))
        due = Cmp("==", BinOp("%", t, ctx.load(f"{M}._period", 0), I64), ctx.load(f"{M}._offset", 0))
        body.append(If(Logic("and", active, due), [Let(base, BinOp("*", row_count, c64(n), I64))] + stores + [
            ctx.store(f"{M}._rows", 0, BinOp("+", row_count, c64(1), I64))]))
        ctx.km.exit_conditions.append(Cmp(">=", ctx.load(f"{M}._rows", 0), c64(rows)))
    for kind in SPIKE_KINDS:
        if kind in spec.variables:
            body.append(_spike_recording(ctx, spec, pop, kind, lay["spike_capacity"]))
    return Kernel(f"record_{M}", "record", body, f"monitor of {pop.name}: {', '.join(spec.variables)}")


#: recorded event lists: regular spikes, axonal spikes (axonal.py)
SPIKE_KINDS = ("spike", "axon_spike")


def _spike_recording(ctx: LoweringContext, spec: MonitorSpec, pop, kind: str, cap: int) -> If:
    """Append the (step, rank) pairs of this step's spikes (``kind`` "spike") or axonal spikes
    (``axon_spike``) to the monitor's buffers (``M.spike_steps``, ``M.axon_spike_steps``, ...)."""
    M = spec.name
    if pop.model.type != "spike":
        raise NetworkError(f"monitor {M}: population {pop.name} is rate-coded and emits no spikes")
    if kind == "spike":
        spiked, n_spiked = f"{pop.name}._spiked", f"{pop.name}._n_spiked"
        count_name, count_role = f"{M}._n_spikes", "spike_count"
    else:
        if pop.model.axon_spike is None:
            raise NetworkError(f"monitor {M}: the neuron of population {pop.name} defines no axon_spike")
        spiked, n_spiked = f"{pop.name}._axonal", f"{pop.name}._n_axonal"
        count_name, count_role = f"{M}._n_axon_spikes", "axon_spike_count"
    ctx.declare(f"{M}.{kind}_steps", I64, cap, "buffer", 0, handle=(M, f"{kind}_steps"))
    ctx.declare(f"{M}.{kind}_ranks", I32, cap, "buffer", 0, handle=(M, f"{kind}_ranks"))
    ctx.declare(count_name, I64, 1, "internal", 0, handle=(M, count_role))
    t = ctx.load("net.t", 0)
    active = Cmp("!=", ctx.load(f"{M}._active", 0), Const(False, BOOL))
    s, r, c = Var("sp", I64), Var("rank", I32), ctx.load(count_name, 0)
    append = [ctx.store(f"{M}.{kind}_steps", c, t), ctx.store(f"{M}.{kind}_ranks", c, r),
              ctx.store(count_name, 0, BinOp("+", c, c64(1), I64))]
    if spec.ranks is not None:
        if f"{M}._mask" not in ctx.km.arrays:
            mask = np.zeros(pop.size, dtype=bool)
            mask[np.asarray(spec.ranks)] = True
            ctx.declare(f"{M}._mask", BOOL, pop.size, "parameter", mask)
        append = [If(Cmp("!=", ctx.load(f"{M}._mask", r), Const(False, BOOL)), append)]
    ctx.km.exit_conditions.append(Cmp(">", BinOp("+", ctx.load(count_name, 0), c64(pop.size), I64), c64(cap)))
    return If(active, [Loop(s, c64(0), ctx.load(n_spiked, 0), [Let(r, ctx.load(spiked, s))] + append,
                            f"spikes:{pop.name}")])


def _source(ctx: LoweringContext, pop, var: str):
    """(array, is_local, dtype) of a recordable variable of a population."""
    ref = ref_of(var)
    if ref.kind == "sum" and not ref.side:
        arr = f"{pop.name}._sum_{ref.name}"
        if arr not in ctx.km.arrays:
            raise NetworkError(f"cannot record {var}: population {pop.name} has no input with that target")
        return arr, True, ctx.ft
    from .firing_rate import firing_rate_array  # registers its phase after 'neurons': imported late
    a = pop.model.attributes.get(var)
    if a is None and var == "r" and firing_rate_array(pop.name) in ctx.km.arrays:
        return firing_rate_array(pop.name), True, ctx.ft  # compute_firing_rate() (firing_rate.py)
    if a is None:
        known = ", ".join(list(pop.model.attributes) + (["spike"] if pop.model.type == "spike" else []))
        raise NetworkError(f"cannot record '{var}': population {pop.name} (model '{pop.model.name}') "
                           f"has no such attribute (it has: {known})")
    return f"{pop.name}.{var}", a.locality == "local", attr_dtype(a, ctx.ft)
