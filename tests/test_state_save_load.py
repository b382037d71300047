"""net.save/load, pop.save/load, proj.save/load: ANNarchy's files, and a load that goes on
exactly as the simulation went on after the save (every backend and thread count)."""
import gzip
import pickle

import numpy as np
import pytest

import anncompiler as ann
from state_networks import NETWORKS, build, recording, same, state_arrays

RUNS = [("llvm", 1), ("llvm", 2), ("reference", 1)]


@pytest.mark.parametrize("backend,threads", RUNS)
@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_load_goes_on_with_the_same_bits(tmp_path, kind, backend, threads):
    net, monitors = build(kind, backend, threads)
    net.simulate(2.2)
    recording(monitors)
    path = tmp_path / "state.npz"
    net.save(path)
    saved_step = net.current_step
    net.simulate(3.0)
    first, final = recording(monitors), state_arrays(net)
    net.load(path)
    assert net.current_step == saved_step
    net.simulate(3.0)
    assert same(first, recording(monitors))
    # the same script in a fresh network
    fresh, fresh_monitors = build(kind, backend, threads)
    fresh.load(path)
    fresh.simulate(3.0)
    assert same(first, recording(fresh_monitors))
    again = state_arrays(fresh)
    assert all(final[k].tobytes() == again[k].tobytes() for k in final)


def test_something_happens_in_the_compared_runs():
    """The networks of the round trips spike and learn: the comparisons mean something."""
    net, monitors = build("coba")
    net.simulate(5.2)
    assert sum(len(s) for s in monitors[0].get("spike").values()) > 5
    net, monitors = build("stdp")
    w0 = np.array(net._state("stdp", "w"))
    net.simulate(5.2)
    assert sum(len(s) for s in monitors[0].get("spike").values()) > 0
    assert not np.array_equal(w0, np.array(net._state("stdp", "w")))


def test_a_file_saved_with_one_thread_loads_with_two(tmp_path):
    one, m1 = build("coba", "llvm", 1)
    one.simulate(2.2)
    one.save(tmp_path / "s.data")
    recording(m1)
    one.simulate(3.0)
    two, m2 = build("coba", "llvm", 2)
    two.load(tmp_path / "s.data")
    two.simulate(3.0)
    assert same(recording(m1), recording(m2))
    a, b = state_arrays(one), state_arrays(two)
    for name in a:
        if name in b and one.kernel_module.arrays[name].kind not in ("internal", "spikes"):
            assert a[name].tobytes() == b[name].tobytes(), name
    # spike lists: what lies past their count differs between thread counts
    assert one.get_population("P").spike == two.get_population("P").spike


@pytest.mark.parametrize("extension", [".npz", ".data", ".gz", ".txt.gz"])
def test_every_format_loads_back(tmp_path, extension):
    net, _ = build("coba")
    net.simulate(1.0)
    path = tmp_path / f"state{extension}"
    net.save(path)
    v = net.get_population("P").v
    net.simulate(1.0)
    net.load(path)
    assert np.array_equal(net.get_population("P").v, v)
    if extension.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            assert pickle.load(f)["time_step"] == 10


def test_annarchy_layout(tmp_path):
    net, _ = build("coba")
    net.simulate(1.0)
    net.save(tmp_path / "s.data")
    with open(tmp_path / "s.data", "rb") as f:
        desc = pickle.load(f)
    assert desc["time_step"] == 10 and desc["net_id"] == 0
    assert desc["obj_names"] == {"populations": ["P"], "projections": ["exc", "inh"]}
    P = desc["P"]
    assert P["name"] == "P" and P["size"] == 40 and P["geometry"] == (40,)
    assert set(P["attributes"]) == set(P["parameters"]) | set(P["variables"])
    assert np.array_equal(P["v"], net.get_population("P").v)
    exc = net.get_projection("exc")
    E = desc["exc"]
    assert E["pre"] == "P" and E["post"] == "P" and E["target"] == "exc"
    assert E["post_ranks"] == exc.post_ranks
    assert [list(r) for r in E["pre_ranks"]] == exc.pre_ranks
    assert E["w"] == 2.0  # one weight for every synapse
    assert [list(d) for d in E["delays"]] == exc.delay
    assert desc["inh"]["delays"] == pytest.approx(0.8)


def test_per_synapse_values_are_saved_per_dendrite(tmp_path):
    net, _ = build("stdp")
    proj = net.get_projection("stdp")
    proj.save(tmp_path / "p.npz")
    desc = dict(np.load(tmp_path / "p.npz", allow_pickle=True))
    w = np.asarray(desc["w"])
    assert w.shape == (8, 30) and np.array_equal(w, np.array(proj.w))
    assert desc["tau_plus"] == 10.0


