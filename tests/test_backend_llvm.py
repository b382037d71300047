"""The llvm backend against the reference backend, on every sample."""
import re
import time

import numpy as np
import pytest

from anncompiler.backends import get_backend
from anncompiler.errors import BackendError
from anncompiler.ir.kernel import Kernel

from kernel_samples import SAMPLES, allocate, sample_exit, sample_leaky, sample_math




def make(name, module, **options):
    backend = get_backend(name)(**options)
    arrays = allocate(module)
    return backend.load(backend.emit(module), arrays), arrays


def assert_same(ref, got, exact=True):
    """Bit-equal arrays (NaN payload aside); ``exact=False`` allows 1e-12."""
    for name, want in ref.items():
        have = got[name]
        if exact or want.dtype.kind not in "f":
            np.testing.assert_array_equal(have, want, err_msg=name)
            if want.dtype.kind == "f":  # signed zeros too
                np.testing.assert_array_equal(np.signbit(have), np.signbit(want), err_msg=name)
        else:
            np.testing.assert_allclose(have, want, rtol=1e-12, err_msg=name)


def _exact(sample):
    return not sample.startswith("math")


@pytest.mark.parametrize("sample", sorted(SAMPLES))
@pytest.mark.parametrize("chunks", [(20,), (7, 13), (1,) * 20, (0, 20, 0)])
def test_llvm_matches_reference(sample, chunks):
    """Same chunks, same steps done, same arrays; without an exit condition
    the chunking does not matter (run(7) + run(13) == run(20))."""
    ref_sim, ref = make("reference", SAMPLES[sample]())
    sim, got = make("llvm", SAMPLES[sample]())
    for n in chunks:
        assert sim.run(n) == ref_sim.run(n)
    assert_same(ref, got, exact=_exact(sample))
    module = SAMPLES[sample]()
    if not module.exit_conditions:
        whole_sim, whole = make("reference", module)
        assert whole_sim.run(20) == 20
        assert_same(whole, got, exact=_exact(sample))


@pytest.mark.parametrize("opt_level", [0, 1, 2])
def test_optimisation_levels_agree(opt_level):
    for sample in ("csr", "spikes", "ints", "math"):
        ref_sim, ref = make("llvm", SAMPLES[sample]())
        ref_sim.run(9)
        sim, got = make("llvm", SAMPLES[sample](), opt_level=opt_level)
        assert sim.run(9) == 9
        assert_same(ref, got, exact=_exact(sample))


def test_arrays_are_shared_in_place():
    m = sample_leaky()
    arrays = allocate(m)
    v = arrays["pop.v"]
    backend = get_backend("llvm")()
    sim = backend.load(backend.emit(m), arrays)
    sim.run(3)
    assert arrays["pop.v"] is v and arrays["net.t"][0] == 3
    v[:] = 2.0  # the runtime writes between chunks: the fixed point of the update
    arrays["net.t"][0] = 100
    sim.run(2)
    np.testing.assert_array_equal(v, 2.0)
    assert arrays["net.t"][0] == 102


def test_exit_condition():
    sim, a = make("llvm", sample_exit(limit=15))
    assert sim.run(10) == 10
    assert sim.run(100) == 5
    assert a["count"][0] == 15 and a["net.t"][0] == 15
    assert sim.run(100) == 1  # the condition still holds after one more step
    a["count"][0] = 0
    assert sim.run(100) == 15


def test_optimised_ir_is_vectorised():
    art = get_backend("llvm")().emit(sample_leaky())
    assert set(art.dumps) == {"llvm.ll", "llvm-opt.ll", "llvm.s"}
    assert "ret" in art.dumps["llvm.s"]()  # the host assembly, made when asked
    assert "define i64 @run(ptr" in art.dumps["llvm.ll"].replace('"', "")
    assert "noalias" in art.dumps["llvm.ll"]
    assert re.search(r"<\d+ x double>", art.dumps["llvm-opt.ll"])
    assert not re.search(r"\b(fast|contract|reassoc|afn)\b", art.dumps["llvm-opt.ll"])  # no fast-math flags


def test_ten_kernels_compile_quickly():
    m = sample_math()
    body = m.kernels[0].body
    m.kernels = [Kernel(f"k{j}", "update", body) for j in range(10)]
    get_backend("llvm")().emit(sample_leaky())  # LLVM initialisation is not the point
    t0 = time.perf_counter()
    get_backend("llvm")().emit(m)
    assert time.perf_counter() - t0 < 0.6  # typically ~0.15 s; loose for loaded CI machines


def test_many_modules_coexist():
    """Each engine owns its target machine: compiling and dropping many
    modules must not crash (llvmlite deletes the machine with the engine)."""
    sims = [make("llvm", sample_leaky())[0] for _ in range(3)]
    for _ in range(3):
        make("llvm", sample_leaky())
    assert [s.run(2) for s in sims] == [2, 2, 2]


def test_wrong_arrays_are_rejected():
    m = sample_leaky()
    backend = get_backend("llvm")()
    art = backend.emit(m)
    arrays = allocate(m)
    del arrays["pop.tau"]
    with pytest.raises(BackendError, match="pop.tau"):
        backend.load(art, arrays)
    arrays = allocate(m)
    arrays["pop.v"] = np.zeros(20)[::2]
    with pytest.raises(BackendError, match="contiguous"):
        backend.load(art, arrays)

    arrays = allocate(m)
    arrays["pop.tau"] = arrays["pop.v"]
    with pytest.raises(BackendError, match="share memory"):
        backend.load(art, arrays)
