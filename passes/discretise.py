"""``discretise-odes``: turn each model's equations into explicit updates (the discrete IR).

Rules (docs/semantics.md, "Neuron updates"): variables in declaration order; consecutive ODEs
form a block integrated from the old values of the whole block, then the
block's bounds are applied; assignments run sequentially and see values
updated before them; global (population-wide) equations run before local
ones.  Each method produces ``let`` temporaries then ``set`` statements.

Methods (``x`` the old value, ``f`` the gradient, all evaluated from the old
values of the block):

* ``explicit``      ``x += dt*f(x)``
* ``implicit``      backward Euler ``x_new = x + dt*f(x_new)``; every implicit
  ODE of a block is solved jointly as one linear system in the new values
  (Cramer's rule at compile time); not linear in the new values ->
  :class:`NonLinearODEError`.
* ``semiimplicit``  ``tau*dx/dt + x = A``: ``x += dt/(dt+tau)*(A - x)`` per
  equation (implicit in its own variable only, like ANNarchy).
* ``exponential``   ``x += (1 - exp(-dt/tau))*(A - x)`` (ANNarchy's form).
* ``event-driven``  (neurons) ``x = A + (x - A)*exp(-dt/tau)``: the exact
  solution over one step.
* ``midpoint``, ``rk4`` jointly over the block's ODEs that use them.

The linear methods need ``tau`` and ``A`` free of ``x`` (otherwise
NonLinearODEError); when ``x`` does not appear in the gradient at all
(``dx/dt = b``) they fall back to the explicit step, which is then exact for
the step.  A block may mix methods: each equation then uses its own method,
all of them from the old values of the block (implicit ODEs treat the
block's non-implicit variables as their old values); only a midpoint or rk4
ODE cannot be *coupled* (one uses the other's variable) to a block ODE with
another method (ModelError, as in ANNarchy); independent ODEs may mix freely.
"""
from __future__ import annotations

from typing import Literal

import sympy
from sympy.solvers.solveset import NonlinearError

from anncompiler.errors import ModelError, NonLinearODEError
from anncompiler.ir.model import Equation, ModelIR, Update
from anncompiler.ir.stable_relations import piecewise, stable_xreplace

from .manager import Pass, register_pass

DT = sympy.Symbol("dt")


def _subs(expr, mapping):
    return stable_xreplace(expr, mapping) if mapping else expr


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


def _cramer(matrix: sympy.Matrix, rhs: sympy.Matrix):
    """Determinant and numerators of Cramer's rule (no simplification)."""
    n = matrix.shape[0]
    if n == 1:
        return matrix[0, 0], [rhs[0]]
    det = matrix.det(method="berkowitz")
    nums = []
    for i in range(n):
        m = matrix.copy()
        m[:, i] = rhs
        nums.append(m.det(method="berkowitz"))
    return det, nums


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
        # ANNarchy's ``if (x < min) x = min;``: a NaN x stays NaN (pos/neg/clip, Max/Min in
        # the translator, give the bound instead, as ANNarchy's macros do)
        if a.min is not None:
            self.set(target, piecewise((a.min, x < a.min), (x, True)), f"{target} >= {a.min}")
        if a.max is not None:
            self.set(target, piecewise((a.max, x > a.max), (x, True)), f"{target} <= {a.max}")

    # blocks ------------------------------------------------------------
    def block(self, eqs: list[Equation]):
        method = {e.target: self.method_of(e) for e in eqs}
        rk = {"midpoint", "rk4"}
        for e in eqs:
            # a midpoint/rk4 ODE coupled to a block ODE with another method
            for s in e.rhs.free_symbols:
                other = method.get(s.name)
                if other is not None and other != method[e.target] and rk & {other, method[e.target]}:
                    raise ModelError("coupled ODEs integrated with midpoint or rk4 must all use the same "
                                     f"method ('{e.target}' uses {method[e.target]}, '{s.name}' uses {other})",
                                     model=self.model.name, equation=e.source, name=s.name)
        new = {}
        for m in ("midpoint", "rk4"):
            stages = [e for e in eqs if method[e.target] == m]
            if stages:
                new.update(self.runge_kutta(stages, m))
        implicit = [e for e in eqs if self.method_of(e) == "implicit"]
        if implicit:
            new.update(self.implicit_block(implicit))
        for e in eqs:
            m = self.method_of(e)
            if m in ("midpoint", "rk4", "implicit"):
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

    def event_driven(self, e: Equation):
        x = sympy.Symbol(e.target)
        a, b = _linear_coefficients(self.model, e)
        if a == 0:
            return self.explicit(e)
        # tau*dx/dt + x = A: exact solution over dt, x = A + (x - A)*exp(-dt/tau)
        steady = -b / a
        return self.let(f"_new_{e.target}", steady + (x - steady) * sympy.exp(a * DT), e.target, e.source)

    def implicit(self, e: Equation):
        return self.implicit_block([e])[e.target]

    def implicit_block(self, eqs: list[Equation]):
        """Backward Euler over the implicit ODEs of a block, solved jointly.

        ``x_new = x + dt*f(x_new)`` for every block variable ``x`` (the other
        block variables keep their old values); the system must be linear in
        the new values.
        """
        xs = [sympy.Symbol(e.target) for e in eqs]
        news = [sympy.Dummy(f"{e.target}_new") for e in eqs]
        to_new = dict(zip(xs, news))
        residuals = []
        for e, x, xn in zip(eqs, xs, news):
            r = xn - x - DT * e.rhs.xreplace(to_new)
            if r.has(*news):
                r = sympy.expand(r)
                for v in news:
                    if r.has(v) and sympy.diff(r, v).has(*news):
                        raise NonLinearODEError(
                            f"the implicit method needs an ODE linear in the new value of "
                            f"'{v.name[:-4]}'" + (" (coupled block)" if len(eqs) > 1 else ""),
                            model=self.model.name, equation=e.source, name=e.target)
            residuals.append(r)
        try:
            matrix, rhs = sympy.linear_eq_to_matrix(residuals, news)
        except NonlinearError as exc:  # pragma: no cover - caught above
            raise NonLinearODEError(f"the implicit method needs a linear ODE ({exc})",
                                    model=self.model.name, equation=eqs[0].source) from None
        det, nums = _cramer(matrix, rhs)
        if sympy.expand(det) == 0:
            raise NonLinearODEError("the implicit system has no unique solution",
                                    model=self.model.name, equation=eqs[0].source, name=eqs[0].target)
        if len(eqs) == 1:
            e = eqs[0]
            return {e.target: self.let(f"_new_{e.target}", nums[0] / det, e.target, e.source)}
        # the shared determinant runs whenever any of the block's updates runs
        owner = next((e for e in eqs if not self.masked(e.target)), eqs[0])
        d = self.let(f"_det_{eqs[0].target}", det, owner.target, owner.source)
        return {e.target: self.let(f"_new_{e.target}", n / d, e.target, e.source)
                for e, n in zip(eqs, nums)}

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
    """Fill ``model.updates`` (globals first), ``model.reset_updates`` and
    ``model.axon_reset_updates``."""
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
    model.axon_reset_updates = _Discretiser(model, default_method).run(model.axon_reset)
    for u in model.axon_reset_updates:
        u.masked_in_refractory = False


