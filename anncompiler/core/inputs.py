"""Input populations: SpikeSourceArray (spike times given by the user), PoissonPopulation."""
from __future__ import annotations

import math
import numbers

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError
from anncompiler.ir.model import ModelIR

from .models import Neuron
from .population import Population


def _check_times(name: str, rows) -> list:
    """Sorted spike times (ms) per neuron; NaN, infinite or non-numeric times raise."""
    label = f"SpikeSourceArray {name!r}" if name else "SpikeSourceArray"
    out = []
    for row in rows:
        values = []
        for x in row:
            if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.number)):
                raise InvalidTypeError(f"{label}: a spike time must be a number of ms, not {x!r}")
            if not math.isfinite(float(x)):
                raise InvalidValueError(f"{label}: spike times must be finite, not {x!r}")
            values.append(float(x))
        out.append(sorted(values))
    return out


class SpikeSourceArray(Population):
    """Neurons that spike at given times (ms): one list for all neurons, or one list per neuron."""
    _specific = True  # built alone and handed to net.create() (no global-network warning)

    def __init__(self, spike_times, name=None, *, network=None):
        times = list(spike_times)
        if not times or not isinstance(times[0], (list, tuple, np.ndarray)):
            times = [times]
        self._kind = "spike_source_array"
        self._spike_times = _check_times(name, times)
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
        self._spike_times = _check_times(self.name, rows)

    @property
    def _data(self):
        """The spike steps per neuron for the compiler: times before step 0 (negative times)
        are in the past and skipped, as after a later move of ``current_step``."""
        dt = self._net.dt
        steps = [sorted({s for s in (int(round(t / dt)) for t in row) if s >= 0}) for row in self._spike_times]
        return {"steps": steps}

    def _sync_step(self, step: int):
        """``current_step`` moved: point each neuron's cursor at its first spike at or after
        ``step`` (earlier ones are skipped, later ones fire on their step)."""
        cursor = self._net._state(self.name, "cursor", required=False)
        if cursor is None:
            return
        ptr, times = self._net._state(self.name, "times_ptr"), self._net._state(self.name, "times")
        for i in range(self.size):
            lo, hi = int(ptr[i]), int(ptr[i + 1])
            cursor[i] = lo + int(np.searchsorted(times[lo:hi], step, side="left"))


class PoissonPopulation(Population):
    """Neurons spiking as Poisson processes (as in ANNarchy): each step a neuron spikes when
    ``Uniform(0, 1) * 1000 / dt < rates``.

    ``rates`` is a number or an array (a local parameter ``rates``, settable later), or an
    equation string for a time-varying rate; with ``target``, the rate is ``sum(target)`` (the
    rate-to-spike bridge).  ``parameters`` adds parameters the rate equation may use."""
    _specific = True

    def __init__(self, geometry, name=None, rates=None, target=None, parameters=None, refractory=None,
                 *, network=None):
        extra = dict(parameters or {})
        if target is not None:
            if rates is not None:
                raise NetworkError("PoissonPopulation: give rates or target, not both")
            rate_equation = f"rates = sum({target})"
        elif isinstance(rates, str):
            rate_equation = f"rates = {rates}"
        else:
            rate_equation = None
            extra["rates"] = 10.0
        lines = [f"{k} = {float(v)!r}" for k, v in extra.items()]
        equations = ([rate_equation] if rate_equation else []) + ["p = Uniform(0.0, 1.0) * 1000.0 / dt"]
        neuron = Neuron(parameters="\n".join(lines), equations=equations, spike="p < rates",
                        refractory=refractory, name="Poisson")
        super().__init__(geometry, neuron, name=name, network=network)
        if rate_equation is None and rates is not None:
            self.rates = rates
