"""Numerical methods (docs/semantics.md, "Neuron updates"): each method's discrete update, convergence
orders, non-linear ODE errors, the default method, and the ordering rules."""
import numpy as np
import pytest
import sympy

import anncompiler as ann
from anncompiler.errors import ModelError, NonLinearODEError
from anncompiler.ir.model import Attribute, Equation, ModelIR
from anncompiler.passes.discretise import discretise_model

METHODS = ["explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4", "event-driven"]
DT = 0.1
STEPS = 20
TAU, E, V0 = 10.0, 2.0, 0.5
A, B, C, D = 0.3, 0.2, 0.5, 0.4  # dx/dt = -a*x + b*y ; dy/dt = -c*y + d*x
X0, Y0 = 1.0, -0.5


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


# expected discrete sequences (numpy) ------------------------------------------

def _leaky_step(method, v):
    """One step of tau*dv/dt = E - v."""
    f = lambda u: (E - u) / TAU  # noqa: E731
    if method == "explicit":
        return v + DT * f(v)
    if method in ("implicit", "semiimplicit"):
        return v + DT / (DT + TAU) * (E - v)
    if method == "exponential":
        return v + (1 - np.exp(-DT / TAU)) * (E - v)
    if method == "event-driven":
        return E + (v - E) * np.exp(-DT / TAU)
    return _rk(method, lambda s: np.array([f(s[0])]), np.array([v]))[0]


def _rk(method, f, s):
    k1 = DT * f(s)
    if method == "midpoint":
        return s + DT * f(s + k1 / 2)
    k2 = DT * f(s + k1 / 2)
    k3 = DT * f(s + k2 / 2)
    k4 = DT * f(s + k3)
    return s + (k1 + 2 * k2 + 2 * k3 + k4) / 6


def _coupled_step(method, s):
    x, y = s
    m = np.array([[-A, B], [D, -C]])
    if method == "explicit":
        return s + DT * m @ s
    if method == "implicit":
        return np.linalg.solve(np.eye(2) - DT * m, s)
    # per-equation linear methods: x with tau=1/a, steady b*y/a (y old), and y alike
    taus = np.array([1 / A, 1 / C])
    steady = np.array([B * y / A, D * x / C])
    if method == "semiimplicit":
        return s + DT / (DT + taus) * (steady - s)
    if method == "exponential":
        return s + (1 - np.exp(-DT / taus)) * (steady - s)
    if method == "event-driven":
        return steady + (s - steady) * np.exp(-DT / taus)
    return _rk(method, lambda u: m @ u, s)


def _sequence(step, s0, n=STEPS):
    out, s = [], s0
    for _ in range(n):
        s = step(s)
        out.append(s)
    return np.array(out)


# the simulated sequences --------------------------------------------------------

def _simulate(method, backend):
    net = ann.Network(dt=DT, seed=1)
    leaky = ann.Neuron(parameters=dict(tau=TAU, E=E),
                       equations=[f"tau*dv/dt = E - v : init={V0}, {method}", "r = v"], name="Leaky")
    coupled = ann.Neuron(parameters=dict(a=A, b=B, c=C, d=D),
                         equations=[f"dx/dt = -a*x + b*y : init={X0}, {method}",
                                    f"dy/dt = -c*y + d*x : init={Y0}, {method}", "r = x"], name="Coupled")
    p1, p2 = net.create(2, leaky), net.create(1, coupled)
    m1, m2 = net.monitor(p1, "v"), net.monitor(p2, ["x", "y"])
    net.compile(backend=backend)
    net.simulate(STEPS * DT)
    return m1.get("v")[:, 0], np.stack([m2.get("x")[:, 0], m2.get("y")[:, 0]], axis=1)


@pytest.mark.parametrize("method", METHODS)
def test_method_discrete_update(method, backend):
    v, xy = _simulate(method, backend)
    _close(v, _sequence(lambda u: _leaky_step(method, u), V0))
    _close(xy, _sequence(lambda s: _coupled_step(method, s), np.array([X0, Y0])))


