"""Built-in neuron models, with ANNarchy 5's names, constructor arguments and defaults.

Each class is an ordinary :class:`~anncompiler.Neuron` written in the equation language: the
compiler treats it exactly as the same definition written by hand.  Parameters are local (one
value per neuron) unless said otherwise.
"""
from __future__ import annotations

from anncompiler.core.attributes import Variable
from anncompiler.core.models import Neuron

from ._common import number, parameter_block, text

__all__ = ["LeakyIntegrator", "Izhikevich", "IF_curr_exp", "IF_cond_exp", "IF_curr_alpha", "IF_cond_alpha",
           "EIF_cond_exp_isfa_ista", "EIF_cond_alpha_isfa_ista", "GIF_curr", "GIF_curr_exp", "HH_cond_exp",
           "list_standard_neurons"]


class LeakyIntegrator(Neuron):
    """Rate-coded leaky integrator with a rectified output, optionally noisy.

    ``tau * dv/dt + v = I + B (+ noise)`` integrated with the exponential method, where the input
    ``I`` is ``sum`` (``"sum(exc) - sum(inh)"`` by default) and ``noise`` an optional extra term
    (``"Normal(0.0, 1.0)"``); ``r = pos(v - T)``.  ``tau`` and ``T`` are global, ``B`` local.
    """

    def __init__(self, tau: float = 10.0, B: float = 0.0, T: float = 0.0, sum: str = "sum(exc) - sum(inh)",
                 noise: str | None = None):
        model = "LeakyIntegrator"
        extra = f" + {text(model, 'noise', noise)}" if noise else ""
        super().__init__(
            parameters=parameter_block(model, dict(tau=tau, B=B, T=T), shared=("tau", "T")),
            equations=f"tau * dv/dt + v = {text(model, 'sum', sum)} + B{extra} : exponential\n"
                      "r = pos(v - T)",
            name="Leaky-Integrator",
            description="Leaky integrator with a rectified (positive part) transfer function and optional noise.")


class Izhikevich(Neuron):
    """Izhikevich (2003) quadratic integrate-and-fire neuron with a recovery variable.

    ``I = conductance + noise * Normal(0, 1) + i_offset``,
    ``dv/dt = 0.04 v^2 + 5 v + 140 - u + I`` (initially ``c``), ``du/dt = a (b v - u)``
    (initially ``b * c``), explicit Euler; spike ``v > v_thresh``, reset ``v = c; u += d``,
    refractory period ``tau_refrac``.  The defaults are a regular-spiking cell.
    """

    def __init__(self, a: float = 0.02, b: float = 0.2, c: float = -65.0, d: float = 8.0, v_thresh: float = 30.0,
                 i_offset: float = 0.0, noise: float = 0.0, tau_refrac: float = 0.0,
                 conductance: str = "g_exc - g_inh"):
        model = "Izhikevich"
        values = dict(noise=noise, a=a, b=b, c=c, d=d, v_thresh=v_thresh, i_offset=i_offset, tau_refrac=tau_refrac)
        parameters = parameter_block(model, values)
        u0 = number(model, "b * c", float(b) * float(c))
        super().__init__(
            parameters=parameters,
            equations=f"""
                I = {text(model, 'conductance', conductance)} + noise * Normal(0.0, 1.0) + i_offset
                dv/dt = 0.04 * v^2 + 5.0 * v + 140.0 - u + I : init = {number(model, 'c', c)}
                du/dt = a * (b * v - u) : init = {u0}
            """,
            spike="v > v_thresh", reset="v = c\nu += d", refractory="tau_refrac",
            name="Izhikevich", description="Quadratic integrate-and-fire neuron with adaptation (Izhikevich, 2003).")


_MEMBRANE = "cm * dv/dt = cm / tau_m * (v_rest - v) + {input} + i_offset : exponential, init = {v0}"
_EXP_SYNAPSES = """
    tau_syn_E * dg_exc/dt = -g_exc : exponential
    tau_syn_I * dg_inh/dt = -g_inh : exponential
"""
# Alpha-shaped inputs: g_X decays and drives alpha_X, scaled so that one spike of weight w makes
# alpha_X peak at about w, tau_syn_X after the spike.
_ALPHA_SCALE = """
    gmax_exc = exp((tau_syn_E - dt / 2.0) / tau_syn_E)
    gmax_inh = exp((tau_syn_I - dt / 2.0) / tau_syn_I)
"""
_ALPHA_SYNAPSES = _EXP_SYNAPSES + """
    tau_syn_E * dalpha_exc/dt = gmax_exc * g_exc - alpha_exc : exponential
    tau_syn_I * dalpha_inh/dt = gmax_inh * g_inh - alpha_inh : exponential
"""


