"""Network: owns populations, projections, monitors and constants; compiles and simulates them.

``compile()`` runs the pass pipeline and the backend once; ``simulate()``,
``simulate_until()`` and ``step()`` call the simulation loop of the runtime
(``anncompiler/runtime/simulate.py``), which runs the native steps in chunks and
drains monitor buffers between chunks (the only time Python runs during a simulation).
"""
from __future__ import annotations

import math
import numbers
import secrets
import threading
import warnings

import numpy as np

from anncompiler.errors import InvalidValueError, NetworkError

from anncompiler.runtime import simulate as simulation  # imported here, not by the first simulate()

from .attributes import Constant
from .models import Neuron, Synapse
from .recording_memory import warn_if_recordings_exceed_memory

_CONFIG_KEYS = {"dt", "seed", "method", "num_threads", "thread_policy", "visible_cores", "paradigm", "dtype", "precision",
                "structural_plasticity", "only_int_idx_type", "verbose", "suppress_warnings", "show_time",
                "trace_calls", "disable_parallel_rng", "use_seed_seq", "sparse_matrix_format",
                "sparse_matrix_storage_order", "debug", "disable_shared_library_time_offset", "backend",
                "progress"}

_GLOBAL_CONSTANTS: dict[str, Constant] = {}
_GLOBAL_FUNCTIONS: dict = {}


def _resolve_network(network, warn: bool = True, stacklevel: int = 3):
    """``network``, or the global network (with a deprecation warning unless ``warn`` is False:
    specific populations are built outside and handed to ``net.create``, as ANNarchy 5 does)."""
    if network is not None:
        return network
    from .global_api import magic_network
    if warn:
        warnings.warn("creating objects without network= uses the global network, deprecated in ANNarchy 5; "
                      "prefer net.create/net.connect/net.monitor", DeprecationWarning, stacklevel=stacklevel)
    return magic_network()


def _owner_network(network, objects, what: str):
    """The network of an object built on ``objects`` (populations, views, neurons; names are
    resolved later): ``network`` when given, else the network owning them (the legacy
    constructors ``ann.Projection``/``ann.Monitor`` attach to their populations' network).
    Objects of another network raise NetworkError: their ranks and arrays mean nothing here."""
    owned = []
    for obj in objects:
        pop = getattr(obj, "population", None)
        owner = getattr(pop, "__dict__", {}).get("_net")
        if owner is not None:
            owned.append((pop, owner))
    if network is None:
        owners = []
        for _, owner in owned:
            if owner not in owners:
                owners.append(owner)
        if len(owners) > 1:
            names = ", ".join(f"{p.name} ({'the global network' if o is _magic() else repr(o)})"
                              for p, o in owned)
            raise NetworkError(f"{what}: the populations belong to different networks: {names}")
        if owners and owners[0] is not _magic():
            return owners[0]
        return _resolve_network(None, stacklevel=4)
    for pop, owner in owned:
        if owner is not network:
            raise NetworkError(f"{what}: population {pop.name} belongs to another network; a population, "
                               "view, projection or monitor is used only with the network that created it")
    return network


def _magic():
    from . import global_api
    return global_api._MAGIC


class _NetworkMeta(type):
    """Set the network up before any ``__init__`` runs, so that subclasses need not call
    ``super().__init__()`` and receive ``dt``/``seed`` only through the base (as in ANNarchy)."""

    def __call__(cls, *args, dt: float | None = None, seed: int | None = None, **kwargs):
        obj = cls.__new__(cls)
        Network._setup(obj, dt, seed)
        obj._init_args = (args, dict(kwargs))  # for copy() and parallel_run()
        obj.__init__(*args, **kwargs)
        return obj


