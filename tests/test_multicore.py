"""Multicore llvm backend (OpenMP through libgomp): results do not depend on the thread count.

Every model is simulated with 1, 2 and 3 threads and the final state and recordings must be
bit-identical (partitions by post-synaptic neuron, no atomics, counter-based random numbers,
serial reductions: passes/platform/cpu_partition.py).
"""
import inspect
import os
import sys

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.backends import get_backend
from anncompiler.passes import DEFAULT_PIPELINE
from anncompiler.errors import IRVerificationError
from anncompiler.ir import kernel as K
from anncompiler.ir.types import F64, I64

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from models import coba, izhikevich  # noqa: E402

from anncompiler.backends.llvm import openmp  # noqa: E402

THREADS = (1, 2, 3)


def final_state(net) -> dict:
    """Every state array of the kernel module that something uses (the valid part of the spike
    lists), not the connectivity nor the partition scratch arrays."""
    from anncompiler.passes.drop_unused import used_arrays
    used, out = used_arrays(net.kernel_module), {}
    for name, decl in net.kernel_module.arrays.items():
        if decl.kind == "connectivity" or name.endswith((".partition_counts", ".partition_segments")) \
                or name not in used:
            continue
        a = net._arrays[name]
        if name.endswith("._spiked"):
            a = a[:int(net._arrays[name[:-len("_spiked")] + "_n_spiked"][0])]
        out[name] = a.copy()
    return out


def assert_same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def simulate(build, threads, duration, dt=1.0, backend="llvm", seed=42, pipeline=None):
    net = ann.Network(dt=dt, seed=seed)
    net.config(num_threads=threads)
    monitors = build(net)
    net.compile(backend=backend, pipeline=pipeline)
    net.simulate(duration)
    recorded = {}
    for k, m in enumerate(monitors):
        for var, value in m.get(force_dict=True).items():
            recorded[f"{k}.{var}"] = (np.asarray(value) if var != "spike"
                                      else {r: list(map(int, v)) for r, v in value.items()})
    return net, final_state(net), recorded


def check_identical(build, duration, dt=1.0, threads=THREADS):
    ref_net, ref, ref_rec = simulate(build, 1, duration, dt)
    assert not any(k.parallel for k in ref_net.kernel_module.kernels)
    for t in threads[1:]:
        net, state, rec = simulate(build, t, duration, dt)
        assert net.kernel_module.num_threads == t
        assert any(k.parallel for k in net.kernel_module.kernels)
        assert_same(ref, state)
        assert rec.keys() == ref_rec.keys()
        for k in rec:
            if isinstance(rec[k], dict):
                assert rec[k] == ref_rec[k], k
            else:
                np.testing.assert_array_equal(rec[k], ref_rec[k], err_msg=k)
    return ref, ref_rec


def _benchmark(model, net):
    """benchmarks/models.py builders take (net) or (module, net)."""
    model(*((ann, net) if len(inspect.signature(model).parameters) == 2 else (net,)))
    return list(net.get_monitors())


def build_coba(net):
    return _benchmark(coba, net)


def test_coba_bit_identical():
    ref, rec = check_identical(build_coba, 200.0, dt=0.1)
    assert sum(len(v) for v in rec["0.spike"].values()) > 1000  # the network is active


