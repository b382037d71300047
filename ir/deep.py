"""Run a stage that walks expressions with room for deep ones.

A sum of 10,000 terms is a left-deep tree 10,000 levels deep, and every stage walks
expressions recursively (the parser, sympy, the translation to kernel IR, the IR walkers,
cse, the code generators).  Rather than rewrite each walker, the stages run on a helper
thread with a large C stack and a raised recursion limit; a normal model sees no difference
(the walkers are the same code, so results stay bit-identical).  The thread is kept for
the life of the process: a fresh thread per stage gets a cold malloc arena, which made a
small compile 10% slower.
"""
from __future__ import annotations

import ctypes
import os
import queue
import sys
import threading

#: C stack of the helper thread (reserved, touched only as deep as the recursion goes)
STACK_BYTES = 512 * 2**20
#: Python frames allowed while a deep stage runs (well under 2 kB of C stack each)
RECURSION_LIMIT = 200_000

_submit = threading.Lock()  # one deep stage at a time (the recursion limit is process-wide)
_local = threading.local()
_worker: "_Worker | None" = None


class _Job:
    def __init__(self, fn, args, kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.result: tuple | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.result = (True, self.fn(*self.args, **self.kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller unchanged
            self.result = (False, exc)


class _Worker:
    def __init__(self):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        old = threading.stack_size()
        threading.stack_size(STACK_BYTES)
        try:
            self.thread = threading.Thread(target=self._serve, name="anncompiler-deep", daemon=True)
            self.thread.start()
        finally:
            threading.stack_size(old)

    def _serve(self) -> None:
        _local.deep = True
        while True:
            job = None
            try:
                job = self.jobs.get()
                job.run()
            except BaseException:  # noqa: BLE001 - an interrupt forwarded just as its stage ended
                pass
            finally:
                if job is not None:
                    job.done.set()


def run_deep(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on the deep-stack thread; its result or its exception.

    Re-entrant (a deep stage calling another runs it in place).  A KeyboardInterrupt while
    waiting is forwarded to the stage, which is awaited before the interrupt is re-raised,
    so that no half-done stage keeps running behind the caller's back.
    """
    global _worker
    if getattr(_local, "deep", False):
        return fn(*args, **kwargs)
    job = _Job(fn, args, kwargs)
    with _submit:
        if _worker is None or not _worker.thread.is_alive():
            _worker = _Worker()
        saved = sys.getrecursionlimit()
        sys.setrecursionlimit(max(saved, RECURSION_LIMIT))
        try:
            _worker.jobs.put(job)
            _await(job, _worker.thread.ident)
        finally:
            sys.setrecursionlimit(saved)
    ok, value = job.result if job.result is not None else (False, KeyboardInterrupt())
    job = None
    if ok:
        return value
    try:
        raise value
    finally:
        del value


def _await(job: _Job, ident: int) -> None:
    try:
        while not job.done.wait(0.1):  # a timeout: a pending Ctrl-C is seen while waiting
            pass
    except KeyboardInterrupt:
        raise_in = ctypes.pythonapi.PyThreadState_SetAsyncExc
        raise_in(ctypes.c_ulong(ident), ctypes.py_object(KeyboardInterrupt))
        while not job.done.wait(0.05):
            pass
        raise_in(ctypes.c_ulong(ident), None)  # not delivered (the stage had ended): drop it
        raise


def _after_fork() -> None:
    global _worker, _submit
    _worker, _submit = None, threading.Lock()


os.register_at_fork(after_in_child=_after_fork)
