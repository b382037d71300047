"""Saving, loading and resetting the state of a compiled network (``net.save``/``load``/
``reset``, ``pop.save``/``load``/``reset``, ``proj.save``/``load``/``reset``).

A saved object is ANNarchy's dictionary: for a population ``name``, ``geometry``, ``size``,
``attributes``/``parameters``/``variables`` (names) and one entry per attribute (an array of
one value per neuron, or a number for a global one); for a projection ``pre``, ``post``,
``target``, ``post_ranks``, ``pre_ranks`` (per dendrite), ``delays`` (ms) and one entry per
attribute (per dendrite, per synapse: a 2-D array, or an object array when dendrites differ in
size).  A network file adds ``time_step``, ``net_id`` and ``obj_names``.

Under the key ``_state`` each object also carries the arrays its next step reads besides its
attributes (spike lists, refractory counters, delay rings, event steps, input cursors...), found
in the compiled module (``anncompiler/runtime/snapshot.py``): a load restores them bit for bit,
so that the simulation goes on exactly as it would have from the save.

Loading checks the whole file against the network before it writes anything: a file that does
not fit (unknown names, other sizes, other synapses) raises and leaves the state as it was.
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import (ConnectivityError, InvalidTypeError, InvalidValueError, NetworkError, ShapeError,
                                UnknownNameError)
from anncompiler.runtime import snapshot
from anncompiler.runtime.state import GatheredArray, ensure_writable, initial_array, unwritten

#: the key of the arrays that are not attributes (not one of ANNarchy's)
STATE_KEY = "_state"


# ---------------------------------------------------------------------------------------------
# what an object owns
# ---------------------------------------------------------------------------------------------
def _objects(net) -> list:
    return list(net._populations) + list(net._projections)


def _owners(net) -> dict[str, str]:
    return snapshot.array_owners(net.kernel_module, [o.name for o in _objects(net)])


def _attribute_arrays(net) -> set[str]:
    km = net.kernel_module
    return {km.handles[(o.name, a)].array for o in _objects(net) for a in o._model_ir().attributes
            if (o.name, a) in km.handles}


def hidden_arrays(obj) -> list[str]:
    """The arrays of ``obj`` its next step reads besides its attributes."""
    net = obj._net
    return snapshot.hidden_state(net.kernel_module, obj.name, _attribute_arrays(net), _owners(net))


def _require(obj, what: str):
    if not obj._net.compiled:
        raise NetworkError(f"{what}: the network is not compiled yet (its state exists after compile())")


def _live(obj, name):
    """The array (or gathered elements) holding attribute ``name`` of ``obj``."""
    return obj._net._state(obj.name, name)


# ---------------------------------------------------------------------------------------------
# saving
# ---------------------------------------------------------------------------------------------
def _hidden_values(obj) -> dict:
    arrays = obj._net._arrays
    return {snapshot.file_key(obj.name, name): arrays[name].copy() for name in hidden_arrays(obj)}


def population_data(pop) -> dict:
    """ANNarchy's description of a population, with its values now."""
    _require(pop, f"population {pop.name}: save()")
    desc = {"name": pop.name, "geometry": tuple(pop.geometry), "size": pop.size,
            "neuron_type": pop._model_ir().type, "attributes": list(pop.attributes),
            "parameters": list(pop.parameters), "variables": list(pop.variables)}
    model = pop._model_ir()
    for name in pop.attributes:
        values = np.array(_live(pop, name))
        one = values.size == 1 and model.attributes[name].locality != "local"
        desc[name] = values[0].item() if one else values
    desc[STATE_KEY] = _hidden_values(pop)
    return desc


def _per_dendrite(values, row_ptr):
    """Per-synapse values split by dendrite: a 2-D array, or an object array of rows when the
    dendrites differ in size (as ANNarchy stores them)."""
    sizes = np.diff(row_ptr)
    rows = [values[row_ptr[k]:row_ptr[k + 1]] for k in range(len(sizes))]
    if len(rows) and np.all(sizes == sizes[0]):
        return np.array(rows)
    ragged = np.empty(len(rows), dtype=object)
    for k, row in enumerate(rows):
        ragged[k] = row
    return ragged


