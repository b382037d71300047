"""How many threads a network gains from: a work model of one step, used by ``cpu-partition``.

A team of threads pays for every wait of a step (a chunk's claim, the counters' cache lines
moving between cores, a thread spinning while a serial kernel runs elsewhere) and for the data
one partition reads from what another wrote (``r`` of every pre-synaptic neuron in a rate-coded
sum), while it divides only the work of the parallel kernels.  A small network (a few hundred
neurons, a few thousand synapses) does less work per wait than a wait costs, so it runs slower
on two threads than on one.  The model estimates, from the sizes of the network, the work of
each kernel in one step (operations of its loop bodies times their trip counts) and compares

    one thread:  the work of every kernel
    T threads:   for each kernel of the partitioned step, the work of one partition (a parallel
                 kernel: its share of the neurons, rows and synapses, the whole spike lists) or
                 all of it (a serial kernel), plus one wait per segment and the cache lines
                 that cross partitions

The module runs on T threads only when this saves at least :data:`MIN_GAIN` of the one-thread
estimate; otherwise it is lowered for one thread, whatever ``num_threads`` asks.  Which
threads run what never changes a result (partitions are by post-synaptic neuron), so the choice
is only about speed: the same bits either way.  Spikes per step are not known when compiling:
the model assumes :data:`SPIKE_RATE_HZ` per neuron.

Policies: ``"auto"`` (the model decides) and ``"always"`` (as many partitions as ``num_threads``:
the tests use it to run small networks on a team).
"""
from __future__ import annotations

import copy
import dataclasses
import os

from anncompiler.errors import InvalidValueError
from anncompiler.ir.kernel import BinOp, Call, Cast, Const, KernelModule, Load, Loop, Reduce, Var, stmt_exprs, walk_expr

from .cpu_barriers import footprint

POLICIES = ("auto", "always")
#: the environment variable giving the policy when ``net.config(thread_policy=...)`` does not
POLICY_ENV = "ANNC_THREAD_POLICY"
#: firing rate assumed per neuron to estimate the spikes of a step (Hz)
SPIKE_RATE_HZ = 10.0
#: cost of one wait of the team, in the model's operations (nodes of the loop bodies' expressions
#: times their trip counts).  Calibrated on a 2-core AMD Zen 4 VM, where a step of the benchmarks
#: ran 20,000 to 110,000 such operations per µs (vectorised neuron updates are the fast end) and
#: a wait cost 0.3 to 1 µs, more when a neighbour process loads the cores
WAIT_COST = 50000.0
#: cost of a cache line that one core wrote and another reads, in operations (about 0.1 µs)
LINE_COST = 5000.0
#: index tables of more bytes than this (all projections together) do not stay in the caches:
#: every walk of a spike's synapse range (in every partition, for every delay) is a miss
CACHED_TABLE_BYTES = 1 << 20
#: fraction of the one-thread estimate the team must save
MIN_GAIN = 0.2
#: extra cost of a math function call or a division, in operations
_CALL_COST, _DIV_COST = 20.0, 4.0


def policy_of(value) -> str:
    """The policy named by ``value`` (None: the environment's, else ``"auto"``); others raise."""
    if value is None or value == "":
        value = os.environ.get(POLICY_ENV, "") or "auto"
    if value not in POLICIES:
        raise InvalidValueError(f"thread_policy must be one of {list(POLICIES)}, not {value!r}")
    return value


