"""How many threads a network gains from: a work model of one step, used by ``cpu-partition``.

A team of threads pays for every wait of a step (a chunk's claim, the counters' cache lines
moving between cores, a thread spinning while a serial kernel runs elsewhere), while it divides
only the work of the parallel kernels.  A small network (a few hundred neurons, a few thousand
synapses) does less work per wait than a wait costs, so it runs slower on two threads than on
one.  The model estimates, from the sizes of the network, the work of each kernel in one step
(operations of its loop bodies times their trip counts) and compares

    one thread:  sum of the work of every kernel
    T threads:   per segment of the partitioned step, its parallel work / T (or its serial
                 work), plus the cost of one wait per segment

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
from anncompiler.ir.kernel import BinOp, Call, Cast, Const, KernelModule, Load, Loop, Reduce, stmt_exprs, walk_expr

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

    def __init__(self, km: KernelModule):
        self.km = km

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
            return self.synapses(name) / pre if pre else 0.0
        return 1.0


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
            total += sizes.trips(s) * body_work(s.body, sizes)
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

    @property
    def gain(self) -> float:
        return 1.0 - self.team / self.one_thread if self.one_thread > 0 else 0.0


def estimate(partitioned: KernelModule, work: dict[str, float], threads: int) -> Estimate:
    """The model's cost of one step of ``partitioned`` on ``threads`` threads and on one
    (``work``: the neutral kernels' operations; kernels the partitioning added cost 1 per
    neuron of their population's spikes)."""
    one = sum(work.values())
    team, waits, prev = 0.0, 0, None
    for k in partitioned.kernels:
        w = work.get(k.name, work.get(k.name.removesuffix("_global"), 0.0))
        if prev is None or k.barrier or k.parallel != prev.parallel:
            waits += 1
        team += w * _largest_share(partitioned, k, threads) if k.parallel and not rider(k) else w
        prev = k
    if partitioned.exit_conditions and (prev is None or prev.parallel):
        waits += 1
    return Estimate(one, team + waits * WAIT_COST, waits, threads)


def rider(k) -> bool:
    """A serial kernel run inside one partition's chunk (``cpu_riders.py``)."""
    return bool(k.body) and isinstance(k.body[0], Loop) and k.body[0].space == "partitions:serial"


def _largest_share(km: KernelModule, k, threads: int) -> float:
    """The share of a parallel kernel's work in its largest partition (partitions are by
    post-synaptic neuron: a population of 1 neuron gives all its work to one partition)."""
    size = int(km.index_spaces.get(k.owner, 0) or 0)
    if size <= 0:
        return 1.0 / threads
    return -(-size // threads) / size


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
               f"{est.team:.0f} on {threads} ({est.waits} waits of {WAIT_COST:.0f})")
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

