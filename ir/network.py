"""Network IR: populations as nodes and projections as edges of a networkx graph.

Nodes are keyed by population name and carry a :class:`PopulationNode`;
edges are keyed by projection name and carry a :class:`ProjectionEdge`.
Monitors are annotations (:class:`MonitorSpec`).  Graph passes (target
resolution, fusion, scheduling) read and rewrite this graph.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import networkx as nx
import numpy as np

from .connectivity import Connectivity
from .model import ModelIR, format_model, verify_model
from .shared_weights import SharedWeights


@dataclass
class PopulationNode:
    name: str
    size: int
    geometry: tuple
    model: ModelIR
    #: 'neuron' (equations) or an input kind ('spike_source_array', ...)
    kind: str = "neuron"
    #: initial values: attribute name -> scalar or ndarray of ``size``
    init: dict = field(default_factory=dict)
    #: extra data of input kinds (e.g. spike times)
    data: dict = field(default_factory=dict)


@dataclass
class ProjectionEdge:
    name: str
    pre: str
    post: str
    targets: list[str]
    synapse: ModelIR
    connectivity: Connectivity
    #: synapse attribute initial values: name -> scalar or ndarray (nnz)
    init: dict = field(default_factory=dict)
    #: filled by passes: notes shown in dumps (e.g. why fused)
    notes: list[str] = field(default_factory=list)
    #: for a fused projection: member name -> positions of its synapses in this one
    members: dict = field(default_factory=dict)
    #: initial switches: transmission, update, plasticity (bool), period, offset (steps)
    flags: dict = field(default_factory=dict)
    #: "" for an ordinary projection, else the kind whose own input kernel it has
    #: ("current_injection", "decoding", "bold_input": passes/lowering/specialised.py)
    kind: str = ""
    #: weights read from a shared array (convolution filter, copy, transpose), or None
    shared: Optional[SharedWeights] = None
    #: options of the kind (e.g. the decoding window in steps)
    options: dict = field(default_factory=dict)

    @property
    def specialised(self) -> bool:
        """A projection that fuse-connectivity leaves alone (no merge, no dense storage)."""
        return bool(self.kind) or self.shared is not None

    @property
    def target(self) -> str:
        return self.targets[0]


@dataclass
class MonitorSpec:
    name: str
    population: str
    variables: list[str]
    ranks: Optional[np.ndarray] = None   # None: the whole population
    period: int = 1                      # steps
    offset: int = 0                      # steps
    start: bool = True
    #: a monitor of synaptic variables: the projection (``ranks`` are then its recorded rows), the
    #: positions of the recorded synapses in its CSR order, the locality of each variable as stored
    projection: Optional[str] = None
    synapses: Optional[np.ndarray] = None
    localities: dict = field(default_factory=dict)


@dataclass
class NetworkIR:
    dt: float
    float_type: str = "f64"
    seed: Optional[int] = None
    graph: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)
    monitors: list[MonitorSpec] = field(default_factory=list)
    constants: dict[str, float] = field(default_factory=dict)
    #: filled by the 'schedule' pass: ordered phases [(phase, [names])]
    schedule: Optional[list[tuple[str, list[str]]]] = None

    # construction -----------------------------------------------------
    def add_population(self, node: PopulationNode) -> None:
        self.graph.add_node(node.name, pop=node)

    def add_projection(self, edge: ProjectionEdge) -> None:
        self.graph.add_edge(edge.pre, edge.post, key=edge.name, proj=edge)

    # queries ------------------------------------------------------------
    @property
    def populations(self) -> list[PopulationNode]:
        return [d["pop"] for _, d in self.graph.nodes(data=True)]

    @property
    def projections(self) -> list[ProjectionEdge]:
        return [d["proj"] for _, _, _, d in self.graph.edges(keys=True, data=True)]

    def population(self, name: str) -> PopulationNode:
        return self.graph.nodes[name]["pop"]

    def projections_into(self, post: str) -> list[ProjectionEdge]:
        return [d["proj"] for _, _, d in self.graph.in_edges(post, data=True)]

    def models(self) -> list[ModelIR]:
        seen, out = set(), []
        for m in [p.model for p in self.populations] + [e.synapse for e in self.projections]:
            if id(m) not in seen:
                seen.add(id(m))
                out.append(m)
        return out


def format_network(net: NetworkIR) -> str:
    out = [f"network: dt={net.dt!r} float={net.float_type} seed={net.seed}"]
    if net.constants:
        out.append("constants: " + ", ".join(f"{k}={v!r}" for k, v in net.constants.items()))
    for p in net.populations:
        out.append(f"population {p.name}: size={p.size} geometry={p.geometry} model='{p.model.name}' kind={p.kind}")
    for e in net.projections:
        c = e.connectivity
        w = f"w={c.weights!r}" if c.single_weight else "w[nnz]"
        out.append(f"projection {e.name}: {e.pre} -> {e.post} targets={e.targets} synapse='{e.synapse.name}' "
                   f"{c.description or 'connectivity'} rows={c.n_rows} synapses={c.nb_synapses} {w} "
                   f"format={c.storage_format}" + (f" kind={e.kind}" if e.kind else "")
                   + (f" shared-w={e.shared.source}" if e.shared is not None else ""))
        for n in e.notes:
            out.append(f"  note: {n}")
    for m in net.monitors:
        ranks = "all" if m.ranks is None else f"{len(m.ranks)} ranks"
        if m.projection is not None:
            ranks = "all" if m.ranks is None else f"{len(m.ranks)} dendrites"
        out.append(f"monitor {m.name}: {m.projection or m.population} {m.variables} ({ranks}) "
                   f"period={m.period} steps")
    if net.schedule is not None:
        out.append("schedule:")
        for phase, names in net.schedule:
            out.append(f"  {phase}: {', '.join(names)}")
    out.append("")
    for m in net.models():
        out.append(format_model(m))
    return "\n".join(out) + "\n"


def to_dot(net: NetworkIR) -> str:
    """Graphviz text of the network (``network.dot`` in dumps)."""
    lines = ["digraph network {"]
    for p in net.populations:
        lines.append(f'  "{p.name}" [label="{p.name}\\n{p.size} x {p.model.name}"];')
    for e in net.projections:
        lines.append(f'  "{e.pre}" -> "{e.post}" [label="{e.name}: {",".join(e.targets)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def verify_network(net: NetworkIR) -> None:
    from anncompiler.errors import IRVerificationError
    for name, data in net.graph.nodes(data=True):
        p = data.get("pop")
        if p is None or p.name != name:
            raise IRVerificationError(f"network IR: node {name!r} has no matching PopulationNode")
        if p.size != int(np.prod(p.geometry)):
            raise IRVerificationError(f"network IR: population {name} size {p.size} != geometry {p.geometry}")
        for attr, value in p.init.items():
            if np.ndim(value) and np.shape(value) != (p.size,):
                raise IRVerificationError(f"network IR: {name}.{attr} initial array has shape {np.shape(value)}")
    for u, v, key, data in net.graph.edges(keys=True, data=True):
        e = data.get("proj")
        if e is None or (e.pre, e.post, e.name) != (u, v, key):
            raise IRVerificationError(f"network IR: edge {key!r} has no matching ProjectionEdge")
        try:
            e.connectivity.verify()
            if e.shared is not None:
                e.shared.verify(e.connectivity.nb_synapses, e.connectivity.n_rows)
        except ValueError as exc:
            raise IRVerificationError(f"network IR: projection {key}: {exc}") from None
    for m in net.monitors:
        if m.population not in net.graph:
            raise IRVerificationError(f"network IR: monitor {m.name} records unknown population {m.population}")
    for m in net.models():
        verify_model(m)