# -- work of a kernel ------------------------------------------------------------------------
class _Sizes:
    """Trip counts of the loops of a module, from its index spaces and connectivity."""

    def __init__(self, km: KernelModule, threads: int = 1):
        self.km, self.threads = km, threads
        # the index tables of spike propagation outgrow the caches: each lookup is a miss
        tables = sum(d.size * d.dtype.numpy.itemsize for n, d in km.arrays.items() if n.endswith(_TABLES))
        self.table_miss = LINE_COST if tables > CACHED_TABLE_BYTES else 0.0
        #: trip count of the enclosing loop over the delays of a projection (1 outside one)
        self.delay_groups = 1.0

    def _ints(self, name: str):
        decl = self.km.arrays.get(name)
        init = getattr(decl, "init", None) if decl is not None else None
        return init if getattr(init, "ndim", 0) == 1 and len(init) else None

    def synapses(self, projection: str) -> float:
        ptr = self._ints(f"{projection}.row_ptr")
        return float(ptr[-1]) if ptr is not None else 0.0

    def rows(self, projection: str) -> float:
        ptr = self._ints(f"{projection}.row_ptr")
        return float(len(ptr) - 1) if ptr is not None else 0.0

    def pre_size(self, projection: str) -> float:
        ptr = self._ints(f"{projection}.inv_ptr")
        return float(len(ptr) - 1) if ptr is not None else 0.0

    def trips(self, loop) -> float:
        """Iterations of ``loop``; in a partitioned module (``threads > 1``), of one partition's
        share when its bounds are the partition's (the partitions loop itself: one)."""
        if self.threads > 1:
            if loop.space.startswith("partitions:") and loop.parallel:
                return 1.0
            if _partition_bounds(loop):
                return self.whole_trips(loop) / self.threads
        return self.whole_trips(loop)

    def whole_trips(self, loop) -> float:
        start, stop = _strip(loop.start), _strip(loop.stop)
        if isinstance(start, Const) and isinstance(stop, Const):
            return max(0.0, float(stop.value) - float(start.value))
        kind, _, name = loop.space.partition(":")
        if loop.space in self.km.index_spaces:
            return float(self.km.index_spaces[loop.space])
        if kind == "spikes":
            size = self.km.index_spaces.get(f"neurons:{name}", 0)
            return size * SPIKE_RATE_HZ * float(self.km.dt) / 1000.0
        if kind == "rows":
            return self.rows(name)
        if kind == "synapses":  # a row's synapses (inside a row loop) or all of them
            rows = self.rows(name)
            row_start = isinstance(start, Load) and start.array == f"{name}.row_ptr"
            return self.synapses(name) / rows if row_start and rows else self.synapses(name)
        if kind in ("out-synapses", "delays", "delayed-synapses"):
            pre = self.pre_size(name)
            per_pre = self.synapses(name) / pre if pre else 0.0
            # inside a loop over the delays: the synapses of one (pre, delay) group
            return per_pre / self.delay_groups if kind == "delayed-synapses" else per_pre
        return 1.0


#: the index tables that spike propagation reads its synapse ranges from (per partition or not)
_TABLES = (".inv_ptr", ".inv_dptr", ".inv_split", ".inv_dsplit")
_PARTITION_VARS = ("part", "part_lo", "part_hi")
_PARTITION_ARRAYS = ("_split", "_dsplit", ".partition_counts")


def _table_bounds(loop) -> bool:
    """The loop's range is read from an index table (a synapse range of a spike)."""
    return any(isinstance(x, Load) and x.array.endswith(_TABLES) for x in walk_expr(loop.start))


def _partition_bounds(loop) -> bool:
    """The loop's bounds are those of one partition (its neurons, rows or synapses)."""
    for e in (loop.start, loop.stop):
        for x in walk_expr(e):
            if isinstance(x, Var) and x.name in _PARTITION_VARS:
                return True
            if isinstance(x, Load) and x.array.endswith(_PARTITION_ARRAYS):
                return True
    return False


def _strip(e):
    while isinstance(e, Cast):
        e = e.a
    return e


def _expr_cost(e) -> float:
    cost = 0.0
    for x in walk_expr(e):
        if isinstance(x, Call) or (isinstance(x, BinOp) and x.op == "pow"):
            cost += _CALL_COST
        elif isinstance(x, BinOp) and x.op in ("/", "%"):
            cost += _DIV_COST
        elif not isinstance(x, Const):
            cost += 1.0
    return cost


def body_work(body: list, sizes: _Sizes) -> float:
    """Operations of one run of ``body`` (loops: their trip count times their body)."""
    total = 0.0
    for s in body:
        total += 1.0 + sum(_expr_cost(e) for e in stmt_exprs(s))
        if isinstance(s, Reduce):
            total += sizes.trips(s) * (1.0 + _expr_cost(s.value))
        elif isinstance(s, Loop):
            if sizes.table_miss and _table_bounds(s):
                total += sizes.table_miss
            trips, outer = sizes.trips(s), sizes.delay_groups
            if s.space.startswith("delays:"):
                sizes.delay_groups = max(1.0, trips)
            total += trips * body_work(s.body, sizes)
            sizes.delay_groups = outer
        else:
            for b in s.bodies():  # both branches of an If: an upper bound
                total += body_work(b, sizes)
    return total


