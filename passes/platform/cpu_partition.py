"""``cpu-partition``: the neutral kernel IR cut into static partitions for a team of CPU threads.

With ``threads = T > 1`` every population of N neurons is cut into T partitions, partition
``c`` owning neurons ``[N*c/T, N*(c+1)/T)``.  A kernel whose writes are owned by the neurons of a
population (``Kernel.owner``) becomes a *parallel* kernel looping over the partitions
(``for part in 0..T  parallel``), each partition touching only its own neurons, in the order of
the sequential code, so any thread count computes the same bits:

* ``neurons:P`` loops run over ``part_lo .. part_hi``; an ordered emission (``Append``, at most
  one per iteration) goes into the partition's own segment of the list (it starts at
  ``part_lo``), and a serial kernel then concatenates the segments (ascending rank: the
  sequential list); statements before the loops (global updates) become a serial kernel;
* ``rows:proj`` loops run over the rows of the partition's post neurons (``proj.row_split``,
  i32[T+1]: rows are sorted by post rank);
* ``spikes:pre`` loops over ``out-synapses:proj`` (spike propagation): every partition walks the
  whole spike list and handles only its own synapses of each spike (``proj.inv_split``,
  i32[pre_size*(T+1)]: the synapses of each pre neuron in the inverse index, or the slots of the
  out-synapse storage (``lowering/outgoing.py``), are sorted by post rank, and
  ``inv_split[pre*(T+1)+c]`` is the first one of partition ``c``), so each ``g[post]``
  receives its increments in the order of the spike list -- no atomics;
* ``delays:proj`` loops (non-uniform spiking delays): the same, through the partition's own
  synapses of each (pre, delay) group (``proj.inv_dsplit``, ``cpu_partition_delays.py``);
* other ``spikes:P`` loops of a kernel owned by P (post events) handle the spikes of the
  partition's own neurons.

Kernels without an owner stay serial (one thread).  ``Accumulate`` becomes a plain
load-add-store (each element has one writer).  Barriers go where a thread may read what another
wrote: between a serial and a parallel kernel (either way) and between two parallel kernels of
different phases.  The backend adds the end-of-step synchronisation.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from anncompiler.errors import PipelineError
from anncompiler.ir.kernel import (Accumulate, AnyOf, Append, BinOp, Cast, Cmp, Const, If, Kernel, KernelModule,
                                   Let, Load, Logic, Loop, Store, Var, stmt_exprs, walk_expr, walk_stmts)
from anncompiler.ir.types import I32, I64

from ..lowering.context import c64, i64
from ..lowering.outgoing import slot_posts
from ..lowering.projections import out_synapse_order
from .cpu_partition_delays import delayed_propagation
from ..manager import Pass, register_pass
from .cpu_barriers import place_barriers
from .cpu_riders import fold_serial_segments
from .cpu_threads import choose_partitions, policy_of
from .guards import guard_whole, kernel_guard, module_writes, unguarded

PART = Var("part", I64)
LO, HI = Var("part_lo", I64), Var("part_hi", I64)
#: i64 slots between the spike counts of two partitions (``partition_counts``): one cache line
#: each, so the threads that write them do not take each other's line at every step
COUNT_STRIDE = 8
#: the slot of partition ``part`` in a ``partition_counts`` array
COUNT_SLOT = BinOp("*", PART, Const(COUNT_STRIDE, I64), I64)


@register_pass
class CPUPartition(Pass):
    """Partition every owned kernel for ``threads`` threads (0: the compile's ``num_threads``),
    or for one when ``policy`` is ``"auto"`` and the network is too small to gain from threads
    (``cpu_threads.py``; "": the compile's ``thread_policy``)."""
    name = "cpu-partition"
    stage = "kernel"
    threads: int = 0
    policy: str = ""

    def __post_init__(self):
        self.require_at_least(threads=0)

    def run(self, module):
        km = module.kernels
        if km is None:
            raise PipelineError("cpu-partition needs a kernel module (run it after 'lower-to-kernels')")
        if km.platform not in ("", "cpu") or km.num_threads != 1:
            raise PipelineError(f"cpu-partition: the module was already mapped (platform '{km.platform}', "
                                f"{km.num_threads} partitions)")
        if any(isinstance(x, AnyOf) for k in km.kernels for s in walk_stmts(k.body)
               for e in stmt_exprs(s) for x in walk_expr(e)):
            raise PipelineError("cpu-partition must run before cpu-flag-scan")
        threads = self.threads or int(module.options.get("num_threads", 1) or 1)
        policy = policy_of(self.policy or module.options.get("thread_policy"))
        choose_partitions(km, max(1, threads), policy, partition_module)


def partition_module(km: KernelModule, threads: int) -> None:
    km.platform, km.num_threads = "cpu", threads
    p = _Partitioner(km, threads)
    out = []
    written = module_writes(km)
    for k in km.kernels:
        k.body = _accumulations_as_stores(k.body)
        guard = kernel_guard(k, written) if threads > 1 else None
        if guard is not None:  # a disabled population's kernels (guards.py)
            p.guard = guard
            out += [guard_whole(piece, guard) for piece in p.kernel(unguarded(k))]
            p.guard = None
            continue
        out += p.kernel(k) if threads > 1 else [_serial(k)]
    km.kernels = out
    if threads > 1:
        _group_neuron_phase(km.kernels, p.global_kernels)
        place_barriers(km.kernels)
        fold_serial_segments(km.kernels, threads)


def _serial(k: Kernel) -> Kernel:
    """The kernel run by one thread: its loops are ordinary loops."""
    _sequential(k.body)
    return k


def _sequential(body: list) -> list:
    """Clear the ``parallel`` mark of every loop in ``body`` (they run inside one partition)."""
    for s in walk_stmts(body):
        if isinstance(s, Loop):
            s.parallel = False
    return body


def _accumulations_as_stores(body: list) -> list:
    out = []
    for s in body:
        if isinstance(s, Accumulate):
            s = s.as_store()
        else:
            for b in s.bodies():
                b[:] = _accumulations_as_stores(b)
        out.append(s)
    return out


class _Partitioner:
    def __init__(self, km: KernelModule, threads: int):
        self.km, self.T = km, threads
        #: names of the serial kernels of global updates (run first in the neuron phase)
        self.global_kernels: set[str] = set()
        #: spike list -> the kernel whose partitions write its segments
        self.segmented: dict[str, str] = {}
        #: the guard of the kernel being partitioned (guards.py), None without one
        self.guard = None

    # helpers ----------------------------------------------------------------
    def first_of(self, size: int, part) -> BinOp:
        """First neuron of partition ``part`` (an i64 expression) of a population of ``size``."""
        return BinOp("/", BinOp("*", c64(size), part, I64), c64(self.T), I64)

    def bounds(self, size: int) -> list:
        return [Let(LO, self.first_of(size, PART)), Let(HI, self.first_of(size, BinOp("+", PART, c64(1), I64)))]

    def partitions(self, what: str, body: list, parallel: bool = True) -> Loop:
        return Loop(PART, c64(0), c64(self.T), body, f"partitions:{what}", parallel)

    def boundaries(self, size: int) -> np.ndarray:
        t = np.arange(self.T + 1, dtype=np.int64)
        return size * t // self.T

    def load(self, name: str, index) -> Load:
        return self.km.load(name, index)

    # kernels ----------------------------------------------------------------
    def kernel(self, k: Kernel) -> list[Kernel]:
        if not k.owner or k.owner not in self.km.index_spaces:
            return [_serial(k)]
        size = self.km.index_spaces[k.owner]
        population = k.owner.split(":", 1)[1]
        loops = [s for s in k.body if isinstance(s, Loop)]
        if len(k.body) == 1 and loops:
            loop = loops[0]
            kind, name = loop.space.split(":", 1) if ":" in loop.space else (loop.space, "")
            if kind == "rows":
                return [self.rows(k, loop, name, size)]
            if kind == "delays":
                return [delayed_propagation(self, k, loop, name, size)]
            if kind == "spikes":
                inverse = [s for s in walk_stmts(loop.body) if isinstance(s, Loop) and
                           s.space.startswith("out-synapses:")]
                if len(inverse) == 1:
                    return [self.spike_propagation(k, loop, inverse[0], size)]
                if name == population and loop.body and isinstance(loop.body[0], Let):
                    return [self.own_spikes(k, loop, population, size)]
                return [_serial(k)]
        return self.neurons(k, population, size)

    def neurons(self, k: Kernel, population: str, size: int) -> list[Kernel]:
        """Loops over the owner's neurons: partitioned; the statements before them: serial."""
        first = next((n for n, s in enumerate(k.body) if isinstance(s, Loop)), len(k.body))
        prefix, loops = k.body[:first], k.body[first:]
        if not loops or any(not isinstance(s, Loop) or s.space != k.owner or not s.parallel for s in loops):
            return [_serial(k)]
        appends = [s for loop in loops for s in walk_stmts(loop.body) if isinstance(s, Append)]
        if not _one_append_per_iteration(loops) or any(self.km.arrays[a.array].size < size for a in appends):
            return [_serial(k)]
        counters = {}
        for a in appends:  # one partition count, one segments array and one running count per list
            if a.counter not in counters:
                name, segments = f"{a.array}.partition_counts", f"{a.array}.partition_segments"
                if name not in self.km.arrays:
                    self.km.declare(name, I64, self.T * COUNT_STRIDE, "internal", 0)
                    decl = self.km.arrays[a.array]
                    self.km.declare(segments, decl.dtype, decl.size, "internal", 0)
                    self.segmented[a.array] = k.name
                counters[a.counter] = (segments, name, Var(f"part_count{len(counters)}", I64))
        prefix = [s for s in prefix if not (isinstance(s, Store) and s.array in counters and s.index == c64(0))]
        body = self.bounds(size) + [Let(count, c64(0)) for _, _, count in counters.values()]
        body += _sequential([dataclasses.replace(loop, start=LO, stop=HI,
                                                 body=_segment_appends(loop.body, counters)) for loop in loops])
        body += [Store(name, COUNT_SLOT, count) for _, name, count in counters.values()]
        defined = {s.var.name for s in walk_stmts(prefix) if isinstance(s, Let)}
        used = {x.name for s in walk_stmts(loops) for e in stmt_exprs(s) for x in walk_expr(e) if isinstance(x, Var)}
        if defined & used:  # the loops read locals of the global part: keep them together
            out = [dataclasses.replace(k, body=prefix + [self.partitions(population, body, parallel=False)],
                                       parallel=False)]
            _serial(out[0])
        else:
            out = []
            if prefix:
                glob = Kernel(f"{k.name}_global", k.phase, prefix, f"global updates of {population}")
                self.global_kernels.add(glob.name)
                out.append(glob)
            out.append(dataclasses.replace(k, body=[self.partitions(population, body)], parallel=True))
        for a in appends:
            segments, parts, _ = counters.pop(a.counter, (None, None, None))
            if segments is not None:
                out.append(self.compaction(population, size, a.array, segments, a.counter, parts))
        return out

    def compaction(self, population: str, size: int, array: str, segments: str, counter: str,
                   parts: str) -> Kernel:
        """Concatenate the segments into ``array[:counter]`` (ascending partition order).

        The segments have their own array, so the list of the previous step stays whole while the
        partitions write the new one (a kernel still reading it needs no barrier before them).
        """
        n, j = Var("n", I64), Var("j", I64)
        dtype = self.km.arrays[array].dtype
        body = [Let(n, c64(0)),
                Loop(PART, c64(0), c64(self.T), [
                    Let(LO, self.first_of(size, PART)),
                    Loop(j, c64(0), self.load(parts, COUNT_SLOT), [
                        Store(array, n, Load(segments, BinOp("+", LO, j, I64), dtype)),
                        Let(n, BinOp("+", n, c64(1), I64))], f"spikes:{population}")],
                     f"partitions:{population}"),
                Store(counter, c64(0), n)]
        return Kernel(f"compact_{array.replace('.', '_')}", "neurons", body,
                      f"{array} from the segments of its partitions")

    def rows(self, k: Kernel, loop: Loop, projection: str, size: int) -> Kernel:
        """``for part: for row in row_split[part] .. row_split[part+1]``."""
        split = self.row_split(projection, size)
        inner = dataclasses.replace(loop, start=i64(self.load(split, PART)),
                                    stop=i64(self.load(split, BinOp("+", PART, c64(1), I64))))
        _sequential([inner])
        return dataclasses.replace(k, body=[self.partitions(projection, [inner])], parallel=True)

    def spike_propagation(self, k: Kernel, spikes: Loop, inverse: Loop, size: int) -> Kernel:
        """Every partition walks all the spikes, through its own synapses of each."""
        projection = inverse.space.split(":", 1)[1]
        start = inverse.start.a if isinstance(inverse.start, Cast) else inverse.start
        if not (isinstance(start, Load) and start.array == f"{projection}.inv_ptr"):
            return _serial(k)
        split = self.inverse_split(projection, size)
        at = BinOp("+", BinOp("*", i64(start.index), c64(self.T + 1), I64), PART, I64)
        inverse.start = i64(self.load(split, at))
        inverse.stop = i64(self.load(split, BinOp("+", at, c64(1), I64)))
        _serial(k)
        return dataclasses.replace(k, body=[self.partitions(projection, [spikes])], parallel=True)

    def own_spikes(self, k: Kernel, spikes: Loop, population: str, size: int) -> Kernel:
        """The spikes of the partition's own neurons (the first statement names the neuron)."""
        neuron = spikes.body[0].var
        mine = Logic("and", Cmp(">=", neuron, LO), Cmp("<", neuron, HI))
        spikes.body = [self.from_own_segment(spikes, population), If(mine, spikes.body[1:])]
        _serial(k)
        return dataclasses.replace(k, body=[self.partitions(population, self.bounds(size) + [spikes])],
                                   parallel=True)

    def from_own_segment(self, spikes: Loop, population: str) -> Let:
        """When the partition's own spikes of this step are in its segment of the spike list
        (the update of the population, before this kernel, is the list's only writer), the loop
        walks that segment instead of the whole list: the same neurons in the same order, and
        no wait for the serial kernel that concatenates the segments.  Returns the first
        statement (the neuron)."""
        first = spikes.body[0]
        spiked, count = f"{population}._spiked", f"{population}._n_spiked"
        value = first.value.a if isinstance(first.value, Cast) else first.value
        if (self.segmented.get(spiked) is None or not isinstance(value, Load) or value.array != spiked
                or value.index != spikes.var or spikes.stop != self.load(count, c64(0))
                or (self.writers(spiked) | self.writers(count)) - self.idle_writers(population)
                != {self.segmented[spiked]}):
            return first
        spikes.stop = self.load(f"{spiked}.partition_counts", COUNT_SLOT)
        segment = Load(f"{spiked}.partition_segments", BinOp("+", LO, spikes.var, I64), value.dtype)
        return Let(first.var, dataclasses.replace(first.value, a=segment) if isinstance(first.value, Cast)
                   else segment)

    def idle_writers(self, population: str) -> set[str]:
        """The kernel that empties the spike list of a disabled population, when this kernel runs
        only while the population is enabled (then the update ran before it in the step and
        that kernel wrote nothing)."""
        switch = f"{population}._active"
        if self.guard is None or {x.array for x in walk_expr(self.guard) if isinstance(x, Load)} != {switch}:
            return set()
        return {f"idle_{population}"}

    def writers(self, array: str) -> set[str]:
        """Names of the kernels of the (neutral) module that write ``array``."""
        return {k.name for k in self.km.kernels for s in walk_stmts(k.body)
                if isinstance(s, (Store, Append, Accumulate)) and s.array == array}

    # connectivity splits ------------------------------------------------------
    def _init(self, name: str) -> np.ndarray:
        return np.asarray(self.km.arrays[name].init, dtype=np.int64)

    def row_split(self, projection: str, size: int) -> str:
        """``proj.row_split``: the first row of every partition (rows are sorted by post rank)."""
        name = f"{projection}.row_split"
        if name not in self.km.arrays:
            n_rows = len(self._init(f"{projection}.row_ptr")) - 1
            post = self._init(f"{projection}.post_ranks")[:n_rows]
            self.km.declare(name, I32, self.T + 1, "connectivity",
                            np.searchsorted(post, self.boundaries(size), side="left").astype(np.int32))
        return name

    def inverse_split(self, projection: str, size: int) -> str:
        """``proj.inv_split`` (see the module docstring)."""
        name = f"{projection}.inv_split"
        if name in self.km.arrays:
            return name
        T = self.T
        ptr = self._init(f"{projection}.inv_ptr")
        pre_size = len(ptr) - 1
        post = slot_posts(self.km, projection)  # the out-synapse storage's slots (lowering/outgoing.py)
        offsets = self.km.arrays.get(f"{projection}.ring_offset")
        if post is None and offsets is not None:  # (delay - 1) * size + post rank at each slot (delay_rings.py)
            post = np.asarray(offsets.init)[:int(ptr[-1])] % size
        if post is None:
            row_ptr = self._init(f"{projection}.row_ptr")
            nb = int(row_ptr[-1])
            pre_ranks = np.asarray(self.km.arrays[f"{projection}.pre_ranks"].init)[:nb]  # as narrowed
            post_ranks = self._init(f"{projection}.post_ranks")
            order = out_synapse_order(pre_ranks, pre_size)
            rows = np.repeat(np.arange(len(row_ptr) - 1), np.diff(row_ptr))[order]
            post = post_ranks[rows] if len(rows) else np.zeros(0, np.int64)
        pre = np.repeat(np.arange(pre_size, dtype=np.int64), np.diff(ptr))
        split = np.empty((pre_size, T + 1), dtype=np.int64)
        for c, b in enumerate(self.boundaries(size)):
            split[:, c] = ptr[:-1] + np.bincount(pre[post < b], minlength=pre_size)
        split[:, T] = ptr[1:]
        self.km.declare(name, I32, max(1, split.size), "connectivity",
                        split.reshape(-1).astype(np.int32) if split.size else np.zeros(1, np.int32))
        return name


def _one_append_per_iteration(loops: list[Loop]) -> bool:
    """Each iteration appends at most once to each list: one Append, not inside a nested loop."""
    for loop in loops:
        appends = [s for s in walk_stmts(loop.body) if isinstance(s, Append)]
        nested = [s for inner in walk_stmts(loop.body) if isinstance(inner, Loop)
                  for s in walk_stmts(inner.body) if isinstance(s, Append)]
        if nested or len({a.counter for a in appends}) != len(appends):
            return False
    return True


def _segment_appends(body: list, counters: dict) -> list:
    """``Append`` -> a store into the partition's segment (from ``part_lo``) and its count."""
    out = []
    for s in body:
        if isinstance(s, Append):
            segments, _, count = counters[s.counter]
            out += [Store(segments, BinOp("+", LO, count, I64), s.value), Let(count, BinOp("+", count, c64(1), I64))]
            continue
        if s.bodies():
            s = dataclasses.replace(s, **{f.name: _segment_appends(getattr(s, f.name), counters)
                                          for f in dataclasses.fields(s) if isinstance(getattr(s, f.name), list)})
        out.append(s)
    return out


def _group_neuron_phase(kernels: list[Kernel], global_kernels: set[str]) -> None:
    """In each run of ``neurons`` kernels: the global updates (serial) first, then the parallel
    updates, then the serial rest (spike lists, spike sources, serial updates), so that a
    network of several populations needs two barriers in this phase, not two per population.
    Safe: a population's update reads only its own state (and the inputs computed before)."""
    out, run = [], []
    for k in kernels + [None]:
        if k is not None and k.phase == "neurons":
            run.append(k)
            continue
        out += sorted(run, key=lambda x: 1 if x.parallel else (0 if x.name in global_kernels else 2))
        run = []
        if k is not None:
            out.append(k)
    kernels[:] = out
