"""The Potjans & Diesmann (2014) cortical microcircuit, scaled down, for the benchmarks.

Potjans TC, Diesmann M (2014) "The cell-type specific cortical microcircuit: relating structure
and activity in a full-scale spiking network model", Cerebral Cortex 24:785-806.  The parameters
below are those of the paper (Tables 4 and 5): eight populations (excitatory and inhibitory
cells of layers 2/3, 4, 5 and 6), current-based leaky integrate-and-fire neurons with
exponential post-synaptic currents (NEST's ``iaf_psc_exp``), the layer-specific connection
probabilities, weights and delays, and Poisson background input.

Scaling (``scale`` < 1): the number of neurons of each population *and* the in-degrees are
multiplied by ``scale`` (each pair of populations keeps the published connection probability),
and the recurrent weights are divided by ``sqrt(scale)``; a DC current restores the mean
recurrent input the missing synapses would have brought at the full-scale firing rates (the
compensation of van Albada, Helias & Diesmann 2015, as in NEST's microcircuit example).  The
background input is not scaled: each neuron keeps its ``K_ext`` Poisson sources at 8 Hz.

The builders take the simulator module (``anncompiler`` or ``ANNarchy``: the same API), or
Brian2 for :func:`build_brian2`, so that every simulator runs the same model.

Numerics, the same in every simulator: explicit Euler with dt = 0.1 ms (Brian2 ``euler``); the
background is drawn each step per neuron as ``Binomial(K_ext, bg_rate * dt)`` spikes of weight
``w_ext`` added to the excitatory current (Brian2's ``PoissonInput``).  ``background="dc"``
replaces it by its mean current ``K_ext * bg_rate * w_ext * tau_syn``.
"""
from __future__ import annotations

import numpy as np

POPULATIONS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
#: Full-scale population sizes (Table 5).
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
#: Connection probabilities (Table 5): row = target, column = source, in POPULATIONS order.
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443]])
#: Number of external (background) inputs per neuron (Table 5), each a Poisson train at BG_RATE.
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
BG_RATE = 8.0  # Hz
#: Mean excitatory PSC amplitude (pA; a 0.15 mV PSP), its relative spread, relative inhibitory
#: strength g, and the doubled weight of L4E -> L23E.
W_MEAN, W_REL_SD, G_INH, W_L4E_L23E = 87.8, 0.1, -4.0, 2.0
#: Delays (ms): mean and standard deviation, excitatory and inhibitory sources.
DELAY_EXC, DELAY_EXC_SD, DELAY_INH, DELAY_INH_SD = 1.5, 0.75, 0.75, 0.375
#: iaf_psc_exp parameters (Table 4): pF, ms, mV.
NEURON = dict(C_m=250.0, tau_m=10.0, tau_syn=0.5, t_ref=2.0, E_L=-65.0, V_th=-50.0, V_reset=-65.0)
#: Initial membrane potentials ~ N(V0_MEAN, V0_SD) mV.
V0_MEAN, V0_SD = -58.0, 10.0
#: Mean rates (Hz) of the full-scale model, needed by the DC compensation of the scaled
#: in-degrees (the values of NEST's microcircuit example, simulated at full scale).
FULL_MEAN_RATES = np.array([0.971, 2.868, 4.746, 5.396, 8.142, 9.078, 0.991, 7.523])
DT = 0.1


def synapse_counts_full() -> np.ndarray:
    """Total number of synapses between each pair of populations at full scale, K = log(1-C) /
    log(1 - 1/(N_pre N_post)) (the paper draws this many pairs with replacement)."""
    pairs = np.outer(N_FULL, N_FULL)
    return np.log(1.0 - CONN_PROBS) / np.log(1.0 - 1.0 / pairs)


def weight_matrix() -> np.ndarray:
    """Mean PSC amplitudes (pA), target x source: excitatory W_MEAN, inhibitory G_INH * W_MEAN."""
    w = np.tile(np.where(np.arange(8) % 2 == 0, W_MEAN, G_INH * W_MEAN), (8, 1))
    w[0, 2] *= W_L4E_L23E
    return w


