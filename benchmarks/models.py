"""The benchmark models (COBA with and without delays, CUBA, sparse and dense rate networks,
Izhikevich at 1,000 and 10,000 neurons, Song-Abbott STDP, a reward-modulated rate network, the
Potjans-Diesmann microcircuit), with the same parameters as in ANNarchy and Brian2.

Each builder takes the simulator module (``anncompiler`` or ``ANNarchy``: the same API) and a
network, builds the model and returns (duration in ms, a function giving the measured value).
"""
from __future__ import annotations

import numpy as np

import microcircuit


def coba(ann, net):
    """ANNarchy's COBA benchmark, without delays (about 20 Hz)."""
    return coba_delayed(ann, net, None)


def coba_delayed(ann, net, delays):
    """ANNarchy's COBA benchmark (Vogels & Abbott 2005, conductance-based), 4000 neurons, p=0.02,
    dt=0.1 ms; about 20 Hz without delays.  ``delays``: None (the inherent step), "uniform" (1.5 ms
    on every synapse) or "random" (U(0.1, 3) ms per synapse); the same on both projections."""
    LIF = ann.Neuron(
        parameters=dict(El=-60., Vr=-60., Erev_exc=0., Erev_inh=-80., Vt=-50., tau=20., tau_exc=5.,
                        tau_inh=10., I=20.),
        equations=["tau * dv/dt = (El - v) + g_exc * (Erev_exc - v) + g_inh * (Erev_inh - v) + I",
                   "tau_exc * dg_exc/dt = - g_exc", "tau_inh * dg_inh/dt = - g_inh"],
        spike="v > Vt", reset="v = Vr", refractory=5.0, name="COBA")
    P = net.create(4000, LIF)
    P.v = ann.Normal(-55., 5., rng=net.default_rng)
    P.g_exc = ann.Normal(4., 1.5, rng=net.default_rng)
    P.g_inh = ann.Normal(20., 12., rng=net.default_rng)
    for sources, target, w in ((P[:3200], 'exc', 0.6), (P[3200:], 'inh', 6.7)):
        if delays is None:
            d = {}
        elif delays == "random":
            d = dict(delays=ann.Uniform(0.1, 3.0, rng=net.default_rng))
        else:
            d = dict(delays={"uniform": 1.5}.get(delays, delays))
        net.connect(sources, P, target).fixed_probability(0.02, weights=w, **d)
    m = net.monitor(P, 'spike')
    return 1000.0, lambda: _mean_rate(m, net)


def cuba(ann, net):
    """Brian2's examples/CUBA.py (Vogels & Abbott 2005, current-based): El=-49 mV, we=1.62 mV,
    wi=-9 mV, 4000 neurons, p=0.02, refractory 5 ms, dt=0.1 ms; about 5.6 Hz."""
    LIF = ann.Neuron(
        parameters=dict(Vr=-60., Vt=-50., El=-49., taum=20., taue=5., taui=10.),
        equations=["taum * dv/dt = (g_exc + g_inh - (v - El))",
                   "taue * dg_exc/dt = -g_exc", "taui * dg_inh/dt = -g_inh"],
        spike="v > Vt", reset="v = Vr", refractory=5.0, name="CUBA")
    P = net.create(4000, LIF)
    P.v = ann.Uniform(-60., -50., rng=net.default_rng)
    net.connect(P[:3200], P, 'exc').fixed_probability(0.02, weights=1.62)
    net.connect(P[3200:], P, 'inh').fixed_probability(0.02, weights=-9.0)
    m = net.monitor(P, 'spike')
    return 1000.0, lambda: _mean_rate(m, net)


def rate(ann, net, n: int, dense: bool):
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0),
                        equations=["tau * dr/dt + r = sum(exc) + B : min=0.0"], name="Leaky")
    pop = net.create(n, neuron)
    proj = net.connect(pop, pop, 'exc')
    if dense:
        proj.all_to_all(weights=ann.Uniform(-0.02, 0.02, rng=net.default_rng))
    else:
        proj.fixed_probability(0.1, weights=ann.Uniform(-0.05, 0.05, rng=net.default_rng))
    return 1000.0, lambda: float(np.mean(pop.r))


def izhikevich(ann, net):
    """Izhikevich (2003), 1,000 neurons all-to-all."""
    return izhikevich_network(ann, net, 1000)


def izhikevich_network(ann, net, n: int):
    """Izhikevich (2003): 80 % excitatory, 20 % inhibitory neurons, dt=1 ms.  At 1,000 neurons
    all-to-all (the original); larger networks keep the in-degree of 1,000 (the same input
    statistics) with ``fixed_probability(1000 / n)``."""
    neuron = ann.Neuron(
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
        spike="v >= v_thresh", reset="v = c; u += d", name="Izhikevich")
    pop = net.create(n, neuron)
    n_exc = n * 4 // 5
    exc, inh = pop[:n_exc], pop[n_exc:]
    re, ri = net.default_rng.random(n_exc), net.default_rng.random(n - n_exc)
    exc.noise = 5.0
    inh.noise = 2.0
    exc.a, exc.b = 0.02, 0.2
    exc.c, exc.d = -65.0 + 15.0 * re ** 2, 8.0 - 6.0 * re ** 2
    inh.a, inh.b = 0.02 + 0.08 * ri, 0.25 - 0.05 * ri
    inh.c, inh.d = -65.0, 2.0
    pop.v = -65.0
    pop.u = pop.v * pop.b
    for sources, target, w_max in ((exc, 'exc', 0.5), (inh, 'inh', 1.0)):
        proj = net.connect(sources, pop, target)
        weights = ann.Uniform(0.0, w_max, rng=net.default_rng)
        if n <= 1000:
            proj.all_to_all(weights=weights)
        else:
            proj.fixed_probability(1000.0 / n, weights=weights)
    m = net.monitor(pop, 'spike')
    return 1000.0, lambda: _mean_rate(m, net)


