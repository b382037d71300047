"""Neuron and Synapse definitions: data only, parsed by ``anncompiler.parser`` at compile time."""
from __future__ import annotations

import itertools
from typing import Any

_counter = itertools.count()


class _Definition:
    _kind = "model"

    def _default_name(self) -> str:
        return f"{self._kind.capitalize()} {next(_counter)}"

    def _given(self, name: str):
        """The object given for parameter ``name`` in ``parameters`` (a sampler such as
        ``Uniform(...)``; the model IR refers to it as ``GivenInit(name)``)."""
        value = self.parameters[name]
        return getattr(value, "value", value) if not hasattr(value, "get_values") else value


class Neuron(_Definition):
    """A neuron type. Rate-coded when ``spike`` is None (it must define ``r``), spiking otherwise."""
    _kind = "neuron"

    def __init__(self, parameters: Any = "", equations: Any = "", spike: str | None = None,
                 axon_spike: str | None = None, reset: Any = None, axon_reset: Any = None,
                 refractory: Any = None, functions: str | None = None, name: str = "",
                 description: str = "", extra_values: dict | None = None):
        self.parameters = parameters
        self.equations = equations
        self.spike = spike
        self.axon_spike = axon_spike
        self.reset = reset
        self.axon_reset = axon_reset
        self.refractory = refractory
        self.functions = functions
        self.name = name or self._default_name()
        self.description = description
        self.extra_values = dict(extra_values or {})

    @property
    def type(self) -> str:
        return "rate" if self.spike is None else "spike"

    def __repr__(self):
        return f"Neuron(name={self.name!r}, type={self.type!r})"


class Synapse(_Definition):
    """A synapse type. Spiking when ``pre_spike`` is given (or the pre population spikes)."""
    _kind = "synapse"

    def __init__(self, parameters: Any = "", equations: Any = "", psp: str | None = None,
                 operation: str = "sum", pre_spike: Any = None, post_spike: Any = None,
                 pre_axon_spike: Any = None, functions: str | None = None, pruning: Any = None,
                 creating: Any = None, name: str = "", description: str = "",
                 extra_values: dict | None = None):
        if operation not in ("sum", "max", "min", "mean"):
            from anncompiler.errors import ModelError
            raise ModelError(f"operation must be sum, max, min or mean, not {operation!r}", model=name or None)
        self.parameters = parameters
        self.equations = equations
        self.psp = psp
        self.operation = operation
        self.pre_spike = pre_spike
        self.post_spike = post_spike
        self.pre_axon_spike = pre_axon_spike
        self.functions = functions
        self.pruning = pruning
        self.creating = creating
        self.name = name or self._default_name()
        self.description = description
        self.extra_values = dict(extra_values or {})

    @property
    def type(self) -> str:
        return "spike" if self.pre_spike is not None else "rate"

    def __repr__(self):
        return f"Synapse(name={self.name!r}, type={self.type!r})"
