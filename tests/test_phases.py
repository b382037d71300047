"""A phase of the step registered from this file alone: a new module, no edit of the compiler."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import PipelineError
from anncompiler.ir.kernel import Accumulate, Const, Kernel
from anncompiler.ir.types import I64
from anncompiler.passes.lowering import phases, register_phase, registered_phases


@pytest.fixture
def count_spikes():
    """Adds up the spikes of every spiking population after its update (``P._spike_total``)."""
    @register_phase("count-spikes", lambda net: [p.name for p in net.populations if p.model.type == "spike"],
                    after="neurons")
    def lower(ctx, names):
        kernels = []
        for name in names:
            total = f"{name}._spike_total"
            ctx.declare(total, I64, 1, "state", 0, handle=(name, "spike_total"))
            kernels.append(Kernel(f"count_{name}", "count-spikes",
                                  [Accumulate(total, Const(0, I64), ctx.load(f"{name}._n_spiked", 0))]))
        return kernels
    yield
    phases.unregister_phase("count-spikes")


def network(threads=1):
    net = ann.Network(dt=1.0, seed=3)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters="tau = 10.0", equations="tau * dv/dt = -v + 2.0 + Uniform(-1, 1)",
                        spike="v > 1.0", reset="v = 0.0")
    pop = net.create(50, neuron)
    m = net.monitor(pop, "spike")
    return net, pop, m


@pytest.mark.parametrize("backend,threads", [("llvm", 1), ("llvm", 2), ("reference", 1)])
def test_registered_phase_runs_in_its_place(count_spikes, backend, threads):
    names = [p.name for p in registered_phases()]
    assert names[names.index("neurons") + 1] == "count-spikes"
    net, pop, m = network(threads)
    net.compile(backend=backend)
    assert any(k.phase == "count-spikes" for k in net.kernel_module.kernels)
    net.simulate(100.0)
    spikes = sum(len(t) for t in m.get("spike").values())
    assert spikes > 0 and net._state(pop.name, "spike_total")[0] == spikes


def test_phase_names_and_places_are_checked(count_spikes):
    with pytest.raises(PipelineError, match="already registered"):
        register_phase("count-spikes", lambda net: [])(lambda ctx, names: [])
    with pytest.raises(PipelineError, match="no phase 'nowhere'"):
        register_phase("other", lambda net: [], before="nowhere")(lambda ctx, names: [])
    assert "other" not in [p.name for p in registered_phases()]


def test_without_the_phase_nothing_changes():
    net, pop, m = network()
    net.compile()
    assert not any(k.phase == "count-spikes" for k in net.kernel_module.kernels)
    assert net._state(pop.name, "spike_total", required=False) is None
    assert np.isfinite(pop.v).all()
