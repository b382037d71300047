"""Global operations in neuron equations: ``mean(x)``, ``max(x)``, ``min(x)``, ``norm1(x)``, ``norm2(x)``.

docs/semantics.md, "Global operations": the argument is a local attribute of the same
population; the value is computed after all neuron updates of a step (the
``global-ops`` phase of the schedule) and read by the equations of the
*next* step, an implicit delay of one dt.  So an equation ``y = mean(r)``
recorded at step k holds the mean of ``r`` as recorded at step k-1.

Arrays: one f-type[1] per operation and attribute, ``P._mean_x``,
``P._max_x``, ``P._min_x``, ``P._norm1_x``, ``P._norm2_x`` (the parser calls
the functions ``mean``, ``gmax``, ``gmin``, ``norm1``, ``norm2``; the
translator hands ``"gmax(x)"`` to the population's resolver, which loads the
array here).

Reductions run sequentially in ascending rank (row-major order for N-D
geometries), in the network's float type, with no reassociation, so every
backend gives the same bits: ``mean = (((x0 + x1) + x2) + ...) / N``,
``norm1 = sum |x_i|``, ``norm2 = sqrt(sum x_i*x_i)``, ``max``/``min`` fold
``a > b ? a : b`` / ``a < b ? a : b`` from ``x0`` (a NaN is therefore not
propagated as numpy does).  int and bool attributes are converted to the
float type first.

Initial values (what equations see at the first step): 0, as in ANNarchy, whose generated
``_mean_x`` etc. start at 0.0 and are first computed at the end of step 0.  The arrays are
state arrays initialised to 0, so ``reset()`` (which writes back the compile-time values)
makes the first step after it read 0 again.  A disabled population (``pop.disable()``) does
not update its global operations: they keep their last values until it is enabled again.
"""
from __future__ import annotations

import math


import sympy
from sympy.core.function import AppliedUndef

from anncompiler.errors import ModelError
from anncompiler.ir.kernel import BinOp, Call, Cast, Const, Expr, Kernel, Reduce, Var
from anncompiler.ir.network import PopulationNode
from anncompiler.ir.types import I64
from anncompiler.ir.model import GLOBAL_OP_USER_NAMES, Ref

from .context import LoweringContext, c64, model_sources

#: parser function name -> the name used in array names (and by the user)
OPS = GLOBAL_OP_USER_NAMES


def global_op_calls(expr) -> list:
    """Applications of global operations inside a sympy expression, in pre-order."""
    out = []
    if expr is None or not isinstance(expr, sympy.Basic):
        return out
    for e in sympy.preorder_traversal(expr):
        if isinstance(e, AppliedUndef) and type(e).__name__ in OPS and e not in out:
            out.append(e)
    return out


def population_ops(p: PopulationNode) -> list[tuple[str, str]]:
    """``(op, attribute)`` pairs a population uses (op as the user writes it: mean, max, ...), in
    order of first appearance; raises ModelError if an argument is not a local attribute."""
    m = p.model
    if p.kind != "neuron" or m is None:
        return []
    out = []
    for source, expr in model_sources(m, with_updates=True):
        for call in global_op_calls(expr):
            op = OPS[type(call).__name__]
            arg = call.args[0] if len(call.args) == 1 else None
            name = arg.name if isinstance(arg, sympy.Symbol) else str(arg)
            a = m.attributes.get(name) if isinstance(arg, sympy.Symbol) else None
            if a is None or a.locality != "local":
                raise ModelError(f"global operation {op}({name}): '{name}' is not a local attribute of "
                                 f"population {p.name}", model=m.name, equation=source or None, name=name)
            if (op, name) not in out:
                out.append((op, name))
    return out


