"""Synapse analysis: implicit ``w``, psp default, pre/post spike statements."""
from __future__ import annotations

import sympy

from anncompiler.errors import ModelError, UnknownNameError
from anncompiler.ir.model import Attribute, Equation
from anncompiler.parser.common import ModelBuilder


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
        self._no_g_target_reads()
        self.check()
        return ir

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
