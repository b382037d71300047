"""Lowering of populations: attribute arrays and the per-step neuron update kernel.

As in docs/semantics.md, "Neuron updates": global updates, then one loop over neurons; a
neuron in its refractory period runs only its ``g_`` updates and counts
down; other neurons run every update, then test the spike condition, and
on a spike run the reset, append their rank to the spike list, store the
spike step and restart the refractory counter.
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import ModelError
from anncompiler.ir.kernel import (Append, BinOp, Cast, Cmp, Const, Expr, If, Kernel, Let, Load, Logic, Loop,
                                   Select, Store, UnOp, Var)
from anncompiler.ir.model import Ref
from anncompiler.ir.network import PopulationNode
from anncompiler.ir.types import BOOL, I32, I64

from .axonal import axon_emission, axon_flag_statements, axonal_arrays, declare_axonal, has_axon_spike
from .context import LoweringContext, c64, is_temp, neurons, population_sizes, unknown
from .activity import is_active
from .globalops import global_op_load
from .random import replace_random, replace_random_expr

I = Var("i", I64)


def spike_arrays(p: PopulationNode) -> tuple[str, str]:
    return f"{p.name}._spiked", f"{p.name}._n_spiked"


def input_targets(ctx: LoweringContext, p: PopulationNode) -> list[str]:
    """Targets whose weighted sums this population receives or reads: a spiking projection
    writes ``g_target`` where the neuron has it; a rate-coded one (even into a spiking neuron,
    which reads it as ``sum(target)``) writes the sum, except a current injection (``g_target``)."""
    targets = list(p.model.targets) if p.model.type == "rate" else []
    for e in ctx.net.projections_into(p.name):
        writes_sum = e.synapse.type != "spike" and e.kind != "current_injection" and not e.options.get("conductance")
        for t in e.targets:
            if t not in targets and (writes_sum or f"g_{t}" not in p.model.attributes):
                targets.append(t)
    return targets


def conductance_resets(p: PopulationNode) -> list[str]:
    """``g_x`` inputs whose only update is ``g_x = 0``: reset at the start of each step.

    ANNarchy resets such conductances before the synaptic input of the step, so a spike
    emitted at step t shows up as ``g_x = w`` in the recording of step t+1 (its own test
    "spike at t=1, g_exc at t=2, then reset"); the neuron update sees the same value either way.
    """
    m = p.model
    if m.type != "spike" or m.updates is None:
        return []
    out = []
    for name in m.attributes:
        if not name.startswith("g_"):
            continue
        writes = [u for u in m.updates if u.target == name]
        if len(writes) == 1 and writes[0].kind == "set" and writes[0].value.is_zero is True:  # 0 or 0.0
            out.append(name)
    return out


def declare_population(ctx: LoweringContext, p: PopulationNode) -> None:
    m = p.model
    ctx.declare_attributes(p.name, m.attributes, population_sizes(p), p.init)
    for t in input_targets(ctx, p):
        ctx.declare(f"{p.name}._sum_{t}", ctx.ft, p.size, "state", 0.0, handle=(p.name, f"sum:{t}"))
    if m.type == "spike":
        ctx.declare(f"{p.name}._spiked", I32, p.size, "spikes", 0, handle=(p.name, "spikes"))
        ctx.declare(f"{p.name}._n_spiked", I64, 1, "spikes", 0, handle=(p.name, "spike_count"))
        ctx.declare(f"{p.name}._last_spike", I64, p.size, "state", -10000, handle=(p.name, "last_spike"))
        ctx.declare(f"{p.name}._spike_flag", BOOL, p.size, "internal", False)
        declare_axonal(ctx, p)
        if has_refractory(p):
            ctx.declare(f"{p.name}._refractory", I32, p.size, "parameter", refractory_steps(ctx, p),
                        handle=(p.name, "refractory"))
            ctx.declare(f"{p.name}._refractory_remaining", I32, p.size, "state", 0,
                        handle=(p.name, "refractory_remaining"))


def has_refractory(p: PopulationNode) -> bool:
    return p.model.refractory is not None or p.data.get("refractory") is not None


def refractory_steps(ctx: LoweringContext, p: PopulationNode):
    """Initial refractory periods in steps (``round(ms / dt)``), per neuron."""
    value = p.data.get("refractory")
    if value is None:
        r = p.model.refractory
        if r is not None and r.is_Number:
            value = float(r)
        else:  # a parameter name: computed at each spike from the attribute
            return 0
    steps = np.rint(np.asarray(value, dtype=float) / ctx.net.dt)
    return np.clip(np.nan_to_num(steps), 0, np.iinfo(np.int32).max).astype(np.int32)  # saturate, never wrap


def resolver(ctx: LoweringContext, p: PopulationNode, index: Expr):
    m = p.model

    def resolve(ref: Ref) -> Expr:
        name = ref.name
        if ref.side:
            raise unknown(m.name, str(ref), f" in population {p.name} (pre./post. belong to synapses)")
        if ref.kind == "global":  # mean(x), max(x)...: previous step (globalops.py)
            return global_op_load(ctx, p, ref)
        if ref.kind == "sum":
            targets = input_targets(ctx, p) if name == "" else [name]
            total = Const(0.0, ctx.ft)
            for t in targets:
                arr = f"{p.name}._sum_{t}"
                if arr in ctx.km.arrays:
                    load = ctx.load(arr, index)
                    total = load if isinstance(total, Const) else BinOp("+", total, load, ctx.ft)
            return total
        if is_temp(name):
            return Var(name, ctx.ft)
        a = m.attributes.get(name)
        if a is not None:
            return ctx.load(f"{p.name}.{name}", index if a.locality == "local" else c64(0))
        if name == "t_last" and m.type == "spike":
            return BinOp("*", Cast(ctx.load(f"{p.name}._last_spike", index), ctx.ft),
                         Const(float(ctx.net.dt), ctx.ft), ctx.ft)
        common = ctx.common_symbol(name)
        if common is not None:
            return common
        raise unknown(m.name, name, f" in population {p.name}")
    return resolve


def _store_target(ctx, p, index):
    def store(target: str, value: Expr):
        a = p.model.attributes[target]
        return ctx.store(f"{p.name}.{target}", index if a.locality == "local" else c64(0), value)
    return store


def neuron_kernel(ctx: LoweringContext, p: PopulationNode) -> Kernel:
    """The update kernel of a population: its global updates, then parallel loops over its
    neurons (owner ``neurons:P``: each neuron writes only its own state)."""
    m = p.model
    if m.updates is None:
        raise ModelError("the model was not discretised (run 'discretise-odes' before 'lower-to-kernels')",
                         model=m.name)
    is_global = {u.target: True for u in m.updates
                 if u.kind == "set" and m.attributes[u.target].locality == "global"}
    n_global = 0
    for k, u in enumerate(m.updates):  # globals come first (discretise-odes)
        if u.kind == "set" and u.target in is_global:
            n_global = k + 1
    glob, loc = m.updates[:n_global], m.updates[n_global:]
    resets = set(conductance_resets(p))
    loc = [u for u in loc if u.target not in resets]
    res0 = resolver(ctx, p, c64(0))
    rand0, glob = replace_random(ctx, p, glob, res0, c64(0))  # random draws: Lets (random.py)
    body = rand0 + ctx.lower_updates(glob, res0, _store_target(ctx, p, c64(0)), m.name)
    res, store = resolver(ctx, p, I), _store_target(ctx, p, I)
    rand, loc = replace_random(ctx, p, loc, res, I)
    lowered = ctx.lower_updates(loc, res, store, m.name)
    all_updates = rand + lowered
    space = neurons(p.name)
    if m.type == "rate":
        loops = [Loop(I, c64(0), c64(p.size), all_updates, space, parallel=True)] if loc else []
        return Kernel(f"update_{p.name}", "neurons", body + loops, f"{m.name} ({p.size} neurons)", owner=space)

    spiked, n_spiked = f"{p.name}._spiked", f"{p.name}._n_spiked"
    body.append(ctx.store(n_spiked, 0, c64(0)))  # the spike list of this step starts empty
    cond = ctx.translator(res, m.name, m.spike.source if m.spike else "")
    rand_test, spike_expr = replace_random_expr(ctx, p, m.spike.source, m.spike.expr, res, I) if m.spike \
        else ([], None)
    rand_reset, reset_updates = replace_random(ctx, p, m.reset_updates or [], res, I)
    emit: list = ctx.lower_updates(reset_updates, res, store, m.name)
    emit.append(Append(spiked, n_spiked, Cast(I, I32)))
    emit.append(ctx.store(f"{p.name}._last_spike", I, ctx.load("net.t", 0)))
    if has_refractory(p):
        emit.append(ctx.store(f"{p.name}._refractory_remaining", I, refractory_on_spike(ctx, p, res)))
    # Two loops. The first is branch-free and vectorisable: every update (a neuron in its
    # refractory period keeps the old value of each masked variable, as a select), the refractory
    # countdown, and the spike condition written as a per-neuron flag. The second walks the flags
    # and emits the rare spikes (reset, spike list, last spike, refractory restart) in rank order.
    flag = f"{p.name}._spike_flag"
    if has_refractory(p):
        rem = f"{p.name}._refractory_remaining"
        in_refractory = Var("_in_refractory", BOOL)
        updates = [Let(in_refractory, Cmp(">", ctx.load(rem, I), Const(0, I32)))]
        updates += rand + _masked(lowered, loc, in_refractory)
        if m.spike is not None:
            fires = Logic("and", UnOp("not", in_refractory, BOOL), cond.boolean(cond(spike_expr)))
            updates += rand_test + [ctx.store(flag, I, fires)]
        if has_axon_spike(p):
            updates += axon_flag_statements(ctx, p, res, I, in_refractory)
        updates.append(ctx.store(rem, I, Select(in_refractory, BinOp("-", ctx.load(rem, I), Const(1, I32), I32),
                                                ctx.load(rem, I), I32)))
    else:
        updates = list(all_updates)
        if m.spike is not None:
            updates += rand_test + [ctx.store(flag, I, cond.boolean(cond(spike_expr)))]
        if has_axon_spike(p):
            updates += axon_flag_statements(ctx, p, res, I, None)
    if has_axon_spike(p):  # the axonal spike list of this step starts empty (axonal.py)
        body.append(ctx.store(axonal_arrays(p.name)[1], 0, c64(0)))
    body.append(Loop(I, c64(0), c64(p.size), updates, space, parallel=True))
    if m.spike is not None:
        test = rand_reset + [If(Cmp("!=", ctx.load(flag, I), Const(False, BOOL)), emit)]
        body.append(Loop(I, c64(0), c64(p.size), test, space, parallel=True))
    if has_axon_spike(p):
        body.append(axon_emission(ctx, p, res, store, I))
    return Kernel(f"update_{p.name}", "neurons", body, f"{m.name} ({p.size} neurons, spiking)", owner=space)


def _masked(statements: list, updates: list, in_refractory: Var) -> list:
    """Keep the old value of masked variables during the refractory period (as a select)."""
    out = []
    for st, u in zip(statements, updates):
        if isinstance(st, Store) and u.masked_in_refractory:
            st = Store(st.array, st.index, Select(in_refractory, Load(st.array, st.index, st.value.dtype),
                                                   st.value, st.value.dtype))
        out.append(st)
    return out


def refractory_on_spike(ctx, p, res) -> Expr:
    r = p.model.refractory
    if p.data.get("refractory") is None and r is not None and not r.is_Number:
        ms = ctx.translator(res, p.model.name, "refractory")(r)
        steps = BinOp("/", ctx.translator(res, p.model.name).num(ms), Const(float(ctx.net.dt), ctx.ft), ctx.ft)
        return Cast(BinOp("+", steps, Const(0.5, ctx.ft), ctx.ft), I32)
    return ctx.load(f"{p.name}._refractory", I)


def spike_source_kernel(ctx: LoweringContext, p: PopulationNode) -> Kernel:
    """Emit the spikes of a SpikeSourceArray: per neuron, a sorted list of steps and a cursor."""
    steps = p.data["steps"]  # list of sorted unique int steps per neuron
    ptr = np.zeros(p.size + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(s) for s in steps])
    flat = np.concatenate([np.asarray(s, dtype=np.int64) for s in steps]) if ptr[-1] else np.zeros(1, np.int64)
    # room for the longer spike trains the runtime may write later (``capacity``, at least the current ones)
    capacity = max(1, len(flat), int(p.data.get("capacity", 0)))
    ctx.declare(f"{p.name}._times_ptr", I64, p.size + 1, "parameter", ptr, handle=(p.name, "times_ptr"))
    ctx.declare(f"{p.name}._times", I64, capacity, "parameter", flat, handle=(p.name, "times"))
    ctx.declare(f"{p.name}._cursor", I64, p.size, "state", ptr[:-1].copy(), handle=(p.name, "cursor"))
    spiked, n_spiked = f"{p.name}._spiked", f"{p.name}._n_spiked"
    cur, t = ctx.load(f"{p.name}._cursor", I), ctx.load("net.t", 0)
    c = Var("c", I64)
    enabled = is_active(ctx, p.name)  # a disabled source skips its spikes (activity.py)

    def when_enabled(emit):
        return emit if enabled is None else [If(enabled, emit)]
    # the cursor points at the first time not in the past: the runtime re-points it whenever the
    # time is moved (set_time, current_step, reset), so a neuron fires when its time equals now
    body = [ctx.store(n_spiked, 0, c64(0)),
            Loop(I, c64(0), c64(p.size), [
                Let(c, cur),
                If(Cmp("<", c, ctx.load(f"{p.name}._times_ptr", BinOp("+", I, c64(1), I64))), [
                    If(Cmp("==", ctx.load(f"{p.name}._times", c), t), [
                        *when_enabled([Append(spiked, n_spiked, Cast(I, I32)),
                                       ctx.store(f"{p.name}._last_spike", I, t)]),
                        ctx.store(f"{p.name}._cursor", I, BinOp("+", c, c64(1), I64)),
                    ]),
                ]),
            ], f"neurons:{p.name}")]
    return Kernel(f"update_{p.name}", "neurons", body, f"SpikeSourceArray ({p.size} neurons)")


def timed_array_kernel(ctx: LoweringContext, p: PopulationNode) -> Kernel:
    """Set ``r`` of a TimedArray from its rows, on its own clock (the sequence's step counter).

    Each step: when the next row's start equals the clock, copy that row into ``r`` and move to
    the following row; then, with a period of ``P`` steps, a clock at ``P - 1`` goes back to 0
    (and the sequence to its first row), else the clock advances.  The rows, their starts, the
    row count and the period are arrays the runtime rewrites between chunks (``update()``);
    their sizes are fixed at compile (the row count then)."""
    rates, starts, period = p.data["rates"], p.data["starts"], int(p.data["period"])
    n_rows, n = len(starts), p.size
    table = np.zeros(max(1, n_rows * n))
    table[:n_rows * n] = np.asarray(rates, dtype=float)[:n_rows].reshape(-1)
    P = p.name
    ctx.declare(f"{P}._timed_rates", ctx.ft, max(1, n_rows * n), "parameter", table, handle=(P, "timed_rates"))
    ctx.declare(f"{P}._timed_starts", I64, max(1, n_rows), "parameter",
                np.asarray(starts, dtype=np.int64) if n_rows else 0, handle=(P, "timed_starts"))
    ctx.declare(f"{P}._timed_rows", I64, 1, "parameter", n_rows, handle=(P, "timed_rows"))
    ctx.declare(f"{P}._timed_period", I64, 1, "parameter", period, handle=(P, "timed_period"))
    ctx.declare(f"{P}._timed_clock", I64, 1, "state", 0, handle=(P, "timed_clock"))
    ctx.declare(f"{P}._timed_next", I64, 1, "state", 0, handle=(P, "timed_next"))
    clock, nxt = Var("clock", I64), Var("next", I64)
    row = BinOp("*", nxt, c64(n), I64)
    copy_row = Loop(I, c64(0), c64(n), [
        ctx.store(f"{P}.r", I, ctx.load(f"{P}._timed_rates", BinOp("+", row, I, I64)))], neurons(P))
    cycle = ctx.load(f"{P}._timed_period", 0)
    body = [
        Let(clock, ctx.load(f"{P}._timed_clock", 0)),
        Let(nxt, ctx.load(f"{P}._timed_next", 0)),
        If(Cmp("<", nxt, ctx.load(f"{P}._timed_rows", 0)), [
            If(Cmp("==", ctx.load(f"{P}._timed_starts", nxt), clock), [
                copy_row,
                ctx.store(f"{P}._timed_next", 0, BinOp("+", nxt, c64(1), I64)),
            ]),
        ]),
        If(Logic("and", Cmp(">", cycle, c64(0)), Cmp("==", clock, BinOp("-", cycle, c64(1), I64))), [
            ctx.store(f"{P}._timed_clock", 0, c64(0)),
            ctx.store(f"{P}._timed_next", 0, c64(0)),
        ], [
            ctx.store(f"{P}._timed_clock", 0, BinOp("+", clock, c64(1), I64)),
        ]),
    ]
    return Kernel(f"update_{P}", "neurons", body, f"TimedArray ({n} neurons, {n_rows} rows)")
