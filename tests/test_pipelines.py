"""Pipelines as values: typed options, one class per pass name, plugins, round trips, and the
full pipeline a compile runs (the user's, then the backend's platform passes)."""
import dataclasses
import types
import typing

import pytest

import anncompiler as ann
from anncompiler import plugins
from anncompiler.backends import get_backend, register_backend
from anncompiler.backends.reference import ReferenceBackend
from anncompiler.ir import kernel as K
from anncompiler.passes import (DEFAULT_PIPELINE, Pass, format_pipeline, get_pass, parse_pipeline, register_pass,
                                registered_passes)
from anncompiler.passes.manager import option_types


@register_pass
class MarkFirstKernel(Pass):
    """Adds a comment at the top of the first kernel (a stand-in for a platform pass)."""
    name = "test-mark-first-kernel"
    stage = "kernel"
    text: str = "marked"

    def run(self, module):
        module.kernels.kernels[0].body.insert(0, K.Comment(self.text))


@register_pass
class ManyOptions(Pass):
    """Every kind of option (the round trip below covers it)."""
    name = "test-many-options"
    level: typing.Optional[int] = None
    scale: float | None = 1.5
    mode: typing.Literal["fast", "exact"] = "fast"
    width: typing.Literal[1, 2, 4] = 4
    on: bool = True

    def run(self, module):
        pass


def test_optional_and_choice_options():
    [p] = parse_pipeline("test-many-options{level=3,scale=none,mode=exact,width=2,on=off}")
    assert (p.level, p.scale, p.mode, p.width, p.on) == (3, None, "exact", 2, False)
    assert format_pipeline([p]) == "test-many-options{level=3,scale=none,mode=exact,width=2,on=false}"
    with pytest.raises(ann.PipelineError, match=r"width.*one of 1\|2\|4"):
        parse_pipeline("test-many-options{width=3}")


@register_backend
class SuffixBackend(ReferenceBackend):
    name = "test-suffix"

    def pipeline_suffix(self):
        return "cse,test-mark-first-kernel{text=from-backend}"


def leaky_network(n=5):
    net = ann.Network(dt=1.0, seed=1)
    neuron = ann.Neuron(parameters=dict(tau=10.0, B=1.0), equations="tau * dr/dt + r = B + sum(exc)", name="Leaky")
    pop = net.create(n, neuron)
    net.connect(pop, pop, "exc").fixed_probability(0.5, weights=0.01)
    return net


@pytest.mark.parametrize("text, words", [
    ("lower-to-kernels{lanes=abc}", ["lower-to-kernels", "lanes", "integer", "abc"]),
    ("fuse-connectivity{fuse=maybe}", ["fuse-connectivity", "fuse", "boolean"]),
    ("fuse-connectivity{dense_threshold=x}", ["dense_threshold", "number"]),
    ("discretise-odes{method=euler}", ["discretise-odes", "method", "rk4"]),
    ("lower-to-kernels{lanes=0}", ["lower-to-kernels", "lanes", "at least 1"]),
    ("lower-to-kernels{lanes}", ["lanes", "value"]),
])
def test_bad_option_values_name_the_pass_option_and_type(text, words):
    with pytest.raises(ann.PipelineError) as info:
        parse_pipeline(text)
    for w in words:
        assert w in str(info.value)


def test_passes_are_frozen_values():
    a, b = parse_pipeline("lower-to-kernels{lanes=4},lower-to-kernels{lanes=4}")
    assert a == b and hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.lanes = 8


