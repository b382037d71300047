"""No native crash and no silent wrong result from the public API.

Each path ends in a correct result or a named anncompiler error.  Where a regression could
crash the process (native code reading or writing out of bounds), the check runs in a
subprocess, so that a crash fails that test and not the whole suite.
"""
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import anncompiler as ann

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_isolated(code: str, timeout: float = 240.0) -> str:
    """Run ``code`` in a fresh interpreter (this checkout first on the path); a crash or a
    failed assertion fails the calling test with the child's output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONFAULTHANDLER", "1")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (f"child exited with {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
                                  f"\n--- stderr\n{proc.stderr[-4000:]}")
    return proc.stdout


def counter(name="Counter"):
    return ann.Neuron(equations="r = r + 1", name=name)


# ---------------------------------------------------------------------------------------------
# 1. an interrupted simulate leaves time, state and monitors consistent
# ---------------------------------------------------------------------------------------------
def test_interrupted_simulate_then_simulate_more():
    out = run_isolated("""
        import _thread, signal, threading
        import numpy as np
        import anncompiler as ann

        net = ann.Network(dt=0.1, seed=1)
        pop = net.create(4, ann.Neuron(equations="r = r + 1", name="Counter"))
        m = net.monitor(pop, "r")          # 1000 rows per buffer: many chunks
        net.compile()

        def consistent():
            n = net.current_step
            rec = m.get("r", keep=True)
            assert rec.shape == (n, 4), (rec.shape, n)
            np.testing.assert_array_equal(rec[:, 0], np.arange(1, n + 1))
            np.testing.assert_array_equal(pop.r, np.full(4, float(n)))

        # Ctrl-C from a timer thread (as a signal would), several times, without get() between
        interrupted = 0
        for k in range(6):
            timer = threading.Timer(0.002 + 0.004 * k, _thread.interrupt_main)
            try:
                timer.start()              # on a busy machine the timer may fire before start() returns
                net.simulate(1e8)          # 1e9 steps: the interrupt always comes first
            except KeyboardInterrupt:
                interrupted += 1
            timer.join()
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert interrupted == 6
        consistent()

        # KeyboardInterrupt between the native return and the drain (the worst moment)
        real, calls = net._simulator.run, [0]
        def interrupted_run(n):
            done = real(n)
            calls[0] += 1
            if calls[0] % 2:
                raise KeyboardInterrupt
            return done
        net._simulator.run = interrupted_run
        for _ in range(7):
            try:
                net.simulate(250.0)
            except KeyboardInterrupt:
                pass
        net._simulator.run = real
        consistent()
        before = net.current_step
        net.simulate(300.0)
        assert net.current_step == before + 3000
        consistent()
        assert m.get("r").shape == (net.current_step, 4)
        print("ok", interrupted)
    """)
    assert out.startswith("ok 6")


def test_interrupted_simulate_until_disarms_and_continues():
    run_isolated("""
        import numpy as np
        import anncompiler as ann

        net = ann.Network(dt=1.0, seed=1)
        pop = net.create(2, ann.Neuron(equations="r = r + 1", name="Counter"), stop_condition="r > 1e9 : any")
        m = net.monitor(pop, "r")
        net.compile()
        real = net._simulator.run
        def interrupted_run(n):
            real(n)
            raise KeyboardInterrupt
        net._simulator.run = interrupted_run
        try:
            net.simulate_until(5000.0, pop)
        except KeyboardInterrupt:
            pass
        net._simulator.run = real
        assert not net._arrays["net._until_active"][0]
        n = net.current_step
        assert m.get("r").shape == (n, 2)
        net.simulate(10.0)
        assert net.current_step == n + 10 and pop.r[0] == n + 10
    """)


# ---------------------------------------------------------------------------------------------
# 2. objects of another network
# ---------------------------------------------------------------------------------------------
def test_objects_of_another_network_are_refused():
    run_isolated("""
        import warnings
        import numpy as np
        import anncompiler as ann

        rate = lambda: ann.Neuron(equations="r = sum(exc)", name="Rate")
        net1, net2 = ann.Network(dt=1.0), ann.Network(dt=1.0)
        big = net1.create(1000, rate(), name="p")
        small = net2.create(10, rate(), name="p")
        for what, call in [("connect", lambda: net2.connect(big[-3:], small, "exc")),
                           ("connect", lambda: net2.connect(small, big, "exc")),
                           ("monitor", lambda: net2.monitor(big, "r")),
                           ("monitor", lambda: net2.monitor(big[2:5], "r")),
                           ("legacy", lambda: ann.Projection(big, small, "exc")),
                           ("create", lambda: net2.create(big))]:
            try:
                call()
            except ann.NetworkError as e:
                assert "p" in str(e) and "network" in str(e), str(e)
            else:
                raise AssertionError(f"{what} accepted an object of another network")
        assert net2.get_projections() == [] and net2.get_monitors() == []

        # the legacy constructors attach to the populations' own network
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # and do not pretend to use the global network
            mon = ann.Monitor(big, "r")
            proj = ann.Projection(big, big, "exc")
        assert mon in net1.get_monitors() and proj in net1.get_projections()
        assert mon not in ann.magic_network().get_monitors()
        proj.one_to_one(weights=0.5)
        big.r = 1.0
        net1.compile()
        net1.simulate(3.0)
        assert mon.get("r").shape == (3, 1000)

        # the second network still compiles and runs
        net2.connect(small, small, "exc").one_to_one(weights=1.0)
        net2.compile()
        net2.simulate(2.0)
        print("ok")
    """)


# ---------------------------------------------------------------------------------------------
# 3. one network simulated from two threads
# ---------------------------------------------------------------------------------------------
def test_concurrent_simulate_is_serialised():
    run_isolated("""
        import threading
        import numpy as np
        import anncompiler as ann

        net = ann.Network(dt=1.0, seed=1)
        pop = net.create(200, ann.Neuron(equations="r = r + 1", name="Counter"))
        m = net.monitor(pop, "r")
        net.compile()
        def work():
            for _ in range(50):
                net.simulate(100.0)
        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads: t.start()
        for t in threads: t.join()
        assert net.current_step == 10000, net.current_step
        np.testing.assert_array_equal(pop.r, np.full(200, 10000.0))
        rec = m.get("r")
        np.testing.assert_array_equal(rec[:, 0], np.arange(1, 10001))

        # separate networks in separate threads keep working
        nets = []
        for k in range(2):
            n = ann.Network(dt=1.0, seed=k)
            p = n.create(50, ann.Neuron(equations="r = r + 1", name="Counter"))
            n.compile()
            nets.append((n, p))
        threads = [threading.Thread(target=lambda n=n: [n.simulate(500.0) for _ in range(10)]) for n, _ in nets]
        for t in threads: t.start()
        for t in threads: t.join()
        for n, p in nets:
            assert n.current_step == 5000 and p.r[0] == 5000.0
        print("ok")
    """)


# ---------------------------------------------------------------------------------------------
# 4. SpikeSourceArray: past times skipped, the rest fire on their step
# ---------------------------------------------------------------------------------------------
def _spikes(times, move_to=None, duration=20.0):
    net = ann.Network(dt=1.0, seed=1)
    src = net.create(ann.SpikeSourceArray(times))
    m = net.monitor(src, "spike")
    net.compile()
    if move_to is not None:
        net.current_step = move_to
    net.simulate(duration)
    return m.get("spike")


def test_spike_source_array_negative_and_past_times():
    assert _spikes([-1.0, 5.0, 10.0]) == {0: [5, 10]}
    assert _spikes([[-3.0, 2.0], [-0.2, 4.0]]) == {0: [2], 1: [0, 4]}  # -0.2 ms is on step 0
    assert _spikes([2.0, 5.0, 10.0], move_to=4) == {0: [5, 10]}
    assert _spikes([2.0, 5.0, 10.0], move_to=5) == {0: [5, 10]}
    assert _spikes([2.0, 5.0, 10.0], move_to=11) == {0: []}


def test_spike_source_array_moving_time_back_and_forth():
    net = ann.Network(dt=0.5, seed=1)
    src = net.create(ann.SpikeSourceArray([1.0, 3.0, 6.0]))
    m = net.monitor(src, "spike")
    net.compile()
    net.simulate(4.0)                    # steps 0..7: spikes at steps 2 and 6
    net.time = 2.0                       # back to step 4: the spike at step 6 fires again
    net.simulate(5.0)                    # steps 4..13
    assert m.get("spike") == {0: [2, 6, 6, 12]}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_spike_source_array_non_finite_times(bad):
    with pytest.raises(ann.InvalidValueError, match="finite"):
        ann.SpikeSourceArray([1.0, bad])
    src = ann.SpikeSourceArray([1.0], network=ann.Network())
    with pytest.raises(ValueError):
        src.spike_times = [[bad]]
    assert src.spike_times == [[1.0]]


# ---------------------------------------------------------------------------------------------
# 5. refractory periods
# ---------------------------------------------------------------------------------------------
def _lif(**kw):
    return ann.Neuron(equations="dv/dt = 1.0", spike="v > 0.5", reset="v = 0", name="Fast", **kw)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, [1.0, -2.0]])
def test_refractory_rejects_nan_inf_negative(bad):
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create(2, _lif(), name="lif")
    with pytest.raises(ann.InvalidValueError, match="lif") as err:
        pop.refractory = bad
    assert isinstance(err.value, ValueError)
    if np.ndim(bad) == 0:
        with pytest.raises(ann.InvalidValueError, match="Fast"):
            net.create(2, _lif(refractory=bad))
    pop.refractory = 2.0
    net.compile()
    with pytest.raises(ann.InvalidValueError):
        pop.refractory = bad
    assert pop.refractory == pytest.approx(2.0)


@pytest.mark.parametrize("where", ["population", "model", "after compile"])
def test_huge_refractory_saturates(where):
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create(2, _lif(refractory=1e12 if where == "model" else 1.0))
    m = net.monitor(pop, "spike")
    if where == "population":
        pop.refractory = 1e12
    net.compile()
    if where == "after compile":
        pop.refractory = 1e12
    net.simulate(20.0)
    spikes = m.get("spike")
    assert spikes == {0: [5], 1: [5]} or where == "after compile"
    assert all(len(s) <= (1 if where != "after compile" else 2) for s in spikes.values())
    assert pop.refractory > 1e8  # saturated at the int32 step counter, never negative


# ---------------------------------------------------------------------------------------------
# 6. a parameter declared global stays global when set through a view
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [
    "tau = 20.0 : population",
    dict(tau=ann.Parameter(20.0, locality="population")),
    dict(tau=ann.Parameter(20.0, locality="global")),
])
def test_explicit_global_set_through_a_view(params):
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(6, ann.Neuron(parameters=params, equations="r = tau", name="G"))
    pop[:2].tau = 5.0
    assert pop.tau == 5.0
    with pytest.raises(ann.ShapeError, match="tau"):
        pop.tau = np.arange(6.0)
    net.compile()
    assert pop.tau == 5.0
    pop[:2].tau = 7.0
    assert pop.tau == 7.0
    net.step()
    np.testing.assert_array_equal(pop.r, np.full(6, 7.0))


@pytest.mark.parametrize("params", [dict(tau=20.0), dict(tau=ann.Parameter(20.0))])
def test_implicit_global_parameter_is_promoted(params):
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(6, ann.Neuron(parameters=params, equations="r = tau", name="P"))
    pop[:2].tau = 5.0
    np.testing.assert_array_equal(pop.tau, [5, 5, 20, 20, 20, 20])
    net.compile()
    net.step()
    np.testing.assert_array_equal(pop.r, [5, 5, 20, 20, 20, 20])


# ---------------------------------------------------------------------------------------------
# 7. bad values: AnnCompilerError subclasses that are also the matching builtin errors
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [-0.1, 0, 0.0, math.nan, math.inf])
def test_bad_dt(dt):
    with pytest.raises(ann.InvalidValueError, match="dt") as err:
        ann.Network(dt=dt)
    assert isinstance(err.value, ValueError) and isinstance(err.value, ann.AnnCompilerError)
    net = ann.Network(dt=1.0)
    with pytest.raises(ValueError):
        net.config(dt=dt)
    assert net.dt == 1.0


def _compiled():
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create(3, counter(), name="counted")
    m = net.monitor(pop, "r")
    return net, pop, m


@pytest.mark.parametrize("duration", [-1.0, -0.05, math.nan, math.inf, -math.inf, 1e300])
def test_bad_durations_leave_the_network_usable(duration):
    net, pop, m = _compiled()
    net.compile()
    for call in (lambda: net.simulate(duration),
                 lambda: net.simulate_until(duration, pop)):
        with pytest.raises((ann.InvalidValueError, ann.NetworkError)) as err:
            call()
        assert isinstance(err.value, ValueError) or "stop_condition" in str(err.value)
    assert net.current_step == 0
    net.simulate(1.0)
    assert net.current_step == 10 and m.get("r").shape == (10, 3)
    with pytest.raises(TypeError):
        net.simulate("10")
    with pytest.raises(ann.InvalidValueError):
        net.time = math.nan
    with pytest.raises(ann.InvalidValueError):
        net.current_step = -5
    assert net.current_step == 10


@pytest.mark.parametrize("period", [math.nan, math.inf, -1.0, 0.0])
def test_bad_monitor_period(period):
    net = ann.Network(dt=1.0)
    pop = net.create(2, counter())
    with pytest.raises(ann.InvalidValueError, match="period") as err:
        net.monitor(pop, "r", period=period)
    assert isinstance(err.value, ValueError)
    assert net.get_monitors() == []


@pytest.mark.parametrize("delays", [-1.0, math.nan, [0.0, -0.5, 0.0, 0.0]])
def test_bad_delays(delays):
    net = ann.Network(dt=1.0)
    pop = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    proj = net.connect(pop, pop, "exc", name="delayed")
    with pytest.raises(ann.InvalidValueError, match="delayed") as err:
        proj.all_to_all(weights=1.0, delays=delays, allow_self_connections=True)
    assert isinstance(err.value, ValueError)
    proj.all_to_all(weights=1.0, allow_self_connections=True)  # usable afterwards
    net.compile()
    net.simulate(1.0)


@pytest.mark.parametrize("geometry", [0, (0,), (3, 0), -2])
def test_population_of_size_zero(geometry):
    net = ann.Network()
    with pytest.raises(ann.InvalidValueError, match="empty_one") as err:
        net.create(geometry, counter(), name="empty_one")
    assert isinstance(err.value, ValueError)
    assert net.get_populations() == []


@pytest.mark.parametrize("value", [None, "abc", object(), [1.0, None, 2.0], 1 + 2j])
def test_bad_attribute_types(value):
    net = ann.Network(dt=1.0)
    pop = net.create(3, counter(), name="typed")
    with pytest.raises(ann.InvalidTypeError, match="typed") as err:
        pop.r = value
    assert isinstance(err.value, TypeError)
    np.testing.assert_array_equal(pop.r, np.zeros(3))
    net.compile()
    with pytest.raises(TypeError):
        pop.r = value
    with pytest.raises(TypeError):
        pop[1:].r = value
    net.step()
    np.testing.assert_array_equal(pop.r, np.ones(3))


def test_every_value_error_is_an_anncompiler_error():
    assert issubclass(ann.InvalidValueError, ann.AnnCompilerError) and issubclass(ann.InvalidValueError, ValueError)
    assert issubclass(ann.InvalidTypeError, ann.AnnCompilerError) and issubclass(ann.InvalidTypeError, TypeError)


# ---------------------------------------------------------------------------------------------
# 8. long and deep expressions: no stage recurses into a RecursionError or a native crash
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_long_sums_and_deep_nesting_compile_and_run():
    out = run_isolated("""
        import anncompiler as ann

        def run(backend, parameters, equation):
            net = ann.Network(dt=0.1, seed=1)
            pop = net.create(2, ann.Neuron(parameters=parameters, equations=equation, name="Deep"))
            net.compile(backend=backend)
            net.simulate(0.1)
            return float(pop.r[0])

        n = 10_000   # halves: the sum is exact in any order, so Python's order is the reference
        values = [k % 5 + 0.5 for k in range(n)]
        sum_params = "\\n".join(f"x{k} = {v}" for k, v in enumerate(values))
        sum_equation = "r = " + " + ".join(f"x{k}" for k in range(n)) + " - 1"
        expected_sum = 0.0
        for v in values:
            expected_sum += v
        expected_sum -= 1

        depth = 500  # a*(b + a*(b + ... 1)), and the same number of redundant parentheses
        nested = "r = " + "a*(b + " * depth + "1" + ")" * depth
        expected_nested = 1.0
        for _ in range(depth):
            expected_nested = 0.99 * (0.25 + expected_nested)
        parenthesised = "r = " + "(" * depth + "x + 1" + ")" * depth

        for backend in ("llvm", "reference"):
            assert run(backend, sum_params, sum_equation) == expected_sum, backend
            assert run(backend, "a = 0.99\\nb = 0.25", nested) == expected_nested, backend
            assert run(backend, "x = 2.5", parenthesised) == 3.5, backend
        print("ok")
    """)
    assert out.strip().endswith("ok")


def test_interrupting_a_deep_stage():
    """Ctrl-C while the helper thread parses a long model stops it; the process goes on."""
    out = run_isolated("""
        import _thread, sys, threading
        import anncompiler as ann

        n = 4000     # several seconds of sympy: the interrupt comes first
        params = "tau = 10.0\\n" + "\\n".join(f"w{k} = {k % 7 * 0.125}" for k in range(n))
        equation = "tau*dr/dt = -r + " + " + ".join(f"w{k}*{k % 3 + 0.5}" for k in range(n))
        limit = sys.getrecursionlimit()
        threading.Timer(0.5, _thread.interrupt_main).start()
        try:
            net = ann.Network(dt=0.1)
            net.create(2, ann.Neuron(parameters=params, equations=equation, name="Long"))
            net.compile()
            raise SystemExit("not interrupted")
        except KeyboardInterrupt:
            pass
        assert sys.getrecursionlimit() == limit
        net = ann.Network(dt=0.1)
        pop = net.create(2, ann.Neuron(equations="r = 1 + 2", name="Short"))
        net.compile()
        net.simulate(0.1)
        assert pop.r[0] == 3.0
        print("ok")
    """)
    assert out.strip().endswith("ok")


def test_deep_nesting_errors_name_the_right_column():
    """Groups nested deeper than Python's parser allows are parsed on their own; an error
    inside one still points at its column in the equation."""
    equation = "r = " + "(" * 300 + "x + foo(1)" + ")" * 300
    net = ann.Network(dt=0.1, seed=1)
    with pytest.raises(ann.AnnCompilerError) as info:
        net.create(1, ann.Neuron(parameters="x = 1", equations=equation, name="Deep"))
        net.compile()
    assert "foo" in str(info.value)
    assert info.value.column == equation.index("foo")


# ---------------------------------------------------------------------------------------------
# 9. model mistakes that used to be accepted
# ---------------------------------------------------------------------------------------------
def test_sum_without_target_is_an_error():
    net = ann.Network()
    with pytest.raises(ann.EquationSyntaxError, match="target") as err:
        net.create(2, ann.Neuron(equations="r = sum() + 1", name="NoTarget"))
        net.compile()
    assert "NoTarget" in str(err.value) and "r = sum() + 1" in str(err.value)


def test_reset_assigning_a_parameter_is_an_error():
    net = ann.Network()
    with pytest.raises(ann.ModelError, match="parameter 'Vr'") as err:
        net.create(2, ann.Neuron(parameters=dict(Vr=0.0), equations="dv/dt = -v", spike="v > 1",
                                 reset="v = 0\nVr = 1.0", name="ResetParam"))
        net.compile()
    assert "ResetParam" in str(err.value) and "Vr = 1.0" in str(err.value)


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_non_real_constants_give_nan_at_run_time(backend):
    net = ann.Network(dt=1.0)
    pop = net.create(2, ann.Neuron(parameters="a = -4.0",
                                   equations=["r = sqrt(-1)", "x = log(-2) + 1", "y = sqrt(a)", "z = (-8)**0.5",
                                              "w = sqrt(4) + sqrt(-1) * 0"], name="Complexish"))
    net.compile(backend=backend)
    net.step()
    for name in ("r", "x", "y", "z", "w"):
        assert np.all(np.isnan(getattr(pop, name))), name


# ---------------------------------------------------------------------------------------------
# the public API as a state machine (tests/api_state_machine.py), in a subprocess
# ---------------------------------------------------------------------------------------------
def test_api_state_machine_never_crashes():
    """Random sequences of create/connect/monitor/compile/set/get/simulate/interrupt over one to
    three networks: no crash, every rejection an AnnCompilerError, monitors follow time."""
    out = run_isolated("""
        import runpy, sys
        sys.argv = ["api_state_machine.py", "40", "30"]
        runpy.run_path("tests/api_state_machine.py", run_name="__main__")
    """, timeout=600)
    assert out.strip().endswith("ok")


# ---------------------------------------------------------------------------------------------
# 10. cold compiles do not leak: a parameter sweep compiles thousands of networks in one process
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_cold_compiles_do_not_grow_memory():
    out = run_isolated("""
        import ctypes, gc, os
        os.environ["ANNC_NO_CACHE"] = "1"   # every compile runs the -O3 pipeline
        import anncompiler as ann

        libc = ctypes.CDLL("libc.so.6")
        def rss_mib():
            gc.collect()
            libc.malloc_trim(0)
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

        LIF = ann.Neuron(parameters="tau = 20.0\\nVt = -50.0\\nVr = -60.0\\nI = 20.0",
                         equations=["tau * dv/dt = -60 - v + g_exc * (0 - v) + I", "5 * dg_exc/dt = - g_exc"],
                         spike="v > Vt", reset="v = Vr", name="LIF")
        def compile_one():
            net = ann.Network(dt=0.1, seed=1)
            p = net.create(8, LIF)
            net.connect(p, p, "exc").fixed_probability(0.5, weights=0.1)
            net.compile()
            net.simulate(1.0)
            assert not net.compile_report["cache_hit"]

        for _ in range(5):
            compile_one()
        before = rss_mib()
        for _ in range(200):
            compile_one()
        print(f"growth {rss_mib() - before:.1f} MiB")
    """)
    growth = float(out.split()[-2])
    assert growth < 20.0, out   # it was about 37 MiB (the -O3 pass manager was never freed)
