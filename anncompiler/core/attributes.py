"""Parameter, Variable and Constant: the data classes of ANNarchy 5's model API."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

_LOCALITY_ALIASES = {
    "global": "global", "population": "global", "projection": "global",
    "semiglobal": "semiglobal", "postsynaptic": "semiglobal",
    "local": "local",
}


def normalise_locality(value: str) -> str:
    try:
        return _LOCALITY_ALIASES[value]
    except KeyError:
        raise ValueError(f"unknown locality {value!r}; use one of {sorted(_LOCALITY_ALIASES)}") from None


def normalise_type(value: Any) -> str:
    if value in (float, "float", "double"):
        return "float"
    if value in (int, "int"):
        return "int"
    if value in (bool, "bool"):
        return "bool"
    raise ValueError(f"unknown attribute type {value!r}; use float, int or bool")


@dataclass
class Parameter:
    """A model parameter: ``Parameter(value, locality='global', type=float)``.

    ``locality`` accepts ANNarchy's aliases (``population``, ``projection``,
    ``postsynaptic``).  ``explicit_locality`` records whether the user chose
    it, which decides whether per-neuron values may promote it to local.
    """
    value: Any = 0.0
    locality: Optional[str] = None  # None: not given (global, and promotable to local)
    type: Any = float

    def __post_init__(self):
        self.explicit_locality = self.locality is not None
        self.locality = normalise_locality(self.locality if self.locality is not None else "global")
        self.type = normalise_type(self.type)

    def _to_string(self, name: str) -> str:
        flags = []
        if self.locality == "global":
            flags.append("population")
        if self.type != "float":
            flags.append(self.type)
        return f"{name} = {self.value!r}" + (f" : {', '.join(flags)}" if flags else "")


@dataclass
class Variable:
    """A model variable given as an object: ``Variable(equation, init, min, max, method, locality, type)``."""
    equation: str
    init: Any = None
    min: Any = None
    max: Any = None
    method: Optional[str] = None
    locality: str = "local"
    type: Any = float

    def __post_init__(self):
        self.locality = normalise_locality(self.locality)
        self.type = normalise_type(self.type)

    def _to_string(self) -> str:
        """The equivalent equation line with flags, as ANNarchy serialises it."""
        flags = []
        if self.init is not None:
            flags.append(f"init={self.init!r}")
        if self.min is not None:
            flags.append(f"min={self.min}")
        if self.max is not None:
            flags.append(f"max={self.max}")
        if self.method:
            flags.append(self.method)
        if self.type != "float":
            flags.append(self.type)
        if self.locality == "global":
            flags.append("population")
        elif self.locality == "semiglobal":
            flags.append("postsynaptic")
        return self.equation + (" : " + ", ".join(flags) if flags else "")


class Constant(float):
    """A named constant visible in every equation; ``.set(v)`` changes it, also after compile."""

    def __new__(cls, name: str, value: float, net=None, *, register: bool = True):
        obj = super().__new__(cls, value)
        obj.name = name
        obj._value = float(value)
        obj._listeners = []
        if register and net is None:  # ann.Constant(...) at module level: visible in every network
            from .network import _GLOBAL_CONSTANTS
            _GLOBAL_CONSTANTS[name] = obj
        return obj

    @property
    def value(self) -> float:
        return self._value

    def set(self, value: float) -> None:
        self._value = float(value)
        for listener in self._listeners:
            listener(self)

    def __float__(self):
        return self._value

    def __repr__(self):
        return f"Constant({self.name!r}, {self._value!r})"


def _current_value_operator(name: str):
    """A float operator that uses the constant's current value (a float subclass keeps the
    value it was created with, so ``c.set(5); c + 1`` would otherwise give the old sum)."""
    op = getattr(float, name)

    def method(self, *args):
        return op(self._value, *(a._value if isinstance(a, Constant) else a for a in args))
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
              "__neg__", "__pos__", "__abs__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
              "__bool__", "__int__", "__round__", "__str__", "__format__"):
    setattr(Constant, _name, _current_value_operator(_name))
Constant.__hash__ = lambda self: hash(self.name)
