"""Monitor API: shapes, views, periods, start/pause/resume, spikes, draining across chunks."""
import numpy as np
import pytest

import anncompiler as ann
import anncompiler.passes.lowering as lowering
import anncompiler.passes.lowering.monitors as lowering_monitors

from conftest import counter_neuron


def spiking():
    return ann.Neuron(parameters=dict(Vt=1.0), equations="v = v + 0.4", spike="v > Vt", reset="v = 0.0",
                      name="Ramp")


def test_shapes_reshape_and_flat():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create((2, 3), counter_neuron())
    m = net.monitor(pop, "r")
    net.compile()
    net.simulate(10.0)
    r = m.get("r", keep=True)
    assert r.shape == (10, 2, 3)
    np.testing.assert_array_equal(r[:, 1, 2], np.arange(1.0, 11.0))  # recorded after the update
    flat = m.get("r", reshape=False, keep=True)
    assert flat.shape == (10, 6)
    assert m.get("r").shape == (10, 2, 3)
    assert m.get("r").shape == (0, 2, 3)  # emptied by the previous get()


def test_single_neuron_population_keeps_its_axis():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(1, counter_neuron())
    m = net.monitor(pop, "r")
    net.compile()
    net.simulate(4.0)
    r = m.get("r")
    assert r.shape == (4, 1)
    np.testing.assert_array_equal(r[:, 0], [1.0, 2.0, 3.0, 4.0])


def test_global_variable_is_one_column():
    net = ann.Network(dt=1.0, seed=1)
    neuron = ann.Neuron(parameters=dict(k=2.0), equations=["g = g + k : population", "r = g"])
    pop = net.create(3, neuron)
    m = net.monitor(pop, ["g", "r"])
    net.compile()
    net.simulate(3.0)
    data = m.get()
    np.testing.assert_array_equal(data["g"], [2.0, 4.0, 6.0])
    assert data["r"].shape == (3, 3)


def test_view_monitor_and_period():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create((2, 3), counter_neuron())
    pop.r = np.arange(6.0).reshape(2, 3) * 100.0
    view = net.monitor(pop[[1, 4]], "r")
    sub = net.monitor(pop[0:2, 1:3], "r")
    every3 = net.monitor(pop, "r", period=3.0)
    assert every3.period == 3.0
    net.compile()
    net.simulate(10.0)
    np.testing.assert_array_equal(view.get("r"), np.array([[100.0, 400.0]]) + np.arange(1.0, 11.0)[:, None])
    s = sub.get("r")
    assert s.shape == (10, 2, 2)
    np.testing.assert_array_equal(s[0], [[101.0, 201.0], [401.0, 501.0]])
    e = every3.get("r")
    assert e.shape == (4, 2, 3)  # steps 0, 3, 6, 9
    np.testing.assert_array_equal(e[:, 0, 0], [1.0, 4.0, 7.0, 10.0])


def test_start_false_then_start_pause_resume():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron())
    m = net.monitor(pop, "r", start=False)
    net.compile()
    net.simulate(10.0)
    assert m.get("r").shape == (0, 2)
    m.start()
    net.simulate(3.0)   # steps 10, 11, 12
    m.pause()
    net.simulate(3.0)
    m.resume()
    net.simulate(2.0)   # steps 16, 17
    np.testing.assert_array_equal(m.get("r")[:, 0], [11.0, 12.0, 13.0, 17.0, 18.0])


def test_spikes_raster_mean_fr_and_keep():
    net = ann.Network(dt=0.5, seed=1)
    pop = net.create(3, spiking())
    pop.v = [0.0, 0.5, 0.9]
    m = net.monitor(pop, ["spike", "v"])
    net.compile()
    net.simulate(10.0)  # 20 steps
    expected = {0: [2, 5, 8, 11, 14, 17], 1: [1, 4, 7, 10, 13, 16, 19], 2: [0, 3, 6, 9, 12, 15, 18]}
    assert m.get("spike", keep=True) == expected
    t, n = m.raster_plot()
    assert len(t) == len(n) == 20
    assert sorted(zip(n.tolist(), t.tolist())) == sorted((r, s * 0.5) for r, ss in expected.items() for s in ss)
    assert m.mean_fr() == pytest.approx(20 / 3 / 0.010)
    assert m.get("spike") == expected  # the analysis functions did not empty the buffer
    assert m.get("spike") == {0: [], 1: [], 2: []}
    assert m.get("v").shape == (20, 3)  # only 'spike' was read and emptied
    net.simulate(1.0)
    both = m.get()
    assert set(both) == {"spike", "v"} and both["v"].shape == (2, 3)


