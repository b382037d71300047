"""Compiler passes: the registry, the pass manager and the built-in passes.

Importing this package registers every built-in pass; ``DEFAULT_PIPELINE``
is what ``Network.compile()`` runs unless given ``pipeline=``.
"""
from .manager import (Instrumentation, Pass, PassManager, TimingInstrumentation, format_pipeline,
                      get_pass, parse_pipeline, register_pass, registered_passes)
from . import targets, fuse, discretise, schedule, lowering, powers, cse, platform  # noqa: F401  (registration)
from . import loop_invariants, scalar_replace, reciprocal, fuse_delivery, drop_unused  # noqa: F401  (registration)
from .dump import DumpInstrumentation

DEFAULT_PIPELINE = ("resolve-targets,check-model,fuse-connectivity,discretise-odes,schedule,lower-to-kernels,fuse-ring-delivery,expand-powers,cse,"
                    "hoist-invariants,scalar-replace")

__all__ = ["Pass", "PassManager", "Instrumentation", "TimingInstrumentation", "DumpInstrumentation",
           "register_pass", "registered_passes", "get_pass", "parse_pipeline", "format_pipeline",
           "DEFAULT_PIPELINE"]
