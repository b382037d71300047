"""TimedPoissonPopulation and HomogeneousCorrelatedSpikeTrains (parameters set on a schedule),
SpikeSourceArray changed after compile and reset, ImagePopulation."""
import math

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.core.scheduled_inputs import _rectified_moments, correlated_mu_sigma

CONFIGS = [("llvm", 1), ("llvm", 2), ("reference", 1)]


def scheduled(rows, starts, period, n_steps, clock=0, next_row=0, value=None):
    """The scheduled value after each step: row k is set when the clock equals starts[k]; with a
    period of P steps the clock goes back to 0 (and the sequence to row 0) after P steps."""
    value = np.zeros(rows.shape[1]) if value is None else value
    out = []
    for _ in range(n_steps):
        if next_row < len(starts) and starts[next_row] == clock:
            value = rows[next_row]
            next_row += 1
        if period > 0 and clock == period - 1:
            clock, next_row = 0, 0
        else:
            clock += 1
        out.append(value)
    return np.array(out)


def compiled(pop, config, dt=1.0, variables=("spike", "proba")):
    net = pop._net
    net.config(num_threads=config[1])
    m = net.monitor(pop, list(variables))
    net.compile(backend=config[0])
    return net, m


def spike_matrix(m, n_steps, size):
    out = np.zeros((n_steps, size), dtype=bool)
    for rank, steps in m.get("spike").items():
        out[np.asarray(steps, dtype=int), rank] = True
    return out


# TimedPoissonPopulation -----------------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS)
def test_timed_poisson_follows_its_schedule(config):
    # a rate of 1000/dt Hz spikes every step (Uniform(0,1) < 1), a rate of 0 never: the spikes
    # show exactly when each row is in force; the schedule starts at 2 ms and cycles every 9 ms
    net = ann.Network(dt=0.5, seed=1)
    rates = np.array([[0.0, 2000.0, 2000.0], [2000.0, 0.0, 2000.0], [0.0, 0.0, 0.0]])
    pop = net.create(ann.TimedPoissonPopulation(3, rates, schedule=[2.0, 3.0, 5.0], period=9.0))
    net, m = compiled(pop, config)
    net.simulate(25.0)
    expected = scheduled(rates, np.array([4, 6, 10]), 18, 50)
    np.testing.assert_array_equal(m.get("proba"), expected)
    np.testing.assert_array_equal(spike_matrix(m, 50, 3), expected > 0)


@pytest.mark.parametrize("config", CONFIGS)
def test_timed_poisson_float_schedule_update_and_reset(config):
    net = ann.Network(dt=1.0, seed=2)
    pop = net.create(ann.TimedPoissonPopulation((2, 2), [1000.0, 0.0, 1000.0, 0.0], schedule=2.0))
    assert pop.rates.shape == (4, 2, 2) and pop.schedule == 2.0 and pop.period == -1.0
    net, m = compiled(pop, config)
    net.simulate(7.0)
    first = scheduled(pop.rates.reshape(4, 4), np.array([0, 2, 4, 6]), -1, 7)
    # new rows, the clock kept: at clock 7 the rows starting at 0, 4 and 6 ms are past, row 3 (8 ms) comes
    new = np.array([[0.0, 0, 0, 0], [1000.0, 0, 0, 0], [0.0, 1000, 0, 0], [0, 0, 1000.0, 0]])
    pop.update(new.reshape(4, 2, 2), schedule=[0.0, 4.0, 6.0, 8.0], reset=False)
    net.simulate(3.0)
    second = scheduled(new, np.array([0, 4, 6, 8]), -1, 3, clock=7, next_row=3, value=first[-1])
    pop.reset()  # the sequence again from its first row, now
    net.simulate(5.0)
    third = scheduled(new, np.array([0, 4, 6, 8]), -1, 5)
    expected = np.concatenate([first, second, third])
    np.testing.assert_array_equal(m.get("proba", reshape=False), expected)
    np.testing.assert_array_equal(spike_matrix(m, 15, 4), expected > 0)


def test_timed_poisson_rates_give_the_mean_firing_rate():
    net = ann.Network(dt=1.0, seed=3)
    pop = net.create(ann.TimedPoissonPopulation(1000, [20.0, 60.0], schedule=[0.0, 500.0]))
    m = net.monitor(pop, "spike")
    net.compile()
    net.simulate(1000.0)
    steps = np.concatenate([s for s in m.get("spike").values() if s])
    early, late = np.sum(steps < 500) / 1000 / 0.5, np.sum(steps >= 500) / 1000 / 0.5
    assert abs(early - 20.0) < 1.0 and abs(late - 60.0) < 1.5  # sd 0.2 and 0.35 Hz


