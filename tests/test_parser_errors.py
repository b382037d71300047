"""Parser error tests: each mistake raises its ModelError subclass naming the model and the equation."""
import pytest

from anncompiler.core.models import Neuron, Synapse
from anncompiler.errors import (ArityError, EquationSyntaxError, FlagError, LocalityError,
                                MissingVariableError, ModelError, ReservedNameError, UnknownNameError)
from anncompiler.parser import parse_condition, parse_function, parse_model


def lif(equations="tau * dv/dt = -v", parameters="tau = 10.0", **kw):
    kw.setdefault("spike", "v > 1")
    kw.setdefault("reset", "v = 0")
    return parse_model(Neuron(parameters=parameters, equations=equations, name="LIF", **kw))


def rate(equations, parameters="", **kw):
    return parse_model(Neuron(parameters=parameters, equations=equations, name="RateN", **kw))


def check(exc_info, text, column=None):
    e = exc_info.value
    assert e.model in ("LIF", "RateN", "Syn", "functions")
    assert text in str(e)
    if column is not None:
        assert e.column == column


def test_unbalanced_parentheses():
    with pytest.raises(EquationSyntaxError, match="LIF") as ei:
        lif("tau * dv/dt = (-v + (1)")
    check(ei, "tau * dv/dt = (-v + (1)", column=14)
    with pytest.raises(EquationSyntaxError, match="LIF") as ei:
        lif("tau * dv/dt = -v) + 1")
    check(ei, "-v) + 1", column=16)
    with pytest.raises(EquationSyntaxError, match="unbalanced") as ei:
        lif("(tau * dv/dt = -v")
    check(ei, "(tau * dv/dt = -v", column=0)


@pytest.mark.parametrize("eq", ["r = 1 +", "r = * 2", "r = a b", "r == 1 = 2", "r = 1 = 2", "r = x.y",
                                "r = 'text'", "r = [1, 2]", "r = lambda: 1", "r = f(x=1)", "r = 1 +* 2",
                                "r = if x > 1: 1", "r = if x > 1 1 else 0", "r = 1 // 2", "r = ()",
                                "r = (x > 1) + 1"])
def test_syntax_errors(eq):
    with pytest.raises(EquationSyntaxError, match="RateN") as ei:
        rate(eq, "x = 1")
    check(ei, eq.split(" = ")[0])


def test_no_assignment():
    with pytest.raises(EquationSyntaxError, match="no '='"):
        rate("r + 1")


def test_unknown_name():
    with pytest.raises(UnknownNameError, match="LIF") as ei:
        lif("tau * dv/dt = -v + foo")
    check(ei, "tau * dv/dt = -v + foo", column=19)
    assert ei.value.name == "foo"
    with pytest.raises(UnknownNameError, match="'bar'"):
        lif(spike="v > bar")
    with pytest.raises(UnknownNameError, match="zz"):
        lif(reset="v = zz")
    with pytest.raises(UnknownNameError, match="qq"):
        lif(reset="qq = 0")
    with pytest.raises(UnknownNameError, match="pre.r"):
        rate("r = pre.r")
    with pytest.raises(UnknownNameError, match="t_last"):
        rate("r = t_last")
    with pytest.raises(UnknownNameError, match="g_exc"):
        rate("r = g_exc")
    with pytest.raises(UnknownNameError, match="unknown function 'foo'"):
        rate("r = foo(1)")
    with pytest.raises(UnknownNameError, match="'tref'"):
        lif(refractory="tref")
    with pytest.raises(UnknownNameError, match="'w'"):
        rate("r = w")


@pytest.mark.parametrize("name", ["t", "dt", "t_last", "i", "j", "size", "refractory", "exp", "pos", "ite",
                                  "sum", "mean", "last_spike", "rk_pre", "active", "t_pre", "t_post"])
def test_reserved_names(name):
    with pytest.raises(ReservedNameError, match="RateN") as ei:
        rate(f"r = 1\n{name} = 2")
    check(ei, f"{name} = 2")
    with pytest.raises(ReservedNameError, match="RateN"):
        rate("r = 1", {name: 1.0})
    with pytest.raises(ReservedNameError, match="RateN"):
        rate("r = 1", f"{name} = 1.0")


def test_missing_and_forbidden_r():
    with pytest.raises(MissingVariableError, match="RateN") as ei:
        rate("x = 1")
    check(ei, "x = 1")
    with pytest.raises(MissingVariableError, match="LIF") as ei:
        lif("tau * dv/dt = -v\nr = v")
    check(ei, "r = v")


