"""ANNarchy's specialised projections: Convolution, Pooling, Copy, Transpose, CurrentInjection,
DecodingProjection.

To the compiler they are ordinary projections with a few marks (``ir/network.py``): a
convolution's synapses read a shared filter, a copy or transpose reads the weights of another
projection, pooling is a ``max``/``min``/``mean`` over fixed blocks; current injection and
decoding have their own input kernel (``passes/lowering/specialised.py``).
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError, NotSupportedError, ShapeError
from anncompiler.ir.connectivity import Connectivity
from anncompiler.ir.shared_weights import SharedWeights

from .convolution_geometry import as_filter, filter_connectivity, pooling_connectivity
from .models import Synapse
from .projection import Projection, _check_delays

OPERATIONS = ("sum", "max", "min", "mean")


def _type_of(pop) -> str:
    return pop._model_ir().type


def _uniform_delay(proj, delays) -> float:
    if isinstance(delays, bool) or not isinstance(delays, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"projection {proj.name}: the delay of a {type(proj).__name__} is one number of ms, "
                               f"not {delays!r}")
    _check_delays(proj.name, delays)
    return float(delays)


def _refuse(what):
    def method(self, *args, **kwargs):
        raise NotSupportedError(f"{type(self).__name__}.{what}() is not available (as in ANNarchy)")
    method.__doc__ = "Not available (as in ANNarchy)."
    return method


class _PlainAttributes:
    """Attributes of the class itself (not synaptic attributes of its model)."""
    _plain = ("operation", "multiple", "keep_last_dimension", "padding", "subsampling", "delays", "extent",
              "projection", "window")

    def __setattr__(self, name, value):
        if name in self._plain:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


class _Specialised(_PlainAttributes, Projection):
    """A projection connected only by its own method (``_method``)."""
    _method = ""
    _kind = ""

    def _connect(self, builder, *args, storage_format=None, **kwargs):
        raise NotSupportedError(f"projection {self.name} ({type(self).__name__}) is connected with "
                                f"{self._method}(), not with the generic connectors")

    def _set_connectivity(self, connectivity: Connectivity) -> None:
        self._net._check_not_compiled("connect a projection")
        if self.connectivity is not None:
            raise NetworkError(f"projection {self.name} is already connected")
        self.connectivity = connectivity

    def _rate_post(self):
        """A rate-coded Convolution or Pooling into a spiking population adds its result to
        ``g_target`` at every step, as ANNarchy does (a Copy adds it to ``sum(target)``, as an
        ordinary rate-coded projection)."""
        self._into_conductance = _type_of(self.pre) == "rate" and _type_of(self.post) != "rate"

    def _target_options(self) -> dict:
        return {"options": {"conductance": True}} if self.__dict__.get("_into_conductance") else {}

    def _whole(self):
        if self.pre_view is not self.pre or self.post_view is not self.post:
            raise NetworkError(f"projection {self.name}: a {type(self).__name__} connects whole populations, "
                               "not views")

    def _edge_extras(self) -> dict:
        return {"kind": self._kind}

    save = _refuse("save")
    load = _refuse("load")
    save_connectivity = _refuse("save_connectivity")


class Convolution(_Specialised):
    """A filter (cross-correlation) applied at every position of a rate-coded pre-synaptic
    population; the filter is shared by all positions (``proj.weights``)."""
    _method = "connect_filter"

    def __init__(self, pre, post, target, psp="pre.r * w", operation="sum", name=None, copied=False):
        if operation not in OPERATIONS:
            raise InvalidValueError(f"Convolution: operation is one of {', '.join(OPERATIONS)}, not {operation!r}")
        super().__init__(pre, post, target, Synapse(psp=psp, operation=operation, name="Convolution operation"),
                         name)
        if _type_of(self.pre) != "rate":
            raise NetworkError(f"projection {self.name}: a Convolution needs a rate-coded pre-synaptic population, "
                               f"but {self.pre.name} is spiking")
        self._whole()
        self._rate_post()
        self.operation = operation
        self._filter = None
        self._shared = None
        self.multiple = False

    def _connect_filter(self, weights, delays, keep_last_dimension, padding, subsampling, bank: bool):
        what = f"projection {self.name} ({'connect_filters' if bank else 'connect_filter'})"
        w = as_filter(weights, what, bank)
        delay = _uniform_delay(self, delays)
        conn, shared = filter_connectivity(w, self.pre.geometry, self.post.geometry, bank=bank,
                                           keep_last_dimension=bool(keep_last_dimension), padding=padding,
                                           subsampling=subsampling, operation=self.operation, delays=delay,
                                           name=what, source=self.name)
        self._set_connectivity(conn)
        self._filter, self._shared, self.multiple = w, shared, bank
        self.keep_last_dimension, self.padding, self.subsampling = bool(keep_last_dimension), padding, subsampling
        self.delays = delay
        return self

    def connect_filter(self, weights, delays=0.0, keep_last_dimension=False, padding=0.0, subsampling=None):
        """One filter at every position (``keep_last_dimension``: on each slice of the last one)."""
        return self._connect_filter(weights, delays, keep_last_dimension, padding, subsampling, False)

    def connect_filters(self, weights, delays=0.0, keep_last_dimension=False, padding=0.0, subsampling=None):
        """A bank of filters (first index): filter ``f`` gives the post neurons of last coordinate ``f``."""
        return self._connect_filter(weights, delays, keep_last_dimension, padding, subsampling, True)

    def _edge_extras(self) -> dict:
        self._require_connectivity()
        sw = self._shared
        return {"shared": SharedWeights(self.name, sw.index, self._filter.copy(), sw.pad_ptr, sw.pad_index,
                                        sw.padding), **self._target_options()}

    @property
    def weights(self) -> np.ndarray:
        """The filter (or bank of filters), shared by every position."""
        if self._filter is None:
            raise NetworkError(f"projection {self.name} has no filter yet: call connect_filter() first")
        if self._net.compiled:
            return np.array(self._net._state(self.name, "w")).reshape(self._filter.shape)
        return self._filter.copy()

    @weights.setter
    def weights(self, value):
        if self._filter is None:
            raise NetworkError(f"projection {self.name} has no filter yet: call connect_filter() first")
        try:
            w = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise InvalidTypeError(f"{self.name}.weights: an array of numbers, not {value!r}") from None
        if w.ndim and w.shape != self._filter.shape:
            raise ShapeError(f"{self.name}.weights: the filter has shape {self._filter.shape}, not {w.shape}")
        w = np.broadcast_to(w, self._filter.shape)
        if self._net.compiled:
            self._net._writable_state(self.name, "w")[...] = w.reshape(-1)
        else:
            self._filter = w.copy()
            self.connectivity.weights = self._filter.reshape(-1)[self._shared.index]

    w = weights

    def _flat(self, name):
        if name == "w":  # per synapse: its filter element
            return self.weights.reshape(-1)[self._shared.index]
        return super()._flat(name)

    def _set_elements(self, name, where, value, per_row: bool = False):
        raise NotSupportedError(f"projection {self.name}: the synapses of a Convolution share its filter; set "
                                f"{self.name}.weights")


class Pooling(_Specialised):
    """``operation`` (max, min, mean) of ``psp`` over a block of the pre-synaptic population for
    each post-synaptic neuron."""
    _method = "pooling"

    def __init__(self, pre, post, target, psp="pre.r", operation="max", name=None, copied=False):
        if operation not in OPERATIONS:
            raise InvalidValueError(f"Pooling: operation is one of {', '.join(OPERATIONS)}, not {operation!r}")
        super().__init__(pre, post, target, Synapse(psp=psp, operation=operation, name="Pooling operation"), name)
        if _type_of(self.pre) != "rate":
            raise NetworkError(f"projection {self.name}: Pooling needs a rate-coded pre-synaptic population, "
                               f"but {self.pre.name} is spiking")
        self._whole()
        self._rate_post()
        self.operation = operation

    def pooling(self, extent=None, delays=0.0):
        """Pool blocks of ``extent`` (by default pre geometry / post geometry in each dimension)."""
        delay = _uniform_delay(self, delays)
        conn, self.extent = pooling_connectivity(self.pre.geometry, self.post.geometry, extent, delay,
                                                 f"projection {self.name} (pooling)")
        self._set_connectivity(conn)
        return self

    connect_pooling = pooling

    def _edge_extras(self) -> dict:
        return self._target_options()


def _source(projection, who: str) -> Projection:
    if not isinstance(projection, Projection):
        raise InvalidTypeError(f"{who}: expected a projection, not {type(projection).__name__}")
    if isinstance(projection, _Specialised):
        raise NotSupportedError(f"{who}: the projection {projection.name} is a {type(projection).__name__}; only "
                                "ordinary projections can be copied or transposed")
    if projection.connectivity is None:
        raise NetworkError(f"{who}: projection {projection.name} is not connected yet")
    return projection


class Copy(_Specialised):
    """The connectivity and weights of another projection (shared: changes to its weights show
    here); only ``psp`` and ``operation`` may differ."""
    _method = "copy"

    def __init__(self, pre, post, target, psp="pre.r * w", operation="sum", name=None, copied=False):
        if operation not in OPERATIONS:
            raise InvalidValueError(f"Copy: operation is one of {', '.join(OPERATIONS)}, not {operation!r}")
        super().__init__(pre, post, target, Synapse(psp=psp, operation=operation, name="Copy"), name)
        self._whole()
        self.projection = None

    def copy(self, projection):
        """Use the synapses and weights of ``projection``."""
        orig = _source(projection, f"projection {self.name} (copy)")
        if orig._net is not self._net:
            raise NetworkError(f"projection {self.name}: projection {orig.name} belongs to another network")
        if orig.pre.geometry != self.pre.geometry or orig.post.geometry != self.post.geometry:
            raise ShapeError(f"projection {self.name}: a Copy connects populations of the same geometries as "
                             f"{orig.name} (pre {orig.pre.geometry}, post {orig.post.geometry}), not "
                             f"{self.pre.geometry} and {self.post.geometry}")
        c = orig.connectivity
        self._set_connectivity(Connectivity(c.post_ranks.copy(), c.row_ptr.copy(), c.pre_ranks.copy(),
                                            np.array(orig._flat("w"), dtype=float), c.delays, c.pre_size,
                                            c.post_size, f"copy({orig.name})", "csr", {"connector": "copy"}))
        self.projection = orig
        return self

    connect_copy = copy

    def _edge_extras(self) -> dict:
        self._require_connectivity()
        return {"shared": SharedWeights(self.projection.name, np.arange(self.connectivity.nb_synapses))}


class Transpose(_Specialised):
    """The transpose of a projection (post -> pre), reading its weights: ``psp = w * pre.r``
    (rate-coded) or ``g_target += w`` (spiking)."""
    _method = "transpose"

    def __init__(self, projection, target, name=None, copied=False):
        orig = _source(projection, "Transpose") if projection is not None else None
        if orig is None:
            raise InvalidTypeError("Transpose: expected a projection")
        super().__init__(orig.post_view, orig.pre_view, target, None, name, network=orig._net)
        if _type_of(orig.pre) != _type_of(orig.post):
            raise NetworkError(f"projection {self.name}: a Transpose needs a rate-coded -> rate-coded or spiking -> "
                               f"spiking projection, but {orig.name} connects a {_type_of(orig.pre)} population "
                               f"to a {_type_of(orig.post)} one")
        self.projection = orig

    def transpose(self):
        """Build the transposed synapses (each synapse of the projection, reversed)."""
        c = self.projection._require_connectivity()
        posts = np.repeat(c.post_ranks, np.diff(c.row_ptr)).astype(np.int64)
        pres = np.asarray(c.pre_ranks, dtype=np.int64)
        order = np.lexsort((posts, pres))          # new rows: the old pre ranks; then old post ranks
        rows, counts = np.unique(pres[order], return_counts=True)
        row_ptr = np.zeros(len(rows) + 1, dtype=np.int32)
        row_ptr[1:] = np.cumsum(counts)
        weights = np.asarray(self.projection._flat("w"), dtype=float)[order]
        self._set_connectivity(Connectivity(rows.astype(np.int32), row_ptr, posts[order].astype(np.int32), weights,
                                            0.0, c.post_size, c.pre_size, f"transpose({self.projection.name})",
                                            "csr", {"connector": "transpose"}))
        self._order = order
        return self

    connect_transpose = transpose

    def _edge_extras(self) -> dict:
        self._require_connectivity()
        return {"shared": SharedWeights(self.projection.name, self._order)}


class CurrentInjection(_Specialised):
    """Each step, ``g_target`` of each spiking post-synaptic neuron is set to ``r`` of the
    rate-coded pre-synaptic neuron of the same rank."""
    _method = "connect_current"
    _kind = "current_injection"

    def __init__(self, pre, post, target, name=None, copied=False):
        super().__init__(pre, post, target, None, name)
        if _type_of(self.pre) != "rate":
            raise NetworkError(f"projection {self.name}: a CurrentInjection needs a rate-coded pre-synaptic "
                               f"population, but {self.pre.name} is spiking")
        if _type_of(self.post) != "spike":
            raise NetworkError(f"projection {self.name}: a CurrentInjection needs a spiking post-synaptic "
                               f"population, but {self.post.name} is rate-coded")
        for t in self.targets:
            if f"g_{t}" not in self.post._model_ir().attributes:
                raise NetworkError(f"projection {self.name}: the post-synaptic neuron of {self.post.name} has no "
                                   f"conductance 'g_{t}' for target '{t}'")

    def connect_current(self):
        """One to one, weight 1, no delay."""
        return Projection._connect(self, _one_to_one)

    def _edge_extras(self) -> dict:
        return {"kind": self._kind}


def _one_to_one(pre_ranks, post_ranks, pre_size, post_size):
    from .connectors import one_to_one
    return one_to_one(pre_ranks, post_ranks, pre_size, post_size, weights=1.0)


class DecodingProjection(_PlainAttributes, Projection):
    """Spikes of a spiking population as a rate of the rate-coded post-synaptic neurons:
    ``sum(target)`` is the weighted spike count of each dendrite over the last ``window`` ms, in
    Hz, averaged over its synapses.  Any connector; delays are ignored."""
    _kind = "decoding"

    def __init__(self, pre, post, target, window=0.0, name=None, copied=False):
        super().__init__(pre, post, target, None, name)
        if _type_of(self.pre) != "spike":
            raise NetworkError(f"projection {self.name}: a DecodingProjection needs a spiking pre-synaptic "
                               f"population, but {self.pre.name} is rate-coded")
        if _type_of(self.post) != "rate":
            raise NetworkError(f"projection {self.name}: a DecodingProjection needs a rate-coded post-synaptic "
                               f"population, but {self.post.name} is spiking")
        if isinstance(window, bool) or not isinstance(window, (int, float, np.integer, np.floating)) \
                or not np.isfinite(window) or window < 0:
            raise InvalidValueError(f"projection {self.name}: window is a number of ms >= 0, not {window!r}")
        self.window = float(window) if window > 0 else self._net.dt

    def _connect(self, builder, *args, storage_format=None, **kwargs):
        super()._connect(builder, *args, storage_format=storage_format, **kwargs)
        self.connectivity.delays = 0.0  # ignored, as in ANNarchy
        return self

    def _edge_extras(self) -> dict:
        return {"kind": self._kind, "options": {"window_steps": max(1, int(round(self.window / self._net.dt)))}}
