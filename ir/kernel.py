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

from .types import DType, BOOL, I64, F64

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

    ``parallel``: a work-shared loop (top level of a parallel kernel only, or of the body
    of a guarded kernel: ``passes/platform/guards.py``):
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

    def as_stores(self) -> list[Stmt]:
        """Its meaning run in order: the store at the counter, then the counter's increment."""
        counter = Load(self.counter, Const(0, I64), I64)
        return [Store(self.array, counter, self.value),
                Store(self.counter, Const(0, I64), BinOp("+", counter, Const(1, I64), I64))]


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

    def as_store(self) -> Store:
        """Its meaning when one worker owns the element: load, add, store."""
        current = Load(self.array, self.index, self.value.dtype)
        return Store(self.array, self.index, BinOp(self.op, current, self.value, self.value.dtype))


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
    #: nothing restores it from ``init`` (``reset()`` leaves it): the runtime may use ``init``
    #: itself as the live array when no kernel writes it (connectivity arrays are so too)
    never_reset: bool = False
    #: ``init`` is an array of the lowering's own (never a user's, which the live state must not
    #: alias) and the front end writes it only after ``ensure_writable``
    #: (``anncompiler/runtime/state.py``): while no kernel writes it, the runtime may use ``init``
    #: itself as the live array, read-only, and copy ``init`` for ``reset()`` only when the front
    #: end first writes it (the weights of a static projection are then held once, not twice)
    shared_until_written: bool = False

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
    #: kernel name -> :class:`~anncompiler.ir.launch.LaunchConfig`, for platforms that launch kernels on a grid
    launch: dict = field(default_factory=dict)
    #: the platform passes' decisions, shown in the dumps (e.g. how many threads run it, and why)
    notes: list = field(default_factory=list)

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


def rename_arrays(body: list[Stmt], names: dict[str, str], keep_spaces: bool = False) -> list[Stmt]:
    """A copy of ``body`` with every array renamed through ``names`` and loop spaces left out
    (the code of a kernel apart from the arrays it runs on), or kept (``keep_spaces``: the same
    code on other arrays)."""
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
                changes[f.name] = rename_arrays(v, names, keep_spaces)
            elif f.name == "space" and not keep_spaces:
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


# the printer and the verifier live in their own modules; their names stay available here
from .kernel_print import format_expr, format_kernel, format_module, format_number  # noqa: E402,F401
from .kernel_verify import verify_module  # noqa: E402,F401
