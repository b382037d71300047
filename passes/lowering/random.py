"""Random numbers in neuron equations: stream numbering and lowering.

A random call (``Normal(mu, sigma)``, ...: a sympy undefined function named
as in :data:`anncompiler.ir.philox.DISTRIBUTIONS`) is replaced by a local
``_rand<stream>`` computed by ``Let`` statements at the start of the loop
body that uses it (index = the neuron's rank; in global equations, once per
step with index 0).  Each draw is Philox4x32-10 of
``(index >> 1, step, stream)`` keyed by the network seed (``NetworkIR.seed``,
0 when None), elements ``2k`` and ``2k+1`` taking the two halves of the block
(Gamma and the trials of Binomial: whole blocks of ``(index, step, stream,
draw)``): see :mod:`anncompiler.ir.philox`.  So the numbers do not depend on
the backend, the number of threads or the chunking of ``simulate``.

Stream numbering (stable, documented): the parser numbers the draws of each
model (``ir/draws.py``: its ``equations`` in declaration order, then the spike
condition, then the ``reset`` lines; within one line the distinct random calls
in sympy's canonical pre-order) and tags each call with its number, so a
rewritten expression keeps its draws.  Streams count from 0 over the whole
network: the draws of every population in network order (``net.populations``,
i.e. creation order), then those of the stop conditions.
Then the draws of every projection's synapse in network order (``net.projections``): its
``equations``, then its ``pre_spike`` and ``post_spike`` statements.  A synaptic draw is indexed
by the synapse (its position in the projection's rows), by the dendrite (row) for a semiglobal
equation and by 0 for a global one: each synapse draws its own numbers, whatever the thread
that runs it (``synapse_random.py``).
Identical calls (same distribution, same arguments) in one equation are one
draw (ANNarchy replaces the text, a known quirk); the same call in two
equations gives two independent draws.  A population whose model is shared
with another one still gets its own streams.  All the stages of an
``rk4``/``midpoint`` step of one equation see the same draw.

Distribution arguments are translated like any expression of the equation
(literals or global parameters; changing a global parameter is seen at the
next step, unlike ANNarchy which binds it at compile time).
"""
from __future__ import annotations

import sympy

from anncompiler.errors import ModelError
from anncompiler.ir import philox
from anncompiler.ir.draws import draw_arguments, draw_tag, random_calls
from anncompiler.ir.kernel import STEP_COUNTER, Cast, Expr, Let, Var
from anncompiler.ir.network import ProjectionEdge
from anncompiler.ir.types import F64


STREAMS_ATTR = "_random_streams"


def stream_table(ctx) -> dict:
    """``(owner, "model" | "condition") -> first stream``, built once per lowering: the draws
    of every population's model in network order, then those of the stop conditions, then those
    of every projection's synapse (owner ``projection:<name>``)."""
    table = getattr(ctx, STREAMS_ATTR, None)
    if table is None:
        table, count = {}, 0
        neurons = [p for p in ctx.net.populations if p.kind == "neuron" and p.model is not None]
        for p in neurons:
            table[(p.name, "model")] = count
            count += p.model.draws
        for p in neurons:
            condition = p.data.get("stop_condition")
            tags = [draw_tag(c) for c in random_calls(condition.expr)] if condition is not None else []
            table[(p.name, "condition")] = count
            count += 1 + max((k for _, k in filter(None, tags)), default=-1)
        for e in ctx.net.projections:
            table[(_owner(e)[0], "model")] = count
            count += getattr(e.synapse, "draws", 0)
        table["untagged"] = {}
        table["count"] = count
        setattr(ctx, STREAMS_ATTR, table)
    return table


def _owner(p) -> tuple[str, str]:
    """(stream-table key, model name) of a population or a projection."""
    if isinstance(p, ProjectionEdge):
        return f"projection:{p.name}", p.synapse.name
    return p.name, p.model.name


def _stream(ctx, pop: str, source: str, call) -> int:
    """The stream of a draw: its population's first stream plus its id; a random call that no
    parser numbered (made by a custom pass) gets a stream after all the others."""
    table = stream_table(ctx)
    tag = draw_tag(call)
    if tag is not None:
        return table[(pop, tag[0])] + tag[1]
    untagged = table["untagged"]
    if (pop, source, call) not in untagged:
        untagged[(pop, source, call)] = table["count"] + len(untagged)
    return untagged[(pop, source, call)]


def _check_call(call, model: str, source: str):
    name = type(call).__name__
    lo, hi = philox.DISTRIBUTIONS[name]
    n_args = len(draw_arguments(call))
    if not lo <= n_args <= hi:
        n = f"{lo}" if lo == hi else f"{lo} or {hi}"
        raise ModelError(f"{name} takes {n} arguments, got {n_args}", model=model,
                         equation=source or None, name=name)


def random_lets(ctx, p, items, resolve, index: Expr, done: set | None = None):
    """Lower the random calls of ``items`` (a list of ``(source, sympy
    expression)``) for population (or projection) ``p``.

    Returns ``(statements, mapping)``: the ``Let`` statements that compute
    each draw (to be put at the start of the loop body, or of the kernel for
    global equations, where ``index`` is 0), and ``{call: Symbol('_rand<s>')}``
    to ``xreplace`` in the expressions, which the population's resolver turns
    into the locals (names starting with ``_`` are temporaries).  ``done``:
    streams already computed in this body (not computed again).
    """
    stmts, mapping = [], {}
    done = set() if done is None else done
    owner, model = _owner(p)
    for source, expr in items:
        for call in random_calls(expr):
            s = _stream(ctx, owner, source, call)
            name = f"_rand{s}"
            mapping[call] = sympy.Symbol(name)
            if s in done:
                continue
            done.add(s)
            _check_call(call, model, source)
            tr = ctx.translator(resolve, model, source)
            args = [tr.num(tr(a)) for a in draw_arguments(call)]
            em = philox.Emitter(f"_rng{s}_")
            block = philox.block_maker(index, ctx.load(STEP_COUNTER, 0), ctx.net.seed, s)
            value = philox.distribution(em, type(call).__name__, args, block)
            stmts += em.stmts
            stmts.append(Let(Var(name, ctx.ft), value if ctx.ft == F64 else Cast(value, ctx.ft)))
    return stmts, mapping


def replace_random(ctx, p, updates, resolve, index: Expr):
    """``random_lets`` for a list of discrete-IR updates: returns the Let
    statements and the updates with their random calls replaced."""
    if not any(random_calls(u.value) for u in updates):
        return [], updates
    stmts, out, done = [], [], set()
    for u in updates:
        if not random_calls(u.value):
            out.append(u)
            continue
        # the rk4/midpoint stages of one equation share its source, hence its streams
        lets, mapping = random_lets(ctx, p, [(u.source, u.value)], resolve, index, done)
        stmts += lets
        out.append(type(u)(u.target, u.value.xreplace(mapping), u.kind, u.masked_in_refractory, u.source))
    return stmts, out


def replace_random_expr(ctx, p, source: str, expr, resolve, index: Expr):
    """``random_lets`` for one expression (spike condition)."""
    if expr is None or not random_calls(expr):
        return [], expr
    lets, mapping = random_lets(ctx, p, [(source, expr)], resolve, index)
    return lets, expr.xreplace(mapping)
