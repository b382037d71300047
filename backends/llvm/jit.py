"""Parse, verify, optimise and JIT an LLVM module for the host CPU.

The Numba recipe: llvmlite.ir text -> ``parse_assembly`` -> ``verify`` ->
new pass manager (vectorisers on) -> MCJIT.  The target machine is created
once per process and per optimisation level; each compiled module gets its
own execution engine, which must outlive every call into its code.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

import llvmlite.binding as llvm

from anncompiler.errors import BackendError

from ..disk_cache import prune, touch

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


def assembly(optimised_ir: str, opt_level: int = 3) -> str:
    """The host assembly of an optimised module (for the dumps: computed only when asked)."""
    _initialise()
    return _pass_target_machine(opt_level).emit_assembly(llvm.parse_assembly(optimised_ir))


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
    from_cache: bool = False


def optimise(mod: llvm.ModuleRef, opt_level: int = 3) -> None:
    """Run the standard -O``opt_level`` pipeline, vectorisers included."""
    if opt_level <= 0:
        return
    tm = _pass_target_machine(opt_level)
    pto = llvm.create_pipeline_tuning_options(speed_level=opt_level)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pb = llvm.create_pass_builder(tm, pto)
    mpm = pb.getModulePassManager()
    try:
        mpm.run(mod, pb)
    finally:
        _free_pass_manager(mpm)
        pb.close()
        pto.close()


def _free_pass_manager(mpm) -> None:
    """Delete the C++ pass manager now.  llvmlite's ModulePassManager inherits the
    no-op ``ObjectRef._dispose`` ahead of its own, so closing or collecting it frees
    nothing: the whole -O3 pipeline, with the state its passes grew, leaked with
    every compile (about 65 kB for a small network, more for a large one)."""
    from llvmlite.binding import ffi
    from llvmlite.binding.newpassmanagers import NewPassManager
    if type(mpm)._dispose is ffi.ObjectRef._dispose and not mpm.closed:
        NewPassManager._dispose(mpm)  # the bug: dispose by hand, then forget the pointer
        mpm.detach()
    else:
        mpm.close()


class ObjectCache:
    """Object code on disk, keyed by a hash of the raw LLVM IR and of the target.

    A hit skips the optimiser and the code generator (the costly part of a compile);
    the optimised IR text is kept beside the object for the dumps.  Each entry carries
    the hash of its bytes, so a truncated or foreign file is ignored, never loaded.
    ``ANNC_CACHE_DIR`` moves it; ``ANNC_NO_CACHE=1`` turns it off; ``ANNC_CACHE_MAX_MB`` bounds
    its size (least recently used entries go first, ``backends/disk_cache.py``).
    """

    def __init__(self, directory: str | None = None):
        self.directory = directory or os.environ.get("ANNC_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
            "anncompiler", "objects")

    @staticmethod
    def enabled() -> bool:
        return os.environ.get("ANNC_NO_CACHE", "") in ("", "0")

    @staticmethod
    def key(text: str, opt_level: int) -> str:
        import llvmlite
        h = hashlib.sha256()
        for part in (text, str(opt_level), llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(),
                     llvm.get_process_triple(), llvmlite.__version__):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def _path(self, key: str, suffix: str) -> str:
        return os.path.join(self.directory, key[:2], key + suffix)

    def load(self, key: str) -> tuple[bytes, str] | None:
        try:
            with open(self._path(key, ".o"), "rb") as f:
                blob = f.read()
            with open(self._path(key, ".ll")) as f:
                optimised = f.read()
        except OSError:
            return None
        digest, obj = blob[:32], blob[32:]
        if len(blob) <= 32 or hashlib.sha256(obj).digest() != digest:
            return None
        touch(self._path(key, ".o"), self._path(key, ".ll"))
        return obj, optimised

    def store(self, key: str, obj: bytes, optimised: str) -> None:
        path = self._path(key, ".o")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            for suffix, data, mode in ((".ll", optimised, "w"), (".o", hashlib.sha256(obj).digest() + obj, "wb")):
                tmp = self._path(key, suffix) + f".{os.getpid()}.tmp"
                with open(tmp, mode) as f:
                    f.write(data)
                os.replace(tmp, self._path(key, suffix))  # atomic: readers never see half a file
        except OSError:
            return  # a read-only home: compile without caching
        prune(self.directory)


def compile_ir(text: str, opt_level: int = 3, entry: str = "run", cache: bool = True) -> Compiled:
    """Parse and verify ``text``, optimise it, and JIT it (or load its object code
    from the cache); a malformed module is a bug of the code generator, reported
    as a :class:`BackendError`."""
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
    store = ObjectCache() if cache and ObjectCache.enabled() else None
    key = store.key(text, opt_level) if store else ""
    hit = store.load(key) if store else None
    if hit is None:
        optimise(mod, opt_level)
        optimised = str(mod)
    else:
        optimised = hit[1]
    produced: list[bytes] = []
    engine = llvm.create_mcjit_compiler(mod, target_machine(opt_level))  # owns its machine
    if store is not None:
        engine.set_object_cache(lambda _m, buf: produced.append(bytes(buf)),
                                lambda _m: hit[0] if hit is not None else None)
    engine.finalize_object()
    if store is not None and hit is None and produced:
        store.store(key, produced[0], optimised)
    address = engine.get_function_address(entry)
    if not address:
        raise BackendError(f"llvm backend: no function {entry!r} in the JIT-compiled module")
    return Compiled(engine, RUN_SIGNATURE(address), optimised, hit is not None)
