"""New synaptic delays of a compiled network, written into its state (passes/lowering/delays.py).

A projection compiled with delays in the state has one of: ``delay_steps`` (uniform at compile:
one number of steps), ``synapse_delays`` (rate-coded, per synapse) or the inverse index of
non-uniform spiking delays (``inv_dptr``, ``inv_syn``, ``inv_row`` and, partitioned for threads,
``inv_dsplit``), rebuilt here from the new steps, or (per-synapse spiking delays through the rings
of the post population) the ring cell of each out-synapse (``ring_offset``), which holds the delay.
"""
from __future__ import annotations

import numpy as np


def compiled_max_delay(net, population: str) -> int:
    """The ring length (steps) compiled for ``population``; 1 without a ring."""
    found = net._state(population, "max_delay", required=False)
    return int(found[0]) if found is not None else 1


def delay_storage(net, projection: str) -> str | None:
    """How the compiled projection keeps its delays: 'uniform', 'per-synapse', 'ring', 'index' or None."""
    for role, kind in (("delay_steps", "uniform"), ("synapse_delays", "per-synapse"), ("ring_offset", "ring"),
                       ("inv_dptr", "index")):
        if net._state(projection, role, required=False) is not None:
            return kind
    return None


def write_delays(net, projection: str, connectivity, steps) -> None:
    """Store ``steps`` (an int, or one int per synapse) as the projection's delays."""
    kind = delay_storage(net, projection)
    if kind == "uniform":
        net._state(projection, "delay_steps")[0] = int(np.max(steps))
    elif kind == "per-synapse":
        net._state(projection, "synapse_delays")[:] = np.broadcast_to(steps, (connectivity.nb_synapses,))
        _rebuild_ring_offsets(net, projection, connectivity, steps)
    elif kind == "ring":  # the ring offsets hold the delays
        _rebuild_ring_offsets(net, projection, connectivity, steps)
    elif kind == "index":
        _rebuild_index(net, projection, connectivity, np.broadcast_to(steps, (connectivity.nb_synapses,)))


def _rebuild_index(net, projection: str, c, steps) -> None:
    from anncompiler.passes.lowering.delays import delayed_inverse, delayed_split
    dptr = net._state(projection, "inv_dptr")
    R = (len(dptr) - 1) // max(1, c.pre_size)
    ptr, syn, row = delayed_inverse(c.pre_ranks, c.row_ptr, c.pre_size, steps, R)
    dptr[:] = ptr
    net._state(projection, "inv_syn")[:] = syn
    net._state(projection, "inv_row")[:] = row
    split = net._state(projection, "inv_dsplit", required=False)
    if split is not None:
        T = len(split) // (len(ptr) - 1) - 1
        boundaries = c.post_size * np.arange(T + 1, dtype=np.int64) // T
        split[:] = delayed_split(ptr, row, c.post_ranks, boundaries)


def _rebuild_ring_offsets(net, projection: str, c, steps) -> None:
    offsets = net._state(projection, "ring_offset", required=False)  # gathered: one per synapse
    if offsets is None:
        return
    from anncompiler.passes.lowering.delay_rings import ring_offsets
    post = net.get_projection(projection).post
    post_size = int(getattr(post, "population", post).size)
    offsets[:] = ring_offsets(c, steps, post_size)
