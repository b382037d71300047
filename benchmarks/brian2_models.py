"""The COBA (with and without delays), CUBA, Song-Abbott and microcircuit benchmarks written for
Brian2 (standalone C++ device), same parameters as ``models.py`` and ``microcircuit.py``; used by
``run.py --peers``."""
from __future__ import annotations

import tempfile


def _run(name: str, threads: int, duration: float | None = None) -> dict:
    import brian2 as b2
    from brian2 import NeuronGroup, SpikeMonitor, Synapses, ms

    directory = tempfile.mkdtemp()
    b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    if threads > 1:
        b2.prefs.devices.cpp_standalone.openmp_threads = threads
    # Brian2's default `make -j` (no limit) starts one compiler per file at once: on a 2-core
    # machine shared with others that is slower and starves the neighbours
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
    b2.defaultclock.dt = 0.1 * ms
    if name == "song_abbott":
        return _song_abbott(b2, directory, duration or 100000.0)
    if name.startswith("microcircuit"):
        return _microcircuit(b2, directory, name, duration or 1000.0)
    duration = duration or 1000.0
    if name.startswith("coba"):
        eqs = """dv/dt = ((-60*mV - v) + ge*(0*mV - v) + gi*(-80*mV - v) + 20*mV) / (20*ms) : volt (unless refractory)
                 dge/dt = -ge / (5*ms) : 1
                 dgi/dt = -gi / (10*ms) : 1"""
        P = NeuronGroup(4000, eqs, threshold="v > -50*mV", reset="v = -60*mV", refractory=5 * ms,
                        method="euler")
        P.v = "-55*mV + 5*mV*randn()"
        P.ge, P.gi = "4 + 1.5*randn()", "20 + 12*randn()"
        Ce = Synapses(P[:3200], P, on_pre="ge += 0.6")
        Ci = Synapses(P[3200:], P, on_pre="gi += 6.7")
    else:
        eqs = """dv/dt = (ge + gi - (v - (-49*mV))) / (20*ms) : volt (unless refractory)
                 dge/dt = -ge / (5*ms) : volt
                 dgi/dt = -gi / (10*ms) : volt"""
        P = NeuronGroup(4000, eqs, threshold="v > -50*mV", reset="v = -60*mV", refractory=5 * ms,
                        method="exact")
        P.v = "-60*mV + rand() * 10*mV"
        Ce = Synapses(P[:3200], P, on_pre="ge += 1.62*mV")
        Ci = Synapses(P[3200:], P, on_pre="gi += -9*mV")
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    if name == "coba_delay":
        Ce.delay = Ci.delay = 1.5 * ms
    elif name == "coba_delay_random":
        Ce.delay = Ci.delay = "(0.1 + 2.9 * rand()) * ms"
    m = SpikeMonitor(P)
    b2.run(duration * ms)
    t_compile, sim = _build_and_run(b2, directory)
    rate = m.num_spikes / 4000 / (duration / 1000.0)
    return dict(import_s=0.0, compile_s=t_compile, sim_s=sim, value=float(rate))


def _build_and_run(b2, directory: str) -> tuple[float, float]:
    """(build time, simulation time) of the standalone project: the binary reports its own
    simulation time (without process start-up)."""
    import time
    t0 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    b2.device.run(directory=directory)
    total = time.perf_counter() - t0
    return t_compile, float(b2.device._last_run_time if getattr(b2.device, "_last_run_time", None) else total)


def _microcircuit(b2, directory: str, name: str, duration: float) -> dict:
    import microcircuit
    objects, measure = microcircuit.build_brian2(b2, 0.1, duration,
                                                 background="dc" if name.endswith("_dc") else "poisson")
    net = b2.Network(objects)
    net.run(duration * b2.ms)
    t_compile, sim = _build_and_run(b2, directory)
    return dict(import_s=0.0, compile_s=t_compile, sim_s=sim, **measure())


def _song_abbott(b2, directory: str, duration: float) -> dict:
    """Brian2's examples/synapses/STDP.py (Song, Miller & Abbott 2000), 100 s."""
    from brian2 import Hz, NeuronGroup, PoissonGroup, Synapses, mV, ms
    gmax = 0.01
    neurons = NeuronGroup(1, """dv/dt = (ge * (0*mV - v) + (-74*mV) - v) / (10*ms) : volt
                                dge/dt = -ge / (5*ms) : 1""",
                          threshold="v > -54*mV", reset="v = -60*mV", method="euler")
    neurons.v = -60 * mV
    inputs = PoissonGroup(1000, rates=15 * Hz)
    S = Synapses(inputs, neurons, """w : 1
                 dApre/dt = -Apre / (20*ms) : 1 (event-driven)
                 dApost/dt = -Apost / (20*ms) : 1 (event-driven)""",
                 on_pre="""ge += w
                           Apre += 0.01 * gmax
                           w = clip(w + Apost, 0, gmax)""",
                 on_post="""Apost -= 0.0105 * gmax
                            w = clip(w + Apre, 0, gmax)""", namespace={"gmax": gmax})
    S.connect()
    S.w = "rand() * gmax"
    b2.run(duration * ms)
    t_compile, sim = _build_and_run(b2, directory)
    return dict(import_s=0.0, compile_s=t_compile, sim_s=sim, value=float(S.w[:].mean() / gmax))


BRIAN2_MODELS = {"coba", "cuba", "song_abbott", "coba_delay", "coba_delay_random", "microcircuit",
                 "microcircuit_dc"}


def run(name: str, threads: int, duration: float | None = None) -> dict:
    return _run(name, threads, duration)
