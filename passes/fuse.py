"""``fuse-connectivity``: merge projections that can share one matrix, and choose its storage.

Two rate-coded (or two spiking) projections with the same pre and post populations (or views
of them), the same targets, the default linear psp (``w*pre.r`` / ``g_target += w``), a ``sum``
operation and no plasticity compute exactly one weighted sum: they are merged into one
connectivity, so the post-synaptic rows are walked once.  Their user-visible weights become
views into the merged arrays (``KernelModule.views``).

Storage: a rate-coded projection is stored ``dense`` (a row-major [rows x pre size] weight
matrix, no index stream, contiguous pre-synaptic reads) when the user asked for it or, with
``auto``, when its density reaches ``dense_threshold``; otherwise CSR.  Only the default linear
psp without plasticity can be dense with missing synapses (zero weights); a projection whose
every row holds every pre-synaptic neuron (all-to-all) can be dense whatever its synapse
(plastic, custom psp, other synaptic variables): every element of its matrices is a synapse.  A missing synapse is a
zero weight in a dense matrix, so a non-finite pre-synaptic rate would propagate through it (as
in ANNarchy's dense format).  Every decision is written into the projection's notes, which the
dumps show.
"""
from __future__ import annotations

import numpy as np
import sympy

from anncompiler.ir.connectivity import Connectivity
from anncompiler.ir.network import ProjectionEdge

from .manager import Pass, register_pass

_W, _PRE_R = sympy.Symbol("w"), sympy.Symbol("pre.r")


def _is_linear_default(e: ProjectionEdge) -> bool:
    """Default psp or pre_spike, ``sum`` operation, no synaptic variable but ``w``, no plasticity."""
    syn = e.synapse
    if syn.equations or syn.post_spike or syn.axon_events or syn.operation != "sum":
        return False
    if any(a.role == "variable" for a in syn.attributes.values()) or set(syn.attributes) - {"w"}:
        return False
    if syn.type == "rate":
        return syn.psp is None or syn.psp == _W * _PRE_R
    return syn.psp is None and len(syn.pre_spike) == 1 and syn.pre_spike[0].target == "g_target" and \
        syn.pre_spike[0].kind == "increment" and syn.pre_spike[0].op == "+" and syn.pre_spike[0].rhs == _W


def _has_duplicates(c: Connectivity) -> bool:
    """Two synapses between the same pair (fused projections may have them): one dense cell
    could not hold both weights."""
    if c.nb_synapses < 2:
        return False
    same_pre = np.diff(c.pre_ranks) == 0
    row_starts = np.zeros(c.nb_synapses, dtype=bool)
    row_starts[c.row_ptr[1:-1]] = True
    return bool(np.any(same_pre & ~row_starts[1:]))


def dense_complete(e: ProjectionEdge) -> bool:
    """A rate-coded projection whose rows each hold every pre-synaptic neuron: its CSR arrays are
    already the row-major [rows x pre size] matrices, so any synapse (plasticity, a custom psp,
    other synaptic variables, delays) can be stored dense with every element a real synapse.  Rows
    with a missing synapse (no self-connections, a sparse pattern) stay CSR when plastic: a dense
    cell with no synapse would need a mask tested in every kernel, and a ``psp`` or learning rule
    that is not zero at ``w = 0`` would see it."""
    return e.synapse.type == "rate" and not e.specialised and e.connectivity.complete


def _weights(c: Connectivity) -> np.ndarray:
    return np.broadcast_to(np.asarray(c.weights, dtype=float), (c.nb_synapses,))


