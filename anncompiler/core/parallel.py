"""``net.copy()`` and ``net.parallel_run()``: several instances of one Network subclass.

A compiled network holds native code (the llvm JIT's objects), which cannot be pickled: a copy
is a new instance of the class, built by its constructor and compiled with the original's
configuration, pipeline and backend (the compile cache makes that cheap).  ``parallel_run``
builds and runs its copies in worker processes (``multiprocessing``, the ``spawn`` start method:
no process inherits the parent's JIT or OpenMP threads) or on a Dask cluster; each worker builds
its own copy, so the class and ``method`` must be importable (defined at a module's top level).
"""
from __future__ import annotations

import inspect
import numbers
import os
import secrets
import threading
import time

from anncompiler.errors import InvalidTypeError, InvalidValueError, NetworkError

#: configuration keys a copy takes from its original (dt and seed go to the constructor)
_COPIED_CONFIG = ("method", "num_threads", "thread_policy", "dtype_name", "backend", "paradigm", "progress")
#: building and compiling share process-wide state (the parser's caches, llvmlite): one at a time
#: per process, also when a Dask worker runs several tasks in threads
_BUILD_LOCK = threading.Lock()


def _check_class(net, what: str):
    from .network import Network
    cls = type(net)
    if cls is Network:
        raise NetworkError(f"{what} needs a subclass of ann.Network that builds the network in its __init__ "
                           "(class MyNetwork(ann.Network): def __init__(self): self.create(...))")
    return cls


def build_plan(net) -> dict:
    """What a copy needs, picklable: the class, the constructor's arguments, the configuration
    and how the original was compiled (None: not compiled)."""
    args, kwargs = net.__dict__.get("_init_args", ((), {}))
    compiled = None
    if net.compiled:
        compiled = {"directory": net.directory, "pipeline": net.pipeline,
                    "backend": net.__dict__.get("_backend_used") or net._config.get("backend", "llvm"),
                    "cuda_config": net.__dict__.get("_cuda_config")}
    config = {k: net._config[k] for k in _COPIED_CONFIG if k in net._config}
    return {"cls": type(net), "args": tuple(args), "kwargs": dict(kwargs), "dt": net.dt, "config": config,
            "compiled": compiled}


def build(plan: dict, seed, args=None, kwargs=None):
    """A new instance from ``plan`` (``args``/``kwargs`` replace the constructor's arguments),
    with ``seed`` (None: a fresh one), compiled when the original was."""
    args = plan["args"] if args is None else tuple(args)
    kwargs = dict(plan["kwargs"] if kwargs is None else kwargs)
    kwargs.setdefault("dt", plan["dt"])
    kwargs["seed"] = seed
    with _BUILD_LOCK:
        net = plan["cls"](*args, **kwargs)
        net._config.update(plan["config"])
        compiled = plan["compiled"]
        if compiled is not None:
            net.compile(directory=compiled["directory"], pipeline=compiled["pipeline"], backend=compiled["backend"],
                        cuda_config=compiled.get("cuda_config"))
    return net


def copy_network(net, args, kwargs):
    """See :meth:`Network.copy`."""
    _check_class(net, "copy()")
    seed = kwargs.pop("seed", None)
    plan = build_plan(net)
    if not args and not kwargs:
        args, kwargs = None, None
    return build(plan, seed, args, kwargs)


# ---------------------------------------------------------------------------------------------
def _seeds(net, seeds, number: int) -> list:
    if seeds is None:
        return [secrets.randbits(32) for _ in range(number)]
    if isinstance(seeds, str):
        if seeds == "same":
            return [net.seed] * number
        if seeds == "sequential":
            return [net.seed + k for k in range(number)]
        raise InvalidValueError(f"parallel_run(): seeds must be None, 'same', 'sequential' or a list, not {seeds!r}")
    try:
        seeds = list(seeds)
    except TypeError:
        raise InvalidTypeError(f"parallel_run(): seeds must be None, 'same', 'sequential' or a list, "
                               f"not {seeds!r}") from None
    if len(seeds) != number:
        raise InvalidValueError(f"parallel_run(): {len(seeds)} seeds for {number} networks")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise InvalidTypeError(f"parallel_run(): each seed must be an integer, not {s!r}")
    return [int(s) for s in seeds]


