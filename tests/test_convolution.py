"""Convolution and Pooling against numpy re-implementations (a cross-correlation computed with
np.pad and windows; block reductions), 1-D to 3-D, with padding, border, sub-sampling, banks of
filters and operations, on the reference backend and llvm at 1 and 2 threads; bad input."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError, NotSupportedError, ShapeError
from anncompiler.extensions.convolution import Convolution, Pooling

INPUT = ann.Neuron(parameters="r = 0.0", name="Input")
OUTPUT = ann.Neuron(equations="r = sum(exc)", name="Output")
RNG = np.random.default_rng(7)
X1 = RNG.uniform(-1, 1, 12)
X2 = RNG.uniform(-1, 1, (6, 8))
X3 = RNG.uniform(-1, 1, (4, 6, 3))
F3 = RNG.uniform(-1, 1, (3, 3))
F4 = RNG.uniform(-1, 1, (4,))
F333 = RNG.uniform(-1, 1, (3, 3, 3))
BANK2 = RNG.uniform(-1, 1, (2, 3, 3))
BANK3 = RNG.uniform(-1, 1, (4, 3, 3, 3))


def centre(n):
    return n // 2 if n % 2 else n // 2 - 1


def correlate(X, W, padding=0.0, step=None, op="sum", psp=lambda w, r: w * r):
    """g(x) = op_k psp(W[k], X[x + k - centre]) at the centres (s-1)//2 + s*i; outside X the
    value is ``padding`` ('border': the nearest element; max/min: skipped)."""
    pad = [(centre(n), n - 1 - centre(n)) for n in W.shape]
    if padding == "border":
        P = np.pad(X, pad, mode="edge")
    else:
        P = np.pad(X, pad, constant_values=np.nan if op in ("max", "min") else padding)
    step = step or [1] * X.ndim
    out = np.empty([X.shape[d] // step[d] for d in range(X.ndim)])
    for idx in np.ndindex(*out.shape):
        c = [(s - 1) // 2 + s * i for s, i in zip(step, idx)]
        v = psp(W, P[tuple(slice(cc, cc + n) for cc, n in zip(c, W.shape))])
        out[idx] = {"sum": np.sum, "mean": np.mean, "max": np.nanmax, "min": np.nanmin}[op](v)
    return out


def blocks(X, extent, op):
    """op over the blocks of ``extent`` (one per output element)."""
    shape = [X.shape[d] // extent[d] for d in range(X.ndim)]
    out = np.empty(shape)
    for idx in np.ndindex(*shape):
        out[idx] = getattr(np, op)(X[tuple(slice(i * e, (i + 1) * e) for i, e in zip(idx, extent))])
    return out


# (post geometry, input, connect(proj), expected) per case; each case has its own post population
CASES = {
    "1d": ((12,), "X1", lambda p: p.connect_filter(F3[0]), lambda: correlate(X1, F3[0])),
    "1d-even-subsampled": ((6,), "X1", lambda p: p.connect_filter(F4, padding=0.7),
                           lambda: correlate(X1, F4, 0.7, [2])),
    "1d-given-centres": ((3,), "X1", lambda p: p.connect_filter(F3[1], subsampling=[[0], [5], [11]]),
                         lambda: correlate(X1, F3[1])[[0, 5, 11]]),
    "2d-padding": ((6, 8), "X2", lambda p: p.connect_filter(F3, padding=0.5), lambda: correlate(X2, F3, 0.5)),
    "2d-border": ((6, 8), "X2", lambda p: p.connect_filter(F3, padding="border"),
                  lambda: correlate(X2, F3, "border")),
    "2d-subsampled": ((3, 4), "X2", lambda p: p.connect_filter(F3), lambda: correlate(X2, F3, 0.0, [2, 2])),
    "3d": ((4, 6, 3), "X3", lambda p: p.connect_filter(F333, padding=0.2), lambda: correlate(X3, F333, 0.2)),
    "3d-to-2d": ((4, 6), "X3", lambda p: p.connect_filter(F333), lambda: correlate(X3, F333)[:, :, 1]),
    "3d-layerwise": ((4, 6, 3), "X3", lambda p: p.connect_filter(F3, keep_last_dimension=True, padding=0.3),
                     lambda: np.stack([correlate(X3[..., c], F3, 0.3) for c in range(3)], axis=-1)),
    "2d-bank": ((6, 8, 2), "X2", lambda p: p.connect_filters(BANK2, padding=-0.4),
                lambda: np.stack([correlate(X2, f, -0.4) for f in BANK2], axis=-1)),
    "3d-bank": ((2, 3, 4), "X3", lambda p: p.connect_filters(BANK3),
                lambda: np.stack([correlate(X3, f, 0.0, [2, 2, 1])[:, :, 1] for f in BANK3], axis=-1)),
}
OPERATION_CASES = {  # (post geometry, input, operation, psp, connect, expected)
    "max": ((6, 8), "X2", "max", "pre.r * w", lambda p: p.connect_filter(F3, padding=5.0),
            lambda: correlate(X2, F3, op="max")),
    "min-subsampled": ((3, 4), "X2", "min", "pre.r * w", lambda p: p.connect_filter(F3),
                       lambda: correlate(X2, F3, op="min", step=[2, 2])),
    "mean": ((6, 8), "X2", "mean", "pre.r * w", lambda p: p.connect_filter(F3, padding=1.0),
             lambda: correlate(X2, F3, 1.0, op="mean")),
    "non-linear": ((6, 8), "X2", "sum", "w * pre.r * pre.r", lambda p: p.connect_filter(F3, padding=0.5),
                   lambda: correlate(X2, F3, 0.5, psp=lambda w, r: w * r * r)),
}
POOLING_CASES = {  # (post geometry, input, operation, extent, expected)
    "max": ((3, 4), "X2", "max", None, lambda: blocks(X2, (2, 2), "max")),
    "mean": ((3, 2), "X2", "mean", (2, 4), lambda: blocks(X2, (2, 4), "mean")),
    "min-1d": ((4,), "X1", "min", None, lambda: blocks(X1, (3,), "min")),
    "last-dimension": ((4, 6), "X3", "max", (1, 1, 3), lambda: X3.max(axis=2)),
    "3d": ((2, 3, 1), "X3", "mean", None, lambda: blocks(X3, (2, 2, 3), "mean")),
}


def build(threads=1):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    inputs = {"X1": X1, "X2": X2, "X3": X3}
    pops = {k: net.create(v.shape, INPUT, name=k) for k, v in inputs.items()}
    for k, v in inputs.items():
        pops[k].r = v
    out = {}
    for name, (geometry, x, connect, expected) in CASES.items():
        post = net.create(geometry, OUTPUT, name=f"conv_{name}")
        connect(net.connect(Convolution(pops[x], post, "exc")))
        out[post.name] = (post, expected)
    for name, (geometry, x, op, psp, connect, expected) in OPERATION_CASES.items():
        post = net.create(geometry, OUTPUT, name=f"op_{name}")
        connect(net.connect(Convolution(pops[x], post, "exc", psp=psp, operation=op)))
        out[post.name] = (post, expected)
    for name, (geometry, x, op, extent, expected) in POOLING_CASES.items():
        post = net.create(geometry, OUTPUT, name=f"pool_{name}")
        net.connect(Pooling(pops[x], post, "exc", operation=op)).pooling(extent)
        out[post.name] = (post, expected)
    return net, out


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 1), ("llvm", 2)])
def test_against_numpy(backend, threads):
    net, out = build(threads)
    net.compile(backend=backend)
    net.simulate(2.0)
    for name, (post, expected) in out.items():
        want = expected()
        assert post.r.shape == want.shape, name
        np.testing.assert_allclose(post.r, want, rtol=1e-12, atol=1e-12, err_msg=name)


def test_filter_changed_after_compile():
    net = ann.Network(dt=1.0)
    inp = net.create((6, 8), INPUT)
    inp.r = X2
    post = net.create((6, 8), OUTPUT)
    proj = net.connect(ann.Convolution(inp, post, "exc"))
    proj.connect_filter(F3, padding=0.5)
    np.testing.assert_array_equal(proj.weights, F3)
    net.compile()
    net.simulate(2.0)
    np.testing.assert_allclose(post.r, correlate(X2, F3, 0.5), atol=1e-12)
    proj.weights = 2 * F3
    np.testing.assert_array_equal(proj.w, 2 * F3)
    net.simulate(1.0)
    np.testing.assert_allclose(post.r, correlate(X2, 2 * F3, 0.5), atol=1e-12)
    # each synapse reads its filter element
    assert proj.dendrite(0).w == pytest.approx([2 * F3[1, 1], 2 * F3[1, 2], 2 * F3[2, 1], 2 * F3[2, 2]])
    with pytest.raises(ShapeError, match=r"\(3, 3\)"):
        proj.weights = np.ones((2, 2))


def test_bad_input():
    net = ann.Network(dt=1.0)
    inp = net.create((6, 8), INPUT)
    inp3 = net.create((6, 8, 3), INPUT)
    post = net.create((6, 8), OUTPUT)
    spiking = net.create(4, ann.Neuron(equations="v = 0", spike="v > 1"))

    def conv(pre=inp, out=post, **kw):
        return net.connect(ann.Convolution(pre, out, "exc", **kw))
    with pytest.raises(NetworkError, match="rate-coded pre-synaptic"):
        ann.Convolution(spiking, post, "exc")
    with pytest.raises(ShapeError, match="connect_filters"):
        conv().connect_filter(np.ones((3, 3, 3)))
    with pytest.raises(ShapeError, match="keep_last_dimension"):
        conv(inp3, net.create((6, 8, 3), OUTPUT)).connect_filter(F3)
    with pytest.raises(ShapeError, match="multiple"):
        conv(out=net.create((4, 8), OUTPUT)).connect_filter(F3)
    with pytest.raises(ShapeError, match="2 filters"):
        conv(out=net.create((6, 8, 3), OUTPUT)).connect_filters(BANK2)
    with pytest.raises(ShapeError, match="at most 4"):
        conv().connect_filter(np.ones((1, 1, 1, 1, 1)))
    with pytest.raises(InvalidValueError, match="padding"):
        conv().connect_filter(F3, padding="reflect")
    with pytest.raises(InvalidTypeError, match="filter"):
        conv().connect_filter([["a", "b"]])
    with pytest.raises(ShapeError, match="subsampling"):
        conv().connect_filter(F3, subsampling=[[0, 0]])
    with pytest.raises(InvalidValueError, match="outside"):
        conv(out=net.create(1, OUTPUT)).connect_filter(np.ones((3, 8)), subsampling=[[6, 0]])
    with pytest.raises(InvalidValueError, match="operation"):
        ann.Convolution(inp, post, "exc", operation="prod")
    with pytest.raises(NotSupportedError, match="connect_filter"):
        conv().all_to_all(1.0)
    with pytest.raises(InvalidTypeError, match="delay"):
        conv().connect_filter(F3, delays=ann.Uniform(1, 2))
    with pytest.raises(ShapeError, match="extent"):
        net.connect(ann.Pooling(inp, net.create((4, 4), OUTPUT), "exc")).pooling()
    with pytest.raises(InvalidValueError, match="extent"):
        net.connect(ann.Pooling(inp, net.create((3, 4), OUTPUT), "exc")).pooling([2.5, 2])
    with pytest.raises(NetworkError, match="rate-coded"):
        ann.Pooling(spiking, post, "exc")
    unconnected = net.connect(ann.Convolution(inp, post, "exc"))
    with pytest.raises(NetworkError, match="connect_filter"):
        _ = unconnected.weights
    # the network is still usable: drop the failed projections by building a fresh one
    ok = ann.Network(dt=1.0)
    a, b = ok.create((6, 8), INPUT), ok.create((6, 8), OUTPUT)
    ok.connect(ann.Convolution(a, b, "exc")).connect_filter(F3)
    ok.compile()
    ok.simulate(1.0)


def test_cuda_renders_and_compiles():
    pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
    from anncompiler.backends.cuda import CUDABackend
    from anncompiler.ir.module import CompilationModule
    from anncompiler.passes import DEFAULT_PIPELINE, PassManager
    from anncompiler.runtime.compile import build_network_ir
    net, _ = build()
    module = CompilationModule(build_network_ir(net), options={"method": "explicit", "num_threads": 1})
    PassManager(DEFAULT_PIPELINE + "," + CUDABackend().pipeline_suffix()).run(module)
    artefact = CUDABackend(cache=False).emit(module.kernels)
    assert ".entry" in artefact.dumps["cuda.ptx"]
