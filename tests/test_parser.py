"""Parser unit tests: every input form of ANNarchy's equation syntax -> ModelIR."""
import numpy as np
import sympy
import pytest

import anncompiler as ann

from anncompiler.core.attributes import Parameter, Variable
from anncompiler.core.models import Neuron, Synapse
from anncompiler.ir.model import Equation, Function, verify_model
from anncompiler.parser import parse_condition, parse_function, parse_model

S = sympy.Symbol


def rate(equations, parameters="", **kw):
    return parse_model(Neuron(parameters=parameters, equations=equations, name="Rate", **kw))


def eq_of(m, target):
    return next(e for e in m.equations if e.target == target)


def same(a, b):
    return sympy.simplify(a - b) == 0


COBA = dict(
    parameters=dict(El=-60.0, Vr=-60.0, Erev_exc=0.0, Erev_inh=-80.0, Vt=-50.0, tau=20.0,
                    tau_exc=5.0, tau_inh=10.0, I=20.0),
    equations="""
        tau * dv/dt = (El - v) + g_exc * (Erev_exc - v) + g_inh * (Erev_inh - v) + I
        tau_exc * dg_exc/dt = - g_exc
        tau_inh * dg_inh/dt = - g_inh
    """,
    spike="v > Vt", reset="v = Vr", refractory=5.0, name="COBA")


def test_coba():
    m = parse_model(Neuron(**COBA))
    verify_model(m)
    assert m.name == "COBA" and m.kind == "neuron" and m.type == "spike"
    assert m.targets == ["exc", "inh"]
    I = S("I")
    assert I in eq_of(m, "v").rhs.free_symbols and not eq_of(m, "v").rhs.has(sympy.I)
    assert list(m.attributes)[:9] == list(COBA["parameters"])
    assert all(m.attributes[p].locality == "global" for p in COBA["parameters"])
    assert m.attributes["v"].role == "variable" and m.attributes["v"].locality == "local"
    assert m.attributes["g_exc"].init == 0.0
    assert eq_of(m, "g_exc").kind == "ode"
    assert same(eq_of(m, "g_exc").rhs, -S("g_exc") / S("tau_exc"))
    assert m.spike.expr == sympy.Gt(S("v"), S("Vt"))
    assert m.reset[0].target == "v" and m.reset[0].rhs == S("Vr") and m.reset[0].kind == "assign"
    assert m.refractory == sympy.Float(5.0)


def test_coba_is_fast():
    import time
    parse_model(Neuron(**COBA))
    t0 = time.perf_counter()
    parse_model(Neuron(**COBA))
    assert time.perf_counter() - t0 < 0.05


@pytest.mark.parametrize("text", ["tau*dv/dt = A - v", "tau*dv/dt + v = A", "tau*dv/dt + v - A = 0",
                                  "dv/dt = (A-v)/tau", "tau * dv / dt = A - v"])
def test_ode_forms_same_gradient(text):
    m = rate(text + "\nr = v", "tau = 10.0\nA = 1.0")
    e = eq_of(m, "v")
    assert e.kind == "ode"
    assert same(e.rhs, (S("A") - S("v")) / S("tau"))


def test_parameter_forms():
    m = rate("r = a + b + c + d + e + f", dict(a=1.0, b=True, c=3, d=Parameter(2.0, "local"),
                                                e=Parameter(4, type=int), f="a"))
    at = m.attributes
    assert at["a"].locality == "global" and at["a"].type == "float" and at["a"].init == 1.0
    assert at["b"].type == "bool" and at["b"].init is True
    assert at["c"].type == "float" and isinstance(at["c"].init, float)
    assert at["d"].locality == "local"
    assert at["e"].type == "int" and at["e"].init == 4
    assert at["f"].init == S("a")
    assert all(at[n].role == "parameter" for n in "abcdef")


