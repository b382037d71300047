"""Changing what a compiled network records: monitors created (or given new variables) after
``compile()``.

Design.  The native step loop records into buffers from kernels lowered for each monitor
(``passes/lowering/monitors.py``); Python only runs between chunks of steps.  A monitor added
after compile therefore needs a kernel that the compiled code lacks.  Three ways were weighed:

* record from Python between steps: no new code, but every recorded step becomes a return
  from native code (several times slower than the simulation itself for a 4000-neuron network
  at dt = 0.1 ms), and the recording point (after the whole step) would differ from a monitor
  declared before compile;
* generic recorder slots compiled in advance: they would need indirect array access in the
  kernel IR of every backend and buffers for every variable of every population;
* **recompile the network with the new monitor and carry the state over** (chosen).  Every
  kernel-module array is named after its owner (``pop0.v``, ``proj1.w``, ``monitor2._rows``),
  so the arrays of the running network are handed to the new code unchanged (the same numpy
  objects, no copy: variables, spike rings, random-number counters, time, the buffers of the
  other monitors); only the new monitor's arrays are fresh.  Recordings are bit-identical to a
  monitor declared before compile, the step loop stays fully native, and a recompile costs what
  a compile costs (about 0.1 s for the 4000-neuron COBA network with the llvm backend).

The recompile is lazy: adding monitors only marks the network, and the next simulation (or
``step()``) rebuilds once, under the network's lock, before its first native call.
"""
from __future__ import annotations


def mark_stale(net) -> None:
    """The compiled code no longer records everything the monitors ask for."""
    net._rebuild_needed = True


def rebuild_if_needed(net) -> None:
    """Recompile ``net`` (keeping its state arrays) when monitors changed since the last compile.
    Called by the simulation loop while it holds the network's lock."""
    if not getattr(net, "_rebuild_needed", False) or not net.compiled:
        return
    from .compile import compile_network
    from .simulate import drain_monitors
    drain_monitors(net)  # the buffers are reused, but a monitor's variables may have changed
    options = net._compile_options
    module, simulator, arrays, report = compile_network(
        net, options["pipeline"], options["backend"], options["dump_ir"], options["backend_options"],
        reuse=net._arrays)
    net.kernel_module, net._simulator, net._arrays = module.kernels, simulator, arrays
    report["rebuilds"] = net.compile_report.get("rebuilds", 0) + 1
    net.compile_report = report
    net._rebuild_needed = False