def song_abbott(ann, net, duration=100000.0):
    """Song, Miller & Abbott (2000), as in Brian2's examples/synapses/STDP.py: 1000 Poisson inputs
    at 15 Hz onto one conductance-based integrate-and-fire neuron through STDP synapses
    (event-driven traces, weights bounded to [0, gmax]); dt=0.1 ms.  Measured: the mean weight
    at the end, relative to gmax (STDP drives the weights to a bimodal distribution)."""
    gmax = 0.01
    neuron = ann.Neuron(
        parameters=dict(tau_m=10.0, tau_e=5.0, vt=-54.0, vr=-60.0, El=-74.0, Ee=0.0),
        equations=["tau_m * dv/dt = El - v + g_exc * (Ee - v) : init=-60.0",
                   "tau_e * dg_exc/dt = -g_exc"],
        spike="v > vt", reset="v = vr", name="IF")
    stdp = ann.Synapse(
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
    inputs = net.create(ann.PoissonPopulation(1000, rates=15.0))
    post = net.create(1, neuron)
    proj = net.connect(inputs, post, 'exc', stdp)
    proj.all_to_all(weights=ann.Uniform(0.0, gmax, rng=net.default_rng))
    return duration, lambda: float(np.mean(proj.w)) / gmax


def reward_trace(ann, net, n: int = 200, steps: int = 1000, p: float = 0.1):
    """A reward-modulated recurrent rate network after ANNarchy's Miconi (2017) example: every
    synapse updates an eligibility trace each step from ``(pre.rprev * post.delta_x)^3``; the
    weights change only at the end of a trial (``learning_phase``).  ``n`` neurons, all-to-all
    (``p`` >= 1) or ``fixed_probability(p)`` plastic synapses (p=0.1: about 4,000), dt=1 ms.
    Measured: mean |trace| at the end."""
    neuron = ann.Neuron(
        parameters="""
            tau = 30.0 : population
            constant = 0.0
            alpha = 0.05 : population
            f = 3.0 : population
            A = 16.0 : population
        """,
        equations="""
            perturbation = if Uniform(0.0, 1.0) < f/1000.0: 1.0 else: 0.0
            noise = if perturbation > 0.5: A * Uniform(-1.0, 1.0) else: 0.0
            x += dt * (sum(in) + sum(exc) - x + noise) / tau
            rprev = r
            r = if constant == 0.0: tanh(x) else: tanh(constant)
            delta_x = x - x_mean
            x_mean = alpha * x_mean + (1 - alpha) * x
        """, name="Miconi")
    synapse = ann.Synapse(
        parameters="""
            eta = 0.5 : projection
            learning_phase = 0.0 : projection
            error = 0.0 : projection
            mean_error = 0.0 : projection
            max_weight_change = 0.0005 : projection
        """,
        equations="""
            trace += if learning_phase < 0.5: power(pre.rprev * post.delta_x, 3) else: 0.0
            delta_w = if learning_phase > 0.5: eta * trace * mean_error * (error - mean_error) else: 0.0 : min=-max_weight_change, max=max_weight_change
            w -= if learning_phase > 0.5: delta_w else: 0.0
        """, name="RewardTrace")
    inp = net.create(ann.InputArray(2))
    pop = net.create(n, neuron)
    pop[:4].constant = np.array([1.0, 1.0, -1.0, -1.0])
    pop.x = ann.Uniform(-0.1, 0.1, rng=net.default_rng)
    net.connect(inp, pop, 'in').all_to_all(weights=ann.Uniform(-1.0, 1.0, rng=net.default_rng))
    rec = net.connect(pop, pop, 'exc', synapse)
    weights = ann.Normal(0.0, 1.5 / np.sqrt(n * p), rng=net.default_rng)
    if p >= 1.0:
        rec.all_to_all(weights=weights, allow_self_connections=True)
    else:
        rec.fixed_probability(p, weights=weights, allow_self_connections=True)
    inp.r = np.array([1.0, -1.0])
    # a sparse projection gives one list per post-synaptic neuron
    return float(steps), lambda: float(np.mean(np.abs(np.concatenate([np.ravel(t) for t in rec.trace]))))


def _mean_rate(monitor, net):
    """Mean firing rate (Hz) over the neurons of the monitored population and the simulated time."""
    spikes = monitor.get("spike")
    return sum(len(s) for s in spikes.values()) / len(spikes) / (net.time / 1000.0)


BENCHMARKS = {
    "coba": (0.1, coba),
    "cuba": (0.1, cuba),
    "rate_sparse": (1.0, lambda ann, net: rate(ann, net, 4000, dense=False)),
    "rate_dense": (1.0, lambda ann, net: rate(ann, net, 2000, dense=True)),
    "izhikevich": (1.0, izhikevich),
    "song_abbott": (0.1, song_abbott),
    "reward_trace": (1.0, reward_trace),
    "reward_trace_dense": (1.0, lambda ann, net: reward_trace(ann, net, p=1.0)),
    "izhikevich_10k": (1.0, lambda ann, net: izhikevich_network(ann, net, 10000)),
    "coba_delay": (0.1, lambda ann, net: coba_delayed(ann, net, "uniform")),
    "coba_delay_random": (0.1, lambda ann, net: coba_delayed(ann, net, "random")),
    "microcircuit": (0.1, lambda ann, net: microcircuit.build(ann, net, 0.1)),
    "microcircuit_dc": (0.1, lambda ann, net: microcircuit.build(ann, net, 0.1, background="dc")),
}
