"""Pass base class, registry, pipelines as strings, and the pass manager.

A pass is a small frozen dataclass whose typed fields are its options; ``run(module)``
transforms the compilation module in place.  Pipelines are strings such as
``"check-model,discretise-odes{method=rk4},lower-to-kernels"`` that parse to
pass instances and print back to the same string.  The manager runs the
verifier of every stage after every pass and calls instrumentations before
and after each pass (IR dumps and timings are instrumentations).
"""
from __future__ import annotations

import dataclasses
import re
import time
import types
import typing
from typing import Callable, ClassVar

from anncompiler.errors import AnnCompilerError, PipelineError
from anncompiler.ir.module import CompilationModule, verify

_REGISTRY: dict[str, type["Pass"]] = {}


@dataclasses.dataclass(frozen=True)
class Pass:
    """Base of all passes; subclasses set ``name`` and implement ``run``.

    Frozen, so that a pipeline is a value: the same text gives equal passes.
    Options are typed fields with defaults (``bool``, ``int``, ``float``,
    ``str``, ``Literal[...]`` or ``Optional[...]`` of those); a
    ``__post_init__`` may check their values and raise PipelineError.
    """
    name: ClassVar[str] = ""
    #: the stage a pass needs ('model', 'network', 'kernel'); informative
    stage: ClassVar[str] = "network"

    def run(self, module: CompilationModule) -> None:
        raise NotImplementedError

    def require_at_least(self, **least) -> None:
        """For ``__post_init__``: a PipelineError naming the option that is below its least value."""
        for option, bound in least.items():
            if getattr(self, option) < bound:
                raise PipelineError(f"pass '{self.name}': option '{option}' must be at least {bound}, "
                                    f"got {getattr(self, option)}")

    def spec(self) -> str:
        """The pipeline text of this pass with its non-default options."""
        opts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                opts.append(f"{f.name}={_format_value(self.name, f.name, value)}")
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")


