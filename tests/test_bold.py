"""BOLD monitoring (anncompiler.extensions.bold): the balloon models against a numpy Euler
integration of their equations (the discrete update of docs/semantics.md: consecutive ODEs
integrated together from the old values, an assignment seeing what was updated before it), the
input of the monitor (mean, scale factors, baseline normalisation), start/stop, errors."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import AnnCompilerError, InvalidTypeError, NetworkError, NotSupportedError, ShapeError
from anncompiler.extensions import bold

RUNS = [("llvm", 1), ("llvm", 2), ("reference", 1)]
SECOND = 1000.0


def balloon(u, dt, model="RN", **params):
    """The balloon model's recorded trajectories for the input ``u[n]`` of each step."""
    p = dict(phi=1.0, kappa=1 / 1.54, gamma=1 / 2.46, E_0=0.34, tau=0.98, alpha=0.33, V_0=0.02, v_0=40.3,
             TE=0.04, epsilon=1.43, r_0=25.0)
    if model == "maith2021":
        p.update(kappa=0.665, gamma=0.412, E_0=0.3424, tau=1.0368, alpha=0.3215)
    p.update(params)
    if model[0] == "C":
        k1, k2, k3 = (1 - p["V_0"]) * 4.3 * p["v_0"] * p["E_0"] * p["TE"], 2 * p["E_0"], 1 - p["epsilon"]
    elif model[0] == "R":
        k1, k2, k3 = 4.3 * p["v_0"] * p["E_0"] * p["TE"], p["epsilon"] * p["r_0"] * p["E_0"] * p["TE"], \
            1 - p["epsilon"]
    else:
        k1, k2, k3 = 7 * p["E_0"], 2.0, 2 * p["E_0"] - 0.2
    s, f_in, q, v, f_out = 0.0, 1.0, 1.0, 1.0, 1.0
    out = {k: [] for k in ("I_CBF", "f_in", "q", "v", "BOLD")}
    for x in u:
        s, f_in = (s + dt * (p["phi"] * x - p["kappa"] * s - p["gamma"] * (f_in - 1)) / SECOND,
                   max(f_in + dt * s / SECOND, 0.01))
        E = 1 - (1 - p["E_0"]) ** (1 / f_in)
        q, v = (max(q + dt * (f_in * E / p["E_0"] - q / v * f_out) / (p["tau"] * SECOND), 0.01),
                max(v + dt * (f_in - f_out) / (p["tau"] * SECOND), 0.01))
        f_out = max(v ** (1 / p["alpha"]), 0.01)
        if model.endswith("L"):
            b = p["V_0"] * ((k1 + k2) * (1 - q) + (k3 - k2) * (1 - v))
        else:
            b = p["V_0"] * (k1 * (1 - q) + k2 * (1 - q / v) + k3 * (1 - v))
        for k, value in zip(out, (x, f_in, q, v, b)):
            out[k].append(value)
    return {k: np.array(v) for k, v in out.items()}


MODELS = {"RN": bold.balloon_RN, "RL": bold.balloon_RL, "CN": bold.balloon_CN, "CL": bold.balloon_CL,
          "maith2021": bold.balloon_maith2021}


def step_input_run(model, backend, threads, steps_off=100, steps_on=1400, dt=1.0, **params):
    net = ann.Network(dt=dt, seed=1)
    net.config(num_threads=threads)
    small = net.create(ann.InputArray(4))
    large = net.create(ann.InputArray(12))
    m = net.boldmonitor([small, large], MODELS[model](**params), recorded_variables=["I_CBF", "f_in", "q", "v"],
                        start=True)
    net.compile(backend=backend)
    net.simulate(steps_off * dt)
    small.r = [1.0, 2.0, 3.0, 6.0]   # mean 3, a quarter of the neurons
    large.r = 1.0                    # mean 1, three quarters
    net.simulate(steps_on * dt)
    u = np.r_[np.zeros(steps_off), np.full(steps_on, 0.25 * 3.0 + 0.75 * 1.0)]
    return m, u


