"""CUDA C -> PTX with NVRTC (through cupy's bindings; no device needed), cached on disk.

The PTX of a source is kept beside the LLVM backend's objects (``ANNC_CACHE_DIR``, default
``~/.cache/anncompiler``; ``ANNC_NO_CACHE=1`` turns caching off), keyed by a hash of the source,
the options and the NVRTC version.  No fast-math option: ``--fmad=false`` keeps ``a*b + c`` two
roundings, as on the CPU.
"""
from __future__ import annotations

import hashlib
import os

from anncompiler.errors import BackendError

from ..disk_cache import prune, touch

DEFAULT_ARCH = "compute_90"
#: IEEE division and square root, denormals kept, no contraction into fused multiply-adds
OPTIONS = ("-std=c++17", "--fmad=false", "-ftz=false", "-prec-div=true", "-prec-sqrt=true")


def _nvrtc():
    try:
        import cupy_backends.cuda.libs.nvrtc as nvrtc
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise BackendError("cuda backend: NVRTC is not installed (pip install \"anncompiler[cuda]\")") from exc
    return nvrtc


def nvrtc_version() -> str:
    try:
        return ".".join(map(str, _nvrtc().getVersion()))
    except Exception:  # a missing libnvrtc surfaces at compile time with its own message
        return "unknown"


def _cache_dir() -> str:
    return os.environ.get("ANNC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "anncompiler")


def _cache_enabled() -> bool:
    return os.environ.get("ANNC_NO_CACHE", "") in ("", "0")


def compile_to_ptx(source: str, arch: str = DEFAULT_ARCH, name: str = "anncompiler.cu",
                   cache: bool = True) -> tuple[str, bool]:
    """``(ptx, from_cache)``; a source NVRTC refuses raises :class:`BackendError` with its log."""
    options = (f"-arch={arch}",) + OPTIONS
    key = hashlib.sha256("\0".join((source, *options, nvrtc_version())).encode()).hexdigest()
    path = os.path.join(_cache_dir(), "ptx", key[:2], key + ".ptx")
    use_cache = cache and _cache_enabled()
    if use_cache:
        try:
            with open(path) as f:
                ptx = f.read()
            touch(path)
            return ptx, True
        except OSError:
            pass
    ptx = _compile(source, options, name)
    if use_cache:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(ptx)
            os.replace(tmp, path)  # atomic: readers never see half a file
            prune(os.path.join(_cache_dir(), "ptx"))
        except OSError:
            pass  # a read-only home: compile without caching
    return ptx, False


def _compile(source: str, options: tuple[str, ...], name: str) -> str:
    nvrtc = _nvrtc()
    try:
        prog = nvrtc.createProgram(source, name, [], [])
    except Exception as exc:
        raise BackendError(f"cuda backend: NVRTC could not start: {exc}") from exc
    try:
        try:
            nvrtc.compileProgram(prog, list(options))
        except Exception as exc:
            try:
                log = nvrtc.getProgramLog(prog)
            except Exception:
                log = ""
            raise BackendError(f"cuda backend: NVRTC rejected the generated source: {exc}\n{log}") from None
        ptx = nvrtc.getPTX(prog)
    finally:
        try:
            nvrtc.destroyProgram(prog)
        except Exception:
            pass
    return ptx.decode() if isinstance(ptx, bytes) else ptx
