"""Pass base class, registry, pipelines as strings, and the pass manager.

A pass is a small dataclass whose fields are its options; ``run(module)``
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
from typing import Callable, ClassVar

from anncompiler.errors import AnnCompilerError, PipelineError
from anncompiler.ir.module import CompilationModule, verify

_REGISTRY: dict[str, type["Pass"]] = {}


@dataclasses.dataclass
class Pass:
    """Base of all passes; subclasses set ``name`` and implement ``run``."""
    name: ClassVar[str] = ""
    #: the stage a pass needs ('model', 'network', 'kernel'); informative
    stage: ClassVar[str] = "network"

    def run(self, module: CompilationModule) -> None:
        raise NotImplementedError

    def spec(self) -> str:
        """The pipeline text of this pass with its non-default options."""
        opts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                opts.append(f"{f.name}={value}")
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Class decorator: make a pass available by its ``name`` in pipelines."""
    if not cls.name:
        raise PipelineError(f"pass class {cls.__name__} has no name")
    if not dataclasses.is_dataclass(cls) or "__dataclass_fields__" not in cls.__dict__:
        cls = dataclasses.dataclass(cls)
    _REGISTRY[cls.name] = cls
    return cls


def registered_passes() -> dict[str, type[Pass]]:
    return dict(_REGISTRY)


def get_pass(name: str) -> type[Pass]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise PipelineError(f"unknown pass '{name}'; registered passes: {', '.join(sorted(_REGISTRY))}") from None


_ITEM = re.compile(r"\s*([A-Za-z0-9_\-]+)\s*(?:\{([^{}]*)\})?\s*(?:,|$)")


def _convert(text: str, field: dataclasses.Field):
    kind = field.type if isinstance(field.type, type) else str(field.type)
    if kind in (bool, "bool"):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise PipelineError(f"option {field.name} expects a boolean, got {text!r}")
    if kind in (int, "int"):
        return int(text)
    if kind in (float, "float"):
        return float(text)
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
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for item in filter(None, (m.group(2) or "").split(",")):
            key, _, value = item.partition("=")
            key = key.strip()
            if key not in fields:
                raise PipelineError(f"pass '{cls.name}' has no option '{key}' (options: {', '.join(fields) or 'none'})")
            kwargs[key] = _convert(value.strip(), fields[key])
        passes.append(cls(**kwargs))
        pos = m.end()
    return passes


def format_pipeline(passes: list[Pass]) -> str:
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
