"""``drop-unused-arrays``: arrays that no kernel reads or writes and no handle names are not
allocated.

The lowering declares what a projection or population may need before the platform passes have
decided how its kernels run: a projection whose spikes go through rings of future input, for
example, reads its weights and ring offsets in out-synapse order and never its 16-bit pre ranks
(0.6 GiB for the 0.3 G synapses of the full-scale cortical microcircuit).  Run after the passes
that read such arrays' values at compile time (``cpu-partition`` reads the pre ranks); the dump
notes what it dropped.
"""
from __future__ import annotations

import numpy as np

from anncompiler.ir.kernel import Load, walk_expr
from anncompiler.ir.kernel_access import touched_arrays

from .manager import Pass, register_pass


def used_arrays(km) -> set:
    """The arrays the kernels touch, the handles name and the exit conditions read."""
    used = set().union(*(touched_arrays(k.body) for k in km.kernels)) if km.kernels else set()
    used |= {h.array for h in km.handles.values()}
    for cond in km.exit_conditions:
        used |= {e.array for e in walk_expr(cond) if isinstance(e, Load)}
    return used


@register_pass
class DropUnusedArrays(Pass):
    """Leave out the arrays nothing reads or writes (no kernel, no handle)."""
    name = "drop-unused-arrays"
    stage = "kernel"

    def run(self, module):
        km = module.kernels
        if km is None:
            return
        used = used_arrays(km)
        dropped = [name for name in km.arrays if name not in used]
        if not dropped:
            return
        size = sum(max(1, d.size) * np.dtype(d.dtype.numpy).itemsize for d in (km.arrays[n] for n in dropped))
        for name in dropped:
            del km.arrays[name]
        km.notes.append(f"drop-unused-arrays: {len(dropped)} arrays that no kernel or handle uses "
                        f"({size / 2 ** 20:.1f} MiB): {', '.join(dropped[:8])}{' ...' if len(dropped) > 8 else ''}")
