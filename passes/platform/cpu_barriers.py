"""Where the team of threads of a module cut into partitions must wait (``Kernel.barrier``).

The kernels of a step run in *segments*: the team waits before a kernel marked ``barrier``, and
a thread may start any kernel of a segment while another is still in an earlier one of the same
segment (the backend runs partition ``c`` of every kernel of a parallel segment in order, as one
piece of work).  A barrier goes before a kernel when

* it is serial and follows a parallel kernel, or parallel and follows a serial one (a serial
  kernel runs as a whole on one thread and may read or write anything), or
* it is parallel and data may cross a partition between it and a kernel of another phase
  since the last barrier (the kernels of one phase are independent by construction).

Data cannot cross a partition between two parallel kernels when no array is written by one of
them and read or written by the other, or when they have the same owner (the same partitions)
and every access of each array they share is at an element the partition owns: a neuron of the
owner in ``part_lo .. part_hi``, a row of a projection into it between its ``row_split``
bounds, a synapse of such a row, a synapse reached through the partition's ``inv_split`` range,
or the partition's segment of a spike list.  So a spiking network's input (spike propagation
into the partition's own neurons), neuron updates and post-synaptic events share a segment,
while a rate-coded projection, which reads ``r`` of every pre-synaptic neuron, keeps the barrier
before the update that writes ``r``.

A cell of a delay ring of the owner population (``lowering/delay_rings.py``) belongs to the post
neuron ``cell % N``, whatever its index expression (slot and wrap arithmetic): the emission
writes it from the partition's own synapses of each spike, the delivery (in its own kernel or in
the neuron update, ``passes/fuse_delivery.py``) from the partition's own neurons, and a kernel
that could not be cut so is serial, with its barriers.  So the rings never carry data across
partitions, and the update that delivers them joins the segment of the emission.
"""
from __future__ import annotations

from anncompiler.ir.kernel import (Append, BinOp, Cast, Const, Cmp, If, Kernel, Let, Load, Logic, Loop, Reduce, Store, Var,
                                   stmt_exprs, walk_expr)

from ..lowering.delay_rings import ring_array

def place_barriers(kernels: list[Kernel]) -> None:
    """Order the kernels and set ``barrier`` on those that must wait for the ones before them
    (module docstring); the step starts after the backend's end-of-step wait.

    A parallel kernel that follows serial kernels moves before them when it shares no written
    array with them and can join the parallel segment before them: a serial kernel between two
    parallel ones costs two waits.  E.g. the post-synaptic events, which read the segments of
    the spike list, move before the serial kernel that concatenates them."""
    out: list[Kernel] = []
    segment: _Segment | None = None  # the parallel kernels since the last barrier
    serial: list[Kernel] = []  # the serial kernels after it
    footprints: dict[int, dict] = {}

    def of(k: Kernel) -> dict:
        if id(k) not in footprints:
            footprints[id(k)] = footprint(k)
        return footprints[id(k)]

    for k in kernels:
        if not k.parallel:
            serial.append(k)
            continue
        fk = of(k)
        if segment is not None and serial and segment.joins(k, fk) and not any(_shared(fk, of(x)) for x in serial):
            segment.add(k, fk)
            continue
        if segment is not None and not serial and segment.joins(k, fk):
            segment.add(k, fk)
            continue
        _flush(out, segment, serial)
        serial = []
        segment = _Segment()
        segment.add(k, fk)
    _flush(out, segment, serial)
    kernels[:] = out


def _flush(out: list, segment, serial: list) -> None:
    """Append a parallel segment and the serial kernels after it: a wait before the segment and
    before the serial kernels (unless one of them is the first kernel of the step)."""
    first = segment.kernels[0] if segment else None
    for k in (segment.kernels if segment else []) + serial:
        k.barrier = bool(out) and (k is first or k.parallel != out[-1].parallel)
        out.append(k)


