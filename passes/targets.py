"""``check-model`` and ``resolve-targets``: checks that need the whole network.

The parser checks one model alone; these passes check a model against the
populations it is connected to (``pre.x`` exists, a spiking post neuron has
``g_target`` for every target it receives) and fix what depends on the
graph (a synapse fed by a spiking population is spiking).
"""
from __future__ import annotations

import copy

import numpy as np
import sympy

from anncompiler.errors import ModelError, NetworkError, NotSupportedError
from anncompiler.ir.model import Equation, ref_of

from .manager import Pass, register_pass


def _names(expr) -> set[str]:
    return {s.name for s in sympy.sympify(expr).free_symbols}


@register_pass
class CheckModel(Pass):
    """Every ``pre.x``/``post.x`` of a synapse exists in the connected populations."""
    name = "check-model"

    def run(self, module):
        net = module.network
        for e in net.projections:
            if e.kind:  # no psp: its own input kernel (passes/lowering/specialised.py)
                if np.size(e.connectivity.delays) and np.rint(np.max(e.connectivity.delays) / net.dt) > 1:
                    raise NotSupportedError(f"projection {e.name}: delays of a {e.kind.replace('_', ' ')} "
                                            f"projection longer than one step are not supported yet")
                continue
            syn = e.synapse
            exprs = [syn.psp] if syn.psp is not None else []
            exprs += [eq.rhs for eq in syn.pre_spike + syn.post_spike + syn.equations]
            for expr in exprs:
                for ref in map(ref_of, _names(expr)):
                    if not ref.side or ref.kind != "name":
                        continue
                    pop_name = e.pre if ref.side == "pre" else e.post
                    pop = net.population(pop_name)
                    if ref.name not in pop.model.attributes:
                        raise ModelError(
                            f"'{ref}' is used by projection {e.name}, but population {pop_name} "
                            f"(model '{pop.model.name}') has no attribute '{ref.name}'",
                            model=syn.name, name=str(ref))


@register_pass
class ResolveTargets(Pass):
    """Fix synapse types from the pre population and check every target has a receiver.

    A synapse without ``pre_spike`` fed by a spiking population is spiking: with the default psp
    it transmits ``g_target += w`` at each spike; with its own ``psp`` (gap junctions, NMDA-like
    synapses) it transmits continuously, ``psp`` summed over the dendrite into ``g_target`` at
    every step.  A spiking post neuron receives ``g_target`` in its conductance ``g_<target>``
    when its model uses one (a local variable), else in ``sum(<target>)``, zeroed at each step."""
    name = "resolve-targets"

    def run(self, module):
        net = module.network
        for e in net.projections:
            pre, post = net.population(e.pre), net.population(e.post)
            if e.kind:  # its own input kernel checks its populations (passes/lowering/specialised.py)
                continue
            if pre.model.type == "spike" and e.synapse.type == "rate":
                e.synapse = _as_spiking(e)
            if e.synapse.type == "spike" and pre.model.type != "spike":
                raise NetworkError(f"projection {e.name}: a spiking synapse needs a spiking pre-synaptic "
                                   f"population, but {e.pre} is rate-coded")
            if e.synapse.type != "spike":
                continue
            if any(eq.target == "g_target" for eq in e.synapse.pre_spike) and post.model.type != "spike":
                raise NetworkError(f"projection {e.name}: spikes of {e.pre} cannot increment the inputs of the "
                                   f"rate-coded population {e.post} (a continuous psp, or a DecodingProjection, "
                                   "turns spikes into rates)")
            for t in e.targets if post.model.type == "spike" else ():
                a = post.model.attributes.get(f"g_{t}")
                if a is not None and (a.role != "variable" or a.locality != "local"):
                    raise NetworkError(
                        f"projection {e.name}: target '{t}' needs 'g_{t}' of the post-synaptic neuron "
                        f"'{post.model.name}' (population {e.post}) to be a local variable, but it is a "
                        f"{a.locality} {a.role}")


def _as_spiking(e):
    """The rate-coded synapse of a projection from a spiking population, made spiking."""
    syn = copy.copy(e.synapse)
    syn.type = "spike"
    default_psp = sympy.Symbol("w") * sympy.Symbol("pre.r")
    if syn.psp is not None and syn.psp != default_psp:  # continuous transmission
        if syn.operation != "sum":
            raise NetworkError(f"projection {e.name}: operation '{syn.operation}' is only available for "
                               "rate-coded synapses (the pre-synaptic population is spiking)")
        syn.pre_spike = []
        return syn
    syn.psp = None
    syn.pre_spike = [Equation("g_target", "increment", sympy.Symbol("w"), "+", source="g_target += w")]
    return syn
