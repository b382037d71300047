"""Population: the user's handle on neurons (its views are in ``neuron_views.py``).

Before compile, attribute values are kept in ``_init`` (a distribution is
sampled at once, as in ANNarchy).  After compile, they live in the numpy
arrays of the runtime state, shared with the native code: reads return a
copy shaped like the geometry (ANNarchy scripts keep snapshots), writes go
into the shared array in place.
"""
from __future__ import annotations

import numbers

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError, ShapeError
from anncompiler.ir.model import GivenInit, RandomInit

from . import geometry as geo
from .indexing import resolve_index
from .neuron_views import IndividualNeuron, PopulationView, _AttributeAccess  # noqa: F401 (re-exported)
from .random import RandomDistribution, from_init


def _dtype(kind: str):
    return {"int": np.int32, "bool": bool}.get(kind, np.float64)


def _is_scalar(value) -> bool:
    return isinstance(value, (numbers.Number, np.number, bool, np.bool_)) or np.ndim(value) == 0


#: the refractory counter is an int32 number of steps: longer periods saturate there
MAX_REFRACTORY_STEPS = np.iinfo(np.int32).max


def _numeric(owner: str, name: str, value):
    """``value`` (a number or an array of numbers) as it is; None, strings and other objects
    raise InvalidTypeError naming ``owner.name``."""
    if value is None or isinstance(value, (str, bytes)):
        raise InvalidTypeError(f"{owner}.{name}: cannot assign {value!r}; give a number or an array of numbers")
    if isinstance(value, (numbers.Real, np.number, np.bool_)):
        if isinstance(value, (complex, np.complexfloating)):
            raise InvalidTypeError(f"{owner}.{name}: cannot assign the complex number {value!r}")
        return value
    try:
        kind = np.asarray(value).dtype.kind
    except (TypeError, ValueError):
        kind = "O"
    if kind not in "biuf":
        raise InvalidTypeError(f"{owner}.{name}: cannot assign {value!r}; give a number or an array of numbers")
    return value


