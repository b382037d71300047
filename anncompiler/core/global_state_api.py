"""The legacy global API's state functions (``ann.save``, ``ann.load``, ``ann.reset``,
``ann.save_parameters``, ``ann.load_parameters``): deprecated in ANNarchy 5, forwarded to the
global network."""
from __future__ import annotations

from anncompiler.errors import InvalidValueError

from .global_api import _deprecated, magic_network


def _network(net_id):
    if net_id not in (0, None):
        raise InvalidValueError(f"net_id={net_id!r}: the module-level functions act on the global network "
                                "(net_id=0); call the method of your Network instead (net.save(...))")
    return magic_network()


@_deprecated
def save(filename, populations=True, projections=True, net_id=0):
    _network(net_id).save(filename, populations, projections)


@_deprecated
def load(filename, populations=True, projections=True, pickle_encoding=None, net_id=0):
    _network(net_id).load(filename, populations, projections, pickle_encoding)


@_deprecated
def reset(populations=True, projections=False, synapses=False, monitors=True, net_id=0):
    _network(net_id).reset(populations, projections, synapses, monitors)


@_deprecated
def save_parameters(filename, net_id=0):
    _network(net_id).save_parameters(filename)


@_deprecated
def load_parameters(filename, global_only=True, verbose=False, net_id=0):
    return _network(net_id).load_parameters(filename, global_only, verbose)
