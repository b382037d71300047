"""save_parameters/load_parameters: global parameters and constants in ANNarchy's JSON layout."""
import json

import numpy as np
import pytest

import anncompiler as ann


def _network(compiled=True):
    net = ann.Network(dt=0.1, seed=3)
    net.constant("gain", 2.0)
    neuron = ann.Neuron(parameters="tau = 10.0 : population\nB = 0.5\nk = 3 : population, int",
                        equations="tau * dr/dt + r = gain * B + sum(exc)", name="N")
    pop = net.create(4, neuron, name="pop")
    proj = net.connect(pop, pop, "exc", ann.Synapse(parameters="eta = 0.1 : projection\nc = 1.0",
                                                    equations="dw/dt = eta * c * pre.r"), name="hebb")
    proj.all_to_all(0.1)
    if compiled:
        net.compile()
    return net, pop, proj


def test_layout_and_round_trip(tmp_path):
    net, pop, proj = _network()
    pop.tau = 12.0
    net.save_parameters(tmp_path / "p.json")
    desc = json.loads((tmp_path / "p.json").read_text())
    assert desc == {"populations": {"pop": {"tau": 12.0, "k": 3}}, "projections": {"hebb": {"eta": 0.1}},
                    "network": {}, "constants": {"gain": 2.0}}
    desc["populations"]["pop"]["tau"] = 20.0
    desc["populations"]["pop"]["B"] = 4.0  # local: skipped unless global_only=False
    desc["populations"]["pop"]["nothing"] = 1.0  # not a parameter: skipped
    desc["projections"]["hebb"]["eta"] = 0.5
    desc["constants"]["gain"] = 3.0
    desc["network"]["trials"] = 5
    (tmp_path / "p.json").write_text(json.dumps(desc))
    assert net.load_parameters(tmp_path / "p.json") == {"trials": 5.0}
    assert pop.tau == 20.0 and np.all(pop.B == 0.5) and proj.eta == 0.5
    assert float(net.get_constant("gain")) == 3.0
    net.load_parameters(tmp_path / "p.json", global_only=False)
    assert np.all(pop.B == 4.0)


def test_before_compile_too(tmp_path):
    net, pop, _ = _network(compiled=False)
    net.save_parameters(tmp_path / "p.json")
    pop.tau = 1.0
    net.load_parameters(tmp_path / "p.json")
    assert pop.tau == 10.0


def test_bad_files_change_nothing(tmp_path):
    net, pop, _ = _network()
    (tmp_path / "p.json").write_text(json.dumps({"populations": {"pop": {"tau": 5.0}, "other": {"tau": 1.0}}}))
    with pytest.raises(ann.UnknownNameError, match="other"):
        net.load_parameters(tmp_path / "p.json")
    assert pop.tau == 10.0
    (tmp_path / "p.json").write_text(json.dumps({"populations": {"pop": {"tau": "fast"}}}))
    with pytest.raises(ann.InvalidTypeError, match="tau"):
        net.load_parameters(tmp_path / "p.json")
    (tmp_path / "p.json").write_text("{not json")
    with pytest.raises(ann.InvalidValueError, match="JSON"):
        net.load_parameters(tmp_path / "p.json")
    with pytest.raises(ann.InvalidValueError, match="no file"):
        net.load_parameters(tmp_path / "missing.json")


def test_legacy_functions(tmp_path, quiet_deprecations):
    pop = ann.Population(2, ann.Neuron(parameters="tau = 5.0 : population", equations="tau * dr/dt + r = 1.0"))
    ann.save_parameters(str(tmp_path / "p.json"))
    pop.tau = 8.0
    assert ann.load_parameters(str(tmp_path / "p.json")) == {}
    assert pop.tau == 5.0
