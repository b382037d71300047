"""PopulationView and IndividualNeuron, and the attribute access they share with Population:
reads and writes of a neuron model's attributes through a population's ranks."""
from __future__ import annotations

import numpy as np

from anncompiler.errors import NetworkError

from . import geometry as geo
from .indexing import resolve_index, union_ranks

_OWN = {"geometry", "size", "name", "neuron_type", "id", "ranks", "rank", "stop_condition", "refractory",
        "population", "enabled", "max_delay"}


class _AttributeAccess:
    """Attribute get/set shared by Population, PopulationView and IndividualNeuron."""

    def _attribute_names(self) -> list[str]:
        return self.population._model_ir().attributes.keys()

    def __getattr__(self, name):
        if name.startswith("_") or name in _OWN:
            raise AttributeError(name)
        pop = self.__dict__.get("population") or self
        if name in pop._model_ir().attributes:
            value = pop._get(name, self._view_ranks())
            if isinstance(self, PopulationView) and isinstance(value, np.ndarray):
                value = value.reshape(self.geometry)  # a view keeps its geometry (pop[1:3, :])
            return value
        fn = pop._model_ir().functions.get(name)
        if fn is not None:
            return pop._function(fn)
        if name == "r" and pop.__dict__.get("_firing_window") is not None:
            value = pop._firing_rate(self._view_ranks())
            return value.reshape(self.geometry) if isinstance(self, PopulationView) else value
        raise AttributeError(f"population {pop.name} (model '{pop.neuron_type.name}') has no attribute '{name}'")

    def __setattr__(self, name, value):
        if name.startswith("_") or name in _OWN or name in type(self).__dict__:
            object.__setattr__(self, name, value)
            return
        pop = self.__dict__.get("population") or self
        if name in pop._model_ir().attributes:
            pop._set(name, value, self._view_ranks())
            return
        raise AttributeError(f"population {pop.name} (model '{pop.neuron_type.name}') has no attribute "
                             f"'{name}'; its attributes are {', '.join(pop._model_ir().attributes)}")

    def get(self, name):
        return getattr(self, name)

    def set(self, values: dict):
        for k, v in values.items():
            setattr(self, k, v)


class PopulationView(_AttributeAccess):
    """A subset of a population's neurons (``pop[10:20]``, ``pop[2:5, :]``, ``pop[[1, 3]]``)."""

    def __init__(self, population, ranks, geometry=None):
        object.__setattr__(self, "population", population)
        self.ranks = np.asarray(ranks, dtype=np.int64)
        self.size = len(self.ranks)
        self.geometry = tuple(geometry) if geometry is not None else (self.size,)
        self.name = f"{population.name}[view]"

    @property
    def max_delay(self) -> int:
        """The population's (delays keep the past of whole populations)."""
        return self.population.max_delay

    @max_delay.setter
    def max_delay(self, value):
        self.population.max_delay = value

    def _view_ranks(self):
        return self.ranks

    @property
    def neuron_type(self):
        return self.population.neuron_type

    def __len__(self):
        return self.size

    def __add__(self, other):
        if other.population is not self.population:
            raise NetworkError("only views of the same population can be added")
        ranks = union_ranks(self.ranks, other._view_ranks() if isinstance(other, PopulationView)
                            else [other.rank])
        return PopulationView(self.population, ranks)

    def __getitem__(self, key):
        local, geometry, individual = resolve_index(self.geometry, key)
        if individual:
            return IndividualNeuron(self.population, int(self.ranks[local[0]]))
        return PopulationView(self.population, self.ranks[local], geometry)

    def rank_from_coordinates(self, coord, local=False):
        r = geo.rank_from_coordinates(self.geometry, coord)
        return r if local else int(self.ranks[r])

    def coordinates_from_rank(self, rank, local=False):
        if not local:
            rank = int(np.nonzero(self.ranks == rank)[0][0])
        return geo.coordinates_from_rank(self.geometry, rank)

    def sum(self, target):
        return self.population.sum(target).reshape(-1)[self.ranks]

    @property
    def spike(self):
        """Ranks (in the population) of the view's neurons that spiked in the last step."""
        from .population_switches import spikes_of_view
        return spikes_of_view(self)

    def __repr__(self):
        return f"PopulationView of {self.population.name} ({self.size} neurons)"


class IndividualNeuron(_AttributeAccess):
    """One neuron of a population (``pop[x, y]``, ``pop.neuron(3)``)."""

    def __init__(self, population, rank):
        object.__setattr__(self, "population", population)
        self.rank = int(rank)
        self.ranks = np.array([self.rank])
        self.size = 1

    def _view_ranks(self):
        return self.ranks

    def __getattr__(self, name):
        value = super().__getattr__(name)
        return value[0] if isinstance(value, np.ndarray) and value.size == 1 else value

    def __add__(self, other):
        return PopulationView(self.population, [self.rank]) + other

    def __repr__(self):
        return f"IndividualNeuron({self.population.name}, rank={self.rank})"
