"""COBA: Vogels & Abbott (2005) balanced network of 4000 conductance-based LIF neurons.

The model of ANNarchy's COBA example; prints compile time, simulation time and
the mean firing rates (ANNarchy gives about 20 Hz).
"""
import time

import anncompiler as ann

net = ann.Network(dt=0.1, seed=42)
LIF = ann.Neuron(
    parameters=dict(El=-60., Vr=-60., Erev_exc=0., Erev_inh=-80., Vt=-50., tau=20., tau_exc=5.,
                    tau_inh=10., I=20.),
    equations=["tau * dv/dt = (El - v) + g_exc * (Erev_exc - v) + g_inh * (Erev_inh - v) + I",
               "tau_exc * dg_exc/dt = - g_exc",
               "tau_inh * dg_inh/dt = - g_inh"],
    spike="v > Vt", reset="v = Vr", refractory=5.0, name="LIF")

P = net.create(4000, LIF)
P.v = ann.Normal(-55., 5., rng=net.default_rng)
P.g_exc = ann.Normal(4., 1.5, rng=net.default_rng)
P.g_inh = ann.Normal(20., 12., rng=net.default_rng)
Ce = net.connect(P[:3200], P, 'exc')
Ce.fixed_probability(0.02, weights=0.6)
Ci = net.connect(P[3200:], P, 'inh')
Ci.fixed_probability(0.02, weights=6.7)
m = net.monitor(P, 'spike')

t0 = time.perf_counter()
net.compile()
t1 = time.perf_counter()
net.simulate(1000.)
t2 = time.perf_counter()

spikes = m.get('spike')
exc = sum(len(spikes[r]) for r in range(3200)) / 3200
inh = sum(len(spikes[r]) for r in range(3200, 4000)) / 800
print(f"compile:    {t1 - t0:.3f} s")
print(f"simulate:   {t2 - t1:.3f} s for 1000 ms")
print(f"mean rate:  {(exc * 3200 + inh * 800) / 4000:.2f} Hz (excitatory {exc:.2f} Hz, inhibitory {inh:.2f} Hz)")