def option_types(cls: type[Pass]) -> dict[str, object]:
    """Option name -> its type (annotations resolved, also under ``from __future__ import annotations``)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:
        raise PipelineError(f"pass '{cls.name}': cannot resolve the option types ({exc})") from None
    return {f.name: hints.get(f.name, str) for f in dataclasses.fields(cls)}


def _is_optional(kind) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in typing.get_args(kind)


def _check_type(cls, option: str, kind) -> None:
    if _is_optional(kind):
        rest = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(rest) == 1:
            return _check_type(cls, option, rest[0])
    elif typing.get_origin(kind) is typing.Literal:
        if all(isinstance(c, (str, int, float)) for c in typing.get_args(kind)):
            return
    elif kind in (bool, int, float, str):
        return
    raise PipelineError(f"pass '{cls.name}': option '{option}' has type {kind!r}; "
                        "supported: bool, int, float, str, Literal[...], Optional[...]")


def type_name(kind) -> str:
    """How an option type reads in messages and in ``python -m anncompiler passes``."""
    if _is_optional(kind):
        rest = [a for a in typing.get_args(kind) if a is not type(None)]
        return f"{type_name(rest[0])} or none"
    if typing.get_origin(kind) is typing.Literal:
        return "one of " + "|".join(str(c) if c != "" else '""' for c in typing.get_args(kind))
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(kind, str(kind))


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Class decorator: make a pass available by its ``name`` in pipelines.

    A name belongs to one pass: registering another class under it is an error
    (the same definition executed again, e.g. a module reloaded, replaces it)."""
    if not cls.name:
        raise PipelineError(f"pass class {cls.__name__} has no name")
    if "__dataclass_fields__" not in cls.__dict__:
        cls = dataclasses.dataclass(frozen=True)(cls)
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING:
            raise PipelineError(f"pass '{cls.name}': option '{f.name}' needs a default value")
    for option, kind in option_types(cls).items():
        _check_type(cls, option, kind)
    old = _REGISTRY.get(cls.name)
    if old is not None and old is not cls and \
            (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
        raise PipelineError(f"pass name '{cls.name}' is already taken by {old.__module__}.{old.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def registered_passes() -> dict[str, type[Pass]]:
    """Every pass by name, the built-in ones and those of plugins."""
    from anncompiler.plugins import load_plugins
    load_plugins()
    return dict(_REGISTRY)


def get_pass(name: str) -> type[Pass]:
    if name not in _REGISTRY:
        from anncompiler.plugins import load_plugins
        load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise PipelineError(f"unknown pass '{name}'; registered passes: {', '.join(sorted(_REGISTRY))}") from None


_ITEM = re.compile(r"\s*([A-Za-z0-9_\-]+)\s*(?:\{([^{}]*)\})?\s*(?:,|$)")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _convert(text: str, kind):
    """``text`` as a value of ``kind``; ValueError when it is not one."""
    if _is_optional(kind):
        if text.lower() == "none":
            return None
        return _convert(text, next(a for a in typing.get_args(kind) if a is not type(None)))
    if typing.get_origin(kind) is typing.Literal:
        for choice in typing.get_args(kind):
            try:
                if _convert(text, type(choice)) == choice:
                    return choice
            except ValueError:
                pass
        raise ValueError(text)
    if kind is bool:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ValueError(text)
    if kind in (int, float):
        return kind(text)
    return text


def _format_value(pass_name: str, option: str, value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, float) else str(value)
    if any(c in text for c in ",{}=") or text != text.strip():
        raise PipelineError(f"pass '{pass_name}': option '{option}' = {text!r} cannot be written in a pipeline")
    return text


def parse_pipeline(text: str) -> list[Pass]:
    """``"a,b{opt=1},c"`` -> pass instances; PipelineError names what is wrong."""
    passes, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _ITEM.match(text, pos)
        if not m or m.end() == pos:
            raise PipelineError(f"malformed pipeline at column {pos}: {text!r}")
        cls = get_pass(m.group(1))
        kwargs = {}
        types = option_types(cls)
        for item in filter(None, (m.group(2) or "").split(",")):
            key, eq, value = item.partition("=")
            key = key.strip()
            if key not in types:
                raise PipelineError(f"pass '{cls.name}' has no option '{key}' (options: {', '.join(types) or 'none'})")
            if not eq:
                raise PipelineError(f"pass '{cls.name}': option '{key}' needs a value ({key}=...)")
            try:
                kwargs[key] = _convert(value.strip(), types[key])
            except ValueError:
                raise PipelineError(f"pass '{cls.name}': option '{key}' expects {type_name(types[key])}, "
                                    f"got {value.strip()!r}") from None
        passes.append(cls(**kwargs))
        pos = m.end()
    return passes


def format_pipeline(passes: list[Pass]) -> str:
    """The text of a pipeline; ``parse_pipeline`` gives back equal passes."""
    return ",".join(p.spec() for p in passes)


class Instrumentation:
    """Hooks called by the pass manager around each pass."""

    def before_pipeline(self, module: CompilationModule) -> None:
        pass

    def before_pass(self, p: Pass, module: CompilationModule) -> None:
        pass

    def after_pass(self, p: Pass, module: CompilationModule) -> None:
        pass


class TimingInstrumentation(Instrumentation):
    """Records the wall time of every pass (``module.timings``)."""

    def before_pass(self, p, module):
        self._t0 = time.perf_counter()

    def after_pass(self, p, module):
        module.timings.append((p.name, time.perf_counter() - self._t0))


class PassManager:
    def __init__(self, passes: list[Pass] | str, instrumentations: list[Instrumentation] = (),
                 verify_each: bool = True):
        self.passes = parse_pipeline(passes) if isinstance(passes, str) else list(passes)
        self.instrumentations = list(instrumentations)
        self.verify_each = verify_each

    @property
    def pipeline(self) -> str:
        return format_pipeline(self.passes)

    def add_instrumentation(self, inst: Instrumentation) -> None:
        self.instrumentations.append(inst)

    def run(self, module: CompilationModule) -> CompilationModule:
        for inst in self.instrumentations:
            inst.before_pipeline(module)
        for p in self.passes:
            for inst in self.instrumentations:
                inst.before_pass(p, module)
            try:
                p.run(module)
            except AnnCompilerError:
                raise
            except Exception as exc:  # a bug in a pass: say which one
                raise PipelineError(f"pass '{p.name}' failed: {type(exc).__name__}: {exc}") from exc
            if self.verify_each:
                verify(module, after=p.name)
            for inst in self.instrumentations:
                inst.after_pass(p, module)
        return module


Callback = Callable[[Pass, CompilationModule], None]
