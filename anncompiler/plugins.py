"""The ``anncompiler.plugins`` entry points, loaded once for backends and passes alike.

A plugin module registers what it brings when imported (``register_backend``,
``register_pass``); an entry point may also name a Backend or Pass subclass,
which is then registered.  A plugin that fails to load is reported and
skipped, so that one broken package does not break the others.
"""
from __future__ import annotations

import warnings

GROUP = "anncompiler.plugins"
_loaded: list | None = None


def load_plugins() -> list:
    """Import every plugin of :data:`GROUP` (once per process); returns the loaded objects."""
    global _loaded
    if _loaded is not None:
        return _loaded
    _loaded = []
    from importlib.metadata import entry_points

    from anncompiler.backends.base import Backend, register_backend
    from anncompiler.passes.manager import Pass, register_pass, registered_passes
    for ep in entry_points(group=GROUP):
        try:
            obj = ep.load()
            if isinstance(obj, type) and issubclass(obj, Backend):
                from anncompiler.backends.base import _REGISTRY as backends
                if obj.name not in backends:
                    register_backend(obj)
            elif isinstance(obj, type) and issubclass(obj, Pass) and registered_passes().get(obj.name) is not obj:
                register_pass(obj)
        except Exception as exc:
            warnings.warn(f"anncompiler plugin {ep.name!r} failed to load: {exc}")
            continue
        _loaded.append(obj)
    return _loaded