def _changed(value, kind):
    """A value of ``kind`` other than ``value`` (None when there is none)."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return None if value is not None else _changed(None, [a for a in typing.get_args(kind) if a is not type(None)][0])
    if typing.get_origin(kind) is typing.Literal:
        return next((c for c in typing.get_args(kind) if c != value), None)
    if kind is bool:
        return not value
    if kind is int:
        return (value or 0) + 3
    if kind is float:
        return (value or 0.0) * 0.5 + 0.125
    return "other"


def test_every_registered_pass_round_trips_with_defaults_and_changed_options():
    for name, cls in registered_passes().items():
        default = cls()
        assert parse_pipeline(format_pipeline([default])) == [default], name
        for option, kind in option_types(cls).items():
            value = _changed(getattr(default, option), kind)
            try:
                p = cls(**{option: value})
            except ann.PipelineError:  # a value the pass refuses
                continue
            text = format_pipeline([p, default])
            assert option in text, (name, text)
            assert parse_pipeline(text) == [p, default], (name, text)


def test_a_pass_name_belongs_to_one_class():
    @register_pass
    class First(Pass):
        name = "test-taken-name"

        def run(self, module):
            pass

    assert register_pass(First) is First  # the same class again: fine
    with pytest.raises(ann.PipelineError, match="test-taken-name.*already taken"):
        @register_pass
        class Second(Pass):
            name = "test-taken-name"

            def run(self, module):
                pass
    assert get_pass("test-taken-name") is First
    with pytest.raises(ann.PipelineError, match="already taken"):
        register_pass(type("Cse", (Pass,), {"name": "cse", "run": lambda self, m: None}))


def test_pass_options_need_defaults_and_supported_types():
    with pytest.raises(ann.PipelineError, match="default"):
        register_pass(type("NoDefault", (Pass,), {"name": "test-no-default", "__annotations__": {"x": int}}))
    with pytest.raises(ann.PipelineError, match="supported"):
        register_pass(type("BadType", (Pass,), {"name": "test-bad-type", "__annotations__": {"x": list},
                                                 "x": None}))


def test_plugins_are_loaded_once_and_can_bring_passes(monkeypatch):
    loads = []

    class PluginPass(Pass):
        name = "test-plugin-pass"
        level: int = 1

        def run(self, module):
            pass

    class EntryPoint:
        name = "test-plugin"

        def load(self):
            loads.append(1)
            return PluginPass

    import importlib.metadata
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [EntryPoint()] if group == plugins.GROUP else [])
    monkeypatch.setattr(plugins, "_loaded", None)
    [p] = parse_pipeline("test-plugin-pass{level=2}")
    assert p.level == 2 and "test-plugin-pass" in registered_passes()
    ann.backends.available_backends()
    with pytest.raises(ann.PipelineError):
        get_pass("no-such-pass")
    with pytest.raises(ann.BackendError):
        ann.backends.get_backend("no-such-backend")
    assert loads == [1]


def test_backend_suffix_runs_once_and_is_printed(tmp_path):
    net = leaky_network()
    net.compile(backend="test-suffix", dump_ir=str(tmp_path))
    assert net.pipeline == DEFAULT_PIPELINE + ",test-mark-first-kernel{text=from-backend}"
    assert net.compile_report["pipeline"] == net.pipeline
    assert open(tmp_path / "pipeline.txt").read().strip() == net.pipeline
    text = K.format_module(net.kernel_module)
    assert text.count("from-backend") == 1
    again = leaky_network()
    again.compile(backend="test-suffix", pipeline=net.pipeline)
    assert again.pipeline == net.pipeline
    assert K.format_module(again.kernel_module) == text
    mine = leaky_network()
    mine.compile(backend="test-suffix", pipeline=DEFAULT_PIPELINE + ",test-mark-first-kernel{text=mine}")
    assert mine.pipeline.count("test-mark-first-kernel") == 1
    assert "mine" in K.format_module(mine.kernel_module) and "from-backend" not in K.format_module(mine.kernel_module)


@pytest.mark.parametrize("pipeline", [None, DEFAULT_PIPELINE.replace("lower-to-kernels", "lower-to-kernels{lanes=4}")
                                      .replace("discretise-odes", "discretise-odes{method=midpoint}")])
@pytest.mark.parametrize("threads", [1, 2])
def test_printed_pipeline_reproduces_the_compile(pipeline, threads):
    net = leaky_network()
    net.config(num_threads=threads)
    net.compile(pipeline=pipeline)
    suffix = get_backend("llvm")(num_threads=threads).pipeline_suffix()
    assert net.pipeline == (pipeline or DEFAULT_PIPELINE) + "," + suffix
    assert ("cpu-partition{threads=2}" in net.pipeline) == (threads == 2)
    again = leaky_network()  # one thread asked: the pipeline's own cpu-partition decides
    again.compile(pipeline=net.pipeline)
    assert again.pipeline == net.pipeline
    assert K.format_module(again.kernel_module) == K.format_module(net.kernel_module)
    net.simulate(5.0)
    again.simulate(5.0)
    assert (net.get_population("pop0").r == again.get_population("pop0").r).all()
