"""The input kernel of the BOLD monitor's accumulating projections (kind ``bold_input``).

Each step, for each row (the BOLD population has one neuron, so one row), the mean over the
row's pre-synaptic neurons of one of their attributes (``variable``; ``r`` of a spiking
population is its firing rate, ``compute_firing_rate``), read as it was after the previous
step, is added to ``sum(target)`` times ``scale``.  Weights are ignored.

With a baseline (``normalize_input`` > 0 ms), the first ``P`` steps after
``BoldMonitor.start()`` only collect that mean (the input is 0); from then on the input is the
relative deviation from the collected average ``b``: ``scale * (mean - b) / (|b| + 1e-7)``.
``P._baseline_until`` (the step at which the collection ends, set by ``start()``),
``P._baseline_sum`` and ``P._baseline_count`` hold it; before the first ``start()`` nothing is
collected and ``b`` is 0.
"""
from __future__ import annotations

from anncompiler.errors import NetworkError
from anncompiler.ir.kernel import BinOp, Call, Cast, Cmp, Const, If, Kernel, Let, Loop, Reduce, Var
from anncompiler.ir.network import ProjectionEdge
from anncompiler.ir.types import I64

from .context import LoweringContext, c64, i64
from .flags import when_transmitting

ROW = Var("k", I64)
#: added to |baseline| before dividing (ANNarchy's value)
BASELINE_EPSILON = 1e-7


def _source(ctx: LoweringContext, e: ProjectionEdge, variable: str):
    """The array holding ``variable`` of the pre-synaptic population and whether it is per neuron."""
    from .firing_rate import firing_rate_array  # here: importing it registers its phase
    pre = ctx.net.population(e.pre)
    if pre.model.type == "spike" and variable == "r" and "r" not in pre.model.attributes:
        array = firing_rate_array(pre.name)
        if array not in ctx.km.arrays:
            raise NetworkError(f"projection {e.name} (BOLD input): population {pre.name} is spiking and has no "
                               f"'r': call {pre.name}.compute_firing_rate(window) before compile()")
        return array, True
    attribute = pre.model.attributes.get(variable)
    if attribute is None:
        raise NetworkError(f"projection {e.name} (BOLD input): population {pre.name} (model "
                           f"'{pre.model.name}') has no attribute '{variable}'")
    return f"{pre.name}.{variable}", attribute.locality == "local"


def declare_baseline(ctx: LoweringContext, e: ProjectionEdge) -> None:
    if not e.options.get("baseline"):
        return
    P, rows = e.name, max(1, e.connectivity.n_rows)
    ctx.declare(f"{P}._baseline_until", I64, 1, "state", int(e.options.get("until", -1)),
                handle=(P, "baseline_until"))
    ctx.declare(f"{P}._baseline_sum", ctx.ft, rows, "state", 0.0, handle=(P, "baseline_sum"))
    ctx.declare(f"{P}._baseline_count", ctx.ft, rows, "state", 0.0, handle=(P, "baseline_count"))


def bold_input_kernel(ctx: LoweringContext, e: ProjectionEdge) -> Kernel:
    """``sum(target) += scale * mean(pre.variable)`` per row, or its relative deviation from a
    baseline (see the module docstring)."""
    P, c = e.name, e.connectivity
    post = ctx.net.population(e.post)
    if post.model.type != "rate":
        raise NetworkError(f"projection {P} (BOLD input): the post-synaptic population {e.post} must be "
                           "rate-coded")
    variable = e.options.get("variable", "r")
    array, local = _source(ctx, e, variable)
    declare_baseline(ctx, e)
    ft = ctx.ft
    syn, total, mean = Var("s", I64), Var("total", ft), Var("mean", ft)
    lo = i64(ctx.load(f"{P}.row_ptr", ROW))
    hi = i64(ctx.load(f"{P}.row_ptr", BinOp("+", ROW, c64(1), I64)))
    index = i64(ctx.load(f"{P}.pre_ranks", syn)) if local else c64(0)
    value = ctx.load(array, index)
    if value.dtype != ft:
        value = Cast(value, ft)
    post_rank = Var("post", I64)
    scale = Const(float(e.options.get("scale", 1.0)), ft)
    body = [Reduce(total, "+", Const(0.0, ft), syn, lo, hi, value, 1, f"synapses:{P}"),
            Let(mean, BinOp("/", total, Cast(BinOp("-", hi, lo, I64), ft), ft)),
            Let(post_rank, i64(ctx.load(f"{P}.post_ranks", ROW)))]
    if e.options.get("baseline"):
        base_sum, base_count = f"{P}._baseline_sum", f"{P}._baseline_count"
        base = Var("baseline", ft)
        count = ctx.load(base_count, ROW)
        average = BinOp("/", ctx.load(base_sum, ROW), BinOp("max", count, Const(1.0, ft), ft), ft)
        relative = BinOp("/", BinOp("-", mean, base, ft),
                         BinOp("+", Call("fabs", (base,), ft), Const(BASELINE_EPSILON, ft), ft), ft)
        collecting = Cmp("<", ctx.load("net.t", 0), ctx.load(f"{P}._baseline_until", 0))
        deliver = [Let(base, average)]
        deliver += [ctx.increment(f"{e.post}._sum_{t}", post_rank, BinOp("*", scale, relative, ft))
                    for t in e.targets]
        body.append(If(collecting, [ctx.increment(base_sum, ROW, mean),
                                    ctx.increment(base_count, ROW, Const(1.0, ft))], deliver))
    else:
        body += [ctx.increment(f"{e.post}._sum_{t}", post_rank, BinOp("*", scale, mean, ft)) for t in e.targets]
    loop = Loop(ROW, c64(0), c64(c.n_rows), body, f"rows:{P}")
    return Kernel(f"bold_input_{P}", "input", when_transmitting(ctx, e, [loop]),
                  f"mean {e.pre}.{variable} -> {e.post} ({', '.join(e.targets)}) for the BOLD monitor")
