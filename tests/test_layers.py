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
