"""The phases of a simulation step, as a registry: the order of a step and how each phase lowers.

A phase has a name, a function picking the items it handles from the network IR (populations,
projections or monitors, by name, in order) and a lowering that turns those items into kernels.
``schedule`` lists the registered phases in order; ``lower-to-kernels`` calls their lowerings.
A new phase of the step (delays, structural plasticity, ...) is a new module calling
:func:`register_phase` with its place (``after=`` or ``before=`` an existing phase): no other
file changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from anncompiler.errors import NetworkError, PipelineError


@dataclass(frozen=True)
class Phase:
    name: str
    #: network IR -> names of the items of this phase, in the order they run
    items: Callable
    #: (lowering context, item names) -> kernels
    lower: Callable


_PHASES: list[Phase] = []


def register_phase(name: str, items: Callable, *, after: str | None = None, before: str | None = None):
    """Decorator of a lowering ``f(ctx, names) -> list[Kernel]``: registers phase ``name``, at the
    end of the step, or right after/before an existing phase."""
    def decorate(lower: Callable) -> Callable:
        if any(p.name == name for p in _PHASES):
            raise PipelineError(f"a phase named '{name}' is already registered")
        if after is not None and before is not None:
            raise PipelineError(f"phase '{name}': give 'after' or 'before', not both")
        position = len(_PHASES)
        anchor = after if after is not None else before
        if anchor is not None:
            names = [p.name for p in _PHASES]
            if anchor not in names:
                raise PipelineError(f"phase '{name}': no phase '{anchor}' to place it by "
                                    f"(phases: {', '.join(names)})")
            position = names.index(anchor) + (1 if after is not None else 0)
        _PHASES.insert(position, Phase(name, items, lower))
        return lower
    return decorate


def unregister_phase(name: str) -> None:
    """Remove a phase (tests and plugins that register one temporarily)."""
    _PHASES[:] = [p for p in _PHASES if p.name != name]


def registered_phases() -> list[Phase]:
    return list(_PHASES)


def get_phase(name: str) -> Phase:
    for p in _PHASES:
        if p.name == name:
            return p
    raise NetworkError(f"unknown schedule phase '{name}'; registered phases: "
                       f"{', '.join(p.name for p in _PHASES)}")
