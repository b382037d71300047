"""BOLD models: ``BoldModel`` and the balloon models ANNarchy ships.

All follow the balloon model (Buxton et al., 1998) with the neurovascular coupling of Friston et
al. (2000): a damped oscillator turns the input ``I_CBF`` into the blood inflow ``f_in``; the
venous volume ``v`` and deoxyhemoglobin ``q`` follow; the BOLD signal combines ``q`` and ``v``.
Stephan et al. (2007) compare four variants, named by two letters: the coefficients ``k_1,
k_2, k_3`` classic (C, Buxton 1998) or revised (R, Obata et al., 2004), and the BOLD equation
non-linear (N) or linear (L). Time constants are in seconds: ``second = 1000`` ms converts.
"""
from __future__ import annotations

import re

from anncompiler.core.models import Neuron
from anncompiler.errors import InvalidTypeError, InvalidValueError


def _names(value, what: str) -> list[str]:
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if not names or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise InvalidTypeError(f"BoldModel: {what} is a name or a list of names, not {value!r}")
    return names


_DEFINES_R = re.compile(r"^\s*(?:r|dr\s*/\s*dt|[\w.]+\s*\*\s*dr\s*/\s*dt)\s*(?:=|\+=|-=)", re.M)


def _defines_r(equations) -> bool:
    items = equations if isinstance(equations, (list, tuple)) else [equations]
    text = "\n".join(getattr(item, "equation", item) if not isinstance(item, str) else item
                     for item in items if item is not None)
    return bool(_DEFINES_R.search(text.replace(";", "\n"))) if isinstance(text, str) else False


class BoldModel(Neuron):
    """A rate-coded neuron model for a BOLD monitor: it receives the monitored signals as the
    weighted sums ``sum(I)`` of its ``inputs`` (for example ``I_CBF``) and computes ``output``
    (``BOLD`` in the predefined models). It need not define ``r`` (a constant 0 is added)."""

    def __init__(self, parameters, equations, inputs, output=("BOLD",), name="Custom BOLD model",
                 description=""):
        if not _defines_r(equations):
            if isinstance(equations, (list, tuple)):
                equations = list(equations) + ["r = 0.0"]
            elif isinstance(equations, str):
                equations = equations + "\nr = 0.0"
        super().__init__(parameters=parameters, equations=equations, name=name, description=description)
        self._inputs = _names(inputs, "inputs")
        self._output = _names(output, "output")
        self._model_instantiated = False  # set by a BoldMonitor (ANNarchy's report reads it)


def _parameters(values: dict) -> str:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidValueError(f"BOLD model: parameter {key} is a number, not {value!r}")
    lines = ["second = 1000.0 : population"]
    lines += [f"{key} = {float(value)!r} : population" for key, value in values.items()]
    return "\n".join(lines)


#: the balloon: input -> flow (Friston 2000), volume and deoxyhemoglobin (Buxton 1998)
_BALLOON = """
I_CBF = sum(I_CBF) : init=0
ds/dt = (phi * I_CBF - kappa * s - gamma * (f_in - 1)) / second : init=0
df_in/dt = s / second : init=1, min=0.01
E = 1 - (1 - E_0)**(1 / f_in) : init=0.3424
dq/dt = (f_in * E / E_0 - (q / v) * f_out) / (tau * second) : init=1, min=0.01
dv/dt = (f_in - f_out) / (tau * second) : init=1, min=0.01
f_out = v**(1 / alpha) : init=1, min=0.01
"""
_CLASSIC = """
k_1 = (1 - V_0) * 4.3 * v_0 * E_0 * TE
k_2 = 2 * E_0
k_3 = 1 - epsilon
"""
_REVISED = """
k_1 = 4.3 * v_0 * E_0 * TE
k_2 = epsilon * r_0 * E_0 * TE
k_3 = 1 - epsilon
"""
_NONLINEAR = "BOLD = V_0 * (k_1 * (1 - q) + k_2 * (1 - q / v) + k_3 * (1 - v)) : init=0\n"
_LINEAR = "BOLD = V_0 * ((k_1 + k_2) * (1 - q) + (k_3 - k_2) * (1 - v)) : init=0\n"