@pytest.mark.parametrize("backend,threads", RUNS)
def test_balloon_RN_step_response(backend, threads):
    m, u = step_input_run("RN", backend, threads, steps_on=900 if backend == "reference" else 1400)
    expected = balloon(u, 1.0, "RN")
    for var in ("I_CBF", "f_in", "q", "v", "BOLD"):
        got = m.get(var)
        assert got.shape == (len(u), 1)
        np.testing.assert_allclose(got[:, 0], expected[var], rtol=1e-10, atol=1e-13, err_msg=var)
    assert expected["BOLD"][-1] > 1e-3  # a real response, not the resting state


@pytest.mark.parametrize("model", ["RL", "CN", "CL", "maith2021"])
def test_other_balloon_models_step_response(model):
    m, u = step_input_run(model, "llvm", 1, dt=0.5)
    expected = balloon(u, 0.5, model)
    for var in ("f_in", "q", "v", "BOLD"):
        np.testing.assert_allclose(m.get(var)[:, 0], expected[var], rtol=1e-10, atol=1e-13, err_msg=var)


def test_balloon_parameters_are_used():
    m, u = step_input_run("RN", "llvm", 1, phi=2.0, kappa=0.5, E_0=0.4, r_0=20.0)
    np.testing.assert_allclose(m.get("BOLD")[:, 0], balloon(u, 1.0, "RN", phi=2.0, kappa=0.5, E_0=0.4, r_0=20.0)["BOLD"],
                               rtol=1e-10, atol=1e-13)


def two_inputs(u_cbf, u_cmro2, dt):
    p = dict(kappa_CBF=0.7650920556760059, gamma_CBF=1 / 2.46, kappa_CMRO2=4.032389192727559, gamma_CMRO2=10 / 2.46,
             E_0=0.34, tau=0.98, alpha=0.33, V_0=0.02, v_0=40.3, TE=0.04, epsilon=1.0, r_0=25.0, tau_out1=0.0,
             tau_out2=20.0)
    k1, k2, k3 = 4.3 * p["v_0"] * p["E_0"] * p["TE"], p["epsilon"] * p["r_0"] * p["E_0"] * p["TE"], 1 - p["epsilon"]
    s1, f_in, s2, r, q, v, f_out = 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0
    out = []
    for a, b in zip(u_cbf, u_cmro2):
        s1, f_in = (s1 + dt * (a - p["kappa_CBF"] * s1 - p["gamma_CBF"] * (f_in - 1)) / SECOND,
                    max(f_in + dt * s1 / SECOND, 0.01))
        s2, r = (s2 + dt * (b * p["gamma_CMRO2"] / p["gamma_CBF"] - p["kappa_CMRO2"] * s2
                            - p["gamma_CMRO2"] * (r - 1)) / SECOND,
                 max(r + dt * s2 / SECOND, 0.01))
        drive = f_in - v ** (1 / p["alpha"])
        tau_out = p["tau_out1"] if drive > 0 else p["tau_out2"]
        f_out = max(v ** (1 / p["alpha"]) + tau_out * drive / (p["tau"] + tau_out), 0.01)
        q, v = (max(q + dt * (r - q / v * f_out) / (SECOND * p["tau"]), 0.01),
                max(v + dt * drive / (p["tau"] + tau_out) / SECOND, 0.01))
        out.append(p["V_0"] * (k1 * (1 - q) + k2 * (1 - q / v) + k3 * (1 - v)))
    return np.array(out)


