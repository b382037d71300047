"""Benchmarks: anncompiler against the figures of its peers (PEERS.md), one fresh process per run.

    python benchmarks/run.py [--runs 3] [--threads 1] [name ...]

Prints, per model, the median cold compile time and simulation time (with the spread), the
mean firing rate or mean r, and the ratio to ANNarchy 5.0.4 at one thread as measured on a
2-core machine like ours (PEERS.md).  Not run by the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

#: ANNarchy 5.0.4, 1 thread, on a 2-core machine like ours (PEERS.md): (sim s, cold compile s)
ANNARCHY = {"coba": (0.153, 10.5), "rate_sparse": (1.64, 9.5), "rate_dense": (6.60, 9.6),
            "izhikevich": (0.067, 11.2)}

_CHILD = r"""
import json, sys, time
sys.path.insert(0, {here!r})
t0 = time.perf_counter()
import anncompiler as ann
from models import BENCHMARKS
t_import = time.perf_counter() - t0
dt, build = BENCHMARKS[{name!r}]
net = ann.Network(dt=dt, seed=42)
net.config(num_threads={threads})
duration, measure = build(net)
t0 = time.perf_counter(); net.compile(); t_compile = time.perf_counter() - t0
t0 = time.perf_counter(); net.simulate(duration); t_sim = time.perf_counter() - t0
print(json.dumps(dict(import_s=t_import, compile_s=t_compile, sim_s=t_sim, value=measure())))
"""


def run_once(name: str, threads: int) -> dict:
    code = _CHILD.format(here=HERE, name=name, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def spread(values):
    return (max(values) - min(values)) / 2 if len(values) > 1 else 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(ANNARCHY))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    print(f"{'benchmark':<13} {'compile s':>10} {'sim s':>16} {'rate/mean r':>12} "
          f"{'sim / ANNarchy':>15} {'compile / ANNarchy':>19}")
    for name in args.names:
        runs = [run_once(name, args.threads) for _ in range(args.runs)]
        ok = [r for r in runs if "error" in r] == []
        if not ok:
            print(f"{name:<13} error: {next(r['error'] for r in runs if 'error' in r)}")
            continue
        comp = statistics.median(r["compile_s"] for r in runs)
        sims = [r["sim_s"] for r in runs]
        sim = statistics.median(sims)
        value = statistics.median(r["value"] for r in runs)
        peer_sim, peer_compile = ANNARCHY[name]
        print(f"{name:<13} {comp:>10.3f} {sim:>9.3f} ±{spread(sims):<5.3f} {value:>12.3f} "
              f"{sim / peer_sim:>15.2f} {comp / peer_compile:>19.3f}")


if __name__ == "__main__":
    main()
