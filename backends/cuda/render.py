"""A kernel module as one CUDA C translation unit, plus the plan to launch it.

Every kernel becomes ``extern "C" __global__`` functions taking the arrays they touch as
``__restrict__`` pointers (bools as the bytes numpy stores), then the one-byte stop flag, one per
launch of
:func:`~anncompiler.ir.launch.launch_segments`: a grid loop of its
:class:`~anncompiler.ir.launch.LaunchConfig` (one thread per iteration, a grid-stride loop guarded
by the loop's bounds), or statements run by a single thread.  ``annc_advance_step`` ends a step: it
increments ``net.t`` and writes the exit conditions into the stop flag.  Every function returns at
once while the flag is set: a chunk of steps launched in advance (a CUDA graph) does nothing after
the step that stopped it, so the host reads the flag back only once per chunk.  Locals are
declared at the top of each function; loop bounds are evaluated once, as in the reference backend.
"""
from __future__ import annotations

from dataclasses import dataclass

from anncompiler.errors import BackendError
from anncompiler.ir import kernel as K
from anncompiler.ir.launch import LaunchConfig, launch_segments
from anncompiler.ir.types import BOOL, I32, I64, U32, U64, is_float

from .cexpr import CTYPE, MEMTYPE, PRELUDE, ExprRenderer, identifier, literal

#: name of the end-of-step kernel and of its flag parameter
ADVANCE = "annc_advance_step"
STOP_FLAG = "annc_stop"


@dataclass(frozen=True)
class LaunchSpec:
    """One ``__global__`` function and how the host launches it: ``arrays`` are its pointer
    parameters in order (then the stop flag); ``iterations`` bounds the threads its grid loop
    uses (``ceil(iterations / block)`` blocks of ``block`` threads, at least one: the loop is
    grid-stride and guarded), ``group`` threads per iteration; ``None``: one block of one thread."""
    function: str
    arrays: tuple[str, ...]
    iterations: int | None = None
    block: int = 1
    group: int = 1


@dataclass
class Rendered:
    source: str
    #: the launches of one step, in order (then ``advance``)
    launches: list[LaunchSpec]
    #: ``annc_advance_step``: its arrays, then the stop flag
    advance: LaunchSpec


def _arrays_of(module: K.KernelModule, stmts: list[K.Stmt], exprs=()) -> tuple[str, ...]:
    """The arrays ``stmts`` and ``exprs`` touch, in declaration order (the pointer parameters)."""
    used = set()
    exprs = list(exprs)
    for s in K.walk_stmts(stmts):
        if isinstance(s, (K.Store, K.Accumulate)):
            used.add(s.array)
        elif isinstance(s, K.Append):
            used.update((s.array, s.counter))
        exprs.extend(K.stmt_exprs(s))
    for e in exprs:
        used.update(x.array for x in K.walk_expr(e) if isinstance(x, (K.Load, K.AnyOf)))
    return tuple(n for n in module.arrays if n in used)


