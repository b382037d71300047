"""Kernel IR as text: the printer of the dumps (one readable line per statement, numbers as a
person writes them)."""
from __future__ import annotations

import numpy as np

from .kernel import (Accumulate, AnyOf, Append, BinOp, Call, Cast, Cmp, Comment, Const, Expr, If, Kernel,
                     KernelModule, Let, Load, Logic, Loop, Prefetch, Reduce, Select, Stmt, Store, UnOp, Var)
from .launch import format_launch
from .types import BOOL, DType, is_float


def format_number(value, dtype: DType) -> str:
    """A number as a person writes it (``0.5``, ``-inf``, ``3``), never a numpy repr."""
    if dtype == BOOL:
        return "true" if value else "false"
    if is_float(dtype):
        return repr(float(value))
    return str(int(value))


def format_expr(e: Expr) -> str:
    if isinstance(e, Const):
        return format_number(e.value, e.dtype)
    if isinstance(e, Var):
        return "%" + e.name
    if isinstance(e, Load):
        return f"{e.array}[{format_expr(e.index)}]"
    if isinstance(e, BinOp):
        if e.op in ("min", "max", "pow", "mulhi"):
            return f"{e.op}({format_expr(e.a)}, {format_expr(e.b)})"
        return f"({format_expr(e.a)} {e.op} {format_expr(e.b)})"
    if isinstance(e, UnOp):
        return f"({'-' if e.op == 'neg' else 'not '}{format_expr(e.a)})"
    if isinstance(e, Call):
        return f"{e.fn}({', '.join(format_expr(a) for a in e.args)})"
    if isinstance(e, (Cmp, Logic)):
        return f"({format_expr(e.a)} {e.op} {format_expr(e.b)})"
    if isinstance(e, Select):
        return f"select({format_expr(e.cond)}, {format_expr(e.a)}, {format_expr(e.b)})"
    if isinstance(e, Cast):
        return f"{e.dtype.value}({format_expr(e.a)})"
    if isinstance(e, AnyOf):
        return f"any({e.array}[{format_expr(e.start)} ..+{e.count}])"
    raise TypeError(f"not a kernel expression: {e!r}")


def _format_body(body: list[Stmt], indent: int, out: list[str]) -> None:
    pad = "  " * indent
    for s in body:
        if isinstance(s, Let):
            out.append(f"{pad}%{s.var.name}: {s.var.dtype.value} = {format_expr(s.value)}")
        elif isinstance(s, Store):
            out.append(f"{pad}{s.array}[{format_expr(s.index)}] = {format_expr(s.value)}")
        elif isinstance(s, Loop):
            space = f"  [{s.space}]" if s.space else ""
            space += "  parallel" if s.parallel else ""
            out.append(f"{pad}for %{s.var.name} in {format_expr(s.start)} .. {format_expr(s.stop)}:{space}")
            _format_body(s.body, indent + 1, out)
        elif isinstance(s, If):
            out.append(f"{pad}if {format_expr(s.cond)}:")
            _format_body(s.then, indent + 1, out)
            if s.orelse:
                out.append(f"{pad}else:")
                _format_body(s.orelse, indent + 1, out)
        elif isinstance(s, Prefetch):
            out.append(f"{pad}prefetch {s.array}[{format_expr(s.index)}]")
        elif isinstance(s, Append):
            out.append(f"{pad}append {s.array}[{s.counter}] = {format_expr(s.value)}")
        elif isinstance(s, Accumulate):
            out.append(f"{pad}{s.array}[{format_expr(s.index)}] {s.op}= {format_expr(s.value)}  (accumulate)")
        elif isinstance(s, Reduce):
            space = f"  [{s.space}]" if s.space else ""
            lanes = f", lanes={s.lanes}" if s.lanes != 1 else ""
            out.append(f"{pad}%{s.acc.name}: {s.acc.dtype.value} = reduce({s.op}, {format_expr(s.init)}{lanes}) "
                       f"for %{s.var.name} in {format_expr(s.start)} .. {format_expr(s.stop)}:{space}")
            out.append(f"{pad}  {format_expr(s.value)}")
        elif isinstance(s, Comment):
            out.append(f"{pad}# {s.text}")
        else:
            raise TypeError(f"not a kernel statement: {s!r}")


def format_kernel(k: Kernel) -> str:
    flags = "".join(f", {f}" for f in ("parallel", "barrier") if getattr(k, f))
    flags += f", owner {k.owner}" if k.owner else ""
    out = [f"kernel @{k.name} (phase {k.phase}{flags})" + (f"  # {k.doc}" if k.doc else "") + ":"]
    _format_body(k.body, 1, out)
    return "\n".join(out)


def format_module(m: KernelModule) -> str:
    threads = f" threads={m.num_threads}" if m.num_threads != 1 else ""
    platform = f" platform={m.platform}" if m.platform else " (neutral)"
    out = [f"// kernel module: dt={float(m.dt)!r} float={m.float_type.value}{threads}{platform}"]
    out += [f"// note: {n}" for n in m.notes]
    for a in m.arrays.values():
        init = "" if isinstance(a.init, np.ndarray) else f" = {format_number(a.init, a.dtype)}"
        out.append(f"array {a.name}: {a.dtype.value}[{a.size}] {a.kind}{init}")
    for (owner, role), h in m.handles.items():
        if h.index is not None:
            out.append(f"view {owner}.{role} = {h.array}[{len(h.index)} elements]")
    for k in m.kernels:
        out.append("")
        out.append(format_kernel(k))
    if m.launch:
        out.append("")
        out.extend(format_launch(name, c) for name, c in m.launch.items())
    if m.exit_conditions:
        out.append("")
        for c in m.exit_conditions:
            out.append(f"exit if {format_expr(c)}")
    return "\n".join(out) + "\n"


