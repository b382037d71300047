"""The on-disk object cache of the llvm backend: hits, misses, corruption, opt-out."""
import os

import numpy as np
import pytest

import anncompiler as ann


def build(n=20, B=0.5):
    net = ann.Network(dt=1.0, seed=3)
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=B), equations="tau * dr/dt + r = B + sum(exc)",
                        name="Leaky")
    pop = net.create(n, neuron)
    net.connect(pop, pop, "exc").fixed_probability(0.3, weights=0.02)
    return net, pop


def run(n=20, B=0.5):
    net, pop = build(n, B)
    net.compile()
    net.simulate(50.0)
    return net, pop.r.copy()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ANNC_NO_CACHE", raising=False)
    return tmp_path / "cache"


def test_second_compile_hits_the_cache_and_gives_the_same_results(cache_dir):
    net1, r1 = run()
    net2, r2 = run()
    assert net1.compile_report["cache_hit"] is False
    assert net2.compile_report["cache_hit"] is True
    np.testing.assert_array_equal(r1, r2)
    assert any(f.endswith(".o") for _, _, files in os.walk(cache_dir) for f in files)


def test_a_different_model_misses(cache_dir):
    run(n=20)
    net, _ = run(n=21)
    assert net.compile_report["cache_hit"] is False


def test_parameter_values_do_not_change_the_code(cache_dir):
    """Parameters live in arrays, so another value reuses the same object code."""
    _, r1 = run(B=0.5)
    net, r2 = run(B=0.7)
    assert net.compile_report["cache_hit"] is True
    assert not np.allclose(r1, r2)


def test_corrupted_entry_is_ignored_and_replaced(cache_dir):
    _, r1 = run()
    for root, _, files in os.walk(cache_dir):
        for f in files:
            if f.endswith(".o"):
                with open(os.path.join(root, f), "r+b") as fh:
                    fh.seek(40)
                    fh.write(b"garbage!")
    net, r2 = run()
    assert net.compile_report["cache_hit"] is False
    np.testing.assert_array_equal(r1, r2)
    net, _ = run()
    assert net.compile_report["cache_hit"] is True


def test_cache_can_be_turned_off(cache_dir, monkeypatch):
    monkeypatch.setenv("ANNC_NO_CACHE", "1")
    run()
    net, _ = run()
    assert net.compile_report["cache_hit"] is False
    assert not cache_dir.exists()


def test_dumps_of_a_cache_hit_still_hold_the_optimised_ir(cache_dir, tmp_path):
    run()
    net, pop = build()
    net.compile(dump_ir=str(tmp_path / "ir"))
    assert net.compile_report["cache_hit"] is True
    opt = [f for f in os.listdir(tmp_path / "ir") if f.endswith("llvm-opt.ll")]
    assert opt and "define" in open(tmp_path / "ir" / opt[0]).read()
