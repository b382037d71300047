"""libgomp for the llvm backend's team of threads (``GOMP_parallel`` starts it; the threads
share the work of each step through two counters of the generated code, ``teamloop.py``, and a
waiting thread yields its core with the C library's ``sched_yield``).

The JIT-compiled code calls these as external symbols, which MCJIT resolves from the process:
the library is loaded once with ``llvm.load_library_permanently``.  A symbol MCJIT cannot find
only fails at call time (a crash), so every symbol is checked with ``address_of_symbol`` first;
without them the backend runs on one thread and says so once.

The library is also opened with ``ctypes``, which never closes it: at the process's exit
llvmlite closes the libraries it loaded, and libgomp's threads outlive every parallel region
(under ``OMP_WAIT_POLICY=active`` they spin in its code): unmapping it under them crashed the
interpreter on its way out.
"""
from __future__ import annotations

import ctypes.util
import os
import warnings

import llvmlite.binding as llvm

#: the entry points the generated code calls
SYMBOLS = ("GOMP_parallel", "sched_yield")

_state: dict = {"loaded": None, "warned": False, "held": []}


def _candidates() -> list[str]:
    found = ctypes.util.find_library("gomp")
    names = [found] if found else []
    return names + [n for n in ("libgomp.so.1", "libgomp.so", "libgomp.1.dylib") if n not in names]


def load_libgomp() -> bool:
    """Make the libgomp symbols resolvable by MCJIT; True when all of :data:`SYMBOLS` are."""
    if all(llvm.address_of_symbol(s) for s in SYMBOLS):
        return True
    for name in _candidates():
        try:
            llvm.load_library_permanently(name)
        except RuntimeError:
            continue
        if all(llvm.address_of_symbol(s) for s in SYMBOLS):
            _hold(name)
            return True
    return False


def _hold(name: str) -> None:
    """One more reference to library ``name`` that nothing releases (see the module's docstring)."""
    try:
        _state["held"].append(ctypes.CDLL(name, mode=getattr(ctypes, "RTLD_GLOBAL", 0)))
    except OSError:
        pass


def openmp_available() -> bool:
    """``load_libgomp()``, once per process (``ANNC_NO_OPENMP=1`` forces False)."""
    if _state["loaded"] is None:
        _state["loaded"] = os.environ.get("ANNC_NO_OPENMP", "") in ("", "0") and load_libgomp()
    return _state["loaded"]


def usable_threads(requested: int) -> int:
    """``requested`` when libgomp is there, else 1 (with a RuntimeWarning, the first time)."""
    requested = max(1, int(requested))
    if requested == 1 or openmp_available():
        return requested
    if not _state["warned"]:
        _state["warned"] = True
        warnings.warn(f"anncompiler: libgomp (OpenMP) was not found; the llvm backend runs on one thread "
                      f"instead of {requested}", RuntimeWarning, stacklevel=3)
    return 1
