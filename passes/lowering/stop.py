"""``stop_condition`` and the early exit of ``simulate_until`` (docs/semantics.md, "Stop conditions").

A population created with ``stop_condition="r > 1.0 : any"`` (parsed by
``parse_condition`` into ``PopulationNode.data["stop_condition"]``) gets

* ``P._stop`` (bool[1]): the condition of the step just computed: true if it
  holds for any neuron (``: any``, the default) or for all neurons
  (``: all``); neurons are tested in ascending rank, global attributes,
  constants, ``dt`` and ``t`` may appear.  ``t`` is the time *after* the
  step, i.e. ``net.time`` when ``simulate_until`` returns (ANNarchy tests
  the condition after ``step()`` has incremented its time).
* ``P._until_armed`` (bool[1]): set by ``simulate_until`` for the
  populations it watches; the ``stop-conditions`` kernel of a population
  runs only while it is armed, so a plain ``simulate`` pays nothing.

and the network gets ``net._until_active`` (bool[1], true only inside
``simulate_until``) and ``net._until_or`` (bool[1]: the operator, true for
``'or'``), so one compiled module serves every call.  The kernel module's
exit condition is::

    active and (or ? OR_p(armed_p and stop_p) : AND_p(not armed_p or stop_p))

tested by the native loop after every step (after recording and the step
counter increment): the loop stops after the first step where it holds.
The ``stop-conditions`` phase comes after every state update of the step,
just before recording.
"""
from __future__ import annotations

from anncompiler.errors import ModelError
from anncompiler.ir.kernel import BinOp, Cast, Const, Expr, If, Kernel, Let, Logic, Loop, UnOp, Var
from anncompiler.ir.model import Ref
from anncompiler.ir.network import PopulationNode
from anncompiler.ir.types import BOOL, I64

from .context import LoweringContext, c64
from .globalops import global_op_calls
from .neurons import I, resolver
from .random import replace_random_expr

ACTIVE = "net._until_active"
OR = "net._until_or"


def has_stop_condition(p: PopulationNode) -> bool:
    return p.data.get("stop_condition") is not None


def stop_array(name: str) -> str:
    return f"{name}._stop"


def armed_array(name: str) -> str:
    return f"{name}._until_armed"


def declare_stop(ctx: LoweringContext, p: PopulationNode) -> None:
    if not has_stop_condition(p):
        return
    if ACTIVE not in ctx.km.arrays:
        ctx.declare(ACTIVE, BOOL, 1, "internal", False, handle=("net", "until_active"))
        ctx.declare(OR, BOOL, 1, "internal", False, handle=("net", "until_or"))
    ctx.declare(stop_array(p.name), BOOL, 1, "state", False, handle=(p.name, "stop"))
    ctx.declare(armed_array(p.name), BOOL, 1, "internal", False, handle=(p.name, "until_armed"))


def _stop_resolver(ctx: LoweringContext, p: PopulationNode):
    base = resolver(ctx, p, I)
    after = BinOp("*", Cast(BinOp("+", ctx.load("net.t", 0), c64(1), I64), ctx.ft),
                  Const(float(ctx.net.dt), ctx.ft), ctx.ft)

    def resolve(ref: Ref) -> Expr:
        return after if ref == Ref("t") else base(ref)
    return resolve


def stop_kernel(ctx: LoweringContext, p: PopulationNode) -> Kernel:
    cond = p.data["stop_condition"]
    m = p.model
    if global_op_calls(cond.expr):
        raise ModelError("global operations are not allowed in a stop condition", model=m.name,
                         equation=cond.source or None)
    res = _stop_resolver(ctx, p)
    lets, expr = replace_random_expr(ctx, p, cond.source, cond.expr, res, I)
    tr = ctx.translator(res, m.name, cond.source)
    test = tr.boolean(tr(expr))
    acc = Var("_stop", BOOL)
    mode = cond.mode
    body = [Let(acc, Const(mode == "all", BOOL)),
            Loop(I, c64(0), c64(p.size), lets + [Let(acc, Logic("and" if mode == "all" else "or", acc, test))],
                 f"neurons:{p.name}"),
            ctx.store(stop_array(p.name), 0, acc)]
    return Kernel(f"stop_{p.name}", "stop-conditions", [If(ctx.load(armed_array(p.name), 0), body)],
                  f"stop condition of {p.name}: {cond.source}")


def stop_exit_condition(ctx: LoweringContext, names: list[str]) -> Expr | None:
    """The exit condition combining the stop flags of the populations ``names``."""
    if not names:
        return None
    and_expr = or_expr = None
    for n in names:
        armed, stop = ctx.load(armed_array(n), 0), ctx.load(stop_array(n), 0)
        a = Logic("or", UnOp("not", armed, BOOL), stop)
        o = Logic("and", armed, stop)
        and_expr = a if and_expr is None else Logic("and", and_expr, a)
        or_expr = o if or_expr is None else Logic("or", or_expr, o)
    is_or = ctx.load(OR, 0)
    combined = Logic("or", Logic("and", is_or, or_expr), Logic("and", UnOp("not", is_or, BOOL), and_expr))
    return Logic("and", ctx.load(ACTIVE, 0), combined)


def stop_kernels(ctx: LoweringContext, pops: list[PopulationNode]) -> list[Kernel]:
    """The ``stop-conditions`` phase: one kernel per population, and the exit condition."""
    pops = [p for p in pops if has_stop_condition(p)]
    kernels = [stop_kernel(ctx, p) for p in pops]
    exit_cond = stop_exit_condition(ctx, [p.name for p in pops])
    if exit_cond is not None:
        ctx.km.exit_conditions.append(exit_cond)
    return kernels