class _Segment:
    """Parallel kernels that run without a wait between them, indexed by the arrays they use."""

    def __init__(self):
        self.kernels: list[Kernel] = []
        self.uses: dict[str, list] = {}  # array -> [(owner, kinds, written, phase)]

    def add(self, k: Kernel, fk: dict) -> None:
        self.kernels.append(k)
        for array, (kinds, written) in fk.items():
            self.uses.setdefault(array, []).append((k.owner, kinds, written, k.phase))

    def joins(self, k: Kernel, fk: dict) -> bool:
        """No data crosses a partition between ``k`` and the kernels of other phases (those of
        its own phase are independent by construction)."""
        for array, (kinds, written) in fk.items():
            for owner, other, other_written, phase in self.uses.get(array, ()):
                if phase == k.phase or not (written or other_written):
                    continue
                if not owner or owner != k.owner or len(kinds | other) != 1 or None in kinds | other:
                    return False
        return True


def _shared(fa: dict, fb: dict) -> set:
    """Arrays written by one kernel and read or written by the other."""
    return ({x for x, (_, w) in fa.items() if w} & fb.keys()) | ({x for x, (_, w) in fb.items() if w} & fa.keys())


def footprint(k: Kernel) -> dict[str, tuple[set, bool]]:
    """``array -> (the kinds of element its accesses reach, written)`` of a kernel.  A kind is
    ``(what, object)``: a neuron of a population, a row or a synapse of a projection, a position
    ("slot") in a projection's inverse index, a spike list's segment or partition count; None:
    an element the partition may not own."""
    out: dict[str, tuple[set, bool]] = {}
    population = k.owner.split(":", 1)[1] if k.owner.startswith("neurons:") else None
    _Walker(out, population).body(k.body, {})
    return out


def _strip(e):
    while isinstance(e, Cast):
        e = e.a
    return e


