"""Model IR: one typed description per Neuron or Synapse type.

Built by ``anncompiler.parser`` from the user's equation strings.  Every
expression is a sympy expression whose free symbols are attribute names or
the special names below; nothing downstream parses strings again.

Special symbol names (sympy ``Symbol`` names, printed as is):

- ``t``, ``dt``: time in ms and the step size;
- ``sum(exc)``: the weighted sum of target ``exc`` (rate-coded input);
- ``pre.x`` / ``post.x``: attributes of the pre/post neuron in synapses;
- ``g_exc`` is an ordinary attribute of a spiking neuron (its target ``exc``).

Function calls kept as sympy undefined functions, lowered later by name:
``round``, ``modulo`` (C's ``long(a) % long(b)``), ``c_int``/``c_bool`` (C conversions,
from typed functions), random draws (``Normal(mu, sigma)``,
...), global operations (``mean(r)``, ...).  ``pos``/``neg``/``clip`` become
``Max``/``Min``, ``ite`` and if-blocks become ``Piecewise``.  ``as_is(x)`` is the identity: it
wraps the sides of a comparison that sympy would otherwise rewrite for ever
(``ir.stable_relations``).

After ``discretise-odes`` (the *discrete IR*), ``ModelIR.updates`` holds the
explicit update statements (:class:`Update`), and ODEs are gone from the
update path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import sympy

LOCALITIES = ("local", "semiglobal", "global")
ROLES = ("parameter", "variable")
ATTR_TYPES = ("float", "int", "bool")
EQ_KINDS = ("ode", "assign", "increment")
METHODS = ("explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4", "event-driven")


#: global operations in model expressions (``mean(r)`` in an equation): user name -> sympy head
GLOBAL_OPS = {"mean": sympy.Function("mean"), "max": sympy.Function("gmax"),
              "min": sympy.Function("gmin"), "norm1": sympy.Function("norm1"),
              "norm2": sympy.Function("norm2")}
GLOBAL_OP_NAMES = {f.__name__ for f in GLOBAL_OPS.values()}
#: sympy head -> the name the user writes (``gmax`` -> ``max``)
GLOBAL_OP_USER_NAMES = {f.__name__: user for user, f in GLOBAL_OPS.items()}


@dataclass(frozen=True)
class Ref:
    """What a name in a model expression refers to.

    The equation language spells references to other objects inside symbol names (``pre.r``,
    ``post.sum(exc)``, ``sum(exc)``) and global operations as calls (``mean(r)``); :func:`ref_of`
    and :func:`global_op_ref` read that spelling once, and every pass dispatches on the result.

    ``side``: "" (the model's own neuron or synapse), "pre" or "post" (the population at that end
    of a projection).  ``kind``: "name" (an attribute, a temporary, a constant, ``t``, ``dt``...),
    "sum" (a weighted sum of inputs: ``name`` is the target, "" for all of them) or "global" (a
    global operation ``op`` of attribute ``name``, as of the previous step).
    """
    name: str
    side: str = ""
    kind: str = "name"
    op: str = ""

    def __str__(self) -> str:  # the spelling of the equation language, for messages
        text = {"name": self.name, "sum": f"sum({self.name})", "global": f"{self.op}({self.name})"}[self.kind]
        return f"{self.side}.{text}" if self.side else text


def ref_of(name: str) -> Ref:
    """The reference a symbol name spells (``pre.r``, ``post.sum(exc)``, ``sum()``, ``tau``)."""
    side = ""
    for prefix in ("pre.", "post."):
        if name.startswith(prefix):
            side, name = prefix[:-1], name[len(prefix):]
            break
    if name.startswith("sum(") and name.endswith(")"):
        return Ref(name[4:-1].strip(), side, "sum")
    return Ref(name, side)


def global_op_ref(head: str, argument) -> Ref:
    """The reference of a global operation from its sympy head (``gmax``) and argument."""
    return Ref(str(argument), kind="global", op=GLOBAL_OP_USER_NAMES[head])


@dataclass(frozen=True)
class GivenInit:
    """The values of a parameter given as a sampler object in the definition's ``parameters``
    (``dict(tau=Uniform(5, 10, rng=...))``): the front end samples the user's object, which the
    IR does not hold."""
    name: str

    def __str__(self) -> str:
        return f"<values of {self.name} given in the definition>"


@dataclass(frozen=True)
class RandomInit:
    """``init = Uniform(0.0, 1.0)`` written in a model: a distribution with literal arguments,
    which the front end samples when it gives the attribute its values."""
    distribution: str
    args: tuple = ()
    kwargs: tuple = ()  # (name, value) pairs

    def __str__(self) -> str:
        items = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"{self.distribution}({', '.join(items)})"


@dataclass
class Attribute:
    """A parameter or variable of a model.

    ``init`` is a number, a sympy expression over parameters/constants (an
    ``init=param`` flag), or an opaque distribution object sampled by the
    front end.  ``min``/``max`` are sympy expressions or None.
    """
    name: str
    role: str = "variable"
    locality: str = "local"
    type: str = "float"
    init: object = 0.0
    min: Optional[sympy.Expr] = None
    max: Optional[sympy.Expr] = None
    method: Optional[str] = None
    source: str = ""


@dataclass
class Equation:
    """One line of ``equations`` (or of ``reset``, ``pre_spike``, ...).

    For ``ode``, ``rhs`` is the solved gradient ``dx/dt``.  For ``assign``
    it is the new value; for ``increment`` it is the right side and ``op`` the
    operator (``+``, ``-``, ``*``, ``/``), i.e. ``x op= rhs``.  ``unless_post`` (``pre_spike``
    statements only): skipped when the post-synaptic neuron spiked at the step of the pre spike.
    """
    target: str
    kind: str
    rhs: sympy.Expr
    op: Optional[str] = None
    method: Optional[str] = None
    source: str = ""
    unless_post: bool = False

    def as_assignment(self) -> sympy.Expr:
        """The new value of ``target`` for assignments and increments."""
        if self.kind == "assign":
            return self.rhs
        if self.kind != "increment":
            raise ValueError("an ODE has no assignment form before discretisation")
        x = sympy.Symbol(self.target)
        return {"+": x + self.rhs, "-": x - self.rhs, "*": x * self.rhs, "/": x / self.rhs}[self.op]


@dataclass
class Condition:
    """A boolean expression: spike condition, stop condition, ..."""
    expr: sympy.Basic
    source: str = ""
    mode: str = "any"  # stop_condition ': any' / ': all'


@dataclass
class Function:
    """A user function ``f(x, y) = expr``: inlined where called."""
    name: str
    args: tuple[str, ...]
    body: sympy.Expr
    types: tuple[str, ...] = ()
    source: str = ""


# discrete IR ---------------------------------------------------------------

@dataclass
class Update:
    """One explicit statement of the discrete IR, executed in order.

    ``target`` is an attribute name (``kind='set'``) or a temporary
    (``kind='let'``, its name starts with ``_``).  ``masked_in_refractory``
    is True for statements that a refractory neuron skips.
    """
    target: str
    value: sympy.Basic
    kind: str = "set"
    masked_in_refractory: bool = False
    source: str = ""


@dataclass
class ModelIR:
    name: str
    kind: str  # 'neuron' | 'synapse'
    type: str  # 'rate' | 'spike'
    attributes: dict[str, Attribute] = field(default_factory=dict)
    equations: list[Equation] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)
    spike: Optional[Condition] = None
    reset: list[Equation] = field(default_factory=list)
    refractory: Optional[sympy.Expr] = None
    stop_condition: Optional[Condition] = None
    #: spiking neurons: the axonal spike condition and the statements run on an axonal spike
    axon_spike: Optional[Condition] = None
    axon_reset: list[Equation] = field(default_factory=list)
    # synapses
    psp: Optional[sympy.Expr] = None
    operation: str = "sum"
    pre_spike: list[Equation] = field(default_factory=list)
    post_spike: list[Equation] = field(default_factory=list)
    #: synapses: what an axonal spike of the pre-synaptic neuron runs: "" (nothing), "own" (the
    #: ``g_target`` statements of ``pre_axon_spike``) or "pre_spike" (``pre_axon_spike`` is the
    #: text of ``pre_spike``: every ``pre_spike`` statement, as for a spike)
    axon_events: str = ""
    pre_axon_spike: list[Equation] = field(default_factory=list)
    #: random draws of the model, numbered when it is parsed (``ir/draws.py``)
    draws: int = 0
    # discrete IR (after discretise-odes)
    updates: Optional[list[Update]] = None
    reset_updates: Optional[list[Update]] = None
    axon_reset_updates: Optional[list[Update]] = None
    #: synapses: closed-form decay of the event-driven variables over ``_elapsed`` ms, applied at
    #: each pre- or post-synaptic event of a synapse (not every step)
    event_updates: Optional[list[Update]] = None

    @property
    def parameters(self) -> list[str]:
        return [a.name for a in self.attributes.values() if a.role == "parameter"]

    @property
    def variables(self) -> list[str]:
        return [a.name for a in self.attributes.values() if a.role == "variable"]

    @property
    def assigned(self) -> set[str]:
        """What the synapse's equations and events write (``w`` among them: a learned weight)."""
        return {eq.target for eq in self.equations + self.pre_spike + self.post_spike}


