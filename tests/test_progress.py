"""simulate()'s progress bar (net.config(progress=True/False/None)) and measure_time."""
import io
import sys

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.runtime import progress as progress_module
from anncompiler.runtime import simulate as simulate_module

pytest.importorskip("tqdm")


class Terminal(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def counter_net(setting="unset"):
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, ann.Neuron(equations="r = r + 1.0", name="Counter"))
    if setting != "unset":
        net.config(progress=setting)
    net.compile()
    return net, pop


@pytest.fixture
def short_chunks(monkeypatch):
    """Runs of a few chunks, and a bar in automatic mode from the first chunk on."""
    monkeypatch.setattr(simulate_module, "CHUNK_STEPS", 10)
    monkeypatch.setattr(progress_module, "AUTO_AFTER_SECONDS", 0.0)


@pytest.mark.parametrize("setting, tty, shown", [(True, False, True), (False, True, False),
                                                 (None, False, False), (None, True, True),
                                                 ("unset", True, True), ("unset", False, False)])
def test_when_the_bar_shows(monkeypatch, short_chunks, setting, tty, shown):
    stream = Terminal(tty)
    monkeypatch.setattr(sys, "stderr", stream)
    net, pop = counter_net(setting)
    net.simulate(100.0)
    assert ("simulate" in stream.getvalue()) == shown
    assert net.current_step == 100 and pop.r.tolist() == [100.0, 100.0]


def test_short_runs_show_no_bar_in_automatic_mode(monkeypatch):
    stream = Terminal(True)
    monkeypatch.setattr(sys, "stderr", stream)
    net, _ = counter_net()
    net.simulate(50.0)  # one chunk: done before there is anything to show
    assert stream.getvalue() == ""


def test_the_bar_counts_the_simulated_ms(monkeypatch, short_chunks):
    updates = []
    real = progress_module.Progress.advance

    def advance(self, done):
        real(self, done)
        updates.append((done, self.bar.n if self.bar is not None else None))
    monkeypatch.setattr(progress_module.Progress, "advance", advance)
    monkeypatch.setattr(sys, "stderr", Terminal(False))
    net, _ = ann.Network(dt=0.5, seed=1), None
    net.create(1, ann.Neuron(equations="r = r + 1.0"))
    net.config(progress=True)
    net.compile()
    net.simulate(20.0)
    assert [d for d, _ in updates] == [10, 10, 10, 10]
    np.testing.assert_allclose([n for _, n in updates], [5.0, 10.0, 15.0, 20.0])


def test_interrupted_run_closes_the_bar(monkeypatch, short_chunks):
    monkeypatch.setattr(sys, "stderr", Terminal(True))
    net, pop = counter_net(True)
    closed = []
    monkeypatch.setattr(progress_module.Progress, "close", lambda self: closed.append(self.done))
    real, calls = net._simulator.run, [0]

    def interrupted(n):
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return real(n)
    net._simulator.run = interrupted
    with pytest.raises(KeyboardInterrupt):
        net.simulate(100.0)
    assert closed == [20] and net.current_step == 20 and pop.r.tolist() == [20.0, 20.0]
    net._simulator.run = real
    net.simulate(5.0)
    assert net.current_step == 25


def test_bad_settings_and_missing_tqdm(monkeypatch):
    net = ann.Network(dt=1.0)
    with pytest.raises(ann.InvalidValueError, match="progress"):
        net.config(progress="yes")
    net.create(1, ann.Neuron(equations="r = r + 1.0"))
    net.config(progress=True)
    net.compile()
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed
    with pytest.raises(ann.NotSupportedError, match="tqdm"):
        net.simulate(2.0)
    assert net.current_step == 0
    net.config(progress=None)
    net.simulate(2.0)  # automatic mode does without tqdm
    assert net.current_step == 2


def test_measure_time_prints_the_duration(capsys):
    net, _ = counter_net(False)
    net.simulate(10.0, measure_time=True)
    assert capsys.readouterr().out.startswith("Simulating 0.01 seconds of the network took ")
