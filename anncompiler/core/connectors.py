"""Connection patterns (ANNarchy's connector methods) as pure functions -> Connectivity.

Every function takes the pre/post neurons as arrays of POPULATION ranks (a
PopulationView passes its subset), the sizes of both populations and
``same_population`` (pre and post are views of one Population, so pre rank ==
post rank is a self-connection).  The projection object only has to collect
these and store the result; keeping the patterns pure makes them testable and
reusable by a compiler pass.

Conventions shared by all connectors:

* Rows are dendrites, ascending by post rank; pre ranks ascend within a row;
  rows without synapses are not stored (like ANNarchy's ``post_ranks``).
* ``weights``/``delays``: a scalar stays a scalar (single shared value) unless
  ``force_multiple_weights``; a RandomDistribution is sampled once per synapse,
  in synapse order (row by row), with its own generator.
* ``rng`` draws the pattern itself (the network passes its ``default_rng``).
* With ``allow_self_connections=False`` and ``same_population``, synapses with
  pre rank == post rank are never created -- also for views of one population
  (ANNarchy documents this but 5.0.4 creates them through views).
"""
from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from ..errors import ConnectivityError, ShapeError
from ..ir.connectivity import Connectivity
from .random import RandomDistribution

Value = Union[float, RandomDistribution]
_IDX = np.int32


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _ranks(ranks: Any, size: int, what: str, unique: bool = True) -> np.ndarray:
    """Ranks as int64, checked against the population size; sorted unique unless told otherwise."""
    arr = np.asarray(ranks, dtype=np.int64).ravel()
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        raise ConnectivityError(f"{what} ranks must lie in [0, {size}), got {arr.min()}..{arr.max()}")
    return np.unique(arr) if unique else arr


def _rng(rng: Optional[np.random.Generator]) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng()


def _values(value: Any, n: int, what: str, force_array: bool) -> Union[float, np.ndarray]:
    """A scalar (kept scalar unless ``force_array``), a distribution or an array of ``n`` values."""
    if isinstance(value, RandomDistribution):
        return np.asarray(value.get_values(n), dtype=np.float64).reshape(n)
    if np.ndim(value) == 0:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ConnectivityError(f"{what} must be a number or a RandomDistribution, got {value!r}") from None
        return np.full(n, v) if force_array else v
    arr = np.asarray(value, dtype=np.float64).ravel()
    if arr.shape != (n,):
        raise ConnectivityError(f"{what} has {arr.size} values for {n} synapses")
    return arr


def _build(post: np.ndarray, pre: np.ndarray, pre_size: int, post_size: int,
           weights: Any, delays: Any, description: str, force_multiple_weights: bool,
           extra: Optional[dict] = None, presorted: bool = False) -> Connectivity:
    """Synapse list (post, pre) -> verified CSR Connectivity.

    Sorts by (post, pre) unless ``presorted``; distributions are sampled after
    sorting so that values follow synapse order.  Array-valued ``weights``/
    ``delays`` must already be aligned with the given (post, pre) order.
    """
    post = np.asarray(post, dtype=np.int64)
    pre = np.asarray(pre, dtype=np.int64)
    order = None
    if not presorted and post.size:
        key = post * pre_size + pre
        if np.any(key[1:] <= key[:-1]):
            order = np.argsort(key, kind="stable")
            post, pre, key = post[order], pre[order], key[order]
            if np.any(key[1:] == key[:-1]):
                raise ConnectivityError(f"{description}: duplicate synapses (the same pre and post ranks twice)")
    nnz = post.size

    def _align(v):
        if isinstance(v, RandomDistribution) or np.ndim(v) == 0:
            return v
        v = np.asarray(v, dtype=np.float64).ravel()
        if v.shape != (nnz,):
            raise ConnectivityError(f"{description}: {v.size} values for {nnz} synapses")
        return v[order] if order is not None else v

    w = _values(_align(weights), nnz, "weights", force_multiple_weights)
    d = _values(_align(delays), nnz, "delays", False)

    if nnz:
        starts = np.flatnonzero(np.concatenate(([True], post[1:] != post[:-1])))
        post_ranks = post[starts]
        row_ptr = np.concatenate((starts, [nnz]))
    else:
        post_ranks = np.zeros(0, dtype=np.int64)
        row_ptr = np.zeros(1, dtype=np.int64)
    conn = Connectivity(
        post_ranks=post_ranks.astype(_IDX), row_ptr=row_ptr.astype(_IDX),
        pre_ranks=pre.astype(_IDX), weights=w, delays=d,
        pre_size=int(pre_size), post_size=int(post_size),
        description=description, extra=dict(extra or {}))
    conn.verify()
    return conn


