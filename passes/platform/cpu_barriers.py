"""Where the team of threads of a module cut into partitions must wait (``Kernel.barrier``).

A thread may start a kernel while another is still in an earlier one, unless a barrier stands
between them.  A barrier goes before a kernel when

* it is serial and follows a parallel kernel, or parallel and follows a serial one (the serial
  kernels run on thread 0 and may read or write anything), or
* it is parallel and data may cross a partition between it and a kernel of another phase
  since the last barrier (its *segment*; the kernels of one phase are independent by
  construction).

Data cannot cross a partition between two parallel kernels when no array is written by one of
them and read or written by the other, or when they have the same owner (the same partitions)
and every access of each array they share is at an element the partition owns: a neuron of the
owner in ``part_lo .. part_hi``, a row of a projection into it between its ``row_split``
bounds, a synapse of such a row, or a synapse reached through the partition's ``inv_split``
range.  So a spiking network's input (spike propagation into the partition's own neurons) and
neuron update run without a barrier between them, while a rate-coded projection, which reads
``r`` of every pre-synaptic neuron, keeps the one before the update that writes ``r``.

The partition ``c`` of every kernel runs on the same thread (static slices), so the partition's
own elements are written and read in program order.
"""
from __future__ import annotations

from anncompiler.ir.kernel import (Append, BinOp, Cast, Const, Cmp, If, Kernel, Let, Load, Logic, Loop, Reduce, Store, Var,
                                   stmt_exprs, walk_expr)

#: (kind, object): a neuron of a population, a row or a synapse of a projection, or a position
#: ("slot") in a projection's inverse index; None: any element
Owned = tuple


def place_barriers(kernels: list[Kernel]) -> None:
    """Set ``barrier`` on every kernel that must wait for the ones before it (module docstring);
    the step starts after the backend's end-of-step barrier."""
    prev, segment = None, []
    footprints: dict[str, dict] = {}
    for k in kernels:
        if prev is None or not (k.parallel or prev.parallel):
            need = False
        elif k.parallel != prev.parallel:
            need = True
        else:  # the kernels of one phase are independent by construction; the others are checked
            need = not all(_independent(a, k, footprints) for a in segment if a.phase != k.phase)
        k.barrier = need
        if need:
            segment = []
        segment.append(k)
        prev = k


def hoist_parallel(kernels: list[Kernel]) -> None:
    """Move each parallel kernel before the serial kernels just before it that share no array
    it writes or that they write (the order of independent kernels does not change the
    result), so that it joins the parallel kernels before them: a serial kernel between two
    parallel ones costs two waits.  E.g. the post-synaptic events, which read the segments of
    the spike list, move before the serial kernel that concatenates them."""
    footprints: dict[str, dict] = {}
    for n in range(len(kernels)):
        j = n
        while (kernels[j].parallel and j > 0 and not kernels[j - 1].parallel
               and not _shared(_cached(kernels[j - 1], footprints), _cached(kernels[j], footprints))):
            kernels[j - 1], kernels[j] = kernels[j], kernels[j - 1]
            j -= 1


def _cached(k: Kernel, cache: dict) -> dict:
    if k.name not in cache:
        cache[k.name] = footprint(k)
    return cache[k.name]


def _shared(fa: dict, fb: dict) -> set:
    """Arrays written by one kernel and read or written by the other."""
    return ({x for x, (_, w) in fa.items() if w} & fb.keys()) | ({x for x, (_, w) in fb.items() if w} & fa.keys())


def _independent(a: Kernel, b: Kernel, cache: dict) -> bool:
    fa, fb = _cached(a, cache), _cached(b, cache)
    shared = _shared(fa, fb)
    if not shared:
        return True
    if a.owner != b.owner or not a.owner:
        return False
    for x in shared:
        kinds = fa[x][0] | fb[x][0]
        if None in kinds or len(kinds) != 1:
            return False
    return True


def footprint(k: Kernel) -> dict[str, tuple[set, bool]]:
    """``array -> (the kinds of element each access reaches, written)`` of a kernel; kind None:
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
        if isinstance(index, Var):
            if index.name == "part" and array.endswith(".partition_counts"):
                return ("partition", array.rsplit(".", 2)[0])
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
        neuron through a row, a row through a post neuron."""
        value = _strip(value)
        if not isinstance(value, Load) or "." not in value.array:
            return None
        kind = self.kind(value.index, env, value.array)
        if kind is not None and kind[0] == "segment" and kind[1] == f"{self.population}._spiked":
            return ("neuron", self.population)
        owner, field = value.array.rsplit(".", 1)
        if kind == ("slot", owner) and field in ("inv_syn", "inv_row"):
            return ("synapse" if field == "inv_syn" else "row", owner)
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