class _Function:
    """Renders the statements of one ``__global__`` function."""

    def __init__(self, module: K.KernelModule, params: dict[str, str], atomics=()):
        self.module, self.params, self.atomics = module, params, set(atomics)
        #: inside a grid loop run by groups of threads: (group size W, lane, mask) C names
        self.group: tuple[str, str, str] | None = None
        self.names: dict[tuple[str, object], str] = {}
        self.decls: dict[str, str] = {}  # C name -> C type of the function-level locals
        self.loop_vars: list[str] = []
        self.fresh = 0
        self.expr = ExprRenderer(module, params, self.local)
        self.lines: list[str] = []

    def local(self, v: K.Var) -> str:
        key = (v.name, v.dtype)
        if key not in self.names:
            taken = set(self.names.values()) | set(self.params.values())
            base = "v_" + identifier(v.name)
            if any(n == v.name for n, _ in self.names):
                base += "_" + v.dtype.value
            name, k = base, 1
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            self.names[key] = name
        return self.names[key]

    def temp(self, hint: str) -> str:
        self.fresh += 1
        return f"t{self.fresh}_{hint}"

    def emit(self, line: str, depth: int) -> None:
        self.lines.append("  " * depth + line)

    def declare(self, v: K.Var) -> str:
        if v.name in self.loop_vars:
            raise BackendError(f"loop variable %{v.name} cannot be assigned")
        name = self.local(v)
        self.decls[name] = CTYPE[v.dtype]
        return name

    # -- statements -------------------------------------------------------
    def body(self, stmts: list[K.Stmt], depth: int, grid: bool = False) -> None:
        for s in stmts:
            self.stmt(s, depth, grid)

    def stmt(self, s: K.Stmt, depth: int, grid: bool) -> None:
        e = self.expr
        if self.group is not None and isinstance(s, (K.Store, K.Accumulate, K.Append)):
            group, self.group = self.group, None  # stored by the group's first thread only
            self.emit(f"if ({group[1]} == 0) {{", depth)
            self.stmt(s, depth + 1, grid)
            self.emit("}", depth)
            self.group = group
        elif isinstance(s, K.Comment):
            self.emit("// " + " ".join(s.text.replace("\\", "/").split()), depth)
        elif isinstance(s, K.Prefetch):
            pass  # a hint only; its address may lie beyond the array
        elif isinstance(s, K.Let):
            value = e(s.value)
            self.emit(f"{self.declare(s.var)} = {value};", depth)
        elif isinstance(s, K.Store):
            value = e(s.value)
            if self.module.arrays[s.array].dtype == BOOL:
                value = f"(unsigned char)({value})"
            self.emit(f"{e.array(s.array)}[{e(s.index)}] = {value};", depth)
        elif isinstance(s, K.If):
            self.emit(f"if ({e(s.cond)}) {{", depth)
            self.body(s.then, depth + 1, grid)
            if s.orelse:
                self.emit("} else {", depth)
                self.body(s.orelse, depth + 1, grid)
            self.emit("}", depth)
        elif isinstance(s, K.Loop):
            self.loop(s, depth, grid)
        elif isinstance(s, K.Append):  # one thread here: the loops' order is the list's order
            counter = K.Load(s.counter, K.Const(0, I64), I64)
            self.body([K.Store(s.array, counter, s.value),
                       K.Store(s.counter, K.Const(0, I64), K.BinOp("+", counter, K.Const(1, I64), I64))], depth)
        elif isinstance(s, K.Accumulate):
            if grid and s.array in self.atomics:
                self.atomic(s, depth)
            else:
                current = K.Load(s.array, s.index, s.value.dtype)
                self.stmt(K.Store(s.array, s.index, K.BinOp(s.op, current, s.value, s.value.dtype)), depth, grid)
        elif isinstance(s, K.Reduce):
            if self.group is not None:
                self.group_reduce(s, depth)
            else:
                self.reduce(s, depth)
        else:
            raise BackendError(f"cuda backend: unsupported statement {s!r}")

    def atomic(self, s: K.Accumulate, depth: int) -> None:
        """``atomicAdd``: exact on integers (on their unsigned bits), reordered sums on floats."""
        e, t = self.expr, s.value.dtype
        address = f"&{e.array(s.array)}[{e(s.index)}]"
        value = e(s.value)
        if is_float(t):
            value = f"-({value})" if s.op == "-" else value
            self.emit(f"atomicAdd({address}, {value});", depth)
            return
        if t not in (I32, I64, U32, U64):
            raise BackendError(f"cuda backend: no atomic add on {t.value}")
        ut = "unsigned int" if t in (I32, U32) else "unsigned long long"
        value = f"({ut})({value})" if s.op == "+" else f"(({ut})0 - ({ut})({value}))"
        self.emit(f"atomicAdd(({ut} *){address}, {value});", depth)

    def loop(self, s: K.Loop, depth: int, grid: bool, threads: bool = False, group: int = 1) -> None:
        """``for var in start .. stop`` with bounds evaluated once; ``threads``: the iterations
        shared by the threads of the grid (grid-stride, so any grid size is correct), each by
        ``group`` threads (``LaunchConfig.group``)."""
        lo, hi, ix = self.temp("lo"), self.temp("hi"), self.temp("i")
        self.emit("{", depth)
        self.emit(f"const long long {lo} = (long long)({self.expr(s.start)});", depth + 1)
        self.emit(f"const long long {hi} = (long long)({self.expr(s.stop)});", depth + 1)
        if threads and group > 1:
            tid, w, lane, mask = self.temp("tid"), self.temp("w"), self.temp("lane"), self.temp("mask")
            d = depth + 1
            self.emit(f"const long long {tid} = (long long)blockIdx.x * blockDim.x + threadIdx.x;", d)
            self.emit(f"const int {w} = ANNC_W({int(group)});", d)
            self.emit(f"const int {lane} = (int)({tid} % {w});", d)
            self.emit(f"const unsigned {mask} = {w} == 32 ? 0xffffffffu : "
                      f"((1u << {w}) - 1u) << ((threadIdx.x % 32u) / {w} * {w});", d)
            self.emit(f"for (long long {ix} = {lo} + {tid} / {w}; {ix} < {hi}; "
                      f"{ix} += (long long)gridDim.x * blockDim.x / {w}) {{", d)
            self.group = (w, lane, mask)
            self.scoped(s.var, f"({CTYPE[s.var.dtype]}){ix}", s.body, depth + 2, True)
            self.group = None
            self.emit("}", d)
            self.emit("}", depth)
            return
        if threads:
            self.emit(f"for (long long {ix} = {lo} + (long long)blockIdx.x * blockDim.x + threadIdx.x; "
                      f"{ix} < {hi}; {ix} += (long long)gridDim.x * blockDim.x) {{", depth + 1)
        else:
            self.emit(f"for (long long {ix} = {lo}; {ix} < {hi}; ++{ix}) {{", depth + 1)
        self.scoped(s.var, f"({CTYPE[s.var.dtype]}){ix}", s.body, depth + 2, grid or threads)
        self.emit("}", depth + 1)
        self.emit("}", depth)

    def scoped(self, var: K.Var, value: str, body: list[K.Stmt], depth: int, grid: bool) -> None:
        """``body`` with the loop variable ``var`` bound (lexically, shadowing a local)."""
        self.emit(f"const {CTYPE[var.dtype]} {self.local(var)} = {value};", depth)
        self.loop_vars.append(var.name)
        self.body(body, depth, grid)
        self.loop_vars.pop()

    def reduce_prologue(self, s: K.Reduce, depth: int):
        """Open the block of a fold: the partials set to ``init``, the bounds and the end of the
        full chunks; returns their names, the accumulator and ``combine(x, y)`` (``s.op`` in C)."""
        t, lanes = s.acc.dtype, int(s.lanes)
        parts, lo, hi, full, ix = (self.temp(x) for x in ("part", "lo", "hi", "full", "i"))
        acc = self.declare(s.acc)

        def combine(x: str, y: str) -> str:
            pair = K.BinOp(s.op, K.Var("\0x", t), K.Var("\0y", t), t)
            return ExprRenderer(self.module, self.params, lambda v: x if v.name == "\0x" else y)(pair)

        self.emit("{", depth)
        d = depth + 1
        self.emit(f"{CTYPE[t]} {parts}[{lanes}];", d)
        self.emit(f"for (int k = 0; k < {lanes}; ++k) {parts}[k] = {literal(s.init.value, t)};", d)
        self.emit(f"const long long {lo} = (long long)({self.expr(s.start)});", d)
        self.emit(f"const long long {hi} = (long long)({self.expr(s.stop)});", d)
        self.emit(f"const long long {full} = {lo} + ({hi} > {lo} ? ({hi} - {lo}) / {lanes} * {lanes} : 0);", d)
        return parts, lo, hi, full, ix, acc, combine

    def reduce(self, s: K.Reduce, depth: int) -> None:
        """The fold in the declared lane order (see :class:`~anncompiler.ir.kernel.Reduce`)."""
        lanes = int(s.lanes)
        parts, lo, hi, full, ix, acc, combine = self.reduce_prologue(s, depth)
        d = depth + 1
        self.emit(f"for (long long {ix} = {lo}; {ix} < {full}; {ix} += {lanes}) {{", d)
        self.emit("#pragma unroll", d + 1)
        self.emit(f"for (int k = 0; k < {lanes}; ++k) {{", d + 1)
        self.value_line(s, f"{ix} + k", f"{parts}[k]", combine, d + 2)
        self.emit("}", d + 1)
        self.emit("}", d)
        self.emit(f"for (long long {ix} = {full}; {ix} < {hi}; ++{ix}) {{", d)
        self.value_line(s, ix, f"{parts}[0]", combine, d + 1)
        self.emit("}", d)
        self.emit(f"{acc} = {parts}[0];", d)
        if lanes > 1:
            self.emit(f"for (int k = 1; k < {lanes}; ++k) {acc} = {combine(acc, f'{parts}[k]')};", d)
        self.emit("}", depth)

    def group_reduce(self, s: K.Reduce, depth: int) -> None:
        """The fold by the group of threads of a row (``passes/platform/cuda_rows.py``): thread
        ``lane`` folds the partials ``lane + m*W``, the first thread also the tail; every thread
        then combines the ``lanes`` partials in order, read from their threads by warp shuffles."""
        w, lane, mask = self.group
        lanes = int(s.lanes)
        parts, lo, hi, full, ix, acc, combine = self.reduce_prologue(s, depth)
        d = depth + 1
        self.emit(f"for (long long {ix} = {lo}; {ix} < {full}; {ix} += {lanes}) {{", d)
        self.emit(f"for (int m = 0; m * {w} < {lanes}; ++m) {{", d + 1)
        self.value_line(s, f"{ix} + {lane} + m * {w}", f"{parts}[m]", combine, d + 2)
        self.emit("}", d + 1)
        self.emit("}", d)
        self.emit(f"if ({lane} == 0) {{", d)
        self.emit(f"for (long long {ix} = {full}; {ix} < {hi}; ++{ix}) {{", d + 1)
        self.value_line(s, ix, f"{parts}[0]", combine, d + 2)
        self.emit("}", d + 1)
        self.emit("}", d)
        self.emit(f"{acc} = __shfl_sync({mask}, {parts}[0], 0, {w});", d)
        self.emit(f"for (int k = 1; k < {lanes}; ++k) "
                  f"{acc} = {combine(acc, f'__shfl_sync({mask}, {parts}[k / {w}], k % {w}, {w})')};", d)
        self.emit("}", depth)

    def value_line(self, s: K.Reduce, index: str, part: str, combine, depth: int) -> None:
        self.emit(f"const {CTYPE[s.var.dtype]} {self.local(s.var)} = ({CTYPE[s.var.dtype]})({index});", depth)
        self.loop_vars.append(s.var.name)
        self.emit(f"{part} = {combine(part, self.expr(s.value))};", depth)
        self.loop_vars.pop()

    def text(self, name: str, arrays: tuple[str, ...], writes_stop: bool = False) -> str:
        params = [f"{MEMTYPE[self.module.arrays[a].dtype]} *__restrict__ {self.params[a]}" for a in arrays]
        params.append(f"{'' if writes_stop else 'const '}unsigned char *__restrict__ {STOP_FLAG}")
        head = f'extern "C" __global__ void {name}({", ".join(params)}) {{'
        guard = f"  if ({STOP_FLAG}[0]) return;  // a step after the one that stopped the chunk"
        decls = [f"  {ctype} {cname};" for cname, ctype in self.decls.items()]
        return "\n".join([head, guard] + decls + ["  " + x for x in self.lines] + ["}"])


