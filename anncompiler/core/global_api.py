"""ANNarchy's legacy global API: one implicit ("magic") network behind module-level functions.

Deprecated in ANNarchy 5 but still used by many scripts; each call warns once
(DeprecationWarning) and forwards to the magic network.
"""
from __future__ import annotations

import functools
import warnings

from .network import _GLOBAL_CONSTANTS, _GLOBAL_FUNCTIONS, Network

_MAGIC: Network | None = None


def magic_network() -> Network:
    global _MAGIC
    if _MAGIC is None:
        _MAGIC = Network()
    return _MAGIC


def clear():
    """Forget the magic network (and everything created in it)."""
    global _MAGIC
    _MAGIC = None


def _deprecated(fn):
    warned = []

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not warned:
            warned.append(True)
            warnings.warn(f"ann.{fn.__name__}() uses the global network, deprecated in ANNarchy 5; "
                          "prefer a Network object", DeprecationWarning, stacklevel=2)
        return fn(*args, **kwargs)
    return wrapper


@_deprecated
def setup(**kwargs):
    magic_network().config(**kwargs)


@_deprecated
def compile(directory="annarchy", clean=False, **kwargs):
    magic_network().compile(directory, clean, **kwargs)


@_deprecated
def simulate(duration, measure_time=False):
    magic_network().simulate(duration, measure_time)


@_deprecated
def simulate_until(max_duration, population, operator="and", measure_time=False):
    return magic_network().simulate_until(max_duration, population, operator, measure_time)


@_deprecated
def step():
    magic_network().step()


@_deprecated
def get_time():
    return magic_network().time


@_deprecated
def set_time(t):
    magic_network().time = t


@_deprecated
def get_current_step():
    return magic_network().current_step


@_deprecated
def set_current_step(step):
    magic_network().current_step = step


@_deprecated
def dt():
    return magic_network().dt


@_deprecated
def get_population(name):
    return magic_network().get_population(name)


@_deprecated
def get_projection(name):
    return magic_network().get_projection(name)


@_deprecated
def enable_learning(projections=None, period=None, offset=None):
    return magic_network().enable_learning(projections, period, offset)


@_deprecated
def disable_learning(projections=None):
    return magic_network().disable_learning(projections)


@_deprecated
def populations():
    return magic_network().get_populations()


@_deprecated
def projections(post=None, pre=None, target=None, suppress_error=False):
    return magic_network().get_projections(post, pre, target, suppress_error)


@_deprecated
def monitors():
    return magic_network().get_monitors()


def add_function(text: str):
    """Declare a global function usable in every equation: ``add_function("f(x) = x*x")``."""
    from anncompiler.parser import parse_function
    f = parse_function(text)
    _GLOBAL_FUNCTIONS[f.name] = f


def functions(name: str):
    """A global function as a Python callable (numpy arrays in, array out)."""
    from .functions import numpy_callable
    try:
        f = _GLOBAL_FUNCTIONS[name]
    except KeyError:
        raise KeyError(f"no global function '{name}'; declare it with ann.add_function()") from None
    return numpy_callable(f, lambda: {c.name: float(c) for c in _GLOBAL_CONSTANTS.values()})