def check_refractory(owner: str, value, size: int):
    """A refractory period in ms (a number, or one per neuron): NaN, infinite and negative
    values raise InvalidValueError naming ``owner``; returns a float or a float array."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)) or value is None:
        raise InvalidTypeError(f"{owner}: the refractory period must be a number of ms (or one per neuron), "
                               f"not {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"{owner}: the refractory period must be a number of ms (or one per neuron), "
                               f"not {value!r}") from None
    if arr.ndim > 0 and arr.size not in (1, size):
        raise ShapeError(f"{owner}: {arr.size} refractory periods for {size} neurons")
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        first = float(arr.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]])
        raise InvalidValueError(f"{owner}: the refractory period must be a finite number of ms >= 0, "
                                f"not {first!r}")
    return float(arr.reshape(-1)[0]) if arr.ndim == 0 or arr.size == 1 and size == 1 else arr.reshape(-1)


def _saturate_refractory(value, dt: float):
    """A refractory period (ms) no longer than the int32 step counter holds at ``dt``."""
    limit = MAX_REFRACTORY_STEPS * dt
    while np.rint(limit / dt) > MAX_REFRACTORY_STEPS:  # the product may round up
        limit = np.nextafter(limit, 0.0)
    if np.ndim(value) == 0:
        return min(float(value), float(limit))
    return np.minimum(value, limit)


class Population(_AttributeAccess):
    """A group of identical neurons with a geometry (1-D to 4-D)."""

    def __init__(self, geometry, neuron, name=None, stop_condition=None, *, network=None):
        from .network import _resolve_network
        if isinstance(neuron, type):
            from .models import Neuron
            if not issubclass(neuron, Neuron):  # e.g. a specific population class given as a model
                raise InvalidTypeError(f"{neuron.__name__} is not a neuron model: create it and pass the "
                                       f"population itself (net.create({neuron.__name__}(geometry, ...)))")
            neuron = neuron()
        net = _resolve_network(network, warn=not getattr(type(self), "_specific", False))
        object.__setattr__(self, "_net", net)
        try:
            self.geometry = geo.normalise_geometry(geometry)
        except (InvalidValueError, InvalidTypeError) as e:
            label = name or f"pop{len(net._populations)}"
            raise type(e)(f"population {label} (model '{getattr(neuron, 'name', neuron)}'): {e}") from None
        self.size = geo.size_of(self.geometry)
        self.neuron_type = neuron
        r = getattr(neuron, "refractory", None)
        if r is not None and not isinstance(r, str):
            check_refractory(f"population {name or 'pop' + str(len(net._populations))} "
                             f"(model '{neuron.name}')", r, 1)
        self.id = len(net._populations)
        self.name = name or f"pop{self.id}"
        self.stop_condition = stop_condition
        self.ranks = np.arange(self.size)
        self.enabled = True
        self._init: dict = {}
        self._ir = None
        net._add_population(self)

    # model ------------------------------------------------------------
    def _model_ir(self):
        if self._ir is None:
            self._ir = self._net._parse(self.neuron_type)
        return self._ir

    @property
    def population(self):
        return self

    def _view_ranks(self):
        return None

    @property
    def width(self):
        return self.geometry[0]

    @property
    def height(self):
        return self.geometry[1] if len(self.geometry) > 1 else 1

    @property
    def depth(self):
        return self.geometry[2] if len(self.geometry) > 2 else 1

    @property
    def dimension(self):
        return len(self.geometry)

    @property
    def parameters(self):
        return self._model_ir().parameters

    @property
    def variables(self):
        return self._model_ir().variables

    @property
    def attributes(self):
        return list(self._model_ir().attributes)

    @property
    def targets(self):
        return list(self._model_ir().targets)

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"Population({self.name!r}, geometry={self.geometry}, neuron={self.neuron_type.name!r})"

    # values -------------------------------------------------------------
    def _array(self, name: str) -> np.ndarray:
        """The live state array shared with the native code (after compile)."""
        return self._net._state(self.name, name)

    def _get(self, name, ranks):
        a = self._model_ir().attributes[name]
        if self._net.compiled:
            arr = self._array(name)
            if arr.size == 1 and (self.size > 1 or a.locality != "local"):
                return arr[0].item()
            return self._shape(arr, ranks)
        value = self._value(name)
        if np.ndim(value) == 0:
            value = value.item() if isinstance(value, np.generic) else value
            if a.locality != "local":
                return value
            # a local attribute reads as an array shaped like the geometry, also before compile
            value = np.full(self.size, value, dtype=_dtype(a.type))
        return self._shape(np.asarray(value), ranks)

    def _shape(self, arr, ranks):
        if ranks is None:
            return arr.reshape(self.geometry).copy()
        return arr[ranks].copy()

    def _value(self, name):
        """The value before compile: what the user set, else the attribute's ``init``
        (not both: a distribution ``init`` is sampled, and stored, only when nothing was set)."""
        return self._init[name] if name in self._init else self._default(name)

    def _default(self, name):
        """The value an attribute gets when the user sets none (its ``init``)."""
        a = self._model_ir().attributes[name]
        init = a.init
        if isinstance(init, RandomInit):
            init = from_init(init, self._model_ir().name)
        elif isinstance(init, GivenInit):
            init = self.neuron_type._given(init.name)
        if isinstance(init, RandomDistribution):
            value = init.get_values(self.size)
            self._init[name] = value
            return value
        if hasattr(init, "free_symbols"):  # init=<parameter or constant name>
            names = {s.name for s in init.free_symbols}
            env = {n: self._get(n, None) if n in self._model_ir().attributes else self._net._constant_value(n)
                   for n in names}
            import sympy
            value = init.subs({sympy.Symbol(k): v for k, v in env.items() if np.ndim(v) == 0})
            if not value.free_symbols:
                return float(value)
            arrays = [np.asarray(env[n]).reshape(-1) for n in names]
            f = sympy.lambdify([sympy.Symbol(n) for n in names], init, "numpy")
            return np.broadcast_to(f(*arrays), (self.size,)).astype(float)
        if init is None:
            return 0.0
        return init

    def _fixed_locality(self, name) -> bool:
        """Whether the attribute keeps its locality when given per-neuron values before compile:
        every attribute but a global Parameter whose locality was not given (``tau=20.0`` or
        ``Parameter(20.0)``), which becomes local then (as ANNarchy 5.0.0 does)."""
        a = self._model_ir().attributes[name]
        if a.locality == "local" or a.role != "parameter":
            return True
        params = getattr(self.neuron_type, "parameters", None)
        if isinstance(params, dict):
            from .attributes import Parameter
            v = params.get(name)
            return isinstance(v, Parameter) and v.explicit_locality
        return True  # string form: a global parameter carries an explicit 'population' flag

    def _set(self, name, value, ranks):
        n = self.size if ranks is None else len(ranks)
        if isinstance(value, RandomDistribution):
            value = value.get_values(n)
        value = _numeric(f"population {self.name}", name, value)
        if not _is_scalar(value):
            value = np.asarray(value)
            if value.size != n:
                raise ShapeError(f"{self.name}.{name}: cannot assign an array of shape {value.shape} to "
                                 f"{'population' if ranks is None else 'a view'} of size {n}")
            value = value.reshape(-1)
        if self._net.compiled:
            arr = self._array(name)
            if arr.size == 1 and self.size > 1:
                if not _is_scalar(value) and not np.all(value == value[0]):
                    raise ShapeError(f"{self.name}.{name} is global (one value for the population): "
                                     "per-neuron values can only be assigned before compile()")
                arr[0] = value if _is_scalar(value) else value[0]
                return
            if ranks is None:
                arr[...] = value
            else:
                arr[ranks] = value
            return
        a = self._model_ir().attributes[name]
        if a.locality != "local" and self._fixed_locality(name):
            # one value for the whole population, before compile as after (also through a view)
            if not _is_scalar(value):
                if value.size and not np.all(value == value[0]):
                    raise ShapeError(f"{self.name}.{name} is declared global (one value for the population, "
                                     "model '" + self.neuron_type.name + "'): it cannot take per-neuron values")
                value = value[0]
            self._init[name] = value
            return
        per_neuron = not _is_scalar(value) or (ranks is not None and len(ranks) != self.size)
        if per_neuron:  # a global parameter given per-neuron values is promoted to local at compile
            current = self._value(name)
            full = np.array(np.broadcast_to(np.asarray(current, dtype=float), (self.size,)))
            if ranks is None:
                full[:] = value
            else:
                full[ranks] = value
            self._init[name] = full
        else:
            self._init[name] = value

    def _function(self, fn):
        from .functions import numpy_callable
        return numpy_callable(fn, lambda: {c.name: float(c) for c in self._net._all_constants()})

    # refractory -----------------------------------------------------------
    @property
    def _refractory(self):
        """The refractory period the compiler uses (ms): the one set on the population, else a
        numeric one of the model, saturated so that it fits the int32 step counter at dt."""
        value = self.__dict__.get("_refractory_ms")
        if value is None:
            r = getattr(self.neuron_type, "refractory", None)
            if isinstance(r, str):
                try:
                    r = float(r)
                except ValueError:  # a parameter name or an expression: computed at each spike
                    return None
            if r is None:
                return None
            value = check_refractory(f"population {self.name} (model '{self.neuron_type.name}')", r, 1)
        return _saturate_refractory(value, self._net.dt)

    @_refractory.setter
    def _refractory(self, value):
        self.__dict__["_refractory_ms"] = value

    @property
    def max_delay(self) -> int:
        """The longest synaptic delay (steps) of the projections leaving this population: how much
        of its past it keeps.  Settable before compile to reserve room for longer delays set after
        compile (core/delays.py)."""
        from .delays import population_max_delay
        return population_max_delay(self)

    @max_delay.setter
    def max_delay(self, value):
        from .delays import set_population_max_delay
        set_population_max_delay(self, value)

    @property
    def refractory(self):
        steps = self._net._state(self.name, "refractory", required=False)
        if steps is not None:
            r = steps * self._net.dt
            return float(r[0]) if np.all(r == r[0]) else r.reshape(self.geometry)
        value = self.__dict__.get("_refractory_ms")
        return value if value is not None else self.neuron_type.refractory

    @refractory.setter
    def refractory(self, value):
        if isinstance(value, RandomDistribution):
            value = value.get_values(self.size)
        if value is None and not self._net.compiled:
            self._refractory = None
            return
        owner = f"population {self.name}"
        if isinstance(value, str):
            raise InvalidTypeError(f"{owner}: the refractory period is a number of ms (a parameter name is "
                                   f"given in the Neuron definition), not {value!r}")
        value = check_refractory(owner, value, self.size)
        if self._net.compiled:
            stored = self._net._state(self.name, "refractory", required=False)
            if stored is None:
                raise NetworkError(f"population {self.name} was compiled without a refractory period; "
                                   "set pop.refractory before compile()")
            steps = np.minimum(np.rint(np.asarray(value, dtype=float).reshape(-1) / self._net.dt),
                               MAX_REFRACTORY_STEPS)
            stored[:] = steps.astype(np.int32)
        else:
            self._refractory = value

    # state: saving, loading, resetting (core/state_io.py) ---------------------------------
    def save(self, filename):
        """Write this population's state to ``filename`` (formats of ``Network.save``)."""
        from .state_files import save_data
        from .state_io import population_data
        save_data(filename, population_data(self), f"population {self.name}: save()")

    def load(self, filename, pickle_encoding=None):
        """Restore a state written by ``save()`` (of this population or one of the same size)."""
        from .state_files import load_data
        from .state_io import load_object, plan_population
        load_object(self, load_data(filename, pickle_encoding, f"population {self.name}: load()"), plan_population)

    def reset(self, attributes=None):
        """Attributes back to their values at compile time (all, with the spike history and
        counters, by default; else the ``attributes`` named)."""
        from .state_io import reset_object
        reset_object(self, attributes, hidden=attributes is None)

    # structure ------------------------------------------------------------
    def __getitem__(self, key):
        ranks, geometry, individual = resolve_index(self.geometry, key)
        if individual:
            return IndividualNeuron(self, int(ranks[0]))
        return PopulationView(self, ranks, geometry)

    def neuron(self, *coord):
        if len(coord) == 1:  # pop.neuron(3) or pop.neuron((1, 2))
            coord = coord[0]
        return IndividualNeuron(self, geo.rank_from_coordinates(self.geometry, coord))

    @property
    def neurons(self):
        return [IndividualNeuron(self, r) for r in range(self.size)]

    def __iter__(self):
        return iter(self.neurons)

    def rank_from_coordinates(self, coord):
        return geo.rank_from_coordinates(self.geometry, coord)

    def coordinates_from_rank(self, rank):
        return geo.coordinates_from_rank(self.geometry, rank)

    def normalized_coordinates_from_rank(self, rank, norm=1.0):
        return geo.normalized_coordinates_from_rank(self.geometry, rank, norm)

    def sum(self, target):
        total = self._net._state(self.name, f"sum:{target}", required=False)
        if total is not None:
            return total.reshape(self.geometry).copy()
        g = f"g_{target}"
        if g in self._model_ir().attributes:
            return self._get(g, None)
        return np.zeros(self.geometry)

    @property
    def spike(self):
        """Ranks of the neurons that spiked in the last step (after compile)."""
        if not self._net.compiled:
            raise NetworkError(f"{self.name}: spikes can be read only after compile()")
        return self._net._spiked_ranks(self)

    # switches (core/population_switches.py) ----------------------------------------------------
    def enable(self):
        """(Re-)enable the updates of this population after ``disable()``."""
        from .population_switches import set_enabled
        set_enabled(self, True)

    def disable(self):
        """Stop updating this population (and the projections into it) until ``enable()``: its
        variables keep their values and it emits no spikes; no recompile."""
        from .population_switches import set_enabled
        set_enabled(self, False)

    def clear(self):
        """Forget the spikes emitted so far (last spikes, refractory counters, delayed spikes),
        without resetting the variables; nothing to do for a rate-coded population."""
        from .population_switches import clear_spikes
        clear_spikes(self)

    # firing rate of a spiking population ------------------------------------------------------
    def compute_firing_rate(self, window: float):
        """Make ``r`` of a spiking population its firing rate (Hz): the number of spikes of each
        neuron in the last ``window`` ms (``round(window / dt)`` steps, the current one included)
        times ``1000 / window``, updated by the native step loop after the neuron updates and
        recordable by a Monitor.  Call it before compile(); after compile only the same window."""
        if self._model_ir().type != "spike":
            raise NetworkError(f"population {self.name}: compute_firing_rate() is for spiking populations")
        if "r" in self._model_ir().attributes:
            raise NetworkError(f"population {self.name}: its model already has an attribute 'r'")
        if isinstance(window, bool) or not isinstance(window, numbers.Real):
            raise InvalidTypeError(f"population {self.name}: the window must be a number of ms, not {window!r}")
        window = float(window)
        if not np.isfinite(window) or round(window / self._net.dt) < 1:
            raise InvalidValueError(f"population {self.name}: the window must be a finite number of ms of at "
                                    f"least one step (dt={self._net.dt}), not {window!r}")
        if self._net.compiled:
            current = self.__dict__.get("_firing_window")
            if current is None or round(current / self._net.dt) != round(window / self._net.dt):
                raise NetworkError(f"population {self.name}: compute_firing_rate() changes the compiled "
                                   "network; call it before compile()")
            return
        self.__dict__["_firing_window"] = window

    def _firing_rate(self, ranks):
        if not self._net.compiled:
            return np.zeros(self.geometry) if ranks is None else np.zeros(len(ranks))
        return self._shape(self._net._state(self.name, "firing_rate"), ranks)
