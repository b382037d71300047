"""The llvm backend (the default): kernel IR -> LLVM IR -> native code (MCJIT).

``emit`` builds, optimises and JIT-compiles the module (dumps: raw and
optimised LLVM IR); ``load`` binds it to the runtime's arrays.  A module
lowered into partitions runs on ``num_threads`` threads through libgomp
(``openmp.py``; one thread, with a warning, when it is missing).
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

    def pipeline_suffix(self) -> str:
        """The CPU platform passes: 16-bit ranks, thread partitions, paired random draws, flag
        scans, blocks of dense rows (as many as the host's vector registers hold), row lanes;
        then the arrays no kernel uses are left out."""
        from .tuning import dense_row_block
        threads = int(self.options.get("num_threads") or 1)
        partition = f"cpu-partition{{threads={threads}}}" if threads > 1 else "cpu-partition"
        return (f"cpu-lazy-selects,cpu-narrow-ranks,{partition},cpu-pair-draws,cpu-flag-scan,"
                f"cpu-block-rows{{rows={dense_row_block()}}},cpu-expand-reductions,drop-unused-arrays")

    def threads(self, module: KernelModule) -> int:
        """Threads of the parallel region: option ``num_threads`` (default: the partitions the
        module was lowered for); 1 without libgomp (with a warning) or without parallel kernels."""
        from .openmp import usable_threads
        requested = int(self.options.get("num_threads") or module.num_threads or 1)
        if requested <= 1 or not any(k.parallel for k in module.kernels):
            return 1
        return usable_threads(requested)

    def emit(self, module: KernelModule) -> Artefact:
        from .codegen import emit_module
        from .jit import assembly, compile_ir, host_target
        triple, layout = host_target()
        threads = self.threads(module)
        raw = str(emit_module(module, triple=triple, data_layout=layout, threads=threads))
        compiled = compile_ir(raw, self.opt_level, cache=self.cache)
        dumps = {"llvm.ll": raw, "llvm-opt.ll": compiled.optimised_ir,
                 "llvm.s": lambda: assembly(compiled.optimised_ir, self.opt_level)}
        return Artefact(self.name, dumps, (compiled, module), {"cache_hit": compiled.from_cache, "threads": threads})

    def load(self, artefact: Artefact, arrays: dict[str, np.ndarray]) -> Simulator:
        from .runtime import LLVMSimulator
        if artefact.backend != self.name:
            raise BackendError(f"llvm backend cannot load a {artefact.backend!r} artefact")
        compiled, module = artefact.payload
        return LLVMSimulator(compiled, module, arrays)
