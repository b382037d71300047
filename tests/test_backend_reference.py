"""The reference backend against hand-computed numpy, and the registry."""
import numpy as np
import pytest

from anncompiler.backends import (Artefact, Backend, Simulator, available_backends, get_backend,
                                  register_backend)
from anncompiler.errors import BackendError

from kernel_samples import (CSR_PRE, CSR_ROW_PTR, CSR_W, FLOATS_TO_CAST, INT_A, INT_B, X_VALUES,
                            allocate, sample_csr, sample_exit, sample_ints, sample_leaky,
                            sample_math, sample_spikes)


def simulate(module, n, arrays=None):
    backend = get_backend("reference")()
    arrays = allocate(module) if arrays is None else arrays
    sim = backend.load(backend.emit(module), arrays)
    return sim.run(n), arrays


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_leaky_matches_numpy(dtype):
    from anncompiler.ir.types import from_numpy
    m = sample_leaky(dtype=from_numpy(dtype))
    done, a = simulate(m, 20)
    v = np.linspace(-1.0, 1.0, 10).astype(dtype)
    tau, E = np.linspace(5.0, 20.0, 10).astype(dtype), dtype(2.0)
    for _ in range(20):
        v = v + dtype(0.1) * (E - v) / tau
    assert done == 20 and a["net.t"][0] == 20
    assert a["pop.v"].dtype == dtype
    np.testing.assert_array_equal(a["pop.v"], v)


def test_csr_matches_numpy():
    done, a = simulate(sample_csr(), 5)
    r = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    for _ in range(5):
        r = r * 0.9 + np.arange(5.0)
    expected = [sum(CSR_W[k] * r[CSR_PRE[k]] for k in range(CSR_ROW_PTR[i], CSR_ROW_PTR[i + 1]))
                for i in range(4)]
    np.testing.assert_array_equal(a["pre.r"], r)
    np.testing.assert_allclose(a["post.sum"], expected, rtol=1e-15)
    assert a["post.sum"][1] == 0.0  # empty row


def test_spikes_match_numpy():
    m = sample_spikes()
    a = allocate(m)
    v, inp, total = a["pop.v"].copy(), a["pop.I"].copy(), 0
    sim = get_backend("reference")().load(get_backend("reference")().emit(m), a)
    for step in range(12):
        sim.run(1)
        v = v + inp
        fired = v > 1.0
        v = np.where(fired, 0.0, v * 0.99)
        total += fired.sum()
        np.testing.assert_array_equal(a["pop.v"], v)
        np.testing.assert_array_equal(a["pop.fired"], fired)
        assert a["pop.n_spikes"][0] == fired.sum()
        np.testing.assert_array_equal(a["pop.spikes"][:fired.sum()], np.flatnonzero(fired))
    assert a["pop.total"][0] == total > 0


def _c_round(x):
    return np.copysign(np.floor(np.abs(x) + 0.5), x)


def test_math_functions_match_numpy():
    done, a = simulate(sample_math(), 1)
    x, y = X_VALUES, np.roll(X_VALUES, 3)
    with np.errstate(all="ignore"):
        expected = {
            "exp": np.exp(x), "log": np.log(x), "log10": np.log10(x), "log2": np.log2(x),
            "sqrt": np.sqrt(x), "sin": np.sin(x), "cos": np.cos(x), "tan": np.tan(x),
            "asin": np.arcsin(x), "acos": np.arccos(x), "atan": np.arctan(x),
            "sinh": np.sinh(x), "cosh": np.cosh(x), "tanh": np.tanh(x), "asinh": np.arcsinh(x),
            "acosh": np.arccosh(x), "atanh": np.arctanh(x), "fabs": np.abs(x),
            "floor": np.floor(x), "ceil": np.ceil(x), "round": _c_round(x), "trunc": np.trunc(x),
            "atan2": np.arctan2(x, y), "isnan": np.isnan(x), "isfinite": np.isfinite(x),
        }
        binops = {"pow": np.power(x, y), "%": np.fmod(x, y), "min": np.where(x < y, x, y),
                  "max": np.where(x > y, x, y), "/": x / y, "+": x + y, "-": x - y, "*": x * y}
    for fn, want in expected.items():
        np.testing.assert_allclose(a[f"out.{fn}"], want, rtol=1e-14, err_msg=fn)
    for op, want in binops.items():
        np.testing.assert_allclose(a[f"bin.{op}"], want, rtol=1e-15, err_msg=op)
    # signed zeros survive: -(-0.0) is +0.0, round(-0.3)... x[3] is -0.0
    assert np.signbit(a["out.fabs"][3]) == False and np.signbit(a["neg"][4])  # noqa: E712
    np.testing.assert_array_equal(a["sel"], np.where(x < y, y - x, x * 0.5))
    np.testing.assert_array_equal(a["logic"], ((x >= 0) & np.isnan(y)) | (x != 0.5))
    np.testing.assert_array_equal(a["cmp"], ~(np.isnan(x) | np.isnan(y)))
    np.testing.assert_array_equal(a["x"], x + 0.25)


