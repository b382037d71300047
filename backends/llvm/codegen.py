"""Kernel IR -> ``llvmlite.ir``.

One internal function per kernel, taking the arrays it touches as ``noalias``
pointers (so the vectoriser need not prove they do not overlap), and an
exported ``i64 run(ptr table, i64 n_steps)`` holding the whole step loop.
Locals are allocas in the entry block (mem2reg makes them registers); loops
are emitted already rotated with an i64 induction variable, the shape the
loop vectoriser wants.

With several threads (a module lowered into partitions, ``threads > 1``)
``run`` packs ``(table, n_steps, steps done, stop flag)`` into a struct and
calls ``GOMP_parallel(run.omp, data, threads, 0)``: ``run.omp`` is the step
loop run by every thread of the team.  Parallel kernels take ``(tid,
nthreads)`` and give each thread its static slice of their parallel loops;
serial kernels run on thread 0; the team barrier is called before every
kernel marked ``barrier``, and at the end of a step (thread 0 increments the
step counter and evaluates the exit conditions between two barriers, so all
threads leave the loop together).

The barrier is the team's own (``_emit_barrier``: sense-reversing, a short
spin, then ``sched_yield``) rather than ``GOMP_barrier``: libgomp spins some
300000 iterations before sleeping, which on a machine where another process
holds a core makes each of the thousands of barriers of a simulation cost a
time slice (COBA: 30 s instead of 0.1 s); yielding gives the core to the
thread being waited for.  No fast-math flags anywhere: results must match the
reference backend (``+ - * /`` bit for bit, libm calls identical).
"""
from __future__ import annotations

import re

from llvmlite import ir

from anncompiler.errors import BackendError
from anncompiler.ir import kernel as K
from anncompiler.ir.types import BOOL, F32, F64, I32, I64, U16, U32, U64, DType, is_float, is_int, is_unsigned

PTR = ir.PointerType()
I1, I8 = ir.IntType(1), ir.IntType(8)
_REG = {F64: ir.DoubleType(), F32: ir.FloatType(), I32: ir.IntType(32), I64: ir.IntType(64), BOOL: I1,
        U32: ir.IntType(32), U64: ir.IntType(64), U16: ir.IntType(16)}
_MEM = {**_REG, BOOL: I8}  # bools are bytes in memory (numpy bool_)
_ALIGN = {F64: 8, F32: 4, I32: 4, I64: 8, BOOL: 1, U32: 4, U64: 8, U16: 2}
DOUBLE, I64T = _REG[F64], _REG[I64]

#: exact operations done by LLVM intrinsics (lowered to single instructions)
_INTRINSICS = {"sqrt": "llvm.sqrt", "fabs": "llvm.fabs", "floor": "llvm.floor",
               "ceil": "llvm.ceil", "trunc": "llvm.trunc", "round": "llvm.round"}


def array_signature(module: K.KernelModule, body: list[K.Stmt]) -> list[str]:
    """Arrays a kernel body touches, in the module's declaration order."""
    used = set()
    for s in K.walk_stmts(body):
        if isinstance(s, (K.Store, K.Prefetch)):
            used.add(s.array)
        for e in K.stmt_exprs(s):
            used.update(x.array for x in K.walk_expr(e) if isinstance(x, K.Load))
    return [name for name in module.arrays if name in used]


def _symbol(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name)


