"""Shared state of ``lower-to-kernels``: array naming, declarations and symbol resolution."""
from __future__ import annotations

import math

import numpy as np
import sympy

from anncompiler.errors import ModelError
from anncompiler.ir.kernel import (STEP_COUNTER, BinOp, Cast, Const, Expr, KernelModule, Let, Load,
                                   Store, Var)
from anncompiler.ir.model import Attribute, Update
from anncompiler.ir.network import NetworkIR, PopulationNode
from anncompiler.ir.types import BOOL, F32, F64, I32, I64, DType

from ..sympy_to_kernel import SympyToKernel

CONSTANTS = "net.constants"


def attr_dtype(a: Attribute, ft: DType) -> DType:
    return {"float": ft, "int": I32, "bool": BOOL}[a.type]


def i64(e: Expr) -> Expr:
    return e if e.dtype == I64 else Cast(e, I64)


def c64(v: int) -> Const:
    return Const(int(v), I64)


#: lanes of the row sums of dense projections, of sparse ones, and the mean row length below
#: which a sparse row is summed in order (see :meth:`LoweringContext.row_lanes`)
DENSE_ROW_LANES, SPARSE_ROW_LANES, SHORT_ROW = 16, 2, 32


class LoweringContext:
    """Builds the kernel module's arrays and translates expressions for one network."""

    def __init__(self, net: NetworkIR, lanes: int | None = None):
        self.net = net
        #: partial results of every row sum (ir/kernel.py, Reduce); None: per projection, see
        #: :meth:`row_lanes` (``lanes`` then holds the default of the other reductions)
        self.auto_lanes = lanes is None
        self.lanes = DENSE_ROW_LANES if lanes is None else max(1, int(lanes))
        self.ft = F32 if net.float_type in ("f32", "float32") else F64
        self.km = KernelModule(arrays={}, kernels=[], dt=net.dt, float_type=self.ft)
        self.declare(STEP_COUNTER, I64, 1, "internal", 0, handle=("net", "step"))
        for p in net.populations:
            self.km.index_spaces[neurons(p.name)] = p.size
        self._projections = {e.name: e for e in net.projections}
        #: projection name -> its synapse attributes as stored (a single weight is global)
        self.synapse_attributes: dict[str, dict[str, Attribute]] = {}
        #: projection name -> its out-synapse storage (outgoing.py), when it has one
        self.outgoing: dict = {}
        names = list(net.constants)
        self.constant_index = {n: k for k, n in enumerate(names)}
        self.declare(CONSTANTS, self.ft, max(1, len(names)), "parameter",
                     np.array([net.constants[n] for n in names] or [0.0]))
        for k, n in enumerate(names):
            self.km.handle("constant", n, CONSTANTS, np.array([k]))

    def row_lanes(self, e) -> int:
        """The partial sums of the rows of a rate-coded projection.

        Dense rows stream ``pre.r`` contiguously: 16 lanes keep two vector registers of
        partial sums.  Sparse rows gather ``pre.r``: a gather costs more than the scalar loads it
        replaces, so two lanes (two independent chains of scalar adds) are fastest; rows shorter
        than ``SHORT_ROW`` on average are summed in order (the combination of partial sums would
        cost more than it saves; this is also ANNarchy's scalar order).  Measured on the rate
        benchmarks (benchmarks/README.md); the choice depends on the connectivity only, so every
        backend and thread count computes the same bits."""
        if not self.auto_lanes:
            return self.lanes
        c = e.connectivity
        if c.storage_format == "dense":
            return DENSE_ROW_LANES
        return 1 if c.nb_synapses < SHORT_ROW * max(1, c.n_rows) else SPARSE_ROW_LANES

    def projection(self, name: str):
        return self._projections[name]

    # arrays -------------------------------------------------------------
    def declare(self, name, dtype, size, kind="state", init=0, handle: tuple[str, str] | None = None):
        """Declare an array; ``handle=(owner, role)`` tells the runtime where that state lives."""
        decl = self.km.declare(name, dtype, size, kind, init)
        if handle is not None:
            self.km.handle(*handle, name)
        return decl

    def load(self, name: str, index: Expr | int = 0) -> Load:
        return self.km.load(name, index)

    def store(self, name: str, index: Expr | int, value: Expr) -> Store:
        if isinstance(index, int):
            index = c64(index)
        want = self.km.arrays[name].dtype
        if value.dtype != want:
            if not isinstance(value, Const):
                value = Cast(value, want)
            elif want == BOOL:
                value = Const(bool(value.value), want)
            elif want in (F32, F64):
                value = Const(float(value.value), want)
            elif math.isfinite(value.value) and abs(value.value) < 2 ** 31:
                value = Const(int(value.value), want)
            else:  # NaN, inf, out of range: the saturating conversion of the backends
                value = Cast(value, want)
        return Store(name, index, value)

    def increment(self, name: str, index: Expr | int, amount: Expr) -> Store:
        return self.store(name, index, BinOp("+", self.load(name, index), amount, self.km.arrays[name].dtype))

    def time_ms(self) -> Expr:
        return BinOp("*", Cast(self.load(STEP_COUNTER), self.ft), Const(float(self.net.dt), self.ft), self.ft)

    def declare_attributes(self, owner: str, attrs: dict[str, Attribute], sizes: dict[str, int],
                           init: dict) -> None:
        """One array per attribute: ``owner.name`` sized by locality."""
        for a in attrs.values():
            size = sizes[a.locality]
            dtype = attr_dtype(a, self.ft)
            value = init.get(a.name, a.init if isinstance(a.init, (int, float, bool, np.number)) else 0)
            kind = "parameter" if a.role == "parameter" else "state"
            self.declare(f"{owner}.{a.name}", dtype, size, kind, value, handle=(owner, a.name))

    # expressions ----------------------------------------------------------
    def translator(self, resolve, model: str, source: str = "") -> SympyToKernel:
        return SympyToKernel(resolve, self.ft, model, source)

    def common_symbol(self, name: str) -> Expr | None:
        """Names visible everywhere: dt, t and constants."""
        if name == "dt":
            return Const(float(self.net.dt), self.ft)
        if name == "t":
            return self.time_ms()
        if name in self.constant_index:
            return self.load(CONSTANTS, self.constant_index[name])
        return None

    def lower_updates(self, updates: list[Update], resolve, store_target, model: str) -> list:
        """Discrete-IR updates -> kernel statements (``let`` -> Let, ``set`` -> a store)."""
        out = []
        for u in updates:
            tr = self.translator(resolve, model, u.source)
            value = tr(u.value)
            if u.kind == "let":
                out.append(Let(Var(u.target, self.ft), tr.num(value)))
            else:
                out.append(store_target(u.target, value))
        return out


