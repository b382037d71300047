"""Compile time against network size: 10, 100, 1000 populations of 100 LIF neurons.

    python benchmarks/compile_scaling.py [--max 100] [--sizes 10 100 1000] [--top 8]

Each population differs from the others only in a parameter value (1000 populations share 10
neuron models) and sends 3 ``fixed_probability`` projections.  Each size is a cold compile
(``ANNC_NO_CACHE=1``) in a fresh process; prints the compile time, the share of the front end
and passes and of the backend, and the time of each pass (summed over its runs).  Not run by
the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_CHILD = r"""
import json, sys, tempfile, time
import anncompiler as ann
n_pops, n_models = {n_pops}, {n_models}
net = ann.Network(dt=0.1, seed=1)
models = [ann.Neuron(parameters=dict(El=-60., Vr=-60., Vt=-50., tau=20. + k, tau_exc=5., I=20.),
                     equations=["tau * dv/dt = El - v + g_exc + I", "tau_exc * dg_exc/dt = -g_exc"],
                     spike="v > Vt", reset="v = Vr", refractory=2.0, name=f"LIF{{k}}")
          for k in range(n_models)]
pops = []
for i in range(n_pops):
    p = net.create(100, models[i % n_models])
    p.I = 15. + (i % 7)
    pops.append(p)
for i, p in enumerate(pops):
    for k in (1, 2, 3):
        net.connect(p, pops[(i + k) % n_pops], "exc").fixed_probability(0.05, weights=0.5)
t0 = time.perf_counter()
net.compile(directory=tempfile.mkdtemp(), silent=True)
total = time.perf_counter() - t0
r = net.compile_report
passes = {{}}
for name, s in r["passes"]:
    passes[name] = passes.get(name, 0.0) + s
print(json.dumps(dict(total=total, passes_s=r["frontend_and_passes"], backend_s=r["backend"], passes=passes)))
"""


def run(n_pops: int) -> dict:
    env = dict(os.environ, ANNC_NO_CACHE="1")
    code = _CHILD.format(n_pops=n_pops, n_models=min(n_pops, 10))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{n_pops} populations failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--max", type=int, default=1000, help="skip sizes above this many populations")
    ap.add_argument("--top", type=int, default=8, help="passes shown per size")
    args = ap.parse_args(argv)
    for n in (s for s in args.sizes if s <= args.max):
        r = run(n)
        print(f"{n:5d} populations: compile {r['total']:.2f} s (front end + passes {r['passes_s']:.2f} s, "
              f"backend {r['backend_s']:.2f} s)")
        for name, s in sorted(r["passes"].items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"      {name:20s} {s:8.3f} s")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