def _lif(self, model: str, values: dict, input: str, alpha: bool, description: str) -> None:
    membrane = _MEMBRANE.format(input=input, v0=number(model, "v_reset", values["v_reset"]))
    equations = (_ALPHA_SCALE if alpha else "") + membrane + (_ALPHA_SYNAPSES if alpha else _EXP_SYNAPSES)
    Neuron.__init__(self, parameters=parameter_block(model, values), equations=equations,
                    spike="v > v_thresh", reset="v = v_reset", refractory="tau_refrac",
                    name="Integrate-and-Fire", description=description)


class IF_curr_exp(Neuron):
    """Leaky integrate-and-fire neuron with exponentially decaying post-synaptic currents
    (``g_exc``, ``g_inh``), fixed threshold; exponential Euler; refractory period ``tau_refrac``."""

    def __init__(self, v_rest: float = -65.0, cm: float = 1.0, tau_m: float = 20.0, tau_refrac: float = 0.0,
                 tau_syn_E: float = 5.0, tau_syn_I: float = 5.0, v_thresh: float = -50.0, v_reset: float = -65.0,
                 i_offset: float = 0.0):
        values = dict(v_rest=v_rest, cm=cm, tau_m=tau_m, tau_refrac=tau_refrac, tau_syn_E=tau_syn_E,
                      tau_syn_I=tau_syn_I, v_thresh=v_thresh, v_reset=v_reset, i_offset=i_offset)
        _lif(self, "IF_curr_exp", values, "g_exc - g_inh", False,
             "Leaky integrate-and-fire neuron with exponentially decaying post-synaptic currents.")


class IF_cond_exp(Neuron):
    """Leaky integrate-and-fire neuron with exponentially decaying post-synaptic conductances
    (reversal potentials ``e_rev_E``, ``e_rev_I``), fixed threshold; exponential Euler."""

    def __init__(self, v_rest: float = -65.0, cm: float = 1.0, tau_m: float = 20.0, tau_refrac: float = 0.0,
                 tau_syn_E: float = 5.0, tau_syn_I: float = 5.0, e_rev_E: float = 0.0, e_rev_I: float = -70.0,
                 v_thresh: float = -50.0, v_reset: float = -65.0, i_offset: float = 0.0):
        values = dict(v_rest=v_rest, cm=cm, tau_m=tau_m, tau_refrac=tau_refrac, tau_syn_E=tau_syn_E,
                      tau_syn_I=tau_syn_I, v_thresh=v_thresh, v_reset=v_reset, i_offset=i_offset,
                      e_rev_E=e_rev_E, e_rev_I=e_rev_I)
        _lif(self, "IF_cond_exp", values, "g_exc * (e_rev_E - v) + g_inh * (e_rev_I - v)", False,
             "Leaky integrate-and-fire neuron with exponentially decaying post-synaptic conductances.")


class IF_curr_alpha(Neuron):
    """Leaky integrate-and-fire neuron with alpha-shaped post-synaptic currents (``alpha_exc``,
    ``alpha_inh``, driven by the decaying ``g_exc``, ``g_inh``); exponential Euler."""

    def __init__(self, v_rest: float = -65.0, cm: float = 1.0, tau_m: float = 20.0, tau_refrac: float = 0.0,
                 tau_syn_E: float = 5.0, tau_syn_I: float = 5.0, v_thresh: float = -50.0, v_reset: float = -65.0,
                 i_offset: float = 0.0):
        values = dict(v_rest=v_rest, cm=cm, tau_m=tau_m, tau_refrac=tau_refrac, tau_syn_E=tau_syn_E,
                      tau_syn_I=tau_syn_I, v_thresh=v_thresh, v_reset=v_reset, i_offset=i_offset)
        _lif(self, "IF_curr_alpha", values, "alpha_exc - alpha_inh", True,
             "Leaky integrate-and-fire neuron with alpha-shaped post-synaptic currents.")


