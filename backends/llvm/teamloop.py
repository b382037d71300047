"""The step loop of a team of threads: partitions are claimed, not assigned.

The kernels of a step form *segments* (split where a kernel is marked ``barrier``, see
``passes/platform/cpu_partition.py``).  A parallel segment of a module cut into P partitions
is P *chunks* (chunk ``c``: partition ``c`` of every kernel of the segment, in order), a serial
segment is one chunk, and the last chunk of a step evaluates the exit conditions (a chunk of
its own after a parallel segment).  Numbered across the whole run (``step * chunks_per_step + rank``), the chunks
are handed out by one shared counter: a thread takes the next number, waits until every chunk
of the earlier segments is complete (a second counter: chunks done), runs it and counts it done.

No thread ever waits for another to *arrive*, only for work that another has taken to be
finished.  When the other core is busy (another process holds it), the thread that runs takes
the chunks of the one that does not, and a step costs about what it costs on one thread, where
a barrier would wait for the descheduled thread, a time slice each time.  Which thread runs a
chunk does not change what it computes (each partition's work is fixed), so the results stay
bit-identical for any team size.

Every thread reads the step counter through its own copy (set to the chunk's step); the shared
counter moves once, when the team is done.  A waiting thread spins ``SPINS`` times, then
yields its core (``sched_yield``) at each further test.
"""
from __future__ import annotations

from llvmlite import ir

from anncompiler.ir import kernel as K

from .codegen import I1, I64T, PTR, _Emitter
from .steploop import _call_runs, _driver_only, _emit_calls, _load_pointers, _table_pointer

#: table, n_steps, stop_at (steps to run: n_steps, or fewer once an exit condition holds), then
#: the counter of chunks taken and the counter of chunks done, together on a cache line of their
#: own: a thread that finishes a chunk counts it done and claims the next one at once, and every
#: thread writes both, so one line moving between the cores serves both (two lines took two
#: transfers per chunk)
#: ``members``: the threads still in the team (see :data:`LEAVE_YIELDS`), on the first line
_TEAM = ir.LiteralStructType([PTR, I64T, I64T, I64T, ir.ArrayType(I64T, 4), I64T, I64T, ir.ArrayType(I64T, 6)])
_TABLE, _N, _STOP_AT, _MEMBERS, _TAKEN, _DONE = 0, 1, 2, 3, 5, 6
#: spins of a waiting thread before it yields its core at each test
SPINS = 2000
#: yields of one wait after which the waiting thread leaves the team for the rest of the call
#: (unless it is the last member), or None: never.  Meant for a thread waiting on a holder that
#: was descheduled (a neighbour process wants the cores): one thread then progresses whenever it
#: runs, a team only when every holder runs.  Off by default: a count of yields cannot tell a
#: descheduled holder from a long chunk (a rate network's partition runs for hundreds of us, longer
#: than 100 yields on an idle core), and leaving then halved two-thread runs of large networks.
#: The thread that leaves holds no chunk, so the others run all of them: the same bits.
LEAVE_YIELDS = None


def segments(module: K.KernelModule, kernels) -> list[tuple[bool, list]]:
    """``[(parallel, runs)]``: the kernel calls of a step between two barriers."""
    out: list[tuple[bool, list]] = []
    for run in _call_runs(module, kernels):
        k = run[2]
        if not out or k.barrier or out[-1][0] != k.parallel:
            out.append((k.parallel, []))
        out[-1][1].append(run)
    return out


def chunks_per_step(module: K.KernelModule) -> int:
    """Chunks of one step (see the module docstring): P per parallel segment, 1 per serial one,
    1 for the exit conditions."""
    P, count, prev = max(1, module.num_threads), 0, None
    for k in module.kernels:
        if prev is None or k.barrier or k.parallel != prev.parallel:
            count += P if k.parallel else 1
        prev = k
    return count + (1 if _conditions_chunk(module, prev) else 0)


def _conditions_chunk(module: K.KernelModule, last) -> bool:
    """The exit conditions need a chunk of their own after a parallel segment; after a serial
    one, its chunk evaluates them."""
    return bool(module.exit_conditions) and (last is None or last.parallel)


