"""The cuda backend: kernel IR -> CUDA C (``render.py``) -> PTX with NVRTC (``nvrtc.py``).

``emit`` needs no device (the dumps hold ``cuda.cu`` and ``cuda.ptx``); running on a device is
not supported yet, so ``load`` refuses with a clear error.  The module must first be mapped by
``cuda-map`` (:meth:`CUDABackend.pipeline_suffix`).
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

    def __init__(self, arch: str = "", block: int = 256, cache: bool = True, **options):
        from .nvrtc import DEFAULT_ARCH
        super().__init__(arch=arch, block=block, cache=cache, **options)
        self.arch = arch or DEFAULT_ARCH
        self.block = int(block)
        self.cache = bool(cache)

    def pipeline_suffix(self) -> str:
        return "cuda-map" + (f"{{block={self.block}}}" if self.block != 256 else "")

    def emit(self, module: KernelModule) -> Artefact:
        from .nvrtc import compile_to_ptx
        from .render import render_module
        if module.platform != "cuda":
            raise BackendError(f"cuda backend: the kernel module is mapped for "
                               f"{module.platform or 'no platform'}; run the pass 'cuda-map' first")
        rendered = render_module(module)
        ptx, hit = compile_to_ptx(rendered.source, self.arch, cache=self.cache)
        program = CUDAProgram(module, rendered.source, ptx, rendered.launches, rendered.advance)
        return Artefact(self.name, {"cuda.cu": rendered.source, "cuda.ptx": ptx}, program,
                        {"cache_hit": hit, "arch": self.arch})

    def load(self, artefact: Artefact, arrays: dict[str, np.ndarray]) -> Simulator:
        if artefact.backend != self.name:
            raise BackendError(f"cuda backend cannot load a {artefact.backend!r} artefact")
        if not self.is_available():
            raise BackendError("cuda backend: no CUDA device on this machine (the source and PTX were "
                               "produced; running them needs a GPU)")
        raise BackendError("cuda backend: running on a device is not supported yet (emit() renders and "
                           "compiles the module with NVRTC)")