def test_parameter_string_form():
    m = rate("r = a", """
        a = 1.0              # local by default
        b = 2 : population
        c = True
        d = 3 : int
        e = -1e-3 : population, float
    """)
    at = m.attributes
    assert at["a"].locality == "local" and at["a"].init == 1.0
    assert at["b"].locality == "global"
    assert at["c"].type == "bool" and at["c"].init is True
    assert at["d"].type == "int" and at["d"].init == 3
    assert at["e"].init == -1e-3


def test_synapse_parameter_localities():
    m = parse_model(Synapse(parameters="a = 1 : projection\nb = 2 : postsynaptic\nc = 3", name="Syn"))
    assert [m.attributes[n].locality for n in "abc"] == ["global", "semiglobal", "local"]


def test_flags():
    m = rate("""
        tau * dv/dt = -v : init=-60.0, min=-90, max=vmax, implicit
        dx/dt = -x : init=tau, exponential, population
        n = n + 1 : int, init=2
        b = v > 0 : bool
        y = v : min=-vmax
        dz/dt = -z : runge-kutta4
        dq/dt = -q : exact
        r = v
    """, dict(tau=1.0, vmax=10.0))
    at = m.attributes
    assert at["v"].init == -60.0 and at["v"].min == -90 and at["v"].max == S("vmax")
    assert at["v"].method == "implicit" and eq_of(m, "v").method == "implicit"
    assert at["x"].init == S("tau") and at["x"].locality == "global" and eq_of(m, "x").method == "exponential"
    assert at["n"].type == "int" and at["n"].init == 2
    assert at["b"].type == "bool" and at["b"].init is False
    assert at["y"].min == -S("vmax")
    assert eq_of(m, "z").method == "rk4" and eq_of(m, "q").method == "event-driven"


def test_init_distribution():
    """The model IR holds a plain description of the distribution; the front end samples it."""
    from anncompiler.ir.model import RandomInit
    m = rate("r = 0 : init=Uniform(0, 1)")
    assert m.attributes["r"].init == RandomInit("Uniform", (0.0, 1.0))
    net = ann.Network(seed=1)
    pop = net.create(50, ann.Neuron(equations="r = 0 : init=Uniform(2, 3)"))
    assert pop.r.shape == (50,) and 2.0 <= pop.r.min() and pop.r.max() <= 3.0 and np.ptp(pop.r) > 0
    with pytest.raises(ann.FlagError, match="bad distribution"):
        net.create(5, ann.Neuron(equations="r = 0 : init=Uniform(3)")).r


def test_variable_objects():
    from anncompiler.core import random
    m = rate([Variable("tau*dv/dt = -v", init=1.0, min=0.0, method="exponential"),
              Variable("r = v", init=random.Normal(0.0, 1.0)),
              "x = mean(r) : population"], dict(tau=10.0))
    assert m.attributes["v"].init == 1.0 and m.attributes["v"].min == 0.0
    assert eq_of(m, "v").method == "exponential"
    assert isinstance(m.attributes["r"].init, random.Normal)
    assert m.attributes["x"].locality == "global"
    m2 = rate(Variable("r = 1", init="a", locality="global"), dict(a=1.0))
    assert m2.attributes["r"].init == S("a") and m2.attributes["r"].locality == "global"


def test_increment_assign_and_separators():
    m = rate("x += 1; y -= x ; z *= 2\nw /= 3  # comment ; still comment\nr = x # done")
    kinds = [(e.target, e.kind, e.op) for e in m.equations]
    assert kinds == [("x", "increment", "+"), ("y", "increment", "-"), ("z", "increment", "*"),
                     ("w", "increment", "/"), ("r", "assign", None)]
    assert m.equations[0].as_assignment() == S("x") + 1


def test_attribute_order():
    m = rate("b = 1\nr = b\na = r", "p = 1\nq = 2")
    assert list(m.attributes) == ["p", "q", "b", "r", "a"]


def test_continuation_lines():
    m = rate("""
        r = a +
            b *
            2 : init = 1
    """, dict(a=1, b=2))
    assert eq_of(m, "r").rhs == S("a") + 2 * S("b") and m.attributes["r"].init == 1.0


