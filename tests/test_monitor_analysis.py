"""Spike analyses of a Monitor (and the module-level functions) against numpy on the same recording."""
import numpy as np
import pytest

import anncompiler as ann

DT = 0.5


def recorded(n=20, duration=200.0, rate=40.0, view=False):
    net = ann.Network(dt=DT, seed=7)
    pop = net.create(ann.PoissonPopulation(n, rates=np.linspace(5.0, rate, n)))
    m = net.monitor(pop[2:12] if view else pop, "spike")
    net.compile()
    net.simulate(duration)
    return net, m, m.get("spike", keep=True)


def flat(spikes):
    steps = np.concatenate([np.asarray(s, dtype=int) for s in spikes.values()])
    ranks = np.concatenate([np.full(len(s), r) for r, s in spikes.items()])
    return steps, ranks


def test_raster_plot_in_ms():
    net, m, spikes = recorded()
    t, n = m.raster_plot()
    steps, ranks = flat(spikes)
    np.testing.assert_allclose(t, steps * DT)
    np.testing.assert_array_equal(n, ranks)
    t2, n2 = ann.raster_plot(spikes, dt=DT)
    np.testing.assert_array_equal(t2, t) and np.testing.assert_array_equal(n2, n)
    assert m.get("spike", keep=True) == spikes  # the analyses do not empty the recording


