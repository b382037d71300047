"""Model fuzzing through the whole compiler (parser, passes, lowering, both backends).

1. Random *valid* rate-coded neuron models, built from a small grammar (expressions over
   parameters, variables and ``t`` with the built-ins, if-blocks, ``ite``, int and bool
   attributes; ODEs with the explicit, midpoint, rk4 and -- where the ODE is linear --
   exponential methods) compile and give the same results on the llvm and reference
   backends (rtol 1e-12, NaN and inf at the same places), in float64 and float32.
2. Random *invalid* mutations of such models raise only ``ann.ModelError`` subclasses
   (never another exception, never a crash), and the network stays usable afterwards.
"""
import numpy as np
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import anncompiler as ann

# no shrinking: compiling a model is slow enough that shrinking a failure takes minutes;
# a failure prints the model text, which is small already
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])

PARAMS = ["a", "b", "n"]            # a: global float, b: local float, n: global int
VARS = ["r", "v", "w"]
NUMBERS = ["0", "1", "2.5", "0.5", "-1.5", "3", "0.1", "10"]
METHODS = ["explicit", "midpoint", "rk4"]


def leaves(names):
    return st.sampled_from(NUMBERS + names + ["t", "dt"])


def expressions(names, max_leaves=6):
    def extend(sub):
        unary = st.tuples(st.sampled_from([
            "pos({})", "neg({})", "fabs({})", "tanh({})", "sin({})", "cos({})", "exp(-fabs({}))",
            "sqrt(fabs({}))", "round({})", "power({}, 2)", "-({})", "ite(isnan({}), 1, 0)",
            "ite(isfinite({}), 0, 1)", "log(1 + fabs({}))", "floor({})", "({})^3"]), sub) \
            .map(lambda p: p[0].format(p[1]))
        binary = st.tuples(st.sampled_from([
            "({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1 + fabs({}))", "modulo({}, 1 + fabs({}))",
            "max({}, {})", "min({}, {})", "({}) / (({}) - 0.7071)", "clip({}, -1, {})", "({}) % 2.5 + 0*({})"]),
            sub, sub).map(lambda p: p[0].format(p[1], p[2]))
        ite = st.tuples(conditions(sub), sub, sub).map(lambda p: f"ite({p[0]}, {p[1]}, {p[2]})")
        return st.one_of(unary, binary, ite)
    return st.recursive(leaves(names), extend, max_leaves=max_leaves)


def conditions(sub):
    ops = st.sampled_from(["<", ">", "<=", ">=", "==", "!="])
    simple = st.tuples(sub, ops, sub).map(lambda p: f"{p[0]} {p[1]} {p[2]}")
    # the same term scaled on both sides: sympy has no canonical form for some of these
    coefficient = st.sampled_from(["-1.5", "2.5", "0.5", "-0.1", "3", "-2"])
    scaled = st.tuples(sub, coefficient, ops, coefficient).map(lambda p: f"({p[0]}) * {p[1]} {p[2]} ({p[0]}) * {p[3]}")
    return st.one_of(
        simple,
        scaled,
        st.tuples(simple, st.sampled_from(["and", "or"]), simple).map(lambda p: f"({p[0]}) {p[1]} ({p[2]})"),
        simple.map(lambda c: f"not ({c})"),
    )


@st.composite
def models(draw):
    names = PARAMS + VARS + ["k", "q"]
    expr = expressions(names)
    lines = []
    order = draw(st.permutations(VARS))
    # consecutive ODEs form a coupled block: midpoint/rk4 cannot be mixed with another method there
    method = draw(st.sampled_from(METHODS))
    kinds = ["ode", "ode", "assign", "if"] + (["exponential"] if method == "explicit" else [])
    for x in order:
        kind = draw(st.sampled_from(kinds))
        if kind == "ode":
            lines.append(f"d{x}/dt = {draw(expr)} : {method}")
        elif kind == "exponential":  # linear first-order: tau * dx/dt = A - x, A free of x
            others = [nm for nm in names if nm != x]
            lines.append(f"b * d{x}/dt = {draw(expressions(others, 4))} - {x} : exponential")
        elif kind == "assign":
            lines.append(f"{x} = {draw(expr)}")
        else:
            c = draw(conditions(expressions(names, 3)))
            lines.append(f"{x} = if {c}: {draw(expr)} else: if {x} > 1: {draw(expr)} else: {draw(expr)}")
    lines.append(f"k = {draw(expressions(names, 3))} : int")
    lines.append(f"q = {draw(conditions(expressions(names, 3)))} : bool")
    lines = draw(st.permutations(lines))
    return dict(equations="\n".join(lines), seed=draw(st.integers(0, 2 ** 16)),
                steps=draw(st.integers(1, 6)), dt=draw(st.sampled_from([0.1, 0.5, 1.0])),
                dtype=draw(st.sampled_from(["f64", "f64", "f32"])))


def make_neuron(spec, name="Fuzz"):
    return ann.Neuron(parameters=dict(a=0.7, b=ann.Parameter(2.0, locality="local"), n=ann.Parameter(3, type=int)),
                      equations=spec["equations"], name=name)


