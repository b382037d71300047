"""PoissonPopulation (a neuron spiking when Uniform(0,1)*1000/dt < rates) and net.create(population)."""
import numpy as np
import pytest

import anncompiler as ann


def test_constant_and_per_neuron_rates():
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create(ann.PoissonPopulation(1000, rates=15.0))
    m = net.monitor(pop, "spike")
    net.compile()
    net.simulate(1000.0)
    assert abs(m.mean_fr() - 15.0) < 0.6  # 15000 spikes expected, sd ~ 0.12 Hz
    m.get("spike")  # and forget them
    pop.rates = np.r_[np.zeros(500), np.full(500, 40.0)]
    net.simulate(1000.0)
    spikes = m.get("spike")
    assert sum(len(spikes[r]) for r in range(500)) == 0
    assert abs(sum(len(spikes[r]) for r in range(500, 1000)) / 500.0 - 40.0) < 1.5


def test_rates_as_an_equation_and_from_a_target():
    net = ann.Network(dt=1.0, seed=2)
    timed = net.create(ann.PoissonPopulation(500, rates="if t < 500.0: 0.0 else: 50.0"))
    driver = net.create(200, ann.Neuron(parameters="r = 30.0"))
    bridged = net.create(ann.PoissonPopulation(200, target="exc"))
    net.connect(driver, bridged, "exc").one_to_one(weights=1.0)
    mt, mb = net.monitor(timed, "spike"), net.monitor(bridged, "spike")
    net.compile()
    net.simulate(1000.0)
    steps = np.concatenate([s for s in mt.get("spike").values() if s])
    assert steps.min() >= 500 and abs(len(steps) / 500 / 0.5 - 50.0) < 3.0
    assert abs(mb.mean_fr() - 30.0) < 2.0


def test_create_adopts_a_population_built_outside():
    net = ann.Network(dt=1.0)
    first = net.create(3, ann.Neuron(parameters="r = 0.0"))
    poisson = net.create(ann.PoissonPopulation(4, rates=5.0), name="inputs")
    assert poisson.name == "inputs" and poisson.id == 1 and net.get_population("inputs") is poisson
    assert first.name == "pop0"
    with pytest.raises(ann.NetworkError, match="rates or target"):
        ann.PoissonPopulation(2, rates=1.0, target="exc", network=net)
