"""Synaptic delays seen from the front end: ``proj.delay``, ``dendrite.delay``, ``pop.max_delay``.

Delays are ms, simulated as ``max(1, round(d / dt))`` steps.  Before compile they are the
connectivity's values.  After compile a projection whose pre-synaptic population keeps a ring of
its past (``pop.max_delay`` > 1 step) reads its delays from the state, so they can change up to
that maximum; a projection compiled with uniform delays stays uniform (as in ANNarchy).
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError, ShapeError

from .random import RandomDistribution


def to_steps(values, dt: float) -> np.ndarray:
    return np.maximum(1, np.rint(np.asarray(values, dtype=float) / dt)).astype(np.int64)


def bounded_distribution(name: str, dist, dt: float):
    """A distribution of delays must have a ``max`` (the compiled rings are sized by it); its
    ``min`` is raised to ``dt`` (as in ANNarchy; on a copy: the user's object is left as it is)."""
    import copy
    high = getattr(dist, "max", None)
    if high is None:
        raise InvalidValueError(f"projection {name}: a random distribution of delays needs a max "
                                f"(e.g. {type(dist).__name__}(..., max=5.0)) to bound the longest delay")
    low = getattr(dist, "min", None)
    if low is None or low < dt:
        if high <= dt:
            return float(dt)  # every delay is one step
        dist = copy.copy(dist)
        dist.min = dt
    return dist


def projection_delay(proj):
    """Delays in ms as simulated: one number when they are all equal, else a list per dendrite."""
    c = proj._require_connectivity()
    dt = proj._net.dt
    steps = to_steps(c.delays, dt)
    if steps.ndim == 0 or (steps.size and np.all(steps == steps.reshape(-1)[0])):
        return float(steps.reshape(-1)[0] * dt) if steps.size else dt
    return [(steps[c.row_ptr[k]:c.row_ptr[k + 1]] * dt).tolist() for k in range(c.n_rows)]


def _flat_values(proj, value) -> np.ndarray | float:
    """A number, a RandomDistribution, one list per dendrite or a flat array -> ms (scalar or nnz)."""
    c = proj._require_connectivity()
    if isinstance(value, RandomDistribution):
        value = value.get_values(c.nb_synapses)
    elif isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim == 2):
        rows = list(value)
        if any(np.ndim(r) == 0 for r in rows):  # a flat list of per-synapse values
            value = np.asarray(rows, dtype=float) if all(np.ndim(r) == 0 for r in rows) else None
        elif len(rows) != c.n_rows or any(np.size(r) != n for r, n in zip(rows, np.diff(c.row_ptr))):
            raise ShapeError(f"{proj.name}.delay: one list per dendrite with one value per synapse "
                             f"({c.n_rows} dendrites), as proj.delay gives them")
        else:
            value = np.concatenate([np.asarray(r, dtype=float).reshape(-1) for r in rows]) if rows else 0.0
        if value is None:
            raise InvalidTypeError(f"{proj.name}.delay: a number, one list per dendrite or one value per synapse")
    from .projection import _check_delays
    _check_delays(proj.name, value)
    if np.ndim(value) and np.size(value) != c.nb_synapses:
        raise ShapeError(f"{proj.name}.delay: {np.size(value)} values for {c.nb_synapses} synapses")
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float).reshape(-1)


def set_projection_delay(proj, value) -> None:
    c = proj._require_connectivity()
    value = _flat_values(proj, value)
    net = proj._net
    if net.compiled:
        _write_compiled(proj, c, value)
    c.delays = value


