"""Fuzzing: whatever text the user writes, the parser raises only ModelError subclasses."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anncompiler.core.models import Neuron, Synapse
from anncompiler.errors import ModelError
from anncompiler.parser import parse_condition, parse_function, parse_model

VALID_NEURON = [
    "tau * dv/dt = (El - v) + g_exc * (Erev_exc - v) + I : init=-60.0, min=-90",
    "tau_exc * dg_exc/dt = - g_exc",
    "r = if v > 1: pos(v) else: clip(v, 0, 1) ; x += 1",
    "dx/dt = ite((v == 1) or (v is not 2), Uniform(0, 1), sum(exc)) : population",
    "y = mean(v) + max(v) + min(x, y) : population, init=tau",
]
PARAMS = dict(El=-60.0, Erev_exc=0.0, tau=20.0, tau_exc=5.0, I=1.0)
ALPHABET = "abvxrgIt_0123456789 +-*/^()=<>!:;,.#\n\tdifelsnotandorsum" + "\x00'\"[]{}@$%&|~`?\\é"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _only_model_errors(make):
    try:
        make()
    except ModelError:
        pass


def _neuron(equations, spike=None):
    return lambda: parse_model(Neuron(parameters=PARAMS, equations=equations, spike=spike,
                                      reset="v = El" if spike else None, name="Fuzz"))


@SETTINGS
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_random_text(text):
    _only_model_errors(_neuron(text))
    _only_model_errors(_neuron("r = 1\n" + text))
    _only_model_errors(_neuron("tau*dv/dt = -v", spike=text))
    _only_model_errors(lambda: parse_model(Synapse(parameters=text, equations="x = 1", name="FuzzS")))
    _only_model_errors(lambda: parse_function(text))


def _mutate(text, ops):
    chars = list(text)
    for kind, pos, ch in ops:
        if not chars:
            chars = [ch]
            continue
        pos %= len(chars)
        if kind == 0:
            del chars[pos]
        elif kind == 1:
            chars.insert(pos, ch)
        else:
            chars[pos] = ch
    return "".join(chars)


MUTATIONS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.sampled_from(ALPHABET)),
                     min_size=1, max_size=4)


@SETTINGS
@given(st.integers(0, len(VALID_NEURON) - 1), MUTATIONS)
def test_mutated_neuron_equations(k, ops):
    eqs = list(VALID_NEURON)
    eqs[k] = _mutate(eqs[k], ops)
    _only_model_errors(_neuron("\n".join(eqs), spike="v > El"))


@SETTINGS
@given(MUTATIONS, st.sampled_from(["pre_spike", "post_spike", "psp", "equations"]))
def test_mutated_synapse(ops, field):
    base = dict(parameters="tau = 10.0 : projection\nA = 0.1",
                equations="tau * dx/dt = -x : event-driven",
                pre_spike="g_target += w\nx += A * pre.r", post_spike="w = clip(w + x, 0, 1)")
    base[field] = _mutate(base.get(field) or "w * pre.sum(exc)", ops)
    _only_model_errors(lambda: parse_model(Synapse(name="FuzzS", **base)))


@SETTINGS
@given(MUTATIONS)
def test_mutated_condition(ops):
    m = parse_model(Neuron(parameters="a = 1", equations="r = a", name="C"))
    _only_model_errors(lambda: parse_condition(_mutate("(r > a) and not (t == 1) : all", ops), m))


@pytest.mark.parametrize("text", ["(" * 300 + "1" + ")" * 300, "+".join(["x"] * 3000), "9**9**9**9",
                                  "-" * 5000 + "1", "if " * 100, "1e999999", "x" * 10000])
def test_pathological(text):
    _only_model_errors(_neuron("r = " + text))
