"""Where the cuda backend's memory and kernels live: a GPU through CuPy, or a fake device on the host.

The simulator (``runtime.py``) sees one small interface: buffers that it fills and reads by
explicit copies, a module whose functions it launches with a grid and a block, and graphs that
replay a recorded list of launches.  Two implementations:

* :class:`CupyDevice`: CuPy arrays in GPU memory, the NVRTC PTX loaded as a CUDA module,
  launches on one stream, a chunk of steps captured once as a CUDA graph and replayed;
* :class:`HostDevice` (``cuda_config={"device": "host"}``): numpy arrays stand for device memory
  (copied in and out exactly as GPU memory would be), the same CUDA C compiled by g++ through the
  shim of ``host_shim.py`` runs every launch as one block of one thread, and a "graph" is the list
  of launches replayed in a loop.  For tests and debugging on machines without a GPU.

Both count what crosses between host and device (:class:`TransferStats`), so tests can check that
a simulation moves nothing per step beyond what monitors and stop conditions need.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from anncompiler.errors import BackendError

__all__ = ["TransferStats", "Device", "HostDevice", "CupyDevice", "open_device", "describe_missing_device"]


@dataclass
class TransferStats:
    """Copies between host and device, and launches, since the device was opened."""
    uploads: int = 0
    downloads: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    launches: int = 0
    graph_replays: int = 0

    def up(self, nbytes: int) -> None:
        self.uploads += 1
        self.bytes_up += int(nbytes)

    def down(self, nbytes: int) -> None:
        self.downloads += 1
        self.bytes_down += int(nbytes)

    def copy(self) -> "TransferStats":
        return TransferStats(**vars(self))

    def since(self, earlier: "TransferStats") -> "TransferStats":
        return TransferStats(**{k: v - getattr(earlier, k) for k, v in vars(self).items()})


class Device:
    """The interface the cuda simulator uses (see the module docstring)."""
    kind = ""

    def __init__(self):
        self.stats = TransferStats()

    # memory ------------------------------------------------------------------
    def to_device(self, host: np.ndarray):
        """A new device buffer holding a copy of the 1-D array ``host``."""
        raise NotImplementedError

    def read(self, buf, start: int, stop: int) -> np.ndarray:
        """Elements ``start:stop`` of ``buf``, copied to the host."""
        raise NotImplementedError

    def write(self, buf, start: int, values: np.ndarray) -> None:
        """Copy ``values`` (of ``buf``'s dtype) into ``buf[start:start + len(values)]``."""
        raise NotImplementedError

    def gather(self, buf, index: np.ndarray) -> np.ndarray:
        """``buf[index]`` on the host (the index goes up, the elements come down)."""
        raise NotImplementedError

    def scatter(self, buf, index: np.ndarray, values: np.ndarray) -> None:
        """``buf[index] = values`` (index and values go up)."""
        raise NotImplementedError

    def fill(self, buf, value) -> None:
        """Set every element of ``buf`` on the device (nothing crosses the bus)."""
        raise NotImplementedError

    # code ----------------------------------------------------------------------
    def load_module(self, program):
        """The functions of a :class:`~.CUDAProgram`: ``{name: function}``."""
        raise NotImplementedError

    def prepare(self, function, grid: int, block: int, args: tuple):
        """A launch ready to run (``grid`` blocks of ``block`` threads, ``args`` device buffers)."""
        raise NotImplementedError

    def launch(self, launch) -> None:
        raise NotImplementedError

    def capture(self, launches: list):
        """A graph replaying ``launches`` in order."""
        raise NotImplementedError

    def replay(self, graph, times: int = 1) -> None:
        raise NotImplementedError

    def synchronize(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# the fake device: numpy memory, the CUDA C compiled for the host
# ---------------------------------------------------------------------------------------------
class HostDevice(Device):
    """Device memory as numpy arrays private to the device; kernels compiled by g++ (one thread)."""
    kind = "host"

    def __init__(self, extra_flags: tuple[str, ...] = ()):
        super().__init__()
        self.extra_flags = tuple(extra_flags)

    def to_device(self, host):
        buf = np.array(host, copy=True, order="C").reshape(-1)
        self.stats.up(buf.nbytes)
        return buf

    def read(self, buf, start, stop):
        out = buf[start:stop].copy()
        self.stats.down(out.nbytes)
        return out

    def write(self, buf, start, values):
        values = np.asarray(values, dtype=buf.dtype).reshape(-1)
        buf[start:start + values.size] = values
        self.stats.up(values.nbytes)

    def gather(self, buf, index):
        index = np.asarray(index, dtype=np.int64)
        self.stats.up(index.nbytes)
        out = buf[index]
        self.stats.down(out.nbytes)
        return out

    def scatter(self, buf, index, values):
        index = np.asarray(index, dtype=np.int64)
        values = np.asarray(values, dtype=buf.dtype)
        self.stats.up(index.nbytes + values.nbytes)
        buf[index] = values

    def fill(self, buf, value):
        buf.fill(value)

    def load_module(self, program):
        from .host_shim import load_host_library
        lib = load_host_library(program.source, self.extra_flags, program.cache)
        return {spec.function: getattr(lib, spec.function) for spec in program.launches + [program.advance]}

    def prepare(self, function, grid, block, args):
        # numpy buffers never move: their addresses are bound once
        return function, tuple(ctypes.c_void_p(a.ctypes.data) for a in args), args

    def launch(self, launch):
        function, pointers, _ = launch
        function(*pointers)
        self.stats.launches += 1

    def capture(self, launches):
        return list(launches)

    def replay(self, graph, times=1):
        for _ in range(times):
            for function, pointers, _ in graph:
                function(*pointers)
        self.stats.launches += len(graph) * times
        self.stats.graph_replays += times


# ---------------------------------------------------------------------------------------------
# a real GPU through CuPy
# ---------------------------------------------------------------------------------------------
class CupyDevice(Device):
    """CuPy arrays on GPU ``ordinal``; launches and copies on one non-blocking stream."""
    kind = "cupy"

    def __init__(self, ordinal: int = 0):
        super().__init__()
        import cupy
        self.cp = cupy
        self.ordinal = int(ordinal)
        self.device = cupy.cuda.Device(self.ordinal)
        with self.device:
            self.stream = cupy.cuda.Stream(non_blocking=True)

    def to_device(self, host):
        host = np.ascontiguousarray(host).reshape(-1)
        with self.device, self.stream:
            buf = self.cp.empty(host.size, dtype=host.dtype)
            buf.set(host, stream=self.stream)
        self.stream.synchronize()
        self.stats.up(host.nbytes)
        return buf

    def read(self, buf, start, stop):
        with self.device, self.stream:
            out = buf[start:stop].get(stream=self.stream)
        self.stats.down(out.nbytes)
        return out

    def write(self, buf, start, values):
        values = np.ascontiguousarray(values, dtype=buf.dtype).reshape(-1)
        with self.device, self.stream:
            buf[start:start + values.size].set(values, stream=self.stream)
        self.stream.synchronize()
        self.stats.up(values.nbytes)

    def gather(self, buf, index):
        index = np.asarray(index, dtype=np.int64)
        with self.device, self.stream:
            out = buf[self.cp.asarray(index)].get(stream=self.stream)
        self.stats.up(index.nbytes)
        self.stats.down(out.nbytes)
        return out

    def scatter(self, buf, index, values):
        index = np.asarray(index, dtype=np.int64)
        values = np.asarray(values, dtype=buf.dtype)
        with self.device, self.stream:
            buf[self.cp.asarray(index)] = self.cp.asarray(values)
        self.stream.synchronize()
        self.stats.up(index.nbytes + values.nbytes)

    def fill(self, buf, value):
        with self.device, self.stream:
            buf.fill(value)

    def load_module(self, program):
        # the PTX loaded from memory (cuModuleLoadData through cupy's Module, what RawModule does
        # with a .ptx file): the driver JIT-compiles it for this GPU
        try:
            with self.device:
                module = self.cp.cuda.function.Module()
                module.load(program.ptx.encode() + b"\0")
                functions = {spec.function: module.get_function(spec.function)
                             for spec in program.launches + [program.advance]}
        except Exception as exc:
            raise BackendError(f"cuda backend: the GPU's driver could not load the PTX: {exc}") from exc
        self._module = module  # keeps the functions' module loaded
        return functions

    def prepare(self, function, grid, block, args):
        return function, (int(grid),), (int(block),), tuple(args)

    def launch(self, launch):
        function, grid, block, args = launch
        with self.device:
            function(grid, block, args, stream=self.stream)
        self.stats.launches += 1

    def capture(self, launches):
        with self.device, self.stream:
            self.stream.begin_capture()
            try:
                for function, grid, block, args in launches:
                    function(grid, block, args, stream=self.stream)
            finally:
                graph = self.stream.end_capture()
            graph.upload(self.stream)
        return graph, len(launches)

    def replay(self, graph, times=1):
        graph, size = graph
        with self.device:
            for _ in range(times):
                graph.launch(self.stream)
        self.stats.launches += size * times
        self.stats.graph_replays += times

    def synchronize(self):
        self.stream.synchronize()


# ---------------------------------------------------------------------------------------------
# choosing a device
# ---------------------------------------------------------------------------------------------
def describe_missing_device(ordinal: int = 0) -> str | None:
    """Why GPU ``ordinal`` cannot be used ("no NVIDIA driver", "no CUDA device", ...), or None
    when it can."""
    try:
        import cupy
    except Exception as exc:
        return f"CuPy is not installed or does not import ({exc}); pip install \"anncompiler[cuda]\""
    runtime = cupy.cuda.runtime
    try:
        if runtime.driverGetVersion() == 0:
            return "no NVIDIA driver is installed on this machine"
    except Exception as exc:
        return f"the NVIDIA driver does not answer ({exc})"
    try:
        count = runtime.getDeviceCount()
    except Exception as exc:
        return f"no usable CUDA device: {exc}"
    if count == 0:
        return "the NVIDIA driver sees no CUDA device on this machine"
    if not 0 <= ordinal < count:
        return f"there is no CUDA device {ordinal} (this machine has {count}: 0 .. {count - 1})"
    return None


def parse_device(value) -> int | str:
    """``cuda_config['device']``: a GPU number >= 0, or ``"host"`` for the fake device."""
    if isinstance(value, str) and value == "host":
        return "host"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 0:
        raise BackendError(f"cuda backend: cuda_config['device'] must be a GPU number >= 0 or 'host' "
                           f"(the CUDA C compiled for the CPU, for tests), not {value!r}")
    return int(value)


def open_device(value) -> Device:
    """The device ``cuda_config['device']`` names; BackendError naming what is missing otherwise."""
    which = parse_device(value)
    if which == "host":
        from .host_shim import compiler
        if compiler() is None:
            raise BackendError("cuda backend: the host device needs a C++ compiler (g++ or $CXX); none was found")
        return HostDevice()
    missing = describe_missing_device(which)
    if missing is not None:
        raise BackendError(f"cuda backend: cannot run on a GPU: {missing}.  (cuda_config={{'device': 'host'}} "
                           "runs the same CUDA C on the CPU, for tests)")
    return CupyDevice(which)
