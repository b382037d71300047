"""The built-in model library (anncompiler/models): each model is an ordinary Neuron or Synapse,
simulated here against the same equations written by hand (bit-identical) or against numpy."""
import math

import numpy as np
import pytest

import anncompiler as ann

DT = 0.1


# ------------------------------------------------------------------------------------------ lists

def test_lists_of_standard_models():
    assert [c.__name__ for c in ann.list_standard_neurons()] == [
        "LeakyIntegrator", "Izhikevich", "IF_curr_exp", "IF_cond_exp", "IF_curr_alpha", "IF_cond_alpha",
        "GIF_curr", "GIF_curr_exp", "HH_cond_exp", "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista"]
    assert ann.list_standard_synapses() == [ann.STP, ann.STDP, ann.Hebb, ann.Oja, ann.IBCM]
    for cls in ann.list_standard_neurons():
        assert issubclass(cls, ann.Neuron) and isinstance(cls(), ann.Neuron)
    for cls in ann.list_standard_synapses() + [ann.DefaultRateCodedSynapse, ann.DefaultSpikingSynapse]:
        assert issubclass(cls, ann.Synapse) and isinstance(cls(), ann.Synapse)
    assert ann.LeakyIntegrator().type == "rate" and ann.Izhikevich().type == "spike"
    assert ann.Hebb().type == "rate" and ann.STDP().type == "spike" and ann.STP().type == "spike"


def test_bad_arguments_are_refused():
    with pytest.raises(ann.InvalidTypeError, match="a must be a number"):
        ann.Izhikevich(a="fast")
    with pytest.raises(ann.InvalidTypeError, match="sum"):
        ann.LeakyIntegrator(sum=3.0)
    with pytest.raises(ann.InvalidValueError, match="tau_facil must be positive"):
        ann.STP(tau_facil=0.0)


# ------------------------------------------------------------------------ spiking neuron models

def hand(parameters: dict, equations: str, spike: str, reset: str, refractory="tau_refrac") -> ann.Neuron:
    """A neuron written out by hand; string parameters are local."""
    return ann.Neuron(parameters="\n".join(f"{k} = {float(v)!r}" for k, v in parameters.items()),
                      equations=equations, spike=spike, reset=reset, refractory=refractory, name="Hand")


def drive(model, i_offset, w_exc, w_inh, backend="llvm", duration=60.0, seed=3):
    """Three neurons of ``model`` with per-neuron ``i_offset``, regular excitatory and inhibitory
    input spikes; the trace of v and the spikes."""
    net = ann.Network(dt=DT, seed=seed)
    exc = net.create(ann.SpikeSourceArray(spike_times=[list(np.arange(2.0, duration, 7.0))]))
    inh = net.create(ann.SpikeSourceArray(spike_times=[list(np.arange(5.0, duration, 11.0))]))
    pop = net.create(3, model)
    pop.i_offset = np.asarray(i_offset, dtype=float)
    net.connect(exc, pop, "exc").all_to_all(weights=w_exc)
    net.connect(inh, pop, "inh").all_to_all(weights=w_inh)
    m = net.monitor(pop, ["v", "spike"])
    net.compile(backend=backend)
    net.simulate(duration)
    return m.get("v"), m.get("spike")


COND_EXP = """
    cm * dv/dt = cm / tau_m * (v_rest - v) + g_exc * (e_rev_E - v) + g_inh * (e_rev_I - v) + i_offset : exponential, init=-65.0
    tau_syn_E * dg_exc/dt = -g_exc : exponential
    tau_syn_I * dg_inh/dt = -g_inh : exponential
"""
ALPHA = """
    gmax_exc = exp((tau_syn_E - dt/2.0) / tau_syn_E)
    gmax_inh = exp((tau_syn_I - dt/2.0) / tau_syn_I)
    {membrane}
    tau_syn_E * dg_exc/dt = -g_exc : exponential
    tau_syn_I * dg_inh/dt = -g_inh : exponential
    tau_syn_E * dalpha_exc/dt = gmax_exc * g_exc - alpha_exc : exponential
    tau_syn_I * dalpha_inh/dt = gmax_inh * g_inh - alpha_inh : exponential
"""
LIF = dict(v_rest=-65.0, cm=1.0, tau_m=20.0, tau_refrac=0.0, tau_syn_E=5.0, tau_syn_I=5.0, v_thresh=-50.0,
           v_reset=-65.0, i_offset=0.0)