class Network(metaclass=_NetworkMeta):
    """A network of populations and projections (ANNarchy 5's ``ann.Network``).

    Subclass it and build the network in ``__init__`` with ``self.create``/``self.connect``;
    ``dt`` and ``seed`` are keyword arguments of the constructor in every case.
    """

    def __init__(self, *args, **kwargs):
        pass

    def _setup(self, dt: float | None, seed: int | None):
        from anncompiler.runtime.simulate import check_dt
        self._config = {"dt": 1.0 if dt is None else check_dt(dt), "method": "explicit", "num_threads": 1,
                        "dtype_name": "f64", "backend": "llvm", "paradigm": "openmp"}
        self._seed = int(seed) if seed is not None else secrets.randbits(32)
        self.default_rng = np.random.default_rng(self._seed)
        self._populations, self._projections, self._monitors = [], [], []
        self._constants: dict[str, Constant] = {}
        self._parsed: dict[int, object] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._simulator = None
        self.compiled = False
        self.directory = "annarchy"
        self.compile_report: dict = {}
        self.kernel_module = None
        self._lock = threading.RLock()  # one simulation at a time (anncompiler/runtime/simulate.py)

    # configuration -------------------------------------------------------------
    def config(self, **kwargs):
        for k, v in kwargs.items():
            if k not in _CONFIG_KEYS:
                warnings.warn(f"unknown configuration key '{k}' ignored", stacklevel=2)
                continue
            if k == "precision":
                raise NetworkError("'precision' was replaced by dtype=ann.float32 / ann.float64")
            if self.compiled and k in ("dt", "dtype", "method", "seed"):
                raise NetworkError(f"'{k}' cannot change after compile()")
            if k == "dt":
                from anncompiler.runtime.simulate import check_dt
                self._config["dt"] = check_dt(v)
            elif k == "seed":
                self._seed = int(v)
                self.default_rng = np.random.default_rng(self._seed)
            elif k == "progress":  # simulate()'s progress bar (anncompiler/runtime/progress.py)
                from anncompiler.runtime.progress import check_setting
                self._config[k] = check_setting(v)
            elif k == "thread_policy":  # "auto" | "always" (passes/platform/cpu_threads.py)
                from anncompiler.runtime.compile import thread_policy
                self._config[k] = None if v is None else thread_policy(v)
            elif k == "paradigm" and v not in ("openmp", "cuda"):
                raise InvalidValueError(f"paradigm must be 'openmp' or 'cuda', not {v!r}")
            elif k == "dtype":
                self._config["dtype_name"] = "f32" if np.dtype(v) == np.float32 else "f64"
            else:
                self._config[k] = v

    @property
    def dt(self) -> float:
        return self._config["dt"]

    @property
    def seed(self) -> int:
        return self._seed

    # construction ----------------------------------------------------------------
    def _check_not_compiled(self, what: str):
        if self.compiled:
            raise NetworkError(f"cannot {what} after compile(): the network is compiled")

    def _add_population(self, pop):
        self._check_not_compiled("add a population")
        if any(p.name == pop.name for p in self._populations):
            raise NetworkError(f"a population named '{pop.name}' already exists")
        self._populations.append(pop)

    def _add_projection(self, proj):
        self._check_not_compiled("add a projection")
        if any(p.name == proj.name for p in self._projections):
            raise NetworkError(f"a projection named '{proj.name}' already exists")
        self._projections.append(proj)

    def _add_monitor(self, mon):
        if any(m.name == mon.name for m in self._monitors):
            raise NetworkError(f"a monitor named '{mon.name}' already exists")
        self._monitors.append(mon)
        if self.compiled:  # recorded from the next simulation on (anncompiler/runtime/rebuild.py)
            from anncompiler.runtime.rebuild import mark_stale
            mark_stale(self)

    def create(self, geometry, neuron=None, stop_condition=None, name=None, population=None):
        from .population import Population
        specific = population if population is not None else geometry
        if isinstance(specific, Population):  # net.create(ann.PoissonPopulation(...)): adopt it
            return self._adopt(specific, name)
        if neuron is None:
            raise NetworkError("create() needs a neuron type")
        return Population(geometry, neuron, name=name, stop_condition=stop_condition, network=self)

    def _adopt(self, pop, name=None):
        """Move a population built outside any network (into the global one) into this one."""
        old = pop._net
        if old is not self:
            if old is not _magic() or old.compiled or any(
                    pr.pre.population is pop or pr.post.population is pop for pr in old._projections) or \
                    any(m.population is pop for m in old._monitors):
                raise NetworkError(f"population {pop.name} already belongs to another network; a population "
                                   "is used only with the network that created it")
            self._check_not_compiled("add a population")
            old._populations.remove(pop)
            auto = pop.name == f"pop{pop.id}"
            object.__setattr__(pop, "_net", self)
            pop.id = len(self._populations)
            pop.name = name or (f"pop{pop.id}" if auto else pop.name)
            self._add_population(pop)
        elif name is not None:
            pop.name = name
        return pop

    def connect(self, pre, post=None, target=None, synapse=None, name=None, projection=None):
        from .projection import Projection
        specific = projection if projection is not None else pre
        if isinstance(specific, Projection):  # net.connect(ann.Convolution(...)): built on this network's populations
            if specific._net is not self:
                raise NetworkError(f"projection {specific.name} belongs to another network")
            if name is not None:
                specific.name = name
            return specific
        if post is None or target is None:
            raise NetworkError("connect() needs pre, post and target (or a projection such as ann.Convolution(...))")
        return Projection(pre, post, target, synapse=synapse, name=name, network=self)

    def monitor(self, obj, variables=None, period=None, period_offset=None, start=True, name=None, *, stream=None):
        """A Monitor of ``obj`` (also after compile); ``stream='rec.h5'`` records to that file."""
        from .monitor import Monitor
        return Monitor(obj, variables, period, period_offset, start, name, network=self, stream=stream)

    def boldmonitor(self, populations=None, bold_model=None, mapping=None, scale_factor=None, normalize_input=None,
                    recorded_variables=None, start=False):
        """A BoldMonitor (``anncompiler.extensions.bold``) of ``populations``, before compile()."""
        from anncompiler.extensions.bold import BoldMonitor
        return BoldMonitor(populations, bold_model, mapping, scale_factor, normalize_input, recorded_variables,
                           start, network=self)

    def constant(self, name: str, value: float) -> Constant:
        c = Constant(name, value, register=False)
        self._constants[name] = c
        return c

    def _all_constants(self):
        merged = dict(_GLOBAL_CONSTANTS)
        merged.update(self._constants)
        for c in merged.values():
            if self._constant_changed not in c._listeners:
                c._listeners.append(self._constant_changed)
        return list(merged.values())

    def _constant_value(self, name):
        for c in self._all_constants():
            if c.name == name:
                return float(c)
        raise NetworkError(f"unknown constant '{name}'")

    def _constant_changed(self, c):
        value = self._state("constant", c.name, required=False)
        if value is not None:
            value[:] = float(c)

    def _parse(self, definition):
        key = id(definition)
        if key not in self._parsed:
            from anncompiler.parser import parse_model
            if not isinstance(definition, (Neuron, Synapse)):
                raise NetworkError(f"expected a Neuron or Synapse, got {type(definition).__name__}")
            from anncompiler.ir.deep import run_deep
            names = [c.name for c in self._all_constants()]
            self._parsed[key] = (definition, run_deep(parse_model, definition, constants=names,
                                                      global_functions=dict(_GLOBAL_FUNCTIONS)))
        return self._parsed[key][1]

    # lookup ----------------------------------------------------------------------
    def get_population(self, name):
        for p in self._populations:
            if p.name == name:
                return p
        raise NetworkError(f"no population named '{name}' (known: {[p.name for p in self._populations]})")

    def get_projection(self, name):
        for p in self._projections:
            if p.name == name:
                return p
        raise NetworkError(f"no projection named '{name}'")

    def _learning_projections(self, projections):
        if projections is None:
            return list(self._projections)
        items = projections if isinstance(projections, (list, tuple)) else [projections]
        out = [self.get_projection(p) if isinstance(p, str) else p for p in items]
        for p in out:
            if getattr(p, "_net", None) is not self:
                raise NetworkError(f"{p!r} does not belong to this network")
        return out

    def enable_learning(self, projections=None, period=None, offset=None):
        """``enable_learning(period, offset)`` of the given projections (all by default)."""
        for p in self._learning_projections(projections):
            p.enable_learning(period, offset)

    def disable_learning(self, projections=None):
        """``disable_learning()`` of the given projections (all by default)."""
        for p in self._learning_projections(projections):
            p.disable_learning()

    def get_monitor(self, name):
        for m in self._monitors:
            if m.name == name:
                return m
        raise NetworkError(f"no monitor named '{name}'")

    def get_constant(self, name):
        for c in self._all_constants():
            if c.name == name:
                return c
        raise NetworkError(f"no constant named '{name}'")

    def get_populations(self):
        return list(self._populations)

    def get_projections(self, post=None, pre=None, target=None, suppress_error=False):
        out = []
        for p in self._projections:
            if post is not None and (p.post.name if not isinstance(post, str) else p.post.name) != \
                    (post if isinstance(post, str) else post.name):
                continue
            if pre is not None and p.pre.name != (pre if isinstance(pre, str) else pre.name):
                continue
            if target is not None and target not in p.targets:
                continue
            out.append(p)
        return out

    def get_monitors(self):
        return list(self._monitors)

    # compile ---------------------------------------------------------------------
    def compile(self, directory="annarchy", clean=False, compiler="default", compiler_flags="default",
                add_sources="", extra_libs="", cuda_config=None, annarchy_json="", silent=False,
                debug_build=False, trace_calls=None, profile_enabled=False, *, pipeline=None, backend=None,
                dump_ir=None, load=True):
        """Compile the network. ``pipeline``, ``backend``, ``dump_ir`` and ``load`` are anncompiler's own
        options; the full pipeline that ran (with the backend's platform passes) is ``self.pipeline``.
        ``load=False`` stops after the backend's code generation (with ``dump_ir``: inspect the code
        of a backend whose hardware this machine lacks); the network stays uncompiled."""
        from anncompiler.runtime.compile import compile_network
        from anncompiler.passes import DEFAULT_PIPELINE
        if self.compiled:
            raise NetworkError("the network is already compiled")
        self.directory = directory
        from anncompiler.runtime.compile import backend_choice, pipeline_for_flags
        backend, options = backend_choice(self._config, backend, cuda_config)
        pipeline = pipeline or pipeline_for_flags(DEFAULT_PIPELINE, compiler_flags)
        module, simulator, arrays, report = compile_network(self, pipeline, backend, dump_ir, options, load=load)
        self.compile_report = report
        if not load:
            return
        # what a recompile after compile (monitors added, anncompiler/runtime/rebuild.py) repeats
        self._compile_options = {"pipeline": pipeline, "backend": backend, "dump_ir": dump_ir,
                                 "backend_options": options}
        self.kernel_module, self._simulator, self._arrays = module.kernels, simulator, arrays
        self._backend_used = backend
        self._cuda_config = dict(cuda_config) if cuda_config else None  # net.copy() runs on the same device
        self.compiled = True
        if not silent and self._config.get("verbose"):
            print(f"anncompiler: compiled in {report['total']:.3f} s")

    @property
    def pipeline(self) -> str | None:
        """The full pipeline text of the compile (``compile(pipeline=...)`` repeats it); None before."""
        return self.compile_report.get("pipeline")

    def _require_compiled(self, what):
        if not self.compiled:
            raise NetworkError(f"call compile() before {what}()")

    def _state(self, owner: str, role: str, required: bool = True):
        """The state ``role`` of ``owner`` (an attribute name or a runtime role such as
        ``spikes``), through the handle the lowering returned; None when absent and not
        ``required``."""
        from anncompiler.runtime.state import state_of
        found = state_of(self.kernel_module, self._arrays, owner, role) if self.compiled else None
        if found is None and required:
            raise NetworkError(f"{owner} has no state '{role}' in the compiled network")
        return found

    def _writable_state(self, owner: str, role: str):
        """:meth:`_state`, for writing: what ``reset()`` restores is kept first
        (``ensure_writable`` in anncompiler/runtime/state.py)."""
        handle = self.kernel_module.handles.get((owner, role)) if self.compiled else None
        if handle is not None:
            from anncompiler.runtime.state import ensure_writable
            ensure_writable(self.kernel_module, self._arrays, handle.array)
        return self._state(owner, role)

    # simulation --------------------------------------------------------------------
    @property
    def current_step(self) -> int:
        return int(self._state("net", "step")[0]) if self.compiled else 0

    @current_step.setter
    def current_step(self, step: int):
        self._require_compiled("setting current_step")
        from anncompiler.runtime.simulate import set_current_step
        set_current_step(self, step)

    @property
    def time(self) -> float:
        return self.current_step * self.dt

    @time.setter
    def time(self, t: float):
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t):
            raise InvalidValueError(f"time must be a finite number of ms, not {t!r}")
        self.current_step = int(round(t / self.dt))

    def _drain_monitors(self):
        simulation.drain_monitors(self)

    def simulate(self, duration: float, measure_time: bool = False):
        """Simulate ``duration`` ms (``ceil(duration / dt)`` steps).

        A negative, NaN or infinite duration raises InvalidValueError.  Ctrl-C stops the run
        between two chunks of steps with KeyboardInterrupt, leaving time, state and monitors
        consistent; two threads simulating the same network take turns (see
        ``anncompiler/runtime/simulate.py``).
        """
        warn_if_recordings_exceed_memory(self, duration)
        simulation.simulate(self, duration, measure_time)

    def step(self):
        from anncompiler.runtime.simulate import step
        step(self)

    def simulate_until(self, max_duration: float, population, operator: str = "and",
                       measure_time: bool = False) -> float:
        """Simulate until the ``stop_condition`` of ``population`` (one Population or a list,
        combined with ``operator`` 'and' / 'or') holds, at most ``max_duration`` ms.

        The conditions are tested after every step (at least one step is simulated); the
        simulation stops after the first step where the combination holds.  Returns the
        elapsed time in **ms** (steps * dt; ANNarchy 5 returns steps / dt, a bug).  A
        population without ``stop_condition`` raises NetworkError.
        """
        from anncompiler.runtime.simulate import simulate_until
        from .recording_memory import warn_if_recordings_exceed_memory
        warn_if_recordings_exceed_memory(self, max_duration, "simulate_until")
        return simulate_until(self, max_duration, population, operator, measure_time)

    # several instances (anncompiler/core/parallel.py) -------------------------------------
    def copy(self, *args, **kwargs):
        """A new instance of this Network subclass, built by its constructor (with ``args`` and
        ``kwargs``, or the original's when none are given; ``dt`` as the original's unless given,
        ``seed`` a fresh one unless given) and compiled like the original when it is compiled.
        Values changed after the original's construction are not copied."""
        from .parallel import copy_network
        return copy_network(self, args, dict(kwargs))

    def parallel_run(self, method, number, max_processes=-1, seeds=None, measure_time=False, *, client=None,
                     **kwargs):
        """Run ``method(net, ...)`` on ``number`` copies of this network, in ``max_processes`` worker
        processes (-1: as many as cores), or on a Dask cluster given a ``dask.distributed.Client``
        as ``client``; returns the results in order.  ``seeds``: None (fresh seeds), 'same' (this
        network's seed), 'sequential' (seed, seed+1, ...) or a list.  Each other keyword goes to the
        constructor or to ``method``, whichever names it; a list of ``number`` values gives one to
        each copy.  The class and ``method`` must be defined at a module's top level."""
        from .parallel import parallel_run
        return parallel_run(self, method, number, max_processes, seeds, measure_time, client, **kwargs)

    def _spiked_ranks(self, pop):
        spikes = self._state(pop.name, "spikes", required=False)
        if spikes is None:
            return []
        return spikes[:int(self._state(pop.name, "spike_count")[0])].tolist()

    # state: saving, loading, resetting (core/state_io.py, core/parameters_file.py) ----------
    def save(self, filename, populations=True, projections=True):
        """Write the state (attributes, synapses and what the next step reads) to ``filename``:
        ``.npz``, ``.gz`` (gzip pickle), ``.mat`` (scipy, not loadable) or a pickle."""
        from .state_files import save_data
        from .state_io import network_data
        save_data(filename, network_data(self, populations, projections), "save()")

    def load(self, filename, populations=True, projections=True, pickle_encoding=None):
        """Restore a state written by ``save()`` (time included): the simulation goes on exactly as
        it went on after the save.  A file of another network raises, changing nothing."""
        from .state_files import load_data
        from .state_io import load_network
        load_network(self, load_data(filename, pickle_encoding, "load()"), populations, projections)

    def reset(self, populations=True, projections=False, synapses=False, monitors=True, reseed_rng=True):
        """Time back to 0, populations (and with ``projections`` the projections) back to their
        values at compile time, monitors emptied."""
        from .state_io import reset_network
        reset_network(self, populations, projections, synapses, monitors, reseed_rng)

    def save_parameters(self, filename):
        """The global parameters and constants in a JSON file (``load_parameters`` reads it)."""
        from .parameters_file import save_parameters
        save_parameters(self, filename)

    def load_parameters(self, filename, global_only=True, verbose=False, net_id=0):
        """Set the parameters of a ``save_parameters`` file; returns its ``network`` entry."""
        from .parameters_file import load_parameters
        return load_parameters(self, filename, global_only, verbose)

    def memory_footprint(self, show_py_side=True, show_cpp_side=True) -> dict:
        """Bytes held per object (native arrays, Python-side recordings); see core/footprint.py."""
        from .footprint import memory_footprint
        return memory_footprint(self, show_py_side, show_cpp_side)

    def __repr__(self):
        return (f"Network(dt={self.dt}, seed={self.seed}, {len(self._populations)} populations, "
                f"{len(self._projections)} projections, compiled={self.compiled})")
