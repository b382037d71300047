"""Shared fixtures and small model builders for the front-end tests."""
import os
import warnings

import pytest

import anncompiler as ann

BACKENDS = ["llvm", "reference"]

# The test networks are small: under the default thread policy ("auto") they would run on one
# thread whatever num_threads says.  The tests compare thread counts, so they keep every thread
# asked for (tests/test_thread_policy.py checks the "auto" choice itself).
os.environ["ANNC_THREAD_POLICY"] = "always"


@pytest.fixture(autouse=True)
def _clean_magic_network():
    """Every test starts and ends with a fresh legacy ("magic") network."""
    ann.clear()
    yield
    ann.clear()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def net():
    return ann.Network(dt=0.1, seed=123)


def leaky_rate(name="Leaky", tau=10.0, B=0.0):
    """A rate-coded leaky neuron with one input target 'exc'."""
    return ann.Neuron(parameters=dict(tau=tau, B=ann.Parameter(B, locality="local")),
                      equations=["tau * dr/dt + r = sum(exc) + B : min=0.0"], name=name)


def lif(name="LIF", refractory=None, **params):
    """A current-driven LIF neuron (v in mV) with a constant input I."""
    p = dict(tau=10.0, El=-65.0, Vt=-50.0, Vr=-70.0, I=20.0)
    p.update(params)
    return ann.Neuron(parameters=p, equations="tau*dv/dt = El - v + I + g_exc : init=-65.0",
                      spike="v > Vt", reset="v = Vr", refractory=refractory, name=name)


def counter_neuron(name="Counter"):
    """r grows by 1 per step: easy to check which steps were recorded."""
    return ann.Neuron(equations="r = r + 1.0", name=name)


@pytest.fixture
def quiet_deprecations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
