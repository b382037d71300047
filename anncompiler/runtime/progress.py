"""The progress bar of ``simulate()`` (tqdm, the optional ``progress`` extra).

``net.config(progress=...)``: ``True`` shows a bar for every ``simulate()``, ``False`` never,
``None`` (the default) only when standard error is a terminal and the run turns out long: the
bar appears once a run has taken more than :data:`AUTO_AFTER_SECONDS` with at least as long
expected to remain.  The bar moves between two chunks of native steps (the only time Python runs
during a simulation), so it costs nothing inside the step loop.
"""
from __future__ import annotations

import sys
import time

from anncompiler.errors import InvalidValueError, NotSupportedError

#: in automatic mode, a run gets a bar after this much wall time (s) if it is not nearly done
AUTO_AFTER_SECONDS = 1.0


def check_setting(value):
    """``progress`` as configured: True, False or None (automatic)."""
    if value is not None and not isinstance(value, bool):
        raise InvalidValueError(f"net.config(progress=...) takes True, False or None (automatic), not {value!r}")
    return value


def _tqdm(required: bool):
    try:
        from tqdm import tqdm
    except ImportError:
        if required:
            raise NotSupportedError("net.config(progress=True) needs tqdm: pip install anncompiler[progress] "
                                    "(or pip install tqdm)") from None
        return None
    return tqdm


class Progress:
    """Follows one run of ``n_steps`` steps; ``advance(done)`` after each chunk, ``close()`` at
    the end (also after an interruption)."""

    def __init__(self, setting, n_steps: int, dt: float, stream=None):
        self.setting, self.n_steps, self.dt = setting, n_steps, dt
        self.stream = sys.stderr if stream is None else stream
        self.bar = None
        self.done = 0
        self.start = time.perf_counter()
        self.tqdm = None  # imported when a bar opens: importing tqdm costs ~10 ms per first run
        if setting is True:
            self.tqdm = _tqdm(required=True)
            self._open()

    def _interactive(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty and isatty())
        except (ValueError, OSError):  # a closed stream
            return False

    def _open(self):
        self.bar = self.tqdm(total=self.n_steps * self.dt, unit="ms", desc="simulate", file=self.stream,
                             initial=self.done * self.dt, leave=False,
                             bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.6g}/{total:.6g} ms "
                                        "[{elapsed}<{remaining}]")

    def advance(self, done: int):
        """``done`` more steps have run."""
        self.done += done
        if self.bar is None and self.setting is None and self.done < self.n_steps:
            elapsed = time.perf_counter() - self.start
            remaining = elapsed * (self.n_steps - self.done) / max(1, self.done)
            if elapsed > AUTO_AFTER_SECONDS and remaining > AUTO_AFTER_SECONDS and self._interactive():
                self.tqdm = _tqdm(required=False)
                if self.tqdm is not None:
                    self._open()
                    return
        if self.bar is not None:
            self.bar.update(done * self.dt)

    @property
    def shown(self) -> bool:
        return self.bar is not None

    def close(self):
        if self.bar is not None:
            self.bar.close()