def merge(edges: list[ProjectionEdge]) -> tuple[Connectivity, dict[str, np.ndarray]]:
    """One connectivity holding every synapse of ``edges`` (rows by post rank, then by pre rank);
    also, per edge, the positions of its synapses in the merged arrays."""
    posts, pres, ws, owner, local = [], [], [], [], []
    for k, e in enumerate(edges):
        c = e.connectivity
        posts.append(np.repeat(c.post_ranks, np.diff(c.row_ptr)))
        pres.append(c.pre_ranks)
        ws.append(_weights(c))
        owner.append(np.full(c.nb_synapses, k))
        local.append(np.arange(c.nb_synapses))
    post, pre, w = np.concatenate(posts), np.concatenate(pres), np.concatenate(ws)
    owner, local = np.concatenate(owner), np.concatenate(local)
    order = np.lexsort((pre, post))  # stable: equal pairs keep the order of the edges
    post, pre, w, owner, local = post[order], pre[order], w[order], owner[order], local[order]
    rows, counts = np.unique(post, return_counts=True)
    row_ptr = np.zeros(len(rows) + 1, dtype=np.int32)
    row_ptr[1:] = np.cumsum(counts)
    first = edges[0].connectivity
    merged = Connectivity(rows.astype(np.int32), row_ptr, pre.astype(np.int32), w, 0.0, first.pre_size,
                          first.post_size, " + ".join(e.connectivity.description or e.name for e in edges),
                          first.storage_format)
    positions = {}
    for k, e in enumerate(edges):
        where = np.flatnonzero(owner == k)
        pos = np.empty(len(where), dtype=np.int64)
        pos[local[where]] = where
        positions[e.name] = pos
    return merged, positions


@register_pass
class FuseConnectivity(Pass):
    """Merge compatible projections; store each rate-coded one as dense or CSR by density."""
    name = "fuse-connectivity"
    dense_threshold: float = 0.5
    fuse: bool = True

    def run(self, module):
        net = module.network
        if self.fuse:
            self._fuse(module)
        for e in net.projections:
            c = e.connectivity
            density = c.nb_synapses / max(1, c.n_rows * c.pre_size)
            wanted = c.storage_format
            duplicates = _has_duplicates(c)
            full = c.nb_synapses == c.n_rows * c.pre_size and not duplicates
            complete = dense_complete(e)
            possible = complete or (e.synapse.type == "rate" and _is_linear_default(e) and not np.ndim(c.delays)
                                    and not e.init and (not c.single_weight or full) and not duplicates
                                    and not e.specialised)
            if wanted == "dense" and not possible:
                e.notes.append("storage csr: dense was asked for, but only rate-coded projections with the "
                               "default psp and no other synaptic attribute, or with every pre-synaptic "
                               "neuron in every row, can be dense")
                c.storage_format = "csr"
            elif wanted == "dense":
                e.notes.append(f"storage dense: asked for (density {density:.3f})")
            elif wanted == "auto" and complete and density >= self.dense_threshold:
                c.storage_format = "dense"
                e.notes.append("storage dense: every row holds every pre-synaptic neuron (synaptic "
                               "variables as [rows x pre] matrices)")
            elif wanted == "auto" and possible and density >= self.dense_threshold:
                c.storage_format = "dense"
                e.notes.append(f"storage dense: density {density:.3f} >= {self.dense_threshold}")
            else:
                if wanted == "auto":
                    c.storage_format = "csr"
                e.notes.append(f"storage csr: density {density:.3f}"
                               + ("" if wanted != "csr" else ", asked for"))

    def _fuse(self, module):
        net = module.network
        groups: dict[tuple, list[ProjectionEdge]] = {}
        for e in net.projections:
            if _is_linear_default(e) and not np.ndim(e.connectivity.delays) and not e.init and not e.specialised:
                delay = int(max(1, np.rint(float(e.connectivity.delays) / net.dt)))
                if delay > 1:  # delays live in each projection's state (lowering/delays.py)
                    continue
                key = (e.pre, e.post, tuple(e.targets), e.synapse.type)
                groups.setdefault(key, []).append(e)
        for (pre, post, targets, kind), edges in groups.items():
            if len(edges) < 2:
                continue
            if any(e.connectivity.single_weight for e in edges):
                # a shared weight is one value the user may set per projection after compile
                for e in edges:
                    e.notes.append("not fused: a member has a single shared weight")
                continue
            connectivity, positions = merge(edges)
            names = [e.name for e in edges]
            fused = ProjectionEdge("+".join(names), pre, post, list(targets), edges[0].synapse, connectivity,
                                   members=positions)
            fused.notes.append(f"fused {', '.join(names)}: same pre ({pre}), post ({post}), targets "
                               f"{list(targets)}, linear psp, no plasticity")
            for e in edges:
                net.graph.remove_edge(e.pre, e.post, key=e.name)
            net.add_projection(fused)
