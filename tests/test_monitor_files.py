"""Recordings on disk: Monitor.save, MonitorList.save_all, streamed monitors, the memory warning."""
import sys
import warnings

import numpy as np
import pytest

import anncompiler as ann
import anncompiler.core.recording_memory as recording_memory
import anncompiler.passes.lowering as lowering
import anncompiler.passes.lowering.monitors as lowering_monitors

from conftest import counter_neuron

h5py = pytest.importorskip("h5py")


def spiking_network(backend="llvm", threads=1):
    net = ann.Network(dt=0.5, seed=11)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters=dict(tau=10.0),
                        equations=["tau * dv/dt = -v + g_exc + 6.0 * Uniform(0.0, 1.0)", "tau * dg_exc/dt = -g_exc",
                                   "n = n + 1.0 : population"],
                        spike="v > 2.0", reset="v = 0.0")
    pop = net.create((4, 5), neuron, name="P")
    net.connect(pop, pop, "exc").fixed_probability(0.3, weights=0.3)
    return net, pop


@pytest.fixture
def small_buffers(monkeypatch):
    """Tiny native buffers: the runtime drains (and a stream appends) every few steps."""
    original = lowering_monitors.monitor_layout

    def layout(spec, pop_size):
        lay = dict(original(spec, pop_size))
        lay["rows"] = 7
        lay["spike_capacity"] = 40
        return lay
    monkeypatch.setattr(lowering_monitors, "monitor_layout", layout)
    monkeypatch.setattr(lowering, "monitor_layout", layout)


@pytest.mark.parametrize("backend,threads", [("reference", 1), ("llvm", 1), ("llvm", 2)])
def test_streamed_recording_equals_the_in_memory_one(tmp_path, small_buffers, backend, threads):
    net, pop = spiking_network(backend, threads)
    variables = ["v", "g_exc", "n", "spike"]
    memory = net.monitor(pop, variables, name="memory")
    stream = net.monitor(pop, variables, name="stream", stream=tmp_path / "rec.h5")
    view_memory = net.monitor(pop[1, :], ["v", "spike"], period=1.5)
    view_stream = net.monitor(pop[1, :], ["v", "spike"], period=1.5, stream=str(tmp_path / "view.h5"))
    assert stream.stream == str(tmp_path / "rec.h5") and memory.stream is None
    net.compile(backend=backend)
    net.simulate(20.0)
    a, b = memory.get(keep=True), stream.get(keep=True)
    for v in ("v", "g_exc", "n"):
        assert a[v].dtype == b[v].dtype and a[v].shape == b[v].shape
        np.testing.assert_array_equal(a[v], b[v])
    assert a["v"].shape == (40, 4, 5) and a["n"].shape == (40,)
    assert a["spike"] == b["spike"] and sum(map(len, a["spike"].values())) > 20
    np.testing.assert_array_equal(view_memory.get("v"), view_stream.get("v"))
    assert view_stream.get("spike") == view_memory.get("spike")
    # emptied by get(): the next get() returns only what follows, the file keeps everything
    np.testing.assert_array_equal(memory.get("v"), stream.get("v"))
    net.simulate(5.0)
    np.testing.assert_array_equal(memory.get("v", reshape=False), stream.get("v", reshape=False))
    assert memory.get("v").shape == (0, 4, 5) == stream.get("v").shape
    on_disk = ann.load_recording(tmp_path / "rec.h5")
    assert on_disk["v"].shape == (50, 20)
    assert on_disk["spike"].keys() == set(range(20))
    with h5py.File(tmp_path / "rec.h5") as f:
        assert f["v"].maxshape == (None, 20) and f.attrs["population"] == "P"
        assert list(f.attrs["geometry"]) == [4, 5]


def test_stream_of_a_monitor_added_after_compile_and_of_new_variables(tmp_path):
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(3, counter_neuron())
    net.compile()
    net.simulate(2.0)
    m = net.monitor(pop, "r", stream=tmp_path / "late.h5")
    net.simulate(2.0)
    np.testing.assert_array_equal(m.get("r", keep=True)[:, 0], [3.0, 4.0])
    m.reset()
    net.simulate(1.0)
    np.testing.assert_array_equal(m.get("r")[:, 2], [5.0])
    np.testing.assert_array_equal(ann.load_recording(tmp_path / "late.h5")["r"][:, 0], [3.0, 4.0, 5.0])


