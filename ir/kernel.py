"""Kernel IR: loops over index spaces with typed scalar code, what every backend consumes.

A :class:`KernelModule` declares every array of the simulation (state,
parameters, connectivity, monitor buffers) and the kernels run, in order, once
per simulation step.  After the last kernel of a step the step counter ``net.t``
is incremented and the ``exit_conditions`` are tested: if one is true the chunk
stops early, so that the runtime can drain monitor buffers before they overflow.

The module comes out of ``lower-to-kernels`` *neutral* (``platform == ""``): it
says what is computed, not how one machine runs it (docs/compiler.md):

* a ``parallel`` loop over a named index space (``neurons:P``, ``rows:proj``)
  has independent iterations;
* :class:`Append` emits into a list in the order of the loop's iterations
  (spike lists stay sorted by rank whoever computes them);
* :class:`Accumulate` adds into an array whose elements several iterations may
  hit (a synaptic input ``g[post] += w``); the sequential order is the result;
* :class:`Reduce` folds a range with a declared order (``lanes`` interleaved
  partial results), so every backend computes the same bits;
* :class:`AnyOf` tests a block of flags at once;
* ``Kernel.owner`` names the index space that owns every write of a kernel,
  which lets a platform divide its work without changing a result.

Platform passes then map it to one kind of machine (``platform`` says which):
the CPU passes cut index spaces into thread partitions, mark kernels
*parallel* (run by every thread of a team: top-level ``parallel`` loops are
shared out in static slices, everything else is replicated and may store only
inside them) and place ``barrier`` flags; ``num_threads`` is then the number of
partitions planned.  Run sequentially (the reference backend) a neutral or a
partitioned module computes the same bits.

Expressions are frozen dataclasses: hashable (CSE is a dictionary lookup),
comparable, and typed (``dtype`` is fixed when the node is built).
Statements are ordinary dataclasses holding lists of statements.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterator, Union

import numpy as np

from .types import DType, BOOL, I64, F64, is_float, is_int, is_signed

# --------------------------------------------------------------------------
# expressions

BINARY_OPS = ("+", "-", "*", "/", "%", "min", "max", "pow")
#: bitwise operators and shifts, on integer types only (``>>`` is logical on
#: unsigned types, arithmetic on signed ones; a shift count must be below the
#: bit width); ``mulhi`` is the high half of the double-width product
BITWISE_OPS = ("&", "|", "^", "<<", ">>", "mulhi")
UNARY_OPS = ("neg", "not")
COMPARE_OPS = ("<", "<=", ">", ">=", "==", "!=")
LOGIC_OPS = ("and", "or")
#: math functions a backend must provide, with their arity
MATH_FUNCTIONS = {
    "exp": 1, "log": 1, "log10": 1, "log2": 1, "sqrt": 1, "sin": 1, "cos": 1,
    "tan": 1, "asin": 1, "acos": 1, "atan": 1, "sinh": 1, "cosh": 1,
    "tanh": 1, "asinh": 1, "acosh": 1, "atanh": 1, "fabs": 1, "floor": 1,
    "ceil": 1, "round": 1, "trunc": 1, "atan2": 2, "isnan": 1, "isfinite": 1,
}


class Expr:
    """Base of typed scalar expressions."""
    dtype: DType

    def children(self) -> tuple["Expr", ...]:
        return ()


@dataclass(frozen=True)
class Const(Expr):
    value: Union[float, int, bool]
    dtype: DType = F64


@dataclass(frozen=True)
class Var(Expr):
    """A local scalar: a loop index or a temporary defined by :class:`Let`."""
    name: str
    dtype: DType = F64


@dataclass(frozen=True)
class Load(Expr):
    """``array[index]``; ``dtype`` is the element type of the array."""
    array: str
    index: Expr
    dtype: DType = F64

    def children(self):
        return (self.index,)


@dataclass(frozen=True)
class BinOp(Expr):
    """Arithmetic on two operands of the same type ``dtype``.

    ``%`` is C's ``fmod`` on floats and the truncated remainder on integers;
    ``/`` on integers truncates towards zero (C semantics).  Integer
    arithmetic wraps around (two's complement; unsigned modulo 2**bits), and
    on unsigned types ``/``, ``%``, ``min``, ``max`` are unsigned.  The
    :data:`BITWISE_OPS` take integer operands.
    """
    op: str
    a: Expr
    b: Expr
    dtype: DType = F64

    def children(self):
        return (self.a, self.b)


@dataclass(frozen=True)
class UnOp(Expr):
    op: str
    a: Expr
    dtype: DType = F64

    def children(self):
        return (self.a,)


@dataclass(frozen=True)
class Call(Expr):
    """A math function of :data:`MATH_FUNCTIONS`; float arguments of ``dtype``
    (``isnan``/``isfinite`` return bool)."""
    fn: str
    args: tuple[Expr, ...]
    dtype: DType = F64

    def children(self):
        return self.args


@dataclass(frozen=True)
class Cmp(Expr):
    """Comparison of two operands of the same type; the result is bool."""
    op: str
    a: Expr
    b: Expr
    dtype: DType = BOOL

    def children(self):
        return (self.a, self.b)


@dataclass(frozen=True)
class Logic(Expr):
    op: str
    a: Expr
    b: Expr
    dtype: DType = BOOL

    def children(self):
        return (self.a, self.b)


@dataclass(frozen=True)
class Select(Expr):
    """``cond ? a : b`` (both branches may be evaluated)."""
    cond: Expr
    a: Expr
    b: Expr
    dtype: DType = F64

    def children(self):
        return (self.cond, self.a, self.b)


@dataclass(frozen=True)
class Cast(Expr):
    """Numeric conversion; float to int truncates towards zero, saturating
    (NaN gives 0).  Between integer types: truncation to a narrower type,
    zero extension from unsigned sources, sign extension from signed ones
    (same width: the bits are reinterpreted).  Unsigned to float converts the
    unsigned value."""
    a: Expr
    dtype: DType = F64

    def children(self):
        return (self.a,)


@dataclass(frozen=True)
class AnyOf(Expr):
    """True when any of the ``count`` bool elements ``array[start .. start+count)`` is true
    (a vector-friendly test of a block of flags; ``count`` is a constant)."""
    array: str
    start: Expr
    count: int
    dtype: DType = BOOL

    def children(self):
        return (self.start,)


# --------------------------------------------------------------------------
# statements

class Stmt:
    """Base of statements."""

    def bodies(self) -> tuple[list["Stmt"], ...]:
        return ()


@dataclass
class Let(Stmt):
    """Assign a local scalar (defines it on first assignment)."""
    var: Var
    value: Expr


@dataclass
class Store(Stmt):
    """``array[index] = value``."""
    array: str
    index: Expr
    value: Expr


@dataclass
class Loop(Stmt):
    """``for var in range(start, stop)``: iterations are independent unless
    ``space`` says otherwise; ``space`` names the index space (``neurons:P``,
    ``rows:proj``, ``synapses:proj``, ``spikes:P``, ``partitions:X``).

    ``parallel``: a work-shared loop (top level of a parallel kernel only):
    its iterations are independent and each writes only data it owns, so a
    backend running T threads gives thread t the static slice
    ``[start + n*t/T, start + n*(t+1)/T)`` (n = stop - start), with no barrier
    after it.  Sequentially it is an ordinary loop.
    """
    var: Var
    start: Expr
    stop: Expr
    body: list[Stmt]
    space: str = ""
    parallel: bool = False

    def bodies(self):
        return (self.body,)


@dataclass
class If(Stmt):
    cond: Expr
    then: list[Stmt]
    orelse: list[Stmt] = field(default_factory=list)

    def bodies(self):
        return (self.then, self.orelse)


@dataclass
class Prefetch(Stmt):
    """A hint: ``array[index]`` will be read soon, keep it out of the way of what is cached.

    It has no effect on results: ``index`` may lie beyond the array (a backend never faults on
    it), the reference backend ignores it.  Lowering places it in streaming loops (the synapses
    of a sparse row), a fixed distance ahead of the reads.
    """
    array: str
    index: Expr


@dataclass
class Append(Stmt):
    """Ordered emission: ``array[counter[0]] = value; counter[0] += 1``.

    The elements come out in the order of the iterations of the enclosing loops, also when a
    platform runs a ``parallel`` loop's iterations concurrently (it must then keep per-worker
    segments and concatenate them, or compact stably): a spike list stays sorted by rank.
    """
    array: str
    counter: str
    value: Expr


@dataclass
class Accumulate(Stmt):
    """``array[index] = array[index] op value`` where iterations of the enclosing loops may hit
    the same element (``op`` is ``+`` or ``-``).  The result is that of the loops run in order: a
    platform gives each element to one worker (a partition of the index space that owns it, see
    ``Kernel.owner``) or, where it documents the difference, uses atomics."""
    array: str
    index: Expr
    value: Expr
    op: str = "+"


@dataclass
class Reduce(Stmt):
    """``acc = init`` folded with ``op`` (``+``, ``min``, ``max``) over ``value`` for ``var`` in
    ``start .. stop``, in a declared order.

    With ``lanes`` L, element ``start + c*L + k`` of the full chunks goes to partial result ``k``,
    the remaining elements to partial 0, each partial folds its elements in increasing order, and
    the partials are combined in order ``((p0 op p1) op p2) ...``.  ``lanes=1`` is the sequential
    fold.  Every backend computes these bits; the CPU platform unrolls the chunks so that the
    partial results stay in vector registers.  ``value`` may read ``var`` and enclosing locals.
    """
    acc: Var
    op: str
    init: Const
    var: Var
    start: Expr
    stop: Expr
    value: Expr
    lanes: int = 1
    space: str = ""


@dataclass
class Comment(Stmt):
    """Kept in dumps only; ignored by backends."""
    text: str


# --------------------------------------------------------------------------
# module

ARRAY_KINDS = ("state", "parameter", "connectivity", "spikes", "buffer", "internal")


@dataclass
class ArrayDecl:
    """A named array owned by the runtime and shared with the native code.

    ``init`` is what the runtime fills it with at allocation (a scalar or an
    array of ``size`` elements); ``kind`` is informative (dumps, backends that
    keep connectivity read-only, ...).
    """
    name: str
    dtype: DType
    size: int
    kind: str = "state"
    init: object = 0

    def __post_init__(self):
        if self.size < 0:
            raise ValueError(f"array {self.name} has negative size {self.size}")


@dataclass
class Kernel:
    """One step of the per-step schedule.

    ``parallel``: run by every thread (see the module docstring): top-level
    ``parallel`` loops are shared out, other statements are replicated and may
    not store.  Otherwise the kernel is serial: one thread runs it while the
    others go on to the next barrier.  ``barrier``: all threads wait here
    before the kernel starts (the lowering places them where a thread reads
    what another wrote).  Both are ignored when running on one thread.
    """
    name: str
    phase: str
    body: list[Stmt]
    doc: str = ""
    parallel: bool = False
    barrier: bool = False
    #: the index space (``neurons:P``) whose neurons own every write of this kernel: a worker
    #: given a slice of those neurons writes only its own data, and the kernel reads nothing that
    #: another kernel of its phase writes; "" when the kernel must run as a whole
    owner: str = ""


#: the step counter array, an i64[1]; incremented after every step
STEP_COUNTER = "net.t"


@dataclass(frozen=True, eq=False)
class Handle:
    """Where the runtime finds one piece of state of a user-level object: the whole of ``array``,
    or its elements ``index`` (the weights of a projection kept in a dense matrix or in a fused
    projection).  ``KernelModule.handles`` maps ``(owner, role)`` to it: the owner is a
    population, projection or monitor name (``net`` for the network), the role an attribute name
    (``v``, ``w``) or one of the runtime's roles (``spikes``, ``spike_count``, ``last_spike``,
    ``refractory``, ``sum:exc``, ``buffer:v``, ...); the front end never rebuilds array names."""
    array: str
    index: object = None


@dataclass(frozen=True)
class LaunchConfig:
    """How a GPU platform runs one kernel (set by a mapping pass such as ``cuda-map``).

    ``grid_loops``: positions in ``Kernel.body`` of the top-level loops run with one thread per
    iteration, each as its own launch; the other statements run on one thread, in order (see
    :func:`launch_segments`); ``()`` runs the whole kernel on one thread.  ``iterations``: an
    upper bound of the trip count of each grid loop (its grid size).  ``atomics``: arrays whose
    :class:`Accumulate` inside a grid loop is an atomic add (float atomics change the order of
    the sum, so a platform lists them only where it accepts that).
    """
    grid_loops: tuple[int, ...] = ()
    iterations: tuple[int, ...] = ()
    block: int = 256
    atomics: tuple[str, ...] = ()


def launch_segments(k: Kernel, c: LaunchConfig) -> list[tuple[list[Stmt], list[Stmt], int | None]]:
    """The launches of ``k`` in order, as ``(prologue, statements, grid loop position or None)``.

    Each grid loop is one launch; the statements between them form one-thread launches (left out
    when they only define locals).  Locals do not survive a launch, so each one first recomputes
    the top-level ``Let``/``Reduce`` statements before it: the prologue (a mapping pass checks
    that nothing in between writes what they read).
    """
    if not c.grid_loops:
        return [([], list(k.body), None)]
    out, run, start = [], [], 0

    def defs(end):
        return [s for s in k.body[:end] if isinstance(s, (Let, Reduce))]

    def flush():
        if any(not isinstance(s, (Let, Reduce, Comment)) for s in run):
            out.append((defs(start), list(run), None))

    for pos, s in enumerate(k.body):
        if pos in c.grid_loops:
            flush()
            run, start = [], pos + 1
            out.append((defs(pos), [s], pos))
        else:
            run.append(s)
    flush()
    return out


def format_launch(name: str, c: LaunchConfig) -> str:
    if not c.grid_loops:
        return f"launch @{name}: one thread"
    loops = ", ".join(f"statement {k} ({n} iterations)" for k, n in zip(c.grid_loops, c.iterations))
    atomics = f", atomic {', '.join(c.atomics)}" if c.atomics else ""
    return f"launch @{name}: grid over {loops}, block {c.block}{atomics}"


@dataclass
class KernelModule:
    arrays: dict[str, ArrayDecl]
    kernels: list[Kernel]
    exit_conditions: list[Expr] = field(default_factory=list)
    dt: float = 1.0
    float_type: DType = F64
    #: partitions planned by the lowering (the thread count it was lowered for)
    num_threads: int = 1
    #: (owner, role) -> :class:`Handle`: where the runtime reads and writes each piece of state
    handles: dict = field(default_factory=dict)
    #: size of every index space the kernels loop over (``neurons:P`` -> neurons of P)
    index_spaces: dict = field(default_factory=dict)
    #: "" while neutral; the platform whose passes have mapped it ("cpu", "cuda")
    platform: str = ""
    #: kernel name -> :class:`LaunchConfig`, for platforms that launch kernels on a grid
    launch: dict = field(default_factory=dict)

    def declare(self, name, dtype, size, kind="state", init=0) -> ArrayDecl:
        if name in self.arrays:
            raise ValueError(f"array {name} declared twice")
        decl = ArrayDecl(name, dtype, int(size), kind, init)
        self.arrays[name] = decl
        return decl

    def handle(self, owner: str, role: str, array: str, index=None) -> None:
        """Record where the state ``role`` of ``owner`` lives (see :class:`Handle`)."""
        self.handles[(owner, role)] = Handle(array, index)

    def load(self, name: str, index: Expr | int = 0) -> Load:
        """A typed load from a declared array."""
        if isinstance(index, int):
            index = Const(index, I64)
        return Load(name, index, self.arrays[name].dtype)


# --------------------------------------------------------------------------
# traversal helpers

def replace_exprs(e: Expr, table: dict) -> Expr:
    """``e`` with every subexpression found in ``table`` replaced by its value
    (e.g. a loop variable by ``base + k`` when a loop is unrolled)."""
    if e in table:
        return table[e]
    changes = {}
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        if isinstance(v, Expr):
            nv = replace_exprs(v, table)
        elif isinstance(v, tuple) and v and isinstance(v[0], Expr):
            nv = tuple(replace_exprs(x, table) for x in v)
        else:
            continue
        if nv is not v:
            changes[f.name] = nv
    return dataclasses.replace(e, **changes) if changes else e


def rename_arrays(body: list[Stmt], names: dict[str, str]) -> list[Stmt]:
    """A copy of ``body`` with every array renamed through ``names`` and loop spaces left out
    (the code of a kernel apart from the arrays it runs on)."""
    def expr(e: Expr) -> Expr:
        changes = {f.name: names[getattr(e, f.name)] for f in dataclasses.fields(e)
                   if f.name == "array" and getattr(e, f.name) in names}
        for f in dataclasses.fields(e):
            v = getattr(e, f.name)
            if isinstance(v, Expr):
                changes[f.name] = expr(v)
            elif isinstance(v, tuple) and v and isinstance(v[0], Expr):
                changes[f.name] = tuple(expr(x) for x in v)
        return dataclasses.replace(e, **changes) if changes else e

    out = []
    for s in body:
        changes = {}
        for f in dataclasses.fields(s):
            v = getattr(s, f.name)
            if f.name in ("array", "counter") and v in names:
                changes[f.name] = names[v]
            elif isinstance(v, Expr):
                changes[f.name] = expr(v)
            elif isinstance(v, list):
                changes[f.name] = rename_arrays(v, names)
            elif f.name == "space":
                changes[f.name] = ""
        out.append(dataclasses.replace(s, **changes))
    return out


def walk_expr(e: Expr) -> Iterator[Expr]:
    """Pre-order traversal of an expression tree, with an explicit stack: linear in the size
    of the tree however deep it is (nested generators are quadratic in a long sum)."""
    stack = [e]
    while stack:
        e = stack.pop()
        yield e
        stack.extend(reversed(e.children()))


def stmt_exprs(s: Stmt) -> tuple[Expr, ...]:
    """The expressions held directly by a statement (not by nested bodies)."""
    if isinstance(s, Let):
        return (s.value,)
    if isinstance(s, Store):
        return (s.index, s.value)
    if isinstance(s, Loop):
        return (s.start, s.stop)
    if isinstance(s, If):
        return (s.cond,)
    if isinstance(s, Prefetch):
        return (s.index,)
    if isinstance(s, Append):
        return (s.value,)
    if isinstance(s, Accumulate):
        return (s.index, s.value)
    if isinstance(s, Reduce):  # ``value`` is evaluated inside the fold, with ``var`` bound
        return (s.start, s.stop, s.value)
    return ()


def walk_stmts(body: list[Stmt]) -> Iterator[Stmt]:
    for s in body:
        yield s
        for b in s.bodies():
            yield from walk_stmts(b)


# --------------------------------------------------------------------------
# printer

def format_number(value, dtype: DType) -> str:
    """A number as a person writes it (``0.5``, ``-inf``, ``3``), never a numpy repr."""
    if dtype == BOOL:
        return "true" if value else "false"
    if is_float(dtype):
        return repr(float(value))
    return str(int(value))


def format_expr(e: Expr) -> str:
    if isinstance(e, Const):
        return format_number(e.value, e.dtype)
    if isinstance(e, Var):
        return "%" + e.name
    if isinstance(e, Load):
        return f"{e.array}[{format_expr(e.index)}]"
    if isinstance(e, BinOp):
        if e.op in ("min", "max", "pow", "mulhi"):
            return f"{e.op}({format_expr(e.a)}, {format_expr(e.b)})"
        return f"({format_expr(e.a)} {e.op} {format_expr(e.b)})"
    if isinstance(e, UnOp):
        return f"({'-' if e.op == 'neg' else 'not '}{format_expr(e.a)})"
    if isinstance(e, Call):
        return f"{e.fn}({', '.join(format_expr(a) for a in e.args)})"
    if isinstance(e, (Cmp, Logic)):
        return f"({format_expr(e.a)} {e.op} {format_expr(e.b)})"
    if isinstance(e, Select):
        return f"select({format_expr(e.cond)}, {format_expr(e.a)}, {format_expr(e.b)})"
    if isinstance(e, Cast):
        return f"{e.dtype.value}({format_expr(e.a)})"
    if isinstance(e, AnyOf):
        return f"any({e.array}[{format_expr(e.start)} ..+{e.count}])"
    raise TypeError(f"not a kernel expression: {e!r}")


def _format_body(body: list[Stmt], indent: int, out: list[str]) -> None:
    pad = "  " * indent
    for s in body:
        if isinstance(s, Let):
            out.append(f"{pad}%{s.var.name}: {s.var.dtype.value} = {format_expr(s.value)}")
        elif isinstance(s, Store):
            out.append(f"{pad}{s.array}[{format_expr(s.index)}] = {format_expr(s.value)}")
        elif isinstance(s, Loop):
            space = f"  [{s.space}]" if s.space else ""
            space += "  parallel" if s.parallel else ""
            out.append(f"{pad}for %{s.var.name} in {format_expr(s.start)} .. {format_expr(s.stop)}:{space}")
            _format_body(s.body, indent + 1, out)
        elif isinstance(s, If):
            out.append(f"{pad}if {format_expr(s.cond)}:")
            _format_body(s.then, indent + 1, out)
            if s.orelse:
                out.append(f"{pad}else:")
                _format_body(s.orelse, indent + 1, out)
        elif isinstance(s, Prefetch):
            out.append(f"{pad}prefetch {s.array}[{format_expr(s.index)}]")
        elif isinstance(s, Append):
            out.append(f"{pad}append {s.array}[{s.counter}] = {format_expr(s.value)}")
        elif isinstance(s, Accumulate):
            out.append(f"{pad}{s.array}[{format_expr(s.index)}] {s.op}= {format_expr(s.value)}  (accumulate)")
        elif isinstance(s, Reduce):
            space = f"  [{s.space}]" if s.space else ""
            lanes = f", lanes={s.lanes}" if s.lanes != 1 else ""
            out.append(f"{pad}%{s.acc.name}: {s.acc.dtype.value} = reduce({s.op}, {format_expr(s.init)}{lanes}) "
                       f"for %{s.var.name} in {format_expr(s.start)} .. {format_expr(s.stop)}:{space}")
            out.append(f"{pad}  {format_expr(s.value)}")
        elif isinstance(s, Comment):
            out.append(f"{pad}# {s.text}")
        else:
            raise TypeError(f"not a kernel statement: {s!r}")


def format_kernel(k: Kernel) -> str:
    flags = "".join(f", {f}" for f in ("parallel", "barrier") if getattr(k, f))
    flags += f", owner {k.owner}" if k.owner else ""
    out = [f"kernel @{k.name} (phase {k.phase}{flags})" + (f"  # {k.doc}" if k.doc else "") + ":"]
    _format_body(k.body, 1, out)
    return "\n".join(out)


def format_module(m: KernelModule) -> str:
    threads = f" threads={m.num_threads}" if m.num_threads != 1 else ""
    platform = f" platform={m.platform}" if m.platform else " (neutral)"
    out = [f"// kernel module: dt={float(m.dt)!r} float={m.float_type.value}{threads}{platform}"]
    for a in m.arrays.values():
        init = "" if isinstance(a.init, np.ndarray) else f" = {format_number(a.init, a.dtype)}"
        out.append(f"array {a.name}: {a.dtype.value}[{a.size}] {a.kind}{init}")
    for (owner, role), h in m.handles.items():
        if h.index is not None:
            out.append(f"view {owner}.{role} = {h.array}[{len(h.index)} elements]")
    for k in m.kernels:
        out.append("")
        out.append(format_kernel(k))
    if m.launch:
        out.append("")
        out.extend(format_launch(name, c) for name, c in m.launch.items())
    if m.exit_conditions:
        out.append("")
        for c in m.exit_conditions:
            out.append(f"exit if {format_expr(c)}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# verifier

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
    for s in k.body:
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
