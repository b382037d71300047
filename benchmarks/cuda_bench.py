"""The cuda backend on a GPU against the llvm backend on the machine's CPU cores.

    python benchmarks/cuda_bench.py [--device 0] [--threads N] [--duration 1000] [--scale 1.0] [--json out.json] [name ...]

Models (the issue's list): COBA at 4,000 and 400,000 neurons (80 excitatory/inhibitory synapses
per neuron), rate-coded all-to-all at N=2,000 and N=20,000, rate-coded sparse N=40,000 p=0.01.
Each is built, compiled and simulated once per backend in this process (a short warm-up first);
printed: compile and simulation seconds, the speed-up of the GPU, the mean rate (Hz) or mean r as
a check that both computed the same thing, and for the rate networks the effective memory
bandwidth of the GPU (bytes of the synapse arrays read per step / time per step).
``--device host`` runs the cuda backend's fake device (the CUDA C on one CPU thread): only to
check the script, with ``--scale 0.01``.  Not run by the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import anncompiler as ann  # noqa: E402


def coba(net, n):
    lif = ann.Neuron(
        parameters=dict(El=-60., Vr=-60., Erev_exc=0., Erev_inh=-80., Vt=-50., tau=20., tau_exc=5.,
                        tau_inh=10., I=20.),
        equations=["tau * dv/dt = (El - v) + g_exc * (Erev_exc - v) + g_inh * (Erev_inh - v) + I",
                   "tau_exc * dg_exc/dt = - g_exc", "tau_inh * dg_inh/dt = - g_inh"],
        spike="v > Vt", reset="v = Vr", refractory=5.0, name="COBA")
    pop = net.create(n, lif)
    pop.v = ann.Normal(-55., 5., rng=net.default_rng)
    pop.g_exc = ann.Normal(4., 1.5, rng=net.default_rng)
    pop.g_inh = ann.Normal(20., 12., rng=net.default_rng)
    n_exc = n * 4 // 5
    net.connect(pop[:n_exc], pop, "exc").fixed_number_pre(64, weights=0.6)
    net.connect(pop[n_exc:], pop, "inh").fixed_number_pre(16, weights=6.7)
    monitor = net.monitor(pop, "spike")
    return lambda duration: sum(len(t) for t in monitor.get("spike").values()) / n / (duration / 1000.0), None


def rate(net, n, probability=None):
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0),
                        equations=["tau * dr/dt + r = sum(exc) + B : min=0.0"], name="Leaky")
    pop = net.create(n, neuron)
    proj = net.connect(pop, pop, "exc")
    if probability is None:
        proj.all_to_all(weights=ann.Uniform(-0.02, 0.02, rng=net.default_rng))
        synapse_bytes = n * n * 8  # the weights, once per step
    else:
        proj.fixed_probability(probability, weights=ann.Uniform(-0.05, 0.05, rng=net.default_rng))
        synapse_bytes = int(n * n * probability) * (8 + 4)  # weights and pre-synaptic ranks
    return lambda duration: float(np.mean(pop.r)), synapse_bytes


BENCHMARKS = {
    "coba_4k": (0.1, lambda net, s: coba(net, max(100, int(4000 * s)))),
    "coba_400k": (0.1, lambda net, s: coba(net, max(100, int(400_000 * s)))),
    "rate_dense_2k": (1.0, lambda net, s: rate(net, max(20, int(2000 * s)))),
    "rate_dense_20k": (1.0, lambda net, s: rate(net, max(20, int(20_000 * s)))),
    "rate_sparse_40k": (1.0, lambda net, s: rate(net, max(100, int(40_000 * s)), 0.01)),
}


def run(name, backend, options, duration, scale, threads):
    dt, build = BENCHMARKS[name]
    net = ann.Network(dt=dt, seed=42)
    net.config(num_threads=threads)
    measure, synapse_bytes = build(net, scale)
    t0 = time.perf_counter()
    net.compile(backend=backend, cuda_config=options, silent=True)
    compile_s = time.perf_counter() - t0
    net.simulate(10 * dt)  # warm-up: graphs captured, caches filled
    for m in net.get_monitors():
        m.get()
    t0 = time.perf_counter()
    net.simulate(duration)
    sim_s = time.perf_counter() - t0
    steps = int(round(duration / dt))
    out = {"model": name, "backend": backend, "compile_s": compile_s, "sim_s": sim_s, "value": measure(duration)}
    if synapse_bytes:
        out["GB_per_s"] = synapse_bytes * steps / sim_s / 1e9
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", default=list(BENCHMARKS))
    parser.add_argument("--device", default="0", help="GPU number, or 'host' (fake device, for checking the script)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of the llvm backend")
    parser.add_argument("--duration", type=float, default=1000.0, help="simulated ms")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the network sizes")
    parser.add_argument("--no-cpu", action="store_true", help="skip the llvm backend")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    device = args.device if args.device == "host" else int(args.device)
    results = []
    print(f"{'model':16} {'backend':8} {'compile s':>10} {'simulate s':>11} {'speed-up':>9} {'GB/s':>8}  value")
    for name in args.names:
        rows = [run(name, "cuda", {"device": device}, args.duration, args.scale, 1)]
        if not args.no_cpu:
            rows.append(run(name, "llvm", None, args.duration, args.scale, args.threads))
        cpu = rows[1]["sim_s"] if len(rows) > 1 else float("nan")
        for row in rows:
            row["speedup_vs_llvm"] = cpu / row["sim_s"]
            gbs = f"{row['GB_per_s']:8.1f}" if "GB_per_s" in row else " " * 8
            print(f"{name:16} {row['backend']:8} {row['compile_s']:10.3f} {row['sim_s']:11.4f} "
                  f"{row['speedup_vs_llvm']:9.2f} {gbs}  {row['value']:.4g}", flush=True)
        results += rows
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
