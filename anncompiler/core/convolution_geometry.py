"""Connectivity of convolution and pooling projections, computed from the populations' geometry.

A convolution is a cross-correlation, ``g(x) = sum_k h(k) f(x + k)``: post-synaptic neuron ``n``
is centred on pre-synaptic coordinates ``c(n)``, and filter element ``k`` (in each filtered
dimension ``d``) reads pre-synaptic coordinate ``c[d] + k[d] - centre(d)``, where ``centre`` is
``size // 2`` for an odd size and ``size // 2 - 1`` for an even one.  By default ``c[d]`` is
``(s - 1) // 2 + s * i`` for post coordinate ``i`` and subsampling ``s = pre[d] / post[d]``.

Each post-synaptic neuron is one row; its synapses are the filter elements that fall inside the
pre-synaptic population, in the filter's (row-major) order, each with the position of its filter
element.  Elements outside are either clamped to the border (``padding='border'``), padded (a
number: the row's *padded* positions), or skipped (``max``/``min`` operations).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NotSupportedError, ShapeError
from anncompiler.ir.connectivity import Connectivity
from anncompiler.ir.shared_weights import SharedWeights

MAX_DIMENSIONS = 4


def filter_centre(size: int) -> int:
    return size // 2 if size % 2 else size // 2 - 1


def as_filter(weights, name: str, bank: bool) -> np.ndarray:
    """The filter (or bank of filters) as a float array, checked."""
    try:
        w = np.array(weights, dtype=float)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"{name}: the filter must be an array of numbers, not {weights!r}") from None
    limit = MAX_DIMENSIONS + (1 if bank else 0)
    if w.ndim == 0 or w.size == 0:
        raise ShapeError(f"{name}: the filter must be a non-empty array with at least one dimension "
                         f"(got shape {w.shape})")
    if bank and w.ndim < 2:
        raise ShapeError(f"{name}: connect_filters() takes a bank of filters, one per index of the first "
                         f"dimension (got shape {w.shape})")
    if w.ndim > limit:
        raise ShapeError(f"{name}: the filter has {w.ndim} dimensions (shape {w.shape}); at most "
                         f"{limit} are supported")
    return w


def _check_padding(padding, name: str):
    if isinstance(padding, str):
        if padding != "border":
            raise InvalidValueError(f"{name}: padding is a number or 'border', not {padding!r}")
        return padding
    if isinstance(padding, bool) or not isinstance(padding, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"{name}: padding is a number or 'border', not {padding!r}")
    return float(padding)


def _sampled_centres(pre, post, dims: int, name: str) -> list[np.ndarray]:
    """Default centres along the first ``dims`` dimensions: ``(s-1)//2 + s*i``."""
    out = []
    for d in range(dims):
        s = pre[d] // post[d] if post[d] else 0
        if s < 1 or s * post[d] != pre[d]:
            raise ShapeError(f"{name}: the pre-synaptic geometry {tuple(pre)} is not a multiple of the "
                             f"post-synaptic one {tuple(post)} in dimension {d} (sub-sampling needs "
                             f"pre = s * post)")
        out.append((s - 1) // 2 + s * np.arange(post[d]))
    return out


def _given_centres(subsampling, count: int, pre, name: str) -> np.ndarray:
    try:
        c = np.array(subsampling)
    except (TypeError, ValueError):
        c = None
    if c is None or c.shape != (count, len(pre)) or not np.issubdtype(c.dtype, np.number):
        raise ShapeError(f"{name}: subsampling must list {count} coordinates of {len(pre)} integers "
                         f"(one centre per post-synaptic position), got {np.shape(subsampling)}")
    if not np.all(c == np.round(c)):
        raise InvalidValueError(f"{name}: subsampling coordinates must be integers")
    c = c.astype(np.int64)
    if np.any(c < 0) or np.any(c >= np.asarray(pre)):
        raise InvalidValueError(f"{name}: a subsampling centre lies outside the pre-synaptic geometry {tuple(pre)}")
    return c


def _grid(axes: list[np.ndarray]) -> np.ndarray:
    """All combinations of ``axes`` in row-major order, as [n, len(axes)]."""
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1).astype(np.int64)


