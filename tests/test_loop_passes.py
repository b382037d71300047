"""hoist-invariants and scalar-replace: per-synapse updates compute post-only and global terms once
per row and keep stored values in locals, with the bits of the plain code on every backend."""
import os

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.backends.reference import ReferenceBackend
from anncompiler.ir import kernel as K
from anncompiler.ir.types import F64, I64
from anncompiler.passes import DEFAULT_PIPELINE
from anncompiler.passes.loop_invariants import hoist_invariants
from anncompiler.passes.scalar_replace import replace_scalars

from kernel_samples import allocate

WITHOUT = DEFAULT_PIPELINE.replace(",hoist-invariants,scalar-replace", "")


def reward_network(backend="llvm", threads=1, pipeline=None, dump=None, p=1.0):
    """A reward-modulated trace (after ANNarchy's Miconi example): post-only and global terms in
    every synapse's update, a bounded variable stored and re-read."""
    net = ann.Network(dt=1.0, seed=7)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters="alpha = 0.3 : population\nB = 0.0",
                        equations="""x += dt * (sum(exc) - x + B) / 10.0
                                     rprev = r
                                     r = tanh(x)
                                     delta_x = x - x_mean
                                     x_mean = alpha * x_mean + (1 - alpha) * x""")
    synapse = ann.Synapse(
        parameters="eta = 0.5 : projection\nlearning_phase = 0.0 : projection\nerror = 0.3 : projection\n"
                   "max_change = 0.002 : projection",
        equations="""trace += if learning_phase < 0.5: power(pre.rprev * post.delta_x, 3) else: 0.0
                     delta_w = if learning_phase > 0.5: eta * trace * (error - 0.1) * post.x else: 0.0 : min=-max_change, max=max_change
                     w -= if learning_phase > 0.5: delta_w else: 0.0""")
    pop = net.create(23, neuron)
    pop.B = np.random.default_rng(3).uniform(-1.0, 1.0, 23)
    proj = net.connect(pop, pop, "exc", synapse)
    weights = ann.Uniform(-0.5, 0.5, rng=net.default_rng)
    if p >= 1.0:
        proj.all_to_all(weights=weights, allow_self_connections=True)
    else:
        proj.fixed_probability(p, weights=weights)
    net.compile(backend=backend, pipeline=pipeline, dump_ir=dump)
    net.simulate(8)
    proj.learning_phase = 1.0
    net.simulate(3)
    return np.concatenate([np.concatenate(proj.trace), np.concatenate(proj.w), pop.x])


@pytest.mark.parametrize("p", [1.0, 0.4])
def test_same_bits_with_and_without_the_passes(p):
    plain = reward_network(backend="reference", pipeline=WITHOUT, p=p)
    assert np.abs(plain).max() > 0 and np.isfinite(plain).all()
    assert np.array_equal(reward_network(backend="reference", p=p), plain)
    assert np.array_equal(reward_network(pipeline=WITHOUT, p=p), plain)
    for threads in (1, 2):
        assert np.array_equal(reward_network(threads=threads, p=p), plain), threads


def test_synapse_loop_after_the_passes(tmp_path):
    reward_network(backend="reference", dump=str(tmp_path))
    name = next(f for f in sorted(os.listdir(tmp_path)) if f.endswith("scalar-replace.txt"))
    text = open(tmp_path / name).read()
    learn = text[text.index("kernel @learn_proj0"):]
    learn = learn.split("\n\n")[0]
    before, loop = learn.split("[synapses:proj0]")
    # the global test and the post-only power are computed once per row, before the synapse loop
    assert "(proj0.learning_phase[0] < 0.5)" in before and "(proj0.learning_phase[0] < 0.5)" not in loop
    assert "pop0.delta_x[%post]" in before and "pop0.delta_x" not in loop
    # delta_w is stored once and never re-read; trace is read once
    assert loop.count("proj0.delta_w[%s] =") == 1 and loop.count("proj0.delta_w[%s]") == 1
    assert loop.count("proj0.trace[%s]") == 2


# hand-built kernels -------------------------------------------------------------------------

ZERO = K.Const(0, I64)


def module(outer_body_of):
    """``for r in 0..3: for i in 0..4: <body>`` over arrays a, b, out (f64[4]) and n (i64[1])."""
    m = K.KernelModule({}, [])
    m.declare(K.STEP_COUNTER, I64, 1, "internal")
    for name in ("a", "b", "out"):
        m.declare(name, F64, 4, init=np.array([1.0, 2.0, 3.0, 4.0]))
    m.declare("n", I64, 1, init=2)
    r, i = K.Var("r", I64), K.Var("i", I64)
    inner = K.Loop(i, ZERO, K.Const(4, I64), outer_body_of(r, i))
    m.kernels.append(K.Kernel("k", "neurons", [K.Loop(r, ZERO, K.Const(3, I64), [inner])]))
    K.verify_module(m)
    return m


