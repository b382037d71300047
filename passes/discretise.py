"""``discretise-odes``: turn each model's equations into explicit updates (the discrete IR).

Rules (ANNARCHY.md §5.3): variables in declaration order; consecutive ODEs
form a block integrated from the old values of the whole block, then the
block's bounds are applied; assignments run sequentially and see values
updated before them; global (population-wide) equations run before local
ones.  Each method produces ``let`` temporaries then ``set`` statements.
"""
from __future__ import annotations

import sympy

from anncompiler.errors import ModelError, NonLinearODEError
from anncompiler.ir.model import Equation, ModelIR, Update

from .manager import Pass, register_pass

DT = sympy.Symbol("dt")


def _subs(expr, mapping):
    return expr.xreplace(mapping) if mapping else expr


def _linear_coefficients(model: ModelIR, eq: Equation):
    """``f = a*x + b`` with a, b free of x, or NonLinearODEError."""
    x = sympy.Symbol(eq.target)
    f = sympy.expand(eq.rhs) if eq.rhs.has(x) else eq.rhs
    a = sympy.diff(f, x)
    if a.has(x):
        raise NonLinearODEError(
            f"the {eq.method} method needs an ODE linear in '{eq.target}'", model=model.name,
            equation=eq.source, name=eq.target)
    b = sympy.expand(f - a * x)
    return a, b


class _Discretiser:
    def __init__(self, model: ModelIR, default_method: str):
        self.model = model
        self.default = default_method
        self.out: list[Update] = []

    def method_of(self, eq: Equation) -> str:
        m = eq.method or self.model.attributes[eq.target].method or self.default
        return {"runge-kutta4": "rk4", "exact": "event-driven"}.get(m, m)

    def masked(self, target: str) -> bool:
        return self.model.type == "spike" and not target.startswith("g_")

    def let(self, name, value, target, source=""):
        self.out.append(Update(name, value, "let", self.masked(target), source))
        return sympy.Symbol(name)

    def set(self, target, value, source=""):
        self.out.append(Update(target, value, "set", self.masked(target), source))

    def bounds(self, target):
        a = self.model.attributes[target]
        x = sympy.Symbol(target)
        if a.min is not None:
            self.set(target, sympy.Max(x, a.min, evaluate=False), f"{target} >= {a.min}")
        if a.max is not None:
            self.set(target, sympy.Min(x, a.max, evaluate=False), f"{target} <= {a.max}")

    # blocks ------------------------------------------------------------
    def block(self, eqs: list[Equation]):
        methods = {self.method_of(e) for e in eqs}
        if len(eqs) > 1 and len(methods) > 1 and methods & {"midpoint", "rk4"}:
            raise ModelError("coupled ODEs integrated with midpoint or rk4 must all use the same method",
                             model=self.model.name, equation=eqs[0].source)
        new = {}
        stages = [e for e in eqs if self.method_of(e) in ("midpoint", "rk4")]
        if stages:
            new.update(self.runge_kutta(stages, self.method_of(stages[0])))
        for e in eqs:
            m = self.method_of(e)
            if m in ("midpoint", "rk4"):
                continue
            new[e.target] = getattr(self, m.replace("-", "_"))(e)
        for e in eqs:
            self.set(e.target, new[e.target], e.source)
        for e in eqs:
            self.bounds(e.target)

    def explicit(self, e: Equation):
        x = sympy.Symbol(e.target)
        d = self.let(f"_d_{e.target}", e.rhs, e.target, e.source)
        return x + DT * d

    def exponential(self, e: Equation):
        x = sympy.Symbol(e.target)
        a, b = _linear_coefficients(self.model, e)
        if a == 0:
            return self.explicit(e)
        # tau*dx/dt + x = A  with tau = -1/a, A = -b/a
        step = self.let(f"_d_{e.target}", (1 - sympy.exp(a * DT)) * (-b / a - x), e.target, e.source)
        return x + step

    event_driven = exponential

    def implicit(self, e: Equation):
        x = sympy.Symbol(e.target)
        a, b = _linear_coefficients(self.model, e)
        # x_new = x + dt*(a*x_new + b)
        return self.let(f"_new_{e.target}", (x + DT * b) / (1 - DT * a), e.target, e.source)

    def semiimplicit(self, e: Equation):
        x = sympy.Symbol(e.target)
        a, b = _linear_coefficients(self.model, e)
        if a == 0:
            return self.explicit(e)
        # tau*dx/dt + x = A : x += dt/(dt+tau)*(A - x), tau = -1/a
        tau, big_a = -1 / a, -b / a
        return x + self.let(f"_d_{e.target}", DT / (DT + tau) * (big_a - x), e.target, e.source)

    def runge_kutta(self, eqs: list[Equation], method: str):
        xs = [sympy.Symbol(e.target) for e in eqs]
        half = sympy.Rational(1, 2)

        def stage(k, shift_from, scale):
            mapping = {} if shift_from is None else {x: x + scale * s for x, s in zip(xs, shift_from)}
            return [self.let(f"_k{k}_{e.target}", DT * _subs(e.rhs, mapping), e.target, e.source)
                    for e in eqs]

        k1 = stage(1, None, 0)
        if method == "midpoint":
            k2 = stage(2, k1, half)
            return {e.target: x + k for e, x, k in zip(eqs, xs, k2)}
        k2 = stage(2, k1, half)
        k3 = stage(3, k2, half)
        k4 = stage(4, k3, 1)
        return {e.target: x + (a + 2 * b + 2 * c + d) / 6
                for e, x, a, b, c, d in zip(eqs, xs, k1, k2, k3, k4)}

    # driver ------------------------------------------------------------
    def run(self, eqs: list[Equation]) -> list[Update]:
        block: list[Equation] = []
        for e in eqs:
            if e.kind == "ode":
                block.append(e)
                continue
            if block:
                self.block(block)
                block = []
            self.set(e.target, e.as_assignment(), e.source)
            self.bounds(e.target)
        if block:
            self.block(block)
        return self.out


def discretise_model(model: ModelIR, default_method: str = "explicit") -> None:
    """Fill ``model.updates`` (globals first) and ``model.reset_updates``."""
    glob = [e for e in model.equations if model.attributes[e.target].locality == "global"]
    loc = [e for e in model.equations if model.attributes[e.target].locality != "global"]
    model.updates = _Discretiser(model, default_method).run(glob) + _Discretiser(model, default_method).run(loc)
    reset = _Discretiser(model, default_method)
    for e in model.reset:
        if e.kind == "ode":
            raise ModelError("an ODE cannot appear in reset", model=model.name, equation=e.source)
    model.reset_updates = reset.run(model.reset)
    for u in model.reset_updates:
        u.masked_in_refractory = False


@register_pass
class DiscretiseODEs(Pass):
    """Replace every ODE by its explicit discrete update (method per equation)."""
    name = "discretise-odes"
    method: str = ""

    def run(self, module):
        default = self.method or module.options.get("method", "explicit")
        for m in module.network.models():
            if m.kind == "neuron":
                discretise_model(m, default)