def array_parameters(module: K.KernelModule) -> dict[str, str]:
    """A distinct C parameter name for every array (``pop0.v`` -> ``a_pop0_v``)."""
    out, taken = {}, set()
    for name in module.arrays:
        base = "a_" + identifier(name)
        c, k = base, 1
        while c in taken:
            c, k = f"{base}_{k}", k + 1
        taken.add(c)
        out[name] = c
    return out


def render_module(module: K.KernelModule) -> Rendered:
    """The translation unit and launch plan of ``module`` (kernels without a launch
    configuration run on one thread)."""
    params = array_parameters(module)
    functions, launches = [], []
    for n, k in enumerate(module.kernels):
        config = module.launch.get(k.name) or LaunchConfig()
        segments = launch_segments(k, config)
        for j, (prologue, stmts, pos) in enumerate(segments):
            name = f"k{n}_{identifier(k.name)}" + (f"_{j}" if len(segments) > 1 else "")
            f = _Function(module, params, config.atomics)
            f.body(prologue, 0)
            arrays = _arrays_of(module, prologue + stmts)
            if pos is None:
                f.body(stmts, 0)
                functions.append(f"// @{k.name} ({k.phase}): one thread\n" + f.text(name, arrays))
                launches.append(LaunchSpec(name, arrays))
                continue
            group = config.threads(pos)
            f.loop(stmts[0], 0, grid=True, threads=True, group=group)
            bound = config.iterations[config.grid_loops.index(pos)]
            each = f"{group} threads" if group > 1 else "one thread"
            functions.append(f"// @{k.name} ({k.phase}): statement {pos}, {each} per iteration\n"
                             + f.text(name, arrays))
            launches.append(LaunchSpec(name, arrays, int(bound) * group, int(config.block), group))
    f = _Function(module, params)
    stop = " || ".join(f.expr(c) for c in module.exit_conditions) or "false"
    counter = params[K.STEP_COUNTER]
    f.emit(f"{counter}[0] = {counter}[0] + 1;", 0)
    f.emit(f"{STOP_FLAG}[0] = (unsigned char)({stop});", 0)
    arrays = _arrays_of(module, [], [K.Load(K.STEP_COUNTER, K.Const(0, I64), I64)] + list(module.exit_conditions))
    functions.append("// end of a step: the step counter, then the exit conditions\n"
                     + f.text(ADVANCE, arrays, writes_stop=True))
    header = (f"// anncompiler kernel module: dt={float(module.dt)!r}, float={module.float_type.value}, "
              f"{len(module.kernels)} kernels, {len(module.arrays)} arrays\n")
    return Rendered(header + PRELUDE + "\n" + "\n\n".join(functions) + "\n", launches,
                    LaunchSpec(ADVANCE, arrays))
