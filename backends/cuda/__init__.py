"""The cuda backend: kernel IR -> CUDA C (``render.py``) -> PTX with NVRTC (``nvrtc.py``) -> a device.

``emit`` needs no device (the dumps hold ``cuda.cu`` and ``cuda.ptx``).  ``load`` opens the device
named by the ``device`` option (``cuda_config={"device": n}``; ``"host"`` is the fake device that
runs the same CUDA C on the CPU, ``device.py``) and returns the simulator of ``runtime.py``, which
keeps the whole state on the device.  The module must first be mapped by ``cuda-map``
(:meth:`CUDABackend.pipeline_suffix`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anncompiler.errors import BackendError
from anncompiler.ir.kernel import KernelModule

from ..base import Artefact, Backend, Simulator, register_backend


@dataclass
class CUDAProgram:
    """What ``load`` needs: the PTX and the launches of one step (see ``render.py``)."""
    module: KernelModule
    source: str
    ptx: str
    launches: list
    advance: object
    #: whether compiled code may be cached on disk (the host device's shared library)
    cache: bool = True


@register_backend
class CUDABackend(Backend):
    """CUDA C compiled with NVRTC for NVIDIA GPUs."""
    name = "cuda"

    @classmethod
    def is_available(cls) -> bool:
        try:
            import cupy
            return cupy.cuda.runtime.getDeviceCount() > 0
        except Exception:  # no cupy, no driver, no device
            return False

    @classmethod
    def can_emit(cls) -> bool:
        """NVRTC renders and compiles without a device."""
        try:
            import cupy_backends.cuda.libs.nvrtc  # noqa: F401
        except Exception:
            return False
        return True

    def __init__(self, arch: str = "", block: int = 256, cache: bool = True, device=0, **options):
        from .nvrtc import DEFAULT_ARCH
        super().__init__(arch=arch, block=block, cache=cache, device=device, **options)
        self.arch = arch or DEFAULT_ARCH
        self.block = int(block)
        self.cache = bool(cache)
        self.device = device

    def check_usable(self) -> None:
        """A BackendError naming what is missing (CuPy, the driver, the device, a host compiler)."""
        from .device import describe_missing_device, parse_device
        from .host_shim import compiler
        which = parse_device(self.device)
        if which == "host":
            if compiler() is None:
                raise BackendError("cuda backend: the host device needs a C++ compiler (g++ or $CXX); none was found")
            return
        missing = describe_missing_device(which)
        if missing is not None:
            raise BackendError(f"cuda backend: cannot run on a GPU: {missing}.  (cuda_config={{'device': 'host'}} "
                               "runs the same CUDA C on the CPU, for tests)")

    def pipeline_suffix(self) -> str:
        return "cuda-map" + (f"{{block={self.block}}}" if self.block != 256 else "")

    def emit(self, module: KernelModule) -> Artefact:
        from .nvrtc import compile_to_ptx
        from .render import render_module
        if module.platform != "cuda":
            raise BackendError(f"cuda backend: the kernel module is mapped for "
                               f"{module.platform or 'no platform'}; run the pass 'cuda-map' first")
        rendered = render_module(module)
        dumps = {"cuda.cu": rendered.source}
        if self.device == "host":  # the host device compiles the source with g++: no PTX needed
            ptx, hit = "", False
        else:
            ptx, hit = compile_to_ptx(rendered.source, self.arch, cache=self.cache)
            dumps["cuda.ptx"] = ptx
        program = CUDAProgram(module, rendered.source, ptx, rendered.launches, rendered.advance, self.cache)
        return Artefact(self.name, dumps, program, {"cache_hit": hit, "arch": self.arch, "device": self.device})

    def load(self, artefact: Artefact, arrays: dict[str, np.ndarray]) -> Simulator:
        if artefact.backend != self.name:
            raise BackendError(f"cuda backend cannot load a {artefact.backend!r} artefact")
        from .device import open_device
        from .device_array import DeviceArray
        from .runtime import CUDASimulator
        # a recompile (runtime/rebuild.py) hands back arrays already on a device: stay on it
        device = next((a.device for a in arrays.values() if isinstance(a, DeviceArray)), None)
        if device is None:
            self.check_usable()
            device = open_device(self.device)
        return CUDASimulator(artefact.payload, device, arrays)
