"""RandomDistribution wrappers: moments, clipping, reproducibility, repr."""
import numpy as np
import pytest

from anncompiler.core.random import (Binomial, DiscreteUniform, Exponential, Gamma, LogNormal,
                                     Normal, RandomDistribution, Uniform)

N = 200_000


def _check_mean(x, mean, var):
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / x.size)


@pytest.mark.parametrize("dist, mean, var", [
    (Uniform(-1.0, 3.0, rng=np.random.default_rng(1)), 1.0, 16 / 12),
    (DiscreteUniform(0, 4, rng=np.random.default_rng(2)), 2.0, (5 ** 2 - 1) / 12),
    (Normal(2.0, 0.5, rng=np.random.default_rng(3)), 2.0, 0.25),
    (LogNormal(0.0, 0.5, rng=np.random.default_rng(4)), np.exp(0.125), (np.exp(0.25) - 1) * np.exp(0.25)),
    (Exponential(2.0, rng=np.random.default_rng(5)), 2.0, 4.0),          # Lambda is a scale here
    (Gamma(3.0, 2.0, rng=np.random.default_rng(6)), 6.0, 12.0),
    (Binomial(10, 0.3, rng=np.random.default_rng(7)), 3.0, 2.1),
])
def test_moments(dist, mean, var):
    x = dist.get_values(N)
    assert x.shape == (N,)
    _check_mean(x, mean, var)
    assert abs(x.var() - var) < 0.05 * var


def test_discrete_uniform_inclusive_integers():
    x = DiscreteUniform(1, 3, rng=np.random.default_rng(0)).get_values(10_000)
    assert np.issubdtype(x.dtype, np.integer)
    assert set(np.unique(x)) == {1, 2, 3}


def test_shapes_and_scalar():
    d = Normal(0.0, 1.0)
    assert d.get_values((3, 4)).shape == (3, 4)
    assert d.get_values(5).shape == (5,)
    assert isinstance(d.get_value(), float)
    assert isinstance(DiscreteUniform(0, 3).get_value(), int)


@pytest.mark.parametrize("dist", [Normal(0.0, 1.0, min=-0.5, max=0.5),
                                  LogNormal(0.0, 1.0, min=0.5, max=2.0),
                                  Exponential(1.0, min=0.2, max=1.5),
                                  Gamma(2.0, 1.0, min=1.0, max=3.0)])
def test_clipping(dist):
    x = dist.get_values(10_000)
    assert x.min() >= dist.min and x.max() <= dist.max
    assert np.any(x == dist.min) and np.any(x == dist.max)


def test_one_sided_clipping():
    x = Normal(0.0, 1.0, min=0.0).get_values(1000)
    assert x.min() == 0.0 and x.max() > 1.0


def test_seeded_rng_reproducible():
    a = Normal(0.0, 1.0, rng=np.random.default_rng(42)).get_values(10)
    b = Normal(0.0, 1.0, rng=np.random.default_rng(42)).get_values(10)
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    assert Uniform(0, 1, rng=g).rng is g


def test_default_rng_is_fresh():
    a, b = Uniform(0, 1), Uniform(0, 1)
    assert isinstance(a.rng, np.random.Generator) and a.rng is not b.rng


def test_uniform_requires_min_below_max():
    with pytest.raises(ValueError):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError):
        Uniform(2.0, 1.0)


@pytest.mark.parametrize("dist", [Uniform(0.0, 1.0), DiscreteUniform(0, 5), Normal(0.0, 1.0),
                                  Normal(0.0, 1.0, min=-1.0, max=1.0), LogNormal(0.0, 1.0, max=3.0),
                                  Exponential(2.0), Gamma(2.0, 0.5, min=0.1), Binomial(5, 0.5)])
def test_repr_round_trips(dist):
    ns = {c.__name__: c for c in (Uniform, DiscreteUniform, Normal, LogNormal, Exponential, Gamma, Binomial)}
    again = eval(repr(dist), ns)
    assert type(again) is type(dist) and again.args == dist.args
    assert repr(again) == repr(dist)


def test_repr_examples():
    assert repr(Normal(0.0, 1.0)) == "Normal(0.0, 1.0)"
    assert repr(Uniform(-1.0, 1.0)) == "Uniform(-1.0, 1.0)"


def test_name_and_args():
    d = Gamma(2.0, 3.0, max=10.0)
    assert isinstance(d, RandomDistribution)
    assert d.distribution_name == "Gamma"
    assert d.args == {"alpha": 2.0, "beta": 3.0, "min": None, "max": 10.0}
    assert Binomial(4, 0.2).args == {"n": 4, "p": 0.2}