def test_balloon_two_inputs():
    net = ann.Network(dt=1.0)
    pop = net.create(ann.InputArray(2))
    other = net.create(2, ann.Neuron(parameters="x = 0.0", equations="r = 2 * x"))
    m = net.boldmonitor([pop], bold.balloon_two_inputs, mapping={"I_CBF": "r"}, start=True)
    m2 = net.boldmonitor([other], bold.balloon_two_inputs(), mapping={"I_CBF": "r", "I_CMRO2": "x"}, start=True)
    net.compile()
    pop.r = [1.0, 3.0]
    other.x = 0.5
    net.simulate(3000.0)
    u = np.ones(3000) * 2.0
    np.testing.assert_allclose(m.get("BOLD")[:, 0], two_inputs(u, 0 * u, 1.0), rtol=1e-10, atol=1e-13)
    u2 = np.r_[0.0, np.ones(2999)]  # r of the neurons is updated in the first step
    np.testing.assert_allclose(m2.get("BOLD")[:, 0], two_inputs(u2, 0.5 * np.ones(3000), 1.0), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("backend,threads", RUNS)
def test_normalised_input_and_scale_factors(backend, threads):
    """``normalize_input``: input 0 while the baseline is collected after start(), then
    ``scale * (mean - baseline) / (|baseline| + 1e-7)``, per population."""
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    ramp = net.create(3, ann.Neuron(parameters="a = 1.0", equations="r = r + a"))  # mean r = a * step
    flat = net.create(ann.InputArray(5))
    m = net.boldmonitor([ramp, flat], bold.balloon_RN(), scale_factor=[2.0, 0.5], normalize_input=[10.0, 4.0],
                        recorded_variables="I_CBF")
    net.compile(backend=backend)
    flat.r = [1.0, 2.0, 3.0, 4.0, 5.0]  # mean 3
    net.simulate(20.0)                   # nothing is recorded nor collected before start()
    assert m.get("I_CBF").shape == (0, 1)
    m.start()
    net.simulate(30.0)
    got = m.get("I_CBF")[:, 0]
    assert got.shape == (30,)
    steps = 20 + np.arange(30)
    mean_ramp = steps.astype(float)          # r after step n-1 is n
    base_ramp = np.mean(mean_ramp[:10])
    expected = np.where(np.arange(30) >= 10, 2.0 * (mean_ramp - base_ramp) / (abs(base_ramp) + 1e-7), 0.0)
    expected += np.where(np.arange(30) >= 4, 0.5 * (3.0 - 3.0) / (3.0 + 1e-7), 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_default_scale_factors_are_population_shares():
    net = ann.Network(dt=1.0)
    a, b = net.create(ann.InputArray(1)), net.create(ann.InputArray(3))
    m = net.boldmonitor([a, b], recorded_variables=["I_CBF"], start=True)
    assert m._scale_factor == [0.25, 0.75]
    net.compile()
    a.r, b.r = 4.0, [1.0, 2.0, 3.0]
    net.simulate(3.0)
    np.testing.assert_allclose(m.get("I_CBF")[:, 0], 0.25 * 4.0 + 0.75 * 2.0)


def test_spiking_population_firing_rate():
    net = ann.Network(dt=1.0)
    src = net.create(ann.SpikeSourceArray([[2.0, 5.0, 6.0], [3.0], [], [5.0]]))
    src.compute_firing_rate(4.0)
    rec = net.monitor(src, "r")
    m = net.boldmonitor(src, start=True, recorded_variables=["I_CBF"])
    net.compile()
    net.simulate(12.0)
    rates = rec.get("r").mean(axis=1)
    np.testing.assert_allclose(m.get("I_CBF")[:, 0], np.r_[0.0, rates[:-1]])
    assert rates.max() > 0


def test_spiking_population_without_firing_rate_is_refused_at_compile():
    net = ann.Network(dt=1.0)
    src = net.create(ann.SpikeSourceArray([[2.0]]))
    m = net.boldmonitor(src, start=True)
    with pytest.raises(NetworkError, match="compute_firing_rate"):
        net.compile()
    src.compute_firing_rate(5.0)  # the network stays usable
    net.compile()
    net.simulate(10.0)
    assert m.get("BOLD").shape == (10, 1)


def test_start_stop_and_resting_state():
    """Before start(): no input, no recording; the model stays at rest. stop() stops both."""
    net = ann.Network(dt=1.0)
    pop = net.create(ann.InputArray(2))
    m = bold.BoldMonitor(populations=[pop], bold_model=bold.balloon_RN(), recorded_variables=["I_CBF", "f_in"])
    net.compile()
    pop.r = 5.0
    net.simulate(50.0)
    assert m.get("BOLD").shape == (0, 1)
    assert m.f_in == pytest.approx(1.0) and m.BOLD == pytest.approx(0.0)
    m.start()
    net.simulate(40.0)
    assert np.all(m.get("I_CBF") == 5.0) and m.get("BOLD").shape == (40, 1)
    m.stop()
    net.simulate(10.0)
    assert m.get("BOLD").shape == (0, 1)


def test_custom_bold_model_and_attributes():
    model = bold.BoldModel(parameters="tau = 1000.0 : population",
                           equations="I_CBF = sum(I_CBF)\ntau * dBOLD/dt = I_CBF - BOLD", inputs="I_CBF")
    net = ann.Network(dt=1.0)
    pop = net.create(ann.InputArray(3))
    m = net.boldmonitor([pop], model, start=True)
    assert m._recorded_variables == ["BOLD"]
    net.compile()
    pop.r = 2.0
    assert m.tau == 1000.0
    m.tau = 100.0
    net.simulate(20.0)
    x, expected = 0.0, []
    for _ in range(20):
        x += (2.0 - x) / 100.0
        expected.append(x)
    np.testing.assert_allclose(m.get("BOLD")[:, 0], expected, rtol=1e-12)
    with pytest.raises(NetworkError):
        m.unknown = 1.0


def test_bad_input_is_refused_clearly():
    net = ann.Network(dt=1.0)
    pop = net.create(ann.InputArray(2))
    with pytest.raises(NetworkError, match="I_CMRO2"):
        net.boldmonitor(pop, bold.balloon_RN(), mapping={"I_CMRO2": "r"})
    with pytest.raises(ShapeError):
        net.boldmonitor([pop], scale_factor=[1.0, 2.0])
    with pytest.raises(ShapeError):
        net.boldmonitor([pop], normalize_input=[1.0, 2.0])
    with pytest.raises(NetworkError, match="populations"):
        bold.BoldMonitor()
    with pytest.raises(InvalidTypeError):
        net.boldmonitor(pop, bold_model=ann.Neuron(equations="r = 1"))
    with pytest.raises(NetworkError, match="'v'"):
        net.boldmonitor(pop, mapping={"I_CBF": "v"})
    with pytest.raises(AnnCompilerError):
        net.boldmonitor(pop, normalize_input=-5.0)
    with pytest.raises(InvalidTypeError):
        bold.BoldModel(parameters="", equations="x = 1", inputs=3)
    assert len(net.get_populations()) == 1 and not net.get_projections()  # nothing half-built remains
    m = net.boldmonitor(pop, start=True)
    net.compile()
    with pytest.raises(NotSupportedError):
        net.boldmonitor(pop)
    with pytest.raises(NetworkError, match="not recorded"):
        m.get("q")
    net.simulate(2.0)
    assert m.get("BOLD").shape == (2, 1)


def test_cuda_code_is_generated():
    """The input kernel renders to CUDA C that NVRTC compiles (no device needed)."""
    pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
    net = ann.Network(dt=1.0)
    a = net.create(ann.InputArray(4))
    s = net.create(ann.SpikeSourceArray([[1.0], [2.0]]))
    s.compute_firing_rate(5.0)
    net.boldmonitor([a, s], bold.balloon_RN(), normalize_input=10.0, start=True)
    net.compile(backend="cuda", load=False)
