"""``: bool`` variables in arithmetic, nested if-blocks, and comparisons sympy rewrites for ever.

A comparison of the same term with float coefficients of opposite signs on both sides
(``(r) / ((0.5) - 0.7071) < (r) / (1 + fabs(0.5))`` is ``-4.83*r < 0.667*r``) has no canonical
form in sympy: building the ``Piecewise`` of an if-block or ``ite`` with it recursed without end,
and the model was refused.  Such models now compile, and every backend computes the comparison
as written; a bool counts as 0 or 1 in arithmetic (C).  Checked against numpy re-implementations
of the discrete update, on the reference backend and on llvm with one and two threads.
"""
import numpy as np
import pytest
import sympy

import anncompiler as ann
from anncompiler.ir.stable_relations import as_is, is_cyclic, piecewise, stable_condition

RUNS = [("reference", 1), ("llvm", 1), ("llvm", 2)]
R0 = np.array([-1.5, -0.25, 0.3, 0.8, 1.7, 3.0])
STEPS = 4


def run(equations, backend, threads, dt=0.5, functions=None, r0=R0, steps=STEPS):
    net = ann.Network(dt=dt, seed=1)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters=dict(a=0.7), equations=equations, functions=functions)
    pop = net.create(len(r0), neuron)
    pop.r = r0
    net.compile(backend=backend)
    out = []
    for _ in range(steps):
        net.simulate(dt)
        out.append(np.array(pop.r))
    return np.array(out), pop


def expected(step, r0=R0, steps=STEPS):
    r, out = np.array(r0, dtype=np.float64), []
    for _ in range(steps):
        r = step(r)
        out.append(r.copy())
    return np.array(out)


# ------------------------------------------------------------------- the minimal failing models

#: the generator's shape: a nested if-block whose first condition sympy rewrote for ever
NESTED = """
q = r > 0.5 : bool
r = if (r) / ((0.5) - 0.7071) < (r) / (1 + fabs(0.5)): q + 1 else: if r > 1: q * r else: power(q, 2) - r
"""


def nested_step(r):
    q = (r > 0.5).astype(float)
    return np.where(r / (0.5 - 0.7071) < r / 1.5, q + 1, np.where(r > 1, q * r, q ** 2 - r))


#: the bool inside the cyclic comparison itself, and in an ODE (explicit and midpoint)
ODE = """
q = r > 0.5 : bool
dr/dt = if (q + r) * -2.5 < (q + r) * 0.5: q - r else: if r > 1: q * r else: power(q, 2) : {method}
"""


def ode_f(r, q):
    return np.where((q + r) * -2.5 < (q + r) * 0.5, q - r, np.where(r > 1, q * r, q ** 2))


def ode_step(method, dt):
    def step(r):
        q = (r > 0.5).astype(float)
        if method == "explicit":
            return r + dt * ode_f(r, q)
        k = dt * ode_f(r, q)
        return r + dt * ode_f(r + k / 2, q)
    return step


@pytest.mark.parametrize("backend,threads", RUNS)
def test_nested_if_block_with_a_cyclic_condition(backend, threads):
    got, pop = run(NESTED, backend, threads)
    assert np.array_equal(got, expected(nested_step))
    assert pop.q.dtype == bool and np.array_equal(pop.q, got[-2] > 0.5)