COND = dict(LIF, e_rev_E=0.0, e_rev_I=-70.0)
EIF = dict(v_rest=-70.6, cm=0.281, tau_m=9.3667, tau_refrac=0.1, tau_syn_E=5.0, tau_syn_I=5.0, e_rev_E=0.0,
           e_rev_I=-80.0, tau_w=144.0, a=4.0, b=0.0805, i_offset=0.0, delta_T=2.0, v_thresh=-50.4,
           v_reset=-70.6, v_spike=-40.0)
EIF_EQS = """
    I = {g_exc} * (e_rev_E - v) + {g_inh} * (e_rev_I - v) + i_offset
    tau_m * dv/dt = v_rest - v + delta_T * exp((v - v_thresh)/delta_T) + tau_m/cm * (I - w) : init=-70.6
    tau_w * dw/dt = a * (v - v_rest)/1000.0 - w
"""
HH = dict(gbar_Na=20.0, gbar_K=6.0, gleak=0.01, cm=0.2, v_offset=-63.0, e_rev_Na=50.0, e_rev_K=-90.0,
          e_rev_leak=-65.0, e_rev_E=0.0, e_rev_I=-80.0, tau_syn_E=0.2, tau_syn_I=2.0, i_offset=0.0, v_thresh=0.0)
HH_EQS = """
    prev_v = v
    an = 0.032 * (15.0 - v + v_offset) / (exp((15.0 - v + v_offset)/5.0) - 1.0)
    am = 0.32 * (13.0 - v + v_offset) / (exp((13.0 - v + v_offset)/4.0) - 1.0)
    ah = 0.128 * exp((17.0 - v + v_offset)/18.0)
    bn = 0.5 * exp((10.0 - v + v_offset)/40.0)
    bm = 0.28 * (v - v_offset - 40.0) / (exp((v - v_offset - 40.0)/5.0) - 1.0)
    bh = 4.0 / (1.0 + exp(10.0 - v + v_offset))
    dn/dt = an * (1.0 - n) - bn * n : init=0.0, exponential
    dm/dt = am * (1.0 - m) - bm * m : init=0.0, exponential
    dh/dt = ah * (1.0 - h) - bh * h : init=1.0, exponential
    cm * dv/dt = gleak * (e_rev_leak - v) + gbar_K * n**4 * (e_rev_K - v) + gbar_Na * m**3 * h * (e_rev_Na - v)
        + g_exc * (e_rev_E - v) + g_inh * (e_rev_I - v) + i_offset : exponential, init=-65.0
    tau_syn_E * dg_exc/dt = -g_exc : exponential
    tau_syn_I * dg_inh/dt = -g_inh : exponential
"""
IZHIKEVICH_EQS = """
    I = g_exc - g_inh + noise * Normal(0.0, 1.0) + i_offset
    dv/dt = 0.04 * v^2 + 5.0 * v + 140.0 - u + I : init=-65.0
    du/dt = a * (b * v - u) : init=-13.0
"""
IZHIKEVICH = dict(noise=0.0, a=0.02, b=0.2, c=-65.0, d=8.0, v_thresh=30.0, i_offset=0.0, tau_refrac=0.0)