class _Balloon(BoldModel):
    _coefficients, _bold, _label, _describe = "", "", "", ""

    def _build(self, values: dict):
        BoldModel.__init__(self, parameters=_parameters(values),
                           equations=_BALLOON + self._coefficients + self._bold, inputs="I_CBF", output="BOLD",
                           name=f"BOLD model {self._label}",
                           description=f"BOLD computation with {self._describe} (Stephan et al., 2007).")


class balloon_CN(_Balloon):
    """Balloon model, classic coefficients, non-linear BOLD equation (Stephan et al., 2007).

    ``phi``: input coefficient; ``kappa``: signal decay; ``gamma``: feedback regulation;
    ``E_0``: oxygen extraction fraction at rest; ``tau``: time constant (s); ``alpha``: vessel
    stiffness; ``V_0``: resting venous blood volume fraction; ``v_0``: frequency offset at the
    outer surface of the magnetised vessel for fully deoxygenated blood at 1.5 T; ``TE``: echo
    time (s); ``epsilon``: ratio of intra- and extravascular signal.
    """
    _coefficients, _bold, _label = _CLASSIC, _NONLINEAR, "CN"
    _describe = "classic coefficients and a non-linear BOLD equation"

    def __init__(self, phi=1.0, kappa=1 / 1.54, gamma=1 / 2.46, E_0=0.34, tau=0.98, alpha=0.33, V_0=0.02,
                 v_0=40.3, TE=40 / 1000.0, epsilon=1.43):
        self._build(dict(phi=phi, kappa=kappa, gamma=gamma, E_0=E_0, tau=tau, alpha=alpha, V_0=V_0, v_0=v_0,
                         TE=TE, epsilon=epsilon))


class balloon_CL(balloon_CN):
    """Balloon model, classic coefficients, linear BOLD equation (Stephan et al., 2007);
    parameters as :class:`balloon_CN`."""
    _coefficients, _bold, _label = _CLASSIC, _LINEAR, "CL"
    _describe = "classic coefficients and a linear BOLD equation"


class balloon_RN(_Balloon):
    """Balloon model, revised coefficients, non-linear BOLD equation (Stephan et al., 2007): the
    default of a BoldMonitor. Parameters as :class:`balloon_CN`, and ``r_0``: slope of the
    relation between the intravascular relaxation rate and the oxygen saturation."""
    _coefficients, _bold, _label = _REVISED, _NONLINEAR, "RN"
    _describe = "revised coefficients and a non-linear BOLD equation"

    def __init__(self, phi=1.0, kappa=1 / 1.54, gamma=1 / 2.46, E_0=0.34, tau=0.98, alpha=0.33, V_0=0.02,
                 v_0=40.3, TE=40 / 1000.0, epsilon=1.43, r_0=25.0):
        self._build(dict(phi=phi, kappa=kappa, gamma=gamma, E_0=E_0, tau=tau, alpha=alpha, V_0=V_0, v_0=v_0,
                         TE=TE, epsilon=epsilon, r_0=r_0))


class balloon_RL(balloon_RN):
    """Balloon model, revised coefficients, linear BOLD equation (Stephan et al., 2007);
    parameters as :class:`balloon_RN`."""
    _coefficients, _bold, _label = _REVISED, _LINEAR, "RL"
    _describe = "revised coefficients and a linear BOLD equation"


class balloon_maith2021(_Balloon):
    """The balloon model of Maith et al. (2021, 2022): the non-linear BOLD equation with the
    coefficients of Friston et al. (2000), ``k_1 = 7 E_0``, ``k_2 = 2``, ``k_3 = 2 E_0 - 0.2``,
    and parameters fitted there."""
    _coefficients = "k_1 = 7 * E_0\nk_2 = 2.0\nk_3 = 2 * E_0 - 0.2\n"
    _bold, _label = _NONLINEAR, "Maith2021"
    _describe = "the coefficients of Friston et al. (2000) as in Maith et al. (2021)"

    def __init__(self, phi=1.0, kappa=0.665, gamma=0.412, E_0=0.3424, tau=1.0368, alpha=0.3215, V_0=0.02):
        self._build(dict(phi=phi, kappa=kappa, gamma=gamma, E_0=E_0, tau=tau, alpha=alpha, V_0=V_0))


