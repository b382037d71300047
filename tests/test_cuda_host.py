"""The rendered CUDA C compiled for the host (g++, a shim for the CUDA built-ins, one block of one
thread: the grid-stride loops run every iteration in order) gives the reference interpreter's
bits: the renderer's semantics (wrap-around, saturation, NaN in min/max, C division, the lanes of
a reduction, literals) checked without a GPU.  Device math libraries differ from the host's, so
this checks the rendering, not CUDA's ``exp``."""
import copy
import ctypes
import functools
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
if shutil.which("g++") is None:
    pytest.skip("no host C++ compiler", allow_module_level=True)

from anncompiler.backends.cuda.host_shim import load_host_library  # noqa: E402
from anncompiler.backends.cuda.render import render_module  # noqa: E402
from anncompiler.backends.reference import ReferenceSimulator  # noqa: E402
from anncompiler.runtime.state import allocate_arrays  # noqa: E402

from kernel_samples import SAMPLES  # noqa: E402
from test_cuda_render import build, cuda_map, expression_module, kernel_module, neutral_sample  # noqa: E402


@functools.lru_cache(maxsize=None)
def sanitizer_flags() -> tuple[str, ...]:
    """Undefined behaviour (signed overflow, bad shifts) aborts the run, where the toolchain has it."""
    flags = ("-fsanitize=undefined", "-fno-sanitize-recover=all")
    with tempfile.TemporaryDirectory() as directory:
        probe = subprocess.run(["g++", *flags, "-shared", "-fPIC", "-x", "c++", "-o", f"{directory}/probe.so", "-"],
                               input='extern "C" int f(int a) { return a + 1; }\n', capture_output=True, text=True)
    return flags if probe.returncode == 0 else ()


def host_program(km, tmp_path):
    rendered = render_module(km)
    return rendered, load_host_library(rendered.source, ("-O1",) + sanitizer_flags(), cache=False)


def run_host(km, tmp_path, steps, arrays=None):
    rendered, lib = host_program(km, tmp_path)
    arrays = arrays if arrays is not None else allocate_arrays(km)
    stop = np.zeros(1, np.uint8)

    def call(spec):  # every function takes the stop flag last
        args = [ctypes.c_void_p(arrays[a].ctypes.data) for a in spec.arrays] + [ctypes.c_void_p(stop.ctypes.data)]
        getattr(lib, spec.function)(*args)

    done = 0
    while done < steps:
        for spec in rendered.launches:
            call(spec)
        call(rendered.advance)
        done += 1
        if stop[0]:
            break
    return arrays, done


def run_reference(km, steps, arrays=None):
    arrays = arrays if arrays is not None else allocate_arrays(km)
    done = ReferenceSimulator(km, arrays).run(steps)
    return arrays, done


def assert_bitwise(got, want, names):
    for name in names:
        a, b = got[name], want[name]
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"), err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_every_expression_on_special_values(tmp_path):
    km = cuda_map(expression_module())
    arrays = allocate_arrays(km)
    ints = np.array([-7, 3, 2 ** 31 - 1, -2 ** 31])
    arrays["x.f64"][:] = [np.nan, 2.5, -1e300, 3e9]
    arrays["x.f32"][:] = np.array([-2.5, np.inf, 0.3, -0.0], np.float32)
    for t in ("i32", "i64", "u32", "u64", "u16"):
        arrays[f"x.{t}"][:] = ints.astype(arrays[f"x.{t}"].dtype)
    arrays["x.bool"][5] = True
    got, _ = run_host(km, tmp_path, 1, copy.deepcopy(arrays))
    want, _ = run_reference(km, 1, arrays)
    exact = [n for n in km.arrays if n.startswith("out")]
    # library functions other than the exact ones may differ in the last bit between libm builds
    assert_bitwise(got, want, exact)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_hand_built_samples(sample, tmp_path):
    km = cuda_map(SAMPLES[sample]())
    got, n_got = run_host(km, tmp_path, 20)
    want, n_want = run_reference(km, 20)
    assert n_got == n_want
    assert_bitwise(got, want, km.arrays)


def test_neutral_sample(tmp_path):
    km = cuda_map(neutral_sample())
    got, _ = run_host(km, tmp_path, 15)
    want, _ = run_reference(copy.deepcopy(neutral_sample()), 15)
    assert_bitwise(got, want, neutral_sample().arrays)


@pytest.mark.parametrize("name", ["coba", "izhikevich", "rate_sparse", "stdp", "global_ops", "float32",
                                  "spike_sources", "stop_conditions"])
def test_models(name, tmp_path):
    km = kernel_module(build(name))
    neutral = kernel_module(build(name), mapped=False)
    got, n_got = run_host(km, tmp_path, 60)
    want, n_want = run_reference(neutral, 60)
    assert n_got == n_want
    assert_bitwise(got, want, neutral.arrays)