def build_noisy_rate(net, n=300):
    neuron = ann.Neuron(parameters="tau = 10.0 : population\n B = 0.2",
                        equations=["20.0 * ddrive/dt = 1.0 - drive + Uniform(-0.1, 0.1) : population",
                                   "tau * dr/dt + r = sum(exc) - sum(inh) + B * drive + Normal(0.0, 0.3)"
                                   " - 0.1 * mean(r) : min=0.0"],
                        name="NoisyLeaky")
    pop = net.create(n, neuron)
    pop.B = net.default_rng.uniform(0.0, 0.5, n)
    other = net.create(n // 3 + 1, neuron)
    net.connect(pop, pop, "exc").fixed_probability(0.1, weights=ann.Uniform(0.0, 0.05, rng=net.default_rng))
    net.connect(other, pop, "inh").all_to_all(weights=ann.Uniform(0.0, 0.02, rng=net.default_rng))
    net.connect(pop, other, "exc").fixed_number_pre(20, weights=0.01)
    return [net.monitor(pop, "r"), net.monitor(other[:5], "r", period=2.0)]


def test_rate_network_with_noise_bit_identical():
    ref, rec = check_identical(build_noisy_rate, 100.0)
    assert np.std(rec["0.r"][-1]) > 0


def build_izhikevich(net):
    return _benchmark(izhikevich, net)


def test_izhikevich_bit_identical():
    ref, rec = check_identical(build_izhikevich, 200.0)
    assert sum(len(v) for v in rec["0.spike"].values()) > 100


def _small_spiking(n):
    def build(net):
        neuron = ann.Neuron(parameters="tau = 10.0\n I = 1.2", equations="tau * dv/dt = -v + I + g_exc + Normal(0, 0.5)",
                            spike="v > 1.0", reset="v = 0.0", refractory=2.0, name="SmallLIF")
        pop = net.create(n, neuron)
        pop.I = np.linspace(1.0, 1.5, n)
        net.connect(pop, pop, "exc").all_to_all(weights=0.05, allow_self_connections=True)
        return [net.monitor(pop, ["spike", "v"])]
    return build


def build_views(net):
    """Projections from and into population views, rate-coded and spiking."""
    lif = ann.Neuron(parameters="tau = 10.0\n I = 1.2", equations="tau * dv/dt = -v + I + g_exc - g_inh",
                     spike="v > 1.0", reset="v = 0.0", name="ViewLIF")
    pop = net.create(50, lif)
    pop.I = np.linspace(1.0, 1.6, 50)
    net.connect(pop[:30], pop[10:45], "exc").fixed_probability(0.3, weights=0.1)
    net.connect(pop[30:], pop[5:20], "inh").all_to_all(weights=0.05)
    leaky = ann.Neuron(equations="10.0 * dr/dt + r = sum(exc) + 0.5", name="ViewLeaky")
    rate = net.create(17, leaky)
    net.connect(rate[3:], rate[:11], "exc").fixed_probability(0.5, weights=ann.Uniform(-0.1, 0.1, rng=net.default_rng))
    return [net.monitor(pop, "spike"), net.monitor(rate, "r")]


def test_projections_between_views_bit_identical():
    check_identical(build_views, 100.0)


@pytest.mark.parametrize("n,threads", [(7, 3), (2, 3), (1, 2)])
def test_sizes_not_divisible_and_more_threads_than_neurons(n, threads):
    ref_net, ref, ref_rec = simulate(_small_spiking(n), 1, 200.0)
    net, state, rec = simulate(_small_spiking(n), threads, 200.0)
    assert_same(ref, state)
    assert rec["0.spike"] == ref_rec["0.spike"] and sum(map(len, rec["0.spike"].values())) > 0
    np.testing.assert_array_equal(rec["0.v"], ref_rec["0.v"])


def test_compile_cache_with_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ANNC_NO_CACHE", raising=False)
    first = simulate(_small_spiking(7), 2, 50.0)
    second = simulate(_small_spiking(7), 2, 50.0)
    assert not first[0].compile_report["cache_hit"] and second[0].compile_report["cache_hit"]
    assert second[0].compile_report["threads"] == 2
    assert_same(first[1], second[1])


def test_reference_backend_runs_the_neutral_and_the_partitioned_module():
    _, ref, _ = simulate(_small_spiking(7), 1, 50.0)
    net, state, _ = simulate(_small_spiking(7), 3, 50.0, backend="reference")
    assert net.kernel_module.platform == "" and net.kernel_module.num_threads == 1
    assert_same(ref, state)
    partitioned = DEFAULT_PIPELINE + ",cpu-partition{threads=3},cpu-flag-scan"
    net, state, _ = simulate(_small_spiking(7), 3, 50.0, backend="reference", pipeline=partitioned)
    assert net.kernel_module.platform == "cpu" and net.kernel_module.num_threads == 3
    assert any(k.parallel for k in net.kernel_module.kernels)
    assert_same(ref, state)


def _optimised_ir(threads):
    net = ann.Network(dt=1.0, seed=1)
    net.config(num_threads=threads)
    build_noisy_rate(net, 20)
    net.compile()
    artefact = get_backend("llvm")(num_threads=threads, cache=False).emit(net.kernel_module)
    return net, artefact


def test_parallel_region_only_with_threads():
    net, artefact = _optimised_ir(2)
    assert "GOMP_parallel" in artefact.dumps["llvm-opt.ll"] and artefact.info["threads"] == 2
    assert net.compile_report["threads"] == 2
    net, artefact = _optimised_ir(1)
    assert "GOMP_parallel" not in artefact.dumps["llvm-opt.ll"] and artefact.info["threads"] == 1
    assert "threads=" not in K.format_module(net.kernel_module)


def test_missing_libgomp_falls_back_to_one_thread(monkeypatch):
    """No libgomp: one thread, one RuntimeWarning, the same results."""
    def no_library(name):
        raise RuntimeError(f"could not load {name}")
    monkeypatch.setitem(openmp._state, "loaded", None)
    monkeypatch.setitem(openmp._state, "warned", False)
    monkeypatch.setattr(openmp.llvm, "address_of_symbol", lambda name: 0)
    monkeypatch.setattr(openmp.llvm, "load_library_permanently", no_library)
    build = _small_spiking(7)
    with pytest.warns(RuntimeWarning, match="one thread"):
        net, state, _ = simulate(build, 2, 50.0)
    assert net.compile_report["threads"] == 1
    with _no_warning():
        simulate(build, 3, 10.0)  # said once
    monkeypatch.undo()
    _, ref, _ = simulate(build, 1, 50.0)
    assert_same(ref, state)


class _no_warning:
    def __enter__(self):
        import warnings
        self.catch = warnings.catch_warnings(record=True)
        self.log = self.catch.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc):
        self.catch.__exit__(*exc)
        assert not [w for w in self.log if issubclass(w.category, RuntimeWarning)]