_TWO_INPUTS = """
I_CBF = sum(I_CBF) : init=0
second * ds_CBF/dt = phi_CBF * I_CBF - kappa_CBF * s_CBF - gamma_CBF * (f_in - 1) : init=0
second * df_in/dt = s_CBF : init=1, min=0.01
I_CMRO2 = sum(I_CMRO2) : init=0
second * ds_CMRO2/dt = phi_CMRO2 * I_CMRO2 * (gamma_CMRO2 / gamma_CBF) - kappa_CMRO2 * s_CMRO2 - gamma_CMRO2 * (r - 1) : init=0
second * dr/dt = s_CMRO2 : init=1, min=0.01
dv = f_in - v**(1 / alpha)
tau_out = if dv > 0: tau_out1 else: tau_out2
f_out = v**(1 / alpha) + tau_out * dv / (tau + tau_out) : init=1, min=0.01
dq/dt = (r - (q / v) * f_out) / (second * tau) : init=1, min=0.01
dv/dt = dv / (tau + tau_out) / second : init=1, min=0.01
k_1 = 4.3 * v_0 * E_0 * TE
k_2 = epsilon * r_0 * E_0 * TE
k_3 = 1 - epsilon
BOLD = V_0 * (k_1 * (1 - q) + k_2 * (1 - q / v) + k_3 * (1 - v)) : init=0
"""


class balloon_two_inputs(BoldModel):
    """Two inputs: ``I_CBF`` drives the blood flow ``f_in`` and ``I_CMRO2`` the oxygen metabolism
    ``r`` (Buxton et al., 2004), each through a damped oscillator (Friston et al., 2000;
    the CMRO2 one ten times stiffer and critically damped, the CBF one underdamped), then the
    balloon with a viscoelastic outflow (time constant ``tau_out1`` while inflating,
    ``tau_out2`` while deflating) and the non-linear BOLD equation with revised coefficients
    (Stephan et al., 2007). ``r`` is the (normalised) oxygen metabolism."""

    def __init__(self, kappa_CBF=0.7650920556760059, gamma_CBF=1 / 2.46, kappa_CMRO2=4.032389192727559,
                 gamma_CMRO2=10 / 2.46, phi_CBF=1.0, phi_CMRO2=1.0, E_0=0.34, tau=0.98, alpha=0.33, V_0=0.02,
                 v_0=40.3, TE=40 / 1000.0, epsilon=1.0, r_0=25.0, tau_out1=0.0, tau_out2=20.0):
        values = dict(kappa_CBF=kappa_CBF, gamma_CBF=gamma_CBF, kappa_CMRO2=kappa_CMRO2, gamma_CMRO2=gamma_CMRO2,
                      phi_CBF=phi_CBF, phi_CMRO2=phi_CMRO2, E_0=E_0, tau=tau, alpha=alpha, V_0=V_0, v_0=v_0,
                      TE=TE, epsilon=epsilon, r_0=r_0, tau_out1=tau_out1, tau_out2=tau_out2)
        super().__init__(parameters=_parameters(values), equations=_TWO_INPUTS, inputs=["I_CBF", "I_CMRO2"],
                         output="BOLD", name="BOLD model with two inputs",
                         description="BOLD model with two inputs (CBF-driving and CMRO2-driving): the "
                                     "neurovascular coupling of Friston et al. (2000) and the non-linear "
                                     "balloon model with revised coefficients (Buxton et al., 1998; "
                                     "Stephan et al., 2007).")


__all__ = ["BoldModel", "balloon_CN", "balloon_CL", "balloon_RN", "balloon_RL", "balloon_maith2021",
           "balloon_two_inputs"]
