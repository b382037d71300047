"""``save_parameters``/``load_parameters``: the global parameters of a network in a JSON file
(ANNarchy's layout: ``populations`` and ``projections``, each ``{name: {parameter: value}}``,
``network`` for values of the user's own and ``constants``), meant to be edited by hand."""
from __future__ import annotations

import json
import numbers
import os

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, UnknownNameError


def _is_global(model, name: str, flag: str) -> bool:
    a = model.attributes[name]
    return a.role == "parameter" and a.locality == flag


def _value(obj, name):
    value = obj.get(name)
    if isinstance(value, np.ndarray):  # a global parameter given per-neuron values before compile
        value = value.reshape(-1)[0]
    return value.item() if isinstance(value, np.generic) else value


def parameters_description(net) -> dict:
    """ANNarchy's dictionary of global parameters (their current values)."""
    desc = {"populations": {}, "projections": {}, "network": {},
            "constants": {c.name: float(c) for c in net._all_constants()}}
    for pop in net._populations:
        model = pop._model_ir()
        desc["populations"][pop.name] = {n: _value(pop, n) for n in model.parameters if _is_global(model, n, "global")}
    for proj in net._projections:
        model = proj._model_ir()
        desc["projections"][proj.name] = {n: _value(proj, n) for n in model.parameters
                                          if _is_global(model, n, "global")}
    return desc


def save_parameters(net, filename) -> None:
    if not isinstance(filename, (str, os.PathLike)) or not os.fspath(filename):
        raise InvalidTypeError(f"save_parameters(): the file name must be a non-empty path, not {filename!r}")
    with open(filename, "w") as f:
        json.dump(parameters_description(net), f, indent=4)


def _read(filename) -> dict:
    try:
        with open(filename) as f:
            desc = json.load(f)
    except FileNotFoundError:
        raise InvalidValueError(f"load_parameters(): no file {os.fspath(filename)!r}") from None
    except (OSError, ValueError, TypeError) as e:
        raise InvalidValueError(f"load_parameters(): cannot read {filename!r} as JSON ({e})") from None
    if not isinstance(desc, dict):
        raise InvalidValueError(f"load_parameters(): {filename!r} holds no dictionary of parameters")
    return desc


def _number(label: str, name: str, value, kind: str):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if kind == "bool" and isinstance(value, bool):
            return value
        raise InvalidTypeError(f"load_parameters(): {label}.{name} must be a number, not {value!r}")
    return {"int": int, "bool": bool}.get(kind, float)(value)


def load_parameters(net, filename, global_only=True, verbose=False) -> dict:
    """Set the parameters the file gives (checked first: unknown populations or projections and
    values that are not numbers raise before anything changes); names that are not parameters,
    and with ``global_only`` local ones, are skipped.  Returns the ``network`` entry."""
    desc = _read(filename)
    changes = []
    for kind, getter in (("populations", net.get_population), ("projections", net.get_projection)):
        entries = desc.get(kind, {})
        if not isinstance(entries, dict):
            raise InvalidValueError(f"load_parameters(): the '{kind}' entry of {filename!r} is not a dictionary")
        known = {o.name: o for o in (net._populations if kind == "populations" else net._projections)}
        for name, values in entries.items():
            obj = known.get(name)
            if obj is None:
                raise UnknownNameError(f"load_parameters(): the file has {kind[:-1]} '{name}' that the network does "
                                       f"not have (it has {', '.join(known) or 'none'})", name=name)
            if not isinstance(values, dict):
                raise InvalidValueError(f"load_parameters(): the entry of {name} is not a dictionary")
            model = obj._model_ir()
            for param, value in values.items():
                if param not in model.parameters or (global_only and not _is_global(model, param, "global")):
                    if verbose:
                        print(f"  {param} is not a global parameter of {name}, skipping.")
                    continue
                number = _number(name, param, value, model.attributes[param].type)
                changes.append((obj, param, number))
    constants = desc.get("constants", {})
    network = desc.get("network", {})
    for label, entry in (("constants", constants), ("network", network)):
        if not isinstance(entry, dict):
            raise InvalidValueError(f"load_parameters(): the '{label}' entry of {filename!r} is not a dictionary")
        for name, value in entry.items():
            _number(label, name, value, "float")
    for obj, param, number in changes:
        if verbose:
            print(f"  {obj.name}.{param}: {obj.get(param)} -> {number}")
        obj.set({param: number})
    known = {c.name: c for c in net._all_constants()}
    for name, value in constants.items():
        if name in known:
            known[name].set(float(value))
        else:
            net.constant(name, float(value))
    return {name: float(value) for name, value in network.items()}
