"""From the user's Network to running native code: build the network IR, run passes, emit, load.

This is the only place where the front end meets the stages: it turns
Population/Projection/Monitor objects into a network IR, runs the pass
pipeline (the given one, then the backend's platform passes; with dump and
timing instrumentations), hands the kernel module to the backend and
allocates the state arrays.  ``report["pipeline"]`` is the text that ran.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import time

import numpy as np

from anncompiler.errors import NetworkError
from anncompiler.ir.model import ModelIR
from anncompiler.ir.module import CompilationModule
from anncompiler.ir.network import NetworkIR, PopulationNode, ProjectionEdge


def _population_model(pop) -> ModelIR:
    """The population's model IR; global parameters given per-neuron values become local."""
    ir = pop._model_ir()
    promote = [n for n, v in pop._init.items()
               if n in ir.attributes and np.ndim(v) > 0 and ir.attributes[n].locality != "local"]
    if not promote:
        return ir
    ir = copy.copy(ir)
    ir.attributes = dict(ir.attributes)
    for n in promote:
        ir.attributes[n] = dataclasses.replace(ir.attributes[n], locality="local")
    return ir


def _population_init(pop, model: ModelIR) -> dict:
    init = {}
    for name, a in model.attributes.items():
        value = pop._value(name)
        if isinstance(value, bool) or np.ndim(value) == 0:
            init[name] = value
        else:
            arr = np.asarray(value).reshape(-1)
            if a.locality != "local":
                arr = arr[:1]
            init[name] = arr
    return init


def build_network_ir(net) -> NetworkIR:
    """The network IR of ``net``.  Passes transform it in place, so it holds copies of what the
    user's objects hold (one copy of each model IR, shared by its populations as the original is;
    the connectivity of each projection): a compile never changes a user's object's values (the
    per-synapse weights and delays come back as views of the compiled arrays: ``lent_values.py``)."""
    copies: dict[int, ModelIR] = {}

    def own(model: ModelIR) -> ModelIR:
        if id(model) not in copies:
            copies[id(model)] = copy.copy(model)
        return copies[id(model)]

    ir = NetworkIR(dt=net.dt, float_type=net._config["dtype_name"], seed=net.seed,
                   constants={c.name: float(c) for c in net._all_constants()})
    for pop in net._populations:
        model = own(pop._model_ir() if getattr(pop, "_kind", "neuron") != "neuron" else _population_model(pop))
        node = PopulationNode(pop.name, pop.size, pop.geometry, model, getattr(pop, "_kind", "neuron"),
                              _population_init(pop, model), dict(getattr(pop, "_data", {})))
        window = pop.__dict__.get("_firing_window")
        if window is not None and model.type == "spike":  # compute_firing_rate (passes/lowering/firing_rate.py)
            node.data["firing_window"] = max(1, int(round(window / net.dt)))
        if pop.__dict__.get("_max_delay"):  # reserved ring length (steps), passes/lowering/delays.py
            node.data["max_delay"] = pop._max_delay
        if pop._refractory is not None:
            node.data["refractory"] = pop._refractory
        node.data["active"] = bool(pop.__dict__.get("enabled", True))  # pop.disable() (lowering/activity.py)
        if getattr(pop, "stop_condition", None):  # simulate_until (passes/lowering/stop.py)
            from anncompiler.parser import parse_condition
            node.data["stop_condition"] = parse_condition(str(pop.stop_condition), model,
                                                          [c.name for c in net._all_constants()])
        ir.add_population(node)
    for proj in net._projections:
        c = copy.copy(proj._require_connectivity())
        init = {k: v for k, v in proj._init.items()}
        extras = proj._edge_extras() if hasattr(proj, "_edge_extras") else {}  # specialised projections
        ir.add_projection(ProjectionEdge(proj.name, proj.pre.name, proj.post.name, list(proj.targets),
                                         own(proj._model_ir()), c, init, flags=proj._flag_values(), **extras))
    ir.monitors = [m._spec() for m in net._monitors]
    return ir


def backend_choice(config: dict, backend, cuda_config) -> tuple[str, dict]:
    """``(backend name, backend options)`` of ``compile()``: the ``backend`` argument, else the cuda
    backend under ``paradigm="cuda"``, else ``config(backend=...)``; ``cuda_config["device"]`` (a
    GPU number, or ``"host"``: the CUDA C run on the CPU) goes to the cuda backend."""
    from anncompiler.errors import InvalidTypeError
    name = backend or ("cuda" if config.get("paradigm") == "cuda" else config.get("backend", "llvm"))
    options = {"num_threads": config.get("num_threads", 1), "thread_policy": config.get("thread_policy")}
    if cuda_config is not None:
        if not isinstance(cuda_config, dict):
            raise InvalidTypeError(f"compile(): cuda_config must be a dict such as {{'device': 0}}, "
                                   f"not {type(cuda_config).__name__}")
        if "device" in cuda_config:
            options["device"] = cuda_config["device"]
    return name, options


def thread_policy(value) -> str:
    """``net.config(thread_policy=...)`` checked: "auto" (a network too small to gain from threads
    runs on fewer) or "always" (``passes/platform/cpu_threads.py``)."""
    from anncompiler.passes.platform.cpu_threads import policy_of
    return policy_of(value)


