"""Names of ANNarchy's interface that anncompiler does not implement yet: each raises
``NotSupportedError`` naming itself, never an AttributeError (the README's "Not supported yet")."""
from __future__ import annotations

from anncompiler.errors import NotSupportedError


def not_supported(what: str, hint: str = ""):
    """A method that refuses clearly."""
    def method(self, *args, **kwargs):
        raise NotSupportedError(f"{what} is not supported yet" + (f": {hint}" if hint else ""))
    method.__doc__ = f"{what}: not supported yet."
    return method


def add_unsupported(cls, names: dict) -> None:
    """Give ``cls`` a refusing method for each missing name (``{name: hint}``)."""
    for name, hint in names.items():
        if not hasattr(cls, name):
            setattr(cls, name, not_supported(f"{cls.__name__}.{name}()", hint))


def install() -> None:
    from .projection import Projection
    add_unsupported(Projection, {"start_pruning": "", "stop_pruning": "", "start_creating": "",
                                 "stop_creating": ""})
