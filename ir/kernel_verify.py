"""The kernel IR verifier: typed, declared, well scoped, and (per platform) well partitioned."""
from __future__ import annotations

from .kernel import (BINARY_OPS, BITWISE_OPS, COMPARE_OPS, LOGIC_OPS, MATH_FUNCTIONS, STEP_COUNTER, UNARY_OPS,
                     Accumulate, AnyOf, Append, BinOp, Call, Cmp, Comment, Const, Expr, If, Kernel, KernelModule,
                     Let, Load, Logic, Loop, Prefetch, Reduce, Select, Store, UnOp, Var,
                     stmt_exprs, walk_stmts)
from .launch import LaunchConfig
from .kernel_print import format_expr
from .types import BOOL, I64, DType, is_int, is_signed


def _verify_expr(e: Expr, m: KernelModule, scope: dict[str, DType], where: str) -> None:
    from anncompiler.errors import IRVerificationError

    def fail(msg):
        raise IRVerificationError(f"kernel IR, {where}: {msg}: {format_expr(e)}")

    if isinstance(e, Const):
        return
    if isinstance(e, Var):
        if e.name not in scope:
            fail(f"local %{e.name} used before definition")
        if scope[e.name] != e.dtype:
            fail(f"local %{e.name} used as {e.dtype.value}, defined as {scope[e.name].value}")
        return
    for c in e.children():
        _verify_expr(c, m, scope, where)
    if isinstance(e, Load):
        if e.array not in m.arrays:
            fail(f"load from undeclared array '{e.array}'")
        if m.arrays[e.array].dtype != e.dtype:
            fail(f"load typed {e.dtype.value} from {m.arrays[e.array].dtype.value} array")
        if not is_int(e.index.dtype):
            fail("array index is not an integer")
    elif isinstance(e, BinOp):
        if e.op not in BINARY_OPS and e.op not in BITWISE_OPS:
            fail(f"unknown binary operator {e.op}")
        if e.a.dtype != e.dtype or e.b.dtype != e.dtype:
            fail("operand types differ from the result type")
        if e.op in BITWISE_OPS and not is_int(e.dtype):
            fail(f"'{e.op}' needs integer operands")
    elif isinstance(e, UnOp):
        if e.op not in UNARY_OPS:
            fail(f"unknown unary operator {e.op}")
        if e.op == "not" and e.a.dtype != BOOL:
            fail("'not' of a non-bool")
    elif isinstance(e, Call):
        if MATH_FUNCTIONS.get(e.fn) != len(e.args):
            fail(f"unknown function or wrong arity: {e.fn}/{len(e.args)}")
    elif isinstance(e, Cmp):
        if e.op not in COMPARE_OPS or e.a.dtype != e.b.dtype:
            fail("bad comparison")
    elif isinstance(e, Logic):
        if e.op not in LOGIC_OPS or e.a.dtype != BOOL or e.b.dtype != BOOL:
            fail("bad logical operation")
    elif isinstance(e, Select):
        if e.cond.dtype != BOOL or e.a.dtype != e.dtype or e.b.dtype != e.dtype:
            fail("bad select")
    elif isinstance(e, AnyOf):
        if e.array not in m.arrays or m.arrays[e.array].dtype != BOOL:
            fail(f"any-of over '{e.array}', which is not a declared bool array")
        if not is_int(e.start.dtype) or int(e.count) < 1:
            fail("any-of needs an integer start and a positive count")


def _verify_body(body, m, scope, where):
    from anncompiler.errors import IRVerificationError
    for s in body:
        if isinstance(s, Reduce):
            _verify_reduce(s, m, scope, where)
            continue
        for e in stmt_exprs(s):
            _verify_expr(e, m, scope, where)
        if isinstance(s, Let):
            if s.var.name in scope and scope[s.var.name] != s.var.dtype:
                raise IRVerificationError(f"kernel IR, {where}: %{s.var.name} redefined with another type")
            if s.value.dtype != s.var.dtype:
                raise IRVerificationError(
                    f"kernel IR, {where}: %{s.var.name}: {s.var.dtype.value} assigned a {s.value.dtype.value}")
            scope[s.var.name] = s.var.dtype
        elif isinstance(s, Store):
            if s.array not in m.arrays:
                raise IRVerificationError(f"kernel IR, {where}: store to undeclared array '{s.array}'")
            if m.arrays[s.array].dtype != s.value.dtype:
                raise IRVerificationError(
                    f"kernel IR, {where}: store of {s.value.dtype.value} into "
                    f"{m.arrays[s.array].dtype.value} array '{s.array}'")
        elif isinstance(s, Loop):
            if not is_signed(s.var.dtype) or s.start.dtype != s.var.dtype or s.stop.dtype != s.var.dtype:
                raise IRVerificationError(f"kernel IR, {where}: loop bounds must share the index type")
            inner = dict(scope)
            inner[s.var.name] = s.var.dtype
            _verify_body(s.body, m, inner, where)
        elif isinstance(s, If):
            if s.cond.dtype != BOOL:
                raise IRVerificationError(f"kernel IR, {where}: if-condition is not bool")
            _verify_body(s.then, m, dict(scope), where)
            _verify_body(s.orelse, m, dict(scope), where)
        elif isinstance(s, (Append, Accumulate)):
            _verify_update(s, m, where)
        elif isinstance(s, Prefetch):
            if s.array not in m.arrays:
                raise IRVerificationError(f"kernel IR, {where}: prefetch of undeclared array '{s.array}'")
            if not is_int(s.index.dtype):
                raise IRVerificationError(f"kernel IR, {where}: prefetch index of {s.array} is not an integer")
        elif not isinstance(s, Comment):
            raise IRVerificationError(f"kernel IR, {where}: unknown statement {s!r}")