@pytest.mark.parametrize("method", ["explicit", "midpoint"])
@pytest.mark.parametrize("backend,threads", RUNS)
def test_bool_in_a_cyclic_condition_of_an_ode(backend, threads, method):
    got, _ = run(ODE.format(method=method), backend, threads)
    assert np.allclose(got, expected(ode_step(method, 0.5)), rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend,threads", RUNS)
def test_cyclic_equalities_and_ite(backend, threads):
    eqs = "r = ite(-4.8*r == 0.66*r, 10, 0) + ite(-4.8*r != 0.66*r, 1, 0) + ite(-4.8*r <= 0.66*r, 100, 0)"
    r0 = np.array([-2.0, 0.0, 3.0])
    got, _ = run(eqs, backend, threads, r0=r0, steps=1)
    assert np.array_equal(got[0], [1.0, 110.0, 101.0])


@pytest.mark.parametrize("backend,threads", RUNS)
def test_function_whose_comparison_becomes_cyclic_when_inlined(backend, threads):
    """``f(x, y)`` is fine; ``f(r, r)`` puts the same term on both sides."""
    got, _ = run("r = f(r, r) + 2 * f(r, a)", backend, threads, r0=np.array([-1.0, 0.0, 1.0]), steps=1,
                 functions="f(x, y) = ite(-4.8*x < 0.66*y, 1, 0) + ite(-2.5*x == 0.5*y, 10, 0)")
    # r=-1: nothing holds; r=0: -0 < 0 no, 0 < 0.462 yes, -0 == 0 yes; r=1: both comparisons hold
    assert np.array_equal(got[0], [0.0, 2.0 + 10.0, 3.0])


def test_function_with_a_cyclic_comparison_called_from_python():
    net = ann.Network(dt=1.0)
    pop = net.create(2, ann.Neuron(equations="r = f(r)", functions="f(x) = ite(-4.8*x < 0.66*x, 1, 0) "
                                   "+ ite(-4.8*x == 0.66*x, 10, 0)"))
    net.compile(backend="reference")
    assert np.array_equal(pop.f(np.array([-1.0, 0.0, 2.0])), [0.0, 10.0, 1.0])


# ----------------------------------------------------------------------- bool arithmetic (0 / 1)

BOOL_ARITHMETIC = """
q = r > 0.5 : bool
s = q + 1
u = q * r + power(q, 2) - (q)^3
v = if q: 2 * q else: ite(not (q), 3 + q, -1)
w = if q == 1: 5 else: if q > 0: -5 else: q - 0.5
r = r + 0.25 * q - 0.1 * (1 - q)
r += q
"""


@pytest.mark.parametrize("backend,threads", RUNS)
def test_bool_counts_as_zero_or_one(backend, threads):
    got, pop = run(BOOL_ARITHMETIC, backend, threads, steps=1)
    q = (R0 > 0.5).astype(float)
    assert np.array_equal(pop.s, q + 1)
    assert np.allclose(pop.u, q * R0 + q ** 2 - q ** 3, rtol=1e-15, atol=0)  # terms in sympy's order
    assert np.array_equal(pop.v, np.where(q == 1, 2 * q, 3 + q))
    assert np.array_equal(pop.w, np.where(q == 1, 5.0, q - 0.5))
    assert np.allclose(got[0], R0 + 0.25 * q - 0.1 * (1 - q) + q, rtol=1e-14, atol=0)  # sympy expands


# ----------------------------------------------------------------------------------- deep nesting

def _else_chain(depth):
    """``if r < 0: 0 else: if r < 1: 1 else: ... else: -1``: the first k with r < k."""
    return "r = " + "".join(f"if r < {k}: {k} + q else: " for k in range(depth)) + "-1"


def _then_chain(depth):
    """``if r < depth: if r < depth-1: ... q * r else: ... else: 0``."""
    return "r = " + "".join(f"if r < {depth - k}: " for k in range(depth)) + "q * r" \
        + "".join(f" else: {k} - q" for k in range(depth))


@pytest.mark.parametrize("depth", [30, 300])
@pytest.mark.parametrize("backend,threads", RUNS)
def test_deeply_nested_if_blocks(backend, threads, depth):
    r0 = np.array([-3.0, 0.5, 10.5, 29.5, 1000.0])
    q = (r0 > 0).astype(float)
    got, _ = run("q = r > 0 : bool\n" + _else_chain(depth), backend, threads, r0=r0, steps=1)
    first = np.array([next((k for k in range(depth) if x < k), None) for x in r0], dtype=float)
    assert np.array_equal(got[0], np.where(np.isnan(first), -1.0, first + q))
    got, _ = run("q = r > 0 : bool\n" + _then_chain(depth), backend, threads, r0=r0, steps=1)
    # the innermost failing test is r < k for the smallest k >= 1 with r >= k: its else gives k - 1 - q
    fails = np.array([max((k for k in range(1, depth + 1) if x >= k), default=0) for x in r0])
    assert np.array_equal(got[0], np.where(fails == 0, q * r0, fails - 1 - q))


def test_deep_nesting_of_cyclic_conditions_compiles():
    text = "r = " + "".join(f"if -{k + 1.5}*r < 0.5*r: {k} else: " for k in range(30)) + "-1"
    got, _ = run(text, "llvm", 1, r0=np.array([-1.0, 2.0]), steps=1)
    assert np.array_equal(got[0], [-1.0, 0.0])


# ------------------------------------------------------------------------------ the sympy helper

def test_only_cyclic_comparisons_change():
    a, b = sympy.symbols("a b")
    cyclic = sympy.Float(-4.8) * a < sympy.Float(0.66) * a
    assert is_cyclic(cyclic)
    fine = [a < b, sympy.Float(-4.8) * a < sympy.Float(0.66) * b, -2 * a < 3 * a, sympy.Eq(a, 1),
            sympy.Float(1.5) * a < sympy.Float(2.5) * a]
    for c in fine:
        assert not is_cyclic(c)
        assert stable_condition(c) is c
    cond = stable_condition(sympy.Or(cyclic, a < b))
    assert cond.has(as_is) and not any(is_cyclic(r) for r in cond.atoms(sympy.core.relational.Relational))
    pw = piecewise((a, cyclic), (b, True))
    assert isinstance(pw, sympy.Piecewise) and pw.xreplace({b: a + 1}).has(as_is)
    assert as_is(sympy.Float(2.5)) == sympy.Float(2.5)   # numbers: nothing to protect


def test_the_invalid_if_block_inside_arithmetic_is_a_model_error():
    """The block form must be the whole right side; inside an expression it is a syntax error."""
    net = ann.Network(dt=1.0)
    net.create(2, ann.Neuron(equations="q = r > 0 : bool\nr = (if q: 1 else: 2) * 0.5"))
    with pytest.raises(ann.EquationSyntaxError):
        net.compile(backend="reference")
