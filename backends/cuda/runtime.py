"""The cuda Simulator: the whole state on the device from load to the end, steps launched in chunks.

* **State.**  ``load`` copies every kernel-module array to the device once (arrays of a previous
  compile that are already there, ``runtime/rebuild.py``, are kept without a copy) and hands the
  front end :class:`~.device_array.DeviceArray` views in their place: ``pop.v`` downloads ``v``,
  ``pop.v = ...`` uploads it, ``net.current_step`` reads 8 bytes.
* **Steps.**  ``run(n)`` launches the functions of one step (``render.py``'s plan, then
  ``annc_advance_step``) ``n`` times: whole graphs of :data:`GRAPH_STEPS` steps captured once and
  replayed, the rest launched one by one.  Nothing is copied per step.
* **Stopping.**  The exit conditions (a monitor buffer full, ``simulate_until``) are computed on the
  device into a stop flag that every function tests first: the steps queued after the one that
  stopped do nothing.  When the module has exit conditions, ``run`` reads the step counter before
  and after the chunk (16 bytes) to know how many steps ran; otherwise it reads nothing.
* **Monitors** record into device buffers; the simulation loop drains them between chunks through
  the same views (the row counter, then the rows recorded).
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import BackendError
from anncompiler.ir import kernel as K

from ..base import Simulator
from .device_array import DeviceArray

#: steps per captured graph (a chunk of ``n`` steps replays ``n // GRAPH_STEPS`` graphs)
GRAPH_STEPS = 64
#: the largest grid launched (the kernels' loops are grid-stride: any grid is correct)
MAX_BLOCKS = (1 << 31) - 1


def check_device_arrays(module: K.KernelModule, arrays: dict) -> None:
    """Every declared array present with its dtype and size (numpy, or already on the device)."""
    for name, decl in module.arrays.items():
        a = arrays.get(name)
        if a is None:
            raise BackendError(f"array {name!r} is declared by the kernel module but not allocated")
        if not isinstance(a, (np.ndarray, DeviceArray)) or a.dtype != decl.dtype.numpy:
            raise BackendError(f"array {name!r} must hold {decl.dtype.numpy}, got {getattr(a, 'dtype', type(a).__name__)}")
        if a.size != max(1, decl.size):
            raise BackendError(f"array {name!r} has {a.size} elements, {decl.size} declared")


class CUDASimulator(Simulator):
    def __init__(self, program, device, arrays: dict):
        module = program.module
        check_device_arrays(module, arrays)
        self.program, self.device, self.module = program, device, module
        self.arrays: dict[str, DeviceArray] = {}
        for name in module.arrays:
            a = arrays[name]
            if isinstance(a, DeviceArray) and a.device is device:
                self.arrays[name] = a  # already on this device (a recompile): no copy
            else:
                host = np.asarray(a)
                self.arrays[name] = DeviceArray(device, device.to_device(host), host.dtype, host.size, name)
        self.stop = device.to_device(np.zeros(1, np.uint8))
        functions = device.load_module(program)
        self.step_launches = [self._prepare(functions, spec) for spec in program.launches + [program.advance]]
        self.counter = self.arrays[K.STEP_COUNTER]
        self.may_stop = bool(module.exit_conditions)
        self._graphs: dict[int, object] = {}

    def _prepare(self, functions, spec):
        if spec.iterations is None:
            grid, block = 1, 1
        else:
            block = max(1, int(spec.block))
            grid = min(MAX_BLOCKS, max(1, -(-int(spec.iterations) // block)))
        args = tuple(self.arrays[a].buffer for a in spec.arrays) + (self.stop,)
        return self.device.prepare(functions[spec.function], grid, block, args)

    def state_arrays(self) -> dict:
        """What the front end reads and writes: the device-backed views, by array name."""
        return dict(self.arrays)

    def graph(self, steps: int):
        """The launches of ``steps`` steps as one graph (captured on first use)."""
        if steps not in self._graphs:
            self._graphs[steps] = self.device.capture(self.step_launches * steps)
        return self._graphs[steps]

    def run(self, n_steps: int) -> int:
        n_steps = int(n_steps)
        if n_steps < 0:
            raise BackendError(f"cannot run a negative number of steps ({n_steps})")
        if n_steps == 0:
            return 0
        device = self.device
        device.fill(self.stop, 0)
        before = int(self.counter[0]) if self.may_stop else 0
        whole, rest = divmod(n_steps, GRAPH_STEPS)
        if whole:
            device.replay(self.graph(GRAPH_STEPS), whole)
        if rest == 1:  # step(): one graph of one step
            device.replay(self.graph(1))
        else:
            for _ in range(rest):
                for launch in self.step_launches:
                    device.launch(launch)
        device.synchronize()
        if not self.may_stop:
            return n_steps
        return int(self.counter[0]) - before