def neurons(population: str) -> str:
    """The index space of the neurons of a population (``Loop.space``, ``Kernel.owner``)."""
    return f"neurons:{population}"


def model_sources(m, with_updates: bool = False):
    """(source line, expression) of every equation-like line of a model, in declaration order:
    equations, spike condition, reset (and the discrete updates when asked)."""
    for eq in m.equations:
        yield eq.source, eq.rhs
    if m.spike is not None:
        yield m.spike.source, m.spike.expr
    for eq in m.reset:
        yield eq.source, eq.rhs
    if m.axon_spike is not None:
        yield m.axon_spike.source, m.axon_spike.expr
    for eq in m.axon_reset:
        yield eq.source, eq.rhs
    if with_updates:
        for u in (m.updates or []) + (m.reset_updates or []) + (m.axon_reset_updates or []):
            yield u.source, u.value


def unknown(model: str, name: str, where: str = "") -> ModelError:
    return ModelError(f"'{name}' is not defined{where}", model=model, name=name)


def population_sizes(p: PopulationNode) -> dict[str, int]:
    return {"local": p.size, "semiglobal": 1, "global": 1}


def is_temp(name: str) -> bool:
    return name.startswith("_")


def symbol_names(expr) -> set[str]:
    return {s.name for s in sympy.sympify(expr).free_symbols}
