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
        "HH_cond_exp", "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista"]
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