def _slot(b: ir.IRBuilder, data: ir.Value, k: int) -> ir.Value:
    index = [ir.Constant(ir.IntType(32), 0), ir.Constant(ir.IntType(32), k)]
    if data.type.is_opaque:
        return b.gep(data, index, inbounds=True, source_etype=_TEAM)
    return b.gep(data, index, inbounds=True)


def _rmw_add(b: ir.IRBuilder, ptr: ir.Value, name: str) -> ir.Value:
    instr = ir.instructions.AtomicRMW(b.block, "add", ptr, ir.Constant(I64T, 1), "acq_rel", name)
    b._insert(instr)  # built directly: the builder's helper checks typed pointees
    return instr


def emit_team_run(lmod: ir.Module, module: K.KernelModule, kernels, threads: int) -> None:
    """``run(table, n)`` starting a team of ``threads`` on ``run.omp`` (``GOMP_parallel``)."""
    void, i32 = ir.VoidType(), ir.IntType(32)
    omp = ir.Function(lmod, ir.FunctionType(void, [PTR]), "run.omp")
    omp.linkage = "internal"
    omp.attributes.add("nounwind")
    _driver_only(omp)
    gomp_parallel = ir.Function(lmod, ir.FunctionType(void, [PTR, PTR, i32, i32]), "GOMP_parallel")
    sched_yield = ir.Function(lmod, ir.FunctionType(i32, []), "sched_yield")

    # run(table, n): the shared struct, the team, then the shared step counter moves
    fn = ir.Function(lmod, ir.FunctionType(I64T, [PTR, I64T]), "run")
    table, n = fn.args
    table.name, n.name = "table", "n_steps"
    em = _Emitter(lmod, fn, module, {})
    b = em.b
    data = b.alloca(_TEAM, name="team")
    data.align = 64
    for k, v in ((_TABLE, table), (_N, n), (_STOP_AT, n), (_MEMBERS, ir.Constant(I64T, threads)),
                 (_TAKEN, ir.Constant(I64T, 0)), (_DONE, ir.Constant(I64T, 0))):
        b.store(v, _slot(b, data, k))
    with b.if_then(b.icmp_signed(">", n, ir.Constant(I64T, 0))):
        b.call(gomp_parallel, [omp, data, ir.Constant(i32, threads), ir.Constant(i32, 0)])
    steps = b.load(_slot(b, data, _STOP_AT), typ=I64T, name="steps")
    t_ptr = _table_pointer(em, table, ir.Constant(I64T, em.positions[K.STEP_COUNTER]))
    b.store(b.add(b.load(t_ptr, typ=I64T), steps), t_ptr)
    b.ret(steps)

    _emit_thread_loop(lmod, module, kernels, omp, sched_yield)