def test_if_blocks():
    m = rate("""
        r = if x > 1: 1.0 else: 0.0
        y = if x > 1: if x > 2: 2 else: 1 else: 0
        z = if x > 1 and not (x == 3):
                1
            else:
                0 : init=1
        dx/dt = if t > 5: 1 else: 0
    """)
    x = S("x")
    assert eq_of(m, "r").rhs == sympy.Piecewise((1.0, x > 1), (0.0, True))
    assert eq_of(m, "y").rhs == sympy.Piecewise((sympy.Piecewise((2, x > 2), (1, True)), x > 1), (0, True))
    assert eq_of(m, "z").rhs == sympy.Piecewise((1, sympy.And(x > 1, sympy.Ne(x, 3))), (0, True))
    assert m.attributes["z"].init == 1.0
    assert eq_of(m, "x").rhs == sympy.Piecewise((1, S("t") > 5), (0, True))


def test_conditions_operators():
    m = rate("r = ite((x == 1) or (x is not 2), a, b) + ite(x is 3, 1, 0) + ite(x != 4, 1, 0)",
             dict(a=1.0, b=2.0, x=0.0))
    x = S("x")
    rhs = eq_of(m, "r").rhs
    conds = {arg.args[1] for p in rhs.atoms(sympy.Piecewise) for arg in [p.args[0]]}
    assert sympy.Or(sympy.Eq(x, 1), sympy.Ne(x, 2)) in conds
    assert sympy.Eq(x, 3) in conds and sympy.Ne(x, 4) in conds


def test_builtins():
    x, a, b = S("x"), S("a"), S("b")
    m = rate("""
        r = pos(x) + positive(x) + neg(x) + negative(x)
        c = clip(x, a, b)
        f = fabs(x) + abs(x)
        m = modulo(a, b)
        p = power(x, 3) + x^2 + x**2
        o = round(x) + isnan(x) + isfinite(x)
        e = exp(x) + log(x) + sqrt(x) + sin(x) + cos(x) + tan(x) + tanh(x) + asin(x) + acos(x) + atan(x)
        h = sinh(x) + cosh(x) + floor(x) + ceil(x) + ceiling(x) + pi
        q = max(a, b) + min(a, b)
        u = Uniform(0, 1) + DiscreteUniform(0, 5) + Normal(0, 1) + LogNormal(0, 1) + Exponential(1) + Gamma(1, 2) + Binomial(5, 0.5)
        bb = ite(True, 1, 0) : bool
    """, dict(x=1.0, a=0.0, b=2.0))
    r = lambda n: eq_of(m, n).rhs
    assert r("r") == 2 * sympy.Max(x, 0) + 2 * sympy.Min(x, 0)
    assert r("c") == sympy.Min(sympy.Max(x, a), b)
    assert r("f") == 2 * sympy.Abs(x)
    assert type(r("m")).__name__ == "modulo" and r("m").args == (a, b)  # C long(a) % long(b), not Mod
    assert r("p") == 3 * x ** 2 + x ** 3 - x ** 2 + x ** 2 - x**2 + x**2 - x**2 + x**2 - x**2 + x**2 - 0 \
        or r("p") == x ** 3 + 2 * x ** 2
    assert sorted(type(f).__name__ for f in r("o").args) == ["isfinite", "isnan", "round"]
    assert r("e").has(sympy.exp(x), sympy.log(x), sympy.sqrt(x), sympy.asin(x), sympy.atan(x))
    assert r("h") == sympy.sinh(x) + sympy.cosh(x) + sympy.floor(x) + 2 * sympy.ceiling(x) + sympy.pi
    assert r("q") == sympy.Max(a, b) + sympy.Min(a, b)
    names = {f.func.__name__ for f in r("u").atoms(sympy.core.function.AppliedUndef)}
    assert names == {"Uniform", "DiscreteUniform", "Normal", "LogNormal", "Exponential", "Gamma", "Binomial", "draw"}
    assert r("bb") == 1


