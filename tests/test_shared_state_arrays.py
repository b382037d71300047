"""Memory of large networks: the runtime uses the compile-time values of an array that nothing
restores and no kernel writes (connectivity, per-synapse delays, static weights until the user
writes them) as the live array, and the
handles of a projection's out-synapse storage share one int32 array of positions.  Checked on
a small network with per-synapse delays (rings of future input), on every backend: the same
values and spikes, ``reset()`` still restores the weights, delays changed after compile stay."""
import numpy as np
import pytest

import anncompiler as ann
from anncompiler.runtime.state import GatheredArray

RUNS = [("reference", 1), ("llvm", 1), ("llvm", 2)]


def build(backend="llvm", threads=1):
    net = ann.Network(dt=0.5, seed=3)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters="I = 1.2", equations="dv/dt = (I - v) / 5.0 + g_exc",
                        spike="v > 1.0", reset="v = 0.0", name="Leaky")
    pre = net.create(30, neuron, name="pre")
    post = net.create(20, neuron, name="post")
    pre.I = ann.Uniform(1.0, 1.6, rng=net.default_rng)
    proj = net.connect(pre, post, "exc", name="feed")
    proj.fixed_probability(0.4, weights=ann.Uniform(0.01, 0.05, rng=net.default_rng),
                           delays=ann.Uniform(0.5, 4.0, rng=net.default_rng))
    m = net.monitor(post, "spike")
    net.compile(silent=True, backend=backend, directory=None)
    return net, proj, m


def spike_list(m):
    return sorted((int(n), float(t)) for n, ts in m.get("spike").items() for t in ts)


def test_constant_arrays_are_their_compile_time_values():
    net, proj, _ = build()
    km, arrays = net.kernel_module, net._arrays
    assert km.arrays["feed.ring_offset"].kind == "connectivity"
    assert "feed._delays" not in km.arrays  # the ring offsets hold the delays
    for name in ("feed.ring_offset", "feed.inv_ptr"):
        assert arrays[name] is km.arrays[name].init, name
    # static weights: their compile-time values, read-only until the front end writes them (then
    # copied for reset(): tests/test_compiled_values.py)
    assert arrays["feed.w"] is km.arrays["feed.w"].init and not arrays["feed.w"].flags.writeable
    w_handle, offset_handle = km.handles[("feed", "w")], km.handles[("feed", "ring_offset")]
    assert w_handle.index is offset_handle.index and w_handle.index.dtype == np.int32


@pytest.mark.parametrize("backend,threads", RUNS)
def test_reset_restores_weights_and_keeps_new_delays(backend, threads):
    net, proj, m = build(backend, threads)
    w0 = np.concatenate([np.asarray(d) for d in proj.w])
    net.simulate(30.0)
    first = spike_list(m)
    assert first  # the post population fires: the delays matter
    proj.w = 0.1
    proj.delay = 1.5
    net.reset(populations=True, projections=True)
    assert np.array_equal(np.concatenate([np.asarray(d) for d in proj.w]), w0)
    delays = proj.delay
    assert np.allclose(np.hstack(delays if isinstance(delays, list) else [delays]), 1.5)
    net.simulate(30.0)
    again = spike_list(m)
    ref, rproj, rm = build(backend, threads)
    rproj.delay = 1.5
    ref.simulate(30.0)
    assert again == spike_list(rm) and again != first


def test_same_spikes_on_every_backend():
    trains = []
    for backend, threads in RUNS:
        net, _, m = build(backend, threads)
        net.simulate(40.0)
        trains.append(spike_list(m))
    assert trains[0] and all(t == trains[0] for t in trains)


def test_gathered_array_with_int32_positions():
    base = np.arange(10.0)
    g = GatheredArray(base, np.array([7, 2, 5], dtype=np.int32))
    assert g.index.dtype == np.int32 and np.array_equal(np.asarray(g), [7.0, 2.0, 5.0])
    g[...] = [1.0, 2.0, 3.0]
    assert base[7] == 1.0 and base[2] == 2.0 and base[5] == 3.0
    assert GatheredArray(base, []).index.dtype == np.int64


def test_out_synapse_order_is_the_stable_argsort():
    from anncompiler.passes.lowering.projections import out_synapse_order
    rng = np.random.default_rng(5)
    for size in (7, 2 ** 16, 2 ** 16 + 3):
        ranks = rng.integers(0, size, 5000).astype(np.int32)
        ranks[:3] = size - 1
        assert np.array_equal(out_synapse_order(ranks, size), np.argsort(ranks, kind="stable"))


def test_delay_summary_follows_new_delays():
    from anncompiler.passes.lowering.delays import uniform_and_longest
    net, proj, _ = build()
    from anncompiler.runtime.compile import build_network_ir
    ir = build_network_ir(net)
    e = next(x for x in ir.projections if x.name == "feed")
    uniform, longest = uniform_and_longest(ir, e)
    assert uniform is None and longest == int(np.max(np.rint(np.asarray(e.connectivity.delays) / 0.5)))
    e.connectivity.delays = 2.0  # a new delays object: computed again
    assert uniform_and_longest(ir, e) == (4, 4)


def test_microcircuit_command_prints_each_stage(capsys):
    """``python benchmarks/microcircuit.py --scale S``: the one command of the full-scale run."""
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    import microcircuit
    microcircuit.main(["--scale", "0.01", "--background", "dc", "--warmup", "1", "--duration", "2"])
    out = capsys.readouterr().out
    assert f"{int(microcircuit.scaled(0.01)['n'].sum())} neurons" in out
    for stage in ("build", "compile", "simulate", "rates (Hz) after the warm-up"):
        assert stage in out
    assert all(name in out for name in microcircuit.POPULATIONS)
