"""Helpers shared by the built-in models: parameter blocks written in the equation language."""
from __future__ import annotations

import numbers

from anncompiler.errors import InvalidTypeError


def number(model: str, name: str, value) -> str:
    """``value`` as a literal of the equation language (a float that reads back to the same bits)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{model}: {name} must be a number, not {type(value).__name__} ({value!r})")
    return repr(float(value))


def parameter_block(model: str, values: dict, shared: tuple = (), flag: str = "population") -> str:
    """One ``name = value`` line per parameter, local unless listed in ``shared`` (then marked
    with the locality ``flag``: ``population`` for neurons, ``projection`` or ``postsynaptic``
    for synapses)."""
    lines = []
    for name, value in values.items():
        line = f"{name} = {number(model, name, value)}"
        lines.append(line + (f" : {flag}" if name in shared else ""))
    return "\n".join(lines)


def text(model: str, name: str, value) -> str:
    """A piece of equation given as an argument (``sum=``, ``conductance=``, ``noise=``)."""
    if not isinstance(value, str):
        raise InvalidTypeError(f"{model}: {name} must be a string of the equation language, "
                               f"not {type(value).__name__}")
    return value