def test_random_draws_are_numbered_once():
    """Each distinct random call of a model gets a stable id when parsed (identical calls of one
    line share one); the id travels with the call through the passes and picks its stream."""
    from anncompiler.ir.draws import draw_arguments, draw_tag, random_calls
    m = rate("""
        a = Normal(0, 1) + Normal(0, 1)
        b = Normal(0, 1) + Uniform(0, 1)
        r = a + b
    """)
    tags = [sorted(draw_tag(c)[1] for c in random_calls(eq_of(m, name).rhs)) for name in ("a", "b")]
    assert tags == [[0], [1, 2]] and m.draws == 3
    assert all(draw_arguments(c) == (0, 1) for c in random_calls(eq_of(m, "b").rhs))


def test_global_operations():
    m = rate("r = x\nx = 1\nm = mean(r) + max(r) + min(x) + norm1(r) + norm2(r) : population")
    names = {f.func.__name__ for f in eq_of(m, "m").rhs.atoms(sympy.core.function.AppliedUndef)}
    assert names == {"mean", "gmax", "gmin", "norm1", "norm2"}


def test_sympy_names_stay_symbols():
    m = rate("r = I + E + S + N + O + Q + beta + gamma + lambda + zeta", dict.fromkeys(
        ["I", "E", "S", "N", "O", "Q", "beta", "gamma", "lambda", "zeta"], 1.0))
    assert eq_of(m, "r").rhs == sum(S(n) for n in ["I", "E", "S", "N", "O", "Q", "beta", "gamma",
                                                    "lambda", "zeta"])


def test_sum_targets():
    m = rate("r = sum(exc) - sum(inh) + 0.1*sum(exc)")
    assert m.targets == ["exc", "inh"]
    assert S("sum(exc)") in eq_of(m, "r").rhs.free_symbols


def test_spiking_g_targets_and_implicit_reset():
    m = parse_model(Neuron(parameters="tau = 10.0", equations="""
        tau * dv/dt = -v + g_ampa - g_gaba + sum(ff)
        tau * dg_nmda/dt = -g_nmda
    """, spike="v > 1 + g_extra", reset="v = 0", name="Spk"))
    assert m.targets == ["ampa", "gaba", "ff", "nmda", "extra"]
    resets = [e for e in m.equations if "reset after every step" in e.source]
    assert [e.target for e in resets] == ["g_ampa", "g_gaba", "g_extra"]
    assert all(e.kind == "assign" and e.rhs == 0 for e in resets)
    assert m.equations[-3:] == resets
    assert "g_nmda" not in [e.target for e in resets]
    assert m.attributes["g_ampa"].locality == "local" and m.attributes["g_ampa"].init == 0.0
    verify_model(m)


def test_t_last_and_reset_list():
    m = parse_model(Neuron(parameters="a = 1", equations=["v = t - t_last", "dw/dt = 0"], spike="v > a",
                           reset=["v = 0", "w += 1"], name="N"))
    assert [e.kind for e in m.reset] == ["assign", "increment"]


@pytest.mark.parametrize("value,expected", [(5.0, sympy.Float(5.0)), (2, sympy.Float(2)),
                                            ("tref", S("tref")), ("3.5", sympy.Float(3.5))])
def test_refractory(value, expected):
    m = parse_model(Neuron(parameters="tref = 2.0", equations="dv/dt = -v", spike="v > 1",
                           reset="v = 0", refractory=value, name="R"))
    assert m.refractory == expected


def test_constants_visible():
    m = parse_model(Neuron(parameters="x = k", equations="r = k * x : init=k0", name="C"),
                    constants=["k", "k0"])
    assert eq_of(m, "r").rhs == S("k") * S("x")
    assert m.attributes["r"].init == S("k0") and m.attributes["x"].init == S("k")