def projection_data(proj) -> dict:
    """ANNarchy's description of a projection, with its synapses and values now."""
    _require(proj, f"projection {proj.name}: save()")
    c = proj._require_connectivity()
    model = proj._model_ir()
    desc = {"name": proj.name, "pre": proj.pre.name, "post": proj.post.name, "target": proj.target,
            "post_ranks": proj.post_ranks, "attributes": list(model.attributes),
            "parameters": list(model.parameters), "variables": list(model.variables), "delays": proj.delay,
            "pre_ranks": _per_dendrite(np.asarray(c.pre_ranks), c.row_ptr)}
    for name, a in model.attributes.items():
        values = np.array(_live(proj, name))
        if values.size == 1 and (a.locality == "global" or c.nb_synapses != 1 and a.locality == "local"):
            desc[name] = values[0].item()  # one value (a weight shared by every synapse included)
        elif a.locality == "semiglobal":
            desc[name] = values
        else:
            desc[name] = _per_dendrite(values, c.row_ptr)
    desc[STATE_KEY] = _hidden_values(proj)
    return desc


def network_data(net, populations=True, projections=True) -> dict:
    """ANNarchy's description of the whole network (what ``net.save`` writes)."""
    if not net.compiled:
        raise NetworkError("save(): the network is not compiled yet (its state exists after compile())")
    desc = {"time_step": net.current_step, "net_id": 0}
    pops = list(net._populations) if populations else []
    projs = list(net._projections) if projections else []
    for obj in pops:
        desc[obj.name] = population_data(obj)
    for obj in projs:
        desc[obj.name] = projection_data(obj)
    desc["obj_names"] = {"populations": [p.name for p in pops], "projections": [p.name for p in projs]}
    return desc


# ---------------------------------------------------------------------------------------------
# loading: check everything, then write
# ---------------------------------------------------------------------------------------------
class _Writes:
    """The writes of a load, collected while the file is checked and done together."""

    def __init__(self):
        self.first: list = []   # calls that may still refuse (delays)
        self.arrays: list = []  # (target, values)

    def apply(self):
        for call in self.first:
            call()
        for target, values in self.arrays:
            target[...] = values


def _numbers(owner: str, name: str, value) -> np.ndarray:
    """``value`` flattened to numbers (rows of a ragged object array concatenated)."""
    try:
        if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.dtype == object):
            parts = [np.asarray(v).reshape(-1) for v in value]
            flat = np.concatenate(parts) if parts else np.zeros(0)
        else:
            flat = np.asarray(value).reshape(-1)
    except (TypeError, ValueError):
        flat = np.asarray([object()])
    if flat.dtype.kind not in "biuf":
        raise InvalidTypeError(f"{owner}: the saved value of '{name}' is not numbers ({type(value).__name__})")
    return flat


def _fit(owner: str, name: str, target, value) -> np.ndarray:
    """``value`` as the contents of ``target`` (same size and dtype); a single value fills it;
    one array for a target of one element is accepted when all its values are equal."""
    flat = _numbers(owner, name, value)
    size = target.size
    if flat.size == size:
        return flat.astype(target.dtype, copy=False)
    if flat.size == 1:
        return np.full(size, flat[0]).astype(target.dtype, copy=False)
    if size == 1 and flat.size and np.all(flat == flat[0]):
        return flat[:1].astype(target.dtype, copy=False)
    raise ShapeError(f"{owner}: the file has {flat.size} values of '{name}', the network {size}")


def _check_description(obj, desc, what: str):
    if not isinstance(desc, dict) or "attributes" not in desc:
        raise InvalidValueError(f"{what}: the file does not describe {obj.name} (no 'attributes' entry); was it "
                                "written by save()?")


def _plan_attributes(obj, desc, label: str, writes: _Writes, model) -> None:
    names = list(desc["attributes"])
    if "w" in desc and "w" not in names:
        names.append("w")
    for name in names:
        if name not in model.attributes:
            raise UnknownNameError(f"{label}: the file has an attribute '{name}' that model '{model.name}' does "
                                   f"not have (its attributes: {', '.join(model.attributes)})",
                                   model=model.name, name=name)
        if name not in desc:
            raise InvalidValueError(f"{label}: the file names the attribute '{name}' but holds no value for it")
        target = obj._net._writable_state(obj.name, name)
        writes.arrays.append((target, _fit(label, name, target, desc[name])))