def synapse_ops(net, p: PopulationNode) -> list[tuple[str, str]]:
    """``(op, attribute)`` pairs that synapses ask of ``p`` (``mean(post.r)``, ``max(pre.v)``)."""
    out = []
    for e in net.projections:
        m = e.synapse
        sources = list(model_sources(m, with_updates=True)) + [(m.name, m.psp)] \
            + [(u.source, u.value) for u in (getattr(m, "pre_spike", None) or []) + (getattr(m, "post_spike", None) or [])
               if hasattr(u, "value")]
        for _source, expr in sources:
            for call in global_op_calls(expr):
                arg = str(call.args[0]) if len(call.args) == 1 else ""
                side, _, attr = arg.partition(".")
                end = {"pre": e.pre, "post": e.post}.get(side)
                if end == p.name and (OPS[type(call).__name__], attr) not in out:
                    a = p.model.attributes.get(attr) if p.model is not None else None
                    if a is None or a.locality != "local":
                        raise ModelError(f"global operation {OPS[type(call).__name__]}({arg}) in projection "
                                         f"{e.name}: '{attr}' is not a local attribute of population {p.name}",
                                         model=m.name, name=arg)
                    out.append((OPS[type(call).__name__], attr))
    return out


def all_ops(net, p: PopulationNode) -> list[tuple[str, str]]:
    """The operations of ``p`` its own equations and the synapses at its ends read."""
    out = population_ops(p)
    return out + [o for o in synapse_ops(net, p) if o not in out]


def array_name(p: PopulationNode, op: str, attr: str) -> str:
    return f"{p.name}._{op}_{attr}"


def declare_global_ops(ctx: LoweringContext, p: PopulationNode) -> None:
    ops = all_ops(ctx.net, p)
    if not ops:
        return
    for op, attr in ops:
        ctx.declare(array_name(p, op, attr), ctx.ft, 1, "state", 0.0)


def global_op_load(ctx: LoweringContext, p: PopulationNode, ref: Ref) -> Expr:
    """The value of a global operation (``mean(r)``: a load of ``P._mean_r[0]``)."""
    op, attr = ref.op, ref.name
    arr = array_name(p, op, attr)
    if arr not in ctx.km.arrays:
        a = p.model.attributes.get(attr)
        if a is None or a.locality != "local":
            raise ModelError(f"global operation {op}({attr}): '{attr}' is not a local attribute of "
                             f"population {p.name}", model=p.model.name, name=attr)
        raise ModelError(f"global operation {op}({attr}) of population {p.name} was not declared "
                         "(run declare_global_ops before lowering the neurons)", model=p.model.name, name=attr)
    return ctx.load(arr, 0)


def _reduction(ctx: LoweringContext, p: PopulationNode, op: str, attr: str) -> list:
    """Statements computing one operation into its array (sequential, ascending rank)."""
    ft = ctx.ft
    i = Var("i", I64)
    acc = Var(f"_gop_{op}_{attr}", ft)

    def x(index) -> Expr:
        v = ctx.load(f"{p.name}.{attr}", index)
        return v if v.dtype == ft else Cast(v, ft)

    if op in ("max", "min"):  # max(-inf, x0) is x0, NaN included: the fold from x0 on
        combine, init, term = op, Const(-math.inf if op == "max" else math.inf, ft), x(i)
    else:
        combine, init = "+", Const(0.0, ft)
        term = {"mean": lambda v: v, "norm1": lambda v: Call("fabs", (v,), ft),
                "norm2": lambda v: BinOp("*", v, v, ft)}[op](x(i))
    body = [Reduce(acc, combine, init, i, c64(0), c64(p.size), term, 1, f"neurons:{p.name}")]
    value: Expr = acc
    if op == "mean":
        value = BinOp("/", acc, Const(float(p.size), ft), ft)
    elif op == "norm2":
        value = Call("sqrt", (acc,), ft)
    body.append(ctx.store(array_name(p, op, attr), 0, value))
    return body


def _all_reductions(ctx, p) -> list:
    body = []
    for op, attr in all_ops(ctx.net, p):
        body += _reduction(ctx, p, op, attr)
    return body


def global_ops_kernel(ctx: LoweringContext, p: PopulationNode) -> Kernel | None:
    """The ``global-ops`` phase: after every neuron update of the step."""
    body = _all_reductions(ctx, p)
    if not body:
        return None
    return Kernel(f"global_ops_{p.name}", "global-ops", body,
                  ", ".join(f"{op}({a})" for op, a in all_ops(ctx.net, p)) + f" of {p.name}")