class IF_cond_alpha(Neuron):
    """Leaky integrate-and-fire neuron with alpha-shaped post-synaptic conductances (reversal
    potentials ``e_rev_E``, ``e_rev_I``); exponential Euler."""

    def __init__(self, v_rest: float = -65.0, cm: float = 1.0, tau_m: float = 20.0, tau_refrac: float = 0.0,
                 tau_syn_E: float = 5.0, tau_syn_I: float = 5.0, e_rev_E: float = 0.0, e_rev_I: float = -70.0,
                 v_thresh: float = -50.0, v_reset: float = -65.0, i_offset: float = 0.0):
        values = dict(v_rest=v_rest, cm=cm, tau_m=tau_m, tau_refrac=tau_refrac, tau_syn_E=tau_syn_E,
                      tau_syn_I=tau_syn_I, v_thresh=v_thresh, v_reset=v_reset, i_offset=i_offset,
                      e_rev_E=e_rev_E, e_rev_I=e_rev_I)
        _lif(self, "IF_cond_alpha", values, "alpha_exc * (e_rev_E - v) + alpha_inh * (e_rev_I - v)", True,
             "Leaky integrate-and-fire neuron with alpha-shaped post-synaptic conductances.")


def _eif(self, model: str, values: dict, alpha: bool, description: str) -> None:
    g_exc, g_inh = ("alpha_exc", "alpha_inh") if alpha else ("g_exc", "g_inh")
    equations = (_ALPHA_SCALE if alpha else "") + f"""
        I = {g_exc} * (e_rev_E - v) + {g_inh} * (e_rev_I - v) + i_offset
        tau_m * dv/dt = v_rest - v + delta_T * exp((v - v_thresh) / delta_T) + tau_m / cm * (I - w) : init = {number(model, 'v_reset', values['v_reset'])}
        tau_w * dw/dt = a * (v - v_rest) / 1000.0 - w
    """ + (_ALPHA_SYNAPSES if alpha else _EXP_SYNAPSES)
    Neuron.__init__(self, parameters=parameter_block(model, values), equations=equations,
                    spike="v > v_spike", reset="v = v_reset\nw += b", refractory="tau_refrac",
                    name="Adaptive exponential Integrate-and-Fire", description=description)


class EIF_cond_exp_isfa_ista(Neuron):
    """Adaptive exponential integrate-and-fire neuron (Brette and Gerstner, 2005): spike-triggered
    (``b``) and sub-threshold (``a``) adaptation ``w``, exponentially decaying conductances.
    ``v`` and ``w`` use explicit Euler, the conductances the exponential method; spike
    ``v > v_spike``, reset ``v = v_reset; w += b``, refractory period ``tau_refrac``."""

    def __init__(self, v_rest: float = -70.6, cm: float = 0.281, tau_m: float = 9.3667, tau_refrac: float = 0.1,
                 tau_syn_E: float = 5.0, tau_syn_I: float = 5.0, e_rev_E: float = 0.0, e_rev_I: float = -80.0,
                 tau_w: float = 144.0, a: float = 4.0, b: float = 0.0805, i_offset: float = 0.0,
                 delta_T: float = 2.0, v_thresh: float = -50.4, v_reset: float = -70.6, v_spike: float = -40.0):
        values = dict(v_rest=v_rest, cm=cm, tau_m=tau_m, tau_refrac=tau_refrac, tau_syn_E=tau_syn_E,
                      tau_syn_I=tau_syn_I, e_rev_E=e_rev_E, e_rev_I=e_rev_I, tau_w=tau_w, a=a, b=b,
                      i_offset=i_offset, delta_T=delta_T, v_thresh=v_thresh, v_reset=v_reset, v_spike=v_spike)
        _eif(self, "EIF_cond_exp_isfa_ista", values, False,
             "Exponential integrate-and-fire neuron with spike-triggered and sub-threshold adaptation "
             "currents, exponential post-synaptic conductances.")


