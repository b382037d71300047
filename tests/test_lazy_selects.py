"""cpu-lazy-selects: a select with a costly arm becomes an if/else in loops that call a math
function; the arm taken computes the same bits (reference, llvm with and without the pass, 1-3
threads), the locals only one arm reads move into its branch, nothing else moves."""
import os

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.ir.kernel import (BinOp, Call, Cmp, Const, If, Kernel, KernelModule, Let, Load, Loop, Select,
                                   Store, Var)
from anncompiler.ir.types import I64
from anncompiler.passes import DEFAULT_PIPELINE
from anncompiler.passes.platform import CPU_SUFFIX
from anncompiler.passes.platform.cpu_lazy_selects import CPULazySelects


def cpu_pipeline(threads, lazy=True):
    suffix = [p for p in CPU_SUFFIX if lazy or p != "cpu-lazy-selects"]
    return DEFAULT_PIPELINE + "," + ",".join(
        f"cpu-partition{{threads={threads}}}" if p == "cpu-partition" else p for p in suffix)


def run_network(backend="llvm", threads=1, lazy=True, dump=None):
    """A rate network after Miconi's: tanh of either arm, a noise drawn only for perturbed
    neurons, and plastic synapses with an ``exp`` in one arm of their trace update."""
    net = ann.Network(dt=1.0, seed=11)
    net.config(num_threads=threads)
    neuron = ann.Neuron(
        parameters="constant = 0.0\nA = 4.0 : population",
        equations="""
            perturbation = if Uniform(0.0, 1.0) < 0.2: 1.0 else: 0.0
            noise = if perturbation > 0.5: A * Uniform(-1.0, 1.0) else: 0.0
            x += (sum(exc) - x + noise) / 10.0
            r = if constant == 0.0: tanh(x) else: tanh(constant)
        """)
    synapse = ann.Synapse(
        parameters="tau = 5.0 : projection",
        equations="trace += if pre.r > 0.0: exp(-pre.r / tau) * post.r else: -0.5 * trace")
    pop = net.create(53, neuron)
    pop[:3].constant = np.array([0.5, -0.5, 1.0])
    pop.x = ann.Uniform(-1.0, 1.0, rng=net.default_rng)
    proj = net.connect(pop, pop, "exc", synapse)
    proj.fixed_probability(0.2, weights=ann.Normal(0.0, 0.4, rng=net.default_rng))
    m = net.monitor(pop, ["r", "noise"])
    pipeline = None if backend == "reference" else cpu_pipeline(threads, lazy)
    net.compile(backend=backend, pipeline=pipeline, dump_ir=dump)
    net.simulate(40)
    got = m.get()
    return got["r"], got["noise"], np.concatenate([np.ravel(t) for t in proj.trace])


def test_the_arm_taken_gives_the_bits_of_every_backend_and_thread_count():
    reference = run_network(backend="reference")
    r, noise, trace = reference
    assert np.abs(r).max() > 0.1 and np.count_nonzero(noise) > 20 and np.abs(trace).max() > 0.01
    for got in [run_network(lazy=False)] + [run_network(threads=t) for t in (1, 2, 3)]:
        for a, b in zip(got, reference):
            assert np.array_equal(a, b)


def test_costly_arms_become_branches_with_their_locals(tmp_path):
    run_network(dump=str(tmp_path))
    name = next(f for f in sorted(os.listdir(tmp_path)) if f.endswith("cpu-lazy-selects.txt"))
    text = open(os.path.join(tmp_path, name)).read()
    neurons = text[text.index("kernel @update_pop0"):text.index("kernel @learn_proj0")]
    # r: one tanh per neuron, in the branch taken
    assert "if (pop0.constant[%i] == 0.0):" in neurons
    assert "select((pop0.constant[%i] == 0.0)" not in neurons
    # the second draw (its whole Philox block) is made only for perturbed neurons
    branch = neurons[neurons.index("if (%_sr1 > 0.5):"):]
    assert "%_rng1_u" in branch.split("else:")[0]
    assert "%_rng1_u" not in neurons[:neurons.index("if (%_sr1 > 0.5):")]
    synapses = text[text.index("kernel @learn_proj0"):]
    assert "exp(" in synapses.split("else:")[0] and "if (pop0.r[%pre] > 0.0):" in synapses


def _loop(body):
    return Loop(Var("i", I64), Const(0, I64), Const(4, I64), body, "neurons:P")


def _run(body):
    km = KernelModule(arrays={}, kernels=[Kernel("k", "neurons", [_loop(list(body))])])

    class Module:
        kernels = km
    CPULazySelects().run(Module)
    return km.kernels[0].body[0].body


I = Var("i", I64)
X, Y, Z = Var("x"), Var("y"), Var("z")


def test_a_local_read_elsewhere_or_after_a_store_of_its_array_stays():
    big = Call("exp", (Load("P.a", I),))
    body = [Let(X, Load("P.b", I)),                                  # also read after: stays
            Let(Y, BinOp("*", Load("P.c", I), Const(2.0))),          # reads P.c, stored below: stays
            Store("P.c", I, Const(1.0)),
            Let(Z, Select(Cmp(">", X, Const(0.0)), BinOp("+", big, Y), BinOp("*", X, Const(3.0)))),
            Store("P.d", I, BinOp("+", Z, X))]
    out = _run(body)
    assert [type(s).__name__ for s in out] == ["Let", "Let", "Store", "Let", "If", "Store"]
    branch = out[4]
    assert branch.then == [Let(Z, BinOp("+", big, Y))] and branch.orelse == [Let(Z, BinOp("*", X, Const(3.0)))]


def test_a_local_only_one_arm_reads_moves_into_its_branch():
    big = Call("tanh", (Y,))
    body = [Let(Y, BinOp("*", Load("P.c", I), Const(2.0))),
            Store("P.d", I, Select(Cmp(">", Load("P.b", I), Const(0.0)), big, Const(0.0)))]
    out = _run(body)
    assert isinstance(out[1], If)
    assert out[1].then == [body[0], Let(Var("_lazy1"), big)] and out[1].orelse == [Let(Var("_lazy1"), Const(0.0))]
    assert out[2] == Store("P.d", I, Var("_lazy1"))


def test_loops_without_a_math_call_keep_their_selects():
    long_sum = Load("P.c", I)
    for n in range(40):  # a long arm, but the loop stays vectorisable: the select stays
        long_sum = BinOp("+", long_sum, Const(float(n)))
    body = [Let(Y, long_sum),
            Store("P.d", I, Select(Cmp(">", Load("P.b", I), Const(0.0)), Y, Const(0.0)))]
    assert _run(list(body)) == body


@pytest.mark.parametrize("min_ops", [0, -3])
def test_min_ops_must_be_positive(min_ops):
    from anncompiler.errors import PipelineError
    with pytest.raises(PipelineError):
        CPULazySelects(min_ops=min_ops)
