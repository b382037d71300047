"""Built-in functions, user functions (model and global) and constants, on both backends against numpy."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.core.network import _GLOBAL_CONSTANTS, _GLOBAL_FUNCTIONS

BACKENDS = ["llvm", "reference"]

X = np.array([-3.5, -2.5, -1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 1.5, 2.5, 7.0, np.inf, -np.inf, np.nan])
Y = np.array([2.0, -1.5, 0.5, 3.0, 1.0, -2.0, 0.0, 4.0, -0.5, 2.0, -7.0, 1.0, 2.0, 1.0])


@pytest.fixture
def clean_globals():
    funcs, consts = dict(_GLOBAL_FUNCTIONS), dict(_GLOBAL_CONSTANTS)
    yield
    _GLOBAL_FUNCTIONS.clear()
    _GLOBAL_FUNCTIONS.update(funcs)
    _GLOBAL_CONSTANTS.clear()
    _GLOBAL_CONSTANTS.update(consts)


def evaluate(backend, equations, functions=None, net=None, x=X, y=Y, steps=1):
    net = net or ann.Network(dt=1.0, seed=0)
    pop = net.create(len(x), ann.Neuron(
        parameters=dict(x=ann.Parameter(0.0, locality="local"), y=ann.Parameter(0.0, locality="local")),
        equations=equations, functions=functions))
    pop.x, pop.y = x, y
    net.compile(backend=backend)
    net.simulate(steps)
    return net, pop


def c_round(x):
    r = np.trunc(x)
    return r + np.where(np.abs(x - r) >= 0.5, np.sign(x), 0.0)


BUILTINS = {
    "pos(x)": lambda x, y: np.where(x > 0, x, 0.0),
    "positive(x)": lambda x, y: np.where(x > 0, x, 0.0),
    "neg(x)": lambda x, y: np.where(x < 0, x, 0.0),
    "negative(x)": lambda x, y: np.where(x < 0, x, 0.0),
    "clip(x, -1, 2)": lambda x, y: np.where(x > -1, np.where(x < 2, x, 2.0), -1.0),
    "power(x, 3)": lambda x, y: x ** 3,
    "power(x, 2)": lambda x, y: x * x,
    "x^y": lambda x, y: np.power(x, y),
    "round(x)": lambda x, y: c_round(x),
    "fabs(x)": lambda x, y: np.abs(x),
    "abs(y - x)": lambda x, y: np.abs(y - x),
    "ite(x > y, x, y)": lambda x, y: np.where(x > y, x, y),
    "ite(isnan(x), -1, x)": lambda x, y: np.where(np.isnan(x), -1.0, x),
    "ite(isfinite(x), 1, 0)": lambda x, y: np.isfinite(x).astype(float),
    "exp(-x*x) + tanh(x)": lambda x, y: np.exp(-x * x) + np.tanh(x),
    "floor(x) + ceil(y)": lambda x, y: np.floor(x) + np.ceil(y),
    "max(x, y) - min(x, y)": lambda x, y: np.where(x > y, x, y) - np.where(x < y, x, y),
    "x / y": lambda x, y: x / y,
    "x % y": lambda x, y: np.fmod(x, y),
    "if x > 0: if y > 0: 1 else: 2 else: if y > 0: 3 else: 4":
        lambda x, y: np.where(x > 0, np.where(y > 0, 1.0, 2.0), np.where(y > 0, 3.0, 4.0)),
    "if (x > 0) and not (y > 0): x else: y": lambda x, y: np.where((x > 0) & ~(y > 0), x, y),
    "if (x == y) or (x > 5): 1 else: 0": lambda x, y: ((x == y) | (x > 5)).astype(float),
    "if isnan(x) or not isfinite(y): 1 else: 0": lambda x, y: (np.isnan(x) | ~np.isfinite(y)).astype(float),
    "if x is y: 1 else: if x is not 0: 2 else: 3": lambda x, y: np.where(x == y, 1.0, np.where(x != 0, 2.0, 3.0)),
    "if True: x else: y": lambda x, y: x,
    "if False: x else: y": lambda x, y: y,
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("expr", list(BUILTINS))
def test_builtin_against_numpy(backend, expr):
    _, pop = evaluate(backend, f"r = {expr}")
    with np.errstate(all="ignore"):
        expected = BUILTINS[expr](X, Y)
    np.testing.assert_array_equal(pop.r, expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_modulo_against_c(backend):
    _, pop = evaluate(backend, "r = modulo(x, y)")
    with np.errstate(all="ignore"):
        ix = np.where(np.isfinite(X), np.trunc(X), np.where(np.isnan(X), 0, np.sign(X) * 2.0 ** 63))
        iy = np.trunc(Y)
        expected = np.where(iy == 0, np.nan, np.fmod(ix, np.where(iy == 0, 1, iy)))
    finite = np.isfinite(X)
    np.testing.assert_array_equal(pop.r[finite], expected[finite])


# ---------------------------------------------------------------------------- user functions

@pytest.mark.parametrize("backend", BACKENDS)
def test_model_function_in_equations_and_callable(backend):
    net, pop = evaluate(backend, "r = f(x, y) + g(x)", functions="""
        f(x, y) = x*y + 1
        g(a) = if a > 0: a else: -a
    """, x=np.array([1.0, -2.0, 3.0]), y=np.array([2.0, 0.5, -1.0]))
    np.testing.assert_array_equal(pop.r, [4.0, 2.0, 1.0])
    np.testing.assert_array_equal(pop.f(np.array([1.0, 2.0]), np.array([3.0, 4.0])), [4.0, 9.0])
    np.testing.assert_array_equal(pop.g(np.array([-1.5, 2.0])), [1.5, 2.0])
    view = pop[1:3]
    np.testing.assert_array_equal(view.f(np.array([2.0]), 5.0), [11.0])
    assert pop[0].f(2.0, 2.0) == 5.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_callable_matches_compiled_semantics(backend):
    x, y = np.array([-7.5, 2.5, -0.5, np.nan, 5.0]), np.array([2.0, 0.0, 3.0, 1.0, -3.0])
    fns = """
        h(x, y) = modulo(x, y) + round(x) + pos(x) + neg(y)
        k(x) = ite(isnan(x), 0, x) % 2
    """
    _, pop = evaluate(backend, "r = h(x, y)\nz = k(x)", functions=fns, x=x, y=y)
    np.testing.assert_array_equal(pop.h(x, y), pop.r)
    np.testing.assert_array_equal(pop.k(x), pop.z)


@pytest.mark.parametrize("backend", BACKENDS)
def test_typed_function(backend):
    """``: int, int, float``: return type first; int arguments and results truncate (C)."""
    _, pop = evaluate(backend, "r = f(x, y)\nz = g(x)\nb = p(x) : bool", functions="""
        f(a, b) = a / b : int, int, float
        g(a) = a * 1.5 : float, int
        p(a) = a - 1 : bool, float
    """, x=np.array([7.9, -7.9, 1.0]), y=np.array([2.0, 2.0, 3.0]))
    np.testing.assert_array_equal(pop.r, [3.0, -3.0, 0.0])
    np.testing.assert_array_equal(pop.z, [10.5, -10.5, 1.5])
    np.testing.assert_array_equal(pop.b, [True, True, False])
    out = pop.f(np.array([7.9, -7.9]), np.array([2.0, 2.0]))
    assert out.dtype == np.int32 and out.tolist() == [3, -3]
    np.testing.assert_array_equal(pop.g(np.array([7.9])), [10.5])
    assert pop.p(np.array([1.0, 2.0])).tolist() == [False, True]


def test_function_type_count_checked():
    net = ann.Network()
    with pytest.raises(ann.ModelError):
        net.create(1, ann.Neuron(equations="r = f(1.0)", functions="f(x) = x : int, int, int"))
        net.compile()


@pytest.mark.parametrize("backend", BACKENDS)
def test_global_function(backend, clean_globals):
    ann.add_function("gsq(x) = x^2")
    ann.add_function("gmod(a, b) = modulo(a, b) : int, float, float")
    _, pop = evaluate(backend, "r = gsq(x) + gmod(x, 3)", x=np.array([2.0, -4.0, 5.5]), y=np.zeros(3))
    np.testing.assert_array_equal(pop.r, [4.0 + 2, 16.0 - 1, 30.25 + 2])
    np.testing.assert_array_equal(ann.functions("gsq")(np.array([1.0, 3.0])), [1.0, 9.0])
    assert ann.functions("gmod")(np.array([-7.0]), 3).tolist() == [-1]
    with pytest.raises(KeyError):
        ann.functions("nope")


def test_model_function_shadows_global(clean_globals):
    ann.add_function("sh(x) = x + 100")
    _, pop = evaluate("llvm", "r = sh(x)", functions="sh(x) = x + 1", x=np.array([1.0]), y=np.zeros(1))
    assert pop.r[0] == 2.0 and pop.sh(1.0) == 2.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_function_with_constant(backend, clean_globals):
    net = ann.Network(dt=1.0)
    c = net.constant("kf", 2.0)
    _, pop = evaluate(backend, "r = fk(x)", functions="fk(x) = kf * x", net=net,
                      x=np.array([1.0, 2.0]), y=np.zeros(2))
    np.testing.assert_array_equal(pop.r, [2.0, 4.0])
    np.testing.assert_array_equal(pop.fk(np.array([3.0])), [6.0])
    c.set(3.0)
    np.testing.assert_array_equal(pop.fk(np.array([3.0])), [9.0])
    net.simulate(1)
    np.testing.assert_array_equal(pop.r, [3.0, 6.0])


# ---------------------------------------------------------------------------- constants

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [ann.float64, ann.float32])
def test_constant_set_after_compile(backend, dtype, clean_globals):
    net = ann.Network(dt=1.0)
    net.config(dtype=dtype)
    c = net.constant("k_net", 2.0)
    c2 = ann.Constant("k_mod", 3.0)
    pop = net.create(2, ann.Neuron(parameters="tau = k_net : population", equations="""
        r = k_net * t + k_mod
        q = tau
    """))
    net.compile(backend=backend)
    net.simulate(1)
    np.testing.assert_array_equal(pop.r, [3.0, 3.0])     # t = 0 at the first step
    c.set(5.0)
    net.simulate(1)
    np.testing.assert_array_equal(pop.r, [8.0, 8.0])     # 5 * 1 + 3
    c2.set(-1.0)
    net.simulate(1)
    np.testing.assert_array_equal(pop.r, [9.0, 9.0])     # 5 * 2 - 1
    assert pop.q[0] == 2.0                               # a parameter initialised from a constant keeps its value
    assert net.get_constant("k_net").value == 5.0


def test_parameter_shadows_constant(clean_globals):
    net = ann.Network()
    net.constant("kk", 10.0)
    pop = net.create(1, ann.Neuron(parameters=dict(kk=1.0), equations="r = kk"))
    net.compile()
    net.simulate(1)
    assert pop.r[0] == 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_nan_through_bounds_and_pos(backend):
    """ANNarchy: ``pos(x)`` is ``x > 0 ? x : 0`` (NaN -> 0); a ``min=`` bound is
    ``if (x < min) x = min`` (NaN stays NaN)."""
    _, pop = evaluate(backend, "r = x : min=0, max=1\nz = pos(x) + neg(x)", x=np.array([np.nan, -1.0, 2.0, 0.5]),
                      y=np.zeros(4))
    np.testing.assert_array_equal(pop.r, [np.nan, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(pop.z, [0.0, -1.0, 2.0, 0.5])
