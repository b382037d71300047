"""Benchmarks: anncompiler side by side with its peers (ANNarchy, Brian2), one fresh process per run.

    python benchmarks/run.py [--runs 3] [--threads 1 2] [--peers] [--peer-python PY]
                             [--peer-threads 1] [--duration MS] [--fast-math] [name ...]

Prints, per model, simulator and thread count, the median cold compile time and simulation time
(with the spread), the simulation time per second of biological time, the measured value (mean
firing rate, mean r or mean weight), and the ratios of the simulation time to ANNarchy's and
Brian2's at one thread measured in the same run (``--peers``), or else to figures measured
earlier on a 2-core machine like ours.  Ends with the same table in Markdown and, for models
with several populations, the rate of each population in each simulator.  ``--fast-math`` adds
rows for anncompiler compiled with ``compiler_flags="-ffast-math"`` (divisions by loop-invariant
values as products by their reciprocal, as Brian2's default ``-ffast-math`` does in C++).

The peers run with ``--peer-python`` (or ``$ANNC_PEER_PYTHON``; default: this interpreter), for
example a virtual environment made with ``python -m venv /tmp/peers && /tmp/peers/bin/pip
install annarchy brian2 "numpy<2.4"``.  Not run by the tests.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from brian2_models import BRIAN2_MODELS  # noqa: E402  (imports no Brian2)

#: ANNarchy 5.0.4, 1 thread, measured on a 2-core machine like ours (2026-11-30, benchmarks/README.md):
#: (sim s, cold compile s) of each model's own duration
ANNARCHY = {"coba": (0.121, 14.3), "coba_delay": (0.118, 13.2), "coba_delay_random": (0.513, 13.2),
            "cuba": (0.0902, 12.2), "rate_sparse": (1.79, 11.4), "rate_dense": (4.0, 11.7),
            "izhikevich": (0.0583, 13.0), "song_abbott": (4.11, 13.1), "reward_trace": (0.0226, 12.3),
            "reward_trace_dense": (0.171, 12.3), "izhikevich_10k": (1.59, 16.2),
            "microcircuit_dc": (4.39, 99.4), "microcircuit": (9.39, 102.0)}
#: Brian2 2.9 standalone, 1 thread, same machine and day: sim s
BRIAN2 = {"coba": 0.0774, "coba_delay": 0.0774, "coba_delay_random": 0.0944, "cuba": 0.0695,
          "song_abbott": 3.66, "microcircuit_dc": 0.338, "microcircuit": 2.17}
ALL = ["coba", "cuba", "rate_sparse", "rate_dense", "izhikevich", "song_abbott", "reward_trace",
       "reward_trace_dense", "izhikevich_10k", "coba_delay", "coba_delay_random", "microcircuit_dc",
       "microcircuit"]

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
duration = {duration!r} or duration
t0 = time.perf_counter(); net.compile(directory=tempfile.mkdtemp(), silent=True, compiler_flags={flags!r}); t_compile = time.perf_counter() - t0
t0 = time.perf_counter(); net.simulate(duration); t_sim = time.perf_counter() - t0
value = measure()
value = value if isinstance(value, dict) else dict(value=value)
print(json.dumps(dict(import_s=t_import, compile_s=t_compile, sim_s=t_sim, bio_ms=duration, **value)))
"""

_BRIAN2_CHILD = r"""
import json, sys
sys.path.insert(0, {here!r})
from brian2_models import run
print(json.dumps(run({name!r}, {threads}, {duration!r})))
"""

#: biological duration (ms) of the Brian2 runs, when ``--duration`` is not given
_BRIAN2_DEFAULT_MS = {"song_abbott": 100000.0}


def run_once(name: str, threads: int, module: str, python: str, duration: float | None,
             flags: str = "default") -> dict:
    if module == "brian2":
        code = _BRIAN2_CHILD.format(here=HERE, name=name, threads=threads, duration=duration)
    else:
        code = _CHILD.format(here=HERE, name=name, threads=threads, module=module, duration=duration, flags=flags)
    env = dict(os.environ)
    if module != "anncompiler":  # keep ~/.config clean; cmake needs the venv's bin first on PATH
        env["HOME"] = env.get("ANNC_BENCH_HOME", "/tmp/annc-bench-home")
        env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    env.setdefault("ANNC_NO_CACHE", "1")  # cold compiles: each run compiles from scratch
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "bio_ms" not in result:
        result["bio_ms"] = duration or _BRIAN2_DEFAULT_MS.get(name, 1000.0)
    return result


def spread(values):
    return (max(values) - min(values)) / 2 if len(values) > 1 else 0.0


def measure(name, threads, runs, module, python, duration, flags="default"):
    results = [run_once(name, threads, module, python, duration, flags) for _ in range(runs)]
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        return {"error": errors[0]}
    sims = [r["sim_s"] for r in results]
    sim = statistics.median(sims)
    out = {"compile": statistics.median(r["compile_s"] for r in results), "sim": sim,
           "spread": spread(sims), "value": statistics.median(r["value"] for r in results),
           "per_bio_s": sim / (results[0]["bio_ms"] / 1000.0)}
    if "detail" in results[0]:
        out["detail"] = {k: statistics.median(r["detail"][k] for r in results) for k in results[0]["detail"]}
    return out


