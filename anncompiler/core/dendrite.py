"""Dendrites and individual synapses of a projection: views of its synapses by post neuron.

``proj.dendrite(rank | coordinates)`` (also ``proj[rank]``, ``proj.dendrites``, ``for d in proj``)
gives the synapses onto one post-synaptic neuron; ``dendrite.synapse(pre)`` and
``proj.synapse(pre, post)`` one synapse.  Attributes read and write the projection's state in
place, before and after compile: local attributes per synapse, semiglobal ones per dendrite,
global ones for the whole projection (read only here).
"""
from __future__ import annotations

import numpy as np

from anncompiler.errors import IndexOutOfRangeError, NetworkError, ShapeError

_OWN = ("proj", "row", "post_rank", "pre_rank", "delay")


class _SynapseSet:
    """Attribute access to the synapses ``[lo, hi)`` of row ``row`` of a projection."""

    def _attribute(self, name):
        proj = self.proj
        a = proj._model_ir().attributes.get(name)
        if a is None:
            raise AttributeError(f"projection {proj.name} has no attribute '{name}'")
        return a

    def _read(self, name):
        a = self._attribute(name)
        if a.locality == "global" or (name == "w" and self.proj._shared_weight()):
            return getattr(self.proj, name)
        if a.locality == "semiglobal":
            return getattr(self.proj, name)[self.row]
        return self.proj._flat(name)[self._lo:self._hi]

    def _write(self, name, value):
        a = self._attribute(name)
        proj = self.proj
        if a.locality == "global":
            raise NetworkError(f"{proj.name}.{name} is global (one value for the projection): set it on the "
                               f"projection, not on one dendrite or synapse")
        value = np.asarray(value, dtype=float)
        if a.locality == "semiglobal":
            if value.size != 1:
                raise ShapeError(f"{proj.name}.{name} is one value per dendrite, got {value.size}")
            proj._set_elements(name, self.row, value.reshape(-1)[0], per_row=True)
            return
        n = self._hi - self._lo
        if value.size not in (1, n):
            raise ShapeError(f"{proj.name}.{name}: {value.size} values for the {n} synapses of dendrite "
                             f"{self.post_rank}")
        proj._set_elements(name, slice(self._lo, self._hi), value.reshape(-1) if value.size > 1 else value.item())

    def get(self, name):
        return getattr(self, name)

    def set(self, values: dict):
        for k, v in values.items():
            setattr(self, k, v)

    def __getattr__(self, name):
        if name.startswith("_") or name in _OWN:
            raise AttributeError(name)
        value = self._read(name)
        return value.tolist() if isinstance(value, np.ndarray) else value

    def __setattr__(self, name, value):
        if name.startswith("_") or name in _OWN:
            object.__setattr__(self, name, value)
        else:
            self._write(name, value)


class Dendrite(_SynapseSet):
    """The synapses of a projection onto one post-synaptic neuron."""

    def __init__(self, proj, row: int):
        c = proj._require_connectivity()
        self.proj, self.row = proj, int(row)
        self.post_rank = int(c.post_ranks[row])
        self._lo, self._hi = int(c.row_ptr[row]), int(c.row_ptr[row + 1])

    def __repr__(self):
        return f"Dendrite({self.proj.name}, post_rank={self.post_rank}, {self.size} synapses)"

    @property
    def delay(self):
        """The delays (ms) of this dendrite's synapses; settable (core/delays.py)."""
        from .delays import dendrite_delay
        return dendrite_delay(self)

    @delay.setter
    def delay(self, value):
        from .delays import set_dendrite_delay
        set_dendrite_delay(self, value)

    @property
    def pre_ranks(self) -> list[int]:
        return self.proj._require_connectivity().pre_ranks[self._lo:self._hi].tolist()

    @property
    def size(self) -> int:
        return self._hi - self._lo

    def __len__(self):
        return self.size

    @property
    def synapses(self) -> list["IndividualSynapse"]:
        return [IndividualSynapse(self, k) for k in range(self.size)]

    def synapse(self, pre) -> "IndividualSynapse":
        """The synapse from pre-synaptic neuron ``pre`` (a rank or coordinates)."""
        rank = _rank(self.proj.pre, pre, "pre")
        found = np.flatnonzero(np.asarray(self.pre_ranks) == rank)
        if not found.size:
            raise IndexOutOfRangeError(f"projection {self.proj.name}: no synapse from pre-synaptic neuron {rank} "
                                       f"onto post-synaptic neuron {self.post_rank}")
        return IndividualSynapse(self, int(found[0]))

    def receptive_field(self, variable="w", fill=0.0) -> np.ndarray:
        """``variable`` of each synapse at its pre-synaptic neuron's place, ``fill`` where none,
        shaped like the pre-synaptic population."""
        pre = self.proj.pre
        out = np.full(pre.size, float(fill))
        values = np.broadcast_to(np.asarray(self._read(variable), dtype=float), (self.size,))
        out[self.pre_ranks] = values
        return out.reshape(pre.geometry)

    def create_synapse(self, *args, **kwargs):
        raise NetworkError("structural plasticity (creating synapses) is not supported yet")

    def prune_synapse(self, *args, **kwargs):
        raise NetworkError("structural plasticity (pruning synapses) is not supported yet")


