"""The front end's per-synapse weights and delays, lent to a compile.

The network IR holds a copy of each projection's connectivity whose arrays are the user's own
(``build_network_ir``).  The lowering replaces them, in that copy, by views of the kernel module
(``ir/compiled_values.py``) as soon as the module holds the values; for this to free the arrays
during the compile, when its memory peaks, the front end must not hold them too.  So it lends
them: while the compile runs, its connectivity reads them through the IR's copy, and when the
compile ends it takes back what the copy holds then, the same array or a view that gives the
same values.  A failed compile gives back arrays (a view would keep the failed module alive).
"""
from __future__ import annotations

import numpy as np

from anncompiler.ir.compiled_values import CompiledValues

FIELDS = ("weights", "delays")


class _Lent:
    """A front-end connectivity's ``field`` while the compile holds it: read through ``holder``."""
    ndim = 1

    def __init__(self, holder, field: str, like):
        self.holder, self.field, self.shape, self.dtype = holder, field, np.shape(like), np.dtype(like.dtype)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(getattr(self.holder, self.field), dtype=dtype)


class LentValues:
    """What one compile borrowed from the front end; :meth:`settle` gives it back."""

    def __init__(self, net, network_ir):
        copies = {e.name: e.connectivity for e in network_ir.projections}
        self.loans = []
        for proj in net._projections:
            front, held = proj.connectivity, copies.get(proj.name)
            if front is None or held is None or held is front:
                continue
            for field in FIELDS:
                value = getattr(front, field)
                if np.ndim(value) == 1 and getattr(held, field) is value:
                    setattr(front, field, _Lent(held, field, value))
                    self.loans.append((front, held, field))

    def settle(self, failed: bool) -> None:
        for front, held, field in self.loans:
            if isinstance(getattr(front, field), _Lent):  # not replaced by the user meanwhile
                value = getattr(held, field)
                setattr(front, field, np.asarray(value) if failed and isinstance(value, CompiledValues) else value)
        self.loans = []
