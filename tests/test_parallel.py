"""net.copy() and net.parallel_run() (local processes and Dask): the same results as building and
running the networks one after another with the same seeds."""
import pytest

import anncompiler as ann


class Balanced(ann.Network):
    """Poisson inputs into LIF neurons through random connections with random weights."""

    def __init__(self, size=20, rate=40.0):
        self.inp = self.create(ann.PoissonPopulation(30, rates=rate))
        self.pop = self.create(size, ann.Neuron(parameters="tau = 10.0", equations="tau*dv/dt = -v + g_exc",
                                                spike="v > 0.15", reset="v = 0.0"))
        proj = self.connect(self.inp, self.pop, "exc")
        proj.fixed_probability(0.3, weights=ann.Uniform(0.5, 1.5, rng=self.default_rng))
        self.m = self.monitor(self.pop, "spike")


def spike_counts(net, duration=200.0):
    net.simulate(duration)
    return [len(s) for s in net.m.get("spike").values()]


def spike_counts_and_rate(net, duration=100.0, factor=1.0):
    net.inp.rates = net.inp.rates * factor
    return spike_counts(net, duration), net.seed


def sequential(seeds, **ctor):
    out = []
    for s in seeds:
        net = Balanced(dt=0.5, seed=s, **ctor)
        net.compile()
        out.append(spike_counts(net))
    return out


def test_copy_rebuilds_and_compiles_like_the_original():
    net = Balanced(size=10, dt=0.5, seed=3)
    net.config(num_threads=2)
    net.compile(backend="reference")
    twin = net.copy(seed=3)  # the original's constructor arguments, dt and configuration
    assert type(twin) is Balanced and twin.compiled and twin is not net
    assert twin.dt == 0.5 and twin.seed == 3 and twin.pop.size == 10
    assert twin._config["num_threads"] == 2 and twin._backend_used == "reference"
    assert spike_counts(twin, 50.0) == spike_counts(net, 50.0)
    other = net.copy(5, rate=10.0)  # new constructor arguments, a fresh seed
    assert other.pop.size == 5 and other.seed != net.seed and other.compiled
    uncompiled = Balanced(size=4, dt=0.5).copy()
    assert not uncompiled.compiled and uncompiled.pop.size == 4


def test_copy_and_parallel_run_need_a_subclass():
    net = ann.Network(dt=1.0)
    net.create(2, ann.Neuron(parameters="r = 1.0"))
    with pytest.raises(ann.NetworkError, match="subclass"):
        net.copy()
    with pytest.raises(ann.NetworkError, match="subclass"):
        net.parallel_run(spike_counts, 2)


def test_parallel_run_equals_sequential_runs():
    net = Balanced(dt=0.5, seed=11)
    net.compile()
    results = net.parallel_run(spike_counts, number=3, max_processes=2, seeds=[1, 2, 3])
    assert results == sequential([1, 2, 3])
    assert results[0] != results[1]  # different seeds, different networks
    # 'same' seeds: the network's own seed for every copy; 'sequential': seed, seed+1, ...
    assert net.parallel_run(spike_counts, number=2, max_processes=1, seeds="same") == sequential([11, 11])
    assert net.parallel_run(spike_counts, number=2, max_processes=1, seeds="sequential") == sequential([11, 12])


def test_parallel_run_hands_keywords_to_the_constructor_or_the_method(capsys):
    net = Balanced(dt=0.5, seed=1)
    results = net.parallel_run(spike_counts_and_rate, number=2, max_processes=1, seeds=[4, 5], size=[3, 6],
                               factor=0.5, measure_time=True)
    assert [len(r[0]) for r in results] == [3, 6] and [r[1] for r in results] == [4, 5]
    one = Balanced(size=6, dt=0.5, seed=5)
    one.compile()
    assert results[1][0] == spike_counts_and_rate(one, factor=0.5)[0]
    assert "Running 2 networks in parallel took" in capsys.readouterr().out


def test_parallel_run_bad_arguments():
    net = Balanced(dt=0.5, seed=1)
    with pytest.raises(ann.InvalidValueError, match="speed"):
        net.parallel_run(spike_counts, 2, speed=3)
    with pytest.raises(ann.InvalidValueError, match="3 seeds for 2"):
        net.parallel_run(spike_counts, 2, seeds=[1, 2, 3])
    with pytest.raises(ann.InvalidValueError, match="seeds"):
        net.parallel_run(spike_counts, 2, seeds="random")
    with pytest.raises(ann.InvalidValueError, match="number"):
        net.parallel_run(spike_counts, 0)
    with pytest.raises(ann.InvalidTypeError, match="method"):
        net.parallel_run("spike_counts", 2)


@pytest.mark.parametrize("processes", [False, True])
def test_parallel_run_on_a_dask_cluster(processes):
    distributed = pytest.importorskip("dask.distributed")
    net = Balanced(dt=0.5, seed=1)
    net.compile()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        results = net.parallel_run(spike_counts, number=3, seeds=[1, 2, 3], client=client)
    assert results == sequential([1, 2, 3])
