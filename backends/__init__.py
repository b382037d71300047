"""Backends: code generators chosen by name through a registry.

Importing this package registers the built-in ``reference``, ``llvm`` and
``cuda`` backends; others register with :func:`register_backend` or through the
``anncompiler.plugins`` entry-point group.
"""
from .base import (Artefact, Backend, Simulator, available_backends, get_backend,
                   register_backend, registered_backends)
from . import reference  # noqa: F401  (registers "reference")
from . import llvm  # noqa: F401  (registers "llvm")
from . import cuda  # noqa: F401  (registers "cuda"; imports cupy only when used)

DEFAULT_BACKEND = "llvm"

__all__ = ["Artefact", "Backend", "Simulator", "register_backend", "get_backend",
           "available_backends", "registered_backends", "DEFAULT_BACKEND"]