class _Walker:
    def __init__(self, out: dict, population: str | None):
        self.out, self.population = out, population

    def access(self, array: str, kind, write: bool) -> None:
        kinds, written = self.out.get(array, (set(), False))
        kinds.add(kind)
        self.out[array] = (kinds, written or write)

    def reads(self, expr, env: dict) -> None:
        for x in walk_expr(expr):
            if isinstance(x, Load):
                self.access(x.array, self.kind(x.index, env, x.array), False)

    def kind(self, index, env: dict, array: str = ""):
        index = _strip(index)
        if array.endswith(".partition_counts") and (_is_var(index, "part") or (
                isinstance(index, BinOp) and index.op == "*" and _is_var(index.a, "part")
                and isinstance(index.b, Const))):  # the partition's slot (one cache line each)
            return ("partition", array.rsplit(".", 2)[0])
        if self.population and array.startswith(ring_array(self.population, "")):
            return ("ring", self.population)  # the module docstring: rings stay in their partitions
        if isinstance(index, Var):
            return env.get(index.name)
        if (array.endswith(".partition_segments") and isinstance(index, BinOp) and index.op == "+"
                and _is_var(index.a, "part_lo") and isinstance(index.b, Var)):
            return ("segment", array.rsplit(".", 2)[0])  # below part_hi: one neuron per position
        return None

    def body(self, stmts: list, env: dict) -> set:
        """Record the accesses of ``stmts``; returns the names they (re)bind with ``Let``."""
        assigned: set = set()
        for s in stmts:
            if isinstance(s, Reduce):  # its value is evaluated with its variable bound
                self.reads(s.start, env)
                self.reads(s.stop, env)
                self.reads(s.value, self.bound(env, s.var, self.loop_kind(s.space, s.start, s.stop, env)))
                assigned.add(s.acc.name)
                continue
            for e in stmt_exprs(s):
                self.reads(e, env)
            inner: set = set()
            if isinstance(s, Store):
                self.access(s.array, self.kind(s.index, env, s.array), True)
            elif isinstance(s, Append):
                self.access(s.array, None, True)
            elif isinstance(s, Let):
                kind = self.derived(s.value, env)
                env = self.bound(env, s.var, kind)
                assigned.add(s.var.name)
            elif isinstance(s, Loop):
                inner = self.body(s.body, self.bound(env, s.var, self.loop_kind(s.space, s.start, s.stop, env)))
            elif isinstance(s, If):
                mine = self.own_neuron_test(s.cond)
                inner = self.body(s.then, self.bound(env, Var(mine), ("neuron", self.population)) if mine else env)
                inner |= self.body(s.orelse, env)
            else:
                for b in s.bodies():
                    inner |= self.body(b, env)
            if inner:  # a variable rebound in a nested body no longer names a known element
                env = {n: v for n, v in env.items() if n not in inner}
                assigned |= inner
        return assigned

    @staticmethod
    def bound(env: dict, var: Var, kind) -> dict:
        inner = {n: v for n, v in env.items() if n != var.name}
        if kind is not None:
            inner[var.name] = kind
        return inner

    def derived(self, value, env: dict):
        """The element a ``Let`` names: a synapse or row through the inverse index, a post
        neuron through a row or through the out-synapse storage, a row through a post neuron."""
        value = _strip(value)
        if isinstance(value, BinOp) and value.op == "+":  # out_base[pre] + q (lowering/outgoing.py)
            a, b = self.kind(value.a, env), self.kind(value.b, env)
            if a is not None and a[0] == "out_base" and b == ("slot", a[1]) and self.population:
                return ("neuron", self.population)
            return None
        if not isinstance(value, Load) or "." not in value.array:
            return None
        kind = self.kind(value.index, env, value.array)
        if kind is not None and kind[0] == "segment" and kind[1] == f"{self.population}._spiked":
            return ("neuron", self.population)
        owner, field = value.array.rsplit(".", 1)
        if kind == ("slot", owner) and field in ("inv_syn", "inv_row"):
            return ("synapse" if field == "inv_syn" else "row", owner)
        if kind == ("slot", owner) and field == "out_post" and self.population:
            return ("neuron", self.population)  # out-synapse storage: the post rank of the slot
        if field == "out_base":  # plus a slot of the same projection: a post rank (outgoing.py)
            return ("out_base", owner)
        if kind == ("row", owner) and field == "post_ranks" and self.population:
            return ("neuron", self.population)
        if kind == ("neuron", self.population) and field == "post_row":
            return ("row", owner)
        return None

    def loop_kind(self, space: str, start, stop, env: dict):
        kind, _, name = space.partition(":")
        start, stop = _strip(start), _strip(stop)
        if kind == "neurons" and name == self.population and _is_var(start, "part_lo") and _is_var(stop, "part_hi"):
            return ("neuron", name)
        if isinstance(start, Load) and "." in start.array:
            owner, field = start.array.rsplit(".", 1)
            if kind == "rows" and field == "row_split" and owner == name:
                return ("row", owner)
            if kind == "out-synapses" and field == "inv_split" and owner == name:
                return ("slot", owner)
            if field == "row_ptr" and self.kind(start.index, env) == ("row", owner) and _next_of(start, stop):
                return ("synapse", owner)
        return None

    def own_neuron_test(self, cond) -> str | None:
        """The variable ``v`` of ``v >= part_lo and v < part_hi`` (the partition's own neuron)."""
        if not (isinstance(cond, Logic) and cond.op == "and" and self.population):
            return None
        lo, hi = cond.a, cond.b
        if (isinstance(lo, Cmp) and lo.op == ">=" and isinstance(hi, Cmp) and hi.op == "<"
                and isinstance(lo.a, Var) and lo.a == hi.a and _is_var(lo.b, "part_lo") and _is_var(hi.b, "part_hi")):
            return lo.a.name
        return None


def _is_var(e, name: str) -> bool:
    return isinstance(e, Var) and e.name == name


def _next_of(start: Load, stop) -> bool:
    """``stop`` is ``array[index + 1]`` for ``start = array[index]``."""
    return (isinstance(stop, Load) and stop.array == start.array and isinstance(stop.index, BinOp)
            and stop.index.op == "+" and _strip(stop.index.a) == _strip(start.index)
            and isinstance(stop.index.b, Const) and stop.index.b.value == 1)
