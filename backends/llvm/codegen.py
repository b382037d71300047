"""Kernel IR -> ``llvmlite.ir``: one function per kernel shape.

One internal function per kernel, taking the arrays it touches as ``noalias``
pointers (so the vectoriser need not prove they do not overlap); kernels of the
same shape on other arrays (populations of one neuron model, projections of one
synapse model) call the same function.  Kernel functions are ``noinline``: the
step loop that calls them (``steploop.py``) stays small whatever the network.
Locals are allocas in the entry block (mem2reg makes them registers); loops
are emitted already rotated with an i64 induction variable, the shape the
loop vectoriser wants.  No fast-math flags anywhere: results must match the
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


def array_signature(module: K.KernelModule, body: list[K.Stmt], positions: dict | None = None) -> list[str]:
    """Arrays a kernel body touches, in the module's declaration order (``positions``: array ->
    its rank in that order, when the caller has it)."""
    used = set()
    for s in K.walk_stmts(body):
        if isinstance(s, (K.Store, K.Prefetch, K.Accumulate)):
            used.add(s.array)
        elif isinstance(s, K.Append):
            used.update((s.array, s.counter))
        for e in K.stmt_exprs(s):
            used.update(x.array for x in K.walk_expr(e) if isinstance(x, (K.Load, K.AnyOf)))
    if positions is None:
        positions = {name: n for n, name in enumerate(module.arrays)}
    return sorted(used, key=lambda name: positions.get(name, -1))


def shape_of(module: K.KernelModule, k: K.Kernel, arrays: list[str]) -> str:
    """The code of a kernel with its arrays named by position and typed: two kernels of the same
    shape (populations of one neuron model and size, projections of one synapse model and
    storage) compile to one function called on different arrays."""
    position = {a: f"${n}:{module.arrays[a].dtype.value}" for n, a in enumerate(arrays)}
    body = K.rename_arrays(k.body, position)
    return K.format_kernel(K.Kernel("", k.phase, body, parallel=k.parallel))


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
        #: array name -> its slot in the runtime's pointer table (declaration order)
        self.positions = {name: n for n, name in enumerate(module.arrays)}

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
            self.body(s.as_stores())
        elif isinstance(s, K.Accumulate):
            self.stmt(s.as_store())
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
    shared: dict[tuple, ir.Function] = {}  # kernels of the same code on other arrays share one function
    positions = {name: n for n, name in enumerate(module.arrays)}
    for n, k in enumerate(module.kernels):
        arrays = array_signature(module, k.body, positions)
        team = threaded and k.parallel
        key = (team, shape_of(module, k, arrays))
        if key in shared:
            kernels.append((shared[key], arrays))
            continue
        fn = ir.Function(lmod, ir.FunctionType(ir.VoidType(), [PTR] * len(arrays) + [I64T, I64T] * team),
                         _symbol(f"k{n}_", k.name))
        shared[key] = fn
        fn.linkage = "internal"
        fn.attributes.add("nounwind")
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
    from .steploop import emit_run
    from .teamloop import emit_team_run
    if threaded:
        emit_team_run(lmod, module, kernels, threads)
    else:
        emit_run(lmod, module, kernels)
    return lmod