def run(m):
    backend = ReferenceBackend()
    arrays = allocate(m)
    backend.load(backend.emit(m), arrays).run(2)
    return arrays


def load(a, index, dtype=F64):
    return K.Load(a, index, dtype)


def f(v):
    return K.Const(v, F64)


def add(x, y, t=F64):
    return K.BinOp("+", x, y, t)


def row_body(m):
    return m.kernels[0].body[0].body


def check_same(build, transform):
    expected = run(build())
    m = build()
    transform(m)
    K.verify_module(m)
    got = run(m)
    assert all(np.array_equal(expected[k], got[k]) for k in expected)
    return m


def test_hoists_only_what_no_iteration_changes():
    def body(r, i):
        return [K.Store("out", i, add(add(load("a", r), f(1.0)), load("out", i))),  # a[r] + 1: invariant
                K.Store("b", ZERO, add(load("b", ZERO), f(1.0))),
                K.Store("out", i, add(load("out", i), add(load("b", ZERO), f(2.0))))]  # b is written here
    m = check_same(lambda: module(body), hoist_invariants)
    hoisted = [s for s in row_body(m) if isinstance(s, K.Let)]
    assert [h.value for h in hoisted] == [add(load("a", K.Var("r", I64)), f(1.0))]


def test_leaves_integer_division_computed_indices_and_top_level_loops():
    n = load("n", ZERO, I64)

    def body(r, i):
        quotient = K.BinOp("/", K.Const(7, I64), n, I64)  # n may be 0 where the loop never runs
        return [K.Store("out", i, K.Cast(quotient, F64)),
                K.Store("out", i, add(load("out", i), load("a", add(r, K.Const(1, I64), I64)))),
                K.Store("out", i, add(load("out", i), K.Cast(K.BinOp("/", n, K.Const(2, I64), I64), F64)))]
    m = check_same(lambda: module(body), hoist_invariants)
    hoisted = [x for s in row_body(m) if isinstance(s, K.Let) for x in K.walk_expr(s.value)]
    assert K.Cast(K.BinOp("/", n, K.Const(2, I64), I64), F64) in hoisted  # a non-zero constant divisor
    assert not any(isinstance(x, K.BinOp) and x.a == K.Const(7, I64) for x in hoisted)
    assert not any(isinstance(x, K.Load) and x.array == "a" for x in hoisted)  # a[r + 1] stays
    assert not any(isinstance(s, K.Let) for s in m.kernels[0].body)  # nothing before the top-level loop


def test_scalar_replacement_keeps_values_and_drops_overwritten_stores():
    def body(r, i):
        return [K.Store("out", i, add(load("a", i), f(1.0))),
                K.Store("out", i, add(load("out", i), load("out", i))),  # re-read: a local
                K.Store("b", i, load("out", i)),
                K.Store("out", i, add(load("out", i), f(3.0)))]
    m = check_same(lambda: module(body), replace_scalars)
    inner = row_body(m)[0].body
    stores = [s for s in inner if isinstance(s, K.Store)]
    assert [s.array for s in stores] == ["b", "out"]  # the first two stores of out[i] are dead
    assert not any(isinstance(x, K.Load) and x.array == "out" for s in inner for e in K.stmt_exprs(s)
                   for x in K.walk_expr(e))


def test_scalar_replacement_respects_other_indices_and_reassigned_locals():
    def body(r, i):
        j = K.Var("j", I64)
        return [K.Store("out", i, f(5.0)),
                K.Store("out", r, f(7.0)),  # r may equal i: out[i] must be read again
                K.Store("b", i, load("out", i)),
                K.Let(j, i),
                K.Store("a", j, f(1.0)),
                K.Let(j, r),  # j changes: a[j] is another element now
                K.Store("b", i, add(load("b", i), load("a", j)))]
    m = check_same(lambda: module(body), replace_scalars)
    inner = row_body(m)[0].body
    loads = [x for s in inner for e in K.stmt_exprs(s) for x in K.walk_expr(e) if isinstance(x, K.Load)]
    assert load("out", K.Var("i", I64)) in loads and load("a", K.Var("j", I64)) in loads
    assert sum(isinstance(s, K.Store) and s.array == "out" for s in inner) == 2