def test_mat_files_are_written_but_not_loaded(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    net, _ = build("coba")
    net.simulate(0.5)
    net.save(tmp_path / "s.mat")
    data = scipy_io.loadmat(tmp_path / "s.mat")
    assert data["time_step"].item() == 5 and "P" in data
    with pytest.raises(ann.NotSupportedError, match="mat"):
        net.load(tmp_path / "s.mat")


def test_population_and_projection_files(tmp_path):
    net, _ = build("stdp")
    net.simulate(1.0)
    post, proj = net.get_population("post"), net.get_projection("stdp")
    post.save(tmp_path / "post.data")
    proj.save(tmp_path / "proj.npz")
    v, w = post.v, np.array(proj._flat("w"))
    net.simulate(2.0)
    assert not np.array_equal(post.v, v)
    post.load(tmp_path / "post.data")
    proj.load(tmp_path / "proj.npz")
    assert np.array_equal(post.v, v) and np.array_equal(proj._flat("w"), w)


def test_edited_values_are_loaded(tmp_path):
    net, _ = build("rate")
    net.save(tmp_path / "s.data")
    with open(tmp_path / "s.data", "rb") as f:
        desc = pickle.load(f)
    desc["R"]["r"] = np.full(20, 0.25)
    desc["R"]["tau"] = 7.0
    with open(tmp_path / "s.data", "wb") as f:
        pickle.dump(desc, f)
    net.load(tmp_path / "s.data")
    R = net.get_population("R")
    assert np.all(R.r == 0.25) and np.all(R.tau == 7.0)


def test_legacy_global_functions(tmp_path, quiet_deprecations):
    pop = ann.Population(3, ann.Neuron(equations="r = r + 1.0"))
    ann.compile()
    ann.simulate(4.0)
    ann.save(str(tmp_path / "g.npz"))
    ann.simulate(4.0)
    ann.load(str(tmp_path / "g.npz"))
    assert ann.get_current_step() == 4 and np.all(pop.r == 4.0)
    with pytest.raises(ann.InvalidValueError, match="net_id"):
        ann.save(str(tmp_path / "g.npz"), net_id=3)


# -- files that do not fit ---------------------------------------------------------------------
def _unchanged(net, before):
    after = state_arrays(net)
    return all(before[k].tobytes() == after[k].tobytes() for k in before)


def test_another_network_is_refused_and_nothing_changes(tmp_path):
    other = ann.Network(dt=0.1, seed=7)
    other.create(41, ann.Neuron(equations="r = 1.0"), name="P")
    other.compile()
    other.save(tmp_path / "size.data")
    net, _ = build("coba")
    net.simulate(1.0)
    before = state_arrays(net)
    with pytest.raises(ann.ShapeError, match="P.*41 neurons"):
        net.load(tmp_path / "size.data")
    assert _unchanged(net, before)

    other = ann.Network(dt=0.1, seed=7)
    other.create(3, ann.Neuron(equations="r = 1.0"), name="Q")
    other.compile()
    other.save(tmp_path / "names.data")
    with pytest.raises(ann.UnknownNameError, match="'Q'"):
        net.load(tmp_path / "names.data")
    assert _unchanged(net, before)


def test_other_synapses_and_unknown_attributes_are_refused(tmp_path):
    net, _ = build("coba", seed=8)  # other random connectivity
    net.save(tmp_path / "seed8.data")
    mine, _ = build("coba", seed=7)
    before = state_arrays(mine)
    with pytest.raises(ann.ConnectivityError, match="exc"):
        mine.load(tmp_path / "seed8.data")
    assert _unchanged(mine, before)
    mine.save(tmp_path / "s.data")
    with open(tmp_path / "s.data", "rb") as f:
        desc = pickle.load(f)
    desc["P"]["attributes"].append("u")
    desc["P"]["u"] = np.zeros(40)
    with open(tmp_path / "s.data", "wb") as f:
        pickle.dump(desc, f)
    with pytest.raises(ann.UnknownNameError, match="'u'"):
        mine.load(tmp_path / "s.data")
    desc["P"]["attributes"].remove("u")
    desc["P"]["v"] = np.zeros(39)
    with open(tmp_path / "s.data", "wb") as f:
        pickle.dump(desc, f)
    with pytest.raises(ann.ShapeError, match="39 values of 'v'"):
        mine.load(tmp_path / "s.data")
    assert _unchanged(mine, before)


def test_bad_files(tmp_path):
    net, _ = build("rate")
    with pytest.raises(ann.InvalidValueError, match="no file"):
        net.load(tmp_path / "missing.npz")
    (tmp_path / "junk.data").write_bytes(b"not a pickle")
    with pytest.raises(ann.InvalidValueError, match="cannot read"):
        net.load(tmp_path / "junk.data")
    with open(tmp_path / "list.data", "wb") as f:
        pickle.dump([1, 2], f)
    with pytest.raises(ann.InvalidValueError, match="saved state"):
        net.load(tmp_path / "list.data")
    with pytest.raises(ann.InvalidValueError, match="attributes"):
        net.get_population("R").load(_write(tmp_path / "d.data", {"name": "R"}))
    with pytest.raises(ann.InvalidTypeError):
        net.save(None)


def _write(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return path


def test_before_compile_is_an_error(tmp_path):
    net = ann.Network(dt=0.1)
    pop = net.create(2, ann.Neuron(equations="r = 1.0"))
    with pytest.raises(ann.NetworkError, match="compile"):
        net.save(tmp_path / "s.data")
    with pytest.raises(ann.NetworkError, match="compile"):
        pop.save(tmp_path / "s.data")
    with pytest.raises(ann.NetworkError, match="compile"):
        net.reset()
