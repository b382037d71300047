"""Thread scaling of the llvm backend: one network per thread count in one process, runs interleaved.

    python benchmarks/thread_scaling.py [--runs 5] [--threads 1 2] [--scale 0.1] [name ...]

Each model of ``models.py`` is compiled once per thread count; the simulations then alternate
between the thread counts (1, 2, 1, 2, ...), so that a neighbour's load falls on all of them
alike.  Prints per thread count the median simulation time with its range, the speed-up of the
median over the first thread count, in how many of the runs it was slower than the first count's
run next to it, and the waits per step of the team (parallel segments and serial chunks).
``--scale`` shortens the simulated durations (Song-Abbott: 100 s at 1.0).  Not run by the tests.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ALL = ["coba", "song_abbott", "rate_sparse", "rate_dense", "izhikevich"]


def waits_per_step(net) -> int:
    """Segments of a step (each ends where the team waits), or 0 on one thread."""
    km = net.kernel_module
    if km.num_threads <= 1:
        return 0
    segments, prev = 0, None
    for k in km.kernels:
        if prev is None or k.barrier or k.parallel != prev.parallel:
            segments += 1
        prev = k
    return segments


def main(argv=None):
    import anncompiler as ann
    from models import BENCHMARKS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=ALL)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args(argv)
    for name in args.names:
        dt, build = BENCHMARKS[name]
        nets, duration = {}, None
        for t in args.threads:
            net = ann.Network(dt=dt, seed=42)
            net.config(num_threads=t)
            duration, _ = build(ann, net)
            net.compile(directory=tempfile.mkdtemp(), silent=True)
            net.simulate(10 * dt)  # warm
            nets[t] = net
        duration = max(dt, duration * args.scale)
        times = {t: [] for t in args.threads}
        for _ in range(args.runs):
            for t in args.threads:
                t0 = time.perf_counter()
                nets[t].simulate(duration)
                times[t].append(time.perf_counter() - t0)
        first = args.threads[0]
        base = statistics.median(times[first])
        cells = []
        for t in args.threads:
            med = statistics.median(times[t])
            slower = sum(a < b for a, b in zip(times[first], times[t]))
            cells.append(f"{t} thr: {med:.3f} s [{min(times[t]):.3f}-{max(times[t]):.3f}] x{base / med:.2f} "
                         f"slower {slower}/{args.runs} waits/step {waits_per_step(nets[t])}")
        print(f"{name:<12} {duration:>8.0f} ms  " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
