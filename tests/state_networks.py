"""Small networks for the state tests (saving, loading, resetting): each reads state that a
step carries to the next (noise, delays, refractory counters, traces, input clocks)."""
import numpy as np

import anncompiler as ann


def coba(net):
    """Spiking, noisy, refractory, with non-uniform (exc) and uniform (inh) delays."""
    neuron = ann.Neuron(parameters="El=-60.0\nVr=-60.0\nVt=-50.0\ntau=20.0\ntau_e=5.0\ntau_i=10.0\nI=30.0",
                        equations=["tau * dv/dt = El - v + g_exc - g_inh + I + 4.0*Normal(0, 1) : init=-60.0",
                                   "tau_e * dg_exc/dt = -g_exc", "tau_i * dg_inh/dt = -g_inh"],
                        spike="v > Vt", reset="v = Vr", refractory=2.0, name="COBA")
    P = net.create(40, neuron, name="P")
    P.v = ann.Uniform(-60.0, -50.0, rng=net.default_rng)
    exc = net.connect(P[:30], P, "exc", name="exc")
    exc.fixed_probability(0.3, 2.0, delays=ann.Uniform(0.1, 1.5, rng=net.default_rng))
    inh = net.connect(P[30:], P, "inh", name="inh")
    inh.fixed_probability(0.3, 3.0, delays=0.8)
    return [net.monitor(P, ["spike", "v"])]


def stdp(net):
    """Poisson input onto LIF neurons through STDP (event-driven traces, last event steps)."""
    inp = net.create(ann.PoissonPopulation(30, rates=200.0), name="inp")
    post = net.create(8, ann.Neuron(parameters="tau=10.0\nVt=-50.0\nVr=-65.0",
                                    equations=["tau*dv/dt = -55.0 - v + g_exc : init=-52.0", "g_exc = 0.0"],
                                    spike="v > Vt", reset="v = Vr", name="LIFs"), name="post")
    proj = net.connect(inp, post, "exc", ann.STDP(tau_plus=10.0, tau_minus=10.0, A_plus=0.05, A_minus=0.05,
                                                   w_max=50.0), name="stdp")
    proj.all_to_all(ann.Uniform(20.0, 40.0, rng=net.default_rng))
    return [net.monitor(post, ["spike", "v"]), net.monitor(inp, "spike")]


def rate(net):
    """Rate-coded, recurrent, with Normal noise in its equation."""
    neuron = ann.Neuron(parameters="tau=5.0", equations="tau * dr/dt + r = sum(exc) + 0.5*Normal(0, 1) : min=0.0",
                        name="NoisyRate")
    pop = net.create(20, neuron, name="R")
    pop.r = ann.Uniform(0.0, 1.0, rng=net.default_rng)
    net.connect(pop, pop, "exc", name="rec").fixed_probability(0.5, ann.Uniform(-0.2, 0.2, rng=net.default_rng))
    return [net.monitor(pop, "r")]


def timed(net):
    """A TimedArray (its own clock) driving a rate population."""
    rates = np.linspace(0.0, 1.0, 6 * 5).reshape(6, 5)
    inp = net.create(ann.TimedArray(rates=rates, schedule=0.3, period=1.5), name="T")
    out = net.create(5, ann.Neuron(parameters="tau=2.0", equations="tau * dr/dt + r = sum(exc)"), name="out")
    net.connect(inp, out, "exc", name="ff").one_to_one(1.0)
    return [net.monitor(out, "r"), net.monitor(inp, "r")]


NETWORKS = {"coba": coba, "stdp": stdp, "rate": rate, "timed": timed}


def build(kind, backend="llvm", threads=1, seed=7, dt=0.1):
    net = ann.Network(dt=dt, seed=seed)
    monitors = NETWORKS[kind](net)
    net.config(num_threads=threads)
    net.compile(backend=backend)
    return net, monitors


def recording(monitors) -> list:
    """What the monitors recorded since the last call (values as arrays, spikes as dicts)."""
    out = []
    for m in monitors:
        data = m.get(force_dict=True)
        out.append({k: (v if isinstance(v, dict) else np.asarray(v)) for k, v in data.items()})
    return out


def same(a, b) -> bool:
    """Bit-identical recordings."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.keys() != y.keys():
            return False
        for k in x:
            if isinstance(x[k], dict):
                if {r: list(s) for r, s in x[k].items() if len(s)} != {r: list(s) for r, s in y[k].items() if len(s)}:
                    return False
            elif x[k].shape != y[k].shape or x[k].tobytes() != y[k].tobytes():
                return False
    return True


def state_arrays(net) -> dict:
    """Copies of every state array but monitor buffers."""
    return {n: a.copy() for n, a in net._arrays.items() if net.kernel_module.arrays[n].kind != "buffer"}
