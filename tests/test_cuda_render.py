"""The cuda backend without a device: every end-to-end model rendered to CUDA C and compiled to PTX
with NVRTC; the semantics helpers; and ``cuda-map`` checked by running the mapped module on the
reference interpreter (it must compute what the neutral module computes)."""
import copy
import types

import numpy as np
import pytest

pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")

import anncompiler as ann  # noqa: E402
from anncompiler.backends import get_backend  # noqa: E402
from anncompiler.backends.cuda import CUDABackend  # noqa: E402
from anncompiler.backends.cuda.cexpr import float_literal, int_literal  # noqa: E402
from anncompiler.backends.cuda.nvrtc import OPTIONS, compile_to_ptx  # noqa: E402
from anncompiler.backends.cuda.render import render_module  # noqa: E402
from anncompiler.backends.reference import ReferenceSimulator  # noqa: E402
from anncompiler.runtime.compile import build_network_ir  # noqa: E402
from anncompiler.errors import BackendError, IRVerificationError, PipelineError  # noqa: E402
from anncompiler.ir import kernel as K  # noqa: E402
from anncompiler.ir.launch import LaunchConfig  # noqa: E402
from anncompiler.ir.module import CompilationModule  # noqa: E402
from anncompiler.ir.types import BOOL, F32, F64, I32, I64, U16, U32, U64  # noqa: E402
from anncompiler.passes import DEFAULT_PIPELINE, PassManager, parse_pipeline  # noqa: E402
from anncompiler.runtime.state import allocate_arrays  # noqa: E402

from kernel_samples import SAMPLES, new_module  # noqa: E402


def kernel_module(net, threads=1, mapped=True, suffix=None):
    """What ``net.compile(backend="cuda")`` hands the backend (the pipeline plus the backend's
    suffix, or ``suffix``)."""
    module = CompilationModule(build_network_ir(net), options={"method": net._config["method"],
                                                               "num_threads": threads})
    suffix = "," + (suffix or CUDABackend().pipeline_suffix()) if mapped else ""
    PassManager(DEFAULT_PIPELINE + suffix).run(module)
    return module.kernels


def emit(km):
    artefact = CUDABackend(cache=False).emit(km)
    ptx = artefact.dumps["cuda.ptx"]
    for launch in artefact.payload.launches + [artefact.payload.advance]:
        assert f".entry {launch.function}(" in ptx
    return artefact


# --------------------------------------------------------------------------
# the end-to-end models

