"""Lowering of synaptic plasticity: the ``synapses`` and ``post-events`` phases of a step.

docs/semantics.md, "One step": after the neuron updates (so ``pre.r``/``post.r`` are those of the current
step), every plastic projection runs its global updates once, then, for each dendrite (row), its
semiglobal updates and the local updates of each of its synapses.  The parser enforces the
locality rules, so a global update reads no per-synapse or per-dendrite value and a
semiglobal one no per-synapse or pre-synaptic value: the indices given to them are never used.

A dense projection (every pre-synaptic neuron in every row, fuse.py) loops over the pre ranks
of a row instead of its CSR range: synapse ``(row, pre)`` is element ``row * N_pre + pre`` of
each local variable, the same element as in CSR order, so the results are the same.

The rows are owned by their post-synaptic neuron (``Kernel.owner``), as for the synaptic input:
a platform may divide them among workers without changing a result.
"""
from __future__ import annotations

from anncompiler.ir.kernel import BinOp, Cmp, If, Kernel, Let, Loop, Var
from anncompiler.ir.model import Update
from anncompiler.ir.network import ProjectionEdge
from anncompiler.ir.types import I64

from . import events
from .context import LoweringContext, c64, i64, neurons
from .flags import when_transmitting, when_updating
from .projections import POST, PRE, ROW, SYN, _resolver, synapse_store
from .synapse_random import random_statements, replace_random

LOCALITIES = ("global", "semiglobal", "local")


def split_by_locality(m) -> dict[str, list[Update]]:
    """The discrete updates of a synapse by the locality of what they set (a temporary goes with
    the next assignment: discretise-odes emits each group contiguously)."""
    groups: dict[str, list[Update]] = {k: [] for k in LOCALITIES}
    pending: list[Update] = []
    for u in m.updates or []:
        if u.kind == "let":
            pending.append(u)
            continue
        groups[m.attributes[u.target].locality] += pending + [u]
        pending = []
    groups["local"] += pending
    return groups


def learning_kernels(ctx: LoweringContext, e: ProjectionEdge) -> list[Kernel]:
    """The synaptic updates of one plastic projection (a serial kernel for the global ones, then
    one kernel over the rows)."""
    m, P = e.synapse, e.name
    groups = split_by_locality(m)
    store = synapse_store(ctx, e)
    zero = c64(0)
    kernels = []

    def lowered(updates, resolve, index):  # random draws first (synapse_random.py)
        lets, updates = replace_random(ctx, e, updates, resolve, index)
        return lets + ctx.lower_updates(updates, resolve, store, m.name)
    if groups["global"]:
        resolve = _resolver(ctx, e, zero, zero, zero, zero)
        kernels.append(Kernel(f"learn_{P}_global", "synapses",
                              when_updating(ctx, e, lowered(groups["global"], resolve, zero)),
                              f"global synaptic updates of {P}"))
    if not (groups["semiglobal"] or groups["local"]):
        return kernels
    post = i64(ctx.load(f"{P}.post_ranks", ROW))
    body = [Let(POST, post)]
    if groups["semiglobal"]:
        resolve = _resolver(ctx, e, zero, ROW, zero, POST)
        body += lowered(groups["semiglobal"], resolve, ROW)
    if groups["local"]:
        resolve = _resolver(ctx, e, SYN, ROW, PRE, POST, ahead=1)
        c = e.connectivity
        if c.storage_format == "dense" and c.complete:
            # every pre neuron in the row: loop over pre ranks, synapse (row, pre) at row*N + pre,
            # so every read and write is contiguous (no index stream, no gather)
            width = c64(c.pre_size)
            synapse = [Let(SYN, BinOp("+", BinOp("*", ROW, width, I64), PRE, I64))]
            synapse += lowered(groups["local"], resolve, SYN)
            body.append(Loop(PRE, c64(0), width, synapse, f"synapses:{P}"))
        else:
            lo = i64(ctx.load(f"{P}.row_ptr", ROW))
            hi = i64(ctx.load(f"{P}.row_ptr", BinOp("+", ROW, c64(1), I64)))
            synapse = [Let(PRE, i64(ctx.load(f"{P}.pre_ranks", SYN)))]
            synapse += lowered(groups["local"], resolve, SYN)
            body.append(Loop(SYN, lo, hi, synapse, f"synapses:{P}"))
    loop = Loop(ROW, c64(0), c64(e.connectivity.n_rows), when_updating(ctx, e, body), f"rows:{P}", parallel=True)
    kernels.append(Kernel(f"learn_{P}", "synapses", [loop], f"synaptic updates of {P} ({m.name})",
                          owner=neurons(e.post)))
    return kernels


def post_event_kernel(ctx: LoweringContext, e: ProjectionEdge) -> Kernel:
    """``post_spike``: for every neuron of the post population that spiked in this step, on
    each synapse of its dendrite: the event-driven decay to this step, then the statements.

    The post neurons own every write when the statements write only synaptic variables of the
    dendrite (``Kernel.owner``): a platform may then give each worker the spikes of its own
    neurons (the spike list is complete after the neuron phase)."""
    m, P = e.synapse, e.name
    resolve, store = _resolver(ctx, e, SYN, ROW, PRE, POST), synapse_store(ctx, e)
    lets, statements = random_statements(ctx, e, m.post_spike, resolve, SYN)
    synapse = [Let(PRE, i64(ctx.load(f"{P}.pre_ranks", SYN)))] + lets
    synapse += events.decay_to(ctx, e, events.step_now(ctx), SYN, resolve, store)
    synapse += events.event_statements(ctx, e, statements, resolve, store, POST)
    lo = i64(ctx.load(f"{P}.row_ptr", ROW))
    hi = i64(ctx.load(f"{P}.row_ptr", BinOp("+", ROW, c64(1), I64)))
    n = Var("n", I64)
    dendrite = [Let(ROW, i64(ctx.load(f"{P}.post_row", POST))),
                If(Cmp(">=", ROW, c64(0)), [Loop(SYN, lo, hi, synapse, f"synapses:{P}")])]
    attrs = ctx.synapse_attributes[P]
    owned = all(eq.target in attrs and attrs[eq.target].locality != "global" for eq in m.post_spike)
    loop = Loop(n, c64(0), ctx.load(f"{e.post}._n_spiked", 0),
                [Let(POST, i64(ctx.load(f"{e.post}._spiked", n)))] + when_transmitting(ctx, e, dendrite),
                f"spikes:{e.post}")
    return Kernel(f"post_events_{P}", "post-events", [loop], f"post_spike of {P} ({m.name})",
                  owner=neurons(e.post) if owned else "")
