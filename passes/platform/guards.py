"""Guarded kernels: a kernel whose whole body is one ``If`` (no else) on switches that no kernel
writes (``pop.disable()``: ``passes/lowering/activity.py``).

A platform pass maps such a kernel as its body alone, then runs every piece it produced under the
same condition: every thread (or launch) reads the same switch, set only between chunks, so they
all take the same branch.  The mapping of the body is unchanged by the guard.
"""
from __future__ import annotations

import dataclasses

from anncompiler.ir.kernel import (AnyOf, Comment, Expr, If, Kernel, KernelModule, Let,
                                   Load, Reduce, Var, walk_expr)
from anncompiler.ir.kernel_access import written_arrays
from anncompiler.ir.launch import LaunchConfig


def module_writes(km: KernelModule) -> set[str]:
    """Arrays some kernel of ``km`` stores, appends or accumulates into."""
    return set().union(*(written_arrays(k.body) for k in km.kernels))


def kernel_guard(k: Kernel, written: set[str]) -> Expr | None:
    """The guard of ``k``, or None when ``k`` is not a guarded kernel."""
    if len(k.body) != 1 or not isinstance(k.body[0], If) or k.body[0].orelse:
        return None
    cond = k.body[0].cond
    parts = list(walk_expr(cond))
    if any(isinstance(x, (Var, AnyOf)) for x in parts):
        return None
    if {x.array for x in parts if isinstance(x, Load)} & written:
        return None
    return cond


def top_level(body: list) -> list:
    """The statements that platform passes see as a kernel's top level: the body of a kernel-wide
    ``If`` (a guard, see :func:`kernel_guard`), else the body itself.  Kernel-IR passes that leave
    the top level alone use it, so that a guard does not expose the loops under it."""
    if len(body) == 1 and isinstance(body[0], If) and not body[0].orelse:
        return top_level(body[0].then)
    return body


def unguarded(k: Kernel) -> Kernel:
    """``k`` with its guard's body as its body."""
    return dataclasses.replace(k, body=list(k.body[0].then))


def guard_whole(k: Kernel, cond: Expr) -> Kernel:
    k.body = [If(cond, k.body)] if k.body else k.body
    return k


def guard_launches(k: Kernel, config: LaunchConfig, cond: Expr) -> Kernel:
    """``k`` (mapped with ``config``) under ``cond``, its top-level statements kept in place (the
    launch plan names them by position): a grid loop checks the guard in each iteration, other
    statements are wrapped; definitions of locals are left as they are (they write nothing)."""
    body = []
    for pos, s in enumerate(k.body):
        if pos in config.grid_loops:
            body.append(dataclasses.replace(s, body=[If(cond, list(s.body))]))
        elif isinstance(s, (Let, Reduce, Comment)):
            body.append(s)
        else:
            body.append(If(cond, [s]))
    k.body = body
    return k