# printer -------------------------------------------------------------------

def _fmt_attr(a: Attribute) -> str:
    flags = [a.role, a.locality, a.type]
    if a.init is not None:
        flags.append(f"init={a.init}")
    if a.min is not None:
        flags.append(f"min={a.min}")
    if a.max is not None:
        flags.append(f"max={a.max}")
    if a.method:
        flags.append(a.method)
    return f"  attr {a.name}: " + ", ".join(str(f) for f in flags)


def _fmt_eq(e: Equation) -> str:
    if e.kind == "ode":
        m = f"  [{e.method}]" if e.method else ""
        return f"d{e.target}/dt = {e.rhs}{m}"
    if e.kind == "increment":
        return f"{e.target} {e.op}= {e.rhs}"
    return f"{e.target} = {e.rhs}"


def format_model(m: ModelIR) -> str:
    out = [f"{m.kind} {m.name} ({m.type}-coded):" if m.type == "rate" else f"{m.kind} {m.name} (spiking):"]
    for a in m.attributes.values():
        out.append(_fmt_attr(a))
    if m.targets:
        out.append(f"  targets: {', '.join(m.targets)}")
    for f in m.functions.values():
        out.append(f"  function {f.name}({', '.join(f.args)}) = {f.body}")
    if m.updates is None:
        for e in m.equations:
            out.append("  eq " + _fmt_eq(e))
    else:
        for u in m.updates:
            mask = "  [masked in refractory]" if u.masked_in_refractory else ""
            out.append(f"  {u.kind} {u.target} = {u.value}{mask}")
    for u in m.event_updates or []:
        out.append(f"  on event {u.kind} {u.target} = {u.value}")
    if m.spike is not None:
        out.append(f"  spike if {m.spike.expr}")
    for e in m.reset:
        out.append("  reset " + _fmt_eq(e))
    if m.axon_spike is not None:
        out.append(f"  axon spike if {m.axon_spike.expr}")
    for e in m.axon_reset:
        out.append("  axon reset " + _fmt_eq(e))
    if m.refractory is not None:
        out.append(f"  refractory {m.refractory}")
    if m.stop_condition is not None:
        out.append(f"  stop if {m.stop_condition.expr} ({m.stop_condition.mode})")
    if m.psp is not None:
        out.append(f"  psp = {m.psp}  (operation {m.operation})")
    for e in m.pre_spike:
        out.append("  pre_spike " + _fmt_eq(e) + ("  [unless post]" if e.unless_post else ""))
    for e in m.post_spike:
        out.append("  post_spike " + _fmt_eq(e))
    if m.axon_events == "pre_spike":
        out.append("  pre_axon_spike: the pre_spike statements")
    for e in m.pre_axon_spike:
        out.append("  pre_axon_spike " + _fmt_eq(e))
    return "\n".join(out)


