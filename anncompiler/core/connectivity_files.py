"""Connectivity to and from files: ``save_connectivity``/``from_file`` and Matrix Market input;
``sparse_random_matrix`` for ``from_sparse``.

``save_connectivity(filename)`` writes the synapses dendrite by dendrite (post rank, its pre
ranks, weights and delays in ms): a NumPy ``.npz`` archive when the name ends in ``.npz``, else
a pickled dictionary (gzip-compressed when the name ends in ``.gz``).  ``from_file`` reads both.
"""
from __future__ import annotations

import gzip
import os
import pickle

import numpy as np

from ..errors import AnnCompilerError, ConnectivityError
from ..ir.connectivity import Connectivity
from .patterns import LILConnectivity


def connectivity_record(c: Connectivity, weights: np.ndarray, name: str) -> dict:
    """The saved form of a projection's synapses (weights as they are now)."""
    rows = [(int(c.row_ptr[k]), int(c.row_ptr[k + 1])) for k in range(c.n_rows)]
    delays = np.broadcast_to(np.asarray(c.delays, dtype=np.float64), (c.nb_synapses,))
    return {"name": name, "post_ranks": [int(r) for r in c.post_ranks],
            "pre_ranks": [c.pre_ranks[a:b].tolist() for a, b in rows],
            "w": [weights[a:b].tolist() for a, b in rows],
            "delay": [delays[a:b].tolist() for a, b in rows],
            "size": c.n_rows, "nb_synapses": c.nb_synapses}


def save_connectivity(record: dict, filename: str) -> None:
    if filename.endswith(".npz"):
        flat = {"post_ranks": np.asarray(record["post_ranks"], dtype=np.int64),
                "row_lengths": np.asarray([len(r) for r in record["pre_ranks"]], dtype=np.int64),
                "pre_ranks": np.asarray([x for r in record["pre_ranks"] for x in r], dtype=np.int64),
                "w": np.asarray([x for r in record["w"] for x in r], dtype=np.float64),
                "delay": np.asarray([x for r in record["delay"] for x in r], dtype=np.float64)}
        np.savez_compressed(filename, **flat)
        return
    opener = gzip.open if filename.endswith(".gz") else open
    with opener(filename, "wb") as f:
        pickle.dump(record, f, protocol=pickle.HIGHEST_PROTOCOL)


def load_connectivity(filename: str, pickle_encoding=None) -> LILConnectivity:
    """What ``save_connectivity`` wrote, as a LILConnectivity."""
    if not os.path.isfile(filename):
        raise ConnectivityError(f"from_file: no file {filename!r}")
    try:
        if filename.endswith(".npz"):
            with np.load(filename) as data:
                bounds = np.concatenate(([0], np.cumsum(data["row_lengths"])))
                rows = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
                record = {"post_ranks": data["post_ranks"].tolist(),
                          "pre_ranks": [data["pre_ranks"][s].tolist() for s in rows],
                          "w": [data["w"][s].tolist() for s in rows],
                          "delay": [data["delay"][s].tolist() for s in rows]}
        else:
            opener = gzip.open if filename.endswith(".gz") else open
            with opener(filename, "rb") as f:
                record = pickle.load(f, **({"encoding": pickle_encoding} if pickle_encoding else {}))
        lil = LILConnectivity()
        for rk, ranks, w, d in zip(record["post_ranks"], record["pre_ranks"], record["w"], record["delay"]):
            lil.add(rk, ranks, w, d)
    except ConnectivityError:
        raise
    except Exception as exc:
        raise ConnectivityError(f"from_file: {filename!r} is not a saved connectivity ({exc})") from None
    return lil


def read_matrix_market(filename: str) -> LILConnectivity:
    """A Matrix Market coordinate file (``%%MatrixMarket matrix coordinate real|integer|pattern
    general``): row i is post-synaptic neuron i-1, column j pre-synaptic neuron j-1, the value
    the weight (1 for ``pattern``)."""
    try:
        with open(filename) as f:
            header = f.readline().split()
            if len(header) < 5 or header[0] != "%%MatrixMarket" or header[2] != "coordinate":
                raise ConnectivityError(f"from_matrix_market: {filename!r} is not a Matrix Market coordinate file")
            field, symmetry = header[3].lower(), header[4].lower()
            if field not in ("real", "integer", "pattern") or symmetry != "general":
                raise ConnectivityError(f"from_matrix_market: {field} {symmetry} matrices are not supported "
                                        "(real, integer or pattern; general)")
            line = f.readline()
            while line.startswith("%"):
                line = f.readline()
            n_rows, n_cols, nnz = (int(x) for x in line.split())
            table = np.loadtxt(f, ndmin=2) if nnz else np.zeros((0, 3))
    except OSError as exc:
        raise ConnectivityError(f"from_matrix_market: cannot read {filename!r} ({exc})") from None
    except ValueError as exc:
        raise ConnectivityError(f"from_matrix_market: malformed file {filename!r} ({exc})") from None
    if table.shape[0] != nnz:
        raise ConnectivityError(f"from_matrix_market: {filename!r} announces {nnz} entries, holds {table.shape[0]}")
    post, pre = table[:, 0].astype(np.int64) - 1, table[:, 1].astype(np.int64) - 1
    w = table[:, 2] if field != "pattern" else np.ones(nnz)
    if nnz and (post.min() < 0 or pre.min() < 0 or post.max() >= n_rows or pre.max() >= n_cols):
        raise ConnectivityError(f"from_matrix_market: an entry of {filename!r} lies outside its {n_rows}x{n_cols} size")
    lil = LILConnectivity()
    for rk in np.unique(post):
        mine = post == rk
        lil.add(int(rk), pre[mine], w[mine])
    return lil


def sparse_random_matrix(pre: int, post: int, proba: float, weights):
    """A scipy ``lil_matrix`` of shape (pre, post) whose entries exist with probability ``proba``,
    of value ``weights`` (a number or a distribution sampled per entry): the input of
    ``Projection.from_sparse``."""
    try:
        from scipy.sparse import lil_matrix
    except ImportError:
        raise AnnCompilerError("sparse_random_matrix needs scipy: pip install 'anncompiler[sparse]'") from None
    from .random import RandomDistribution
    if not 0.0 <= proba <= 1.0:
        raise ConnectivityError(f"sparse_random_matrix: proba must be in [0, 1], got {proba!r}")
    rng = np.random.default_rng()
    matrix = lil_matrix((int(pre), int(post)))
    for i in range(int(pre)):
        cols = np.sort(rng.choice(int(post), size=rng.binomial(int(post), proba), replace=False))
        values = weights.get_values(len(cols)) if isinstance(weights, RandomDistribution) \
            else np.full(len(cols), float(weights))
        matrix.rows[i] = cols.tolist()
        matrix.data[i] = np.asarray(values, dtype=np.float64).tolist()
    return matrix


__all__ = ["connectivity_record", "save_connectivity", "load_connectivity", "read_matrix_market",
           "sparse_random_matrix"]