class EIF_cond_alpha_isfa_ista(Neuron):
    """As :class:`EIF_cond_exp_isfa_ista`, with alpha-shaped post-synaptic conductances."""

    def __init__(self, v_rest: float = -70.6, cm: float = 0.281, tau_m: float = 9.3667, tau_refrac: float = 0.1,
                 tau_syn_E: float = 5.0, tau_syn_I: float = 5.0, e_rev_E: float = 0.0, e_rev_I: float = -80.0,
                 tau_w: float = 144.0, a: float = 4.0, b: float = 0.0805, i_offset: float = 0.0,
                 delta_T: float = 2.0, v_thresh: float = -50.4, v_reset: float = -70.6, v_spike: float = -40.0):
        values = dict(v_rest=v_rest, cm=cm, tau_m=tau_m, tau_refrac=tau_refrac, tau_syn_E=tau_syn_E,
                      tau_syn_I=tau_syn_I, e_rev_E=e_rev_E, e_rev_I=e_rev_I, tau_w=tau_w, a=a, b=b,
                      i_offset=i_offset, delta_T=delta_T, v_thresh=v_thresh, v_reset=v_reset, v_spike=v_spike)
        _eif(self, "EIF_cond_alpha_isfa_ista", values, True,
             "Exponential integrate-and-fire neuron with spike-triggered and sub-threshold adaptation "
             "currents, alpha-shaped post-synaptic conductances.")


class HH_cond_exp(Neuron):
    """Single-compartment Hodgkin-Huxley neuron with Traub's sodium and delayed-rectifier
    potassium channels and exponentially decaying conductances.

    The gating variables ``n``, ``m``, ``h``, the membrane potential (initially ``e_rev_leak``)
    and the conductances all use the exponential method; a spike is emitted when ``v`` crosses
    ``v_thresh`` upwards (``prev_v`` holds the value before the step); there is no reset.
    """

    def __init__(self, gbar_Na: float = 20.0, gbar_K: float = 6.0, gleak: float = 0.01, cm: float = 0.2,
                 v_offset: float = -63.0, e_rev_Na: float = 50.0, e_rev_K: float = -90.0, e_rev_leak: float = -65.0,
                 e_rev_E: float = 0.0, e_rev_I: float = -80.0, tau_syn_E: float = 0.2, tau_syn_I: float = 2.0,
                 i_offset: float = 0.0, v_thresh: float = 0.0):
        model = "HH_cond_exp"
        values = dict(gbar_Na=gbar_Na, gbar_K=gbar_K, gleak=gleak, cm=cm, v_offset=v_offset, e_rev_Na=e_rev_Na,
                      e_rev_K=e_rev_K, e_rev_leak=e_rev_leak, e_rev_E=e_rev_E, e_rev_I=e_rev_I,
                      tau_syn_E=tau_syn_E, tau_syn_I=tau_syn_I, i_offset=i_offset, v_thresh=v_thresh)
        equations = f"""
            prev_v = v
            # opening (a) and closing (b) rates of the gates
            an = 0.032 * (15.0 - v + v_offset) / (exp((15.0 - v + v_offset) / 5.0) - 1.0)
            am = 0.32 * (13.0 - v + v_offset) / (exp((13.0 - v + v_offset) / 4.0) - 1.0)
            ah = 0.128 * exp((17.0 - v + v_offset) / 18.0)
            bn = 0.5 * exp((10.0 - v + v_offset) / 40.0)
            bm = 0.28 * (v - v_offset - 40.0) / (exp((v - v_offset - 40.0) / 5.0) - 1.0)
            bh = 4.0 / (1.0 + exp(10.0 - v + v_offset))
            dn/dt = an * (1.0 - n) - bn * n : init = 0.0, exponential
            dm/dt = am * (1.0 - m) - bm * m : init = 0.0, exponential
            dh/dt = ah * (1.0 - h) - bh * h : init = 1.0, exponential
            cm * dv/dt = gleak * (e_rev_leak - v) + gbar_K * n^4 * (e_rev_K - v) + gbar_Na * m^3 * h * (e_rev_Na - v) + g_exc * (e_rev_E - v) + g_inh * (e_rev_I - v) + i_offset : exponential, init = {number(model, 'e_rev_leak', e_rev_leak)}
        """ + _EXP_SYNAPSES
        super().__init__(parameters=parameter_block(model, values), equations=equations,
                         spike="(v > v_thresh) and (prev_v <= v_thresh)", reset="",
                         name="Hodgkin-Huxley",
                         description="Single-compartment Hodgkin-Huxley neuron with Traub's channels.")