@pytest.mark.parametrize("eq", ["r = 1 : init=0, foo", "r = 1 : population, bar", "r = 1 : init=",
                                "r = 1 : int, bool", "dr/dt = 1 : rk4, implicit"])
def test_flag_errors(eq):
    with pytest.raises(FlagError, match="RateN") as ei:
        rate(eq)
    check(ei, eq)


def test_locality_flags_by_kind():
    with pytest.raises(FlagError, match="postsynaptic"):
        rate("r = 1 : postsynaptic")


@pytest.mark.parametrize("eq", ["r = clip(x, 1)", "r = exp(x, 2)", "r = ite(x, 1)", "r = pos()",
                                "r = mean(x, x)", "r = Uniform(1)", "r = f(x, x)"])
def test_arity(eq):
    with pytest.raises(ArityError, match="RateN") as ei:
        parse_model(Neuron(parameters="x = 1", equations=eq, functions="f(a) = a", name="RateN"))
    check(ei, eq)


def test_locality_error():
    with pytest.raises(LocalityError, match="RateN") as ei:
        rate("x = 1\nr = 1\nm = x + 1 : population")
    check(ei, "m = x + 1 : population")
    rate("x = 1\nr = 1\nm = mean(x) : population")  # global operations are fine
    with pytest.raises(LocalityError, match="Syn"):
        parse_model(Synapse(equations="m = w : projection", name="Syn"))
    with pytest.raises(LocalityError, match="Syn"):
        parse_model(Synapse(equations="m = pre.r : postsynaptic", name="Syn"))
    parse_model(Synapse(equations="m = post.r : postsynaptic", name="Syn"))


def test_ode_errors():
    with pytest.raises(ModelError, match="only one ODE") as ei:
        lif("tau * dv/dt = -v\ndv/dt = 1")
    check(ei, "dv/dt = 1")
    with pytest.raises(ModelError, match="one variable only"):
        lif("tau * dv/dt + du/dt = -v")
    with pytest.raises(ModelError, match="left side"):
        lif("tau * dv/dt = -v\nu = dv/dt")
    with pytest.raises(ModelError, match="left side"):
        lif("v = 1 + dv/dt")
    with pytest.raises(ModelError, match="linear"):
        lif("tau * (dv/dt)**2 = -v")
    with pytest.raises(ModelError, match="ODE"):
        lif(reset="dv/dt = 1")
    with pytest.raises(ModelError, match="ODE"):
        parse_model(Synapse(pre_spike="dw/dt = 1", name="Syn"))


def test_left_side_must_be_name():
    with pytest.raises(ModelError, match="exactly the variable name"):
        rate("2*r = 1")
    with pytest.raises(ModelError, match="parameter"):
        rate("r = 1", "r = 1.0")


def test_functions_errors():
    with pytest.raises(ModelError, match="collides"):
        parse_function("exp(x) = x")
    with pytest.raises(ModelError, match="collides"):
        parse_function("Symbol(x) = x")
    with pytest.raises(EquationSyntaxError, match="functions"):
        parse_function("f x = x")
    with pytest.raises(ModelError, match="types"):
        parse_function("f(x) = x : float")


def test_condition_errors():
    m = rate("r = 1")
    with pytest.raises(UnknownNameError, match="RateN"):
        parse_condition("q > 1", m)
    with pytest.raises(ModelError, match="global operations"):
        parse_condition("mean(r) > 1", m)
    with pytest.raises(EquationSyntaxError, match="r >"):
        parse_condition("r > ", m)


def test_spike_must_be_condition():
    with pytest.raises(EquationSyntaxError, match="condition"):
        lif(spike="v + 1")


def test_refractory_bad_type():
    with pytest.raises(ModelError, match="refractory"):
        lif(refractory=[1])


def test_multiple_assignments():
    with pytest.raises(EquationSyntaxError, match="more than one"):
        rate("r = x = 1")


def test_spiking_synapse_operation():
    with pytest.raises(ModelError, match="Syn"):
        parse_model(Synapse(pre_spike="g_target += w", operation="max", name="Syn"))


def test_g_target_is_write_only():
    with pytest.raises(UnknownNameError, match="g_target"):
        parse_model(Synapse(pre_spike="g_target += w\nx = g_target", equations="x = 0", name="Syn"))
    with pytest.raises(ReservedNameError, match="g_target"):
        parse_model(Synapse(equations="g_target = w", name="Syn"))