def test_user_functions_inlined():
    g = parse_function("sq(x) = x*x")
    m = parse_model(Neuron(equations="r = sigm(v, 2.0) + sq(v)\nv = 1",
                           functions="sigm(x, k) = 1/(1 + exp(-k*x))\ntwice(x) = 2*sigm(x, 1)",
                           name="F"), global_functions={"sq": g})
    v = S("v")
    assert eq_of(m, "r").rhs == 1 / (1 + sympy.exp(-2.0 * v)) + v ** 2
    assert set(m.functions) == {"sigm", "twice"}
    assert m.functions["twice"].body == 2 / (1 + sympy.exp(-S("x")))


def test_parse_function():
    f = parse_function("f(x, y) = x + y : float, float, float")
    assert f == Function("f", ("x", "y"), S("x") + S("y"), ("float", "float", "float"), f.source)
    g = parse_function("h(x) = if x > 0: x else: 0")
    assert g.body == sympy.Piecewise((S("x"), S("x") > 0), (0, True))


def test_parse_condition():
    m = rate("r = 1")
    c = parse_condition("r > 1.0 : all", m)
    assert c.expr == sympy.Gt(S("r"), 1.0) and c.mode == "all"
    c = parse_condition("(r > 1) and (t > k)", m, constants=["k"])
    assert c.mode == "any" and isinstance(c.expr, sympy.And)


def test_rate_synapse_defaults():
    m = parse_model(Synapse(parameters="eta = 0.1", equations="dw/dt = eta * pre.r * post.r", name="Hebb"))
    assert m.type == "rate" and m.kind == "synapse"
    assert m.psp == S("w") * S("pre.r")
    assert m.attributes["w"].role == "variable"
    verify_model(m)
    m = parse_model(Synapse(parameters="a = 1", equations="x = pre.sum(exc) + post.x", psp="w * x"))
    assert m.attributes["w"].role == "parameter" and m.attributes["w"].locality == "local"
    assert list(m.attributes) == ["a", "w", "x"]
    assert m.psp == S("w") * S("x")
    assert S("pre.sum(exc)") in eq_of(m, "x").rhs.free_symbols
    assert m.operation == "sum"


def test_spiking_synapse():
    m = parse_model(Synapse(parameters="tau_plus = 20.0\ntau_minus = 20.0\nA = 0.01\nwmax = 1.0",
                            equations="""
        tau_plus * dx/dt = -x : event-driven
        tau_minus * dy/dt = -y : event-driven
    """, pre_spike="""
        g_target += w
        x += A
        w = clip(w - y, 0.0, wmax)
    """, post_spike="""
        y += A
        w = clip(w + x, 0.0, wmax)
        post.z += 1
    """, name="STDP"))
    assert m.type == "spike"
    assert [(e.target, e.kind) for e in m.pre_spike] == [("g_target", "increment"), ("x", "increment"),
                                                          ("w", "assign")]
    assert m.post_spike[2].target == "post.z"
    assert eq_of(m, "x").method == "event-driven"
    verify_model(m)
    m = parse_model(Synapse(pre_spike="", name="Plain"))
    assert m.pre_spike == [Equation("g_target", "increment", S("w"), op="+", source=m.pre_spike[0].source)]
    assert m.psp is None
    m = parse_model(Synapse(pre_spike="x = t_pre - t_post", equations="x = 0"))
    assert m.pre_spike[0].target == "g_target"


def test_d_named_parameter_not_a_gradient():
    m = rate("r = d_max/dt", "d_max = 1")
    assert eq_of(m, "r").kind == "assign"


def test_reset_may_write_conductance():
    m = parse_model(Neuron(equations="dv/dt = -v", spike="v > 1", reset="v = 0\ng_adapt += 1", name="A"))
    assert "g_adapt" in m.attributes and "adapt" in m.targets
    verify_model(m)


def test_dt_over_dt_is_not_a_gradient():
    m = rate("r = 1 + dt/dt")
    assert eq_of(m, "r").kind == "assign"


def test_rate_synapse_operation():
    m = parse_model(Synapse(psp="w * pre.r", operation="max", name="Max"))
    assert m.operation == "max"
