"""Neuron analysis: ``r`` rules, conductances ``g_xxx`` and targets, spike/reset/refractory."""
from __future__ import annotations

import sympy

from anncompiler.errors import MissingVariableError, ModelError
from anncompiler.ir.model import Attribute, Condition, Equation
from anncompiler.parser.checks import symbol_names
from anncompiler.parser.common import ModelBuilder, first_positions

_TARGET_RE = r"(?<![\w.])sum\s*\(\s*([A-Za-z_]\w*)\s*\)|(?<![\w.])g_(\w+)"


def _given(value) -> bool:
    return value not in (None, "", [], ())


class NeuronBuilder(ModelBuilder):
    kind = "neuron"

    def build(self):
        d, ir = self.d, self.ir
        spiking = d.spike is not None
        if spiking:
            self.special = {"t_last"}
        self.parameters()
        self.equations()
        if spiking:
            ir.spike = Condition(self.expression(d.spike, "spike condition", condition=True),
                                 source=self.ctx.source)
            ir.reset = self.statements(d.reset, remote=False, allowed_targets=())
            self._check_reset(ir.reset)
            self._axon_spike()
            self._conductances()
            ir.refractory = self.refractory(d.refractory)
        elif _given(d.axon_spike) or _given(d.axon_reset):
            raise ModelError("'axon_spike' and 'axon_reset' need a spiking neuron (give 'spike')",
                             model=self.name, name="axon_spike" if _given(d.axon_spike) else "axon_reset")
        self._targets()
        self.check()
        self._check_r(spiking)
        return ir

    def _check_reset(self, reset) -> None:
        """A reset changes variables: assigning a parameter (constant during the simulation) is
        refused, naming the reset statement."""
        for eq in reset:
            attr = self.ir.attributes.get(eq.target)
            if attr is not None and attr.role == "parameter":
                self.ctx.source = eq.source
                raise self.ctx.error(ModelError, f"the reset assigns the parameter '{eq.target}'; a parameter "
                                     "is constant during the simulation: declare it as a variable "
                                     "(an equation) to change it in the reset",
                                     name=eq.target, column=self.ctx.column_of(eq.target))

    def _axon_spike(self) -> None:
        """``axon_spike``: a condition that emits an axonal spike (no regular spike, no refractory
        period); ``axon_reset``: the statements run on an axonal spike."""
        d, ir = self.d, self.ir
        if not _given(d.axon_spike):
            if _given(d.axon_reset):
                raise ModelError("'axon_reset' needs an 'axon_spike' condition", model=self.name, name="axon_reset")
            return
        ir.axon_spike = Condition(self.expression(d.axon_spike, "axon spike condition", condition=True),
                                  source=self.ctx.source)
        ir.axon_reset = self.statements(d.axon_reset, remote=False, allowed_targets=())
        self._check_reset(ir.axon_reset)

    def may_assign(self, name: str) -> bool:
        return self.ir.type == "spike" and name.startswith("g_") and len(name) > 2

    def _conductances(self) -> None:
        """Every ``g_xxx`` mentioned is a local variable; without an equation it resets to 0."""
        ir = self.ir
        names = set()
        for expr, _ in self.checked:
            names |= {n for n in symbol_names(expr) if n.startswith("g_") and len(n) > 2}
        resets = ir.reset + ir.axon_reset
        names |= {e.target for e in ir.equations + resets if e.target.startswith("g_") and len(e.target) > 2}
        sources = [e.source for e in ir.equations] + [ir.spike.source] + [e.source for e in resets]
        order = first_positions(sources, r"(?<![\w.])(g_\w+)")
        for name in sorted(names, key=lambda n: order.get(n, 1 << 30)):
            attr = ir.attributes.get(name)
            if attr is not None and attr.role == "parameter":
                continue
            if attr is None:
                ir.attributes[name] = Attribute(name, role="variable", locality="local", type="float",
                                                init=0.0, source=f"{name} (conductance of target {name[2:]})")
            if not any(e.target == name for e in ir.equations):
                ir.equations.append(Equation(target=name, kind="assign", rhs=sympy.Integer(0),
                                             source=f"{name} = 0  (reset after every step)"))

    def _targets(self) -> None:
        ir = self.ir
        found = set(self.ctx.targets)
        if ir.type == "spike":
            found |= {n[2:] for n, a in ir.attributes.items()
                      if n.startswith("g_") and len(n) > 2 and a.role == "variable"}
        sources = [e.source for e in ir.equations]
        if ir.spike is not None:
            sources += [ir.spike.source] + [e.source for e in ir.reset]
        order = first_positions(sources, _TARGET_RE)
        ir.targets = sorted(found, key=lambda n: (order.get(n, 1 << 30), n))

    def _check_r(self, spiking: bool) -> None:
        has_r = "r" in self.ir.attributes
        if spiking and has_r:
            src = self.ir.attributes["r"].source
            raise MissingVariableError("a spiking neuron cannot define 'r': it is reserved for the "
                                       "mean firing rate", model=self.name, equation=src, name="r")
        if not spiking and not has_r:
            raise MissingVariableError("a rate-coded neuron must define the variable 'r'",
                                       model=self.name, equation=self._all_equations(), name="r")

    def _all_equations(self) -> str:
        return "; ".join(e.source for e in self.ir.equations) or "(no equations)"