def test_timed_poisson_bad_input_leaves_it_usable():
    net = ann.Network(dt=1.0, seed=4)
    with pytest.raises(ann.ShapeError):
        ann.TimedPoissonPopulation(3, np.ones((2, 4)), network=net)
    with pytest.raises(ann.InvalidValueError, match="rates"):
        ann.TimedPoissonPopulation(3, [1.0, -2.0], network=net)
    with pytest.raises(ann.InvalidValueError, match="schedule times"):
        ann.TimedPoissonPopulation(3, [1.0, 2.0], schedule=[0.0, 1.0, 2.0], network=net)
    with pytest.raises(ann.InvalidTypeError):
        ann.TimedPoissonPopulation(3, [1.0], schedule="soon", network=net)
    pop = net.create(ann.TimedPoissonPopulation(2, [1000.0, 0.0], schedule=[0.0, 2.0]))
    m = net.monitor(pop, "proba")
    net.compile()
    with pytest.raises(ann.InvalidValueError, match="at most 2"):
        pop.update([1.0, 2.0, 3.0], schedule=[0.0, 1.0, 2.0])
    with pytest.raises(ann.InvalidValueError, match="same step"):
        pop.update([1.0, 2.0], schedule=[0.0, 0.2])
    net.simulate(3.0)  # unchanged by the refused updates
    np.testing.assert_array_equal(m.get("proba")[:, 0], [1000.0, 1000.0, 0.0])
    pop.rates = [5.0, 7.0]  # a setter: new rows on the running clock, whose rows are all past
    net.simulate(1.0)
    assert pop.proba.tolist() == [0.0, 0.0]
    pop.reset()
    net.simulate(3.0)
    np.testing.assert_array_equal(m.get("proba")[:, 1], [0.0, 5.0, 5.0, 7.0])


# HomogeneousCorrelatedSpikeTrains -------------------------------------------------------------
def test_rectified_rate_has_the_asked_mean_and_spread():
    for rate, corr, tau in [(20.0, 0.3, 10.0), (5.0, 0.9, 50.0), (40.0, 0.05, 2.0)]:
        mu, sigma = correlated_mu_sigma(rate, corr, tau)
        mean, sd = _rectified_moments(mu / sigma)
        assert math.isclose(mean * sigma, rate, rel_tol=1e-9)
        assert math.isclose(sd * sigma, math.sqrt(corr * rate / (2 * tau / 1000.0)), rel_tol=1e-9)
    assert correlated_mu_sigma(12.0, 0.0, 10.0) == (12.0, 0.0)
    # the moments of max(X, 0) against numbers drawn with numpy
    x = np.maximum(np.random.default_rng(0).normal(0.7, 1.0, 400000), 0.0)
    mean, sd = _rectified_moments(0.7)
    assert abs(x.mean() - mean) < 0.005 and abs(x.std() - sd) < 0.005


def correlated_run(config, n_steps, size=20, seed=5, rates=20.0, corr=0.3, tau=10.0):
    net = ann.Network(dt=1.0, seed=seed)
    pop = net.create(ann.HomogeneousCorrelatedSpikeTrains(size, rates=rates, corr=corr, tau=tau))
    net, m = compiled(pop, config, variables=("spike", "x"))
    net.simulate(float(n_steps))
    return pop, m.get("x"), spike_matrix(m, n_steps, size)


def test_correlated_trains_follow_the_discrete_update():
    n = 20000
    pop, x, spikes = correlated_run(("llvm", 1), n)
    mu, sigma = pop.mu, pop.sigma
    assert (mu, sigma) == pytest.approx(correlated_mu_sigma(20.0, 0.3, 10.0))
    # x[t+1] = x[t] a + mu (1 - a) + sigma sqrt(1 - a^2) N(0, 1): the residuals are N(0, 1)
    a = math.exp(-1.0 / 10.0)
    z = (x[1:] - a * x[:-1] - mu * (1 - a)) / (sigma * math.sqrt(1 - a * a))
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03  # sd of the estimates ~0.007
    # the positive part of x has the asked rate, and a neuron spikes with probability x dt / 1000
    assert abs(np.maximum(x, 0).mean() - 20.0) < 2.0
    assert not spikes[x <= 0].any()
    expected = np.sum(np.clip(x, 0, 1000.0)) / 1000.0 * 20
    assert abs(spikes.sum() - expected) < 4 * math.sqrt(expected)


@pytest.mark.parametrize("config", CONFIGS[1:])
def test_correlated_trains_are_the_same_on_every_backend(config):
    _, x, spikes = correlated_run(("llvm", 1), 300)
    _, x2, spikes2 = correlated_run(config, 300)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(spikes2, spikes)


def test_correlated_trains_are_correlated():
    # spike counts over windows much longer than tau: each neuron's variance is r T (Poisson)
    # + corr r T (the shared rate), the covariance of two neurons corr r T: correlation corr/(1+corr)
    _, _, spikes = correlated_run(("llvm", 1), 10000, size=30, seed=6, rates=30.0, corr=0.5, tau=5.0)
    counts = spikes.reshape(100, 100, 30).sum(axis=1)
    c = np.corrcoef(counts.T)[np.triu_indices(30, 1)].mean()
    assert abs(c - 0.5 / 1.5) < 0.1