def _gif(self, model: str, values: dict, current: str, refractory_period, exp_inputs: bool, description: str):
    values = {k: float(number(model, k, v)) for k, v in values.items()}
    C_m = values.pop("C_m")
    parameters = {"tau_m": values["tau_m"], "R": values["tau_m"] / C_m}
    parameters.update((k, v) for k, v in values.items() if k != "tau_m")
    current = text(model, "current", current)
    extra = f" + {current}" if current else ""
    equations = [
        Variable(f"tau_m * du/dt = -u + u_r + R * I_ext{extra}", init=values["u_r"] if not exp_inputs else "u_r"),
        Variable("tau_v * dv/dt = -(v - u_th)", init="u_th"),   # adaptive threshold
        Variable("Lambda = c * exp((u - v) / delta_u)"),        # escape rate (Hz)
        Variable("p = Uniform(0.0, 1.0) * 1000.0 / dt"),
    ]
    if exp_inputs:
        equations += [Variable("tau_g_exc * dg_exc/dt = -g_exc"), Variable("tau_g_inh * dg_inh/dt = -g_inh")]
    Neuron.__init__(self, parameters=parameters, equations=equations, spike="p < Lambda",
                    reset="u = u_r\nv += J_v / tau_v", refractory=float(number(model, "refractory_period",
                                                                                refractory_period)),
                    name="GIF", description=description)


class GIF_curr(Neuron):
    """Generalised integrate-and-fire neuron with escape noise (Schwalger et al., 2017) and
    instantaneous input currents.

    ``tau_m * du/dt = -u + u_r + R * I_ext + current`` with ``R = tau_m / C_m``, an adaptive
    threshold ``tau_v * dv/dt = -(v - u_th)`` raised by ``J_v / tau_v`` at each spike; a neuron
    spikes with the rate ``Lambda = c * exp((u - v) / delta_u)`` (Hz).  Parameters are global.
    """

    def __init__(self, C_m: float = 250.0, tau_m: float = 10.0, tau_v: float = 1000.0, J_v: float = 1000,
                 u_r: float = -65.0, u_th: float = -50.0, c: float = 10.0, delta_u: float = 5.0,
                 I_ext: float = 375.0, current: str = "R*(g_exc - g_inh)", refractory_period: float = 0.0):
        values = dict(C_m=C_m, tau_m=tau_m, tau_v=tau_v, J_v=J_v, u_r=u_r, u_th=u_th, c=c, delta_u=delta_u,
                      I_ext=I_ext)
        _gif(self, "GIF_curr", values, current, refractory_period, False,
             "Generalised leaky integrate-and-fire neuron with escape noise and instantaneous currents.")


class GIF_curr_exp(Neuron):
    """As :class:`GIF_curr`, with exponentially decaying input currents (``tau_g_exc``,
    ``tau_g_inh``, explicit Euler)."""

    def __init__(self, C_m: float = 250.0, tau_m: float = 10.0, tau_v: float = 1000.0, J_v: float = 1000,
                 u_r: float = -65.0, u_th: float = -50.0, c: float = 10.0, delta_u: float = 5.0,
                 tau_g_exc: float = 5.0, tau_g_inh: float = 5.0, I_ext: float = 375.0,
                 current: str = "R*(g_exc - g_inh)", refractory_period: float = 0.0):
        values = dict(C_m=C_m, tau_m=tau_m, tau_v=tau_v, J_v=J_v, u_r=u_r, u_th=u_th, c=c, delta_u=delta_u,
                      tau_g_exc=tau_g_exc, tau_g_inh=tau_g_inh, I_ext=I_ext)
        _gif(self, "GIF_curr_exp", values, current, refractory_period, True,
             "Generalised leaky integrate-and-fire neuron with escape noise and exponential currents.")


def list_standard_neurons() -> list[type]:
    """The built-in neuron models (classes)."""
    return [LeakyIntegrator, Izhikevich, IF_curr_exp, IF_cond_exp, IF_curr_alpha, IF_cond_alpha, GIF_curr,
            GIF_curr_exp, HH_cond_exp, EIF_cond_alpha_isfa_ista, EIF_cond_exp_isfa_ista]
