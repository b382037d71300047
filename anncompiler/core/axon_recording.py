"""Recording ``axon_spike`` in a Monitor: the axonal spikes of a population as
``{rank: [steps]}``, as for ``spike`` (the neuron must define ``axon_spike``)."""
from __future__ import annotations

import numpy as np

from anncompiler.errors import NetworkError, NotSupportedError


def check_axon_spike_recordable(monitor, model) -> None:
    pop = monitor.population
    if model.type != "spike":
        raise NetworkError(f"Monitor: population {pop.name} is rate-coded and emits no axonal spikes")
    if model.axon_spike is None:
        raise NetworkError(f"Monitor: cannot record 'axon_spike': the neuron '{model.name}' of population "
                           f"{pop.name} defines no axon_spike condition")


def refuse_streamed_axon_spikes(monitor) -> None:
    raise NotSupportedError(f"monitor {monitor.name}: streaming 'axon_spike' to a file is not supported yet "
                            "(record it in memory, without stream=)")


def drain_axon_spikes(monitor, state) -> None:
    """Move the axonal spikes of the native buffers into the monitor (between chunks)."""
    count = state("axon_spike_count")
    if count is None or count[0] <= 0:
        return
    steps, ranks = state("axon_spike_steps"), state("axon_spike_ranks")
    n = min(int(count[0]), steps.size)
    monitor._axon_spikes.append((steps[:n].copy(), ranks[:n].copy()))
    count[0] = 0


def axon_spike_dict(monitor) -> dict:
    """``{rank: [steps]}`` of the axonal spikes held (every recorded rank, with or without)."""
    from .recording_files import spike_dict
    chunks = monitor._axon_spikes
    if not chunks:
        steps, ranks = np.zeros(0, np.int64), np.zeros(0, np.int32)
    else:
        steps, ranks = np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])
    return spike_dict(steps, ranks, monitor._recorded_ranks())