def test_spikes_of_a_view():
    net = ann.Network(dt=0.5, seed=1)
    pop = net.create(3, spiking())
    pop.v = [0.0, 0.5, 0.9]
    m = net.monitor(pop[1:], "spike")
    net.compile()
    net.simulate(2.0)
    assert m.get("spike") == {1: [1], 2: [0, 3]}


def test_recording_across_simulate_calls():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron())
    m = net.monitor(pop, "r")
    net.compile()
    for _ in range(5):
        net.simulate(7.0)
    net.step()
    r = m.get("r")
    assert r.shape == (36, 2)
    np.testing.assert_array_equal(r[:, 1], np.arange(1.0, 37.0))


@pytest.fixture
def small_buffers(monkeypatch):
    """Force tiny monitor buffers so the native loop stops early and the runtime drains often."""
    original = lowering_monitors.monitor_layout

    def layout(spec, pop_size):
        lay = dict(original(spec, pop_size))
        lay["rows"] = 37
        lay["spike_capacity"] = 64
        return lay
    monkeypatch.setattr(lowering_monitors, "monitor_layout", layout)
    monkeypatch.setattr(lowering, "monitor_layout", layout)
    return layout


def test_recording_across_chunks_with_small_buffers(small_buffers):
    net = ann.Network(dt=0.1, seed=1)
    pop = net.create(2, counter_neuron())
    m = net.monitor(pop, "r")
    net.compile()
    assert net._arrays[f"{m.name}.r"].size == 2 * 37
    net.simulate(2500.0)  # 25000 steps: several CHUNK_STEPS chunks, hundreds of buffer drains
    assert net.current_step == 25000
    r = m.get("r")
    assert r.shape == (25000, 2)
    np.testing.assert_array_equal(r[:, 0], np.arange(1.0, 25001.0))
    np.testing.assert_array_equal(r[:, 1], np.arange(1.0, 25001.0))


def test_spike_recording_with_small_buffer(small_buffers):
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(4, ann.Neuron(equations="v = v + 1.0", spike="v > 0.5", reset="v = 0.0"))
    m = net.monitor(pop, ["spike", "v"])
    net.compile()
    net.simulate(500.0)  # 2000 spikes through a buffer of 64
    spikes = m.get("spike")
    assert spikes == {r: list(range(500)) for r in range(4)}


def test_recording_unknown_variable_is_an_error():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron(), name="counters")
    with pytest.raises(ann.AnnCompilerError) as err:  # refused at once, as ANNarchy does
        net.monitor(pop, "nope")
    assert "nope" in str(err.value) and "counters" in str(err.value)
    net.compile()  # the network stays usable


def test_spike_monitor_on_rate_population_is_an_error():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron())
    with pytest.raises(ann.AnnCompilerError, match="spike"):
        net.monitor(pop, "spike")


def test_get_unrecorded_variable_is_an_error():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, counter_neuron())
    m = net.monitor(pop, "r")
    net.compile()
    with pytest.raises(ann.NetworkError, match="does not record"):
        m.get("v")


@pytest.mark.parametrize("backend, threads", [("llvm", 1), ("reference", 1), ("llvm", 2), ("llvm", 3)])
@pytest.mark.parametrize("size", [63, 64, 200])
def test_spike_emission_at_block_edges(backend, threads, size):
    """Spike flags are scanned in blocks (passes/lowering/neurons.py), per partition with several
    threads: neurons at the edges of a block and in the remainder after the last full block all
    fire, in rank order, once."""
    net = ann.Network(dt=1.0)
    net.config(num_threads=threads)
    neuron = ann.Neuron(equations=["dv/dt = 0.0", "darmed/dt = 0.0"], spike="armed > 0.5",
                        reset="armed = 0.0")
    pop = net.create(size, neuron)
    chosen = sorted({0, 1, 62, 63, 64, 127, 128, 191, 192, 199} & set(range(size)))
    armed = np.zeros(size)
    armed[chosen] = 1.0
    pop.armed = armed
    m = net.monitor(pop, "spike")
    net.compile(backend=backend)
    net.simulate(3.0)
    assert {r: steps for r, steps in m.get("spike").items() if steps} == {r: [0] for r in chosen}
    assert list(net._arrays[f"{pop.name}._spiked"][:len(chosen)]) == chosen
