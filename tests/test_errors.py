"""User mistakes raise named anncompiler exceptions with useful messages, and leave the process usable."""
import numpy as np
import pytest

import anncompiler as ann


def _good_run():
    """A correct model, built and simulated after a failure, in the same process."""
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(3, ann.Neuron(parameters=dict(tau=10.0), equations="tau*dr/dt = 1 - r", name="Good"))
    net.connect(pop, pop, "exc").all_to_all(weights=0.0)
    m = net.monitor(pop, "r")
    net.compile()
    net.simulate(2.0)
    np.testing.assert_allclose(m.get("r")[:, 0], [0.1, 0.19])


def _build(equations, name, parameters=None, spike=None, reset=None):
    """Create and compile; the error may come from create() or compile()."""
    net = ann.Network(dt=1.0, seed=1)
    net.create(2, ann.Neuron(parameters=parameters if parameters is not None else dict(tau=10.0),
                             equations=equations, spike=spike, reset=reset, name=name))
    net.compile()


@pytest.mark.parametrize("exc, equations, name, fragment", [
    (ann.EquationSyntaxError, "tau*dr/dt = (1 - r", "Unbalanced", "(1 - r"),
    (ann.EquationSyntaxError, "tau*dr/dt = 1 - r)", "UnbalancedClose", "1 - r)"),
    (ann.UnknownNameError, "tau*dr/dt = foo - r", "UnknownName", "foo"),
    (ann.MissingVariableError, "tau*dv/dt = 1 - v", "NoRate", "tau*dv/dt = 1 - v"),
])
def test_model_errors_name_model_and_equation(exc, equations, name, fragment):
    with pytest.raises(exc) as err:
        _build(equations, name)
    message = str(err.value)
    assert name in message and fragment in message
    assert isinstance(err.value, ann.ModelError) and err.value.model == name
    _good_run()


def test_unknown_name_error_is_also_a_name_error():
    with pytest.raises(NameError) as err:
        _build("tau*dr/dt = undefined_thing - r", "Named")
    assert "undefined_thing" in str(err.value)
    assert err.value.name == "undefined_thing"


def test_spiking_neuron_with_r_is_an_error():
    with pytest.raises(ann.MissingVariableError) as err:
        _build("r = 1.0", "SpikingR", parameters={}, spike="r > 0.5")
    assert "SpikingR" in str(err.value) and "r" in str(err.value)
    _good_run()


def test_reserved_name_is_an_error():
    with pytest.raises(ann.ReservedNameError) as err:
        _build("r = 1.0", "Reserved", parameters=dict(dt=1.0))
    assert "Reserved" in str(err.value) and "dt" in str(err.value)


def test_unknown_pre_attribute_in_synapse():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, ann.Neuron(equations="r = sum(exc)", name="Post"))
    net.connect(pop, pop, "exc", ann.Synapse(psp="w * pre.zz", name="BadSyn")).all_to_all(weights=1.0)
    with pytest.raises(ann.ModelError) as err:
        net.compile()
    assert "BadSyn" in str(err.value) and "pre.zz" in str(err.value)
    assert not net.compiled
    _good_run()


def test_view_index_out_of_range():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(5, ann.Neuron(equations="r = 1.0"))
    with pytest.raises(ann.IndexOutOfRangeError) as err:
        pop[7]
    assert "7" in str(err.value) and "5" in str(err.value)
    with pytest.raises(IndexError):  # also a built-in IndexError
        pop[2:9]
    net.compile()
    net.simulate(1.0)


def test_recording_an_unknown_variable():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, ann.Neuron(equations="r = 1.0", name="Rec"), name="recorded")
    with pytest.raises(ann.AnnCompilerError) as err:  # refused when the monitor is created
        net.monitor(pop, "xyz")
    assert "xyz" in str(err.value) and "recorded" in str(err.value)
    assert not net.compiled and net.get_monitors() == []
    _good_run()


def test_connecting_twice():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, ann.Neuron(equations="r = sum(exc)"))
    proj = net.connect(pop, pop, "exc", name="twice").all_to_all(weights=1.0)
    with pytest.raises(ann.NetworkError) as err:
        proj.fixed_probability(0.5, weights=1.0)
    assert "twice" in str(err.value) and "already connected" in str(err.value)
    assert proj.nb_synapses == 2
    net.compile()
    net.simulate(1.0)


def test_target_without_conductance_goes_to_the_sum():
    """A target the spiking neuron does not use is collected in ``pop.sum(target)``."""
    net = ann.Network(dt=1.0, seed=1)
    src = ann.SpikeSourceArray([1.0], network=net)
    post = net.create(2, ann.Neuron(equations="dv/dt = -v", spike="v > 1", name="NoConductance"))
    net.connect(src, post, "exc").all_to_all(weights=1.0)
    net.compile()
    net.simulate(3.0)  # the spike at 1 ms arrives at 2 ms
    assert list(post.sum("exc")) == [1.0, 1.0] and list(post.v) == [0.0, 0.0]


def test_unknown_backend_then_recompile_same_network():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, ann.Neuron(equations="r = r + 1.0"))
    with pytest.raises((ann.BackendError, ann.NetworkError)) as err:
        net.compile(backend="no-such-backend")
    assert "no-such-backend" in str(err.value)
    assert not net.compiled
    net.compile(backend="llvm")  # the failed compile left the network untouched
    net.simulate(2.0)
    np.testing.assert_array_equal(pop.r, [2.0, 2.0])


def test_unknown_pass_in_pipeline():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(2, ann.Neuron(equations="r = r + 1.0"))
    with pytest.raises(ann.PipelineError) as err:
        net.compile(pipeline="resolve-targets,no-such-pass,lower-to-kernels")
    assert "no-such-pass" in str(err.value)
    assert not net.compiled
    net.compile()
    net.step()
    np.testing.assert_array_equal(pop.r, [1.0, 1.0])


def test_bad_connector_arguments():
    net = ann.Network(dt=1.0, seed=1)
    pop = net.create(4, ann.Neuron(equations="r = sum(exc)"))
    with pytest.raises(ann.ConnectivityError):
        net.connect(pop, pop, "exc").fixed_probability(-0.1, weights=1.0)
    with pytest.raises(ann.ShapeError, match="shape"):
        net.connect(pop, pop, "inh").from_matrix(np.ones((3, 3)))


def test_every_error_is_an_anncompiler_error():
    for exc in (ann.EquationSyntaxError, ann.UnknownNameError, ann.MissingVariableError, ann.NetworkError,
                ann.IndexOutOfRangeError, ann.ShapeError, ann.BackendError, ann.PipelineError,
                ann.ConnectivityError, ann.ReservedNameError):
        assert issubclass(exc, ann.AnnCompilerError)


def test_missing_parts_of_the_interface_refuse_clearly():
    """What ANNarchy has and anncompiler does not yet is a NotSupportedError naming it."""
    net = ann.Network(dt=1.0)
    pop = net.create(2, ann.Neuron(equations="r = 1.0"))
    proj = net.connect(pop, pop, "exc")
    net.monitor(pop, "r")
    for call in (lambda: proj.start_pruning(),):
        with pytest.raises(ann.NotSupportedError, match="not supported yet"):
            call()
    assert issubclass(ann.NotSupportedError, NotImplementedError)
