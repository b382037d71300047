"""A rate-coded recurrent network: N leaky integrators with sparse random weights.

The "rate sparse" benchmark model (``benchmarks/models.py``): ``tau*dr/dt + r = sum(exc) + B : min=0``,
N=4000, fixed_probability(0.1), w ~ U(-0.05, 0.05), dt=1 ms, 1000 steps; mean r about 1.03.
Pass a smaller N on the command line for a quick run: ``python examples/rate_network.py 1000``.
"""
import sys
import time

import numpy as np

import anncompiler as ann

N = int(sys.argv[1]) if len(sys.argv) > 1 else 4000

net = ann.Network(dt=1.0, seed=1)
Leaky = ann.Neuron(parameters=dict(tau=10.0, B=1.0),
                   equations=["tau * dr/dt + r = sum(exc) + B : min=0.0"], name="Leaky")
pop = net.create(N, Leaky)
proj = net.connect(pop, pop, 'exc')
proj.fixed_probability(0.1, weights=ann.Uniform(-0.05, 0.05, rng=net.default_rng))
m = net.monitor(pop[:10], 'r')

t0 = time.perf_counter()
net.compile()
t1 = time.perf_counter()
net.simulate(1000.)
t2 = time.perf_counter()

print(f"{N} neurons, {proj.nb_synapses} synapses")
print(f"compile:  {t1 - t0:.3f} s")
print(f"simulate: {t2 - t1:.3f} s for 1000 steps")
print(f"mean r:   {np.mean(pop.r):.4f}  (first 10 neurons recorded: {m.get('r').shape})")