def test_exact_is_event_driven_and_runge_kutta4_is_rk4(backend):
    net = ann.Network(dt=DT, seed=1)
    n = ann.Neuron(parameters=dict(tau=TAU, E=E),
                   equations=[f"tau*dv/dt = E - v : init={V0}, exact",
                              f"tau*dw/dt = E - w : init={V0}, runge-kutta4", "r = v"], name="Alias")
    p = net.create(1, n)
    m = net.monitor(p, ["v", "w"])
    net.compile(backend=backend)
    net.simulate(STEPS * DT)
    _close(m.get("v")[:, 0], _sequence(lambda u: _leaky_step("event-driven", u), V0))
    _close(m.get("w")[:, 0], _sequence(lambda u: _leaky_step("rk4", u), V0))


def test_linear_methods_symbolic_form():
    """exponential keeps ANNarchy's increment; event-driven is the closed form."""
    v, tau, e, dt = sympy.symbols("v tau E dt")
    for method, want in [("exponential", v + (1 - sympy.exp(-dt / tau)) * (e - v)),
                         ("event-driven", e + (v - e) * sympy.exp(-dt / tau)),
                         ("semiimplicit", v + dt / (dt + tau) * (e - v)),
                         ("implicit", v + dt / (dt + tau) * (e - v))]:
        m = _model([Equation("v", "ode", (e - v) / tau, method=method, source="tau*dv/dt = E - v")],
                   params=("tau", "E"))
        discretise_model(m)
        temps = {sympy.Symbol(u.target): u.value for u in m.updates if u.kind == "let"}
        final = [u for u in m.updates if u.kind == "set" and u.target == "v"][-1].value
        got = final.xreplace(temps)
        assert sympy.simplify(got - want) == 0, (method, got)


# convergence order ----------------------------------------------------------------

def _final_error(method, dt, backend="llvm"):
    net = ann.Network(dt=dt, seed=1)
    n = ann.Neuron(equations=[f"dx/dt = -x^2 : init=1.0, {method}", "r = x"], name="Quad")
    p = net.create(1, n)
    net.compile(backend=backend)
    net.simulate(2.0)
    return abs(float(p.x[0]) - 1.0 / 3.0)


@pytest.mark.parametrize("method,order", [("explicit", 1), ("midpoint", 2), ("rk4", 4)])
def test_convergence_order(method, order):
    dts = np.array([0.1, 0.05, 0.025])
    errors = np.array([_final_error(method, dt) for dt in dts])
    fitted = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert abs(fitted - order) < 0.3, (method, fitted, errors)


# non-linear ODEs ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["implicit", "exponential", "semiimplicit", "event-driven"])
def test_nonlinear_ode_raises(method):
    net = ann.Network(dt=DT)
    n = ann.Neuron(equations=[f"dx/dt = -x^2 : {method}", "r = x"], name="NonLin")
    net.create(1, n)
    with pytest.raises(NonLinearODEError) as info:
        net.compile()
    text = str(info.value)
    assert "NonLin" in text and "dx/dt = -x^2" in text
    assert info.value.model == "NonLin"


def test_nonlinear_coupled_implicit_names_the_equation():
    net = ann.Network(dt=DT)
    n = ann.Neuron(equations=["dx/dt = -y : implicit", "dy/dt = x*y : implicit", "r = x"], name="NonLinBlock")
    net.create(1, n)
    with pytest.raises(NonLinearODEError) as info:
        net.compile()
    assert "NonLinBlock" in str(info.value) and "dy/dt = x*y" in str(info.value)