CASES = {
    "IF_cond_exp": (ann.IF_cond_exp, {}, lambda p: hand(p, COND_EXP, "v > v_thresh", "v = v_reset"),
                    COND, ([0.5, 1.0, 2.0], 0.05, 0.1)),
    "IF_cond_exp_args": (ann.IF_cond_exp, dict(tau_refrac=2.0, e_rev_I=-75.0, tau_m=15.0, v_thresh=-52.0),
                         lambda p: hand(p, COND_EXP, "v > v_thresh", "v = v_reset"), COND, ([0.5, 1.0, 2.0], 0.05, 0.1)),
    "IF_curr_alpha": (ann.IF_curr_alpha, dict(tau_refrac=1.0),
                      lambda p: hand(p, ALPHA.format(membrane="cm * dv/dt = cm / tau_m * (v_rest - v) + alpha_exc - "
                                                     "alpha_inh + i_offset : exponential, init=-65.0"),
                                     "v > v_thresh", "v = v_reset"), LIF, ([0.5, 1.0, 2.0], 1.0, 2.0)),
    "IF_cond_alpha": (ann.IF_cond_alpha, dict(tau_syn_E=3.0),
                      lambda p: hand(p, ALPHA.format(membrane="cm * dv/dt = cm / tau_m * (v_rest - v) + alpha_exc * "
                                                     "(e_rev_E - v) + alpha_inh * (e_rev_I - v) + i_offset : "
                                                     "exponential, init=-65.0"),
                                     "v > v_thresh", "v = v_reset"), COND, ([0.5, 1.0, 2.0], 0.05, 0.1)),
    "EIF_cond_exp_isfa_ista": (ann.EIF_cond_exp_isfa_ista, {},
                               lambda p: hand(p, EIF_EQS.format(g_exc="g_exc", g_inh="g_inh") + COND_EXP.split("\n", 2)[2],
                                              "v > v_spike", "v = v_reset\nw += b"), EIF, ([0.5, 1.0, 2.0], 0.05, 0.1)),
    "EIF_cond_alpha_isfa_ista": (ann.EIF_cond_alpha_isfa_ista, dict(b=0.1, tau_refrac=2.0),
                                 lambda p: hand(p, ALPHA.format(membrane=EIF_EQS.format(g_exc="alpha_exc",
                                                                                        g_inh="alpha_inh")),
                                                "v > v_spike", "v = v_reset\nw += b"), EIF, ([0.5, 1.0, 2.0], 0.05, 0.1)),
    "HH_cond_exp": (ann.HH_cond_exp, {}, lambda p: hand(p, HH_EQS, "(v > v_thresh) and (prev_v <= v_thresh)", "",
                                                         refractory=None), HH, ([2.0, 5.0, 10.0], 0.1, 0.1)),
    "Izhikevich": (ann.Izhikevich, dict(noise=2.0, tau_refrac=1.0),
                   lambda p: hand(p, IZHIKEVICH_EQS, "v > v_thresh", "v = c\nu += d"), IZHIKEVICH,
                   ([5.0, 10.0, 15.0], 5.0, 5.0)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_spiking_neuron_equals_its_equations_written_by_hand(case):
    cls, kwargs, by_hand, defaults, (i_offset, w_exc, w_inh) = CASES[case]
    v, spikes = drive(cls(**kwargs), i_offset, w_exc, w_inh)
    v_hand, spikes_hand = drive(by_hand(dict(defaults, **kwargs)), i_offset, w_exc, w_inh)
    assert np.array_equal(v, v_hand) and spikes == spikes_hand
    assert sum(len(s) for s in spikes.values()) >= 2  # the neurons did spike


@pytest.mark.parametrize("exp_inputs", [False, True])
def test_gif_equals_its_equations_written_by_hand(exp_inputs):
    """Escape noise: the same random numbers for the same seed, so the same spikes."""
    def run(neuron):
        net = ann.Network(dt=DT, seed=21)
        inp = net.create(ann.PoissonPopulation(10, rates=100.0))
        pop = net.create(20, neuron)
        net.connect(inp, pop, "exc").all_to_all(weights=2.0)
        m = net.monitor(pop, ["u", "spike"])
        net.compile()
        net.simulate(200.0)
        return pop, m.get("u"), m.get("spike")
    kwargs = dict(tau_m=12.0, I_ext=300.0, refractory_period=1.0)
    pop, u, spikes = run((ann.GIF_curr_exp if exp_inputs else ann.GIF_curr)(**kwargs))
    equations = [ann.Variable("tau_m * du/dt = -u + u_r + R*I_ext + R*(g_exc - g_inh)", init=-65.0),
                 ann.Variable("tau_v * dv/dt = -(v - u_th)", init="u_th"),
                 "Lambda = c * exp((u - v)/delta_u)", "p = Uniform(0.0, 1.0) * 1000.0/dt"]
    params = dict(tau_m=12.0, R=12.0 / 250.0, tau_v=1000.0, J_v=1000.0, u_r=-65.0, u_th=-50.0, c=10.0,
                  delta_u=5.0, I_ext=300.0)
    if exp_inputs:
        equations += ["tau_g_exc * dg_exc/dt = -g_exc", "tau_g_inh * dg_inh/dt = -g_inh"]
        params.update(tau_g_exc=5.0, tau_g_inh=5.0)
    _, u_hand, spikes_hand = run(ann.Neuron(parameters=params, equations=equations, spike="p < Lambda",
                                            reset="u = u_r\nv += J_v/tau_v", refractory=1.0))
    assert np.array_equal(u, u_hand) and spikes == spikes_hand and sum(map(len, spikes.values())) > 20
    assert pop.R == 12.0 / 250.0 and pop.tau_m == 12.0  # global


# ------------------------------------------------------------------ against numpy: simple neurons

def test_leaky_integrator_against_numpy():
    net = ann.Network(dt=DT)
    src = net.create(4, ann.Neuron(parameters="r0 = 1.0", equations="r = r0"))
    src.r0 = [0.5, 1.0, 1.5, 2.0]
    out = net.create(3, ann.LeakyIntegrator(tau=5.0, T=0.2))
    out.B = [0.0, 0.5, -0.5]
    net.connect(src, out, "exc").all_to_all(weights=0.3)
    net.connect(src[:2], out, "inh").all_to_all(weights=0.4)
    m = net.monitor(out, ["v", "r"])
    net.compile()
    net.simulate(20.0)
    v, r, trace_v, trace_r = np.zeros(3), np.zeros(4), [], []
    for _ in range(200):
        s = 0.3 * r.sum() - 0.4 * r[:2].sum()    # previous-step rates
        r = np.array([0.5, 1.0, 1.5, 2.0])
        v = v + (1.0 - math.exp(-DT / 5.0)) * (s + np.array([0.0, 0.5, -0.5]) - v)
        trace_v.append(v)
        trace_r.append(np.maximum(v - 0.2, 0.0))
    np.testing.assert_allclose(m.get("v"), trace_v, rtol=1e-12)
    np.testing.assert_allclose(m.get("r"), trace_r, rtol=1e-12, atol=1e-15)
    assert out.tau == 5.0 and out.T == 0.2                   # global
    with pytest.raises(ann.AnnCompilerError, match="tau"):
        out.tau = [1.0, 2.0, 3.0]
    out.B = [1.0, 2.0, 3.0]                                  # local


def test_leaky_integrator_sum_and_noise_arguments():
    def run(neuron):
        net = ann.Network(dt=DT, seed=11)
        src = net.create(2, ann.Neuron(equations="r = 1.0"))
        out = net.create(3, neuron)
        net.connect(src, out, "ampa").all_to_all(weights=0.5)
        m = net.monitor(out, "r")
        net.compile()
        net.simulate(10.0)
        return m.get("r")
    noisy = run(ann.LeakyIntegrator(sum="2.0 * sum(ampa)", noise="Normal(0.0, 1.0)"))
    by_hand = run(ann.Neuron(parameters="tau = 10.0 : population\nB = 0.0\nT = 0.0 : population",
                             equations="tau * dv/dt + v = 2.0 * sum(ampa) + B + Normal(0.0, 1.0) : exponential\n"
                                       "r = pos(v - T)"))
    assert np.array_equal(noisy, by_hand) and len(np.unique(noisy)) > 10


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_izhikevich_without_noise_against_numpy(backend):
    a, b = np.array([0.02, 0.02, 0.1]), np.array([0.2, 0.25, 0.2])
    c, d, i_offset = np.array([-65.0, -55.0, -65.0]), np.array([8.0, 4.0, 2.0]), np.array([5.0, 10.0, 15.0])
    net = ann.Network(dt=0.5)
    pop = net.create(3, ann.Izhikevich(v_thresh=25.0))
    pop.a, pop.b, pop.c, pop.d, pop.i_offset = a, b, c, d, i_offset
    m = net.monitor(pop, ["v", "spike"])
    net.compile(backend=backend)
    net.simulate(200.0)
    v, u, trace, spikes = np.full(3, -65.0), np.full(3, 0.2 * -65.0), [], {0: [], 1: [], 2: []}
    for step in range(400):
        dv = 0.04 * v ** 2 + 5.0 * v + 140.0 - u + i_offset
        du = a * (b * v - u)
        v, u = v + 0.5 * dv, u + 0.5 * du
        for i in np.flatnonzero(v > 25.0):
            v[i], u[i] = c[i], u[i] + d[i]
            spikes[i].append(step)
        trace.append(v.copy())
    np.testing.assert_allclose(m.get("v"), trace, rtol=1e-10)
    assert m.get("spike") == spikes and all(len(s) >= 2 for s in spikes.values())


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_if_curr_exp_against_numpy(backend):
    """Exponential Euler, refractory period of round(2.0 / dt) steps during which only g_ decays,
    input spikes added to g_exc the step after they are emitted."""
    net = ann.Network(dt=DT)
    inp = net.create(ann.SpikeSourceArray(spike_times=[[3.0, 3.5, 20.0, 40.0]]))
    pop = net.create(2, ann.IF_curr_exp(tau_refrac=2.0, tau_syn_E=3.0, v_thresh=-55.0))
    pop.i_offset = [0.0, 0.6]
    net.connect(inp, pop, "exc").all_to_all(weights=4.0)
    m = net.monitor(pop, ["v", "g_exc", "spike"])
    net.compile(backend=backend)
    net.simulate(60.0)
    input_steps = {30, 35, 200, 400}
    v, g, refractory, trace, spikes = np.full(2, -65.0), np.zeros(2), np.zeros(2, int), [], {0: [], 1: []}
    i_offset = np.array([0.0, 0.6])
    for step in range(600):
        if step - 1 in input_steps:
            g = g + 4.0
        free = refractory == 0
        target = -65.0 + 20.0 * (g + i_offset) / 1.0
        v = np.where(free, v + (1.0 - math.exp(-DT / 20.0)) * (target - v), v)
        g = g + (1.0 - math.exp(-DT / 3.0)) * (0.0 - g)
        refractory = np.where(free, 0, refractory - 1)
        for i in np.flatnonzero(free & (v > -55.0)):
            v[i], refractory[i] = -65.0, 20
            spikes[i].append(step)
        trace.append(v.copy())
    np.testing.assert_allclose(m.get("v"), trace, rtol=1e-12)
    assert m.get("spike") == spikes and len(spikes[0]) >= 1 and len(spikes[1]) > len(spikes[0])


# ------------------------------------------------------------------------ rate-coded plasticity

FREQ = np.array([0.1, 0.2, 0.3, 0.4])
RULES = {
    "Hebb": (lambda: ann.Hebb(eta=0.02),
             lambda w, pre, post, theta: (np.maximum(w + DT * 0.02 * np.outer(post, pre), 0.0), theta)),
    "Oja": (lambda: ann.Oja(eta=0.05, alpha=2.0),
            lambda w, pre, post, theta: (np.maximum(w + DT * 0.05 * (np.outer(post, pre) - 2.0 * (post ** 2)[:, None] * w),
                                                    0.0), theta)),
    "IBCM": (lambda: ann.IBCM(eta=0.05, tau=5.0), None),
}


def ibcm(w, pre, post, theta):
    theta = theta + (1.0 - math.exp(-DT / 5.0)) * (post ** 2 - theta)
    return np.maximum(w + DT * 0.05 * (post * (post - theta))[:, None] * pre[None, :], 0.0), theta


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_rate_coded_learning_rules_against_numpy(rule, backend):
    make, update = RULES[rule]
    update = update or ibcm
    net = ann.Network(dt=DT)
    inp = net.create(4, ann.Neuron(parameters="f = 0.1", equations="r = 1.0 + sin(f * t)"))
    inp.f = FREQ
    out = net.create(3, ann.Neuron(parameters="tau = 2.0", equations="tau * dr/dt + r = sum(exc)"))
    proj = net.connect(inp, out, "exc", make()).all_to_all(weights=ann.Uniform(0.05, 0.25, rng=np.random.default_rng(1)))
    w = w0 = proj.connectivity_matrix()
    m = net.monitor(out, "r")
    net.compile(backend=backend)
    net.simulate(30.0)
    pre, post, theta, trace = np.zeros(4), np.zeros(3), np.zeros(3), []
    for step in range(300):
        s = w @ pre                                  # previous-step rates
        pre = 1.0 + np.sin(FREQ * step * DT)
        post = post + DT * (s - post) / 2.0
        w, theta = update(w, pre, post, theta)       # synapses after the neurons
        trace.append(post)
    np.testing.assert_allclose(m.get("r"), trace, rtol=1e-12)
    np.testing.assert_allclose(proj.connectivity_matrix(), w, rtol=1e-12)
    assert not np.allclose(w, w0) and w.min() >= 0.0 and w.max() > 0.0  # it learned, within min=0
    assert np.ndim(proj.eta) == 0                    # global parameters
    if rule == "IBCM":
        np.testing.assert_allclose(proj.theta, theta, rtol=1e-12)


# -------------------------------------------------------------------------- spiking synapses

def timed(times):
    """A neuron that spikes at the given times (ms) and integrates g_exc (reset every step)."""
    cond = " or ".join(f"(t == {t:.1f})" for t in times) or "t < 0.0"
    return ann.Neuron(equations="dv/dt = g_exc - v", spike=cond, reset="v = 0.0", name="Timed")


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_stdp_pair_by_hand(backend):
    """pre at 10 and 30 ms, post at 15 and 27 ms (dt = 1): traces decayed to each event."""
    net = ann.Network(dt=1.0)
    pre, post = net.create(1, timed([10.0, 30.0])), net.create(1, timed([15.0, 27.0]))
    proj = net.connect(pre, post, "exc", ann.STDP(A_plus=0.02, A_minus=0.03, w_max=2.0)).all_to_all(weights=0.5)
    net.compile(backend=backend)
    net.simulate(40.0)
    e = lambda ms: math.exp(-ms / 20.0)  # noqa: E731
    x, y, w = 0.04, 0.0, 0.5                      # pre spike at 10
    x *= e(5); y -= 0.06; w += x                  # post spike at 15
    x *= e(12); y *= e(12); y -= 0.06; w += x     # post spike at 27
    x *= e(3); y *= e(3); x += 0.04; w += y       # pre spike at 30
    assert proj.w == [[pytest.approx(w, rel=1e-13)]]
    assert proj.x == [[pytest.approx(x, rel=1e-13)]] and proj.y == [[pytest.approx(y, rel=1e-13)]]
    assert np.ndim(proj.tau_plus) == 0 and proj.A_minus == 0.03


def test_stdp_weight_stays_within_bounds():
    net = ann.Network(dt=1.0)
    pre, post = net.create(1, timed([12.0])), net.create(1, timed([10.0]))
    proj = net.connect(pre, post, "exc", ann.STDP(A_minus=0.2, w_min=0.4)).all_to_all(weights=0.5)
    net.compile()
    net.simulate(20.0)
    assert proj.w == [[0.4]]  # 0.5 - 0.2 * exp(-2 / 20), clipped at w_min


def stp_by_hand(times, U, tau_rec, tau_facil, steps):
    """Contribution u * x of one synapse at each step (per unit weight)."""
    out = np.zeros(steps)
    x, u, last = 1.0, U, None
    for t in times:
        if last is not None:
            x = 1.0 + (x - 1.0) * math.exp(-(t - last) / tau_rec)
            u = U + (u - U) * math.exp(-(t - last) / tau_facil)
        out[int(t) + 1] += u * x          # delivered the step after the spike
        x *= 1.0 - u
        u += U * (1.0 - u)
        last = t
    return out


@pytest.mark.parametrize("backend, threads, weights", [("llvm", 1, "single"), ("llvm", 2, "single"),
                                                        ("reference", 1, "single"), ("llvm", 1, "uniform")])
def test_stp_by_hand(backend, threads, weights):
    """Tsodyks-Markram: the g_exc each pre-synaptic spike gives, with the shared weight of
    all_to_all(weights=0.5) or one weight per synapse."""
    trains = [[5.0, 10.0, 15.0, 40.0], [3.0, 8.0], [20.0, 21.0, 22.0, 23.0]]
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    pre = net.create(ann.SpikeSourceArray(spike_times=trains))
    post = net.create(2, ann.Neuron(equations="dv/dt = g_exc - v", spike="v > 1000.0", reset="v = 0.0"))
    w = 0.5 if weights == "single" else ann.Uniform(0.2, 0.8, rng=np.random.default_rng(2))
    proj = net.connect(pre, post, "exc", ann.STP(tau_rec=50.0, tau_facil=100.0, U=0.2)).all_to_all(weights=w)
    matrix = np.broadcast_to(proj.connectivity_matrix(), (2, 3))
    g = net.monitor(post, "g_exc")
    net.compile(backend=backend)
    net.simulate(50.0)
    contrib = np.stack([stp_by_hand(tr, 0.2, 50.0, 100.0, 50) for tr in trains], axis=1)
    np.testing.assert_allclose(g.get("g_exc"), contrib @ matrix.T, rtol=1e-12)
    assert np.ndim(proj.tau_rec) == 0 and np.shape(proj.U) == (2, 3)  # tau_rec global, U local


def test_default_synapses_are_the_defaults():
    def run(rate_synapse, spike_synapse):
        net = ann.Network(dt=DT, seed=4)
        src = net.create(3, ann.Neuron(parameters="r0 = 1.0", equations="r = r0"))
        src.r0 = [1.0, 2.0, 3.0]
        out = net.create(2, ann.LeakyIntegrator())
        poisson = net.create(ann.PoissonPopulation(20, rates=50.0))
        lif = net.create(2, ann.IF_curr_exp())
        args = [rate_synapse] if rate_synapse else []
        net.connect(src, out, "exc", *args).all_to_all(weights=0.2)
        args = [spike_synapse] if spike_synapse else []
        net.connect(poisson, lif, "exc", *args).all_to_all(weights=ann.Uniform(0.0, 1.0, rng=np.random.default_rng(0)))
        m, n = net.monitor(out, "r"), net.monitor(lif, "v")
        net.compile()
        net.simulate(20.0)
        return m.get("r"), n.get("v")
    default = run(None, None)
    explicit = run(ann.DefaultRateCodedSynapse(), ann.DefaultSpikingSynapse())
    assert all(np.array_equal(a, b) for a, b in zip(default, explicit))
    assert len(np.unique(default[1])) > 10
