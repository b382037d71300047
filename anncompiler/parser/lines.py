"""Text level: turn the user's equation argument into statements.

ANNarchy accepts a multi-line string, a list of strings or ``Variable``
objects; everything is brought back to lines, split on newlines and ``;``,
comments dropped, continuation lines (no ``=``) glued to the previous one,
and the flag tail after the last ``:`` separated from the equation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from anncompiler.errors import EquationSyntaxError, FlagError

FLAG_WORDS = {
    "population", "postsynaptic", "projection",
    "explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4",
    "runge-kutta4", "exact", "event-driven",
    "int", "bool", "float",
    "unless_post", "unless_refractory",
}
_KEY_RE = re.compile(r"^\s*(init|min|max)\s*=(.*)$", re.S)


@dataclass
class Statement:
    """One logical equation: ``body`` without flags, ``source`` as written."""
    body: str
    source: str
    flags: dict = field(default_factory=dict)   # raw flag items: word -> True, key -> text
    objects: list = field(default_factory=list)  # opaque init objects (from Variable)


def to_text(value: Any, objects: Optional[list] = None) -> str:
    """Normalise str / list[str | Variable] / Variable / None to one text.

    A ``Variable`` whose ``init`` is an object (a distribution) is serialised
    with a placeholder ``__obj<k>__`` so the object itself is kept.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if hasattr(value, "_to_string") and hasattr(value, "equation"):
        return _variable_text(value, objects)
    if isinstance(value, (list, tuple)):
        return "\n".join(to_text(v, objects) for v in value)
    raise EquationSyntaxError(f"equations must be a string, a list or a Variable, not {type(value).__name__}")


def _variable_text(var, objects) -> str:
    init = var.init
    if objects is not None and init is not None and not isinstance(init, (int, float, bool, str)):
        objects.append(init)
        var = type(var)(var.equation, None, var.min, var.max, var.method, var.locality, var.type)
        text = var._to_string()
        flag = f"init=__obj{len(objects) - 1}__"
        return text + (", " + flag if " : " in text and _flag_tail(text) is not None else " : " + flag)
    if isinstance(init, str):  # Variable(init='tau') -> init=tau, not init='tau'
        var = type(var)(var.equation, None, var.min, var.max, var.method, var.locality, var.type)
        text = var._to_string()
        return text + (", " if " : " in text and _flag_tail(text) is not None else " : ") + f"init={init}"
    return var._to_string()


def check_parens(text: str) -> Optional[int]:
    """Column of the first unmatched parenthesis, or None when balanced."""
    stack = []
    for i, c in enumerate(text):
        if c == "(":
            stack.append(i)
        elif c == ")":
            if not stack:
                return i
            stack.pop()
    return stack[0] if stack else None


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses."""
    parts, depth, cur = [], 0, []
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


def _flag_tail(text: str) -> Optional[tuple[str, str]]:
    """``(body, tail)`` when what follows the last ``:`` looks like flags."""
    k = text.rfind(":")
    if k < 0:
        return None
    tail = text[k + 1:]
    items = [s.strip() for s in split_top(tail)]
    if any(s in FLAG_WORDS or _KEY_RE.match(s) for s in items):
        return text[:k], tail
    return None


def parse_flags(tail: str) -> dict:
    """Flag tail -> dict; unknown words raise FlagError (caller adds context)."""
    flags = {}
    for item in split_top(tail):
        s = item.strip()
        if not s:
            continue
        m = _KEY_RE.match(s)
        if m:
            value = m.group(2).strip()
            if not value:
                raise FlagError(f"flag '{m.group(1)}=' has no value", name=m.group(1))
            flags[m.group(1)] = value
        elif s in FLAG_WORDS:
            flags[s] = True
        else:
            raise FlagError(f"unknown flag '{s}'", name=s)
    return flags


def assignment_ops(text: str) -> list[tuple[int, str]]:
    """Positions and operators (``=``, ``+=``, ...) of assignments outside comparisons."""
    found = []
    n = len(text)
    for i, c in enumerate(text):
        if c != "=":
            continue
        prev = text[i - 1] if i > 0 else ""
        nxt = text[i + 1] if i + 1 < n else ""
        if (prev and prev in "<>!=") or nxt == "=":
            continue
        if prev and prev in "+-*/":
            found.append((i - 1, prev + "="))
        else:
            found.append((i, "="))
    return found


def _strip_flags(line: str) -> str:
    ft = _flag_tail(line)
    return ft[0] if ft else line


def split_statements(value: Any, kind_of_lines: str = "equation") -> list[Statement]:
    """Split equations (any accepted form) into statements with their flags."""
    objects: list = []
    text = to_text(value, objects)
    pieces = []
    for raw in text.splitlines():
        raw = raw.split("#", 1)[0]
        pieces.extend(p.strip() for p in raw.split(";"))
    groups: list[list[str]] = []
    for p in pieces:
        if not p:
            continue
        if groups and not assignment_ops(_strip_flags(p)):
            groups[-1].append(p)
        else:
            groups.append([p])
    out = []
    for g in groups:
        source = " ".join(g)
        ft = _flag_tail(source)
        body, flags = source, {}
        if ft is not None:
            body = ft[0]
            try:
                flags = parse_flags(ft[1])
            except FlagError as e:
                raise FlagError(e.reason, equation=source, name=e.name,
                                column=source.rfind(e.name) if e.name else None) from None
        out.append(Statement(body.strip(), source, flags, objects))
    return out


def join_lines(value: Any) -> str:
    """A one-expression argument (spike, psp, ...) as one line, comments removed."""
    text = to_text(value)
    return " ".join(line.split("#", 1)[0].strip() for line in text.splitlines()).strip()