class IndividualSynapse(_SynapseSet):
    """One synapse of a dendrite."""

    def __init__(self, dendrite: Dendrite, k: int):
        self.proj, self.row, self.post_rank = dendrite.proj, dendrite.row, dendrite.post_rank
        self._lo, self._hi = dendrite._lo + k, dendrite._lo + k + 1
        self.pre_rank = dendrite.pre_ranks[k]

    @property
    def delay(self):
        from .delays import dendrite_delay
        return dendrite_delay(self, single=True)

    @delay.setter
    def delay(self, value):
        from .delays import set_dendrite_delay
        set_dendrite_delay(self, value)

    def __repr__(self):
        return f"IndividualSynapse({self.proj.name}, pre={self.pre_rank}, post={self.post_rank})"

    def _read(self, name):
        value = super()._read(name)
        return value[0] if isinstance(value, np.ndarray) else value



def _rank(pop, neuron, what: str) -> int:
    """A neuron of ``pop`` given by rank or coordinates, checked."""
    if isinstance(neuron, (tuple, list)):
        return int(pop.rank_from_coordinates(tuple(neuron)))
    if isinstance(neuron, (bool, np.bool_)) or not isinstance(neuron, (int, np.integer)):
        raise IndexOutOfRangeError(f"a {what}-synaptic neuron is a rank or coordinates, not {neuron!r}")
    if not 0 <= int(neuron) < pop.size:
        raise IndexOutOfRangeError(f"{what}-synaptic rank {neuron} is outside population {pop.name} "
                                   f"(size {pop.size})")
    return int(neuron)


def dendrite_of(proj, post) -> Dendrite:
    """The dendrite of post-synaptic neuron ``post`` (a rank or coordinates)."""
    rank = _rank(proj.post, post, "post")
    rows = np.flatnonzero(np.asarray(proj._require_connectivity().post_ranks) == rank)
    if not rows.size:
        raise IndexOutOfRangeError(f"projection {proj.name}: post-synaptic neuron {rank} has no synapse")
    return Dendrite(proj, int(rows[0]))


def receptive_fields(proj, variable="w", in_post_geometry=True) -> np.ndarray:
    """The receptive fields of every post neuron tiled in one 2-D array (each one shaped like the
    2-D pre-synaptic population; placed in the post population's 2-D geometry, or one per row)."""
    pre_geo, post_geo = tuple(proj.pre.geometry), tuple(proj.post.geometry)
    if len(pre_geo) != 2:
        raise ShapeError(f"projection {proj.name}: receptive_fields() needs a 2-D pre-synaptic population, "
                         f"got geometry {pre_geo}")
    if in_post_geometry and len(post_geo) > 2:
        raise ShapeError(f"projection {proj.name}: receptive_fields() tiles a 1-D or 2-D post population")
    rows, cols = (post_geo if len(post_geo) == 2 else (1, post_geo[0])) if in_post_geometry else (proj.post.size, 1)
    present = set(int(r) for r in proj._require_connectivity().post_ranks)
    tiles = []
    for y in range(rows):
        line = []
        for x in range(cols):
            rank = y * cols + x
            line.append(dendrite_of(proj, rank).receptive_field(variable) if rank in present
                        else np.zeros(pre_geo))
        tiles.append(np.concatenate(line, axis=1))
    return np.concatenate(tiles, axis=0)


__all__ = ["Dendrite", "IndividualSynapse", "dendrite_of", "receptive_fields"]
