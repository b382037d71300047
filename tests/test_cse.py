"""cse on hand-built kernels: what a statement writes ends what it may reuse (Append, Accumulate,
Reduce and AnyOf included), and a Reduce's value, which runs inside its fold, is left alone."""
import numpy as np

from anncompiler.backends.reference import ReferenceBackend
from anncompiler.ir import kernel as K
from anncompiler.ir.types import BOOL, F64, I64
from anncompiler.passes.cse import eliminate_common_subexpressions

from kernel_samples import allocate

ZERO = K.Const(0, I64)


def module(body):
    m = K.KernelModule({}, [])
    m.declare(K.STEP_COUNTER, I64, 1, "internal")
    for name, dtype in (("x", F64), ("w", F64), ("out", F64), ("list", F64), ("count", I64), ("flags", BOOL)):
        m.declare(name, dtype, 4)
    m.kernels.append(K.Kernel("k", "neurons", body))
    K.verify_module(m)
    return m


def load(a, dtype=F64, i=ZERO):
    return K.Load(a, i, dtype)


def twice(e):
    return K.BinOp("*", e, K.Const(2.0, F64), F64)


def run(m, steps=1):
    backend = ReferenceBackend()
    arrays = allocate(m)
    arrays["x"][:] = [1.0, 2.0, 3.0, 4.0]
    arrays["w"][:] = [0.5, 1.5, 2.5, 3.5]
    backend.load(backend.emit(m), arrays).run(steps)
    return arrays


def lets(m):
    return [s for s in m.kernels[0].body if isinstance(s, K.Let)]


def test_accumulate_and_append_end_what_they_write():
    body = [K.Let(K.Var("a", F64), twice(load("x"))),
            K.Accumulate("x", ZERO, K.Const(1.0, F64)),
            K.Let(K.Var("b", F64), twice(load("x"))),
            K.Let(K.Var("c", I64), K.BinOp("+", load("count", I64), K.Const(1, I64), I64)),
            K.Append("list", "count", K.Var("b", F64)),
            K.Let(K.Var("d", I64), K.BinOp("+", load("count", I64), K.Const(1, I64), I64)),
            K.Store("out", ZERO, K.Var("a", F64)), K.Store("out", K.Const(1, I64), K.Var("b", F64)),
            K.Store("out", K.Const(2, I64), K.Cast(K.Var("d", I64), F64))]
    expected = run(module(body))
    m = module(body)
    eliminate_common_subexpressions(m)
    K.verify_module(m)
    b, d = lets(m)[1], lets(m)[3]
    assert b.value == twice(load("x")) and isinstance(d.value, K.BinOp)
    for name in ("out", "list", "count", "x"):
        np.testing.assert_array_equal(run(m)[name], expected[name])


def test_reduce_value_is_left_inside_the_fold():
    j = K.Var("j", I64)
    product = K.BinOp("*", load("w", i=j), load("x", i=j), F64)
    body = [K.Let(K.Var("p", F64), K.BinOp("*", load("w"), load("x"), F64)),
            K.Reduce(K.Var("acc", F64), "+", K.Const(0.0, F64), j, ZERO, K.Const(4, I64),
                     K.BinOp("+", product, product, F64), lanes=2),
            K.Let(K.Var("q", F64), K.BinOp("+", K.Var("acc", F64), K.Var("acc", F64), F64)),
            K.Reduce(K.Var("acc", F64), "max", K.Const(0.0, F64), j, ZERO, K.Const(4, I64), load("x", i=j)),
            K.Store("out", ZERO, K.BinOp("+", K.Var("acc", F64), K.Var("acc", F64), F64)),
            K.Store("out", K.Const(1, I64), K.Var("q", F64))]
    expected = run(module(body))
    m = module(body)
    eliminate_common_subexpressions(m)
    K.verify_module(m)
    reduce = next(s for s in m.kernels[0].body if isinstance(s, K.Reduce))
    assert reduce.value == K.BinOp("+", product, product, F64)
    store = [s for s in m.kernels[0].body if isinstance(s, K.Store)][0]
    assert store.value != K.Var("q", F64)  # acc was folded again in between
    np.testing.assert_array_equal(run(m)["out"], expected["out"])
    assert list(expected["out"][:2]) == [8.0, 100.0]


def test_any_of_reads_its_block():
    test = K.Select(K.AnyOf("flags", ZERO, 4), K.Const(1.0, F64), K.Const(0.0, F64), F64)
    body = [K.Let(K.Var("a", F64), K.BinOp("+", test, K.Const(1.0, F64), F64)),
            K.Store("flags", K.Const(2, I64), K.Const(True, BOOL)),
            K.Let(K.Var("b", F64), K.BinOp("+", test, K.Const(1.0, F64), F64)),
            K.Store("out", ZERO, K.Var("a", F64)), K.Store("out", K.Const(1, I64), K.Var("b", F64))]
    m = module(body)
    eliminate_common_subexpressions(m)
    assert isinstance(lets(m)[1].value, K.BinOp)
    np.testing.assert_array_equal(run(m)["out"][:2], [1.0, 2.0])


def test_a_long_chain_is_rewritten_once():
    """A 200-term or-chain with a repeated index: one local for the index, the chain kept."""
    blk = K.Var("blk", I64)
    base = K.BinOp("*", blk, K.Const(4, I64), I64)
    cond = K.Load("flags", K.BinOp("+", base, ZERO, I64), BOOL)
    for k in range(1, 200):
        cond = K.Logic("or", cond, K.Load("flags", K.BinOp("+", base, K.Const(k % 4, I64), I64), BOOL))
    body = [K.Loop(blk, ZERO, K.Const(1, I64), [K.If(cond, [K.Store("out", ZERO, K.Const(1.0, F64))])])]
    m = module(body)
    eliminate_common_subexpressions(m)
    text = K.format_kernel(m.kernels[0])
    assert text.count("(%blk * 4)") == 1 and "%_cse1: i64 = (%blk * 4)" in text
    assert run(m)["out"][0] == 0.0
