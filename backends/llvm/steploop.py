"""The exported step loop ``i64 run(ptr table, i64 n_steps)``, which calls the kernel functions.

With several threads (a module cut into partitions, ``threads > 1``) ``run`` packs ``(table,
n_steps, steps done, stop flag)`` into a struct and calls ``GOMP_parallel(run.omp, data,
threads, 0)``: ``run.omp`` is the step loop run by every thread of the team.  Parallel kernels
take ``(tid, nthreads)`` and give each thread its static slice of their parallel loops; serial
kernels run on thread 0; the team barrier is called before every kernel marked ``barrier``, and
at the end of a step (thread 0 increments the step counter and evaluates the exit conditions
between two barriers, so all threads leave the loop together).

The barrier is the team's own (``_emit_barrier``: sense-reversing, a short spin, then
``sched_yield``) rather than ``GOMP_barrier``: libgomp spins some 300000 iterations before
sleeping, which on a machine where another process holds a core makes each of the thousands of
barriers of a simulation cost a time slice (COBA: 30 s instead of 0.1 s); yielding gives the core
to the thread being waited for.

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


#: the struct shared by the threads: table, n_steps, steps done, stop flag, barrier count, barrier sense
_DATA = ir.LiteralStructType([PTR, I64T, I64T, I64T, I64T, I64T])
#: spins of a waiting thread before it yields its core
SPINS = 2000


def _atomic(b: ir.IRBuilder, instr):
    """Insert an atomic instruction built directly (the builder's helpers check the pointee type
    of typed pointers, which opaque pointers lack)."""
    b._insert(instr)
    return instr


def _emit_barrier(lmod: ir.Module) -> ir.Function:
    """``team.barrier(data, local_sense, nthreads)``: a sense-reversing barrier on the counter and
    sense of ``data`` (acquire/release: what a thread wrote before it is visible after it)."""
    fn = ir.Function(lmod, ir.FunctionType(ir.VoidType(), [PTR, PTR, I64T]), "team.barrier")
    fn.linkage = "internal"
    fn.attributes.add("nounwind")
    fn.attributes.add("noinline")
    data, local, nth = fn.args
    sched_yield = ir.Function(lmod, ir.FunctionType(ir.IntType(32), []), "sched_yield")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    sense = b.xor(b.load(local, typ=I64T), ir.Constant(I64T, 1))
    b.store(sense, local)
    count, shared = _field(b, data, 4), _field(b, data, 5)
    old = _atomic(b, ir.instructions.AtomicRMW(b.block, "add", count, ir.Constant(I64T, 1), "acq_rel", "old"))
    last = fn.append_basic_block("last")
    wait = fn.append_basic_block("wait")
    spin = fn.append_basic_block("spin")
    rest = fn.append_basic_block("yield")
    done = fn.append_basic_block("done")
    b.cbranch(b.icmp_signed("==", old, b.sub(nth, ir.Constant(I64T, 1))), last, wait)
    b.position_at_end(last)  # the last one in resets the counter and releases the others
    _atomic(b, ir.instructions.StoreAtomicInstr(b.block, ir.Constant(I64T, 0), count, "monotonic", 8))
    _atomic(b, ir.instructions.StoreAtomicInstr(b.block, sense, shared, "release", 8))
    b.branch(done)
    b.position_at_end(wait)
    b.branch(spin)
    b.position_at_end(spin)
    k = b.phi(I64T, name="spins")
    k.add_incoming(ir.Constant(I64T, 0), wait)
    seen = b.load_atomic(shared, "acquire", 8, typ=I64T)
    k1 = b.add(k, ir.Constant(I64T, 1))
    b.cbranch(b.icmp_signed("==", seen, sense), done, rest)
    b.position_at_end(rest)
    with b.if_then(b.icmp_signed(">", k, ir.Constant(I64T, SPINS))):
        b.call(sched_yield, [])
    k.add_incoming(k1, b.block)
    b.branch(spin)
    b.position_at_end(done)
    b.ret_void()
    return fn


def _field(b: ir.IRBuilder, data: ir.Value, k: int) -> ir.Value:
    index = [ir.Constant(ir.IntType(32), 0), ir.Constant(ir.IntType(32), k)]
    if data.type.is_opaque:
        return b.gep(data, index, inbounds=True, source_etype=_DATA)
    return b.gep(data, index, inbounds=True)  # the alloca (a typed pointer in llvmlite)


def emit_parallel_run(lmod: ir.Module, module: K.KernelModule, kernels, threads: int) -> None:
    """``run`` calling ``GOMP_parallel`` on ``run.omp``, the step loop of every thread."""
    void = ir.VoidType()
    i32 = ir.IntType(32)
    omp = ir.Function(lmod, ir.FunctionType(void, [PTR]), "run.omp")
    omp.linkage = "internal"
    omp.attributes.add("nounwind")
    _driver_only(omp)
    gomp_parallel = ir.Function(lmod, ir.FunctionType(void, [PTR, PTR, i32, i32]), "GOMP_parallel")
    team_barrier = _emit_barrier(lmod)
    thread_num = ir.Function(lmod, ir.FunctionType(i32, []), "omp_get_thread_num")
    num_threads = ir.Function(lmod, ir.FunctionType(i32, []), "omp_get_num_threads")
    for f in (thread_num, num_threads):
        f.attributes.add("nounwind")

    # run(table, n): pack the arguments, start the team, return the steps done
    fn = ir.Function(lmod, ir.FunctionType(I64T, [PTR, I64T]), "run")
    table, n = fn.args
    table.name, n.name = "table", "n_steps"
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    data = b.alloca(_DATA, name="data")
    for k, v in enumerate((table, n) + (ir.Constant(I64T, 0),) * 4):
        b.store(v, _field(b, data, k))
    with b.if_then(b.icmp_signed(">", n, ir.Constant(I64T, 0))):
        b.call(gomp_parallel, [omp, data, ir.Constant(i32, threads), ir.Constant(i32, 0)])
    b.ret(b.load(_field(b, data, 2), typ=I64T))

    # run.omp(data): the step loop of one thread
    (data,) = omp.args
    data.name = "data"
    em = _Emitter(lmod, omp, module, {})
    b = em.b
    tid = b.sext(b.call(thread_num, []), I64T, name="tid")
    nth = b.sext(b.call(num_threads, []), I64T, name="nthreads")
    is_master = b.icmp_signed("==", tid, ir.Constant(I64T, 0))
    local_sense = b.alloca(I64T, name="sense")
    b.store(ir.Constant(I64T, 0), local_sense)

    def barrier_fn():
        b.call(team_barrier, [data, local_sense, nth])

    n = b.load(_field(b, data, 1), typ=I64T, name="n_steps")
    table = b.load(_field(b, data, 0), typ=PTR, name="table")
    _load_pointers(em, module, table)
    # this thread's own step counter: the kernels read it instead of the shared one, so no
    # thread waits for thread 0 to move the shared counter before it starts the next step
    own_t = b.alloca(I64T, name="t.own")
    b.store(b.load(em.ptrs[K.STEP_COUNTER], typ=I64T), own_t)
    own = {em.positions[K.STEP_COUNTER]: own_t}
    step, head, done = _step_loop(omp, b, n)
    for kfn, calls, k in _call_runs(module, kernels):
        if k.barrier:
            barrier_fn()
        if k.parallel:
            _emit_calls(em, lmod, table, kfn, calls, [tid, nth], own)
        else:
            with b.if_then(is_master):
                _emit_calls(em, lmod, table, kfn, calls, (), own)
    nxt = b.add(step, ir.Constant(I64T, 1), name="step.next")
    b.store(b.add(b.load(own_t, typ=I64T), ir.Constant(I64T, 1)), own_t)
    if module.exit_conditions:
        if not module.kernels or module.kernels[-1].parallel:
            barrier_fn()  # the conditions read what every thread wrote in the step
        with b.if_then(is_master):
            stop = _end_of_step(em, module)
            b.store(b.zext(stop, I64T), _field(b, data, 3))
            b.store(nxt, _field(b, data, 2))
        barrier_fn()
        stop = b.icmp_signed("!=", b.load(_field(b, data, 3), typ=I64T), ir.Constant(I64T, 0))
    else:  # one barrier: the step's writes are visible to the next step
        with b.if_then(is_master):
            _end_of_step(em, module)
            b.store(nxt, _field(b, data, 2))
        barrier_fn()
        stop = ir.Constant(I1, 0)
    step.add_incoming(nxt, b.block)
    b.cbranch(stop, done, head)
    b.position_at_end(done)
    b.ret_void()


def barriers_per_step(module: K.KernelModule) -> int:
    """Team barriers a thread passes in every step of a module cut into partitions (the kernels
    marked ``barrier`` and the end of the step), as :func:`emit_parallel_run` emits them."""
    inside = sum(1 for k in module.kernels if k.barrier)
    if module.exit_conditions and (not module.kernels or module.kernels[-1].parallel):
        return inside + 2
    return inside + 1


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