class _Emitter:
    """Emits statements and expressions into one LLVM function."""

    def __init__(self, lmod: ir.Module, func: ir.Function, module: K.KernelModule,
                 pointers: dict[str, ir.Value]):
        self.lmod, self.func, self.module, self.ptrs = lmod, func, module, pointers
        self.entry = func.append_basic_block("entry")
        self.b = ir.IRBuilder(self.entry)
        self.slots: dict[tuple[str, DType], ir.Value] = {}  # Let locals
        self.loop_vars: dict[str, tuple[ir.Value, ir.Value]] = {}  # name -> (value, i64 value)
        #: (thread number, team size) as i64 in a parallel kernel run by a team, else None
        self.thread: tuple[ir.Value, ir.Value] | None = None

    # -- helpers ----------------------------------------------------------
    def _decl(self, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
        fn = self.lmod.globals.get(name)
        if fn is None:
            fn = ir.Function(self.lmod, ir.FunctionType(ret, args), name)
        return fn

    def _libm(self, name: str, arity: int) -> ir.Function:
        """A libm function of doubles, declared ``readnone nounwind``: errno is
        never read, so a call is a pure function of its arguments (what
        ``-fno-math-errno`` gives C), and the loop vectoriser may keep a loop
        holding such calls vectorised, scalarising only the calls.  The same
        libm function is called either way: results do not change."""
        fn = self._decl(name, DOUBLE, [DOUBLE] * arity)
        if "readnone" not in fn.attributes:
            fn.attributes.add("readnone")
            fn.attributes.add("nounwind")
        return fn

    def _intrinsic(self, base: str, t: ir.Type) -> ir.Function:
        return self._decl(f"{base}.{'f64' if t == DOUBLE else 'f32'}", t, [t])

    def _slot(self, var: K.Var) -> ir.Value:
        key = (var.name, var.dtype)
        if key not in self.slots:
            with self.b.goto_block(self.entry):
                if self.entry.instructions:
                    self.b.position_before(self.entry.instructions[0])
                self.slots[key] = self.b.alloca(_REG[var.dtype], name=var.name)
        return self.slots[key]

    def _address(self, array: str, index: K.Expr) -> ir.Value:
        if array not in self.ptrs:
            raise BackendError(f"llvm backend: array {array!r} is not declared")
        return self.b.gep(self.ptrs[array], [self.index(index)], inbounds=True,
                          source_etype=_MEM[self.module.arrays[array].dtype])

    def index(self, e: K.Expr) -> ir.Value:
        """An i64 array index (loop variables use their i64 induction value)."""
        if isinstance(e, K.Var) and e.name in self.loop_vars:
            return self.loop_vars[e.name][1]
        if isinstance(e, K.Const):
            return ir.Constant(I64T, int(e.value))
        v = self.expr(e)
        if e.dtype == I32:
            return self.b.sext(v, I64T)
        return self.b.zext(v, I64T) if e.dtype in (U32, U16) else v

    # -- expressions ------------------------------------------------------
    def expr(self, e: K.Expr) -> ir.Value:
        method = getattr(self, "_" + type(e).__name__, None)
        if method is None:
            raise BackendError(f"llvm backend: unsupported expression {e!r}")
        return method(e)

    def _Const(self, e: K.Const):
        t = _REG[e.dtype]
        if is_float(e.dtype):
            return ir.Constant(t, float(e.value))
        return ir.Constant(t, int(bool(e.value)) if e.dtype == BOOL else int(e.value))

    def _Var(self, e: K.Var):
        if e.name in self.loop_vars:
            return self.loop_vars[e.name][0]
        if (e.name, e.dtype) not in self.slots:
            raise BackendError(f"llvm backend: local %{e.name} used before definition")
        return self.b.load(self.slots[(e.name, e.dtype)], typ=_REG[e.dtype], name=e.name)

    def _Load(self, e: K.Load):
        dt = self.module.arrays[e.array].dtype
        v = self.b.load(self._address(e.array, e.index), typ=_MEM[dt], align=_ALIGN[dt])
        return self.b.icmp_unsigned("!=", v, ir.Constant(I8, 0)) if dt == BOOL else v

    def _BinOp(self, e: K.BinOp):
        a, b, t, op, bd = self.expr(e.a), self.expr(e.b), e.dtype, e.op, self.b
        if op == "min":
            return bd.select(self._cmp("<", a, b, t), a, b)
        if op == "max":
            return bd.select(self._cmp(">", a, b, t), a, b)
        if op == "pow":
            return self._pow(a, b, t)
        if is_float(t):
            return {"+": bd.fadd, "-": bd.fsub, "*": bd.fmul, "/": bd.fdiv, "%": bd.frem}[op](a, b)
        if t == BOOL:
            raise BackendError(f"llvm backend: arithmetic {op!r} on bool")
        unsigned = is_unsigned(t)
        if op == "mulhi":  # double-width product, high half
            wide = ir.IntType(2 * a.type.width)
            ext = bd.zext if unsigned else bd.sext
            p = bd.mul(ext(a, wide), ext(b, wide))
            return bd.trunc(bd.lshr(p, ir.Constant(wide, a.type.width)), a.type)
        return {"+": bd.add, "-": bd.sub, "*": bd.mul, "/": bd.udiv if unsigned else bd.sdiv,
                "%": bd.urem if unsigned else bd.srem, "&": bd.and_, "|": bd.or_, "^": bd.xor,
                "<<": bd.shl, ">>": bd.lshr if unsigned else bd.ashr}[op](a, b)

    def _pow(self, a, b, t: DType):
        """C pow; in double for f32 (as the reference) and for integers
        (then truncated like a cast)."""
        pow_ = self._libm("pow", 2)
        r = self.b.call(pow_, [self._to_double(a, t), self._to_double(b, t)])
        return self._from_double(r, t)

    def _to_double(self, v, t: DType):
        if t == F64:
            return v
        if t == F32:
            return self.b.fpext(v, DOUBLE)
        return self.b.uitofp(v, DOUBLE) if is_unsigned(t) else self.b.sitofp(v, DOUBLE)

    def _from_double(self, v, t: DType):
        if t == F64:
            return v
        if t == F32:
            return self.b.fptrunc(v, _REG[F32])
        return self._fptosi(v, t)

    def _fptosi(self, v, t: DType):
        """Saturating float -> int (NaN -> 0): a plain fptosi is poison when
        out of range, the reference backend saturates."""
        kind = "fptoui" if is_unsigned(t) else "fptosi"
        fn = self._decl(f"llvm.{kind}.sat.{_REG[t]}.{v.type.intrinsic_name}", _REG[t], [v.type])
        return self.b.call(fn, [v])

    def _UnOp(self, e: K.UnOp):
        a = self.expr(e.a)
        if e.op == "not":
            return self.b.xor(a, ir.Constant(I1, 1))
        if is_float(e.dtype):
            return self.b.fneg(a)
        return self.b.sub(ir.Constant(a.type, 0), a)

    def _Call(self, e: K.Call):
        args = [self.expr(x) for x in e.args]
        t = e.args[0].dtype
        if e.fn == "isnan":
            return self.b.fcmp_unordered("uno", args[0], args[0])
        if e.fn == "isfinite":
            fabs = self.b.call(self._intrinsic("llvm.fabs", args[0].type), [args[0]])
            return self.b.fcmp_ordered("!=", fabs, ir.Constant(args[0].type, float("inf")))
        if e.fn in _INTRINSICS:  # exact: same result in float or double
            return self.b.call(self._intrinsic(_INTRINSICS[e.fn], args[0].type), args)
        # libm, always in double: f32 is rounded once at the end, like the reference
        fn = self._libm(e.fn, len(args))
        r = self.b.call(fn, [self._to_double(a, t) for a in args])
        return self._from_double(r, e.dtype)

    def _cmp(self, op: str, a, b, t: DType):
        if is_float(t):  # ordered, except != (true when a NaN is involved, as in C)
            if op == "!=":
                return self.b.fcmp_unordered("!=", a, b)
            return self.b.fcmp_ordered(op, a, b)
        if t == BOOL or is_unsigned(t):
            return self.b.icmp_unsigned(op, a, b)
        return self.b.icmp_signed(op, a, b)

    def _Cmp(self, e: K.Cmp):
        return self._cmp(e.op, self.expr(e.a), self.expr(e.b), e.a.dtype)

    def _Logic(self, e: K.Logic):
        a, b = self.expr(e.a), self.expr(e.b)
        return self.b.and_(a, b) if e.op == "and" else self.b.or_(a, b)

    def _Select(self, e: K.Select):
        return self.b.select(self.expr(e.cond), self.expr(e.a), self.expr(e.b))

    def _AnyOf(self, e: K.AnyOf):
        """One vector load of the block of flags, compared with zero and or-reduced."""
        n = int(e.count)
        vec = ir.VectorType(I8, n)
        flags = self.b.load(self.b.bitcast(self._address(e.array, e.start), PTR), typ=vec, align=1)
        nonzero = self.b.icmp_unsigned("!=", flags, ir.Constant(vec, [0] * n))
        fn = self._decl(f"llvm.vector.reduce.or.v{n}i1", I1, [ir.VectorType(I1, n)])
        return self.b.call(fn, [nonzero])

    def _Cast(self, e: K.Cast):
        src, dst = e.a.dtype, e.dtype
        if src == dst:
            return self.expr(e.a)
        if is_int(src) and dst == I64 and isinstance(e.a, K.Var) and e.a.name in self.loop_vars:
            return self.loop_vars[e.a.name][1]
        a, b, t = self.expr(e.a), self.b, _REG[dst]
        if dst == BOOL:
            if is_float(src):
                return b.fcmp_unordered("!=", a, ir.Constant(a.type, 0.0))
            return b.icmp_unsigned("!=", a, ir.Constant(a.type, 0))
        if is_float(dst):
            if is_float(src):
                return b.fpext(a, t) if dst == F64 else b.fptrunc(a, t)
            return b.uitofp(a, t) if src == BOOL or is_unsigned(src) else b.sitofp(a, t)
        if is_float(src):
            return self._fptosi(a, dst)
        if src == BOOL:
            return b.zext(a, t)
        if a.type.width == t.width:  # i32 <-> u32, i64 <-> u64: same bits
            return a
        if a.type.width < t.width:
            return b.zext(a, t) if is_unsigned(src) else b.sext(a, t)
        return b.trunc(a, t)

    # -- statements -------------------------------------------------------
    def body(self, stmts: list[K.Stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def stmt(self, s: K.Stmt) -> None:
        b = self.b
        if isinstance(s, K.Comment):
            return
        if isinstance(s, K.Let):
            if s.var.name in self.loop_vars:
                raise BackendError(f"loop variable %{s.var.name} cannot be assigned")
            b.store(self.expr(s.value), self._slot(s.var))
        elif isinstance(s, K.Store):
            dt = self.module.arrays[s.array].dtype
            v = self.expr(s.value)
            if dt == BOOL:
                v = b.zext(v, I8)
            b.store(v, self._address(s.array, s.index), align=_ALIGN[dt])
        elif isinstance(s, K.Append):  # one thread: the order of the loops is the order of the list
            counter = K.Load(s.counter, K.Const(0, I64), I64)
            self.body([K.Store(s.array, counter, s.value),
                       K.Store(s.counter, K.Const(0, I64), K.BinOp("+", counter, K.Const(1, I64), I64))])
        elif isinstance(s, K.Accumulate):
            current = K.Load(s.array, s.index, s.value.dtype)
            self.stmt(K.Store(s.array, s.index, K.BinOp(s.op, current, s.value, s.value.dtype)))
        elif isinstance(s, K.Reduce):
            raise BackendError(f"llvm backend: reduce into %{s.acc.name} was not expanded "
                               "(the pipeline needs the CPU pass 'cpu-expand-reductions')")
        elif isinstance(s, K.Prefetch):
            self._prefetch(s)
        elif isinstance(s, K.Loop):
            self._loop(s)
        elif isinstance(s, K.If):
            cond = self.expr(s.cond)
            with b.if_else(cond) as (then, orelse):
                with then:
                    self.body(s.then)
                with orelse:
                    self.body(s.orelse)
        else:
            raise BackendError(f"llvm backend: unsupported statement {s!r}")

    def _prefetch(self, s: K.Prefetch) -> None:
        """``llvm.prefetch`` (read, no temporal locality: the line is not kept in the caches
        closest to the core, where the gathered operands live).  The address is computed without
        ``inbounds``: it may lie beyond the array, and a prefetch never faults."""
        address = self.b.gep(self.ptrs[s.array], [self.index(s.index)], inbounds=False,
                             source_etype=_MEM[self.module.arrays[s.array].dtype])
        fn = self._decl("llvm.prefetch.p0", ir.VoidType(), [address.type, _REG[I32], _REG[I32], _REG[I32]])
        i32 = _REG[I32]
        self.b.call(fn, [address, ir.Constant(i32, 0), ir.Constant(i32, 0), ir.Constant(i32, 1)])

    def _loop(self, s: K.Loop) -> None:
        """``for var in range(start, stop)`` as guard + rotated loop:
        ``if (start < stop) do { body } while (++i < stop)``."""
        b = self.b
        start, stop = self.index(s.start), self.index(s.stop)
        if s.parallel and self.thread is not None:  # this thread's static slice
            tid, nth = self.thread
            n = b.sub(stop, start)
            n = b.select(b.icmp_signed("<", n, ir.Constant(I64T, 0)), ir.Constant(I64T, 0), n)
            first = b.sdiv(b.mul(n, tid), nth)
            last = b.sdiv(b.mul(n, b.add(tid, ir.Constant(I64T, 1))), nth)
            start, stop = b.add(start, first), b.add(start, last)
        body = self.func.append_basic_block(f"{s.var.name}.body")
        done = self.func.append_basic_block(f"{s.var.name}.done")
        pre = b.block
        b.cbranch(b.icmp_signed("<", start, stop), body, done)
        b.position_at_end(body)
        iv = b.phi(I64T, name=s.var.name + ".i64")
        iv.add_incoming(start, pre)
        value = b.trunc(iv, _REG[I32], name=s.var.name) if s.var.dtype == I32 else iv
        outer = self.loop_vars.get(s.var.name)
        self.loop_vars[s.var.name] = (value, iv)
        self.body(s.body)
        if outer is None:
            del self.loop_vars[s.var.name]
        else:
            self.loop_vars[s.var.name] = outer
        nxt = b.add(iv, ir.Constant(I64T, 1), name=s.var.name + ".next", flags=["nsw", "nuw"])
        iv.add_incoming(nxt, b.block)
        b.cbranch(b.icmp_signed("<", nxt, stop), body, done)
        b.position_at_end(done)


def emit_module(module: K.KernelModule, name: str = "anncompiler", triple: str = "",
                data_layout: str = "", threads: int = 1) -> ir.Module:
    """Build the LLVM module of a kernel module (see the module docstring); ``threads > 1``
    runs the steps in an OpenMP parallel region when the module has parallel kernels."""
    lmod = ir.Module(name=name)
    lmod.triple, lmod.data_layout = triple or lmod.triple, data_layout
    threaded = threads > 1 and any(k.parallel for k in module.kernels)
    kernels = []
    for n, k in enumerate(module.kernels):
        arrays = array_signature(module, k.body)
        team = threaded and k.parallel
        fn = ir.Function(lmod, ir.FunctionType(ir.VoidType(), [PTR] * len(arrays) + [I64T, I64T] * team),
                         _symbol(f"k{n}_", k.name))
        fn.linkage = "internal"
        fn.attributes.add("nounwind")
        # one function per kernel, called once per step: inlining them all into ``run`` makes the
        # optimiser superlinear in the number of kernels (100 populations: 48 s instead of 9 s)
        fn.attributes.add("noinline")
        for arg, a in zip(fn.args, arrays):
            arg.name = a  # llvmlite quotes names: "pop.v" stays readable
            arg.add_attribute("noalias")
            arg.add_attribute("captures(none)")
        em = _Emitter(lmod, fn, module, dict(zip(arrays, fn.args)))
        if team:
            fn.args[-2].name, fn.args[-1].name = "tid", "nthreads"
            em.thread = (fn.args[-2], fn.args[-1])
        em.body(k.body)
        em.b.ret_void()
        kernels.append((fn, arrays))
    if threaded:
        _emit_parallel_run(lmod, module, kernels, threads)
    else:
        _emit_run(lmod, module, kernels)
    return lmod


def _load_pointers(em: "_Emitter", module: K.KernelModule, kernels, table: ir.Value) -> None:
    """Data pointers of the arrays used, loaded once from the table, before the step loop."""
    names = list(module.arrays)
    used = {K.STEP_COUNTER} | {a for _, arrays in kernels for a in arrays}
    used |= {x.array for c in module.exit_conditions for x in K.walk_expr(c) if isinstance(x, K.Load)}
    for a in names:
        if a in used:
            slot = em.b.gep(table, [ir.Constant(I64T, names.index(a))], inbounds=True, source_etype=PTR)
            em.ptrs[a] = em.b.load(slot, typ=PTR, name=a)


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


def _emit_parallel_run(lmod: ir.Module, module: K.KernelModule, kernels, threads: int) -> None:
    """``run`` calling ``GOMP_parallel`` on ``run.omp``, the step loop of every thread."""
    void = ir.VoidType()
    i32 = ir.IntType(32)
    omp = ir.Function(lmod, ir.FunctionType(void, [PTR]), "run.omp")
    omp.linkage = "internal"
    omp.attributes.add("nounwind")
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
    _load_pointers(em, module, kernels, b.load(_field(b, data, 0), typ=PTR, name="table"))
    step, head, done = _step_loop(omp, b, n)
    for (kfn, arrays), k in zip(kernels, module.kernels):
        if k.barrier:
            barrier_fn()
        args = [em.ptrs[a] for a in arrays]
        if k.parallel:
            b.call(kfn, args + [tid, nth])
        else:
            with b.if_then(is_master):
                b.call(kfn, args)
    if not module.kernels or module.kernels[-1].parallel:
        barrier_fn()  # every thread is done with the step before the counter moves
    nxt = b.add(step, ir.Constant(I64T, 1), name="step.next")
    with b.if_then(is_master):
        stop = _end_of_step(em, module)
        b.store(b.zext(stop, I64T), _field(b, data, 3))
        b.store(nxt, _field(b, data, 2))
    barrier_fn()
    stop = b.icmp_signed("!=", b.load(_field(b, data, 3), typ=I64T), ir.Constant(I64T, 0))
    step.add_incoming(nxt, b.block)
    b.cbranch(stop, done, head)
    b.position_at_end(done)
    b.ret_void()


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


def _emit_run(lmod: ir.Module, module: K.KernelModule, kernels) -> None:
    """``i64 run(ptr table, i64 n)``: the step loop of the simulation."""
    fn = ir.Function(lmod, ir.FunctionType(I64T, [PTR, I64T]), "run")
    table, n = fn.args
    table.name, n.name = "table", "n_steps"
    em = _Emitter(lmod, fn, module, {})
    b = em.b
    _load_pointers(em, module, kernels, table)
    step, head, done = _step_loop(fn, b, n)
    for kfn, arrays in kernels:
        b.call(kfn, [em.ptrs[a] for a in arrays])
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