def _write_compiled(proj, c, value) -> None:
    from anncompiler.runtime.delays import compiled_max_delay, delay_storage, write_delays
    net, dt = proj._net, proj._net.dt
    steps, before = to_steps(value, dt), to_steps(c.delays, dt)
    kind = delay_storage(net, proj.name)
    if kind is None:
        if np.array_equal(np.broadcast_to(steps, before.shape) if before.ndim else steps,
                          np.broadcast_to(before, np.shape(steps))):
            return
        why = ("it was fused with others by fuse-connectivity (compile without that pass)"
               if _fused(net, proj) else
               f"it was compiled without delays: give them to the connector, or reserve room with "
               f"{proj.pre.name}.max_delay = <steps> before compile")
        raise NetworkError(f"projection {proj.name}: its delays cannot change after compile: {why}")
    longest = int(np.max(steps)) if np.size(steps) else 1
    R = compiled_max_delay(net, _population_name(proj.pre))
    if longest > R:
        raise InvalidValueError(f"projection {proj.name}: a delay of {longest * dt:g} ms ({longest} steps) is longer "
                                f"than the maximum compiled for population {_population_name(proj.pre)}: {R * dt:g} ms "
                                f"({R} steps); set {_population_name(proj.pre)}.max_delay before compile")
    if kind == "uniform" and np.ndim(steps) and not np.all(steps == steps[0]):
        raise InvalidValueError(f"projection {proj.name} was compiled with uniform delays: they stay uniform "
                                f"after compile (give one number)")
    pre = getattr(proj.pre, "population", proj.pre)  # a recompile (monitors added) keeps the ring's length
    pre.__dict__["_max_delay"] = max(int(pre.__dict__.get("_max_delay") or 1), R)
    write_delays(net, proj.name, c, steps)


def _fused(net, proj) -> bool:
    h = net.kernel_module.handles.get((proj.name, "w"))
    return h is not None and "+" in h.array


def _population_name(obj) -> str:
    return getattr(obj, "population", obj).name


# dendrites --------------------------------------------------------------------------------
def dendrite_delay(d, single: bool = False):
    """The delays (ms) of the synapses of a dendrite (``single``: of one synapse): one number
    when the projection's are uniform."""
    value = projection_delay(d.proj)
    if isinstance(value, float):
        return value
    c = d.proj._require_connectivity()
    ms = to_steps(np.broadcast_to(np.asarray(c.delays, dtype=float), (c.nb_synapses,)), d.proj._net.dt)
    ms = ms[d._lo:d._hi] * d.proj._net.dt
    return float(ms[0]) if single else ms.tolist()


def set_dendrite_delay(d, value) -> None:
    """New delays for the synapses of one dendrite (or synapse): the projection's others stay."""
    proj = d.proj
    c = proj._require_connectivity()
    n = d._hi - d._lo
    value = np.asarray(value, dtype=float).reshape(-1)
    if value.size not in (1, n):
        raise ShapeError(f"{proj.name}.delay: {value.size} values for {n} synapses of post-synaptic neuron "
                         f"{d.post_rank}")
    full = np.array(np.broadcast_to(np.asarray(c.delays, dtype=float), (c.nb_synapses,)))
    full[d._lo:d._hi] = value
    set_projection_delay(proj, full)


# populations --------------------------------------------------------------------------------
def population_max_delay(pop) -> int:
    """The longest delay (steps) of the projections leaving ``pop``: what it keeps of its past."""
    net = pop._net
    if net.compiled:
        from anncompiler.runtime.delays import compiled_max_delay
        return compiled_max_delay(net, pop.name)
    longest = int(pop.__dict__.get("_max_delay") or 1)
    for proj in net._projections:
        if _population_name(proj.pre) == pop.name and proj.connectivity is not None:
            steps = to_steps(proj.connectivity.delays, net.dt)
            if steps.size:
                longest = max(longest, int(np.max(steps)))
    return longest


def set_population_max_delay(pop, value) -> None:
    """Reserve a ring of ``value`` steps, so that delays up to that can be set after compile."""
    if pop._net.compiled:
        raise NetworkError(f"population {pop.name}: max_delay is fixed at compile ({population_max_delay(pop)} "
                           f"steps)")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(f"population {pop.name}: max_delay is a number of steps (an int), not {value!r}")
    if value < 1:
        raise InvalidValueError(f"population {pop.name}: max_delay is at least 1 step, not {value}")
    pop.__dict__["_max_delay"] = int(value)
