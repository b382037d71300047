"""The on-disk caches of compiled code (llvm objects, CUDA PTX, host-device libraries) stay
under a size limit.

Each entry is one or two files named by a content hash, so a cache only grows: every model
variant a user compiles adds its object code (up to a few MB for a large network) for good.  A
hit refreshes its files' modification time, and after each store the least recently used files
go until the directory holds at most 80 % of ``limit_bytes()``: ``ANNC_CACHE_MAX_MB`` (default
:data:`DEFAULT_MAX_MB`; ``0``: no limit).  A removed entry only costs a compile the next time.
"""
from __future__ import annotations

import os

#: the default size limit of one cache directory, in MiB
DEFAULT_MAX_MB = 512
#: a pruned cache keeps this fraction of the limit, so that pruning does not run at every store
KEEP = 0.8


def limit_bytes() -> int:
    """The size limit in bytes (0: none); a malformed ``ANNC_CACHE_MAX_MB`` gives the default."""
    try:
        mb = float(os.environ.get("ANNC_CACHE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return max(0, int(mb * 1024 * 1024))


def touch(*paths: str) -> None:
    """Mark cache files as just used (a hit)."""
    for path in paths:
        try:
            os.utime(path)
        except OSError:
            pass


def prune(directory: str, limit: int | None = None) -> int:
    """Remove the least recently used files of ``directory`` (recursively) while it holds more
    than ``limit`` bytes (default :func:`limit_bytes`), down to :data:`KEEP` of it; files being
    written (``.tmp`` in their name) stay.  Returns the number of files removed."""
    limit = limit_bytes() if limit is None else limit
    if limit <= 0:
        return 0
    files, total = [], 0
    for root, _, names in os.walk(directory):
        for name in names:
            if ".tmp" in name:  # being written (``key.o.PID.tmp``, ``key.so.PID.tmp.cpp``)
                continue
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, path))
            total += st.st_size
    if total <= limit:
        return 0
    removed = 0
    for _, size, path in sorted(files):
        if total <= KEEP * limit:
            break
        try:
            os.remove(path)
        except OSError:
            continue
        total -= size
        removed += 1
    return removed