def test_integer_ops_follow_c():
    done, a = simulate(sample_ints(), 1)
    q = np.abs(INT_A) // np.abs(INT_B) * np.sign(INT_A) * np.sign(INT_B)
    np.testing.assert_array_equal(a["div64"], q)
    np.testing.assert_array_equal(a["mod64"], np.fmod(INT_A, INT_B))
    np.testing.assert_array_equal(a["div32"], q.astype(np.int32))
    np.testing.assert_array_equal(a["mod32"], np.fmod(INT_A, INT_B).astype(np.int32))
    assert list(a["div32"][:4]) == [2, -2, -2, 2] and list(a["mod32"][:4]) == [1, -1, 1, -1]
    np.testing.assert_array_equal(a["mul32"], (INT_A * INT_B).astype(np.int32))  # wraps
    np.testing.assert_array_equal(a["min64"], np.minimum(INT_A, INT_B))
    i32max, i32min = 2**31 - 1, -2**31
    assert list(a["f2i32"]) == [2, -2, 0, 0, i32max, i32min, 0, i32max, 0, i32max]
    assert list(a["f2i64"][:6]) == [2, -2, 0, 0, 10**10, -10**10]
    np.testing.assert_array_equal(a["f2f32"], FLOATS_TO_CAST.astype(np.float32))
    np.testing.assert_array_equal(a["f2b"], FLOATS_TO_CAST != 0)  # NaN is true, -0.0 false
    np.testing.assert_array_equal(a["b2f"], (FLOATS_TO_CAST != 0).astype(float))
    np.testing.assert_array_equal(a["a32"], (INT_A + INT_B * 1000003).astype(np.int32))  # wraps
    np.testing.assert_array_equal(a["negi"], -a["a32"])


def test_exit_condition_stops_the_chunk():
    m = sample_exit(limit=15)
    a = allocate(m)
    sim = get_backend("reference")().load(get_backend("reference")().emit(m), a)
    assert sim.run(10) == 10
    assert sim.run(100) == 5
    assert a["count"][0] == 15 and a["net.t"][0] == 15
    np.testing.assert_array_equal(a["acc"], [0.0, 15.0, 30.0])
    a["count"][0] = 0  # the runtime resets the counter between chunks
    assert sim.run(100) == 15 and a["net.t"][0] == 30


def test_out_of_bounds_is_reported():
    m = sample_csr()
    a = allocate(m)
    a["proj.pre"][0] = 99
    with pytest.raises(BackendError, match="out of bounds"):
        simulate(m, 1, a)


def test_arrays_are_checked():
    m = sample_leaky()
    a = allocate(m)
    a["pop.v"] = a["pop.v"].astype(np.float32)
    with pytest.raises(BackendError, match="pop.v"):
        simulate(m, 1, a)


# -- registry ------------------------------------------------------------

def test_unknown_backend_lists_known_names():
    with pytest.raises(BackendError) as err:
        get_backend("nope")
    assert "llvm" in str(err.value) and "reference" in str(err.value)


def test_builtin_backends_are_available():
    assert {"llvm", "reference"} <= set(available_backends())


def test_register_a_custom_backend():
    class Counting(Simulator):
        def __init__(self, arrays):
            self.t = arrays["net.t"]

        def run(self, n):
            self.t[0] += n
            return n

    @register_backend
    class CountingBackend(Backend):
        name = "test-counting"

        def emit(self, module):
            return Artefact(self.name, {}, module)

        def load(self, artefact, arrays):
            return Counting(arrays)

    assert get_backend("test-counting") is CountingBackend
    m = sample_leaky()
    a = allocate(m)
    backend = get_backend("test-counting")(opt_level=1, unknown_option=True)
    assert backend.load(backend.emit(m), a).run(4) == 4 and a["net.t"][0] == 4

    @register_backend
    class Replacement(CountingBackend):
        name = "test-counting"
    assert get_backend("test-counting") is Replacement


def test_unsigned_and_bitwise_match_numpy():
    """u32/u64 wrap-around, unsigned / % < and logical >>; arithmetic >> on
    signed types; mulhi; integer casts (zext/sext/trunc) and u64 -> f64."""
    from kernel_samples import sample_unsigned
    m = sample_unsigned()
    init = {name: d.init.copy() for name, d in m.arrays.items() if isinstance(d.init, np.ndarray)}
    done, a = simulate(m, 1)
    with np.errstate(all="ignore"):
        for tn, t in (("u32", np.uint32), ("u64", np.uint64), ("i32", np.int32), ("i64", np.int64)):
            bits = np.dtype(t).itemsize * 8
            x, y = init[f"{tn}.a"].astype(t), init[f"{tn}.b"].astype(t)
            safe = y | t(1)
            count = y & t(bits - 1)
            expected = {"add": x + y, "sub": x - y, "mul": x * y, "and": x & y, "or": x | y, "xor": x ^ y,
                        "shl": x << count, "shr": x >> count, "min": np.minimum(x, y), "max": np.maximum(x, y)}
            if tn[0] == "u":
                expected["div"], expected["mod"] = x // safe, x % safe
            for tag, want in expected.items():
                np.testing.assert_array_equal(a[f"{tn}.{tag}"], want.astype(t), err_msg=f"{tn}.{tag}")
            hi = [(int(p) * int(q)) >> bits for p, q in zip(x, y)]
            wide = np.int64 if tn[0] == "i" else np.uint64  # the high half always fits
            np.testing.assert_array_equal(a[f"{tn}.mulhi"], np.array(hi, dtype=wide).astype(t), err_msg=f"{tn}.mulhi")
            np.testing.assert_array_equal(a[f"{tn}.lt"], x < y)
            for dn, d in (("u32", np.uint32), ("u64", np.uint64), ("i32", np.int32), ("i64", np.int64)):
                np.testing.assert_array_equal(a[f"{tn}.to_{dn}"], x.astype(d), err_msg=f"{tn}.to_{dn}")
            np.testing.assert_array_equal(a[f"{tn}.to_f64"], x.astype(np.float64))
    assert a["u32.add"].dtype == np.uint32 and a["u32.add"][3] == (0xFFFFFFFF + 2) % 2**32
