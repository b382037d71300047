"""Pass manager, pipelines, instrumentation, dumps, printers and verifiers of every stage."""
import os

import numpy as np
import pytest
import sympy

import anncompiler as ann
from anncompiler.backends import get_backend, register_backend
from anncompiler.backends.reference import ReferenceBackend
from anncompiler.ir import kernel as K
from anncompiler.ir.model import format_model, verify_model
from anncompiler.ir.network import format_network, to_dot
from anncompiler.ir.types import F64, I64
from anncompiler.passes import (DEFAULT_PIPELINE, Pass, PassManager, format_pipeline, parse_pipeline,
                                register_pass, registered_passes)


def leaky_network(n=5, dt=1.0):
    net = ann.Network(dt=dt, seed=1)
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0), equations="tau * dr/dt + r = B + sum(exc)",
                        name="Leaky")
    pop = net.create(n, neuron)
    net.connect(pop, pop, "exc").all_to_all(weights=0.01)
    return net, pop


def test_default_pipeline_round_trips():
    passes = parse_pipeline(DEFAULT_PIPELINE)
    assert format_pipeline(passes) == DEFAULT_PIPELINE
    assert {"check-model", "resolve-targets", "discretise-odes", "schedule", "lower-to-kernels", "cse"} <= \
        set(registered_passes())


def test_pipeline_options_parse_and_print():
    passes = parse_pipeline("discretise-odes{method=rk4},cse")
    assert passes[0].method == "rk4"
    assert format_pipeline(passes) == "discretise-odes{method=rk4},cse"


@pytest.mark.parametrize("text", ["no-such-pass", "cse,,", "discretise-odes{nope=1}"])
def test_bad_pipelines_raise_pipeline_error(text):
    with pytest.raises(ann.PipelineError):
        parse_pipeline(text)


def test_unknown_pass_in_compile_leaves_network_usable():
    net, pop = leaky_network()
    with pytest.raises(ann.PipelineError, match="no-such-pass"):
        net.compile(pipeline="resolve-targets,no-such-pass")
    net.compile()
    net.simulate(10.0)
    assert net.current_step == 10


def test_method_option_of_discretise_changes_the_update(tmp_path):
    net, pop = leaky_network()
    pipeline = DEFAULT_PIPELINE.replace("discretise-odes", "discretise-odes{method=exponential}")
    net.compile(pipeline=pipeline, dump_ir=str(tmp_path))
    text = next(open(tmp_path / f).read() for f in os.listdir(tmp_path) if "discretise-odes" in f)
    assert "exp(" in text


def test_dump_ir_writes_one_numbered_file_per_pass(tmp_path):
    net, pop = leaky_network()
    net.compile(dump_ir=str(tmp_path))
    files = sorted(os.listdir(tmp_path))
    assert files[0] == "00-model.txt"
    for i, name in enumerate(DEFAULT_PIPELINE.split(",")):
        assert f"{i + 1:02d}-{name}.txt" in files
    assert any(f.endswith("-llvm.ll") for f in files) and any(f.endswith("-llvm-opt.ll") for f in files)
    assert "network.dot" in files
    last = DEFAULT_PIPELINE.split(",")
    assert "kernel @update_pop0" in open(tmp_path / f"{len(last):02d}-{last[-1]}.txt").read()


def test_dump_ir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNC_DUMP_IR", str(tmp_path / "env"))
    net, pop = leaky_network()
    net.compile()
    assert "00-model.txt" in os.listdir(tmp_path / "env")


def test_custom_pass_registered_from_a_test_runs_and_changes_results():
    @register_pass
    class DoubleDrive(Pass):
        name = "test-double-drive"

        def run(self, module):
            for m in module.network.models():
                for u in m.updates or []:
                    u.value = u.value.xreplace({sympy.Symbol("B"): 2 * sympy.Symbol("B")})

    results = []
    for extra in ("", ",test-double-drive"):
        net, pop = leaky_network(n=1)
        pipeline = DEFAULT_PIPELINE.replace("discretise-odes", "discretise-odes" + extra)
        net.compile(pipeline=pipeline)
        net.simulate(200.0)
        results.append(pop.r[0])
    # steady state of r = B (+ a small self-input): doubling B doubles it
    assert results[1] == pytest.approx(2 * results[0], rel=1e-6)


