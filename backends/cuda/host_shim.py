"""The rendered CUDA C compiled for the host CPU: the fake device of ``device.py``.

A small shim defines the CUDA built-ins the renderer uses (``__global__``, the thread indices,
``atomicAdd``, the bit-cast and high-multiply intrinsics) so that g++ compiles the very source
NVRTC compiles.  Every launch then runs as one block of one thread: the grid-stride loops visit
every iteration in order, atomics add in iteration order, and the host's libm computes ``exp`` and
friends, so the bits are those of the reference interpreter.  ``annc_host_thread`` sets the
thread indices of the next call, so that a device may instead run every thread of the grid, one
after another, in an order of its choosing (``HostDevice(schedule=...)``: a schedule a GPU may
pick).  It checks the renderer and the device runtime without a GPU; it says nothing of the GPU's
own math library, nor of threads running at the same time.

The shared library is cached beside the PTX (``ANNC_CACHE_DIR``), keyed by the source, the flags
and the compiler's version.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile

from anncompiler.errors import BackendError

from ..disk_cache import prune, touch

SHIM = r"""
#include <cmath>
#include <cstring>
using std::isnan; using std::isfinite;
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
struct annc_dim { unsigned x; };
#ifdef ANNC_HOST_LANES
// the threads of a group run at the same time (one group at a time): warp shuffles through slots
#include <chrono>
#include <condition_variable>
#include <mutex>
static thread_local annc_dim blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
static std::mutex annc_mutex;
static std::condition_variable annc_cv;
static int annc_arrived = 0, annc_broken = 0;
static long annc_generation = 0;
static unsigned long long annc_slot[32];
static void annc_barrier(int w) {
  std::unique_lock<std::mutex> lock(annc_mutex);
  const long generation = annc_generation;
  if (++annc_arrived == w) { annc_arrived = 0; ++annc_generation; annc_cv.notify_all(); return; }
  if (!annc_cv.wait_for(lock, std::chrono::seconds(10), [&] { return annc_generation != generation; })) {
    annc_broken = 1; annc_arrived = 0; ++annc_generation; annc_cv.notify_all();
  }
}
template <typename T> static T __shfl_sync(unsigned, T v, int src, int w) {
  unsigned long long bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  annc_barrier(w);  // every lane has read the previous exchange
  annc_slot[threadIdx.x % w] = bits;
  annc_barrier(w);
  bits = annc_slot[src];
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}
extern "C" int annc_host_broken(void) { return annc_broken; }
#else
static annc_dim blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
// a group folding one row is one thread here (its warp shuffles read the thread's own value)
#define ANNC_W(w) 1
template <typename T> static T __shfl_sync(unsigned, T v, int, int) { return v; }
#endif
// the thread that the next call runs as (a device with a thread schedule, device.py)
extern "C" void annc_host_thread(unsigned b, unsigned t, unsigned nb, unsigned nt) {
  blockIdx.x = b; threadIdx.x = t; gridDim.x = nb; blockDim.x = nt;
}
template <typename T> static T atomicAdd(T *p, T v) { T old = *p; *p = old + v; return old; }
static int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
static long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
static unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
static float __int_as_float(unsigned x) { float f; std::memcpy(&f, &x, 4); return f; }
static double __longlong_as_double(long long x) { double d; std::memcpy(&d, &x, 8); return d; }
"""

#: no contraction into fused multiply-adds, no fast math: the reference's roundings
FLAGS = ("-std=c++17", "-O1", "-ffp-contract=off", "-fno-fast-math", "-shared", "-fPIC", "-w")


def compiler() -> str | None:
    """The host C++ compiler (``CXX``, else g++), or None when there is none."""
    return shutil.which(os.environ.get("CXX") or "g++")


def host_source(source: str) -> str:
    """``source`` (rendered CUDA C) as a host C++ translation unit."""
    return SHIM + source.replace("#pragma unroll\n", "")


@functools.lru_cache(maxsize=None)
def _compiler_version(cxx: str) -> str:
    try:
        return subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    except OSError:
        return "unknown"


def compile_host_library(source: str, extra_flags: tuple[str, ...] = (), directory: str | None = None) -> str:
    """The path of a shared library built from rendered CUDA ``source``, in the cache (or in
    ``directory``); a failed build raises :class:`BackendError` with the compiler's messages."""
    from .nvrtc import _cache_dir
    cxx = compiler()
    if cxx is None:
        raise BackendError("cuda backend: the host device (cuda_config={'device': 'host'}) needs a C++ "
                           "compiler (g++ or $CXX); none was found")
    text = host_source(source)
    flags = FLAGS + tuple(extra_flags)
    key = hashlib.sha256("\0".join((text, *flags, _compiler_version(cxx))).encode()).hexdigest()
    path = os.path.join(directory or os.path.join(_cache_dir(), "host", key[:2]), key + ".so")
    if directory is None and os.path.exists(path):
        touch(path)
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    src = tmp + ".cpp"
    with open(src, "w") as f:
        f.write(text)
    try:
        out = subprocess.run([cxx, *flags, "-o", tmp, src], capture_output=True, text=True)
        if out.returncode != 0:
            raise BackendError(f"cuda backend: the host compiler rejected the generated source:\n"
                               f"{out.stderr[-3000:]}")
        os.replace(tmp, path)  # atomic: another process never loads half a library
    finally:
        for leftover in (src, tmp):
            try:
                os.remove(leftover)
            except OSError:
                pass
    if directory is None:
        prune(os.path.join(_cache_dir(), "host"))  # a loaded library stays mapped if removed
    return path


def load_host_library(source: str, extra_flags: tuple[str, ...] = (), cache: bool = True) -> ctypes.CDLL:
    """The compiled ``source`` loaded into this process (without ``cache``, or with
    ``ANNC_NO_CACHE=1``, built in a temporary folder removed once loaded)."""
    from .nvrtc import _cache_enabled
    if cache and _cache_enabled():
        return ctypes.CDLL(compile_host_library(source, extra_flags))
    with tempfile.TemporaryDirectory(prefix="annc-host-") as directory:
        return ctypes.CDLL(compile_host_library(source, extra_flags, directory))