def test_linear_methods_accept_tau_depending_on_other_variables(backend):
    """A conductance-based ODE is linear in v: tau and A may depend on g."""
    net = ann.Network(dt=DT, seed=1)
    n = ann.Neuron(parameters=dict(tau=TAU, Ee=3.0),
                   equations=["dg/dt = -g/5 : init=1.0",
                              "tau*dv/dt = -v + g*(Ee - v) : init=0.0, implicit", "r = v"], name="Cond")
    p = net.create(1, n)
    m = net.monitor(p, ["g", "v"])
    net.compile(backend=backend)
    net.simulate(5 * DT)
    # g and v are one block: v's implicit solve sees g's *old* value (mixed methods, old values)
    g, v, want = 1.0, 0.0, []
    for _ in range(5):
        v = (v + DT * g * 3.0 / TAU) / (1 + DT * (1 + g) / TAU)
        g = g + DT * (-g / 5)
        want.append(v)
    _close(m.get("v")[:, 0], want)


# mixed methods inside one block -----------------------------------------------

def test_mixed_methods_in_a_block_use_old_values(backend):
    net = ann.Network(dt=DT, seed=1)
    n = ann.Neuron(parameters=dict(a=A, b=B, c=C, d=D),
                   equations=[f"dx/dt = -a*x + b*y : init={X0}, implicit",
                              f"dy/dt = -c*y + d*x : init={Y0}, exponential", "r = x"], name="Mixed")
    p = net.create(1, n)
    m = net.monitor(p, ["x", "y"])
    net.compile(backend=backend)
    net.simulate(STEPS * DT)

    def step(s):
        x, y = s
        return np.array([(x + DT * B * y) / (1 + DT * A),
                         y + (1 - np.exp(-DT * C)) * (D * x / C - y)])
    _close(np.stack([m.get("x")[:, 0], m.get("y")[:, 0]], axis=1), _sequence(step, np.array([X0, Y0])))


def test_rk4_cannot_mix_with_another_method_in_a_block():
    net = ann.Network(dt=DT)
    n = ann.Neuron(equations=["dx/dt = -y : rk4", "dy/dt = x : explicit", "r = x"], name="Mix")
    net.create(1, n)
    with pytest.raises(ModelError):
        net.compile()


def test_three_variable_implicit_block(backend):
    m = np.array([[-0.3, 0.2, 0.1], [0.4, -0.5, 0.0], [0.05, 0.1, -0.2]])
    net = ann.Network(dt=DT, seed=1)
    eqs = []
    names = "xyz"
    for i, name in enumerate(names):
        rhs = " + ".join(f"({m[i, j]})*{names[j]}" for j in range(3))
        eqs.append(f"d{name}/dt = {rhs} : init={i + 1.0}, implicit")
    n = ann.Neuron(equations=eqs + ["r = x"], name="Three")
    p = net.create(1, n)
    mon = net.monitor(p, list(names))
    net.compile(backend=backend)
    net.simulate(STEPS * DT)
    got = np.stack([mon.get(k)[:, 0] for k in names], axis=1)
    _close(got, _sequence(lambda s: np.linalg.solve(np.eye(3) - DT * m, s), np.array([1.0, 2.0, 3.0])))


# default method -----------------------------------------------------------------

def _rk4_quad(dt, n):
    return _sequence(lambda s: _rk4_scalar(lambda u: -u * u, s, dt), 1.0, n)


def _rk4_scalar(f, s, dt):
    k1 = dt * f(s)
    k2 = dt * f(s + k1 / 2)
    k3 = dt * f(s + k2 / 2)
    k4 = dt * f(s + k3)
    return s + (k1 + 2 * k2 + 2 * k3 + k4) / 6


def test_config_method_sets_default_and_flags_override(backend):
    net = ann.Network(dt=DT, seed=1)
    net.config(method="rk4")
    n = ann.Neuron(equations=["dx/dt = -x^2 : init=1.0", "dy/dt = -y^2 : init=1.0, explicit", "r = x"],
                   name="Quad2")
    p = net.create(1, n)
    mon = net.monitor(p, ["x", "y"])
    net.compile(backend=backend)
    net.simulate(10 * DT)
    _close(mon.get("x")[:, 0], _rk4_quad(DT, 10))
    _close(mon.get("y")[:, 0], _sequence(lambda u: u - DT * u * u, 1.0, 10))


# ordering rules ------------------------------------------------------------------

