"""``AccProjection``: the input of a BOLD monitor, the mean of one attribute of a population.

It has its own input kernel (kind ``bold_input``, ``passes/lowering/bold_input.py``): every step
``sum(target)`` of each post-synaptic neuron gains ``scale_factor`` times the mean of
``variable`` over its pre-synaptic neurons (weights are ignored), or, with ``normalize_input``
> 0 ms, that mean's relative deviation from its average over the first ``normalize_input`` ms
after ``start_baseline()`` (zero input meanwhile).
"""
from __future__ import annotations

import numbers

import numpy as np

from anncompiler.core.projection import Projection
from anncompiler.core.specialised import _PlainAttributes
from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError


def _number(what: str, value, minimum=None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise InvalidValueError(f"{what} is a finite number{bound}, not {value!r}")
    return float(value)


class AccProjection(_PlainAttributes, Projection):
    """The mean of ``variable`` of the pre-synaptic neurons (``r`` of a spiking population is its
    firing rate: call ``compute_firing_rate``), times ``scale_factor``, into ``sum(target)`` of a
    rate-coded population; with ``normalize_input`` (ms), relative to a baseline."""
    _kind = "bold_input"
    _plain = _PlainAttributes._plain + ("variable", "scale_factor", "normalize_input")

    def __init__(self, pre, post, target, variable, name=None, normalize_input=0, scale_factor=1.0,
                 copied=False, net_id=0, *, network=None):
        if not isinstance(variable, str) or not variable.isidentifier():
            raise InvalidTypeError(f"AccProjection: variable is the name of an attribute, not {variable!r}")
        super().__init__(pre, post, target, None, name, network=network)
        if self.post._model_ir().type != "rate":
            raise NetworkError(f"projection {self.name}: the post-synaptic population of an AccProjection must be "
                               f"rate-coded, but {self.post.name} is spiking")
        pre_model = self.pre._model_ir()
        if variable not in pre_model.attributes and not (variable == "r" and pre_model.type == "spike"):
            raise NetworkError(f"projection {self.name}: population {self.pre.name} (model "
                               f"'{self.pre.neuron_type.name}') has no attribute '{variable}'")
        self.variable = variable
        self.scale_factor = _number(f"projection {self.name}: scale_factor", scale_factor)
        self.normalize_input = _number(f"projection {self.name}: normalize_input (ms)", normalize_input, 0)
        self._baseline_steps = int(round(self.normalize_input / self._net.dt))
        if self.normalize_input > 0 and self._baseline_steps < 1:
            raise InvalidValueError(f"projection {self.name}: normalize_input ({self.normalize_input:g} ms) is "
                                    f"shorter than one step (dt = {self._net.dt:g} ms)")
        self._start_step = None  # the step of a start_baseline() before compile

    def _connect(self, builder, *args, storage_format=None, **kwargs):
        super()._connect(builder, *args, storage_format=storage_format, **kwargs)
        self.connectivity.delays = 0.0  # the mean of the previous step, as every rate-coded input
        return self

    def _edge_extras(self) -> dict:
        options = {"variable": self.variable, "scale": self.scale_factor, "baseline": self._baseline_steps > 0}
        if self._start_step is not None:
            options["until"] = self._start_step + self._baseline_steps
        return {"kind": self._kind, "options": options}

    def start_baseline(self):
        """Collect the baseline over the next ``normalize_input`` ms (the input is 0 meanwhile); as
        ANNarchy, samples of an earlier collection are kept in the average."""
        if self._baseline_steps < 1:
            return
        if not self._net.compiled:
            self._start_step = 0
            return
        until = self._net._state(self.name, "baseline_until", required=False)
        if until is None:
            raise NetworkError(f"projection {self.name}: no baseline in the compiled network")
        until[0] = self._net.current_step + self._baseline_steps

    def _set_transmission(self, on: bool) -> None:
        self._set_flag("transmission", bool(on))


__all__ = ["AccProjection"]