@pytest.mark.parametrize("config", CONFIGS)
def test_correlated_trains_schedule_and_update(config):
    net = ann.Network(dt=1.0, seed=7)
    pop = net.create(ann.HomogeneousCorrelatedSpikeTrains(4, rates=[10.0, 30.0], corr=0.2, tau=5.0,
                                                          schedule=[0.0, 4.0], period=6.0))
    assert pop.rates == [10.0, 30.0] and pop.corr == 0.2 and pop.tau == 5.0
    net, m = compiled(pop, config, variables=("mu", "sigma", "tau"))
    net.simulate(8.0)
    rows = np.array([correlated_mu_sigma(10.0, 0.2, 5.0), correlated_mu_sigma(30.0, 0.2, 5.0)])
    np.testing.assert_allclose(np.c_[m.get("mu"), m.get("sigma")], scheduled(rows, np.array([0, 4]), 6, 8))
    pop.update([50.0, 0.0], corr=0.4, tau=20.0)  # the schedule kept, restarted now
    net.simulate(5.0)
    rows = np.array([correlated_mu_sigma(50.0, 0.4, 20.0), (0.0, 0.0)])
    np.testing.assert_allclose(np.c_[m.get("mu"), m.get("sigma")], scheduled(rows, np.array([0, 4]), 6, 5))
    assert np.all(m.get("tau")[-5:] == 20.0) and pop.tau == 20.0
    with pytest.raises(ann.InvalidValueError, match="corr"):
        pop.corr = 1.5
    with pytest.raises(ann.InvalidValueError, match="tau"):
        pop.update([1.0, 2.0], tau=0.0)
    assert pop.corr == 0.4 and pop.tau == 20.0
    with pytest.raises(ann.NetworkError, match="update"):
        pop.mu = 3.0


def test_correlated_trains_bad_input():
    net = ann.Network(dt=1.0)
    with pytest.raises(ann.InvalidValueError, match="needs a schedule"):
        ann.HomogeneousCorrelatedSpikeTrains(3, [1.0, 2.0], 0.1, 10.0, network=net)
    with pytest.raises(ann.InvalidValueError, match="rates"):
        ann.HomogeneousCorrelatedSpikeTrains(3, -1.0, 0.1, 10.0, network=net)
    with pytest.raises(ann.InvalidTypeError, match="corr"):
        ann.HomogeneousCorrelatedSpikeTrains(3, 1.0, "high", 10.0, network=net)


# SpikeSourceArray after compile ---------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS)
def test_spike_source_array_times_set_after_compile_and_reset(config):
    net = ann.Network(dt=1.0, seed=1)
    inp = net.create(ann.SpikeSourceArray([[1, 5, 7], [2, 3]]))
    net, m = compiled(inp, config, variables=("spike",))
    net.simulate(10.0)
    inp.reset()  # the same times, from now (step 10)
    net.simulate(10.0)
    inp.spike_times = [[12.0, 25.0], [0.0, 30.0, 35.0, 40.0]]  # counted from the reset; 0 is past
    net.simulate(30.0)
    assert m.get("spike") == {0: [1, 5, 7, 11, 15, 17, 22, 35], 1: [2, 3, 12, 13, 40, 45]}
    assert inp.spike_times == [[12.0, 25.0], [0.0, 30.0, 35.0, 40.0]]
    with pytest.raises(ann.InvalidValueError, match="do not fit"):
        inp.spike_times = [list(range(5000)), [1.0]]
    with pytest.raises(ann.NetworkError, match="2 neurons"):
        inp.spike_times = [[1.0]] * 3
    assert inp.spike_times == [[12.0, 25.0], [0.0, 30.0, 35.0, 40.0]]


# ImagePopulation --------------------------------------------------------------------------------
def test_image_population(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    ImagePopulation = ann.extensions.image.ImagePopulation
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5
    Image.fromarray(pixels, "RGB").save(tmp_path / "img.png")
    net = ann.Network(dt=1.0)
    color = net.create(ImagePopulation((4, 4, 3)))
    grey = net.create(ImagePopulation((2, 2)))
    color.set_image(tmp_path / "img.png")
    np.testing.assert_allclose(color.r, pixels / 255.0)
    net.compile()
    grey.set_image(str(tmp_path / "img.png"))
    expected = np.asarray(Image.open(tmp_path / "img.png").convert("L").resize((2, 2)), dtype=float) / 255.0
    np.testing.assert_allclose(grey.r, expected)
    with pytest.raises(ann.InvalidValueError, match="cannot read"):
        grey.set_image(tmp_path / "missing.png")
    with pytest.raises(ann.ShapeError):
        ImagePopulation((3, 2, 2), network=net)
