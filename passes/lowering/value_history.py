"""The ``value-history`` and ``history-prime`` phases: rings of past values of the attributes
that rate-coded synapses with delays read as ``pre.x`` (``delays.py``).

``value-history`` (after the neuron updates) stores each such attribute into its ring slot
``t % R``; ``history-prime`` (before the synaptic input) fills every slot with the current values
when ``P._history_primed`` is 0 -- at the first step, and again after anything sets it back to
0 -- so that before the start the past is the initial state.
"""
from __future__ import annotations

from anncompiler.ir.kernel import BinOp, Cmp, Const, If, Kernel, Let, Loop, Var
from anncompiler.ir.network import NetworkIR
from anncompiler.ir.types import I64

from .context import LoweringContext, c64, neurons
from .delays import delayed_reads, ensure_value_ring, longest_delay
from .phases import register_phase


def _with_history(net: NetworkIR) -> list[str]:
    return [p.name for p in net.populations if p.model is not None and delayed_reads(net, p.name)]


def _split(ctx: LoweringContext, population: str):
    """(local, global) attributes of ``population`` with a ring."""
    pop = ctx.net.population(population)
    names = delayed_reads(ctx.net, population)
    for n in names:
        ensure_value_ring(ctx, population, n)
    local = [n for n in names if pop.model.attributes[n].locality == "local"]
    return local, [n for n in names if n not in local]


@register_phase("history-prime", _with_history, before="input")
def _history_prime(ctx: LoweringContext, names):
    """Every slot of every ring = the current value, once (serial; a test each step)."""
    kernels = []
    for name in names:
        R, size = longest_delay(ctx.net, name), ctx.net.population(name).size
        local, glob = _split(ctx, name)
        slot, i = Var("slot", I64), Var("i", I64)
        fill = []
        for n in local:
            at = BinOp("+", BinOp("*", slot, c64(size), I64), i, I64)
            fill.append(Loop(i, c64(0), c64(size), [ctx.store(f"{name}._history_{n}", at, ctx.load(f"{name}.{n}", i))],
                             neurons(name)))
        for n in glob:
            fill.append(ctx.store(f"{name}._history_{n}", slot, ctx.load(f"{name}.{n}", 0)))
        flag = f"{name}._history_primed"
        body = [If(Cmp("==", ctx.load(flag, 0), Const(0, ctx.km.arrays[flag].dtype)),
                   [Loop(slot, c64(0), c64(R), fill, f"history:{name}"), ctx.store(flag, 0, c64(1))])]
        kernels.append(Kernel(f"history_prime_{name}", "input", body,
                              f"the initial values of {name} as its past ({R} steps)"))
    return kernels


@register_phase("value-history", _with_history, after="neurons")
def _value_history(ctx: LoweringContext, names):
    """Store the values of this step into slot ``t % R`` (after the neuron updates)."""
    kernels = []
    for name in names:
        R, size = longest_delay(ctx.net, name), ctx.net.population(name).size
        local, glob = _split(ctx, name)
        slot = BinOp("%", ctx.load("net.t", 0), c64(R), I64)
        if glob:
            kernels.append(Kernel(f"history_{name}_global", "value-history",
                                  [ctx.store(f"{name}._history_{n}", slot, ctx.load(f"{name}.{n}", 0)) for n in glob],
                                  f"global values of {name} for its delays ({R} steps)"))
        if local:
            i, at = Var("i", I64), Var("ring_at", I64)
            body = [Let(at, BinOp("+", BinOp("*", slot, c64(size), I64), i, I64))]
            body += [ctx.store(f"{name}._history_{n}", at, ctx.load(f"{name}.{n}", i)) for n in local]
            kernels.append(Kernel(f"history_{name}", "value-history",
                                  [Loop(i, c64(0), c64(size), body, neurons(name), parallel=True)],
                                  f"values of {name} for its delays ({R} steps)", owner=neurons(name)))
    return kernels
