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


def _sizes(directory):
    return {os.path.join(r, f): os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(directory) for f in fs}


def test_the_cache_stays_under_its_size_limit_dropping_the_least_recently_used(cache_dir, monkeypatch):
    """Each distinct network adds its object code; past ANNC_CACHE_MAX_MB the oldest entries go,
    and an entry used again (a hit) counts as new."""
    run(n=20)
    first = _sizes(cache_dir)
    entry = sum(first.values())  # one network: its .o and .ll
    assert entry > 0
    monkeypatch.setenv("ANNC_CACHE_MAX_MB", str(2.75 * entry / 2 ** 20))  # room for two entries, not three
    old = os.path.getmtime(next(iter(first)))
    for path in first:  # the first entry is the least recently used one
        os.utime(path, (old - 100, old - 100))
    run(n=21)
    assert set(first) <= set(_sizes(cache_dir))  # two entries fit
    net, _ = run(n=20)  # a hit refreshes the first entry
    assert net.compile_report["cache_hit"] is True
    assert os.path.getmtime(next(iter(first))) > old - 100
    run(n=22)  # a third entry: the second (now the least recently used) goes
    files = _sizes(cache_dir)
    assert set(first) <= set(files)
    assert sum(files.values()) <= 2.75 * entry
    net, _ = run(n=21)
    assert net.compile_report["cache_hit"] is False


def test_prune_keeps_files_being_written_and_honours_no_limit(tmp_path, monkeypatch):
    from anncompiler.backends.disk_cache import prune
    for k in range(4):
        (tmp_path / f"e{k}.o").write_bytes(b"x" * 1000)
        os.utime(tmp_path / f"e{k}.o", (1000 + k, 1000 + k))
    (tmp_path / "e9.o.123.tmp").write_bytes(b"x" * 5000)
    (tmp_path / "e8.so.123.tmp.cpp").write_bytes(b"x" * 5000)  # a host library being built
    monkeypatch.setenv("ANNC_CACHE_MAX_MB", "0")
    assert prune(str(tmp_path)) == 0
    assert prune(str(tmp_path), limit=2500) == 2  # down to 80 % of the limit: e0 and e1 go
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e2.o", "e3.o", "e8.so.123.tmp.cpp", "e9.o.123.tmp"]
    monkeypatch.setenv("ANNC_CACHE_MAX_MB", "not a number")
    assert prune(str(tmp_path)) == 0  # the default limit, far above 7 kB
