"""``lower-to-kernels``: network IR + discrete IR -> neutral kernel IR, following the schedule.

The kernel module it produces says what is computed (``ir/kernel.py``): parallel loops over
index spaces, ordered spike emission, accumulations, reductions in a declared order.  How one
kind of machine runs it is the business of the platform passes that the backend appends
(``passes/platform/``).  Each phase of the schedule is lowered by its registered lowering
(``phases.py``; the built-in ones in ``builtin_phases.py``).
"""
from __future__ import annotations

from typing import Optional

from anncompiler.errors import NetworkError

from ..manager import Pass, register_pass
from . import builtin_phases  # noqa: F401  (registers the built-in phases)
from .activity import declare_active
from .context import LoweringContext
from .firing_rate import declare_firing_rate
from .globalops import declare_global_ops
from .monitors import monitor_layout
from .neurons import declare_population
from .phases import get_phase, register_phase, registered_phases
from .projections import declare_projection
from .stop import declare_stop

__all__ = ["LowerToKernels", "lower_network", "monitor_layout", "register_phase", "registered_phases"]


def lower_network(net, lanes: int | None = None):
    if net.schedule is None:
        raise NetworkError("no schedule: run the 'schedule' pass before 'lower-to-kernels'")
    ctx = LoweringContext(net, lanes)
    for p in net.populations:
        declare_population(ctx, p)
        declare_active(ctx, p)
        declare_global_ops(ctx, p)
        declare_stop(ctx, p)
        declare_firing_rate(ctx, p)
    for e in net.projections:
        declare_projection(ctx, e)
    for phase, names in net.schedule:
        ctx.km.kernels += get_phase(phase).lower(ctx, names)
    return ctx.km


@register_pass
class LowerToKernels(Pass):
    """Emit the neutral kernel module: arrays for all state and the kernels of every phase."""
    name = "lower-to-kernels"
    stage = "kernel"
    #: partial results of every row sum, combined in a fixed order (1: the sequential sum, as
    #: ANNarchy's scalar code); a property of the result, the same on every backend.  Unset: chosen
    #: per projection from its rows (``row_lanes`` in passes/lowering/context.py)
    lanes: Optional[int] = None

    def __post_init__(self):
        if self.lanes is not None:
            self.require_at_least(lanes=1)

    def run(self, module):
        module.kernels = lower_network(module.network, self.lanes)
