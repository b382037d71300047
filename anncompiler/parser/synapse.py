"""Synapse analysis: implicit ``w``, psp default, pre/post spike statements."""
from __future__ import annotations

import sympy

from anncompiler.errors import ModelError, UnknownNameError
from anncompiler.ir.model import Attribute, Equation
from anncompiler.parser.common import ModelBuilder


def _normalised(text) -> str:
    """Statements as text, without blank lines or surrounding spaces, to compare two of them."""
    lines = text if isinstance(text, (list, tuple)) else str(text).splitlines()
    return "\n".join(line.strip() for line in lines if str(line).strip())


class SynapseBuilder(ModelBuilder):
    kind = "synapse"
    special = {"t_pre", "t_post"}
    reserved = ("g_target", "pre", "post")

    def build(self):
        d, ir = self.d, self.ir
        self.parameters()
        self.equations()
        if "w" not in ir.attributes:
            self._implicit_w()
        ir.operation = d.operation
        if ir.type == "spike" and d.operation != "sum":
            raise ModelError(f"operation '{d.operation}' is only available for rate-coded synapses",
                             model=self.name, name=d.operation)
        if d.psp is not None and str(d.psp).strip():
            ir.psp = self.expression(d.psp, "psp")
        elif ir.type == "rate":
            ir.psp = sympy.Symbol("w") * sympy.Symbol("pre.r")
        if d.pre_spike is not None:
            ir.pre_spike = self.statements(d.pre_spike, remote=True, allowed_targets=("g_target",))
            if ir.psp is None and not any(e.target == "g_target" for e in ir.pre_spike):
                ir.pre_spike.insert(0, Equation(target="g_target", kind="increment", rhs=sympy.Symbol("w"),
                                                op="+", source="g_target += w  (default)"))
        if d.post_spike is not None:
            ir.post_spike = self.statements(d.post_spike, remote=True, allowed_targets=("g_target",))
        self._pre_axon_spike()
        self._no_g_target_reads()
        self.check()
        return ir

    def _pre_axon_spike(self) -> None:
        """What an axonal spike of the pre-synaptic neuron runs.  The same text as ``pre_spike``:
        every ``pre_spike`` statement, as for a spike; another text: ``g_target`` statements only
        (the restriction of ANNarchy, which runs nothing else on an axonal spike)."""
        d, ir = self.d, self.ir
        text = getattr(d, "pre_axon_spike", None)
        if text in (None, "", [], ()):
            return
        if d.pre_spike is not None and _normalised(text) == _normalised(d.pre_spike):
            ir.axon_events = "pre_spike"
            return
        ir.axon_events = "own"
        ir.pre_axon_spike = self.statements(text, remote=True, allowed_targets=("g_target",))
        for eq in ir.pre_axon_spike:
            if eq.target != "g_target":
                self.ctx.source = eq.source
                raise self.ctx.error(ModelError, f"pre_axon_spike can only change 'g_target' (found '{eq.target}'); "
                                     "to run the same statements as for a spike, give pre_axon_spike the "
                                     "text of pre_spike", name=eq.target, column=self.ctx.column_of(eq.target))

    def _implicit_w(self) -> None:
        """``w`` is a local float parameter when not declared: placed after the parameters."""
        attrs = self.ir.attributes
        params = [(n, a) for n, a in attrs.items() if a.role == "parameter"]
        rest = [(n, a) for n, a in attrs.items() if a.role != "parameter"]
        w = Attribute("w", role="parameter", locality="local", type="float", init=0.0,
                      source="w (implicit weight)")
        self.ir.attributes = dict(params + [("w", w)] + rest)

    def _no_g_target_reads(self) -> None:
        for expr, source in self.checked:
            if isinstance(expr, sympy.Basic) and sympy.Symbol("g_target") in expr.free_symbols:
                self.ctx.source = source
                raise self.ctx.error(UnknownNameError, "'g_target' can only be written "
                                     "('g_target += ...'), not read", name="g_target",
                                     column=source.find("g_target"))
