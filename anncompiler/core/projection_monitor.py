"""Monitors of a Projection or a Dendrite: synaptic variables (``'w'``, any synaptic variable)
recorded by the native step loop into buffers, like population variables
(``passes/lowering/synapse_monitors.py``), drained between chunks.

Shapes of ``get(v)``, as ANNarchy's (one entry per recorded step first):

* a Projection: a local variable is, per step, one array of values per dendrite (in the order of
  ``proj.post_ranks``): a ``(steps, dendrites, synapses)`` float array when every dendrite has as
  many synapses, else a ``(steps, dendrites)`` object array of 1-D float arrays; a semiglobal
  variable ``(steps, dendrites)``; a global one (and a single shared weight) ``(steps,)``;
* a Dendrite: a local variable ``(steps, synapses)``; a semiglobal or global one ``(steps,)``.

Recording a whole projection at every step is heavy: as ANNarchy, creating such a monitor with
the default period (dt) warns.
"""
from __future__ import annotations

import warnings

import numpy as np

from anncompiler.errors import NetworkError, NotSupportedError

from .monitor import Monitor


def records_synapses(obj) -> bool:
    from .dendrite import Dendrite
    from .projection import Projection
    return isinstance(obj, (Projection, Dendrite))


class ProjectionMonitor(Monitor):
    """A Monitor of a Projection or a Dendrite (created by ``Monitor(proj, 'w')`` /
    ``net.monitor(proj.dendrite(3), 'w')``)."""

    def _anchor(self, obj):
        proj = getattr(obj, "proj", obj)
        return proj.post

    def _bind(self, obj, stream):
        from .dendrite import Dendrite
        if stream is not None:
            raise NotSupportedError("Monitor(stream=...) records populations only, not synaptic variables")
        proj = obj.proj if isinstance(obj, Dendrite) else obj
        c = proj._require_connectivity()
        self.object, self.projection = obj, proj
        self.population = proj.post.population if hasattr(proj.post, "population") else proj.post
        self._ranks = None
        self._geometry = (1,)
        self._dendrite = isinstance(obj, Dendrite)
        #: recorded dendrites (rows of the projection, in the order of post_ranks)
        self._rows = np.array([obj.row], dtype=np.int64) if self._dendrite else np.arange(c.n_rows, dtype=np.int64)
        row_ptr = np.asarray(c.row_ptr, dtype=np.int64)
        self._sizes = row_ptr[self._rows + 1] - row_ptr[self._rows]
        #: positions (CSR order of the projection) of the recorded synapses, dendrite by dendrite
        self._synapses = np.concatenate([np.arange(row_ptr[r], row_ptr[r + 1]) for r in self._rows]) \
            if len(self._rows) else np.zeros(0, np.int64)

    def __init__(self, obj, variables=None, period=None, period_offset=None, start=True, name=None,
                 *, network=None, stream=None):
        super().__init__(obj, variables, period, period_offset, start, name, network=network, stream=stream)
        if not self._dendrite and self._period == self._net.dt and self.variables:
            warnings.warn(f"Monitor {self.name}: recording the synaptic variables of projection "
                          f"{self.projection.name} at every step is heavy; consider a longer period",
                          UserWarning, stacklevel=3)

    # what can be recorded ------------------------------------------------------
    def _locality(self, v) -> str:
        a = self.projection._model_ir().attributes[v]
        if a.locality == "global" or (v == "w" and self.projection._shared_weight()):
            return "global"
        return a.locality

    def _check_recordable(self, v):
        from anncompiler.errors import InvalidTypeError
        if not isinstance(v, str):
            raise InvalidTypeError(f"Monitor: variables are names, not {v!r}")
        proj = self.projection
        attrs = proj._model_ir().attributes
        a = attrs.get(v)
        if a is None:
            raise NetworkError(f"Monitor: cannot record '{v}': projection {proj.name} (synapse "
                               f"'{proj._model_ir().name}') has no such attribute (it has: {', '.join(attrs)})")
        if a.role == "parameter" and v != "w":
            raise NetworkError(f"Monitor: '{v}' is a parameter of projection {proj.name}: parameters are not "
                               "recordable (read it directly)")

    def _is_global(self, v):
        return self._locality(v) == "global"

    def _row_width(self, v) -> int:
        locality = self._locality(v)
        if locality == "global":
            return 1
        return len(self._rows) if locality == "semiglobal" else len(self._synapses)

    @property
    def _width(self):
        return len(self._synapses)

    def _recorded_ranks(self):
        c = self.projection._require_connectivity()
        return [int(c.post_ranks[r]) for r in self._rows]

    # results -------------------------------------------------------------------
    def _variable(self, v, reshape):
        data = self._held_rows(v)
        width = self._row_width(v)
        if data is None:
            data = np.zeros((0, width))
        locality = self._locality(v)
        if locality == "global" or (self._dendrite and locality == "semiglobal"):
            return data[:, 0]
        if locality == "semiglobal" or self._dendrite:
            return data
        sizes = self._sizes
        if len(sizes) and np.all(sizes == sizes[0]):
            return data.reshape(data.shape[0], len(sizes), int(sizes[0]))
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        out = np.empty((data.shape[0], len(sizes)), dtype=object)
        for k in range(data.shape[0]):
            for d in range(len(sizes)):
                out[k, d] = data[k, bounds[d]:bounds[d + 1]].copy()
        return out

    def save(self, filename, variables=None, keep=False, reshape=False, force_dict=False):
        if not str(filename).lower().endswith(".npy"):
            raise NotSupportedError(f"monitor {self.name}: recordings of synaptic variables are saved to .npy "
                                    "files (one variable), not to HDF5 yet")
        super().save(filename, variables, keep, reshape, force_dict)

    def _spec(self):
        from anncompiler.ir.network import MonitorSpec
        period, offset = self._steps()
        return MonitorSpec(self.name, self.population.name, list(self.variables), self._rows, period, offset,
                           self._recording, projection=self.projection.name, synapses=self._synapses,
                           localities={v: self._locality(v) for v in self.variables})