def simulate(spec, backend):
    net = ann.Network(dt=spec["dt"], seed=1)
    net.config(dtype=ann.float32 if spec.get("dtype") == "f32" else ann.float64)
    pop = net.create(4, make_neuron(spec))
    rng = np.random.default_rng(spec["seed"])
    pop.b = rng.uniform(0.5, 5.0, 4)
    for x in VARS:
        setattr(pop, x, rng.uniform(-2.0, 2.0, 4))
    net.compile(backend=backend)
    net.simulate(spec["steps"] * spec["dt"])
    return {x: np.asarray(getattr(pop, x)) for x in VARS + ["k", "q"]}


def same(x, y):
    assert x.dtype == y.dtype
    if x.dtype.kind != "f":
        return np.array_equal(x, y)
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        return False
    ok = ~np.isnan(x)
    return np.allclose(x[ok], y[ok], rtol=1e-12, atol=0.0)


#: found by the generator: sympy rewrote ``-4.83*r < 0.667*r`` (the same term, float coefficients of
#: opposite signs) for ever while building the if-block's Piecewise, and the model was refused
CYCLIC_CONDITIONS = dict(equations="\n".join([
    "q = (r) / ((0.5) - 0.7071) < (r) / (1 + fabs(0.5)) : bool",
    "r = if (q) * (-1.5) < (q) * (2.5): q + 1 else: if r > 1: (q) * (r) else: power(q, 2)",
    "v = if (r) / ((0.5) - 0.7071) < (r) / (1 + fabs(0.5)): v else: if v > 1: q else: -(v)",
    "dw/dt = ite((w) * (-1.5) < (w) * (0.5), q, w) : explicit",
    "k = q + 1 : int"]), seed=3, steps=3, dt=0.5, dtype="f64")


@SETTINGS
@given(models())
@example(CYCLIC_CONDITIONS)
def test_valid_models_agree_on_both_backends(spec):
    with np.errstate(all="ignore"):
        a = simulate(spec, "llvm")
        b = simulate(spec, "reference")
    for name in a:
        assert same(a[name], b[name]), (name, spec["equations"], a[name], b[name])


# ---------------------------------------------------------------------------- invalid mutations

BAD_SNIPPETS = [
    "undefined_name", "foo(1)", "pos(1, 2)", "clip(1)", "modulo(1)", "sum(", ")", "((", "t =", "==",
    "dt = 3", "i", "Uniform(a)", "mean(1 + 1)", "if 1 > 0: 2", ": exponential", ": foo", "x +* 2",
    "pre.r", "9**9**9**9", "1/0", "sqrt(-1)", "log(0)", "True + 1", "ite(1, 2)", "\x00", "'str'",
    "lambda: 1", "[1, 2]", "r.x", "__import__('os')", ": init=foo", ": min=bar", "d r/dt",
]


@st.composite
def invalid_models(draw):
    spec = draw(models())
    lines = spec["equations"].split("\n")
    kind = draw(st.integers(0, 5))
    k = draw(st.integers(0, len(lines) - 1))
    bad = draw(st.sampled_from(BAD_SNIPPETS))
    if kind == 0:    # a bad snippet inside an expression
        line = lines[k]
        pos = draw(st.integers(line.index("=") + 1, len(line)))
        lines[k] = line[:pos] + " " + bad + " " + line[pos:]
    elif kind == 1:  # a bad right-hand side
        lines[k] = lines[k].split("=", 1)[0] + "= " + bad
    elif kind == 2:  # a reserved or duplicate target
        lines.append(draw(st.sampled_from(["t = 1", "dt = 2", "pos = 1", "r = 1", "dr/dt = 2", "sum = 1",
                                           "dx/dt + dy/dt = 1", "k = 1 : int, bool", "q = 1 : population",
                                           "r = 1 : unknownflag"])))
    elif kind == 3:  # exponential method on a non-linear ODE
        lines.append("dv2/dt = v2 * v2 + sin(v2) : exponential")
    elif kind == 4:  # character-level damage
        text = "\n".join(lines)
        pos = draw(st.integers(0, len(text)))
        ch = draw(st.sampled_from(list("()=:+*/^<>!,.#;") + ["\n", " if ", " else: ", " and "]))
        lines = [(text[:pos] + ch + text[pos + 1:])]
    else:            # drop r (rate-coded neurons need it) or use an unknown variable
        lines = [ln for ln in lines if not ln.startswith(("r =", "dr/dt", "b * dr/dt"))] + ["s = unknown_x"]
    return dict(spec, equations="\n".join(lines))


def _check_usable(valid_spec):
    out = simulate(valid_spec, "llvm")
    assert set(out) == set(VARS + ["k", "q"])


@SETTINGS
@given(invalid_models(), models())
def test_invalid_mutations_raise_model_errors(spec, valid):
    net = ann.Network(dt=spec["dt"], seed=1)
    good = net.create(2, make_neuron(valid, "Good"))
    errors = []
    for _ in range(2):  # a second attempt fails the same way: nothing half-done is left behind
        try:
            with np.errstate(all="ignore"):
                net.create(3, make_neuron(spec, "Bad")) if not errors and not net._populations[1:] else None
                net.compile(backend="reference")
                net.simulate(spec["dt"])
            return  # the mutation happened to be valid
        except ann.ModelError as e:
            errors.append(type(e))
            assert str(e)
    assert errors[0] == errors[1]
    assert not net.compiled
    good.r = 0.25                     # the network's populations are still usable
    assert np.all(good.r == 0.25)
    with np.errstate(all="ignore"):
        _check_usable(valid)          # and so is the compiler