SYNAPSE_LOCALITIES = ("global", "semiglobal", "local")


#: milliseconds since the last event of a synapse, in ``ModelIR.event_updates``
ELAPSED = sympy.Symbol("_elapsed")


def discretise_synapse(model: ModelIR, default_method: str = "explicit") -> None:
    """Fill ``model.updates`` of a synapse: its global updates, then the semiglobal ones (one per
    post-synaptic neuron), then the local ones (one per synapse), each group by the rules above;
    and ``model.event_updates``: the exact decay of each event-driven variable over ``_elapsed``
    ms, ``x = A + (x - A)*exp(-_elapsed/tau)``, applied lazily at the synapse's events."""
    method = _Discretiser(model, default_method).method_of
    lazy = [e for e in model.equations if e.kind == "ode" and method(e) == "event-driven"]
    model.event_updates = [_event_driven(model, e) for e in lazy]
    names = {e.target for e in lazy}
    readers = [(e.source, e.rhs) for e in model.equations if e not in lazy]
    readers += [("psp", model.psp)] if model.psp is not None else []
    for source, expr in readers:  # they would read a value not decayed since the last event
        used = sorted(names & {s.name for s in expr.free_symbols})
        if used:
            raise ModelError(f"the event-driven variable '{used[0]}' cannot be read by a continuous "
                             "equation or the psp", model=model.name, equation=source)
    model.updates = []
    for locality in SYNAPSE_LOCALITIES:
        eqs = [e for e in model.equations if model.attributes[e.target].locality == locality and e not in lazy]
        model.updates += _Discretiser(model, default_method).run(eqs)


def _event_driven(model: ModelIR, eq: Equation) -> Update:
    """``dx/dt = a*x + b`` with a, b free of variables: ``x = A + (x - A)*exp(a*_elapsed)``, A = -b/a."""
    a, b = _linear_coefficients(model, eq)
    variables = {s for s in (a + b).free_symbols if s.name in model.variables or "." in s.name}
    if a == 0 or variables:
        raise NonLinearODEError(f"an event-driven variable needs dx/dt = (A - x)/tau with A and tau free of "
                                f"variables{' (' + ', '.join(sorted(map(str, variables))) + ')' if variables else ''}",
                                model=model.name, equation=eq.source, name=eq.target)
    x, A = sympy.Symbol(eq.target), sympy.simplify(-b / a)
    decay = sympy.exp(a * ELAPSED)
    return Update(eq.target, x * decay if A == 0 else A + (x - A) * decay, "set", False, eq.source)


Method = Literal["", "explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4", "runge-kutta4",
                 "exact", "event-driven"]


@register_pass
class DiscretiseODEs(Pass):
    """Replace every ODE by its explicit discrete update (method per equation)."""
    name = "discretise-odes"
    #: the method of ODEs that name none ("": the network's ``config(method=...)``)
    method: Method = ""

    def run(self, module):
        default = self.method or module.options.get("method", "explicit")
        for m in module.network.models():
            if m.kind == "neuron":
                discretise_model(m, default)
            elif m.equations:
                discretise_synapse(m, default)