def filter_connectivity(weights: np.ndarray, pre: tuple, post: tuple, *, bank: bool, keep_last_dimension: bool,
                        padding, subsampling, operation: str, delays: float, name: str, source: str):
    """(Connectivity, SharedWeights) of ``connect_filter`` (``bank=False``) or ``connect_filters``."""
    pre, post = tuple(int(x) for x in pre), tuple(int(x) for x in post)
    p, q = len(pre), len(post)
    for what, g in (("pre", pre), ("post", post)):
        if len(g) > MAX_DIMENSIONS:
            raise ShapeError(f"{name}: the {what}-synaptic population has {len(g)} dimensions; at most "
                             f"{MAX_DIMENSIONS} are supported")
    padding = _check_padding(padding, name)
    filters = weights.shape[0] if bank else 1
    shape = weights.shape[1:] if bank else weights.shape
    k = len(shape)
    if bank:
        if keep_last_dimension:
            raise NotSupportedError(f"{name}: keep_last_dimension with a bank of filters is not supported")
        if k != p:
            raise ShapeError(f"{name}: each filter of the bank has {k} dimensions {shape}, the pre-synaptic "
                             f"population {p} {pre}; they must be equal")
        if post[-1] != filters:
            raise ShapeError(f"{name}: {filters} filters need a post-synaptic population whose last dimension "
                             f"has {filters} neurons, but its geometry is {post}")
        spatial = post[:-1]
    else:
        if k > p:
            raise ShapeError(f"{name}: the filter {shape} has more dimensions than the pre-synaptic population "
                             f"{pre}; use connect_filters() for a bank of filters")
        if k < p and not keep_last_dimension:
            raise ShapeError(f"{name}: the filter {shape} has fewer dimensions than the pre-synaptic population "
                             f"{pre}; set keep_last_dimension=True to filter each slice of its last dimension")
        if k < p and (k != p - 1 or q != p or pre[-1] != post[-1]):
            raise ShapeError(f"{name}: with keep_last_dimension the filter has one dimension less than the "
                             f"populations, which have the same number of dimensions and the same last one "
                             f"(filter {shape}, pre {pre}, post {post})")
        spatial = post
    m = len(spatial)
    if m not in (p, p - 1) or m == 0:
        raise ShapeError(f"{name}: cannot convolve pre {pre} with filter {weights.shape} into post {post}")
    if m == p - 1 and k == p and shape[-1] != pre[-1]:
        raise ShapeError(f"{name}: the post-synaptic population has one dimension less than the pre-synaptic "
                         f"one, so the filter's last dimension ({shape[-1]}) must equal the pre-synaptic "
                         f"one ({pre[-1]})")
    n_spatial = int(np.prod(spatial))
    if subsampling is not None:
        centres = _given_centres(subsampling, n_spatial, pre, name)
    else:
        axes = _sampled_centres(pre, spatial, m, name)
        axes += [np.array([filter_centre(shape[d])]) for d in range(m, p)]  # dimensions filtered whole
        centres = _grid(axes)
    offsets = _grid([np.arange(n) - filter_centre(n) for n in shape])        # [K, k]
    K = len(offsets)
    # every (post position, filter element) pair: pre coordinates [n_spatial, K, p]
    coords = np.repeat(centres[:, None, :], K, axis=1)
    coords[:, :, :k] += offsets[None, :, :]
    size = np.asarray(pre)
    inside = np.all((coords >= 0) & (coords < size), axis=2)
    if padding == "border" and operation in ("sum", "mean"):
        coords = np.clip(coords, 0, size - 1)
        inside[:] = True
    ranks = np.ravel_multi_index(tuple(coords.reshape(-1, p).T.clip(0, size[:, None] - 1)), pre).reshape(n_spatial, K)
    element = np.broadcast_to(np.arange(K), (n_spatial, K))
    pad = ~inside if (operation in ("sum", "mean") and padding != "border") else np.zeros_like(inside)
    # post rank = spatial position * filters + filter: rows in post rank order
    pre_ranks = np.stack([ranks] * filters, axis=1)                          # [n_spatial, filters, K]
    w_index = np.stack([element + f * K for f in range(filters)], axis=1)
    keep = np.broadcast_to(inside[:, None, :], pre_ranks.shape)
    padded = np.broadcast_to(pad[:, None, :], pre_ranks.shape)
    counts = keep.reshape(-1, K).sum(axis=1)
    pad_counts = padded.reshape(-1, K).sum(axis=1)
    row_ptr = np.zeros(len(counts) + 1, dtype=np.int32)
    row_ptr[1:] = np.cumsum(counts)
    pad_ptr = np.zeros(len(counts) + 1, dtype=np.int32)
    pad_ptr[1:] = np.cumsum(pad_counts)
    flat_filter = weights.reshape(-1)
    index = w_index[keep].astype(np.int32)
    conn = Connectivity(np.arange(len(counts), dtype=np.int32), row_ptr, pre_ranks[keep].astype(np.int32),
                        flat_filter[index], float(delays), int(np.prod(pre)), int(np.prod(post)),
                        f"convolution(filter {weights.shape}, padding={padding!r})", "csr",
                        {"connector": "convolution"})
    shared = SharedWeights(source, index, weights.copy(),
                           pad_ptr if pad_counts.sum() else None,
                           w_index[padded].astype(np.int32) if pad_counts.sum() else None,
                           0.0 if padding == "border" else padding)
    return conn, shared


