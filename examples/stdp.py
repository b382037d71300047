"""Song, Miller & Abbott (2000): spike-timing-dependent plasticity on one neuron.

1000 Poisson inputs at 15 Hz drive an integrate-and-fire neuron through STDP synapses (traces
``x``/``y`` integrated lazily at each event: ``event-driven``); the weights, bounded to
[0, gmax], end in a bimodal distribution.  Run: ``python examples/stdp.py``.
"""
import time

import numpy as np

import anncompiler as ann

gmax = 0.01
IF = ann.Neuron(
    parameters=dict(tau_m=10.0, tau_e=5.0, vt=-54.0, vr=-60.0, El=-74.0, Ee=0.0),
    equations=["tau_m * dv/dt = El - v + g_exc * (Ee - v) : init=-60.0", "tau_e * dg_exc/dt = -g_exc"],
    spike="v > vt", reset="v = vr", name="IF")
STDP = ann.Synapse(
    parameters=dict(tau_plus=20.0, tau_minus=20.0, A_plus=0.01 * gmax, A_minus=0.0105 * gmax, w_max=gmax),
    equations="""
        tau_plus * dx/dt = -x : event-driven
        tau_minus * dy/dt = -y : event-driven
    """,
    pre_spike="""
        g_target += w
        x += A_plus
        w = clip(w + y, 0.0, w_max)
    """,
    post_spike="""
        y -= A_minus
        w = clip(w + x, 0.0, w_max)
    """, name="STDP")

net = ann.Network(dt=0.1, seed=42)
inputs = net.create(ann.PoissonPopulation(1000, rates=15.0))
neuron = net.create(1, IF)
proj = net.connect(inputs, neuron, "exc", STDP).all_to_all(weights=ann.Uniform(0.0, gmax, rng=net.default_rng))
m = net.monitor(neuron, "spike")
t0 = time.perf_counter()
net.compile()
t1 = time.perf_counter()
net.simulate(50000.0)
t2 = time.perf_counter()
w = np.array(proj.w).ravel() / gmax
print(f"compile {t1 - t0:.2f} s, 50 s simulated in {t2 - t1:.2f} s, output rate {m.mean_fr():.1f} Hz")
print("weights / gmax, histogram of 10 bins:", np.histogram(w, bins=10, range=(0.0, 1.0))[0].tolist())
