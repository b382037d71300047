"""The dependency rules between the layers (docs/compiler.md, "Layers"), read from the sources.

Front end -> parser -> IR; front end -> runtime -> passes, backends; passes and backends see the
IR only; the IR depends on nothing above it; errors.py may be imported by every part.
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: folder -> the anncompiler packages it must not import
FORBIDDEN = {
    "ir": ("core", "runtime", "parser", "passes", "backends"),
    "passes": ("core", "runtime", "parser", "backends"),
    "backends": ("core", "runtime", "parser", "passes"),
    "anncompiler/parser": ("core", "runtime", "passes", "backends"),
}


def imports(path: str):
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args \
                and isinstance(node.args[0], ast.Constant):
            yield node.args[0].value


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_import_against_the_layers(folder):
    bad = []
    for base, _, files in os.walk(os.path.join(ROOT, folder)):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(base, f)
                for module in imports(path):
                    if any(module == f"anncompiler.{p}" or module.startswith(f"anncompiler.{p}.")
                           for p in FORBIDDEN[folder]):
                        bad.append(f"{os.path.relpath(path, ROOT)} imports {module}")
    assert not bad, "\n".join(bad)


def test_model_ir_holds_no_front_end_object():
    """A sampler given as a parameter stays with the user's definition: the IR names it."""
    import numpy as np

    import anncompiler as ann
    from anncompiler.ir.model import GivenInit
    net = ann.Network(dt=1.0, seed=2)
    neuron = ann.Neuron(parameters=dict(tau=ann.Uniform(5.0, 10.0, rng=net.default_rng)),
                        equations="tau * dr/dt + r = 1.0")
    pop = net.create(20, neuron)
    assert pop._model_ir().attributes["tau"].init == GivenInit("tau")
    assert pop._model_ir().attributes["tau"].locality == "local"
    tau = np.array(pop.tau)
    assert tau.shape == (20,) and 5.0 <= tau.min() and tau.max() <= 10.0 and np.ptp(tau) > 0
    net.compile()
    net.simulate(3.0)
    assert np.array_equal(pop.tau, tau)