def kernel_work(km: KernelModule) -> dict[str, float]:
    """Operations per step of every kernel of a neutral module, by name."""
    sizes = _Sizes(km)
    return {k.name: body_work(k.body, sizes) for k in km.kernels}


# -- the estimate of a step ------------------------------------------------------------------
@dataclasses.dataclass
class Estimate:
    one_thread: float
    team: float
    waits: int
    threads: int
    lines: float = 0.0

    @property
    def gain(self) -> float:
        return 1.0 - self.team / self.one_thread if self.one_thread > 0 else 0.0


def estimate(partitioned: KernelModule, work: dict[str, float], threads: int) -> Estimate:
    """The model's cost of one step of ``partitioned`` on ``threads`` threads (a parallel kernel:
    the work of one partition, whose share of the neurons, rows and synapses is 1/T while the
    spike lists it walks are whole; a serial one: all its work) and on one (``work``: the
    neutral kernels' operations)."""
    one = sum(work.values())
    team, waits, prev = 0.0, 0, None
    share, whole = _Sizes(partitioned, threads), _Sizes(partitioned)
    for k in partitioned.kernels:
        if prev is None or k.barrier or k.parallel != prev.parallel:
            waits += 1
        team += body_work(k.body, share if k.parallel else whole)
        prev = k
    if partitioned.exit_conditions and (prev is None or prev.parallel):
        waits += 1
    lines = _crossing_lines(partitioned, threads)
    return Estimate(one, team + waits * WAIT_COST + lines * LINE_COST, waits, threads, lines)


def _crossing_lines(km: KernelModule, threads: int) -> float:
    """Cache lines a partition reads in a step from what the other partitions wrote: each array
    that a parallel kernel writes in its own partitions and another reads at elements it does not
    own (``r`` of every pre-synaptic neuron in a rate-coded sum), once per segment reading it."""
    prints = {id(k): footprint(k) for k in km.kernels if k.parallel}
    # arrays a partition writes at its own elements (its neurons, rows, synapses)
    written = {a: k.name for k in km.kernels if k.parallel for a, (kinds, w) in prints[id(k)].items()
               if w and None not in kinds}
    lines, seen, segment, prev = 0.0, set(), 0, None
    for k in km.kernels:
        if prev is None or k.barrier or k.parallel != prev.parallel:
            segment += 1
        prev = k
        if not k.parallel:
            continue
        for array, (kinds, w) in prints[id(k)].items():
            if (not w and written.get(array, k.name) != k.name and None in kinds
                    and (segment, array) not in seen):
                seen.add((segment, array))
                decl = km.arrays[array]
                lines += decl.size * decl.dtype.numpy.itemsize / 64.0 * (threads - 1) / threads
    return lines


def choose_partitions(km: KernelModule, threads: int, policy: str, partition) -> Estimate | None:
    """Partition ``km`` (``partition(module, T)``) for ``threads``, or for one thread when the
    policy is ``"auto"`` and the model finds no gain; a note in ``km.notes`` says which and why.
    Returns the estimate (None when no choice was made: one thread asked, or ``"always"``)."""
    if threads <= 1 or policy == "always":
        partition(km, threads)
        if threads > 1:
            km.notes.append(f"threads: {threads} partitions (thread_policy='always')")
        return None
    work = kernel_work(km)
    trial = dataclasses.replace(km, arrays=dict(km.arrays), kernels=copy.deepcopy(km.kernels), notes=[])
    partition(trial, threads)
    est = estimate(trial, work, threads)
    summary = (f"estimated {est.one_thread:.0f} operations per step on one thread, "
               f"{est.team:.0f} on {threads} ({est.waits} waits of {WAIT_COST:.0f}, {est.lines:.1f} cache lines "
               f"crossing partitions of {LINE_COST:.0f})")
    if est.gain >= MIN_GAIN:
        for f in ("arrays", "kernels", "platform", "num_threads"):
            setattr(km, f, getattr(trial, f))
        km.notes.append(f"threads: {threads} partitions: {summary}")
    else:
        partition(km, 1)
        km.notes.append(f"threads: 1 instead of {threads}, the network is too small to gain from "
                        f"threads (the same bits either way): {summary}; "
                        f"thread_policy='always' runs it on {threads}")
    return est