# verifier ------------------------------------------------------------------

def _is_remote_target(m: ModelIR, name: str) -> bool:
    """Synapse statements may write the post neuron: ``g_target`` or ``post.x``."""
    return m.kind == "synapse" and (name == "g_target" or name.startswith("post."))


def verify_model(m: ModelIR) -> None:
    """Check the structural invariants that every pass must keep."""
    from anncompiler.errors import IRVerificationError

    def fail(msg):
        raise IRVerificationError(f"model IR '{m.name}': {msg}")

    if m.kind not in ("neuron", "synapse"):
        fail(f"unknown kind {m.kind!r}")
    if m.type not in ("rate", "spike"):
        fail(f"unknown type {m.type!r}")
    for name, a in m.attributes.items():
        if name != a.name:
            fail(f"attribute key {name!r} holds {a.name!r}")
        if a.locality not in LOCALITIES or a.role not in ROLES or a.type not in ATTR_TYPES:
            fail(f"attribute {name!r} has a bad locality/role/type")
    for e in m.equations + m.reset + m.axon_reset + m.pre_spike + m.post_spike + m.pre_axon_spike:
        if e.kind not in EQ_KINDS:
            fail(f"equation for {e.target!r} has unknown kind {e.kind!r}")
        if e.target not in m.attributes and not _is_remote_target(m, e.target):
            fail(f"equation updates {e.target!r}, which is not an attribute")
        if e.kind == "increment" and e.op not in ("+", "-", "*", "/"):
            fail(f"increment of {e.target!r} has operator {e.op!r}")
        if e.method is not None and e.method not in METHODS:
            fail(f"equation for {e.target!r} has unknown method {e.method!r}")
    if m.updates is not None:
        temps = set()
        for u in m.updates:
            if u.kind == "let":
                temps.add(u.target)
            elif u.target not in m.attributes:
                fail(f"update sets {u.target!r}, which is not an attribute")
    if m.axon_events not in ("", "own", "pre_spike"):
        fail(f"unknown axon_events {m.axon_events!r}")
    if m.kind == "neuron" and m.type == "rate" and "r" not in m.attributes:
        fail("rate-coded neuron without 'r'")
