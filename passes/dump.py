"""IR dumps as an instrumentation of the pass manager (MLIR's print-ir-after-all).

Writes ``00-model.txt`` (the parsed models and the network) before the
first pass, then ``NN-<pass>.txt`` after each pass, and ``network.dot``;
the compile driver adds ``pipeline.txt`` (the full pipeline that ran).
Backend artefacts (raw and optimised LLVM IR) are added by ``write``.
"""
from __future__ import annotations

import os

from anncompiler.ir.module import dump
from anncompiler.ir.network import to_dot

from .manager import Instrumentation


class DumpInstrumentation(Instrumentation):
    def __init__(self, directory: str):
        self.directory = directory
        self.index = 0

    def write_file(self, name: str, text: str) -> str:
        """An unnumbered file (``pipeline.txt``)."""
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def write(self, name: str, text: str) -> str:
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"{self.index:02d}-{name}")
        with open(path, "w") as f:
            f.write(text)
        self.index += 1
        return path

    def before_pipeline(self, module):
        os.makedirs(self.directory, exist_ok=True)
        for old in os.listdir(self.directory):  # a fresh set of dumps per compile
            if old[:2].isdigit() and old[2:3] == "-":
                os.remove(os.path.join(self.directory, old))
        self.write("model.txt", dump(module))
        with open(os.path.join(self.directory, "network.dot"), "w") as f:
            f.write(to_dot(module.network))

    def after_pass(self, p, module):
        self.write(f"{p.name}.txt", dump(module))
