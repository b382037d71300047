"""A state array that lives on the device, seen by the front end as a 1-D numpy array.

The front end reads and writes state through ``net._state(owner, role)`` with numpy idioms
(``arr[0]``, ``arr[:n].copy()``, ``arr[ranks] = values``, ``np.asarray(arr)``).  A
:class:`DeviceArray` answers them with copies of exactly what was asked: an element or a
contiguous range is one copy of that range, fancy indices are a gather or a scatter on the
device; anything else downloads the whole array once (``np.asarray``).  Reads always return host
numpy objects (never views into device memory), as a GPU array would.
"""
from __future__ import annotations

import numbers

import numpy as np


class DeviceArray(np.lib.mixins.NDArrayOperatorsMixin):
    """``size`` elements of ``dtype`` in the device buffer ``buffer`` of ``device``."""

    def __init__(self, device, buffer, dtype, size: int, name: str = ""):
        self.device, self.buffer = device, buffer
        self.dtype, self.size, self.name = np.dtype(dtype), int(size), name

    # numpy's description -------------------------------------------------------
    @property
    def shape(self) -> tuple[int]:
        return (self.size,)

    ndim = 1

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"DeviceArray({self.name!r}, {self.dtype}, size={self.size}, on {self.device.kind})"

    # whole-array copies --------------------------------------------------------
    def get(self) -> np.ndarray:
        """The whole array, downloaded."""
        return self.device.read(self.buffer, 0, self.size)

    def __array__(self, dtype=None, copy=None):
        out = self.get()
        return out if dtype is None else out.astype(dtype, copy=False)

    def copy(self) -> np.ndarray:
        return self.get()

    def tolist(self) -> list:
        return self.get().tolist()

    def reshape(self, *shape) -> np.ndarray:
        return self.get().reshape(*shape)

    def astype(self, dtype, copy=True) -> np.ndarray:
        return self.get().astype(dtype)

    def item(self, *args):
        return self.get().item(*args)

    def __iter__(self):
        return iter(self.get())

    def fill(self, value) -> None:
        self.device.fill(self.buffer, np.asarray(value).astype(self.dtype).item())

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """Arithmetic and comparisons on downloaded values (an ``out=`` on the device is
        written back)."""
        out = kwargs.pop("out", None)
        args = [np.asarray(x) if isinstance(x, DeviceArray) else x for x in inputs]
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            for target in out:
                target[...] = result
            return out[0] if len(out) == 1 else out
        return result

    # indexing --------------------------------------------------------------------
    def _span(self, key):
        """``(start, stop, step)`` of a basic key (an integer, a slice, ``...``), or None."""
        if isinstance(key, tuple):
            if len(key) != 1:
                return None if key else (0, self.size, 1)
            key = key[0]
        if key is Ellipsis:
            return 0, self.size, 1
        if isinstance(key, slice):
            return key.indices(self.size)
        return None

    def _position(self, key) -> int | None:
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        if isinstance(key, (numbers.Integral, np.integer)) and not isinstance(key, (bool, np.bool_)):
            k = int(key)
            if not -self.size <= k < self.size:
                raise IndexError(f"index {k} is out of bounds for {self.name or 'an array'} of size {self.size}")
            return k % self.size if self.size else k
        return None

    def _indices(self, key) -> np.ndarray | None:
        """The positions of an integer or boolean index array, or None for other keys."""
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        if isinstance(key, (list, np.ndarray)) or hasattr(key, "__array__"):
            index = np.asarray(key)
            if index.dtype == bool:
                if index.shape != (self.size,):
                    raise IndexError(f"boolean index of shape {index.shape} for an array of size {self.size}")
                return np.flatnonzero(index)
            if index.dtype.kind in "iu" or index.size == 0:
                index = index.astype(np.int64).reshape(index.shape)
                if index.size and (index.min() < -self.size or index.max() >= self.size):
                    raise IndexError(f"index out of bounds for {self.name or 'an array'} of size {self.size}")
                return np.where(index < 0, index + self.size, index)
        return None

    def __getitem__(self, key):
        k = self._position(key)
        if k is not None:
            return self.device.read(self.buffer, k, k + 1)[0]
        span = self._span(key)
        if span is not None:
            start, stop, step = span
            if step == 1:
                return self.device.read(self.buffer, start, max(start, stop))
            positions = np.arange(start, stop, step)
            return self.device.gather(self.buffer, positions) if positions.size else np.empty(0, self.dtype)
        index = self._indices(key)
        if index is not None:
            flat = self.device.gather(self.buffer, index.reshape(-1)) if index.size else np.empty(0, self.dtype)
            return flat.reshape(index.shape)
        return np.asarray(self)[key]

    def _values(self, value, n: int) -> np.ndarray:
        value = np.asarray(value)
        if value.size == n:
            value = value.reshape(-1)
        return np.broadcast_to(value, (n,)).astype(self.dtype)

    def __setitem__(self, key, value):
        k = self._position(key)
        if k is not None:
            self.device.write(self.buffer, k, self._values(value, 1))
            return
        span = self._span(key)
        if span is not None:
            start, stop, step = span
            if step == 1:
                n = max(0, stop - start)
                if n:
                    self.device.write(self.buffer, start, self._values(value, n))
                return
            index = np.arange(start, stop, step)
        else:
            index = self._indices(key)
            if index is None:  # anything else: a whole download, numpy's assignment, a whole upload
                host = self.get()
                host[key] = value
                self.device.write(self.buffer, 0, host)
                return
            index = index.reshape(-1)
        if index.size:
            self.device.scatter(self.buffer, index, self._values(value, index.size))