def _no_self(same_population: bool, allow_self_connections: bool) -> bool:
    """Whether pre == post synapses must be removed."""
    return bool(same_population) and not allow_self_connections


def _check_number(number: Any, what: str) -> int:
    if isinstance(number, bool) or int(number) != number or number < 0:
        raise ConnectivityError(f"{what}: number must be a non-negative integer, got {number!r}")
    return int(number)


# ---------------------------------------------------------------------------
# connectors
# ---------------------------------------------------------------------------
def all_to_all(pre_ranks, post_ranks, pre_size: int, post_size: int,
               weights: Value = 1.0, delays: Value = 0.0, *, same_population: bool = False,
               allow_self_connections: bool = False, force_multiple_weights: bool = False,
               rng: Optional[np.random.Generator] = None) -> Connectivity:
    """Every pre neuron onto every post neuron (minus self-connections unless allowed)."""
    pre = _ranks(pre_ranks, pre_size, "pre")
    post = _ranks(post_ranks, post_size, "post")
    P, Q = np.meshgrid(post, pre, indexing="ij")
    if _no_self(same_population, allow_self_connections):
        keep = P != Q
        P, Q = P[keep], Q[keep]
    return _build(P.ravel(), Q.ravel(), pre_size, post_size, weights, delays,
                  f"all_to_all(allow_self_connections={allow_self_connections})",
                  force_multiple_weights, {"connector": "all_to_all"}, presorted=True)


def one_to_one(pre_ranks, post_ranks, pre_size: int, post_size: int,
               weights: Value = 1.0, delays: Value = 0.0, *, same_population: bool = False,
               force_multiple_weights: bool = False,
               rng: Optional[np.random.Generator] = None) -> Connectivity:
    """``pre_ranks[i] -> post_ranks[i]`` (in the given order; both must have the same length).

    As in ANNarchy, ``i -> i`` inside one population is kept: it is the point
    of the pattern, not an accidental self-connection.
    """
    pre = _ranks(pre_ranks, pre_size, "pre", unique=False)
    post = _ranks(post_ranks, post_size, "post", unique=False)
    if pre.size != post.size:
        raise ConnectivityError(
            f"one_to_one: the pre-synaptic side has {pre.size} neurons and the post-synaptic side "
            f"{post.size}; they must have the same size")
    return _build(post, pre, pre_size, post_size, weights, delays, "one_to_one()",
                  force_multiple_weights, {"connector": "one_to_one"})


def fixed_probability(probability: float, pre_ranks, post_ranks, pre_size: int, post_size: int,
                      weights: Value = 1.0, delays: Value = 0.0, *, same_population: bool = False,
                      allow_self_connections: bool = False, force_multiple_weights: bool = False,
                      rng: Optional[np.random.Generator] = None) -> Connectivity:
    """Each (pre, post) candidate pair is a synapse with probability ``probability``.

    Drawn by geometric skipping over the flattened post x pre candidate grid:
    the gaps between successive synapses are Geometric(p), which gives exactly
    independent Bernoulli(p) pairs at a cost proportional to the number of
    synapses rather than to n_pre * n_post.
    """
    if not 0.0 <= probability <= 1.0:
        raise ConnectivityError(f"fixed_probability: probability must be in [0, 1], got {probability}")
    rng = _rng(rng)
    pre = _ranks(pre_ranks, pre_size, "pre")
    post = _ranks(post_ranks, post_size, "post")
    total = pre.size * post.size
    p = float(probability)
    if p == 0.0 or total == 0:
        flat = np.zeros(0, dtype=np.int64)
    elif p == 1.0:
        flat = np.arange(total, dtype=np.int64)
    else:
        mean = total * p
        chunk = int(mean + 6.0 * np.sqrt(mean * (1.0 - p)) + 16)
        pieces, last = [], -1
        while last < total - 1:
            pos = last + np.cumsum(rng.geometric(p, size=chunk), dtype=np.int64)
            pieces.append(pos)
            last = int(pos[-1])
            chunk = max(16, int((total - 1 - last) * p * 1.5) + 16)
        flat = np.concatenate(pieces)
        flat = flat[: np.searchsorted(flat, total)]
    P, Q = _candidate_pairs(flat, pre, post, pre_size, post_size, _no_self(same_population, allow_self_connections))
    return _build(P, Q, pre_size, post_size, weights, delays,
                  f"fixed_probability(probability={probability})", force_multiple_weights,
                  {"connector": "fixed_probability", "probability": p}, presorted=True)


