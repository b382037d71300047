"""Izhikevich (2003) pulse-coupled network: 800 excitatory and 200 inhibitory neurons, dt = 1 ms.

"Simple model of spiking neurons", IEEE TNN 14(6). Random thalamic input (noise * Normal(0, 1)
drawn inside the equations), heterogeneous parameters, all-to-all random weights. Prints the
compile and simulation times and the mean firing rate (about 9 Hz), and draws a raster plot when
matplotlib is installed.
"""
import time


import anncompiler as ann

net = ann.Network(dt=1.0, seed=7)
Izhikevich = ann.Neuron(
    parameters="""
        noise = 5.0
        a = 0.02
        b = 0.2
        c = -65.0
        d = 8.0
        v_thresh = 30.0
    """,
    equations="""
        I = g_exc - g_inh + noise * Normal(0.0, 1.0)
        dv/dt = 0.04 * v^2 + 5.0 * v + 140.0 - u + I : init=-65.0
        du/dt = a * (b*v - u) : init=-13.0
    """,
    spike="v >= v_thresh",
    reset="v = c; u += d",
    name="Izhikevich")

pop = net.create(1000, Izhikevich)
exc, inh = pop[:800], pop[800:]
re, ri = net.default_rng.random(800), net.default_rng.random(200)
exc.noise, inh.noise = 5.0, 2.0
exc.a, exc.b = 0.02, 0.2
exc.c, exc.d = -65.0 + 15.0 * re ** 2, 8.0 - 6.0 * re ** 2
inh.a, inh.b = 0.02 + 0.08 * ri, 0.25 - 0.05 * ri
inh.c, inh.d = -65.0, 2.0
pop.u = pop.v * pop.b

net.connect(exc, pop, 'exc').all_to_all(weights=ann.Uniform(0.0, 0.5, rng=net.default_rng))
net.connect(inh, pop, 'inh').all_to_all(weights=ann.Uniform(0.0, 1.0, rng=net.default_rng))
m = net.monitor(pop, 'spike')

t0 = time.perf_counter()
net.compile()
t1 = time.perf_counter()
net.simulate(1000.0)
t2 = time.perf_counter()

spikes = m.get('spike')
t, n = m.raster_plot(spikes)
print(f"compile:   {t1 - t0:.3f} s")
print(f"simulate:  {t2 - t1:.3f} s for 1000 ms")
print(f"mean rate: {len(t) / 1000 / 1.0:.2f} Hz ({len(t)} spikes)")
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.figure(figsize=(8, 4))
    plt.plot(t, n, ".", markersize=1)
    plt.xlabel("time (ms)")
    plt.ylabel("neuron")
    plt.savefig("izhikevich_raster.png", dpi=100)
    print("raster plot written to izhikevich_raster.png")
except ImportError:
    pass