def dump_directory(dump_ir):
    return dump_ir or os.environ.get("ANNC_DUMP_IR") or None


def pipeline_for_flags(pipeline: str, compiler_flags) -> str:
    """The default ``pipeline`` adapted to ANNarchy-style ``compile(compiler_flags=...)``: C
    compilers' flags have no meaning here except ``-ffast-math``/``-Ofast``/``-freciprocal-math``,
    which add ``reciprocal-divisions`` after ``expand-powers`` (before ``cse``, which then shares
    each reciprocal)."""
    from anncompiler.passes.reciprocal import wants_reciprocal
    if not wants_reciprocal(compiler_flags) or "reciprocal-divisions" in pipeline:
        return pipeline
    passes = pipeline.split(",")
    at = passes.index("expand-powers") + 1 if "expand-powers" in passes else len(passes)
    return ",".join(passes[:at] + ["reciprocal-divisions"] + passes[at:])


def full_pipeline(pipeline: str, backend) -> list:
    """The passes of ``pipeline`` followed by those of the backend's ``pipeline_suffix()`` that it
    does not name already: the printed result, given back as ``pipeline``, compiles the same."""
    from anncompiler.passes import parse_pipeline
    passes = parse_pipeline(pipeline)
    names = {p.name for p in passes}
    return passes + [p for p in parse_pipeline(backend.pipeline_suffix()) if p.name not in names]


def compile_network(net, pipeline: str, backend_name: str, dump_ir=None, backend_options=None, load: bool = True,
                    reuse: dict | None = None):
    """Run the whole compilation; returns (kernel module, simulator, arrays, report).  With
    ``load=False`` the backend only generates its code (dumps, no simulator, no arrays): a backend
    that can emit without its hardware (CUDA C through NVRTC) then works on any machine.
    ``reuse`` (arrays of a previous compile of this network) gives the new code those arrays of
    the same name, dtype and size instead of fresh ones: the state carries over
    (``runtime/rebuild.py``)."""
    from anncompiler.backends import get_backend
    from anncompiler.passes import format_pipeline
    from anncompiler.runtime.lent_values import LentValues

    t0 = time.perf_counter()
    backend_cls = get_backend(backend_name)
    if not load and not backend_cls.can_emit():
        raise NetworkError(f"backend '{backend_name}' is not available on this machine")
    # created first: its options (e.g. num_threads) decide the platform passes it asks for
    backend = backend_cls(**(backend_options or {}))
    if load:
        backend.check_usable()  # says what is missing (a library, a driver, a device)
    passes = full_pipeline(pipeline, backend)
    text = format_pipeline(passes)
    # cpu-partition cuts the module into as many partitions as the backend has threads
    threads = int((backend_options or {}).get("num_threads", 1) or 1)
    module = CompilationModule(build_network_ir(net), options={
        "method": net._config["method"], "num_threads": threads,
        "thread_policy": (backend_options or {}).get("thread_policy")})  # passes/platform/cpu_threads.py
    # the front end's per-synapse values, held by the compile until it ends (runtime/lent_values.py)
    lent = LentValues(net, module.network) if load else None
    try:
        return _compile_module(net, module, passes, text, backend, backend_name, dump_ir, load, reuse, t0)
    except BaseException:
        if lent is not None:
            lent.settle(failed=True)
            lent = None
        raise
    finally:
        if lent is not None:
            lent.settle(failed=False)


def _compile_module(net, module, passes, text, backend, backend_name, dump_ir, load, reuse, t0):
    """The passes, the backend's code and (``load``) the arrays and simulator of :func:`compile_network`."""
    from anncompiler.passes import DumpInstrumentation, PassManager, TimingInstrumentation
    from anncompiler.ir.deep import run_deep
    from anncompiler.runtime.state import allocate_arrays
    directory = dump_directory(dump_ir)
    instruments = [TimingInstrumentation()]
    dumper = DumpInstrumentation(directory) if directory else None
    if dumper:
        instruments.append(dumper)
        dumper.write_file("pipeline.txt", text + "\n")
    run_deep(PassManager(passes, instruments).run, module)  # deep expressions: see ir/deep.py
    if module.kernels is None:
        raise NetworkError(f"the pipeline '{text}' produced no kernel module (is 'lower-to-kernels' in it?)")
    t1 = time.perf_counter()
    artefact = run_deep(backend.emit, module.kernels)
    if dumper:
        for name, dumped in artefact.dumps.items():
            dumper.write(name, dumped() if callable(dumped) else dumped)
    arrays = allocate_arrays(module.kernels, reuse) if load else None
    simulator = backend.load(artefact, arrays) if load else None
    if simulator is not None and hasattr(simulator, "state_arrays"):
        arrays = simulator.state_arrays()  # state kept elsewhere (a GPU): the views the front end uses
    t2 = time.perf_counter()
    report = {"pipeline": text, "passes": module.timings, "frontend_and_passes": t1 - t0, "backend": t2 - t1,
              "total": t2 - t0, "dump_dir": directory, **artefact.info}
    return module, simulator, arrays, report