def _plan_hidden(obj, desc, label: str, writes: _Writes) -> None:
    saved = desc.get(STATE_KEY) or {}
    if not isinstance(saved, dict):
        raise InvalidValueError(f"{label}: the file's '{STATE_KEY}' entry is not a dictionary of arrays")
    km, arrays = obj._net.kernel_module, obj._net._arrays
    mine = set(hidden_arrays(obj))
    for key, value in saved.items():
        name = snapshot.array_for_key(km, obj.name, str(key))
        if name is None or name not in mine:
            continue  # an array of another platform (thread partitions...): nothing reads it here
        ensure_writable(km, arrays, name)
        target = arrays[name]
        flat = _numbers(label, str(key), value)
        if flat.size != target.size:
            if km.arrays[name].kind == "internal":
                continue  # scratch sized by the thread count
            raise ShapeError(f"{label}: the saved array '{key}' has {flat.size} elements, the network's "
                             f"{target.size} (was the file saved from another network?)")
        writes.arrays.append((target, flat.astype(target.dtype, copy=False)))


def plan_population(pop, desc, writes: _Writes, what: str = "load()") -> None:
    label = f"population {pop.name}"
    _check_description(pop, desc, f"{label}: {what}")
    size = desc.get("size")
    if size is not None and int(np.asarray(size)) != pop.size:
        raise ShapeError(f"{label}: the file holds {int(np.asarray(size))} neurons, the population {pop.size}")
    _plan_hidden(pop, desc, label, writes)
    _plan_attributes(pop, desc, label, writes, pop._model_ir())


def _delays_differ(proj, saved) -> bool:
    c = proj._require_connectivity()
    mine = proj.delay
    try:
        a = _numbers(f"projection {proj.name}", "delays", saved).astype(float)
        b = _numbers(f"projection {proj.name}", "delays", mine).astype(float)
    except InvalidTypeError:
        return True
    if a.size == 1 and b.size == 1:
        return bool(a[0] != b[0])
    a = np.broadcast_to(a, (c.nb_synapses,)) if a.size == 1 else a
    b = np.broadcast_to(b, (c.nb_synapses,)) if b.size == 1 else b
    return a.shape != b.shape or not np.array_equal(a, b)


def plan_projection(proj, desc, writes: _Writes, what: str = "load()") -> None:
    label = f"projection {proj.name}"
    _check_description(proj, desc, f"{label}: {what}")
    c = proj._require_connectivity()
    if "post_ranks" in desc:
        post = _numbers(label, "post_ranks", desc["post_ranks"])
        if post.size != c.n_rows or not np.array_equal(post, c.post_ranks):
            raise ConnectivityError(f"{label}: the file's synapses go to other post-synaptic neurons "
                                    f"({post.size} dendrites, the projection {c.n_rows}); the synapses of a "
                                    "compiled projection cannot change")
    if "pre_ranks" in desc:
        pre = _numbers(label, "pre_ranks", desc["pre_ranks"])
        if pre.size != c.nb_synapses or not np.array_equal(pre, c.pre_ranks):
            raise ConnectivityError(f"{label}: the file's synapses come from other pre-synaptic neurons "
                                    f"({pre.size} synapses, the projection {c.nb_synapses}); the synapses of "
                                    "a compiled projection cannot change")
    if "delays" in desc and _delays_differ(proj, desc["delays"]):
        delays = desc["delays"]
        if isinstance(delays, np.ndarray) and delays.dtype == object:
            delays = [list(np.asarray(row).reshape(-1)) for row in delays]
        elif isinstance(delays, np.ndarray):
            delays = delays.tolist() if delays.ndim else float(delays)
        writes.first.append(lambda: setattr(proj, "delay", delays))
    _plan_hidden(proj, desc, label, writes)
    _plan_attributes(proj, desc, label, writes, proj._model_ir())


def load_object(obj, desc, plan) -> None:
    """Load one population or projection from its description (``pop.load``, ``proj.load``)."""
    _require(obj, f"{obj.name}: load()")
    writes = _Writes()
    plan(obj, desc, writes)
    with obj._net._lock:
        writes.apply()