def pooling_connectivity(pre: tuple, post: tuple, extent: Optional[tuple], delays: float, name: str):
    """(Connectivity, extent): post-synaptic neuron ``i`` pools the pre-synaptic block starting at ``i * extent`` (in the
    post-synaptic dimensions; from 0 over the whole extent in the others)."""
    pre, post = tuple(int(x) for x in pre), tuple(int(x) for x in post)
    p, q = len(pre), len(post)
    for what, g in (("pre", pre), ("post", post)):
        if len(g) > MAX_DIMENSIONS:
            raise ShapeError(f"{name}: the {what}-synaptic population has {len(g)} dimensions; at most "
                             f"{MAX_DIMENSIONS} are supported")
    if q > p:
        raise ShapeError(f"{name}: the post-synaptic population {post} has more dimensions than the "
                         f"pre-synaptic one {pre}")
    if extent is None:
        if q != p:
            raise ShapeError(f"{name}: without an extent the populations must have the same number of dimensions "
                             f"(pre {pre}, post {post})")
        extent = tuple(pre[d] // post[d] for d in range(p))
    elif not isinstance(extent, (tuple, list)) or not all(
            isinstance(e, (int, np.integer)) and not isinstance(e, bool) and e >= 1 for e in extent):
        raise InvalidValueError(f"{name}: the extent is a tuple of positive integers, not {extent!r}")
    extent = tuple(int(e) for e in extent)
    if len(extent) < p:
        raise ShapeError(f"{name}: the extent {extent} needs one entry per pre-synaptic dimension ({p})")
    for d in range(p):
        if d < q and extent[d] * post[d] != pre[d]:
            raise ShapeError(f"{name}: in dimension {d}, extent {extent[d]} x {post[d]} post-synaptic neurons "
                             f"must equal the {pre[d]} pre-synaptic neurons")
        if d >= q and extent[d] > pre[d]:
            raise ShapeError(f"{name}: in dimension {d}, the extent {extent[d]} exceeds the {pre[d]} "
                             "pre-synaptic neurons")
    starts = _grid([np.arange(post[d]) * extent[d] for d in range(q)] + [np.zeros(1, np.int64)] * (p - q))
    block = _grid([np.arange(extent[d]) for d in range(p)])
    coords = starts[:, None, :] + block[None, :, :]
    ranks = np.ravel_multi_index(tuple(coords.reshape(-1, p).T), pre).astype(np.int32)
    n = len(starts)
    row_ptr = (np.arange(n + 1) * len(block)).astype(np.int32)
    return Connectivity(np.arange(n, dtype=np.int32), row_ptr, ranks, 1.0, float(delays), int(np.prod(pre)),
                        int(np.prod(post)), f"pooling(extent={extent})", "csr", {"connector": "pooling"}), extent
