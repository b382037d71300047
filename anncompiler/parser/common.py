"""What neurons and synapses share: functions, parameters, the equation list, name checks."""
from __future__ import annotations

import re

import sympy

from anncompiler.errors import EquationSyntaxError, FlagError, ModelError, UnknownNameError
from anncompiler.ir.model import ModelIR
from anncompiler.parser.attributes import check_name, parse_parameters, variable_attribute
from anncompiler.parser.checks import check_global_op_args, check_locality, check_names
from anncompiler.parser.expressions import Context, to_sympy
from anncompiler.parser.functions import parse_functions
from anncompiler.parser.lines import join_lines, split_statements
from anncompiler.parser.statements import parse_equation

BOOLEAN = (sympy.logic.boolalg.Boolean, sympy.core.relational.Relational)


def constant_names(constants) -> set:
    """Constants may come as names, Constant objects or a dict."""
    out = set()
    for c in constants or ():
        out.add(c if isinstance(c, str) else getattr(c, "name", str(c)))
    return out


class ModelBuilder:
    """Fills a ModelIR step by step; subclasses add neuron/synapse specifics."""

    kind = "model"
    special: set = set()  # names valid in every expression of this kind of model
    reserved: tuple = ()  # extra names that cannot be attributes here

    def __init__(self, definition, constants=(), global_functions=None):
        self.d = definition
        self.name = definition.name
        self.constants = constant_names(constants)
        self.ctx = Context(model=self.name)
        self.ir = ModelIR(name=self.name, kind=self.kind, type=definition.type)
        self.checked: list = []  # (expr, source) pairs whose names are checked at the end
        own = parse_functions(definition.functions, self.name, global_functions)
        self.ir.functions = own
        self.ctx.functions = {**(global_functions or {}), **own}

    # -- pieces -------------------------------------------------------------
    def parameters(self) -> None:
        self.ir.attributes = parse_parameters(self.d.parameters, self.kind, self.ctx)
        for a in self.ir.attributes.values():
            if isinstance(a.init, sympy.Basic):
                self.checked.append((a.init, a.source))

    def equations(self) -> None:
        params = {n for n, a in self.ir.attributes.items()}
        variables: dict = {}
        for stmt in split_statements(self.d.equations):
            eq = parse_equation(stmt, self.ctx, not_grads=params)
            name = eq.target
            check_name(name, self.ctx, self.reserved)
            if name in self.ir.attributes:
                raise self.ctx.error(ModelError, f"'{name}' is a parameter; it cannot also have an "
                                     "equation", name=name, column=self.ctx.column_of(name))
            if name in variables:
                if eq.kind == "ode" or any(e.kind == "ode" for e in self.ir.equations if e.target == name):
                    raise self.ctx.error(ModelError, f"'{name}' has an ODE and another equation; "
                                         "a variable can have only one ODE", name=name)
            attr = variable_attribute(name, stmt, self.kind, self.ctx, variables.get(name))
            if eq.method:
                attr.method = eq.method
            variables[name] = attr
            self.ir.equations.append(eq)
            self.checked.append((eq.rhs, stmt.source))
            for bound in (attr.init, attr.min, attr.max):
                if isinstance(bound, sympy.Basic):
                    self.checked.append((bound, stmt.source))
        self.ir.attributes.update(variables)

    def statements(self, value, *, remote: bool, allowed_targets) -> list:
        """reset / pre_spike / post_spike: assignments and increments only."""
        out = []
        for stmt in split_statements(value):
            eq = parse_equation(stmt, self.ctx, allow_ode=False, remote=remote,
                                not_grads=set(self.ir.attributes))
            if not (eq.target in self.ir.attributes or eq.target in allowed_targets
                    or (remote and eq.target.startswith("post.")) or self.may_assign(eq.target)):
                raise self.ctx.error(UnknownNameError, f"cannot assign unknown name '{eq.target}'",
                                     name=eq.target, column=self.ctx.column_of(eq.target))
            out.append(eq)
            self.checked.append((eq.rhs, stmt.source))
        return out

    def may_assign(self, name: str) -> bool:
        """Extra targets allowed in reset/pre_spike/post_spike (g_xxx of spiking neurons)."""
        return False

    def expression(self, value, what: str, condition: bool = False):
        """A one-expression argument (spike, psp) -> sympy."""
        text = join_lines(value)
        self.ctx.source = text
        expr = to_sympy(text, self.ctx)
        if condition and not isinstance(expr, BOOLEAN):
            attr = self.ir.attributes.get(getattr(expr, "name", None))
            if attr is None or attr.type != "bool":
                raise self.ctx.error(EquationSyntaxError, f"the {what} must be a condition (e.g. 'v > v_T')")
        self.checked.append((expr, text))
        return expr

    def refractory(self, value):
        if value is None:
            return None
        self.ctx.source = str(value)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.ctx.error(ModelError, "refractory must be a number or the name of an attribute")
        if isinstance(value, str):
            text = value.strip()
            try:
                return sympy.Float(float(text))
            except ValueError:
                pass
            if text in self.ir.attributes or text in self.constants:
                return sympy.Symbol(text)
            raise self.ctx.error(UnknownNameError, f"refractory names an unknown attribute '{text}'",
                                 name=text, column=0)
        return sympy.Float(value)

    # -- final checks ---------------------------------------------------------
    def _unless_post_only_in_pre_spike(self) -> None:
        """``unless_post`` skips a ``pre_spike`` statement; anywhere else it would do nothing."""
        ir = self.ir
        for eq in ir.equations + ir.reset + ir.axon_reset + ir.post_spike + ir.pre_axon_spike:
            if eq.unless_post:
                self.ctx.source = eq.source
                raise self.ctx.error(FlagError, "the flag 'unless_post' applies only to pre_spike statements",
                                     name="unless_post", column=self.ctx.column_of("unless_post"))

    def allowed(self) -> set:
        return set(self.ir.attributes) | self.constants | {"t", "dt"} | self.special

    def check(self) -> None:
        self._unless_post_only_in_pre_spike()
        allowed = self.allowed()
        for expr, source in self.checked:
            self.ctx.source = source
            check_names(expr, self.ctx, allowed, self.kind)
            check_global_op_args(expr, self.ctx, self.ir.attributes, self.kind)
        for eq in self.ir.equations:
            attr = self.ir.attributes[eq.target]
            self.ctx.source = eq.source
            check_locality(eq, attr.locality, self.ctx, self.ir.attributes, self.kind)


def first_positions(sources, pattern) -> dict:
    """Name -> position of its first textual appearance, to order targets."""
    pos: dict = {}
    k = 0
    for src in sources:
        for m in re.finditer(pattern, src):
            name = next(g for g in m.groups() if g is not None)
            pos.setdefault(name, k + m.start())
        k += len(src) + 1
    return pos
