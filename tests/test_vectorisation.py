"""The optimised LLVM IR of real models is vectorised (host CPU features, noalias, SLP on)."""
import os
import re

import anncompiler as ann

VECTOR = re.compile(r"<\d+ x (double|float)>")


def optimised_ir(tmp_path, net):
    net.compile(dump_ir=str(tmp_path))
    name = next(f for f in os.listdir(tmp_path) if f.endswith("llvm-opt.ll"))
    return open(tmp_path / name).read()


def test_rate_neuron_update_is_vectorised(tmp_path):
    net = ann.Network(dt=1.0)
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0), equations="tau * dr/dt + r = B : min=0.0")
    net.create(1000, neuron)
    assert VECTOR.search(optimised_ir(tmp_path, net))


def test_spiking_neuron_update_with_refractory_period_is_vectorised(tmp_path):
    net = ann.Network(dt=0.1)
    lif = ann.Neuron(parameters=dict(tau=20.0, El=-60.0, Vt=-50.0, Vr=-60.0, tau_exc=5.0),
                     equations=["tau * dv/dt = El - v + g_exc", "tau_exc * dg_exc/dt = -g_exc"],
                     spike="v > Vt", reset="v = Vr", refractory=5.0)
    net.create(1000, lif)
    text = optimised_ir(tmp_path, net)
    # the update loop (fdiv/fadd on vectors), with the refractory mask as a vector select
    assert re.search(r"fadd <\d+ x double>", text)
    assert re.search(r"select <\d+ x i1>", text)


def test_noalias_pointer_arguments(tmp_path):
    net = ann.Network(dt=1.0)
    net.create(10, ann.Neuron(equations="r = 1.0"))
    net.compile(dump_ir=str(tmp_path))
    raw = open(tmp_path / next(f for f in os.listdir(tmp_path) if f.endswith("-llvm.ll"))).read()
    assert "noalias" in raw
