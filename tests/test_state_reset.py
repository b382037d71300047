"""net.reset, pop.reset, proj.reset: back to the values at compile time (then the same run again
gives the same bits), and memory_footprint."""
import numpy as np
import pytest

import anncompiler as ann
from state_networks import build, recording, same, state_arrays


@pytest.mark.parametrize("backend,threads", [("llvm", 1), ("llvm", 2), ("reference", 1)])
@pytest.mark.parametrize("kind", ["coba", "stdp", "timed"])
def test_reset_runs_the_same_simulation_again(kind, backend, threads):
    net, monitors = build(kind, backend, threads)
    compiled = state_arrays(net)
    net.simulate(3.0)
    first = recording(monitors)
    net.simulate(1.0)
    net.reset(projections=True)
    assert net.current_step == 0 and net.time == 0.0
    now = state_arrays(net)
    assert all(compiled[k].tobytes() == now[k].tobytes() for k in compiled if not k.startswith("monitor"))
    net.simulate(3.0)
    assert same(first, recording(monitors))


def test_reset_leaves_projections_by_default_and_empties_monitors():
    net, monitors = build("stdp")
    w0 = np.array(net._state("stdp", "w"))
    net.simulate(4.0)
    w = np.array(net._state("stdp", "w"))
    assert not np.array_equal(w, w0)
    net.reset()
    assert np.array_equal(np.array(net._state("stdp", "w")), w)
    assert all(len(s) == 0 for s in monitors[0].get("spike").values())
    assert monitors[0].get("v").shape[0] == 0
    net.get_projection("stdp").reset()
    assert np.array_equal(np.array(net._state("stdp", "w")), w0)


def test_population_reset_of_named_attributes():
    net, _ = build("coba")
    P = net.get_population("P")
    v0, last0 = P.v, np.array(net._state("P", "last_spike"))
    net.simulate(3.0)
    g = P.g_exc
    last = np.array(net._state("P", "last_spike"))
    assert not np.array_equal(last, last0)
    P.reset(["v"])
    assert np.array_equal(P.v, v0) and np.array_equal(P.g_exc, g)
    assert np.array_equal(np.array(net._state("P", "last_spike")), last)  # only the attributes named
    P.reset()
    assert np.array_equal(np.array(net._state("P", "last_spike")), last0)
    with pytest.raises(ann.UnknownNameError, match="'u'"):
        P.reset(["u"])
    with pytest.raises(ann.UnknownNameError, match="'q'"):
        net.get_projection("exc").reset(["q"])


def test_settings_given_after_compile_survive_a_reset():
    net, _ = build("coba")
    P = net.get_population("P")
    P.refractory = 1.0
    net.simulate(1.0)
    net.reset()
    assert P.refractory == pytest.approx(1.0)


def test_legacy_reset(quiet_deprecations):
    pop = ann.Population(2, ann.Neuron(equations="r = r + 1.0"))
    ann.compile()
    ann.simulate(3.0)
    ann.reset()
    assert ann.get_current_step() == 0 and np.all(pop.r == 0.0)


def test_memory_footprint(capsys):
    net, monitors = build("coba")
    net.simulate(1.0)
    report = net.memory_footprint()
    printed = capsys.readouterr().out
    assert "P" in printed and "total" in printed
    own = sum(a.nbytes for n, a in net._arrays.items() if n.startswith("P."))
    assert report["P"]["native"] == own
    assert report["exc"]["native"] > 0 and report["monitor0"]["python"] > 0
    assert report["total"]["native"] == sum(a.nbytes for a in net._arrays.values())
    net.memory_footprint(show_py_side=False, show_cpp_side=False)
    assert capsys.readouterr().out == ""