def test_instrumentation_sees_every_pass():
    seen = []

    class Recorder(ann.passes.Instrumentation):
        def after_pass(self, p, module):
            seen.append((p.name, module.stage))

    from anncompiler.runtime.compile import build_network_ir
    from anncompiler.ir.module import CompilationModule
    net, pop = leaky_network()
    module = CompilationModule(build_network_ir(net), options={"method": "explicit"})
    PassManager(DEFAULT_PIPELINE, [Recorder()]).run(module)
    assert [s[0] for s in seen] == DEFAULT_PIPELINE.split(",")
    stages = dict(seen)
    assert stages["resolve-targets"] == "network" and stages["discretise-odes"] == "discrete"
    assert stages["cse"] == "kernel"


def test_verifier_names_the_pass_that_broke_the_ir():
    @register_pass
    class Breaker(Pass):
        name = "test-break-kernels"

        def run(self, module):
            module.kernels.kernels[0].body.append(K.Store("no.such.array", K.Const(0, I64), K.Const(1.0, F64)))

    net, pop = leaky_network()
    with pytest.raises(ann.IRVerificationError, match="test-break-kernels.*no.such.array"):
        net.compile(pipeline=DEFAULT_PIPELINE + ",test-break-kernels")


def test_kernel_verifier_rejects_type_errors():
    km = K.KernelModule(arrays={}, kernels=[])
    km.declare(K.STEP_COUNTER, I64, 1)
    km.declare("x", F64, 4)
    i = K.Var("i", I64)
    bad = K.Kernel("k", "neurons", [K.Loop(i, K.Const(0, I64), K.Const(4, I64),
                                           [K.Store("x", i, K.BinOp("+", K.Load("x", i, F64), i, F64))])])
    km.kernels.append(bad)
    with pytest.raises(ann.IRVerificationError, match="operand types"):
        K.verify_module(km)
    km.kernels[0] = K.Kernel("k", "neurons", [K.Store("x", K.Var("j", I64), K.Const(1.0, F64))])
    with pytest.raises(ann.IRVerificationError, match="before definition"):
        K.verify_module(km)


def test_printers_of_every_stage():
    net, pop = leaky_network()
    from anncompiler.runtime.compile import build_network_ir
    ir = build_network_ir(net)
    text = format_network(ir)
    assert "population pop0: size=5" in text and "projection proj0: pop0 -> pop0" in text
    assert "neuron Leaky (rate-coded)" in text and "dr/dt" in text
    assert '"pop0" -> "pop0"' in to_dot(ir)
    model = ir.population("pop0").model
    verify_model(model)
    assert "attr tau: parameter, global" in format_model(model)
    net.compile()
    text = K.format_module(net.kernel_module)
    assert "array pop0.r: f64[5] state" in text
    assert "kernel @project_proj0 (phase input, owner neurons:pop0)" in text
    assert "for %i in 0 .. 5:  [neurons:pop0]" in text
    assert "platform=cpu" in text.splitlines()[0]


def test_neutral_kernel_ir_has_no_cpu_forms():
    """lower-to-kernels says what is computed: parallel loops, ordered emission, accumulations and
    reductions with a declared order; partitions, lanes and flag blocks are CPU passes."""
    net = ann.Network(dt=0.1, seed=1)
    lif = ann.Neuron(parameters="tau = 10.0", equations="tau * dv/dt = -v + g_exc + 2.0", spike="v > 1.0",
                     reset="v = 0.0")
    pop = net.create(100, lif)
    net.connect(pop, pop, "exc").fixed_probability(0.1, weights=0.1)
    rate = net.create(20, ann.Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc)"))
    net.connect(rate, rate, "exc").fixed_probability(0.5, weights=0.1)
    net.config(num_threads=2)
    net.compile(pipeline=DEFAULT_PIPELINE.replace("lower-to-kernels", "lower-to-kernels{lanes=4}"),
                backend="reference")
    text = K.format_module(net.kernel_module)
    assert "(neutral)" in text.splitlines()[0]
    assert "append pop0._spiked[pop0._n_spiked] = i32(%i)" in text
    assert "pop0.g_exc[%post] += proj0.w[0]  (accumulate)" in text
    assert "%acc: f64 = reduce(+, 0.0, lanes=4) for %s in" in text
    assert "for %i in 0 .. 100:  [neurons:pop0]  parallel" in text
    for cpu_form in ("partitions:", "row_split", "prefetch", "any(", "u16", "barrier"):
        assert cpu_form not in text
    assert max(len(line) for line in text.splitlines()) < 200


