"""Binomial(n, p) in equations: inversion (cost growing with n*p) for p <= 0.5 and a moderate
mean, Bernoulli trials otherwise; the distribution checked against the exact probabilities, and
the same bits on every backend and thread count."""
import math

import numpy as np
import pytest

import anncompiler as ann


def draws(backend, n, p, size=4000, steps=3, threads=1):
    net = ann.Network(dt=1.0, seed=11)
    net.config(num_threads=threads)
    pop = net.create(size, ann.Neuron(parameters=f"n = {float(n)} : population\np = {p} : population",
                                      equations="r = Binomial(n, p)"))
    m = net.monitor(pop, "r")
    net.compile(backend=backend)
    net.simulate(float(steps))
    return m.get("r").ravel()


def pmf(n, p, k):
    return math.comb(n, k) * p ** k * (1 - p) ** (n - k)


@pytest.mark.parametrize("n,p", [(2000, 0.0008), (150, 0.3), (1000, 0.1), (300, 0.7)])
def test_distribution_matches_the_exact_probabilities(n, p):
    x = draws("llvm", n, p, size=20000, steps=1)
    assert np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= n
    mean, var = n * p, n * p * (1 - p)
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / x.size)
    assert abs(x.var() - var) < 0.1 * var
    # the most likely values appear with their probability (5 standard errors)
    for k in range(max(0, int(mean - 2 * math.sqrt(var))), int(mean + 2 * math.sqrt(var)) + 1):
        f, q = np.mean(x == k), pmf(n, p, k)
        assert abs(f - q) < 5 * math.sqrt(q * (1 - q) / x.size) + 1e-4, (k, f, q)


@pytest.mark.parametrize("n,p", [(2000, 0.0008), (300, 0.7)])
def test_same_bits_on_every_backend_and_thread_count(n, p):
    ref = draws("reference", n, p, size=60)
    for threads in (1, 2):
        np.testing.assert_array_equal(draws("llvm", n, p, size=60, threads=threads), ref)


def test_edges():
    assert not draws("llvm", 500, 0.0).any()
    assert not draws("llvm", 0, 0.3).any()
    assert np.all(draws("llvm", 80, 1.0) == 80)