def _parameters(fn, skip_first: bool):
    """The names ``fn`` accepts by keyword, and whether it takes ``**kwargs``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return set(), True
    if skip_first and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind == p.VAR_KEYWORD for p in params)


def _split_kwargs(cls, method, kwargs: dict, number: int) -> list[tuple[dict, dict]]:
    """Per network: (constructor kwargs, method kwargs).  A kwarg goes to the constructor and/or
    the method whose parameter it names; a list of ``number`` values gives one to each network."""
    ctor_names, _ = _parameters(cls.__init__, skip_first=True)
    method_names, method_var = _parameters(method, skip_first=True)
    per = [({}, {}) for _ in range(number)]
    for key, value in kwargs.items():
        to_ctor, to_method = key in ctor_names, key in method_names or (method_var and key not in ctor_names)
        if not (to_ctor or to_method):
            raise InvalidValueError(f"parallel_run(): '{key}' is neither a parameter of {cls.__name__}.__init__ "
                                    f"nor of {getattr(method, '__name__', method)!r}")
        values = value if isinstance(value, list) and len(value) == number else [value] * number
        for k in range(number):
            if to_ctor:
                per[k][0][key] = values[k]
            if to_method:
                per[k][1][key] = values[k]
    return per


def run_one(task):
    """Build one copy and call the method on it (in a worker; module-level, so picklable)."""
    plan, seed, ctor_kwargs, method, method_kwargs = task
    kwargs = dict(plan["kwargs"])
    kwargs.update(ctor_kwargs)
    net = build(plan, seed, plan["args"], kwargs)
    if not net.compiled:
        net.compile()
    return method(net, **method_kwargs)


def parallel_run(net, method, number, max_processes=-1, seeds=None, measure_time=False, client=None, **kwargs):
    """See :meth:`Network.parallel_run`."""
    cls = _check_class(net, "parallel_run()")
    if not callable(method):
        raise InvalidTypeError(f"parallel_run(): method must be a function f(net, ...), not {method!r}")
    if isinstance(number, bool) or not isinstance(number, numbers.Integral) or number < 1:
        raise InvalidValueError(f"parallel_run(): number must be an integer >= 1, not {number!r}")
    if isinstance(max_processes, bool) or not isinstance(max_processes, numbers.Integral):
        raise InvalidTypeError(f"parallel_run(): max_processes must be an integer, not {max_processes!r}")
    number = int(number)
    plan = build_plan(net)
    tasks = [(plan, seed, ctor, method, call)
             for seed, (ctor, call) in zip(_seeds(net, seeds, number), _split_kwargs(cls, method, kwargs, number))]
    t0 = time.perf_counter()
    if client is not None:
        results = _on_dask(client, tasks)
    else:
        processes = min(number, os.cpu_count() or 1) if max_processes <= 0 else min(number, int(max_processes))
        results = _on_processes(tasks, processes)
    if measure_time:
        print(f"Running {number} networks in parallel took: {time.perf_counter() - t0} seconds.")
    return results


def _on_processes(tasks, processes: int) -> list:
    if processes <= 1:
        return [run_one(t) for t in tasks]
    import multiprocessing
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return pool.map(run_one, tasks, chunksize=1)


def _on_dask(client, tasks) -> list:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        from anncompiler.errors import NotSupportedError
        raise NotSupportedError("parallel_run(client=...) needs dask: pip install anncompiler[dask]") from None
    if not hasattr(client, "map") or not hasattr(client, "gather"):
        raise InvalidTypeError(f"parallel_run(): client must be a dask.distributed.Client, not {client!r}")
    futures = client.map(run_one, tasks, pure=False)
    return client.gather(futures)