def _verify_update(s, m: KernelModule, where: str) -> None:
    """An :class:`Append` or :class:`Accumulate`: declared arrays of matching types."""
    from anncompiler.errors import IRVerificationError

    def fail(msg):
        raise IRVerificationError(f"kernel IR, {where}: {msg}")
    if s.array not in m.arrays:
        fail(f"{type(s).__name__.lower()} into undeclared array '{s.array}'")
    if m.arrays[s.array].dtype != s.value.dtype:
        fail(f"{type(s).__name__.lower()} of {s.value.dtype.value} into {m.arrays[s.array].dtype.value} "
             f"array '{s.array}'")
    if isinstance(s, Append):
        if s.counter not in m.arrays or m.arrays[s.counter].dtype != I64:
            fail(f"append counter '{s.counter}' is not a declared i64 array")
    elif s.op not in ("+", "-"):
        fail(f"accumulate with '{s.op}' (only + and -)")


def _verify_reduce(s: Reduce, m: KernelModule, scope: dict, where: str) -> None:
    from anncompiler.errors import IRVerificationError

    def fail(msg):
        raise IRVerificationError(f"kernel IR, {where}: reduce into %{s.acc.name}: {msg}")
    _verify_expr(s.start, m, scope, where)
    _verify_expr(s.stop, m, scope, where)
    if s.op not in ("+", "min", "max"):
        fail(f"unknown operator {s.op}")
    if not is_signed(s.var.dtype) or s.start.dtype != s.var.dtype or s.stop.dtype != s.var.dtype:
        fail("bounds must share the index type")
    if s.value.dtype != s.acc.dtype or s.init.dtype != s.acc.dtype or int(s.lanes) < 1:
        fail("value, initial value and result must share one type, with lanes >= 1")
    if s.acc.name in scope and scope[s.acc.name] != s.acc.dtype:
        fail("redefined with another type")
    inner = dict(scope)
    inner[s.var.name] = s.var.dtype
    _verify_expr(s.value, m, inner, where)
    scope[s.acc.name] = s.acc.dtype


def _verify_parallel(k: Kernel, platform: str) -> None:
    """Neutral modules: no thread-team flags (a platform pass sets them).  CPU modules: parallel
    loops only at the top level of parallel kernels, which store only inside them (the rest of a
    parallel kernel runs on every thread)."""
    from anncompiler.errors import IRVerificationError
    where = f"kernel IR, kernel @{k.name}"
    if platform == "":
        if k.parallel or k.barrier:
            raise IRVerificationError(f"{where}: a neutral module has no thread teams (parallel/barrier "
                                      "kernels come from a platform pass)")
        return
    if platform != "cpu":
        return
    body = k.body
    if len(body) == 1 and isinstance(body[0], If) and not body[0].orelse:
        body = body[0].then  # a guarded kernel: its body is the top level (passes/platform/guards.py)
    for s in body:
        nested = [x for b in s.bodies() for x in walk_stmts(b)]
        if any(isinstance(x, Loop) and x.parallel for x in nested):
            raise IRVerificationError(f"{where}: a parallel loop must be a top-level statement")
        if isinstance(s, Loop) and s.parallel:
            if not k.parallel:
                raise IRVerificationError(f"{where}: parallel loop in a serial kernel")
        elif k.parallel and any(isinstance(x, Store) for x in [s] + nested):
            raise IRVerificationError(f"{where}: a parallel kernel stores outside its parallel loops")


def _verify_launch(m: KernelModule) -> None:
    """Launch configurations name kernels of the module and top-level loops."""
    from anncompiler.errors import IRVerificationError
    kernels = {k.name: k for k in m.kernels}
    for name, c in m.launch.items():
        k = kernels.get(name)
        if k is None or not isinstance(c, LaunchConfig):
            raise IRVerificationError(f"kernel IR: launch configuration of an unknown kernel @{name}")
        if len(c.iterations) != len(c.grid_loops) or int(c.block) < 1:
            raise IRVerificationError(f"kernel IR: launch @{name}: one iteration bound per grid loop, block >= 1")
        if c.group and (len(c.group) != len(c.grid_loops) or
                        any(g < 1 or g > 32 or g & (g - 1) or int(c.block) % g for g in c.group)):
            raise IRVerificationError(f"kernel IR: launch @{name}: one thread group per grid loop, each a power "
                                      "of two up to 32 dividing the block")
        for pos in c.grid_loops:
            s = k.body[pos] if 0 <= pos < len(k.body) else None
            if not isinstance(s, Loop):
                raise IRVerificationError(f"kernel IR: launch @{name}: statement {pos} is not a loop")
        for a in c.atomics:
            if a not in m.arrays:
                raise IRVerificationError(f"kernel IR: launch @{name}: atomic on undeclared array '{a}'")


def verify_module(m: KernelModule) -> None:
    """Raise :class:`IRVerificationError` if the module is malformed."""
    from anncompiler.errors import IRVerificationError
    if STEP_COUNTER not in m.arrays or m.arrays[STEP_COUNTER].dtype != I64:
        raise IRVerificationError(f"kernel IR: the step counter '{STEP_COUNTER}' (i64[1]) is not declared")
    names = set()
    for k in m.kernels:
        if k.name in names:
            raise IRVerificationError(f"kernel IR: kernel @{k.name} defined twice")
        names.add(k.name)
        _verify_body(k.body, m, {}, f"kernel @{k.name}")
        _verify_parallel(k, m.platform)
    _verify_launch(m)
    for c in m.exit_conditions:
        _verify_expr(c, m, {}, "exit condition")
        if c.dtype != BOOL:
            raise IRVerificationError("kernel IR: exit condition is not bool")
