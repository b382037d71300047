"""Built-in synapse models, with ANNarchy 5's names, constructor arguments and defaults.

Each class is an ordinary :class:`~anncompiler.Synapse` written in the equation language.
Parameters are global (one value per projection) unless said otherwise.
"""
from __future__ import annotations

from anncompiler.core.models import Synapse
from anncompiler.errors import InvalidValueError

from ._common import number, parameter_block

__all__ = ["DefaultRateCodedSynapse", "DefaultSpikingSynapse", "Hebb", "Oja", "IBCM", "STP", "STDP",
           "list_standard_synapses"]


class DefaultRateCodedSynapse(Synapse):
    """The synapse of a rate-coded projection given none: ``psp = w * pre.r``."""

    def __init__(self):
        super().__init__(psp="w * pre.r", name="-", description="Weighted sum of firing rates.")


class DefaultSpikingSynapse(Synapse):
    """The synapse of a spiking projection given none: ``g_target += w`` at each pre-synaptic spike."""

    def __init__(self):
        super().__init__(pre_spike="g_target += w", name="Event-driven synapse",
                         description="Increases the post-synaptic conductance by the weight at each "
                                     "pre-synaptic spike.")


def _shared(model: str, values: dict) -> str:
    return parameter_block(model, values, shared=tuple(values), flag="projection")


class Hebb(Synapse):
    """Rate-coded Hebbian learning: ``dw/dt = eta * pre.r * post.r``, ``w >= 0``, explicit Euler."""

    def __init__(self, eta: float = 0.01):
        super().__init__(parameters=_shared("Hebb", dict(eta=eta)),
                         equations="dw/dt = eta * pre.r * post.r : min = 0.0, explicit",
                         name="Hebbian Plasticity", description="Simple Hebbian learning rule.")


class Oja(Synapse):
    """Rate-coded Hebbian learning regularised by Oja's rule:
    ``dw/dt = eta * (pre.r * post.r - alpha * post.r^2 * w)``, ``w >= 0``, explicit Euler."""

    def __init__(self, eta: float = 0.01, alpha: float = 1.0):
        super().__init__(parameters=_shared("Oja", dict(eta=eta, alpha=alpha)),
                         equations="dw/dt = eta * (pre.r * post.r - alpha * post.r^2 * w) : min = 0.0, explicit",
                         name="Oja plasticity", description="Regularised Hebbian learning rule.")


class IBCM(Synapse):
    """Rate-coded BCM learning in the form of Intrator and Cooper (1992): a sliding threshold
    ``tau * dtheta/dt + theta = post.r^2`` per post-synaptic neuron (exponential method) and
    ``dw/dt = eta * post.r * (post.r - theta) * pre.r``, ``w >= 0``, explicit Euler."""

    def __init__(self, eta: float = 0.01, tau: float = 2000.0):
        super().__init__(parameters=_shared("IBCM", dict(eta=eta, tau=tau)),
                         equations="""
                             tau * dtheta/dt + theta = post.r^2 : postsynaptic, exponential
                             dw/dt = eta * post.r * (post.r - theta) * pre.r : min = 0.0, explicit
                         """, name="IBCM", description="Intrator and Cooper (1992) learning rule.")


class STP(Synapse):
    """Short-term depression and facilitation (Tsodyks and Markram): resources ``x`` recover to 1
    with ``tau_rec``, utilisation ``u`` relaxes to ``U`` with ``tau_facil`` (both event-driven);
    each pre-synaptic spike adds ``w * u * x`` to ``g_target``, then ``x *= 1 - u`` and
    ``u += U * (1 - u)``.  ``tau_rec`` and ``tau_facil`` are global, ``U`` local."""

    def __init__(self, tau_rec: float = 100.0, tau_facil: float = 0.01, U: float = 0.5):
        if not float(number("STP", "tau_facil", tau_facil)) > 0.0:
            raise InvalidValueError(f"STP: tau_facil must be positive (a very small value removes "
                                    f"facilitation), not {tau_facil!r}")
        parameters = parameter_block("STP", dict(tau_rec=tau_rec, tau_facil=tau_facil, U=U),
                                     shared=("tau_rec", "tau_facil"), flag="projection")
        super().__init__(parameters=parameters,
                         equations=f"""
                             dx/dt = (1 - x) / tau_rec : init = 1.0, event-driven
                             du/dt = (U - u) / tau_facil : init = {number('STP', 'U', U)}, event-driven
                         """,
                         pre_spike="""
                             g_target += w * u * x
                             x *= (1 - u)
                             u += U * (1 - u)
                         """, name="Short-term plasticity",
                         description="Short-term facilitation and depression (Tsodyks and Markram).")


class STDP(Synapse):
    """Online pair-based spike-timing-dependent plasticity with event-driven traces ``x``
    (pre, ``tau_plus``) and ``y`` (post, ``tau_minus``): a pre spike adds ``w`` to ``g_target``,
    ``A_plus * w_max`` to ``x`` and ``y`` to ``w``; a post spike subtracts ``A_minus * w_max``
    from ``y`` and adds ``x`` to ``w``; ``w`` stays in ``[w_min, w_max]``."""

    def __init__(self, tau_plus: float = 20.0, tau_minus: float = 20.0, A_plus: float = 0.01,
                 A_minus: float = 0.01, w_min: float = 0.0, w_max: float = 1.0):
        values = dict(tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus, A_minus=A_minus,
                      w_min=w_min, w_max=w_max)
        super().__init__(parameters=_shared("STDP", values),
                         equations="""
                             tau_plus * dx/dt = -x : event-driven
                             tau_minus * dy/dt = -y : event-driven
                         """,
                         pre_spike="""
                             g_target += w
                             x += A_plus * w_max
                             w = clip(w + y, w_min, w_max)
                         """,
                         post_spike="""
                             y -= A_minus * w_max
                             w = clip(w + x, w_min, w_max)
                         """, name="Spike-timing dependent plasticity",
                         description="Online spike-timing-dependent plasticity with event-driven traces.")


def list_standard_synapses() -> list[type]:
    """The built-in plastic synapse models (classes; the two default synapses are not listed)."""
    return [STP, STDP, Hebb, Oja, IBCM]