def test_verifier_checks_parallel_structure():
    def module(kernel, platform="cpu"):
        km = K.KernelModule(arrays={}, kernels=[kernel], platform=platform)
        km.declare(K.STEP_COUNTER, I64, 1, "internal")
        km.declare("x", F64, 4)
        return km
    i = K.Var("i", I64)
    loop = K.Loop(i, K.Const(0, I64), K.Const(4, I64), [K.Store("x", i, K.Const(1.0))], parallel=True)
    K.verify_module(module(K.Kernel("ok", "neurons", [loop], parallel=True)))
    K.verify_module(module(K.Kernel("neutral", "neurons", [loop]), platform=""))
    with pytest.raises(IRVerificationError, match="no thread teams"):
        K.verify_module(module(K.Kernel("team", "neurons", [loop], parallel=True), platform=""))
    with pytest.raises(IRVerificationError, match="serial kernel"):
        K.verify_module(module(K.Kernel("serial", "neurons", [loop])))
    with pytest.raises(IRVerificationError, match="outside its parallel loops"):
        K.verify_module(module(K.Kernel("racy", "neurons", [loop, K.Store("x", K.Const(0, I64), K.Const(2.0))],
                                        parallel=True)))
    outer = K.Loop(K.Var("j", I64), K.Const(0, I64), K.Const(2, I64), [loop])
    with pytest.raises(IRVerificationError, match="top-level"):
        K.verify_module(module(K.Kernel("nested", "neurons", [outer], parallel=True)))


@pytest.mark.skipif(not openmp.openmp_available(), reason="libgomp not found")
def test_process_exits_cleanly_with_spinning_openmp_threads():
    """Under ``OMP_WAIT_POLICY=active`` libgomp's threads spin in its code after every parallel
    region; the interpreter's exit (llvmlite closing the libraries it loaded) must not unmap it
    under them (it did: a segmentation fault after the script's last line)."""
    import subprocess
    script = ("import anncompiler as ann\n"
              "net = ann.Network(dt=0.1, seed=1)\n"
              "net.config(num_threads=2, thread_policy='always')\n"
              "n = ann.Neuron(equations='dv/dt = (1.5 - v) / 10.0', spike='v > 1.0', reset='v = 0.0')\n"
              "pop = net.create(400, n)\n"
              "net.connect(pop, pop, 'exc').fixed_probability(0.05, weights=0.01)\n"
              "net.compile()\n"
              "net.simulate(20.0)\n"
              "print('done')\n")
    env = dict(os.environ, OMP_WAIT_POLICY="active")
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "done", (run.returncode, run.stderr[-2000:])
