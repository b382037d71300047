"""The ordered GPU mapping of kernels owned by a population: sums in the sequential order, no atomics.

A kernel whose every write is owned by the neurons of one population (``Kernel.owner``) can be
divided by those neurons without changing a bit, as ``cpu-partition`` does for CPU threads.  For
``cuda-map{order=ordered}`` (the default):

* **Spike propagation** (``spikes:pre`` over ``out-synapses:proj``, or ``delays:proj`` over
  ``delayed-synapses:proj``): the post population is cut into ``P`` partitions and the kernel
  becomes one grid loop over them; each thread walks the whole spike list in order and, for each
  spike, only its own synapses (a slice of the inverse index, sorted by post rank, given by the
  split table ``proj.inv_split`` / ``proj.inv_dsplit`` of ``rows * (P + 1)`` i32 entries).  Each
  ``g[post]`` then receives its increments in the order of the spike list, in one thread:
  the llvm and reference backends' bits, whatever the GPU's scheduling.  The per-synapse
  updates of plastic synapses (STDP's ``pre_spike``) run there too.
* **Post-synaptic events** of the population's own spikes (``spikes:P`` in a kernel owned by
  ``P`` whose first statement names the neuron): one thread per spike, since the spikes of one
  step are distinct neurons and each iteration writes only what its neuron owns.

``P`` is at most ``partitions`` (and the post population's size) and keeps the split table
within :data:`SPLIT_ENTRIES_PER_SYNAPSE` entries per synapse (at least
:data:`MIN_SPLIT_ENTRIES`), so that the table never costs more memory than a few synapses' worth:
a projection with many pre-synaptic neurons and few synapses each gets fewer partitions.
``Accumulate`` becomes a plain load-add-store there (one writer per element).
"""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from anncompiler.ir.kernel import Accumulate, Cast, Kernel, KernelModule, Let, Load, Loop, walk_stmts

#: split-table entries allowed per synapse of the projection (4 bytes each)
SPLIT_ENTRIES_PER_SYNAPSE = 4
#: a split table of this many entries (4 MiB) is always allowed
MIN_SPLIT_ENTRIES = 1 << 20


def ordered_kernel(m: KernelModule, k: Kernel, partitions: int) -> Kernel | None:
    """``k`` rewritten for the ordered mapping (a copy: ``k`` is left as it is), or None when it
    is not an owned propagation or post-event kernel."""
    if not k.owner or k.owner not in m.index_spaces or len(k.body) != 1 or not isinstance(k.body[0], Loop):
        return None
    size = int(m.index_spaces[k.owner])
    population = k.owner.split(":", 1)[1]
    loop = k.body[0]
    kind, _, name = loop.space.partition(":")
    if kind == "spikes":
        inverse = [s for s in walk_stmts(loop.body) if isinstance(s, Loop) and s.space.startswith("out-synapses:")]
        if len(inverse) == 1:
            return _partitioned(m, k, size, partitions, inverse[0], "inv_ptr", "inv_split")
        if name == population and loop.body and isinstance(loop.body[0], Let):
            return _per_spike(k)
    elif kind == "delays":
        inner = [s for s in walk_stmts(loop.body) if isinstance(s, Loop) and s.space == f"delayed-synapses:{name}"]
        if len(inner) == 1:
            return _partitioned(m, k, size, partitions, inner[0], "inv_dptr", "inv_dsplit")
    return None


def split_partitions(rows: int, synapses: int, post_size: int, partitions: int) -> int:
    """The partition count: at most ``partitions`` and ``post_size``, with a split table of
    ``rows * (P + 1)`` entries within the memory bound (module docstring); at least 1."""
    budget = max(SPLIT_ENTRIES_PER_SYNAPSE * int(synapses), MIN_SPLIT_ENTRIES)
    return max(1, min(int(partitions), int(post_size), budget // max(1, int(rows)) - 1))


def _partitioned(m: KernelModule, k: Kernel, size: int, partitions: int, inner: Loop, ptr: str,
                 split: str) -> Kernel | None:
    """Spike propagation as a loop over partitions of the post population (``cpu_partition.py``'s
    rewrite, with the partition count of :func:`split_partitions`)."""
    from .cpu_partition import _Partitioner
    from .cpu_partition_delays import delayed_propagation
    projection = inner.space.split(":", 1)[1]
    start = inner.start.a if isinstance(inner.start, Cast) else inner.start
    index = f"{projection}.{ptr}"
    if not (isinstance(start, Load) and start.array == index) or index not in m.arrays:
        return None
    rows = m.arrays[index].size - 1
    init = np.asarray(m.arrays[index].init)
    synapses = int(init[-1]) if init.ndim and init.size else 0
    name = f"{projection}.{split}"
    if name in m.arrays:  # another kernel of the projection chose it already
        count = m.arrays[name].size // max(1, rows) - 1
    else:
        count = split_partitions(rows, synapses, size, partitions)
    k = copy.deepcopy(k)
    p = _Partitioner(m, count)
    if split == "inv_split":
        inverse = next(s for s in walk_stmts(k.body) if isinstance(s, Loop) and s.space == inner.space)
        out = p.spike_propagation(k, k.body[0], inverse, size)
    else:
        out = delayed_propagation(p, k, k.body[0], projection, size)
    if len(out.body) != 1 or not (isinstance(out.body[0], Loop) and out.body[0].parallel):
        return None
    return dataclasses.replace(out, body=_owned(out.body), parallel=False)


def _per_spike(k: Kernel) -> Kernel:
    """The population's own spikes, one iteration each on its own thread."""
    loop = k.body[0]
    body = [dataclasses.replace(loop, body=_owned(copy.deepcopy(loop.body)), parallel=True)]
    return dataclasses.replace(k, body=body)


def _owned(body: list) -> list:
    """``Accumulate`` as load-add-store: each element has one writer here."""
    out = []
    for s in body:
        if isinstance(s, Accumulate):
            out.append(s.as_store())
            continue
        if s.bodies():
            s = dataclasses.replace(s, **{f.name: _owned(getattr(s, f.name)) for f in dataclasses.fields(s)
                                          if isinstance(getattr(s, f.name), list)})
        out.append(s)
    return out
