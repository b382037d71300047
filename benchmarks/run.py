"""Benchmarks: anncompiler against the figures of its peers (ANNarchy, Brian2), one fresh process per run.

    python benchmarks/run.py [--runs 3] [--threads 1 2] [--peers] [name ...]

Prints, per model and thread count, the median cold compile time and simulation time (with the
spread), the mean firing rate or mean r, and the ratios to ANNarchy 5.0.4 at one thread: measured
here with ``--peers`` when ANNarchy is installed in this environment, else the figures of a
2-core machine like ours.  Not run by the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

#: ANNarchy 5.0.4, 1 thread, measured on a 2-core machine like ours: (sim s, cold compile s)
ANNARCHY = {"coba": (0.153, 10.5), "rate_sparse": (1.64, 9.5), "rate_dense": (6.60, 9.6),
            "izhikevich": (0.067, 11.2)}
#: Brian2 standalone, 1 thread, same machine: sim s (models ANNarchy has no figure for)
BRIAN2 = {"cuba": 0.073, "coba": 0.105}
ALL = ["coba", "coba_delay", "coba_delays", "cuba", "rate_sparse", "rate_dense", "izhikevich", "song_abbott"]

_CHILD = r"""
import json, sys, tempfile, time
sys.path.insert(0, {here!r})
t0 = time.perf_counter()
import {module} as ann
from models import BENCHMARKS
t_import = time.perf_counter() - t0
dt, build = BENCHMARKS[{name!r}]
net = ann.Network(dt=dt, seed=42)
net.config(num_threads={threads})
duration, measure = build(ann, net)
t0 = time.perf_counter(); net.compile(directory=tempfile.mkdtemp(), silent=True); t_compile = time.perf_counter() - t0
t0 = time.perf_counter(); net.simulate(duration); t_sim = time.perf_counter() - t0
print(json.dumps(dict(import_s=t_import, compile_s=t_compile, sim_s=t_sim, value=measure())))
"""


_BRIAN2_CHILD = r"""
import json, sys
sys.path.insert(0, {here!r})
from brian2_models import run
print(json.dumps(run({name!r}, {threads})))
"""


def run_once(name: str, threads: int, module: str = "anncompiler") -> dict:
    if module == "brian2":
        code = _BRIAN2_CHILD.format(here=HERE, name=name, threads=threads)
    else:
        code = _CHILD.format(here=HERE, name=name, threads=threads, module=module)
    env = dict(os.environ)
    if module == "ANNarchy":  # keep ~/.config clean; cmake needs the venv's bin first on PATH
        env["HOME"] = env.get("ANNC_BENCH_HOME", "/tmp/annc-bench-home")
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        env["ANNC_NO_CACHE"] = "1"
    env.setdefault("ANNC_NO_CACHE", "1")  # cold compiles: each run compiles from scratch
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def spread(values):
    return (max(values) - min(values)) / 2 if len(values) > 1 else 0.0


def measure(name, threads, runs, module="anncompiler"):
    results = [run_once(name, threads, module) for _ in range(runs)]
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        return {"error": errors[0]}
    sims = [r["sim_s"] for r in results]
    return {"compile": statistics.median(r["compile_s"] for r in results), "sim": statistics.median(sims),
            "spread": spread(sims), "value": statistics.median(r["value"] for r in results)}


def have(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=ALL)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--peers", action="store_true", help="also run ANNarchy when it is installed here")
    args = ap.parse_args(argv)
    peers = args.peers and have("ANNarchy")
    brian = args.peers and have("brian2")
    print(f"{'benchmark':<12} {'simulator':<12} {'thr':>3} {'compile s':>10} {'sim s (± spread)':>18} "
          f"{'rate / mean r':>13} {'sim / ANNarchy-1':>17} {'compile / ANNarchy':>19}")
    for name in args.names:
        reference = None
        if peers:
            reference = measure(name, 1, args.runs, "ANNarchy")
            if "error" in reference:
                print(f"{name:<12} {'ANNarchy':<12} error: {reference['error']}")
                reference = None
            else:
                _row(name, "ANNarchy", 1, reference, reference)
        if brian and name in ("coba", "cuba", "song_abbott"):
            b = measure(name, 1, args.runs, "brian2")
            if "error" in b:
                print(f"{name:<12} {'Brian2':<12} error: {b['error']}")
            else:
                _row(name, "Brian2", 1, b, reference or {"sim": b["sim"], "compile": b["compile"]})
                if reference is None:
                    reference = b
        if reference is None and name in ANNARCHY:
            sim, comp = ANNARCHY[name]
            reference = {"sim": sim, "compile": comp}
        if reference is None:  # no ANNarchy figure: compare with Brian2's
            reference = {"sim": BRIAN2.get(name, float("nan")), "compile": float("nan")}
        for threads in args.threads:
            r = measure(name, threads, args.runs)
            if "error" in r:
                print(f"{name:<12} {'anncompiler':<12} {threads:>3} error: {r['error']}")
                continue
            _row(name, "anncompiler", threads, r, reference)
    if not peers:
        print("(ratios against ANNarchy 5.0.4, 1 thread, measured on a 2-core machine like ours; "
              "cuba against Brian2 standalone, 1 thread)")


def _row(name, simulator, threads, r, reference):
    print(f"{name:<12} {simulator:<12} {threads:>3} {r['compile']:>10.3f} {r['sim']:>10.3f} ± {r['spread']:<5.3f} "
          f"{r['value']:>13.3f} {r['sim'] / reference['sim']:>17.2f} {r['compile'] / reference['compile']:>19.3f}")


if __name__ == "__main__":
    main()