def load_network(net, desc, populations=True, projections=True) -> None:
    """``net.load``: the step counter, then every object of the network named in the file."""
    if not net.compiled:
        raise NetworkError("load(): the network is not compiled yet; compile() it, then load the state")
    names = desc.get("obj_names")
    if isinstance(names, dict):  # objects the file has and the network lacks: another network
        for kind, wanted, known in (("populations", populations, net._populations),
                                    ("projections", projections, net._projections)):
            missing = [n for n in names.get(kind, []) if wanted and n not in {o.name for o in known}]
            if missing:
                raise UnknownNameError(f"load(): the file has {kind} {', '.join(map(repr, missing))} that the "
                                       f"network does not have (it has {', '.join(o.name for o in known) or 'none'})",
                                       name=missing[0])
    writes = _Writes()
    if populations:
        for pop in net._populations:
            if pop.name in desc:
                plan_population(pop, desc[pop.name], writes)
    if projections:
        for proj in net._projections:
            if proj.name in desc:
                plan_projection(proj, desc[proj.name], writes)
    step = desc.get("time_step")
    if step is not None:
        step = np.asarray(step)
        if step.size != 1 or step.dtype.kind not in "iu" or int(step) < 0:
            raise InvalidValueError(f"load(): the file's time_step {desc.get('time_step')!r} is not a step number")
    from anncompiler.runtime.simulate import set_current_step
    with net._lock:
        if step is not None:
            set_current_step(net, int(step))  # first: the inputs that follow it are then loaded as saved
        writes.apply()


# ---------------------------------------------------------------------------------------------
# reset: the values at compile time
# ---------------------------------------------------------------------------------------------
def _reset_attribute(obj, name) -> None:
    km, arrays = obj._net.kernel_module, obj._net._arrays
    handle = km.handles.get((obj.name, name))
    if handle is None:
        return
    if unwritten(km, arrays, handle.array):
        return  # still its values at compile time
    initial = initial_array(km.arrays[handle.array])
    live = arrays[handle.array]
    if handle.index is None:
        live[...] = initial
    else:
        GatheredArray(live, handle.index)[...] = initial[np.asarray(handle.index, dtype=np.int64)]


def _attribute_names(obj, attributes, label: str) -> list[str]:
    model = obj._model_ir()
    if attributes is None or (isinstance(attributes, int) and not isinstance(attributes, bool) and attributes == -1):
        return list(model.attributes)
    names = [attributes] if isinstance(attributes, str) else list(attributes)
    for name in names:
        if name not in model.attributes:
            raise UnknownNameError(f"{label}: reset(): no attribute '{name}' (its attributes: "
                                   f"{', '.join(model.attributes)})", model=model.name, name=name)
    return names


def reset_object(obj, attributes=None, hidden: bool = True) -> None:
    """Attributes of ``obj`` (all by default) back to their values at compile time; with
    ``hidden``, also the arrays its step reads besides them (spike lists, counters, rings...),
    except settings given after compile (refractory periods, input tables)."""
    label = f"{'population' if hasattr(obj, 'geometry') else 'projection'} {obj.name}"
    _require(obj, f"{label}: reset()")
    names = _attribute_names(obj, attributes, label)
    km, arrays = obj._net.kernel_module, obj._net._arrays
    with obj._net._lock:
        for name in names:
            _reset_attribute(obj, name)
        if hidden:
            for array in hidden_arrays(obj):
                decl = km.arrays[array]
                if decl.kind != "parameter":
                    arrays[array][...] = initial_array(decl)


def reset_network(net, populations=True, projections=False, synapses=False, monitors=True,
                  reseed_rng=True) -> None:
    """``net.reset``: time back to 0, then the populations (and projections) as at compile time,
    and the monitors emptied."""
    net._require_compiled("reset")
    from anncompiler.runtime.simulate import set_current_step
    with net._lock:
        net._drain_monitors()
        set_current_step(net, 0)
        if populations:
            for pop in net._populations:
                reset_object(pop)
        if projections:  # the synapses of a compiled projection never change: ``synapses`` has no more to do
            for proj in net._projections:
                reset_object(proj)
        if monitors:
            for m in net._monitors:
                m.reset()
