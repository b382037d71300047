"""The ``spike-history`` phase: after the neuron updates, each spike list goes into its slot of
the population's ring of past spike lists (``delays.py``), for the projections with delays."""
from __future__ import annotations

from anncompiler.ir.kernel import BinOp, Kernel, Let, Loop, Var
from anncompiler.ir.network import NetworkIR
from anncompiler.ir.types import I64

from .context import LoweringContext, c64
from .delay_rings import uses_delay_ring
from .delays import ensure_ring, longest_delay
from .phases import register_phase


def _with_ring(net: NetworkIR) -> list[str]:
    """Spiking populations with delays, unless every projection leaving them sends its spikes
    into rings of future input at emission (``delay_rings.py``: nothing reads their past)."""
    return [p.name for p in net.populations if p.model is not None and p.model.type == "spike"
            and longest_delay(net, p.name) > 1
            and not _all_into_rings([e for e in net.projections if e.pre == p.name], net)]


def _all_into_rings(leaving: list, net: NetworkIR) -> bool:
    return bool(leaving) and all(uses_delay_ring(net, e) for e in leaving)


@register_phase("spike-history", _with_ring, after="neurons")
def _spike_history(ctx: LoweringContext, names):
    """Copy each spike list into its ring slot (after the neuron updates of the step)."""
    kernels = []
    for name in names:
        R = ensure_ring(ctx, name)
        size = ctx.net.population(name).size
        n = Var("n", I64)
        slot = BinOp("%", ctx.load("net.t", 0), c64(R), I64)
        base = Var("ring_base", I64)
        body = [Let(base, BinOp("*", slot, c64(size), I64)),
                ctx.store(f"{name}._ring_count", slot, ctx.load(f"{name}._n_spiked", 0)),
                Loop(n, c64(0), ctx.load(f"{name}._n_spiked", 0),
                     [ctx.store(f"{name}._spike_ring", BinOp("+", base, n, I64), ctx.load(f"{name}._spiked", n))],
                     f"spikes:{name}", parallel=True)]
        kernels.append(Kernel(f"history_{name}", "spike-history", body,
                              f"spikes of {name} for its delays ({R} steps)"))
    return kernels


