"""Backend interface and the registry that picks a backend by name.

A backend turns a :class:`~anncompiler.ir.kernel.KernelModule` into an
:class:`Artefact` (``emit``) and binds an artefact to the runtime's arrays
(``load``), giving a :class:`Simulator` whose ``run(n)`` executes steps.
Backends are found through :func:`get_backend`, never by ``if/elif``; third
party packages add theirs through the ``anncompiler.plugins`` entry points.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from anncompiler.errors import BackendError
from anncompiler.ir.kernel import KernelModule

__all__ = ["Artefact", "Simulator", "Backend", "register_backend", "get_backend",
           "available_backends", "registered_backends", "check_arrays"]


@dataclass
class Artefact:
    """What ``emit`` produced: printable dumps (file name -> text, or a function giving the text
    when a dump is written: costly ones such as assembly are made only then) for ``dump_ir``, and
    a backend-private ``payload`` that ``load`` consumes."""
    backend: str
    dumps: dict[str, str] = field(default_factory=dict)
    payload: object = None
    #: facts for the compile report (e.g. ``{"cache_hit": True}``)
    info: dict = field(default_factory=dict)


class Simulator:
    """A compiled module bound to the runtime's arrays."""

    def run(self, n_steps: int) -> int:
        """Execute up to ``n_steps`` steps (fewer if an exit condition holds);
        return the number of steps executed."""
        raise NotImplementedError


class Backend:
    """Base of code generators; subclass, set ``name``, decorate with
    :func:`register_backend`."""
    name: ClassVar[str] = ""

    @classmethod
    def is_available(cls) -> bool:
        """False when a dependency (a library, a device) is missing."""
        return True

    def __init__(self, **options):
        # unknown options are kept but ignored, so that one options dict can
        # be passed to whichever backend the user picked
        self.options = dict(options)

    @classmethod
    def can_emit(cls) -> bool:
        """Whether ``emit`` works on this machine (code generation only: a GPU backend can render
        and compile its code without a device).  By default, ``is_available()``."""
        return cls.is_available()

    def check_usable(self) -> None:
        """Raise an :class:`~anncompiler.errors.AnnCompilerError` saying what is missing when ``load``
        cannot work on this machine with these options (by default: unless ``is_available()``)."""
        if not self.is_available():
            from anncompiler.errors import NetworkError
            raise NetworkError(f"backend '{self.name}' is not available on this machine")

    def pipeline_suffix(self) -> str:
        """The platform passes this backend needs after the neutral pipeline (pipeline text,
        e.g. ``"cpu-partition{threads=2},cpu-expand-reductions"``); the compile driver appends
        those not already in the pipeline it was given.  "" for a backend that consumes the
        neutral kernel IR as it is (the reference interpreter)."""
        return ""

    def emit(self, module: KernelModule) -> Artefact:
        raise NotImplementedError

    def load(self, artefact: Artefact, arrays: dict[str, np.ndarray]) -> Simulator:
        raise NotImplementedError


_REGISTRY: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator: make ``cls`` available as ``get_backend(cls.name)``.
    Registering a name again replaces the previous class (handy in tests)."""
    if not getattr(cls, "name", ""):
        raise BackendError(f"backend class {cls.__name__} has no 'name'")
    _REGISTRY[cls.name] = cls
    return cls


def _load_plugins() -> None:
    """Import the ``anncompiler.plugins`` entry points (once, shared with the passes)."""
    from anncompiler.plugins import load_plugins
    load_plugins()


def get_backend(name: str) -> type[Backend]:
    """The backend class registered as ``name``."""
    if name not in _REGISTRY:
        _load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise BackendError(f"unknown backend {name!r}; known backends: {known}") from None


def registered_backends() -> dict[str, type[Backend]]:
    """Every backend by name (built-in and plugins), available on this machine or not."""
    _load_plugins()
    return dict(_REGISTRY)


def available_backends() -> list[str]:
    """Names of the registered backends whose ``is_available()`` is true."""
    _load_plugins()
    return [n for n, cls in _REGISTRY.items() if cls.is_available()]


def check_arrays(module: KernelModule, arrays: dict[str, np.ndarray]) -> None:
    """Fail early (instead of reading wild memory) if the runtime's arrays do
    not match the module's declarations.  An array no kernel writes may be read-only (the
    compile-time values of ``ArrayDecl.shared_until_written``)."""
    written = None
    for name, decl in module.arrays.items():
        a = arrays.get(name)
        if a is None:
            raise BackendError(f"array {name!r} is declared by the kernel module but not allocated")
        if not isinstance(a, np.ndarray) or a.dtype != decl.dtype.numpy:
            raise BackendError(f"array {name!r} must be a numpy {decl.dtype.numpy} array, "
                               f"got {getattr(a, 'dtype', type(a).__name__)}")
        if not a.flags.writeable and written is None:
            from anncompiler.ir.kernel_access import written_arrays
            written = set().union(*(written_arrays(k.body) for k in module.kernels))
        if not a.flags.c_contiguous or (not a.flags.writeable and name in written):
            raise BackendError(f"array {name!r} must be C-contiguous and writeable")
        if a.size != decl.size:
            raise BackendError(f"array {name!r} has {a.size} elements, {decl.size} declared")