def _candidate_pairs(flat: np.ndarray, pre: np.ndarray, post: np.ndarray, pre_size: int, post_size: int,
                     no_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """The (post, pre) ranks of the candidates ``flat`` of the post-major grid ``post x pre``,
    without ``post == pre`` when ``no_self``.  Whole populations (ranks ``0 .. size - 1``) need no
    lookup, and without self-connections their diagonal is dropped from ``flat`` first: the same
    pairs, with fewer passes over the 0.3 G candidates of a large network."""
    n_pre = pre.size
    whole_pre, whole_post = _whole(pre, pre_size), _whole(post, post_size)
    if no_self and whole_pre and whole_post and pre_size == post_size:
        flat = flat[flat % (n_pre + 1) != 0]  # the diagonal: post * n + pre with post == pre
        return np.divmod(flat, n_pre)
    rows, cols = np.divmod(flat, n_pre)
    P = rows if whole_post else post[rows]
    Q = cols if whole_pre else pre[cols]
    if no_self:
        keep = P != Q
        P, Q = P[keep], Q[keep]
    return P, Q


def _whole(ranks: np.ndarray, size: int) -> bool:
    """Sorted unique ``ranks`` (``_ranks``) that are every rank of a population of ``size``."""
    return ranks.size == size and (size == 0 or (ranks[0] == 0 and ranks[-1] == size - 1))


def _choose(rng: np.random.Generator, n_cand: int, number: int, skip: int) -> np.ndarray:
    """``number`` distinct sorted indices in ``range(n_cand)``, never ``skip`` (-1: none)."""
    if skip >= 0:
        idx = rng.choice(n_cand - 1, size=number, replace=False)
        idx[idx >= skip] += 1
    else:
        idx = rng.choice(n_cand, size=number, replace=False)
    idx.sort()
    return idx


def fixed_number_pre(number: int, pre_ranks, post_ranks, pre_size: int, post_size: int,
                     weights: Value = 1.0, delays: Value = 0.0, *, same_population: bool = False,
                     allow_self_connections: bool = False, force_multiple_weights: bool = False,
                     rng: Optional[np.random.Generator] = None) -> Connectivity:
    """Each post neuron receives exactly ``number`` distinct pre neurons, drawn without replacement."""
    number = _check_number(number, "fixed_number_pre")
    rng = _rng(rng)
    pre = _ranks(pre_ranks, pre_size, "pre")
    post = _ranks(post_ranks, post_size, "post")
    no_self = _no_self(same_population, allow_self_connections)
    # position of each post rank among the pre candidates (-1: not a candidate)
    pos = np.searchsorted(pre, post)
    is_cand = (pos < pre.size) & (pre[np.minimum(pos, pre.size - 1)] == post) if pre.size else np.zeros(post.size, bool)
    rows_pre = []
    for i, r in enumerate(post):
        skip = int(pos[i]) if (no_self and is_cand[i]) else -1
        available = pre.size - (1 if skip >= 0 else 0)
        if number > available:
            raise ConnectivityError(
                f"fixed_number_pre: post neuron {int(r)} has only {available} possible pre-synaptic "
                f"neurons, cannot draw {number}")
        rows_pre.append(pre[_choose(rng, pre.size, number, skip)])
    Q = np.concatenate(rows_pre) if rows_pre and number else np.zeros(0, np.int64)
    P = np.repeat(post, number)
    return _build(P, Q, pre_size, post_size, weights, delays,
                  f"fixed_number_pre(number={number})", force_multiple_weights,
                  {"connector": "fixed_number_pre", "number": number}, presorted=True)


def fixed_number_post(number: int, pre_ranks, post_ranks, pre_size: int, post_size: int,
                      weights: Value = 1.0, delays: Value = 0.0, *, same_population: bool = False,
                      allow_self_connections: bool = False, force_multiple_weights: bool = False,
                      rng: Optional[np.random.Generator] = None) -> Connectivity:
    """Each pre neuron projects onto exactly ``number`` distinct post neurons."""
    number = _check_number(number, "fixed_number_post")
    rng = _rng(rng)
    pre = _ranks(pre_ranks, pre_size, "pre")
    post = _ranks(post_ranks, post_size, "post")
    no_self = _no_self(same_population, allow_self_connections)
    pos = np.searchsorted(post, pre)
    is_cand = (pos < post.size) & (post[np.minimum(pos, post.size - 1)] == pre) if post.size else np.zeros(pre.size, bool)
    cols_post = []
    for j, r in enumerate(pre):
        skip = int(pos[j]) if (no_self and is_cand[j]) else -1
        available = post.size - (1 if skip >= 0 else 0)
        if number > available:
            raise ConnectivityError(
                f"fixed_number_post: pre neuron {int(r)} has only {available} possible post-synaptic "
                f"neurons, cannot draw {number}")
        cols_post.append(post[_choose(rng, post.size, number, skip)])
    P = np.concatenate(cols_post) if cols_post and number else np.zeros(0, np.int64)
    Q = np.repeat(pre, number)
    return _build(P, Q, pre_size, post_size, weights, delays,
                  f"fixed_number_post(number={number})", force_multiple_weights,
                  {"connector": "fixed_number_post", "number": number})


def from_matrix(weights, pre_ranks, post_ranks, pre_size: int, post_size: int,
                delays: Any = 0.0, pre_post: bool = False) -> Connectivity:
    """Synapses from a dense matrix ``[len(post_ranks), len(pre_ranks)]`` (``[pre, post]`` if ``pre_post``).

    In an object matrix (e.g. a list of lists) ``None`` means "no synapse".
    In a numeric matrix EVERY entry is a synapse -- zeros and the diagonal
    included: the user spelled out each one (as in ANNarchy).  ``delays`` may
    be a scalar, a RandomDistribution or a matrix of the same shape.
    Weights are always per synapse.
    """
    pre = _ranks(pre_ranks, pre_size, "pre", unique=False)
    post = _ranks(post_ranks, post_size, "post", unique=False)
    expected = (pre.size, post.size) if pre_post else (post.size, pre.size)
    try:
        W = np.asarray(weights)
    except ValueError:  # ragged list of lists
        raise ShapeError(f"from_matrix: the weight matrix is ragged; expected shape {expected} "
                         f"({'pre x post' if pre_post else 'post x pre'})") from None
    if W.shape != expected:
        raise ShapeError(f"from_matrix: the weight matrix has shape {W.shape}, expected {expected} "
                         f"({'pre x post' if pre_post else 'post x pre'}: "
                         f"{post.size} post and {pre.size} pre neurons)")
    if pre_post:
        W = W.T
    D = delays
    if not isinstance(delays, RandomDistribution) and np.ndim(delays) != 0:
        D = np.asarray(delays, dtype=object if np.asarray(delays).dtype == object else np.float64)
        if D.shape != expected:
            raise ShapeError(f"from_matrix: the delay matrix has shape {D.shape}, expected {expected}")
        if pre_post:
            D = D.T

    if W.dtype == object:
        mask = np.array([[v is not None for v in row] for row in W], dtype=bool).reshape(W.shape)
        try:
            values = W[mask].astype(np.float64)
        except (TypeError, ValueError):
            raise ConnectivityError("from_matrix: weights must be numbers or None") from None
    elif np.issubdtype(W.dtype, np.number) or W.dtype == bool:
        mask = np.ones(W.shape, dtype=bool)
        values = W.astype(np.float64)[mask]
    else:
        raise ConnectivityError(f"from_matrix: cannot read weights of dtype {W.dtype}")
    ii, jj = np.nonzero(mask)
    if isinstance(D, np.ndarray):
        D = D[mask].astype(np.float64)
    return _build(post[ii], pre[jj], pre_size, post_size, values, D, f"from_matrix(pre_post={pre_post})",
                  True, {"connector": "from_matrix"})


def from_sparse(matrix, pre_ranks, post_ranks, pre_size: int, post_size: int,
                delays: Any = 0.0) -> Connectivity:
    """Synapses from a scipy.sparse matrix ``[len(pre_ranks), len(post_ranks)]`` (ANNarchy's orientation).

    Only stored entries are synapses (explicit zeros included).
    """
    pre = _ranks(pre_ranks, pre_size, "pre", unique=False)
    post = _ranks(post_ranks, post_size, "post", unique=False)
    coo = matrix.tocoo()
    if coo.shape != (pre.size, post.size):
        raise ShapeError(f"from_sparse: the matrix has shape {coo.shape}, expected {(pre.size, post.size)} (pre x post)")
    return _build(post[coo.col], pre[coo.row], pre_size, post_size, np.asarray(coo.data, np.float64),
                  delays, "from_sparse()", True, {"connector": "from_sparse"})


__all__ = ["all_to_all", "one_to_one", "fixed_probability", "fixed_number_pre",
           "fixed_number_post", "from_matrix", "from_sparse"]
