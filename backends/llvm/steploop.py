"""The exported step loop ``i64 run(ptr table, i64 n_steps)``, which calls the kernel functions.

With several threads (a module cut into partitions, ``threads > 1``) ``run`` starts a team of
threads on the same step loop, in which the threads claim the partitions of each step
(``teamloop.py``); this module has the one-thread loop and the calls both share.

The loop only calls kernels, so it is left unoptimised (``optnone``); it loads each kernel's
array pointers from the runtime's table at the call, and runs consecutive calls of one function
as a loop over a constant table of array slots: its size grows with the number of distinct
kernels, not with the network (1000 populations compile in seconds).
"""
from __future__ import annotations

from llvmlite import ir

from anncompiler.ir import kernel as K
from anncompiler.ir.types import I32

from .codegen import I1, I64T, PTR, _REG, _Emitter

def _load_pointers(em: "_Emitter", module: K.KernelModule, table: ir.Value) -> None:
    """Data pointers of the step counter and of the arrays of the exit conditions, loaded once
    from the table before the step loop."""
    used = {K.STEP_COUNTER} | {x.array for c in module.exit_conditions for x in K.walk_expr(c)
                               if isinstance(x, K.Load)}
    for a in used:
        em.ptrs[a] = _table_pointer(em, table, ir.Constant(I64T, em.positions[a]))


def _table_pointer(em: "_Emitter", table: ir.Value, position: ir.Value) -> ir.Value:
    """The data pointer in slot ``position`` of the runtime's table."""
    return em.b.load(em.b.gep(table, [position], inbounds=True, source_etype=PTR), typ=PTR)


def _call_runs(module: K.KernelModule, kernels) -> list:
    """The kernel calls of a step grouped into runs of consecutive calls of one function with no
    barrier inside: [(function, [arrays of each call], first kernel)]."""
    runs = []
    for (fn, arrays), k in zip(kernels, module.kernels):
        last = runs[-1] if runs else None
        if last is not None and last[0] is fn and not k.barrier and last[2].parallel == k.parallel:
            last[1].append(arrays)
        else:
            runs.append((fn, [arrays], k))
    return runs


def _emit_calls(em: "_Emitter", lmod: ir.Module, table: ir.Value, fn: ir.Function, calls: list,
                extra: list = (), own: dict | None = None) -> None:
    """Call ``fn`` once per entry of ``calls`` (its arrays), loading the pointers from the table
    at each call: with hundreds of kernels, pointers hoisted out of the step loop would all be
    live across it (a register allocator's worst case), while these loads hit L1.  Several calls
    become a loop over a constant table of array slots, so the step loop grows with the number of
    distinct kernels, not with the network."""
    b = em.b
    own = own or {}  # slot -> this thread's own pointer (its step counter)
    if len(calls) == 1:
        b.call(fn, [own.get(em.positions[a]) or _table_pointer(em, table, ir.Constant(I64T, em.positions[a]))
                    for a in calls[0]] + list(extra))
        return
    width = len(calls[0])
    i32 = _REG[I32]
    slots = ir.GlobalVariable(lmod, ir.ArrayType(i32, len(calls) * width), lmod.get_unique_name("calls"))
    slots.global_constant, slots.linkage = True, "internal"
    slots.initializer = ir.Constant(ir.ArrayType(i32, len(calls) * width),
                                    [em.positions[a] for arrays in calls for a in arrays])
    pre, body, done = b.block, em.func.append_basic_block("calls.body"), em.func.append_basic_block("calls.done")
    b.branch(body)
    b.position_at_end(body)
    k = b.phi(I64T, name="call")
    k.add_incoming(ir.Constant(I64T, 0), pre)
    args = []
    for j in range(width):
        at = b.add(b.mul(k, ir.Constant(I64T, width)), ir.Constant(I64T, j))
        slot = b.sext(b.load(b.gep(slots, [ir.Constant(I64T, 0), at], inbounds=True), typ=i32), I64T)
        pointer = _table_pointer(em, table, slot)
        for position, mine in own.items():
            if any(em.positions[arrays[j]] == position for arrays in calls):
                pointer = b.select(b.icmp_signed("==", slot, ir.Constant(I64T, position)), mine, pointer)
        args.append(pointer)
    b.call(fn, args + list(extra))
    nxt = b.add(k, ir.Constant(I64T, 1))
    k.add_incoming(nxt, b.block)
    b.cbranch(b.icmp_signed("<", nxt, ir.Constant(I64T, len(calls))), body, done)
    b.position_at_end(done)


def _end_of_step(em: "_Emitter", module: K.KernelModule) -> ir.Value:
    """Increment the step counter; the i1 "stop now" of the exit conditions."""
    b = em.b
    t_ptr = em.ptrs[K.STEP_COUNTER]
    b.store(b.add(b.load(t_ptr, typ=I64T, align=8), ir.Constant(I64T, 1)), t_ptr, align=8)
    stop = ir.Constant(I1, 0)
    for c in module.exit_conditions:
        stop = b.or_(stop, em.expr(c))
    return stop


def _driver_only(fn: ir.Function) -> None:
    """The step loop only calls kernels: left unoptimised (``optnone``), since optimising and
    allocating registers for thousands of calls in one loop grew faster than the network."""
    fn.attributes.add("noinline")
    fn.attributes.add("optnone")


def _step_loop(fn: ir.Function, b: ir.IRBuilder, n: ir.Value):
    """Open ``for step in 0..n``: leaves the builder in the loop body; returns (step, head, done)."""
    head = fn.append_basic_block("step.head")
    body = fn.append_basic_block("step.body")
    done = fn.append_basic_block("done")
    entry = b.block
    b.branch(head)
    b.position_at_end(head)
    step = b.phi(I64T, name="step")
    step.add_incoming(ir.Constant(I64T, 0), entry)
    b.cbranch(b.icmp_signed("<", step, n), body, done)
    b.position_at_end(body)
    return step, head, done


def emit_run(lmod: ir.Module, module: K.KernelModule, kernels) -> None:
    """``i64 run(ptr table, i64 n)``: the step loop of the simulation."""
    fn = ir.Function(lmod, ir.FunctionType(I64T, [PTR, I64T]), "run")
    _driver_only(fn)
    table, n = fn.args
    table.name, n.name = "table", "n_steps"
    em = _Emitter(lmod, fn, module, {})
    b = em.b
    _load_pointers(em, module, table)
    step, head, done = _step_loop(fn, b, n)
    for kfn, calls, _ in _call_runs(module, kernels):
        _emit_calls(em, lmod, table, kfn, calls)
    stop = _end_of_step(em, module)
    nxt = b.add(step, ir.Constant(I64T, 1), name="step.next")
    last = b.block
    step.add_incoming(nxt, last)
    b.cbranch(stop, done, head)
    b.position_at_end(done)
    result = b.phi(I64T, name="steps")
    result.add_incoming(step, head)
    result.add_incoming(nxt, last)
    b.ret(result)