def have(module: str, python: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", code], capture_output=True, check=False).returncode == 0


class Table:
    """Rows of results, printed as they come and again in Markdown at the end."""

    COLUMNS = ["benchmark", "simulator", "threads", "compile s", "simulate s (± spread)", "s per bio s",
               "rate (Hz) / mean r / mean w", "sim / ANNarchy", "sim / Brian2", "compile / ANNarchy"]

    def __init__(self):
        self.rows, self.details = [], []
        print(f"{'benchmark':<19} {'simulator':<11} {'thr':>3} {'compile s':>9} {'sim s (± spread)':>18} "
              f"{'s/bio-s':>9} {'value':>9} {'/ANNarchy':>9} {'/Brian2':>8} {'comp/ANN':>9}", flush=True)

    def add(self, name, simulator, threads, r, annarchy, brian2):
        if "error" in r:
            print(f"{name:<19} {simulator:<12} {threads:>3} error: {r['error']}", flush=True)
            self.rows.append([name, simulator, str(threads), "error: " + r["error"]] + [""] * 6)
            return
        ratio = lambda ref, key: r[key] / ref[key] if ref and ref.get(key) else math.nan  # noqa: E731
        sim_a, sim_b, comp_a = ratio(annarchy, "sim"), ratio(brian2, "sim"), ratio(annarchy, "compile")
        print(f"{name:<19} {simulator:<12} {threads:>3} {r['compile']:>9.3f} {r['sim']:>9.3f} ± {r['spread']:<6.3f} "
              f"{r['per_bio_s']:>9.3f} {r['value']:>9.3f} {sim_a:>9.2f} {sim_b:>8.2f} {comp_a:>9.3f}", flush=True)
        self.rows.append([name, simulator, str(threads), f"{r['compile']:.3g}",
                          f"{r['sim']:.3g} ± {r['spread']:.2g}", f"{r['per_bio_s']:.3g}", f"{r['value']:.4g}",
                          _fmt(sim_a), _fmt(sim_b), _fmt(comp_a, 3)])
        if "detail" in r:
            self.details.append((name, simulator, threads, r["detail"]))

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.COLUMNS) + " |", "|" + "---|" * len(self.COLUMNS)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.details:
            keys = list(self.details[0][3])
            lines += ["", "| benchmark | simulator | threads | " + " | ".join(keys) + " |",
                      "|" + "---|" * (3 + len(keys))]
            lines += [f"| {n} | {s} | {t} | " + " | ".join(f"{d.get(k, math.nan):.2f}" for k in keys) + " |"
                      for n, s, t, d in self.details]
        return "\n".join(lines)


def _fmt(x, digits=2):
    return "" if math.isnan(x) else f"{x:.{digits}f}"


def _names_first(argv: list[str]) -> list[str]:
    """``--threads 1 2 coba``: the names after a list of thread counts moved to the front (argparse
    would read them as more thread counts)."""
    out, names, state = [], [], ""
    for token in argv:
        if token.startswith("-"):
            state = "counts" if token in ("--threads", "--peer-threads") else ""
        elif state == "names" or (state == "counts" and not token.isdigit()):
            state = "names"  # until the next option
            names.append(token)
            continue
        out.append(token)
    return names + out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=ALL)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--peers", action="store_true", help="also run ANNarchy and Brian2 where installed")
    ap.add_argument("--peer-python", default=os.environ.get("ANNC_PEER_PYTHON", sys.executable),
                    help="interpreter with ANNarchy and Brian2 installed (default: $ANNC_PEER_PYTHON or this one)")
    ap.add_argument("--peer-threads", type=int, nargs="+", default=[1], help="thread counts of ANNarchy")
    ap.add_argument("--duration", type=float, default=None,
                    help="biological time to simulate (ms) instead of each model's own")
    ap.add_argument("--fast-math", action="store_true",
                    help="also run anncompiler with compiler_flags='-ffast-math' (reciprocal divisions)")
    args = ap.parse_args(_names_first(sys.argv[1:] if argv is None else list(argv)))
    unknown = [n for n in args.names if n not in ALL]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; known: {ALL}")
    peer_py = os.path.abspath(args.peer_python) if os.sep in args.peer_python else args.peer_python
    annarchy = args.peers and have("ANNarchy", peer_py)
    brian = args.peers and have("brian2", peer_py)
    if args.peers and not (annarchy and brian):
        print(f"(--peers: ANNarchy {'found' if annarchy else 'missing'}, Brian2 {'found' if brian else 'missing'}"
              f" with {peer_py})")
    table = Table()
    for name in args.names:
        ref_a = ref_b = None
        if annarchy:
            for threads in args.peer_threads:
                r = measure(name, threads, args.runs, "ANNarchy", peer_py, args.duration)
                if threads == 1 and "error" not in r:
                    ref_a = r
                table.add(name, "ANNarchy", threads, r, ref_a, None)
        if brian and name in BRIAN2_MODELS:
            r = measure(name, 1, args.runs, "brian2", peer_py, args.duration)
            ref_b = r if "error" not in r else None
            table.add(name, "Brian2", 1, r, ref_a, ref_b)
        if ref_a is None and name in ANNARCHY and args.duration is None:
            ref_a = dict(zip(("sim", "compile"), ANNARCHY[name]))
        if ref_b is None and name in BRIAN2 and args.duration is None:
            ref_b = {"sim": BRIAN2[name]}
        for label, flags in [("anncompiler", "default")] + [("ann fastmath", "-ffast-math")] * args.fast_math:
            for threads in args.threads:
                r = measure(name, threads, args.runs, "anncompiler", sys.executable, args.duration, flags)
                table.add(name, label, threads, r, ref_a, ref_b)
    if not args.peers:
        print("(ratios against figures measured earlier on a 2-core machine like ours: ANNarchy 5.0.4 and "
              "Brian2 standalone at 1 thread)")
    print()
    print(table.markdown())


if __name__ == "__main__":
    main()
