"""Projection: connects a pre to a post population (or views) with a synapse type and a target.

Connector methods build the connectivity at once, with the network's
``default_rng`` for the pattern (weights and delays distributions use their
own ``rng``).  After compile, synaptic attributes live in the runtime arrays.
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import ConnectivityError, InvalidTypeError, InvalidValueError, NetworkError, ShapeError
from anncompiler.ir.model import GivenInit, RandomInit

from . import connectors, patterns
from . import delays as delay_api
from .dendrite import Dendrite, dendrite_of, receptive_fields
from .connectivity_files import connectivity_record, load_connectivity, read_matrix_market, save_connectivity
from .models import Synapse
from .population import IndividualNeuron, Population, PopulationView
from .random import RandomDistribution, from_init

_DEFAULT_RATE = None
#: ANNarchy's storage format names -> ours ('auto' lets the fuse-connectivity pass choose by density)
_STORAGE_FORMATS = {None: "auto", "auto": "auto", "default": "auto", "csr": "csr", "lil": "csr",
                    "csr_scalar": "csr", "csr_vector": "csr", "ell": "csr", "ellr": "csr", "sell": "csr",
                    "coo": "csr", "hyb": "csr", "bsr": "csr", "dense": "dense"}


def _default_synapse() -> Synapse:
    global _DEFAULT_RATE
    if _DEFAULT_RATE is None:
        _DEFAULT_RATE = Synapse(name="Default synapse")
    return _DEFAULT_RATE


def _as_view(net, obj):
    if isinstance(obj, str):
        obj = net.get_population(obj)
    if isinstance(obj, Population):
        return obj, obj.ranks
    if isinstance(obj, (PopulationView, IndividualNeuron)):
        return obj.population, np.asarray(obj.ranks)
    raise NetworkError(f"a projection connects populations or views, not {type(obj).__name__}")


def _check_delays(name: str, delays) -> None:
    """Synaptic delays are finite numbers of ms >= 0."""
    try:
        d = np.asarray(delays, dtype=float)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"projection {name}: delays must be numbers of ms, not {delays!r}") from None
    bad = ~np.isfinite(d) | (d < 0)
    if np.any(bad):
        first = float(d.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]])
        raise InvalidValueError(f"projection {name}: delays must be finite numbers of ms >= 0, not {first!r}")


def _describe(obj) -> str:
    return obj if isinstance(obj, str) else getattr(obj, "name", type(obj).__name__)


class Projection:
    def __init__(self, pre, post, target, synapse=None, name=None, *, network=None):
        from .network import _owner_network
        net = _owner_network(network, [pre, post], f"projection {name or ''} ({_describe(pre)} -> "
                                                    f"{_describe(post)}, target {target!r})".replace("  ", " "))
        self._net = net
        self.pre, self._pre_ranks = _as_view(net, pre)
        self.post, self._post_ranks = _as_view(net, post)
        self.pre_view, self.post_view = pre, post
        self.targets = [target] if isinstance(target, str) else list(target)
        if isinstance(synapse, type):
            synapse = synapse()
        self.synapse_type = synapse or _default_synapse()
        self.id = len(net._projections)
        self.name = name or f"proj{self.id}"
        self.connectivity = None
        self._init: dict = {}
        self._flags: dict = {"transmission": True, "update": True, "plasticity": True, "axon_transmission": True,
                             "period": 1, "offset": 0}
        self._ir = None
        net._add_projection(self)

    @property
    def target(self):
        return self.targets[0] if len(self.targets) == 1 else self.targets

    def __repr__(self):
        return f"Projection({self.name!r}, {self.pre.name} -> {self.post.name}, target={self.target!r})"

    # connectors -------------------------------------------------------------
    def _connect(self, builder, *args, storage_format=None, **kwargs):
        self._net._check_not_compiled("connect a projection")
        if self.connectivity is not None:
            raise NetworkError(f"projection {self.name} is already connected")
        if storage_format not in _STORAGE_FORMATS:
            raise NetworkError(f"projection {self.name}: unknown storage_format {storage_format!r} "
                               f"(use one of {sorted(f for f in _STORAGE_FORMATS if f)})")
        if isinstance(kwargs.get("delays"), RandomDistribution):
            kwargs["delays"] = delay_api.bounded_distribution(self.name, kwargs["delays"], self._net.dt)
        connectivity = builder(*args, self._pre_ranks, self._post_ranks, self.pre.size, self.post.size,
                               **kwargs)
        _check_delays(self.name, connectivity.delays)
        self.connectivity = connectivity
        self.connectivity.storage_format = _STORAGE_FORMATS[storage_format]
        return self

    def _common(self, kwargs, self_conn=True):
        kwargs.setdefault("rng", self._net.default_rng)
        if self_conn:
            kwargs["same_population"] = self.pre is self.post
        return kwargs

    def all_to_all(self, weights=1.0, delays=0.0, allow_self_connections=False, force_multiple_weights=False,
                   storage_format=None, storage_order=None):
        return self._connect(connectors.all_to_all, weights=weights, delays=delays,
                             allow_self_connections=allow_self_connections,
                             force_multiple_weights=force_multiple_weights, storage_format=storage_format, **self._common({}))

    def one_to_one(self, weights=1.0, delays=0.0, force_multiple_weights=False, storage_format=None,
                   storage_order=None):
        return self._connect(connectors.one_to_one, weights=weights, delays=delays,
                             force_multiple_weights=force_multiple_weights, storage_format=storage_format, **self._common({}))

    def fixed_probability(self, probability, weights, delays=0.0, allow_self_connections=False,
                          force_multiple_weights=False, storage_format=None, storage_order=None):
        return self._connect(connectors.fixed_probability, probability, weights=weights, delays=delays,
                             allow_self_connections=allow_self_connections,
                             force_multiple_weights=force_multiple_weights, storage_format=storage_format, **self._common({}))

    def fixed_number_pre(self, number, weights, delays=0.0, allow_self_connections=False,
                         force_multiple_weights=False, storage_format=None, storage_order=None):
        return self._connect(connectors.fixed_number_pre, number, weights=weights, delays=delays,
                             allow_self_connections=allow_self_connections,
                             force_multiple_weights=force_multiple_weights, storage_format=storage_format, **self._common({}))

    def fixed_number_post(self, number, weights=1.0, delays=0.0, allow_self_connections=False,
                          force_multiple_weights=False, storage_format=None, storage_order=None):
        return self._connect(connectors.fixed_number_post, number, weights=weights, delays=delays,
                             allow_self_connections=allow_self_connections,
                             force_multiple_weights=force_multiple_weights, storage_format=storage_format, **self._common({}))

    def from_matrix(self, weights, delays=0.0, pre_post=False, storage_format=None, storage_order=None):
        return self._connect(lambda *a, **k: connectors.from_matrix(weights, *a, delays=delays,
                                                                     pre_post=pre_post),
                             storage_format=storage_format)

    def from_sparse(self, weights, delays=0.0, storage_format=None, storage_order=None):
        """Synapses from a scipy.sparse matrix of shape (pre, post): its stored entries."""
        return self._connect(lambda *a, **k: connectors.from_sparse(weights, *a, delays=delays),
                             storage_format=storage_format)

    def _whole_populations(self, what):
        if self.pre_view is not self.pre or self.post_view is not self.post:
            raise ConnectivityError(f"projection {self.name}: {what}() connects whole populations, not views")
        return dict(pre_geometry=self.pre.geometry, post_geometry=self.post.geometry)

    def gaussian(self, amp, sigma, delays=0.0, limit=0.01, allow_self_connections=False, storage_format=None,
                 storage_order=None):
        """Each post neuron receives ``amp * exp(-d^2 / (2 sigma^2))`` from the pre neurons at distance
        ``d`` of its normalized coordinates, where that exceeds ``limit * |amp|``."""
        geometries = self._whole_populations("gaussian")
        return self._connect(patterns.gaussian, amp, sigma, delays=delays, limit=limit,
                             allow_self_connections=allow_self_connections, storage_format=storage_format,
                             same_population=self.pre is self.post, **geometries)

    def dog(self, amp_pos, sigma_pos, amp_neg, sigma_neg, delays=0.0, limit=0.01, allow_self_connections=False,
            storage_format=None, storage_order=None):
        """A difference of Gaussians over normalized coordinates (see ``gaussian``)."""
        geometries = self._whole_populations("dog")
        return self._connect(patterns.dog, amp_pos, sigma_pos, amp_neg, sigma_neg, delays=delays, limit=limit,
                             allow_self_connections=allow_self_connections, storage_format=storage_format,
                             same_population=self.pre is self.post, **geometries)

    def from_function(self, method, storage_format=None, storage_order=None, **args):
        """Synapses from ``method(pre, post, **args)``, which returns a ``LILConnectivity`` (a
        parameter named ``dt`` receives the network's step when ``args`` does not give it)."""
        import inspect
        try:
            takes_dt = "dt" in inspect.signature(method).parameters and "dt" not in args
        except (TypeError, ValueError):
            takes_dt = False
        lil = method(self.pre_view, self.post_view, **args, **({"dt": self._net.dt} if takes_dt else {}))
        if not isinstance(lil, patterns.LILConnectivity):
            raise ConnectivityError(f"projection {self.name}: from_function(): {getattr(method, '__name__', method)} "
                                    f"returned {type(lil).__name__}, not an ann.LILConnectivity")
        return self._from_lil(lil, f"from_function({getattr(method, '__name__', 'method')})", storage_format)

    def _from_lil(self, lil, description, storage_format):
        return self._connect(lambda pre, post, pre_size, post_size: lil.to_connectivity(
            pre, post, pre_size, post_size, description), storage_format=storage_format)

    def from_matrix_market(self, filename, storage_format=None, storage_order=None):
        """Synapses from a Matrix Market coordinate file (rows: post neurons, columns: pre neurons)."""
        return self._from_lil(read_matrix_market(filename), f"from_matrix_market({filename!r})", storage_format)

    def from_file(self, filename, pickle_encoding=None, storage_format=None, storage_order=None):
        """Synapses saved by ``save_connectivity``."""
        return self._from_lil(load_connectivity(filename, pickle_encoding), f"from_file({filename!r})",
                              storage_format)

    def save_connectivity(self, filename):
        """Write the synapses with their current weights and delays (``from_file`` reads them)."""
        c = self._require_connectivity()
        save_connectivity(connectivity_record(c, np.asarray(self._flat("w"), dtype=np.float64), self.name),
                          filename)

    # ANNarchy 4 names
    connect_with_func = from_function
    connect_from_sparse = from_sparse
    connect_gaussian = gaussian
    connect_dog = dog
    connect_from_file = from_file
    connect_all_to_all = all_to_all
    connect_one_to_one = one_to_one
    connect_fixed_probability = fixed_probability
    connect_fixed_number_pre = fixed_number_pre
    connect_fixed_number_post = fixed_number_post
    connect_from_matrix = from_matrix

    # structure ------------------------------------------------------------
    def _require_connectivity(self):
        if self.connectivity is None:
            raise NetworkError(f"projection {self.name} has no connector: call e.g. "
                               f"{self.name}.fixed_probability(...) before compile()")
        return self.connectivity

    @property
    def size(self):
        return self._require_connectivity().n_rows

    @property
    def parameters(self) -> list:
        """Names of the synapse model's parameters (``w`` included where the model has it)."""
        return self._model_ir().parameters

    @property
    def variables(self) -> list:
        """Names of the synapse model's variables."""
        return self._model_ir().variables

    @property
    def attributes(self) -> list:
        """Names of every parameter and variable of the synapse model."""
        return list(self._model_ir().attributes)

    def __len__(self):
        return self.size

    @property
    def nb_synapses(self):
        return self._require_connectivity().nb_synapses

    @property
    def post_ranks(self):
        return [int(r) for r in self._require_connectivity().post_ranks]

    @property
    def pre_ranks(self):
        c = self._require_connectivity()
        return [c.pre_ranks[c.row_ptr[k]:c.row_ptr[k + 1]].tolist() for k in range(c.n_rows)]

    @property
    def nb_synapses_per_dendrite(self):
        return np.diff(self._require_connectivity().row_ptr).tolist()

    def connectivity_matrix(self, fill=0.0):
        c = self._require_connectivity()
        m = np.full((c.post_size, c.pre_size), fill, dtype=float)
        rows = np.repeat(c.post_ranks, np.diff(c.row_ptr))
        m[rows, c.pre_ranks] = self._flat("w")
        return m

    # attributes -------------------------------------------------------------
    def _model_ir(self):
        if self._ir is None:
            self._ir = self._net._parse(self.synapse_type)
        return self._ir

    def _shared_weight(self) -> bool:
        """One weight for the whole projection: a scalar ``weights`` that no synaptic statement
        changes (a learned weight is stored per synapse)."""
        return self._require_connectivity().single_weight and "w" not in self._model_ir().assigned

    def _flat(self, name):
        """Per-synapse values of a local attribute as one flat array (nnz)."""
        c = self._require_connectivity()
        if self._net.compiled:
            arr = self._net._state(self.name, name)
        elif name == "w":
            arr = c.weights
        else:
            arr = self._init.get(name, self._model_ir().attributes[name].init)
            if isinstance(arr, GivenInit):
                arr = self.synapse_type._given(arr.name)
            elif isinstance(arr, RandomInit):
                arr = from_init(arr, self._model_ir().name)
            if isinstance(arr, RandomDistribution):  # sampled once, then kept like a value the user set
                arr = self._init[name] = arr.get_values(c.nb_synapses)
        flat = np.asarray(arr, dtype=float).reshape(-1)
        if c.nb_synapses == 0 or flat.size == 0:  # no synapse (all_to_all of one neuron onto itself)
            return np.zeros(c.nb_synapses)
        return np.broadcast_to(flat[:c.nb_synapses] if flat.size > 1 else flat[0], (c.nb_synapses,))

    # delays (core/delays.py) -------------------------------------------------------
    @property
    def delay(self):
        """Delays in ms, as simulated (``max(1, round(d / dt))`` steps): one number when they are all
        equal, else a list per dendrite.  Settable before and after compile (core/delays.py)."""
        return delay_api.projection_delay(self)

    @delay.setter
    def delay(self, value):
        delay_api.set_projection_delay(self, value)

    @property
    def max_delay(self) -> int:
        """The longest delay of this projection, in steps (``pre.max_delay`` bounds it after compile)."""
        steps = delay_api.to_steps(self._require_connectivity().delays, self._net.dt)
        return int(steps.max()) if steps.size else 1

    @max_delay.setter
    def max_delay(self, value):
        raise NetworkError(f"projection {self.name}: max_delay follows its delays (set {self.name}.delay); to "
                           f"allow longer delays after compile, set max_delay of the pre-synaptic population")

    # learning switches (passes/lowering/flags.py) ------------------------------
    def _flag_values(self) -> dict:
        return dict(self._flags)

    def _set_flag(self, flag: str, value) -> None:
        self._flags[flag] = value
        if self._net.compiled:
            stored = self._net._state(self.name, {"period": "learn_period", "offset": "learn_offset"}.get(flag, flag),
                                      required=False)
            if stored is None and flag == "axon_transmission":
                return  # the projection does not react to axonal spikes: nothing to switch
            if stored is None:
                raise NetworkError(f"projection {self.name} was fused with others by fuse-connectivity: its "
                                   f"'{flag}' cannot change after compile (compile without that pass)")
            stored[0] = value

    def _steps(self, ms, what: str) -> int:
        if ms is None:
            return 1 if what == "period" else 0
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not np.isfinite(ms) or ms < 0:
            raise InvalidValueError(f"projection {self.name}: the learning {what} must be a number of ms >= 0, "
                                    f"not {ms!r}")
        steps = int(round(ms / self._net.dt))
        return max(1, steps) if what == "period" else steps

    def enable_learning(self, period=None, offset=None):
        """Synaptic equations run again (every ``period`` ms from ``offset`` ms when given), and
        ``w`` may change."""
        p, o = self._steps(period, "period"), self._steps(offset, "offset")
        for flag, value in (("update", True), ("plasticity", True), ("period", p), ("offset", o % p)):
            self._set_flag(flag, value)

    def disable_learning(self):
        """Rate-coded: the synaptic equations stop (``update=False``); spiking: ``w`` stops
        changing (``plasticity=False``)."""
        self._set_flag("plasticity" if self.pre._model_ir().type == "spike" else "update", False)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in ("transmission", "update", "plasticity", "axon_transmission"):
            return bool(self.__dict__["_flags"][name])
        ir = self._model_ir()
        if name not in ir.attributes:
            raise AttributeError(f"projection {self.name} has no attribute '{name}'")
        c = self._require_connectivity()
        a = ir.attributes[name]
        if name == "w" and self._shared_weight() and not self._net.compiled:
            return float(c.weights)
        if self._net.compiled:
            arr = self._net._state(self.name, name)
            if arr.size == 1 and (a.locality == "global" or name == "w" and self._shared_weight()):
                return arr[0].item()
            if a.locality == "semiglobal":
                return arr.tolist()
        elif a.locality != "local":  # one value, or one per dendrite (ANNarchy's shapes)
            value = np.asarray(self._init.get(name, a.init), dtype=float).reshape(-1)
            if a.locality == "global":
                return value[0].item()
            return np.broadcast_to(value[:c.n_rows] if value.size > 1 else value, (c.n_rows,)).tolist()
        flat = self._flat(name)
        return [flat[c.row_ptr[k]:c.row_ptr[k + 1]].tolist() for k in range(c.n_rows)]

    def __setattr__(self, name, value):
        if name.startswith("_") or name in self.__dict__ or isinstance(getattr(type(self), name, None), property) \
                or name in type(self).__dict__ or \
                name in ("pre", "post", "pre_view", "post_view", "targets", "synapse_type", "id", "name",
                         "connectivity"):
            object.__setattr__(self, name, value)
            return
        if name in ("transmission", "update", "plasticity", "axon_transmission"):
            if not isinstance(value, (bool, np.bool_)):
                raise InvalidTypeError(f"projection {self.name}: {name} is True or False, not {value!r}")
            self._set_flag(name, bool(value))
            return
        ir = self._model_ir()
        if name not in ir.attributes:
            raise AttributeError(f"projection {self.name} has no attribute '{name}'")
        c = self._require_connectivity()
        if isinstance(value, RandomDistribution):
            value = value.get_values(c.nb_synapses)
        elif isinstance(value, list):
            value = np.concatenate([np.asarray(v, dtype=float).reshape(-1) for v in value])
        elif np.ndim(value) > 1:  # what the getter returns for equal dendrites: (dendrites, synapses)
            value = np.asarray(value).reshape(-1)
        if np.ndim(value) > 0 and np.size(value) not in (1, c.nb_synapses):
            raise ShapeError(f"{self.name}.{name}: {np.size(value)} values for {c.nb_synapses} synapses")
        if self._net.compiled:
            arr = self._net._writable_state(self.name, name)
            if arr.size == 1 and np.ndim(value) > 0 and np.size(value) > 1:
                raise NetworkError(f"{self.name}.{name} is shared by all synapses after compile; use "
                                   "force_multiple_weights=True in the connector to set per-synapse values")
            arr[...] = value
        elif name == "w":
            c.weights = float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float).reshape(-1)
        else:
            self._init[name] = value

    def get(self, name):
        return getattr(self, name)

    def set(self, values: dict):
        for k, v in values.items():
            setattr(self, k, v)

    # state: saving, loading, resetting (core/state_io.py) ---------------------------------
    def save(self, filename):
        """Write this projection's synapses and state to ``filename`` (formats of ``Network.save``)."""
        from .state_files import save_data
        from .state_io import projection_data
        save_data(filename, projection_data(self), f"projection {self.name}: save()")

    def load(self, filename, pickle_encoding=None):
        """Restore a state written by ``save()``; the file's synapses must be this projection's."""
        from .state_files import load_data
        from .state_io import load_object, plan_projection
        load_object(self, load_data(filename, pickle_encoding, f"projection {self.name}: load()"), plan_projection)

    def reset(self, attributes=-1, synapses=False):
        """Attributes back to their values at compile time (all, with the event steps, by default:
        ``attributes=-1``).  The synapses of a compiled projection never change: ``synapses`` has
        nothing more to restore."""
        from .state_io import reset_object
        reset_object(self, attributes, hidden=attributes is None or attributes == -1)

    def _set_elements(self, name, where, value, per_row: bool = False):
        """Set the synapses ``where`` (a slice of the synapse order) of a local attribute, or the
        dendrite ``where`` (a row) of a semiglobal one, before or after compile."""
        c = self._require_connectivity()
        if self._net.compiled:
            arr = self._net._writable_state(self.name, name)
            if arr.size == 1 and (c.n_rows if per_row else c.nb_synapses) > 1:
                raise NetworkError(f"{self.name}.{name} is shared by all synapses after compile; use "
                                   "force_multiple_weights=True in the connector to set per-synapse values")
            arr[where] = value
            return
        if name == "w" and not per_row:
            values = np.array(self._flat("w"))
            values[where] = value
            c.weights = values
            return
        size = c.n_rows if per_row else c.nb_synapses
        current = self._init.get(name, self._model_ir().attributes[name].init)
        values = np.array(self._flat(name)) if not per_row else \
            np.array(np.broadcast_to(np.asarray(current, dtype=float).reshape(-1)[:size], (size,)))
        values[where] = value
        self._init[name] = values

    # dendrites and synapses ------------------------------------------------
    def dendrite(self, post):
        """The synapses onto post-synaptic neuron ``post`` (a rank or coordinates)."""
        return dendrite_of(self, post)

    def __getitem__(self, post):
        return dendrite_of(self, post)

    @property
    def dendrites(self):
        return [Dendrite(self, k) for k in range(self.size)]

    def __iter__(self):
        return iter(self.dendrites)

    def synapse(self, pre, post):
        """The synapse from ``pre`` onto ``post`` (ranks or coordinates)."""
        return dendrite_of(self, post).synapse(pre)

    def receptive_fields(self, variable="w", in_post_geometry=True):
        return receptive_fields(self, variable, in_post_geometry)