def test_histogram_bins_window_and_per_neuron():
    net, m, spikes = recorded()
    steps, ranks = flat(spikes)
    np.testing.assert_array_equal(m.histogram(), np.bincount(steps - steps.min()))
    width = 5  # 2.5 ms
    h = m.histogram(bins=2.5)
    n_bins = (steps.max() - steps.min()) // width + 1
    np.testing.assert_array_equal(h, np.bincount((steps - steps.min()) // width, minlength=n_bins))
    assert h.sum() == steps.size
    # a recording window in ms: [20 ms, 100 ms] = steps 40 .. 200
    h = m.histogram(bins=10.0, recording_window=(20.0, 100.0))
    inside = steps[(steps >= 40) & (steps <= 200)]
    np.testing.assert_array_equal(h, np.bincount((inside - 40) // 20, minlength=9))
    per = m.histogram(spikes, bins=2.5, per_neuron=True)
    assert per.shape == (20, n_bins)
    for r in (0, 7, 19):
        s = np.asarray(spikes[r], dtype=int)
        np.testing.assert_array_equal(per[r], np.bincount((s - steps.min()) // width, minlength=n_bins))
    np.testing.assert_array_equal(ann.histogram(spikes, bins=2.5, dt=DT), m.histogram(bins=2.5))


def test_inter_spike_intervals_and_coefficient_of_variation():
    net, m, spikes = recorded()
    per = m.inter_spike_interval(per_neuron=True)
    for r, s in spikes.items():
        if len(s) >= 2:
            np.testing.assert_allclose(per[r], np.diff(s) * DT)
        else:
            assert r not in per
    everything = m.inter_spike_interval()
    np.testing.assert_allclose(everything, np.concatenate([np.diff(s) * DT for s in spikes.values() if len(s) > 1]))
    some = m.inter_spike_interval(ranks=[3, 4], per_neuron=True)
    assert set(some) == {3, 4}
    cv = m.coefficient_of_variation()
    want = [np.std(np.diff(s)) / np.mean(np.diff(s)) for s in spikes.values() if len(s) > 2]
    np.testing.assert_allclose(cv, want)
    assert 0.5 < np.mean(cv) < 1.5  # Poisson trains: about 1
    np.testing.assert_allclose(ann.coefficient_of_variation(spikes, ranks=[5], dt=DT),
                               m.coefficient_of_variation(ranks=[5]))


def test_mean_fr_over_the_recording_window():
    net, m, spikes = recorded(view=True)
    total = sum(len(s) for s in spikes.values())
    assert len(spikes) == 10
    assert m.mean_fr() == pytest.approx(total / 10 / 0.2)
    steps, _ = flat(spikes)
    assert ann.mean_fr(spikes, dt=DT) == pytest.approx(total / 10 / ((steps.max() - steps.min()) * DT / 1000.0))
    assert ann.mean_fr(spikes, duration=200.0, dt=DT) == pytest.approx(m.mean_fr())
    # after get() the window starts again where the recording was emptied
    m.get("spike")
    net.simulate(100.0)
    again = m.get("spike", keep=True)
    assert min(min(s) for s in again.values() if s) >= 400
    assert m.mean_fr() == pytest.approx(sum(len(s) for s in again.values()) / 10 / 0.1)


def reference_smoothed(spikes, start, stop, smooth):
    rates = np.zeros((len(spikes), stop - start))
    for row, s in enumerate(spikes.values()):
        for a, b in zip(s[:-1], s[1:]):
            rates[row, a - start:b - start] = 1000.0 / ((b - a) * DT)
    if smooth == 0.0:
        return rates
    out = rates.copy()
    for t in range(1, rates.shape[1]):
        out[:, t] = out[:, t - 1] + (rates[:, t] - out[:, t - 1]) * DT / smooth
    return out


def test_smoothed_rate_and_population_rate():
    net, m, spikes = recorded()
    n_steps = net.current_step
    raw = m.smoothed_rate()
    assert raw.shape == (20, n_steps)
    np.testing.assert_allclose(raw, reference_smoothed(spikes, 0, n_steps, 0.0))
    np.testing.assert_allclose(m.smoothed_rate(smooth=20.0), reference_smoothed(spikes, 0, n_steps, 20.0))
    steps, _ = flat(spikes)
    pop = m.population_rate()
    np.testing.assert_allclose(pop, np.bincount(steps, minlength=n_steps) / (DT * 20 / 1000.0))
    assert pop.mean() == pytest.approx(m.mean_fr())
    smooth = m.population_rate(smooth=10.0)
    want = pop.copy()
    for t in range(1, n_steps):
        want[t] = want[t - 1] + (pop[t] - want[t - 1]) * DT / 10.0
    np.testing.assert_allclose(smooth, want)
    # module-level: from the first spike to the last one
    lo, hi = steps.min(), steps.max()
    np.testing.assert_allclose(ann.smoothed_rate(spikes, dt=DT), reference_smoothed(spikes, lo, hi, 0.0))
    np.testing.assert_allclose(ann.population_rate(spikes, dt=DT), pop[lo:hi + 1])


def test_analysis_errors():
    net = ann.Network(dt=1.0)
    pop = net.create(ann.PoissonPopulation(3, rates=10.0))
    m = net.monitor(pop, "rates")
    net.compile()
    with pytest.raises(ann.NetworkError, match="does not record 'spike'"):
        m.raster_plot()
    with pytest.raises(ann.InvalidValueError):
        ann.histogram({0: [1, 2]}, bins=-1.0)
    with pytest.raises(ann.InvalidTypeError):
        ann.raster_plot([1, 2, 3])
    assert ann.histogram({0: [], 1: []}).size == 0
    assert ann.mean_fr({}) == 0.0
    net.simulate(2.0)


def windowed_rate(spikes, n, n_steps, w, dt):
    """r at each step from the definition: spikes of the last w steps (this one included) * 1000 / (w dt)."""
    out = np.zeros((n_steps, n))
    for r, s in spikes.items():
        for t in range(n_steps):
            out[t, r] = sum(1 for x in s if t - w < x <= t) * 1000.0 / (w * dt)
    return out


@pytest.mark.parametrize("backend", ["llvm", "reference"])
def test_compute_firing_rate(backend):
    def run(threads):
        net = ann.Network(dt=0.5, seed=4)
        net.config(num_threads=threads)
        pop = net.create(ann.PoissonPopulation(30, rates=np.linspace(10.0, 200.0, 30)))
        pop.compute_firing_rate(10.0)
        src = net.create(ann.SpikeSourceArray([[0.0, 0.5, 3.0], [1.0]]))
        src.compute_firing_rate(2.0)
        m, ms = net.monitor(pop, ["spike", "r"]), net.monitor(src, "r")
        net.compile(backend=backend)
        net.simulate(60.0)
        return net, pop, m.get(), ms.get("r")

    net, pop, data, rs = run(1)
    np.testing.assert_allclose(data["r"], windowed_rate(data["spike"], 30, 120, 20, 0.5))
    np.testing.assert_allclose(rs, windowed_rate({0: [0, 1, 6], 1: [2]}, 2, 120, 4, 0.5))
    np.testing.assert_allclose(pop.r, data["r"][-1])
    np.testing.assert_allclose(pop[3:5].r, data["r"][-1][3:5])
    pop.compute_firing_rate(10.0)  # the compiled window: nothing changes
    with pytest.raises(ann.NetworkError, match="before compile"):
        pop.compute_firing_rate(20.0)
    net.simulate(1.0)
    two = run(2)
    np.testing.assert_array_equal(two[2]["r"], data["r"])


def test_compute_firing_rate_errors():
    net = ann.Network(dt=1.0)
    rate = net.create(2, ann.Neuron(equations="r = 1.0"))
    with pytest.raises(ann.NetworkError, match="spiking"):
        rate.compute_firing_rate(10.0)
    spiking = net.create(ann.PoissonPopulation(2, rates=10.0))
    with pytest.raises(ann.InvalidValueError):
        spiking.compute_firing_rate(0.2)
    with pytest.raises(ann.InvalidTypeError):
        spiking.compute_firing_rate("10")
    net.compile()
    net.simulate(2.0)
