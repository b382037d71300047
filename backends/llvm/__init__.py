"""The llvm backend (the default): kernel IR -> LLVM IR -> native code (MCJIT).

``emit`` builds, optimises and JIT-compiles the module (dumps: raw and
optimised LLVM IR); ``load`` binds it to the runtime's arrays.
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import BackendError
from anncompiler.ir.kernel import KernelModule

from ..base import Artefact, Backend, Simulator, register_backend


@register_backend
class LLVMBackend(Backend):
    """Native code for the host CPU through llvmlite."""
    name = "llvm"

    @classmethod
    def is_available(cls) -> bool:
        try:
            import llvmlite.binding  # noqa: F401
        except ImportError:
            return False
        return True

    def __init__(self, opt_level: int = 3, cache: bool = True, **options):
        super().__init__(opt_level=opt_level, cache=cache, **options)
        self.opt_level = int(opt_level)
        self.cache = bool(cache)

    def emit(self, module: KernelModule) -> Artefact:
        from .codegen import emit_module
        from .jit import compile_ir, host_target
        triple, layout = host_target()
        raw = str(emit_module(module, triple=triple, data_layout=layout))
        compiled = compile_ir(raw, self.opt_level, cache=self.cache)
        return Artefact(self.name, {"llvm.ll": raw, "llvm-opt.ll": compiled.optimised_ir},
                        (compiled, module), {"cache_hit": compiled.from_cache})

    def load(self, artefact: Artefact, arrays: dict[str, np.ndarray]) -> Simulator:
        from .runtime import LLVMSimulator
        if artefact.backend != self.name:
            raise BackendError(f"llvm backend cannot load a {artefact.backend!r} artefact")
        compiled, module = artefact.payload
        return LLVMSimulator(compiled, module, arrays)