def test_model_verifier_rejects_bad_equation_target():
    from anncompiler.ir.model import Equation, ModelIR
    m = ModelIR("M", "neuron", "rate")
    m.equations.append(Equation("r", "assign", sympy.Integer(1)))
    with pytest.raises(ann.IRVerificationError, match="not an attribute"):
        verify_model(m)


def test_custom_backend_registered_from_a_test_is_used_by_name():
    calls = []

    @register_backend
    class CountingBackend(ReferenceBackend):
        name = "test-counting"

        def load(self, artefact, arrays):
            sim = super().load(artefact, arrays)

            class Counting:
                def run(self, n):
                    calls.append(n)
                    return sim.run(n)
            return Counting()

    assert get_backend("test-counting") is CountingBackend
    net, pop = leaky_network(n=3)
    net.compile(backend="test-counting")
    net.simulate(25.0)
    assert sum(calls) == 25
    ref, _ = leaky_network(n=3)
    ref.compile()
    ref.simulate(25.0)
    np.testing.assert_allclose(pop.r, ref.get_population("pop0").r, rtol=1e-12)


def test_cse_keeps_results_and_removes_repeats():
    base = ann.Neuron(parameters=dict(a=2.0), equations=["x = exp(a*t) + exp(a*t)*2", "r = x"], name="Rep")
    out = []
    for pipeline in (DEFAULT_PIPELINE, DEFAULT_PIPELINE.replace(",cse", "")):
        net = ann.Network(dt=0.01)
        pop = net.create(2, base)
        net.compile(pipeline=pipeline)
        net.simulate(0.05)
        out.append(pop.r.copy())
        text = K.format_module(net.kernel_module)
        if pipeline == DEFAULT_PIPELINE:
            assert text.count("exp(") == 1
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize("lanes", [1, 2, 3, 8])
def test_lane_split_row_sums_agree_with_sequential_and_between_backends(lanes):
    """Rate-coded weighted sums in L independent partial sums: same value as the sequential sum
    (to rounding), and the same bits on both backends since the order is explicit in the IR."""
    results = {}
    for backend in ("llvm", "reference"):
        net = ann.Network(dt=1.0, seed=5)
        neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0), equations="tau * dr/dt + r = B + sum(exc)",
                            name="Leaky")
        pop = net.create(37, neuron)
        net.connect(pop, pop, "exc").fixed_probability(0.5, weights=ann.Uniform(-0.05, 0.05, rng=net.default_rng))
        pipeline = DEFAULT_PIPELINE.replace("lower-to-kernels", f"lower-to-kernels{{lanes={lanes}}}")
        net.compile(pipeline=pipeline, backend=backend)
        net.simulate(20.0)
        results[backend] = pop.r.copy()
        if backend == "llvm" and lanes == 1:
            results["sequential"] = results[backend]
    np.testing.assert_array_equal(results["llvm"], results["reference"])
    if "sequential" not in results:
        net = ann.Network(dt=1.0, seed=5)
        neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0), equations="tau * dr/dt + r = B + sum(exc)",
                            name="Leaky")
        pop = net.create(37, neuron)
        net.connect(pop, pop, "exc").fixed_probability(0.5, weights=ann.Uniform(-0.05, 0.05, rng=net.default_rng))
        net.compile(pipeline=DEFAULT_PIPELINE.replace("lower-to-kernels", "lower-to-kernels{lanes=1}"))
        net.simulate(20.0)
        results["sequential"] = pop.r.copy()
    np.testing.assert_allclose(results["llvm"], results["sequential"], rtol=1e-13)


def test_compile_changes_no_user_object():
    """Passes transform copies: fuse-connectivity picks a storage on its own connectivity and
    discretise-odes fills the updates of its own model IR, not of the user's objects."""
    net = ann.Network(dt=1.0)
    pop = net.create(10, ann.Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc)"))
    proj = net.connect(pop, pop, "exc")
    proj.all_to_all(weights=0.1)
    net.compile()
    assert proj._require_connectivity().storage_format == "auto"
    assert pop._model_ir().updates is None and proj._model_ir().updates is None
    assert net.kernel_module is not None
