"""Parse, verify, optimise and JIT an LLVM module for the host CPU.

The Numba recipe: llvmlite.ir text -> ``parse_assembly`` -> ``verify`` ->
new pass manager (vectorisers on) -> MCJIT.  The target machine is created
once per process and per optimisation level; each compiled module gets its
own execution engine, which must outlive every call into its code.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache

import llvmlite.binding as llvm

from anncompiler.errors import BackendError

#: ``int64 run(void **table, int64 n_steps)``
RUN_SIGNATURE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64)


@lru_cache(maxsize=None)
def _initialise() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


def target_machine(opt_level: int = 3) -> llvm.TargetMachine:
    """A new target machine for the host CPU (all its vector extensions).

    Not shared: an MCJIT engine takes ownership of its target machine and
    deletes it with itself (a shared one crashes the next compile).
    """
    _initialise()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
        opt=opt_level, jit=True)


@lru_cache(maxsize=None)
def _pass_target_machine(opt_level: int) -> llvm.TargetMachine:
    """The target machine the optimiser queries (cost model); never given
    to an engine, so it can be kept for the whole process."""
    return target_machine(opt_level)


def host_target() -> tuple[str, str]:
    """(triple, data layout) of the host, written into the raw IR."""
    _initialise()
    tm = _pass_target_machine(3)
    return tm.triple, str(tm.target_data)


@dataclass
class Compiled:
    """A JIT-compiled module: the engine owns the machine code; ``run`` is
    a ctypes function into it, valid while the engine lives."""
    engine: object
    run: object
    optimised_ir: str


def optimise(mod: llvm.ModuleRef, opt_level: int = 3) -> None:
    """Run the standard -O``opt_level`` pipeline, vectorisers included."""
    if opt_level <= 0:
        return
    tm = _pass_target_machine(opt_level)
    pto = llvm.create_pipeline_tuning_options(speed_level=opt_level)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)


def compile_ir(text: str, opt_level: int = 3, entry: str = "run") -> Compiled:
    """Parse and verify ``text``, optimise it, and JIT it; a malformed module
    is a bug of the code generator, reported as a :class:`BackendError`."""
    opt_level = max(0, min(3, int(opt_level)))
    _initialise()
    try:
        mod = llvm.parse_assembly(text)
        mod.verify()
    except RuntimeError as exc:
        raise BackendError(f"llvm backend produced invalid IR: {exc}") from exc
    tm = _pass_target_machine(opt_level)
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    optimise(mod, opt_level)
    optimised = str(mod)
    engine = llvm.create_mcjit_compiler(mod, target_machine(opt_level))  # owns its machine
    engine.finalize_object()
    address = engine.get_function_address(entry)
    if not address:
        raise BackendError(f"llvm backend: no function {entry!r} in the JIT-compiled module")
    return Compiled(engine, RUN_SIGNATURE(address), optimised)