def _emit_thread_loop(lmod, module, kernels, omp, sched_yield) -> None:
    (data,) = omp.args
    data.name = "team"
    em = _Emitter(lmod, omp, module, {})
    b = em.b
    P = max(1, module.num_threads)
    segs = segments(module, kernels)
    own_chunk = _conditions_chunk(module, module.kernels[-1] if module.kernels else None)
    sizes = [P if parallel else 1 for parallel, _ in segs] + ([1] if own_chunk else [])
    starts = [sum(sizes[:k]) for k in range(len(sizes))]
    S = sum(sizes)
    c = lambda v: ir.Constant(I64T, v)  # noqa: E731

    table = b.load(_slot(b, data, _TABLE), typ=PTR, name="table")
    _load_pointers(em, module, table)
    t0 = b.load(em.ptrs[K.STEP_COUNTER], typ=I64T, name="t0")
    own_t = b.alloca(I64T, name="t.own")
    em.ptrs[K.STEP_COUNTER] = own_t  # the exit conditions read this thread's step counter
    own = {em.positions[K.STEP_COUNTER]: own_t}
    stop_at, taken, done, members = (_slot(b, data, k) for k in (_STOP_AT, _TAKEN, _DONE, _MEMBERS))

    blocks = {name: omp.append_basic_block(name) for name in
              ("claim", "check", "take", "wait", "leave", "waited", "dispatch", "finish", "exit")}
    entry = b.block
    b.branch(blocks["claim"])

    b.position_at_end(blocks["claim"])  # the next chunk of the run, once its segment may start
    spins = b.phi(I64T, name="spins")
    spins.add_incoming(c(0), entry)
    g = b.load_atomic(taken, "acquire", 8, typ=I64T, name="chunk")
    step, rank = b.sdiv(g, c(S), name="step"), b.srem(g, c(S), name="rank")
    first = c(0)
    for start in starts[1:]:
        first = b.select(b.icmp_signed(">=", rank, c(start)), c(start), first)
    needed = b.add(b.mul(step, c(S)), first, name="needed")
    ready = b.icmp_signed(">=", b.load_atomic(done, "acquire", 8, typ=I64T), needed)
    b.cbranch(ready, blocks["check"], blocks["wait"])

    b.position_at_end(blocks["check"])  # read after the chunks done: sees an exit condition's stop
    over = b.icmp_signed(">=", step, b.load_atomic(stop_at, "acquire", 8, typ=I64T))
    b.cbranch(over, blocks["exit"], blocks["take"])

    b.position_at_end(blocks["wait"])  # holding nothing: a descheduled waiter delays no one
    if lmod.triple.startswith(("x86_64", "i686", "i386")):  # a spin-wait hint to the core
        b.call(ir.Function(lmod, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause"), [])
    with b.if_then(b.icmp_signed(">", spins, c(SPINS))):
        b.call(sched_yield, [])
    if LEAVE_YIELDS is None:
        b.branch(blocks["waited"])
    else:
        b.cbranch(b.icmp_signed(">", spins, c(SPINS + LEAVE_YIELDS)), blocks["leave"], blocks["waited"])

    b.position_at_end(blocks["leave"])  # the last member stays; another leaves if it can
    m = b.load_atomic(members, "acquire", 8, typ=I64T, name="members")
    others = b.icmp_signed(">", m, c(1))
    gone = ir.instructions.CmpXchg(b.block, members, m, b.select(others, b.sub(m, c(1)), m), "acq_rel",
                                   "monotonic", "leave")
    b._insert(gone)
    b.cbranch(b.and_(others, b.extract_value(gone, 1)), blocks["exit"], blocks["waited"])

    b.position_at_end(blocks["waited"])
    spins.add_incoming(b.add(spins, c(1)), b.block)
    b.branch(blocks["claim"])

    b.position_at_end(blocks["take"])
    pair = ir.instructions.CmpXchg(b.block, taken, g, b.add(g, c(1)), "acq_rel", "monotonic", "take")
    b._insert(pair)
    spins.add_incoming(c(0), b.block)
    b.cbranch(b.extract_value(pair, 1), blocks["dispatch"], blocks["claim"])

    b.position_at_end(blocks["dispatch"])
    b.store(b.add(t0, step), own_t)
    for k, size in enumerate(sizes):
        body = omp.append_basic_block(f"segment{k}")
        rest = omp.append_basic_block(f"segment{k}.after")
        b.cbranch(b.icmp_signed("<", rank, c(starts[k] + size)), body, rest)
        b.position_at_end(body)
        if k < len(segs):
            parallel, runs = segs[k]
            extra = [b.sub(rank, c(starts[k]), name="part"), c(P)] if parallel else ()
            for kfn, calls, _ in runs:
                _emit_calls(em, lmod, table, kfn, calls, extra, own)
        if module.exit_conditions and k == len(sizes) - 1:  # after the step
            b.store(b.add(t0, b.add(step, c(1))), own_t)
            stop = ir.Constant(I1, 0)
            for cond in module.exit_conditions:
                stop = b.or_(stop, em.expr(cond))
            with b.if_then(stop):
                b._insert(ir.instructions.StoreAtomicInstr(b.block, b.add(step, c(1)), stop_at, "release", 8))
        b.branch(blocks["finish"])
        b.position_at_end(rest)
    b.branch(blocks["finish"])

    b.position_at_end(blocks["finish"])
    _rmw_add(b, done, "done")
    spins.add_incoming(c(0), blocks["finish"])
    b.branch(blocks["claim"])

    b.position_at_end(blocks["exit"])
    b.ret_void()