def _run_one(neuron, names, steps, backend, **params):
    net = ann.Network(dt=DT, seed=1)
    p = net.create(1, neuron)
    mon = net.monitor(p, names)
    net.compile(backend=backend)
    net.simulate(steps * DT)
    return {k: mon.get(k)[:, 0] for k in names}


def test_block_integrates_from_old_values(backend):
    n = ann.Neuron(equations=["dx/dt = y : init=1.0", "dy/dt = -x : init=0.0", "r = x"], name="Rot")
    got = _run_one(n, ["x", "y"], 3, backend)
    want = _sequence(lambda s: np.array([s[0] + DT * s[1], s[1] - DT * s[0]]), np.array([1.0, 0.0]), 3)
    _close(np.stack([got["x"], got["y"]], axis=1), want)


def test_assignments_are_sequential_and_split_blocks(backend):
    n = ann.Neuron(equations=["dx/dt = 1.0 : init=0.0",
                              "a = x",            # sees the new x
                              "b = 2*a",          # sees the new a
                              "dy/dt = x : init=0.0",  # next block: sees the new x
                              "r = y"], name="Seq")
    got = _run_one(n, ["x", "a", "b", "y"], 3, backend)
    x = DT * np.arange(1, 4)
    _close(got["x"], x)
    _close(got["a"], x)
    _close(got["b"], 2 * x)
    _close(got["y"], np.cumsum(DT * x))


def test_bounds_apply_after_each_block(backend):
    n = ann.Neuron(equations=["dx/dt = 100.0 : init=0.0, max=1.0",
                              "dw/dt = x : init=0.0",      # same block: old (unbounded) x
                              "a = x",                     # after the block: bounded x
                              "c = 5*x : max=2.0",
                              "e = c",                     # sees the bounded c
                              "dy/dt = x : init=0.0",      # next block: bounded x
                              "r = y"], name="Bounds")
    got = _run_one(n, ["x", "w", "a", "e", "y"], 2, backend)
    _close(got["x"], [1.0, 1.0])
    _close(got["w"], [0.0, DT * 1.0])
    _close(got["a"], [1.0, 1.0])
    _close(got["e"], [2.0, 2.0])
    _close(got["y"], [DT, 2 * DT])


def test_globals_are_updated_before_locals(backend):
    n = ann.Neuron(equations=["r = g",                           # local, declared first
                              "dg/dt = 1.0 : population, init=0.0"], name="Glob")
    net = ann.Network(dt=DT, seed=1)
    p = net.create(2, n)
    mon = net.monitor(p, "r")
    net.compile(backend=backend)
    net.simulate(3 * DT)
    _close(mon.get("r")[:, 0], DT * np.arange(1, 4))


# helpers --------------------------------------------------------------------------

def _model(equations, params=()):
    attrs = {name: Attribute(name, role="parameter") for name in params}
    for e in equations:
        attrs[e.target] = Attribute(e.target)
    return ModelIR(name="M", kind="neuron", type="rate", attributes=attrs, equations=equations)


def test_spiking_coupled_implicit_block_backends_agree():
    """v (masked while refractory) and g_exc (never masked) solved jointly."""
    def run(backend):
        net = ann.Network(dt=DT, seed=3)
        n = ann.Neuron(parameters=dict(tau=10.0, El=-65.0, Vt=-60.0, Vr=-70.0, I=15.0),
                       equations=["tau*dv/dt = El - v + I + g_exc : init=-65.0, implicit",
                                  "5.0*dg_exc/dt = -g_exc + 0.1*(v - El) : init=1.0, implicit"],
                       spike="v > Vt", reset="v = Vr", refractory=1.0, name="ImpLIF")
        p = net.create(3, n)
        mon = net.monitor(p, ["v", "g_exc"])
        net.compile(backend=backend)
        net.simulate(10.0)
        return mon.get("v"), mon.get("g_exc")
    (v1, g1), (v2, g2) = run("llvm"), run("reference")
    _close(v1, v2)
    _close(g1, g2)
    assert np.ptp(v1) > 1.0  # it spiked and reset