def scaled(scale: float) -> dict:
    """Sizes, connection probabilities, weights and DC currents of the network at ``scale``.

    The probability of a pair is the full-scale synapse count over the number of pairs (the
    published probability C is the chance of *at least one* synapse; without multapses the
    expected count must come from the probability itself), so in-degrees are ``scale`` times
    the full-scale ones."""
    n = np.maximum(1, np.round(N_FULL * scale)).astype(int)
    k_full = synapse_counts_full()
    probs = k_full / np.outer(N_FULL, N_FULL)
    indegree_full = k_full / N_FULL[:, None]
    w = weight_matrix()
    w_scaled = w / np.sqrt(scale)
    # mean recurrent current lost with the in-degrees, at the full-scale rates: pA
    dc = (1.0 - np.sqrt(scale)) * (w * indegree_full * FULL_MEAN_RATES[None, :]).sum(axis=1) \
        * NEURON["tau_syn"] * 1e-3
    return dict(n=n, probs=probs, w=w_scaled, dc=dc)


def build(ann, net, scale: float = 0.1, duration: float = 1000.0, background: str = "poisson"):
    """Build the microcircuit in ``net``; returns (duration ms, measure) where ``measure()`` gives
    the mean rate (Hz) over all neurons and the rate of each population."""
    s = scaled(scale)
    p = NEURON
    pops = []
    for i, name in enumerate(POPULATIONS):
        if background == "poisson":
            bg = f" + w_ext * Binomial({int(K_EXT[i])}, {BG_RATE * DT * 1e-3!r}) / dt"
            i_bg = 0.0
        else:
            bg, i_bg = "", K_EXT[i] * BG_RATE * W_MEAN * p["tau_syn"] * 1e-3
        neuron = ann.Neuron(
            parameters=dict(C_m=p["C_m"], tau_m=p["tau_m"], tau_syn=p["tau_syn"], E_L=p["E_L"],
                            V_th=p["V_th"], V_reset=p["V_reset"], w_ext=W_MEAN,
                            I_dc=float(s["dc"][i] + i_bg)),
            equations=["dv/dt = -(v - E_L) / tau_m + (g_exc + g_inh + I_dc) / C_m",
                       f"dg_exc/dt = -g_exc / tau_syn{bg}",
                       "dg_inh/dt = -g_inh / tau_syn"],
            spike="v > V_th", reset="v = V_reset", refractory=p["t_ref"], name=f"iaf_psc_exp_{name}")
        pop = net.create(int(s["n"][i]), neuron, name=name)
        pop.v = ann.Normal(V0_MEAN, V0_SD, rng=net.default_rng)
        pops.append(pop)
    for t, post in enumerate(pops):
        for src, pre in enumerate(pops):
            prob = s["probs"][t, src]
            if prob <= 0.0:
                continue
            w = s["w"][t, src]
            exc = src % 2 == 0
            sd = abs(w) * W_REL_SD
            weights = (ann.Normal(w, sd, min=0.0, rng=net.default_rng) if exc
                       else ann.Normal(w, sd, max=0.0, rng=net.default_rng))
            d, d_sd = (DELAY_EXC, DELAY_EXC_SD) if exc else (DELAY_INH, DELAY_INH_SD)
            delays = ann.Normal(d, d_sd, min=DT, max=d + 4 * d_sd, rng=net.default_rng)
            proj = net.connect(pre, post, "exc" if exc else "inh", name=f"{POPULATIONS[src]}_{POPULATIONS[t]}")
            proj.fixed_probability(float(prob), weights=weights, delays=delays, allow_self_connections=True)
    monitors = [net.monitor(pop, "spike") for pop in pops]

    def measure():
        counts = [sum(len(s) for s in m.get("spike").values()) for m in monitors]
        return _rates(counts, s["n"], net.time)

    return duration, measure


