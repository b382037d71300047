"""TimedArray (rows of rates set in turn on a schedule) and InputArray (r set from Python)."""

import numpy as np
import pytest

import anncompiler as ann

from conftest import BACKENDS


def expected(rates, starts, period, n_steps, clock=0, next_row=0, r=None):
    """r after each step, from the definition: row k is set when the sequence's clock equals
    starts[k]; with a period of P steps the clock goes back to 0 after P steps."""
    r = np.zeros(rates.shape[1]) if r is None else r.copy()
    out = []
    for _ in range(n_steps):
        if next_row < len(starts) and starts[next_row] == clock:
            r = rates[next_row].copy()
            next_row += 1
        if period > 0 and clock == period - 1:
            clock, next_row = 0, 0
        else:
            clock += 1
        out.append(r.copy())
    return np.array(out)


def run(backend, rates, n_steps, dt=1.0, threads=1, **kw):
    net = ann.Network(dt=dt, seed=1)
    net.config(num_threads=threads)
    pop = net.create(ann.TimedArray(rates, **kw))
    m = net.monitor(pop, "r")
    net.compile(backend=backend)
    net.simulate(n_steps * dt)
    return net, pop, m, m.get("r", reshape=False)


RATES = np.arange(24.0).reshape(6, 4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_row_per_step_then_the_last_row_stays(backend):
    net, pop, m, r = run(backend, RATES, 10, dt=0.5)
    np.testing.assert_array_equal(r, expected(RATES, np.arange(6), -1, 10))
    np.testing.assert_array_equal(r[0], RATES[0])  # the first row is set at t = 0
    np.testing.assert_array_equal(pop.r, RATES[-1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_float_schedule_and_period(backend):
    # dt 0.5: rows every 1.5 ms start at steps 0, 3, 6, ...; the period is 7 ms = 14 steps
    net, pop, m, r = run(backend, RATES, 40, dt=0.5, schedule=1.5, period=7.0)
    np.testing.assert_array_equal(r, expected(RATES, np.arange(6) * 3, 14, 40))
    # a period shorter than the sequence leaves its last rows out
    net, pop, m, r = run(backend, RATES, 12, schedule=2.0, period=5.0)
    np.testing.assert_array_equal(r, expected(RATES, np.arange(6) * 2, 5, 12))
    assert set(r[:, 2]) == {2.0, 6.0, 10.0}  # rows 3 to 5 start at or after the period


@pytest.mark.parametrize("backend", BACKENDS)
def test_list_schedule_starts_from_zero_rates(backend):
    times = [2.0, 3.0, 7.0]
    with pytest.warns(UserWarning, match="last rows are never set"):
        net, pop, m, r = run(backend, RATES, 10, schedule=times)
    np.testing.assert_array_equal(r, expected(RATES, np.array([2, 3, 7]), -1, 10))
    assert np.all(r[:2] == 0.0)  # r is 0 before the first scheduled time


def test_geometry_and_update_before_compile():
    net = ann.Network(dt=1.0)
    pop = net.create(ann.TimedArray(np.zeros((2, 2, 3))))
    assert pop.geometry == (2, 3) and pop.rates.shape == (2, 2, 3)
    pop.update(np.ones((5, 2, 3)), schedule=2.0)  # any row count before compile
    m = net.monitor(pop, "r")
    net.compile()
    net.simulate(4.0)
    r = m.get("r")
    assert r.shape == (4, 2, 3) and np.all(r == 1.0)
    ta = ann.TimedArray(geometry=3, network=ann.Network())
    assert ta.size == 3 and ta.rates.shape == (0, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_update_with_and_without_reset_and_reset(backend):
    net, pop, m, r = run(backend, RATES, 5, schedule=2.0)
    starts = np.arange(6) * 2
    new = -RATES[::-1].copy()
    # without reset: the clock (5) goes on; rows starting before it are skipped, r stays
    pop.update(new, reset=False)
    net.simulate(8.0)
    got = m.get("r", reshape=False)
    np.testing.assert_array_equal(got, expected(new, starts, -1, 8, clock=5, next_row=3, r=RATES[2]))
    # with reset: the sequence starts again now, with the new rows and schedule
    pop.update(RATES[:4], schedule=1.0, period=3.0)
    np.testing.assert_array_equal(pop.r, RATES[0])
    net.simulate(7.0)
    np.testing.assert_array_equal(m.get("r", reshape=False), expected(RATES[:4], np.arange(4), 3, 7))
    # reset(): restart from now
    net.simulate(2.0)
    m.get("r")
    pop.reset()
    net.simulate(4.0)
    np.testing.assert_array_equal(m.get("r", reshape=False), expected(RATES[:4], np.arange(4), 3, 4))


def test_errors_leave_the_network_usable():
    net, pop, m, r = run("llvm", RATES, 3)
    with pytest.raises(ann.InvalidValueError, match="compiled for 6 rows"):
        pop.update(np.zeros((7, 4)))
    with pytest.raises(ann.ShapeError):
        pop.update(np.zeros((2, 5)))
    with pytest.raises(ann.InvalidValueError, match="cannot be longer"):
        pop.update(np.zeros((2, 4)), schedule=[0.0, 1.0, 2.0])
    with pytest.raises(ann.InvalidValueError, match="increasing"):
        pop.update(np.zeros((2, 4)), schedule=[1.0, 1.0])
    with pytest.raises(ann.NetworkError, match="update"):
        pop.r = 1.0
    with pytest.raises(ann.InvalidValueError):
        ann.TimedArray(network=ann.Network())
    net.simulate(5.0)  # unchanged: the rest of the sequence, then its last row
    np.testing.assert_array_equal(m.get("r", reshape=False), expected(RATES, np.arange(6), -1, 5, 3, 3, RATES[2]))
    with pytest.raises(ann.InvalidValueError, match="shorter than dt"):
        bad = ann.Network(dt=1.0)
        bad.create(ann.TimedArray(RATES, schedule=0.3))
        bad.compile()


@pytest.mark.parametrize("backend", BACKENDS)
def test_drives_a_rate_network_the_same_on_one_and_two_threads(backend):
    def simulate(threads):
        net = ann.Network(dt=0.5, seed=3)
        net.config(num_threads=threads)
        inp = net.create(ann.TimedArray(np.random.default_rng(0).random((20, 50)), schedule=2.0, period=30.0))
        post = net.create(50, ann.Neuron(parameters=dict(tau=5.0), equations="tau * dr/dt + r = sum(exc)"))
        net.connect(inp, post, "exc").fixed_probability(0.3, weights=0.7)
        m, mi = net.monitor(post, "r"), net.monitor(inp, "r")
        net.compile(backend=backend)
        net.simulate(50.0)
        inp.update(np.ones((3, 50)), reset=False)
        net.simulate(20.0)
        return m.get("r"), mi.get("r")

    one, two = simulate(1), simulate(2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_input_array_is_static_settable_and_recorded(backend):
    net = ann.Network(dt=1.0)
    inp = net.create(ann.InputArray((2, 2)))
    inp.r = np.array([[1.0, 2.0], [3.0, 4.0]])
    post = net.create(4, ann.Neuron(equations="r = sum(exc)"))
    net.connect(inp, post, "exc").one_to_one(weights=2.0)
    m, mp = net.monitor(inp, "r"), net.monitor(post, "r")
    net.compile(backend=backend)
    net.simulate(3.0)
    inp.r = 5.0
    inp[0, 1].r = 7.0
    net.simulate(2.0)
    r = m.get("r")
    assert r.shape == (5, 2, 2)
    np.testing.assert_array_equal(r[:3], np.tile([[1.0, 2.0], [3.0, 4.0]], (3, 1, 1)))
    np.testing.assert_array_equal(r[3:], np.tile([[5.0, 7.0], [5.0, 5.0]], (2, 1, 1)))
    np.testing.assert_array_equal(inp.r, [[5.0, 7.0], [5.0, 5.0]])
    np.testing.assert_array_equal(mp.get("r")[-1], [10.0, 14.0, 10.0, 10.0])
    with pytest.raises(ann.InvalidTypeError):
        inp.r = "high"
    net.simulate(1.0)
