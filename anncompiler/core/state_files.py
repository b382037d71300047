"""The file formats of ``save``/``load`` (ANNarchy's): chosen by the file name's extension.

* ``.npz``: numpy's compressed archive, one entry per top-level key (dictionaries pickled
  inside, so loading allows pickles, as ANNarchy does);
* ``.gz``: a gzip-compressed pickle;
* ``.mat``: a Matlab file written with scipy (``pip install ".[sparse]"``), for analysis
  elsewhere: it cannot be loaded back (as in ANNarchy);
* anything else (``.data``, ``.pkl``, ...): a pickle.
"""
from __future__ import annotations

import gzip
import os
import pickle

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError, NotSupportedError


def _extension(filename) -> str:
    return os.path.splitext(os.fspath(filename))[1].lower()


def _check_name(filename, what: str):
    if not isinstance(filename, (str, os.PathLike)) or not os.fspath(filename):
        raise InvalidTypeError(f"{what}: the file name must be a non-empty path, not {filename!r}")


def save_data(filename, data: dict, what: str = "save()") -> None:
    """Write ``data`` to ``filename`` in the format its extension names (folders created)."""
    _check_name(filename, what)
    folder = os.path.dirname(os.fspath(filename))
    if folder:
        os.makedirs(folder, exist_ok=True)
    extension = _extension(filename)
    if extension == ".mat":
        try:
            import scipy.io
        except ImportError:
            raise NotSupportedError(f"{what}: writing .mat files needs scipy: pip install \".[sparse]\"") from None
        scipy.io.savemat(os.fspath(filename), _matlab_ready(data))
    elif extension == ".npz":
        np.savez_compressed(filename, **{key: _npz_entry(value) for key, value in data.items()})
    elif extension == ".gz":
        with gzip.open(filename, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        with open(filename, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)


def load_data(filename, pickle_encoding=None, what: str = "load()") -> dict:
    """The dictionary ``save_data`` wrote; unreadable files raise InvalidValueError."""
    _check_name(filename, what)
    extension = _extension(filename)
    if extension == ".mat":
        raise NotSupportedError(f"{what}: .mat files are written for analysis elsewhere and cannot be loaded "
                                "(as in ANNarchy); save to .npz, .data or .gz to load the state back")
    kwargs = {} if pickle_encoding is None else {"encoding": pickle_encoding}
    try:
        if extension == ".npz":
            with np.load(filename, allow_pickle=True) as archive:
                data = {key: _npz_value(archive[key]) for key in archive.files}
        elif extension == ".gz":
            with gzip.open(filename, "rb") as f:
                data = pickle.load(f, **kwargs)
        else:
            with open(filename, "rb") as f:
                data = pickle.load(f, **kwargs)
    except FileNotFoundError:
        raise InvalidValueError(f"{what}: no file {os.fspath(filename)!r}") from None
    except Exception as e:  # a truncated, foreign or corrupted file: whatever the reader raised
        raise InvalidValueError(f"{what}: cannot read {os.fspath(filename)!r} as a saved state "
                                f"({type(e).__name__}: {e})") from None
    if not isinstance(data, dict):
        raise InvalidValueError(f"{what}: {os.fspath(filename)!r} does not hold a saved state "
                                f"(found {type(data).__name__})")
    return data


def _npz_entry(value):
    """A top-level value as numpy stores it: dictionaries and other objects as 0-d object arrays."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (int, float, bool, np.number)):
        return np.asarray(value)
    boxed = np.empty((), dtype=object)
    boxed[()] = value
    return boxed


def _npz_value(array):
    return array.item() if array.ndim == 0 else array


def _matlab_ready(value):
    """``value`` as scipy.io.savemat takes it: no private keys (Matlab names cannot start with an
    underscore), no None, ragged lists as cell arrays."""
    if isinstance(value, dict):
        return {str(k): _matlab_ready(v) for k, v in value.items()
                if not str(k).startswith("_") and v is not None}
    if isinstance(value, (list, tuple)):
        items = [_matlab_ready(v) for v in value]
        try:
            array = np.asarray(items)
            if array.dtype != object:
                return array
        except ValueError:
            pass
        cells = np.empty(len(items), dtype=object)
        for k, item in enumerate(items):
            cells[k] = item
        return cells
    if isinstance(value, np.ndarray) and value.dtype == object:
        cells = np.empty(value.shape, dtype=object)
        for index, item in np.ndenumerate(value):
            cells[index] = _matlab_ready(item)
        return cells
    return value
