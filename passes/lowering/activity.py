"""Whether a population is enabled (``pop.enable()`` / ``pop.disable()``), as a switch the native
loop reads at every step, so that it changes between two ``simulate`` calls without a recompile.

``P._active`` (bool[1], handle ``(P, 'active')``) guards what ANNarchy stops for a disabled
population: its neuron update (equations, spike condition, reset), its global operations and
firing rate, the reset of its weighted sums, and, for every projection into it, the synaptic
input, the synaptic equations and the post-synaptic events.  Its variables and weighted sums
keep their values.  It emits no spikes (nor axonal spikes) while disabled (its spike list is empty; ANNarchy keeps
the list of its last active step, which its projections would deliver again at every step).

A guarded kernel's body is one ``If`` reading only the switch, which nothing in the module
writes: the platform passes map the body and run each piece under the same condition
(``passes/platform/guards.py``).
"""
from __future__ import annotations

from anncompiler.ir.kernel import Cmp, Const, Expr, If, Kernel, UnOp
from anncompiler.ir.types import BOOL

from .context import LoweringContext

ROLE = "active"


def switch_array(population: str) -> str:
    return f"{population}._active"


def declare_active(ctx: LoweringContext, p) -> None:
    ctx.declare(switch_array(p.name), BOOL, 1, "internal", bool(p.data.get("active", True)),
                handle=(p.name, ROLE))


def is_active(ctx: LoweringContext, population: str) -> Expr | None:
    name = switch_array(population)
    if name not in ctx.km.arrays:
        return None
    return Cmp("!=", ctx.load(name, 0), Const(False, BOOL))


def when_active(ctx: LoweringContext, population: str, kernels: list[Kernel]) -> list[Kernel]:
    """``kernels`` run only while ``population`` is enabled (their bodies wrapped in place)."""
    cond = is_active(ctx, population)
    if cond is None:
        return kernels
    for k in kernels:
        if k.body:
            k.body = [If(cond, k.body)]
    return kernels


def idle_kernel(ctx: LoweringContext, p) -> Kernel | None:
    """A disabled spiking population's spike list is empty (the step's neuron kernels are skipped)."""
    cond = is_active(ctx, p.name)
    if cond is None or p.model is None or p.model.type != "spike":
        return None
    counts = [ctx.km.handles[(p.name, role)].array for role in ("spike_count", "axonal_count")
              if (p.name, role) in ctx.km.handles]  # the spike list, and the axonal one (axonal.py)
    empty = [ctx.store(c, 0, Const(0, ctx.km.arrays[c].dtype)) for c in counts]
    return Kernel(f"idle_{p.name}", "neurons", [If(UnOp("not", cond, BOOL), empty)],
                  f"no spikes from {p.name} while it is disabled")
