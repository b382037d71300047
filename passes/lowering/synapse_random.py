"""Random numbers in synapses: ``Uniform(0, 1)``, ``Normal(mu, sigma)``... in the equations, the
``pre_spike`` and the ``post_spike`` statements of a synapse.

As in neurons (``random.py``), each draw is Philox4x32-10 of ``(index, step, stream)`` (half of
the block of ``index >> 1`` for most distributions: ``ir/philox.py``): the stream numbers the random call (the projection's draws come after those of the populations),
the index is the synapse (its position in the projection's rows) for per-synapse equations and
events, the dendrite (row) for semiglobal equations, 0 for global ones.  A synapse sees at most
one pre-synaptic and one post-synaptic event per step, so every number is drawn once and does
not depend on the backend, the number of threads or which worker runs the synapse.
"""
from __future__ import annotations

from dataclasses import replace

from anncompiler.errors import ModelError
from anncompiler.ir.draws import random_calls
from anncompiler.ir.network import ProjectionEdge

from .random import random_lets, replace_random

__all__ = ["replace_random", "random_statements", "refuse_random"]


def random_statements(ctx, e: ProjectionEdge, statements, resolve, index):
    """The ``Let`` statements drawing the random calls of event statements (``pre_spike``,
    ``post_spike``) for synapse ``index``, and the statements with those calls replaced."""
    if not any(random_calls(eq.rhs) for eq in statements):
        return [], list(statements)
    lets, mapping = random_lets(ctx, e, [(eq.source, eq.rhs) for eq in statements], resolve, index)
    return lets, [replace(eq, rhs=eq.rhs.xreplace(mapping)) for eq in statements]


def refuse_random(e: ProjectionEdge, where: str, items) -> None:
    """Random calls where a synapse cannot draw them (``psp``, event-driven decays)."""
    for source, expr in items:
        if random_calls(expr):
            raise ModelError(f"random numbers are not supported in the {where} of a synapse",
                             model=e.synapse.name, equation=source or None)
