"""The compilation module: what passes transform, holding every stage built so far.

It starts as a network IR (whose nodes hold model IR); ``discretise-odes``
fills the discrete IR of each model; ``lower-to-kernels`` adds the kernel
module.  ``verify`` checks every stage present, and ``dump`` prints the
latest one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .kernel import KernelModule, format_module, verify_module
from .network import NetworkIR, format_network, verify_network


@dataclass
class CompilationModule:
    network: NetworkIR
    kernels: Optional[KernelModule] = None
    #: free-form options of the compile call (dtype, num_threads, ...)
    options: dict = field(default_factory=dict)
    #: (pass name, seconds) filled by the timing instrumentation
    timings: list = field(default_factory=list)

    @property
    def stage(self) -> str:
        if self.kernels is not None:
            return "kernel"
        if any(m.updates is not None for m in self.network.models()):
            return "discrete"
        return "network"


def verify(module: CompilationModule, after: str = "") -> None:
    """Verify every stage present; the message says after which pass it broke."""
    from anncompiler.errors import IRVerificationError
    try:
        verify_network(module.network)
        if module.kernels is not None:
            verify_module(module.kernels)
    except IRVerificationError as exc:
        if after:
            raise IRVerificationError(f"after pass '{after}': {exc}") from None
        raise


def dump(module: CompilationModule) -> str:
    """Text of the most lowered stage present."""
    if module.kernels is not None:
        return format_module(module.kernels)
    return format_network(module.network)