def coba(net, n=80):
    LIF = ann.Neuron(
        parameters=dict(El=-60., Vr=-60., Erev_exc=0., Erev_inh=-80., Vt=-50., tau=20., tau_exc=5.,
                        tau_inh=10., I=20.),
        equations=["tau * dv/dt = (El - v) + g_exc * (Erev_exc - v) + g_inh * (Erev_inh - v) + I",
                   "tau_exc * dg_exc/dt = - g_exc", "tau_inh * dg_inh/dt = - g_inh"],
        spike="v > Vt", reset="v = Vr", refractory=5.0, name="LIF")
    P = net.create(n, LIF)
    P.v = ann.Normal(-55., 5., rng=net.default_rng)
    net.connect(P[:n * 4 // 5], P, 'exc').fixed_probability(0.1, weights=0.6)
    net.connect(P[n * 4 // 5:], P, 'inh').fixed_probability(0.1, weights=6.7)
    net.monitor(P, ['spike', 'v'])


def rate(net, density=1.0):
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=ann.Parameter(0.0, locality="local")),
                        equations=["tau * dr/dt + r = sum(exc) - sum(inh) + B : min=0.0"], name="Rate")
    pop = net.create(40, neuron)
    pop.B = np.linspace(0.0, 1.0, 40)
    if density == 1.0:
        net.connect(pop, pop, "exc").all_to_all(weights=ann.Uniform(0.0, 0.1, rng=net.default_rng))
        net.connect(pop, pop, "inh").from_matrix(np.full((40, 40), 0.01))
    else:
        net.connect(pop, pop, "exc").fixed_probability(density, weights=0.2)
    net.monitor(pop, "r", period=2.0)


def izhikevich(net):
    neuron = ann.Neuron(
        parameters="noise = 5.0\na = 0.02\nb = 0.2\nc = -65.0\nd = 8.0\nv_thresh = 30.0",
        equations="""
            I = g_exc - g_inh + noise * Normal(0.0, 1.0)
            dv/dt = 0.04 * v^2 + 5.0 * v + 140.0 - u + I : init=-65.0
            du/dt = a * (b*v - u) : init=-13.0
        """, spike="v >= v_thresh", reset="v = c; u += d", name="Izhikevich")
    pop = net.create(50, neuron)
    net.connect(pop[:40], pop, 'exc').all_to_all(weights=ann.Uniform(0.0, 0.5, rng=net.default_rng))
    net.connect(pop[40:], pop, 'inh').all_to_all(weights=ann.Uniform(0.0, 1.0, rng=net.default_rng))
    net.monitor(pop, 'spike')


def stdp(net):
    IF = ann.Neuron(parameters=dict(tau_m=10.0, tau_e=5.0, vt=-54.0, vr=-60.0, El=-74.0, Ee=0.0),
                    equations=["tau_m * dv/dt = El - v + g_exc * (Ee - v) : init=-60.0",
                               "tau_e * dg_exc/dt = -g_exc"], spike="v > vt", reset="v = vr", name="IF")
    STDP = ann.Synapse(
        parameters=dict(tau_plus=20.0, tau_minus=20.0, A_plus=0.0001, A_minus=0.000105, w_max=0.01),
        equations="tau_plus * dx/dt = -x : event-driven\ntau_minus * dy/dt = -y : event-driven",
        pre_spike="g_target += w\nx += A_plus\nw = clip(w + y, 0.0, w_max)",
        post_spike="y -= A_minus\nw = clip(w + x, 0.0, w_max)", name="STDP")
    inputs = net.create(ann.PoissonPopulation(100, rates=15.0))
    out = net.create(1, IF)
    net.connect(inputs, out, 'exc', synapse=STDP).all_to_all(weights=ann.Uniform(0.0, 0.01, rng=net.default_rng))
    net.monitor(out, ['spike', 'v'])


def plasticity(net):
    """Rate-coded learning: a per-synapse equation and a global operation in the post-synaptic neuron."""
    neuron = ann.Neuron(parameters=dict(tau=10.0), equations=["tau * dr/dt + r = sum(exc) : min=0.0",
                                                              "m = mean(r)"], name="RateL")
    oja = ann.Synapse(parameters=dict(eta=0.01, alpha=1.0),
                      equations="dw/dt = eta * (pre.r * post.r - alpha * post.r^2 * w)", name="Oja")
    pre = net.create(20, neuron)
    post = net.create(5, neuron)
    pre.r = np.linspace(0.0, 1.0, 20)
    net.connect(pre, post, "exc", synapse=oja).all_to_all(weights=0.1)
    net.monitor(post, ["r", "m"])


def float32(net):
    net.config(dtype=ann.float32)
    rate(net)


def global_ops(net):
    neuron = ann.Neuron(equations=["r = Uniform(-1.0, 1.0)", "y = mean(r) + max(r) - min(r) + norm1(r)"], name="G")
    pop = net.create((3, 4), neuron)
    net.monitor(pop, ["r", "y"])


def spike_sources(net):
    src = ann.SpikeSourceArray([[1.0, 2.0], [0.5]], network=net)
    poisson = net.create(ann.PoissonPopulation(30, rates="if t < 5.0: 0.0 else: 50.0"))
    neuron = ann.Neuron(equations=["v = v + g_exc"], spike="v > 1000.0", reset="v = 0.0", name="Acc")
    post = net.create(3, neuron)
    net.connect(src, post, "exc").all_to_all(weights=0.7)
    net.connect(poisson, post, "exc").fixed_probability(0.5, weights=0.1)
    net.monitor(src, "spike")
    net.monitor(post, "v")


def stop_conditions(net):
    counter = ann.Neuron(equations="r = r + 1.0", name="Counter")
    p = net.create(3, counter, stop_condition="r > 10.0 : all", name="P0")
    q = net.create(2, counter, stop_condition="r > 4.0", name="P1")
    net.monitor(p, "r")
    net.monitor(q, "r")


def delays(net):
    """Uniform and non-uniform synaptic delays (a ring of past spike lists); driven above threshold,
    with varied weights, so that spikes travel and the order of the sums shows in the bits."""
    lif = ann.Neuron(parameters="tau = 10.0", equations=["tau * dv/dt = -v + g_exc + 1.2", "5.0 * dg_exc/dt = -g_exc"],
                     spike="v > 1.0", reset="v = 0.0", refractory=1.0, name="Delayed")
    pop = net.create(40, lif)
    pop.v = ann.Uniform(0.0, 1.0, rng=net.default_rng)
    net.connect(pop[:30], pop, "exc").fixed_probability(0.2, weights=ann.Uniform(0.1, 0.4, rng=net.default_rng),
                                                        delays=ann.Uniform(0.1, 1.0, rng=net.default_rng))
    net.connect(pop[30:], pop, "exc").fixed_probability(0.2, weights=-0.5, delays=0.5)
    net.monitor(pop, "spike")


def rate_delays(net):
    """Rate-coded delays, uniform and per synapse, in psp and a synaptic equation (rings of past
    values)."""
    leaky = ann.Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc) + 0.5 : min=0.0")
    a, b = net.create(30, leaky), net.create(20, leaky)
    hebb = ann.Synapse(parameters="eta = 0.01", equations="dw/dt = eta * pre.r * post.r", psp="w * pre.r")
    net.connect(a, b, "exc", hebb).fixed_probability(0.3, weights=0.1,
                                                    delays=ann.Uniform(0.1, 2.0, rng=net.default_rng))
    net.connect(b, a, "exc").fixed_probability(0.3, weights=0.1, delays=1.5)
    net.monitor(b, "r")


MODELS = {"coba": coba, "rate_dense": rate, "rate_sparse": lambda net: rate(net, 0.05),
          "izhikevich": izhikevich, "stdp": stdp, "plasticity": plasticity, "float32": float32,
          "global_ops": global_ops, "spike_sources": spike_sources, "stop_conditions": stop_conditions,
          "delays": delays, "rate_delays": rate_delays}


def build(name, seed=3):
    net = ann.Network(dt=0.5 if name == "stop_conditions" else 0.1, seed=seed)
    MODELS[name](net)
    return net


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_renders_and_compiles(name):
    km = kernel_module(build(name))
    assert km.platform == "cuda" and set(km.launch) == {k.name for k in km.kernels}
    artefact = emit(km)
    source = artefact.dumps["cuda.cu"]
    assert 'extern "C" __global__ void annc_advance_step(' in source
    if km.float_type == F32:
        assert "float *__restrict__" in source


def test_coba_runs_its_loops_on_the_grid():
    """Neuron updates and rows in parallel; spike propagation over partitions of the post
    population (no atomics); the spike list compacted."""
    km = kernel_module(build("coba"))
    update = km.launch["update_pop0"]
    assert len(update.grid_loops) == 2 and update.iterations == (80, 80)
    assert km.launch["project_proj0"].atomics == () and km.launch["project_proj0"].iterations == (80,)
    assert km.kernels[0].body[0].space == "partitions:proj0"
    assert "update_pop0.compact" in km.launch and not km.launch["update_pop0.compact"].grid_loops
    assert not km.launch["record_monitor0"].grid_loops
    artefact = emit(km)
    grid = [launch.function for launch in artefact.payload.launches if launch.iterations]
    assert grid == ["k0_project_proj0", "k1_project_proj1", "k2_update_pop0_1", "k2_update_pop0_2"]
    assert "atomicAdd" not in artefact.dumps["cuda.cu"].split("__global__", 1)[1]


def test_coba_with_atomics():
    """``cuda-map{order=atomic}``: one thread per spike, float atomic adds."""
    km = kernel_module(build("coba"), suffix="cuda-map{order=atomic}")
    assert km.launch["project_proj0"].atomics == ("pop0.g_exc",)
    assert km.kernels[0].body[0].space == "spikes:pop0"
    assert "atomicAdd(&a_pop0_g_exc[" in emit(km).dumps["cuda.cu"]


# --------------------------------------------------------------------------
# the mapping computes what the neutral module computes (run on the reference interpreter)

def run_reference(km, steps):
    arrays = allocate_arrays(km)
    ReferenceSimulator(km, arrays).run(steps)
    return arrays


def assert_same_run(neutral, mapped, steps):
    want, got = run_reference(neutral, steps), run_reference(mapped, steps)
    for name in neutral.arrays:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@pytest.mark.parametrize("name", ["coba", "stdp", "spike_sources", "rate_sparse", "global_ops"])
def test_mapped_model_computes_the_same(name):
    """Sequentially (the reference interpreter), the mapped module gives the neutral one's bits."""
    neutral = kernel_module(build(name), mapped=False)
    mapped = kernel_module(build(name))
    assert_same_run(neutral, mapped, 40)


def neutral_sample(n=37):
    """A neutral module: a parallel neuron loop appending a spike list, a parallel accumulation,
    a reduction with lanes, an any-of."""
    m = new_module()
    m.declare("pop.v", F64, n, init=np.linspace(0.0, 0.95, n))
    m.declare("pop.spiked", I32, n, "spikes")
    m.declare("pop.n_spiked", I64, 1, "spikes")
    m.declare("pop.flag", BOOL, 40)
    m.declare("pop.g", F64, 5)
    m.declare("pop.count", I64, 5)
    m.declare("pop.total", F64, 1)
    m.declare("pop.any", BOOL, 1)
    m.index_spaces["neurons:pop"] = n
    i, j = K.Var("i", I64), K.Var("j", I32)
    v = m.load("pop.v", i)
    five = K.Const(5, I64)
    m.kernels.append(K.Kernel("update", "neurons", [
        K.Store("pop.n_spiked", K.Const(0, I64), K.Const(0, I64)),
        K.Let(K.Var("step", I64), m.load("net.t")),
        K.Loop(i, K.Const(0, I64), K.Const(n, I64), [
            K.Store("pop.v", i, K.BinOp("+", v, K.BinOp("*", K.Cast(K.BinOp("%", i, K.Const(3, I64), I64), F64),
                                                           K.Const(0.125), F64), F64)),
            K.If(K.Cmp(">", v, K.Const(1.0)), [K.Store("pop.v", i, K.Const(0.0)),
                                              K.Append("pop.spiked", "pop.n_spiked", K.Cast(i, I32))]),
        ], "neurons:pop", parallel=True)], owner="neurons:pop"))
    m.kernels.append(K.Kernel("project", "input", [
        K.Loop(i, K.Const(0, I64), m.load("pop.n_spiked"), [
            K.Accumulate("pop.g", K.BinOp("%", K.Cast(m.load("pop.spiked", i), I64), five, I64), K.Const(0.5)),
            K.Accumulate("pop.count", K.BinOp("%", i, five, I64), K.Const(2, I64), "-"),
        ], "spikes:pop")]))
    m.kernels.append(K.Kernel("sum", "record", [
        K.Reduce(K.Var("acc", F64), "+", K.Const(0.0), j, K.Const(0, I32), K.Const(n, I32),
                 m.load("pop.v", j), lanes=4),
        K.Store("pop.total", K.Const(0, I64), K.Var("acc", F64)),
        K.Store("pop.any", K.Const(0, I64), K.AnyOf("pop.flag", K.Const(8, I64), 32))]))
    K.verify_module(m)
    return m


def cuda_map(km, pipeline="cuda-map"):
    holder = types.SimpleNamespace(kernels=km)
    for p in parse_pipeline(pipeline):
        p.run(holder)
    K.verify_module(km)
    return km


def test_append_and_accumulate_in_grid_loops():
    neutral = neutral_sample()
    mapped = cuda_map(copy.deepcopy(neutral), "cuda-map{order=atomic}")
    names = [k.name for k in mapped.kernels]
    assert names == ["update", "update.compact", "project", "sum"]
    assert mapped.launch["update"].grid_loops == (2,) and mapped.launch["update"].iterations == (37,)
    assert mapped.launch["project"].atomics == ("pop.count", "pop.g")
    assert not mapped.launch["update.compact"].grid_loops
    assert "launch @update: grid over statement 2 (37 iterations), block 256" in K.format_module(mapped)
    assert_same_run(neutral, mapped, 12)
    source = emit(mapped).dumps["cuda.cu"]
    assert "atomicAdd(&a_pop_g[" in source and "atomicAdd((unsigned long long *)&a_pop_count[" in source
    grid = source.split("void k0_update_1(")[1].split("\n}\n")[0]
    assert "a_pop_spiked[" not in grid and "v_step = a_net_t[0LL];" in grid  # staged; the local recomputed


def test_float_atomics_can_be_refused():
    mapped = cuda_map(neutral_sample(), "cuda-map{order=atomic,float_atomics=0,block=128}")
    assert not mapped.launch["project"].grid_loops
    assert mapped.launch["update"].block == 128


def test_mapping_falls_back_to_one_thread():
    """Without a bound on the iterations, or with an append in an inner loop, a kernel runs on one thread."""
    m = neutral_sample()
    m.index_spaces.clear()
    mapped = cuda_map(m)
    assert not mapped.launch["project"].grid_loops  # bound is pop.n_spiked[0]: unknown
    assert mapped.launch["update"].grid_loops  # constant bounds
    m = neutral_sample()
    loop = m.kernels[0].body[2]
    inner = K.Var("k", I64)
    loop.body.append(K.Loop(inner, K.Const(0, I64), K.Const(2, I64), [K.Append("pop.spiked", "pop.n_spiked", K.Const(1, I32))]))
    assert not cuda_map(m).launch["update"].grid_loops


def test_mapping_is_verified():
    m = cuda_map(neutral_sample())
    m.launch["sum"] = LaunchConfig((0,), (4,))
    with pytest.raises(IRVerificationError, match="not a loop"):
        K.verify_module(m)


def test_cuda_map_errors():
    with pytest.raises(PipelineError, match="lower-to-kernels"):
        parse_pipeline("cuda-map")[0].run(types.SimpleNamespace(kernels=None))
    m = neutral_sample()
    m.platform = "cpu"
    with pytest.raises(PipelineError, match="already mapped"):
        cuda_map(m)
    with pytest.raises(PipelineError, match="block"):
        cuda_map(neutral_sample(), "cuda-map{block=2048}")


# --------------------------------------------------------------------------
# the renderer's semantics

@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_hand_built_samples_compile(sample):
    emit(cuda_map(SAMPLES[sample]()))


@pytest.mark.parametrize("value", [0.1, -1.5, 1e-310, 5e-324, 1.7976931348623157e308, -0.0, 2.0 ** -1074])
def test_float_literals_are_exact(value):
    text = float_literal(value, F64).strip("()")
    assert float.fromhex(text) == value and str(np.copysign(1, float.fromhex(text))) == str(np.copysign(1, value))
    f32 = float_literal(value, F32).strip("()")
    if not f32.startswith("__"):
        assert float.fromhex(f32.rstrip("f")) == float(np.float32(value))


def test_special_literals():
    assert float_literal(float("inf"), F64) == "__longlong_as_double(0x7ff0000000000000ll)"
    assert float_literal(float("-inf"), F32) == "__int_as_float(0xff800000)"
    assert int_literal(-2 ** 63, I64) == "(-9223372036854775807LL - 1)"
    assert int_literal(-2 ** 31, I32) == "(-2147483647 - 1)"
    assert int_literal(2 ** 64 - 1, U64) == "18446744073709551615ull"
    assert int_literal(-1, U32) == "4294967295u"


def expression_module():
    """Every expression node on every type it takes, stored so that nothing is optimised away."""
    m = new_module()
    exprs = []
    for t in (F64, F32):
        a, b = K.Load(f"x.{t.value}", K.Const(0, I64), t), K.Load(f"x.{t.value}", K.Const(1, I64), t)
        m.declare(f"x.{t.value}", t, 4)
        exprs += [K.BinOp(op, a, b, t) for op in K.BINARY_OPS] + [K.UnOp("neg", a, t)]
        exprs += [K.Call(fn, (a,) * n, BOOL if fn in ("isnan", "isfinite") else t) for fn, n in K.MATH_FUNCTIONS.items()]
        exprs += [K.Cast(a, u) for u in (F64, F32, I32, I64, U32, U64, U16, BOOL)]
        exprs += [K.Cmp(op, a, b) for op in K.COMPARE_OPS]
    for t in (I32, I64, U32, U64, U16):
        a, b = K.Load(f"x.{t.value}", K.Const(0, I64), t), K.Load(f"x.{t.value}", K.Const(1, I64), t)
        m.declare(f"x.{t.value}", t, 4)
        exprs += [K.BinOp(op, a, b, t) for op in K.BINARY_OPS + K.BITWISE_OPS] + [K.UnOp("neg", a, t)]
        exprs += [K.Cast(a, u) for u in (F64, F32, I32, I64, U32, U64, U16, BOOL)]
    m.declare("x.bool", BOOL, 64)
    flag = K.Load("x.bool", K.Const(0, I64), BOOL)
    exprs += [K.Logic("and", flag, K.UnOp("not", flag, BOOL)), K.Logic("or", flag, flag),
              K.Select(flag, K.Const(1.5), K.Const(float("nan"))), K.AnyOf("x.bool", K.Const(3, I64), 16),
              K.Cast(flag, F64), K.Cast(flag, I32)]
    body = []
    for n, e in enumerate(exprs):
        name = f"out{n}"
        m.declare(name, e.dtype, 1)
        body.append(K.Store(name, K.Const(0, I64), e))
    m.kernels.append(K.Kernel("all", "update", body))
    K.verify_module(m)
    return m


def test_every_expression_compiles():
    artefact = emit(cuda_map(expression_module()))
    source, ptx = artefact.dumps["cuda.cu"], artefact.dumps["cuda.ptx"]
    assert "ANNC_FTOI(int, double," in source and "annc_sdiv64(" in source and "__umul64hi(" in source
    assert "((float)exp(((double)" in source  # f32 library functions: in double, rounded once
    assert "sqrtf(" in source and "fmodf(" in source
    assert ".entry k0_all(" in ptx


def test_no_contraction_into_fused_multiply_adds():
    assert "--fmad=false" in OPTIONS and not any("fast" in o for o in OPTIONS)
    m = new_module()
    m.declare("x", F64, 3)
    x = [m.load("x", k) for k in range(3)]
    m.kernels.append(K.Kernel("muladd", "update", [
        K.Store("x", K.Const(0, I64), K.BinOp("+", K.BinOp("*", x[0], x[1]), x[2]))]))
    ptx = emit(cuda_map(m)).dumps["cuda.ptx"]
    assert "mul.rn.f64" in ptx and "add.rn.f64" in ptx and "fma" not in ptx


def test_invalid_source_gives_the_nvrtc_log():
    with pytest.raises(BackendError, match="undefined_thing") as info:
        compile_to_ptx('extern "C" __global__ void f() { undefined_thing(); }', cache=False)
    assert "NVRTC" in str(info.value)


def test_ptx_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ANNC_NO_CACHE", raising=False)
    source = 'extern "C" __global__ void f(double *x) { x[0] = 1.0; }'
    first, hit1 = compile_to_ptx(source)
    second, hit2 = compile_to_ptx(source)
    assert (hit1, hit2) == (False, True) and first == second
    monkeypatch.setenv("ANNC_NO_CACHE", "1")
    assert compile_to_ptx(source)[1] is False


def test_locals_loops_and_reductions():
    km = cuda_map(neutral_sample())
    source = render_module(km).source
    assert "double t" in source and "[4];" in source  # the four partial sums of the reduction
    with pytest.raises(BackendError, match="loop variable"):
        bad = new_module()
        i = K.Var("i", I64)
        bad.kernels.append(K.Kernel("bad", "update", [K.Loop(i, K.Const(0, I64), K.Const(2, I64), [K.Let(i, i)])]))
        render_module(bad)


# --------------------------------------------------------------------------
# the backend

def test_backend_registered_and_suffix():
    cls = get_backend("cuda")
    assert cls is CUDABackend
    assert cls().pipeline_suffix() == "cuda-map"
    assert cls(block=128).pipeline_suffix() == "cuda-map{block=128}"


def test_emit_needs_the_mapping():
    with pytest.raises(BackendError, match="cuda-map"):
        CUDABackend().emit(neutral_sample())


@pytest.mark.skipif(CUDABackend.is_available(), reason="a CUDA device is present")
def test_without_a_device():
    """Without a GPU, loading says what is missing (the driver here, or the device)."""
    artefact = emit(cuda_map(neutral_sample()))
    with pytest.raises(BackendError, match="cannot run on a GPU: (no NVIDIA driver|.*no CUDA device|CuPy)"):
        CUDABackend().load(artefact, allocate_arrays(artefact.payload.module))
    net = build("rate_dense")
    with pytest.raises(BackendError, match="cannot run on a GPU"):
        net.compile(backend="cuda")
    assert not net.compiled
