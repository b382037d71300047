"""``BoldMonitor``: the BOLD signal of a group of populations, through a BOLD model.

Built from ordinary pieces, as in ANNarchy: a population of one neuron of the BOLD model, one
:class:`AccProjection` per (model input, monitored population) feeding it the scaled (maybe
normalised) mean of the mapped variable, and a Monitor of that population.  Until ``start()``
(unless ``start=True``) the inputs deliver nothing and the monitor does not record.
"""
from __future__ import annotations

import inspect
import numbers

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError, NotSupportedError, ShapeError

from .accumulate import AccProjection
from .models import BoldModel, balloon_RN


def _per_population(value, populations, what: str) -> list:
    if value is None:
        return []
    values = list(value) if isinstance(value, (list, tuple)) else [value] * len(populations)
    if len(values) != len(populations):
        raise ShapeError(f"BoldMonitor: {what} has {len(values)} values for {len(populations)} populations")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise InvalidTypeError(f"BoldMonitor: {what} holds numbers, not {v!r}")
    return [float(v) for v in values]


def _model(bold_model) -> BoldModel:
    if bold_model is None:
        bold_model = balloon_RN
    if inspect.isclass(bold_model) and issubclass(bold_model, BoldModel):
        bold_model = bold_model()
    if not isinstance(bold_model, BoldModel):
        raise InvalidTypeError(f"BoldMonitor: bold_model is a BoldModel (such as balloon_RN()), not {bold_model!r}")
    return bold_model


def _network_of(populations, network):
    from anncompiler.core.network import _owner_network
    return _owner_network(network, populations, "BoldMonitor")


class BoldMonitor:
    """Records the BOLD signal of ``populations`` computed by ``bold_model`` (default
    ``balloon_RN``).

    ``mapping`` maps each input of the model to the variable of the populations it averages
    (``{'I_CBF': 'r'}``); ``scale_factor`` weights the populations (default: each one's share
    of all their neurons); ``normalize_input`` (ms, per population or one value) makes the input
    the relative deviation from a baseline averaged over that time after ``start()``;
    ``recorded_variables`` are the model's variables to record (its output is always recorded).
    Create it before ``compile()``.
    """

    def __init__(self, populations=None, bold_model=None, mapping=None, scale_factor=None, normalize_input=None,
                 recorded_variables=None, start=False, net_id=0, copied=False, *, network=None):
        object.__setattr__(self, "_initialized", False)
        if populations is None:
            raise NetworkError("BoldMonitor: give a population or a list of populations (populations=...)")
        populations = list(populations) if isinstance(populations, (list, tuple)) else [populations]
        if not populations:
            raise NetworkError("BoldMonitor: give a population or a list of populations (populations=...)")
        net = _network_of(populations, network)
        if net.compiled:
            raise NotSupportedError("a BoldMonitor created after compile() is not supported yet: create it before")
        model = _model(bold_model)
        mapping = {"I_CBF": "r"} if mapping is None else mapping
        if not isinstance(mapping, dict) or not mapping:
            raise InvalidTypeError(f"BoldMonitor: mapping is a dict {{model input: population variable}}, "
                                   f"not {mapping!r}")
        for target, variable in mapping.items():
            if target not in model._inputs:
                raise NetworkError(f"BoldMonitor: the key {target!r} of mapping is not an input of the BOLD model "
                                   f"'{model.name}' (its inputs: {model._inputs})")
            if not isinstance(variable, str):
                raise InvalidTypeError(f"BoldMonitor: mapping[{target!r}] is the name of a variable, not "
                                       f"{variable!r}")
        scales = _per_population(scale_factor, populations, "scale_factor")
        if not scales:
            total = sum(p.size for p in populations)
            scales = [p.size / total for p in populations]
        baselines = _per_population(normalize_input, populations, "normalize_input") or [0.0] * len(populations)
        if any(b < 0 for b in baselines):
            raise InvalidValueError(f"BoldMonitor: normalize_input is a time in ms >= 0, not {baselines}")
        if recorded_variables is None:
            recorded_variables = []
        elif isinstance(recorded_variables, str):
            recorded_variables = [recorded_variables]
        recorded = sorted(set(recorded_variables) | set(model._output)) if recorded_variables else \
            list(model._output)
        model._model_instantiated = True

        index = sum(isinstance(e, BoldMonitor) for e in getattr(net, "_bold_monitors", []))
        name = f"bold_monitor{index}" if index else "bold_monitor"
        pop = net.create(1, model, name=f"{name}_population")
        projections = []
        try:
            for target, variable in mapping.items():
                for source, scale, baseline in zip(populations, scales, baselines):
                    proj = AccProjection(source, pop, target, variable, name=f"{name}_{target}_{source.name}",
                                         normalize_input=baseline, scale_factor=scale, network=net)
                    projections.append(proj)
                    proj.all_to_all(weights=1.0)
                    proj._set_transmission(start)
            monitor = net.monitor(pop, recorded, start=start, name=name)
        except Exception:  # leave the network as it was
            net._projections[:] = [p for p in net._projections if p.post is not pop]
            net._populations.remove(pop)
            raise
        self._net, self._bold_pop, self._acc_proj, self._monitor = net, pop, projections, monitor
        self._populations, self._bold_model, self._mapping = populations, model, dict(mapping)
        self._scale_factor, self._normalize_input = scales, baselines
        self._recorded_variables, self._start = recorded, bool(start)
        self.name, self.net_id = name, net_id
        net.__dict__.setdefault("_bold_monitors", []).append(self)
        if start:
            for proj in projections:
                proj.start_baseline()
        self._initialized = True

    # recording -------------------------------------------------------------------
    def start(self):
        """Start recording; the inputs flow, and a baseline (``normalize_input``) is collected
        from now on."""
        self._monitor.start()
        for proj in self._acc_proj:
            proj._set_transmission(True)
            proj.start_baseline()

    def stop(self):
        """Stop recording and the inputs (the model then evolves without input)."""
        self._monitor.stop()
        for proj in self._acc_proj:
            proj._set_transmission(False)

    def get(self, variable):
        """The recording of ``variable`` (steps x 1), emptied as ``Monitor.get`` does."""
        if variable not in self._recorded_variables:
            raise NetworkError(f"BoldMonitor {self.name}: '{variable}' is not recorded (recorded: "
                               f"{self._recorded_variables})")
        return self._monitor.get(variable)

    # the model's parameters and variables -------------------------------------------
    def _attributes(self) -> set:
        return set(self._bold_pop._model_ir().attributes)

    def __getattr__(self, name):
        if name.startswith("_") or not self.__dict__.get("_initialized"):
            raise AttributeError(name)
        if name in self._attributes():
            return getattr(self._bold_pop, name)
        raise AttributeError(f"BoldMonitor {self.name}: '{name}' is not an attribute of the BOLD model "
                             f"'{self._bold_model.name}'")

    def __setattr__(self, name, value):
        if name.startswith("_") or not self.__dict__.get("_initialized") or name in ("name", "net_id"):
            object.__setattr__(self, name, value)
        elif name in self._attributes():
            setattr(self._bold_pop, name, value)
        else:
            raise NetworkError(f"BoldMonitor {self.name}: '{name}' is not an attribute of the BOLD model "
                               f"'{self._bold_model.name}'")

    def __repr__(self):
        return f"BoldMonitor({self.name!r}, {[p.name for p in self._populations]}, model='{self._bold_model.name}')"


__all__ = ["BoldMonitor"]
