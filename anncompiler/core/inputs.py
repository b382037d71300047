"""Input populations: SpikeSourceArray (spike times given by the user)."""
from __future__ import annotations

import numpy as np

from anncompiler.errors import NetworkError
from anncompiler.ir.model import ModelIR

from .models import Neuron
from .population import Population


class SpikeSourceArray(Population):
    """Neurons that spike at given times (ms): one list for all neurons, or one list per neuron."""

    def __init__(self, spike_times, name=None, *, network=None):
        times = list(spike_times)
        if not times or not isinstance(times[0], (list, tuple, np.ndarray)):
            times = [times]
        self._kind = "spike_source_array"
        self._spike_times = [sorted(float(x) for x in row) for row in times]
        super().__init__(len(times), Neuron(spike="False", name="SpikeSourceArray"), name=name,
                         network=network)

    def _model_ir(self):
        if self._ir is None:
            self._ir = ModelIR(self.neuron_type.name, "neuron", "spike")
        return self._ir

    @property
    def spike_times(self):
        return [list(r) for r in self._spike_times]

    @spike_times.setter
    def spike_times(self, value):
        if self._net.compiled:
            raise NetworkError("changing spike times after compile() is not supported yet")
        rows = list(value)
        if not rows or not isinstance(rows[0], (list, tuple, np.ndarray)):
            rows = [rows]
        if len(rows) != self.size:
            raise NetworkError(f"{self.name}: {len(rows)} spike trains for {self.size} neurons")
        self._spike_times = [sorted(float(x) for x in r) for r in rows]

    @property
    def _data(self):
        dt = self._net.dt
        steps = [sorted({int(round(t / dt)) for t in row}) for row in self._spike_times]
        return {"steps": steps}
