"""``net.memory_footprint()``: the bytes a network holds, per population, projection and
monitor: the native side (the state arrays shared with the compiled code, synapse structure and
monitor buffers included) and the Python side (what monitors have recorded so far)."""
from __future__ import annotations

import numpy as np

from anncompiler.runtime import snapshot


def _recorded_bytes(monitor) -> int:
    total = 0
    for chunks in getattr(monitor, "_data", {}).values():
        total += sum(np.asarray(c).nbytes for c in chunks)
    for steps, ranks in getattr(monitor, "_spikes", []):
        total += steps.nbytes + ranks.nbytes
    return total


def memory_footprint(net, show_py_side=True, show_cpp_side=True) -> dict:
    """Bytes per object: ``{name: {"native": bytes, "python": bytes}}``, with ``"network"`` for the
    arrays of no object (step counter, constants) and ``"total"``; printed as a table when
    either ``show_`` flag is set (each side only when its flag is)."""
    objects = [*net._populations, *net._projections, *net._monitors]
    native = {o.name: 0 for o in objects}
    native["network"] = 0
    if net.compiled:
        owners = snapshot.array_owners(net.kernel_module, [o.name for o in objects])
        for name, array in net._arrays.items():
            native[owners.get(name, "network")] += array.nbytes
    python = {o.name: 0 for o in objects}
    python["network"] = 0
    for m in net._monitors:
        python[m.name] += _recorded_bytes(m)
    report = {name: {"native": native[name], "python": python[name]} for name in native}
    report["total"] = {"native": sum(native.values()), "python": sum(python.values())}
    if show_py_side or show_cpp_side:
        print("Memory footprint (bytes):")
        for name, sides in report.items():
            parts = ([f"native {sides['native']:,}"] if show_cpp_side else []) + \
                    ([f"python {sides['python']:,}"] if show_py_side else [])
            print(f"  {name}: {', '.join(parts)}")
    return report