def test_save_npy_and_hdf5_round_trip(tmp_path):
    net, pop = spiking_network()
    m = net.monitor(pop, ["v", "n", "spike"])
    net.compile()
    net.simulate(10.0)
    expected = m.get(keep=True, reshape=False)
    m.save(tmp_path / "v.npy", "v", keep=True)
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"), expected["v"])
    m.save(str(tmp_path / "all.h5"), keep=True, reshape=True)
    back = ann.load_recording(tmp_path / "all.h5")
    assert set(back) == {"v", "n", "spike"}
    np.testing.assert_array_equal(back["v"], expected["v"].reshape(20, 4, 5))
    np.testing.assert_array_equal(back["n"], expected["n"])
    assert back["spike"] == expected["spike"]
    m.save(tmp_path / "emptied.hdf5")  # without keep, as get(): the recording is emptied
    assert m.get("v").shape == (0, 4, 5) and m.get("spike") == {r: [] for r in range(20)}
    np.testing.assert_array_equal(ann.load_recording(tmp_path / "emptied.hdf5")["v"], expected["v"])


def test_save_refuses_bad_files_and_variables(tmp_path):
    net, pop = spiking_network()
    m = net.monitor(pop, ["v", "spike"])
    net.compile()
    net.simulate(2.0)
    for call in (lambda: m.save(tmp_path / "x.npz"), lambda: m.save(tmp_path / "x.npy"),
                 lambda: m.save(tmp_path / "x.npy", "spike"), lambda: m.save(tmp_path / "x.h5", "w"),
                 lambda: m.save(12), lambda: net.monitor(pop, "v", stream=tmp_path / "x.npy")):
        with pytest.raises(ann.AnnCompilerError):
            call()
    assert m.get("v").shape == (4, 4, 5)  # nothing was emptied by the refused calls


def test_save_all_groups_and_flat_keys(tmp_path):
    net, pop = spiking_network()
    a = net.monitor(pop, ["v", "spike"], name="all")
    b = net.monitor(pop[0:2, 0:2], "g_exc", period=1.0, name="corner")
    net.compile()
    net.simulate(6.0)
    ra, rb = a.get(keep=True, reshape=False), b.get("g_exc", keep=True, reshape=False)
    ann.MonitorList([a, b]).save_all(tmp_path / "x.h5", keep=True)
    np.testing.assert_array_equal(ann.load_recording(tmp_path / "x.h5", "all")["v"], ra["v"])
    assert ann.load_recording(tmp_path / "x.h5", "all")["spike"] == ra["spike"]
    np.testing.assert_array_equal(ann.load_recording(tmp_path / "x.h5", "corner")["g_exc"], rb)
    ann.MonitorList([a, b]).save_all(tmp_path / "flat.hdf5", flat_keys=True)
    flat = ann.load_recording(tmp_path / "flat.hdf5")
    assert set(flat) == {"all_v", "all_spike", "corner_g_exc"}
    np.testing.assert_array_equal(flat["corner_g_exc"], rb)
    assert a.get("v").shape == (0, 4, 5)  # save_all without keep emptied them
    with pytest.raises(ann.AnnCompilerError):
        ann.MonitorList([a, "nope"]).save_all(tmp_path / "y.h5")


def test_missing_h5py_is_a_clear_error(tmp_path, monkeypatch):
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(1, counter_neuron())
    m = net.monitor(pop, "r")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ann.NotSupportedError, match="h5py"):
        m.save(tmp_path / "x.h5")
    with pytest.raises(ann.NotSupportedError, match="hdf5"):
        net.monitor(pop, "r", stream=tmp_path / "x.h5")


def test_memory_warning_before_a_simulation_too_large_to_record(monkeypatch, tmp_path):
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(100, counter_neuron())
    m = net.monitor(pop, "r", period=2.0)
    net.monitor(pop, "r", stream=tmp_path / "s.h5")  # on disk: not counted
    net.compile()
    # 1000 steps, a row every 2 steps: 500 rows * 100 values * 8 bytes = 400000 bytes
    monkeypatch.setattr(recording_memory, "available_memory", lambda: 810_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ann.RecordingMemoryWarning)
        net.simulate(1000.0)  # 400000 bytes, half the memory available is 405000
    with pytest.warns(ann.RecordingMemoryWarning, match=m.name):
        net.simulate(1000.0)  # 400000 held + 400000 coming > 405000
    m.get()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ann.RecordingMemoryWarning)
        net.simulate(1000.0)
        m.pause()
        net.simulate(100000.0)  # paused: nothing more is recorded