def build_brian2(b2, scale: float = 0.1, duration: float = 1000.0, background: str = "poisson"):
    """The same network in Brian2 (call inside a standalone device); returns a function giving
    the same dict as :func:`build`'s measure, valid after the run."""
    from brian2 import Hz, NeuronGroup, PoissonInput, SpikeMonitor, Synapses, mV, ms, pA, pF
    s = scaled(scale)
    p = NEURON
    eqs = """dv/dt = -(v - E_L) / tau_m + (g_exc + g_inh + I_dc) / C_m : volt (unless refractory)
             dg_exc/dt = -g_exc / tau_syn : amp
             dg_inh/dt = -g_inh / tau_syn : amp
             I_dc : amp"""
    ns = dict(E_L=p["E_L"] * mV, tau_m=p["tau_m"] * ms, C_m=p["C_m"] * pF, tau_syn=p["tau_syn"] * ms,
              V_th=p["V_th"] * mV, V_reset=p["V_reset"] * mV)
    groups, monitors, objects = [], [], []
    for i, name in enumerate(POPULATIONS):
        g = NeuronGroup(int(s["n"][i]), eqs, threshold="v > V_th", reset="v = V_reset",
                        refractory=p["t_ref"] * ms, method="euler", namespace=ns, name=name)
        g.v = f"({V0_MEAN} + {V0_SD} * randn()) * mV"
        if background == "poisson":
            g.I_dc = s["dc"][i] * pA
            objects.append(PoissonInput(g, "g_exc", int(K_EXT[i]), BG_RATE * Hz, weight=W_MEAN * pA))
        else:
            g.I_dc = (s["dc"][i] + K_EXT[i] * BG_RATE * W_MEAN * p["tau_syn"] * 1e-3) * pA
        groups.append(g)
        monitors.append(SpikeMonitor(g))
    for t, post in enumerate(groups):
        for src, pre in enumerate(groups):
            prob = s["probs"][t, src]
            if prob <= 0.0:
                continue
            w = s["w"][t, src]
            exc = src % 2 == 0
            syn = Synapses(pre, post, "w : amp", on_pre=f"g_{'exc' if exc else 'inh'}_post += w",
                           name=f"{POPULATIONS[src]}_{POPULATIONS[t]}")
            syn.connect(p=float(prob))
            sd = abs(w) * W_REL_SD
            syn.w = (f"clip({w} + {sd} * randn(), 0, inf) * pA" if exc
                     else f"clip({w} + {sd} * randn(), -inf, 0) * pA")
            d, d_sd = (DELAY_EXC, DELAY_EXC_SD) if exc else (DELAY_INH, DELAY_INH_SD)
            syn.delay = f"clip({d} + {d_sd} * randn(), {DT}, {d + 4 * d_sd}) * ms"
            objects.append(syn)

    def measure():
        return _rates([int(m.num_spikes) for m in monitors], s["n"], duration)

    return groups + monitors + objects, measure


def _rates(counts, sizes, duration_ms) -> dict:
    """Mean rate (Hz) over all neurons, and the rate of each population."""
    seconds = duration_ms / 1000.0
    detail = {name: c / int(n) / seconds for name, c, n in zip(POPULATIONS, counts, sizes)}
    return dict(value=sum(counts) / int(sum(sizes)) / seconds, detail=detail)


def main(argv=None) -> None:
    """``python benchmarks/microcircuit.py --scale 1.0 --background dc --threads 1``: build, compile
    and simulate the microcircuit with anncompiler at any scale in this process; prints the time of
    each stage, the peak memory of the process and the rate of each population after the warm-up."""
    import argparse
    import resource
    import sys
    import tempfile
    import time
    ap = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="neurons and in-degrees (1.0: full scale)")
    ap.add_argument("--background", choices=["poisson", "dc"], default="poisson")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=float, default=10.0, help="ms simulated before the measure")
    ap.add_argument("--duration", type=float, default=100.0, help="ms measured")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    import anncompiler as ann

    def peak_gib():  # ru_maxrss is in KiB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20

    t0 = time.perf_counter()
    net = ann.Network(dt=DT, seed=args.seed)
    net.config(num_threads=args.threads)
    _, measure = build(ann, net, args.scale, duration=args.duration, background=args.background)
    t1 = time.perf_counter()
    n_syn = sum(p.nb_synapses for p in net.get_projections())
    print(f"scale {args.scale}, {args.background} background, {args.threads} thread(s): "
          f"{int(scaled(args.scale)['n'].sum())} neurons, {n_syn} synapses", flush=True)
    print(f"build     {t1 - t0:8.1f} s   peak {peak_gib():.2f} GiB", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        net.compile(directory=directory, silent=True)
    t2 = time.perf_counter()
    passes = net.compile_report.get("passes", {})
    slow = sorted((dict(passes) if not isinstance(passes, dict) else passes).items(), key=lambda kv: -kv[1])[:3]
    print(f"compile   {t2 - t1:8.1f} s   peak {peak_gib():.2f} GiB   (backend {net.compile_report['backend']:.1f} s; "
          + ", ".join(f"{k} {v:.1f} s" for k, v in slow) + ")", flush=True)
    net.simulate(args.warmup)
    measure()  # the spikes of the warm-up dropped
    t3 = time.perf_counter()
    net.simulate(args.duration)
    t4 = time.perf_counter()
    rates = measure()
    t_bio = args.duration / 1000.0
    print(f"simulate  {t4 - t3:8.2f} s for {args.duration:g} ms = {(t4 - t3) / t_bio:.2f} s per second of biological "
          f"time   peak {peak_gib():.2f} GiB", flush=True)
    print("rates (Hz) after the warm-up: mean %.2f; " % (rates["value"] * (net.time / args.duration))
          + ", ".join(f"{k} {v * net.time / args.duration:.2f}" for k, v in rates["detail"].items()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
