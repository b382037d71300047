"""Every Python package of the source tree is declared in pyproject.toml (editable installs hide a miss)."""
import os
import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_package_is_declared():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        conf = tomllib.load(f)["tool"]["setuptools"]
    declared = set(conf["packages"])
    dirs = {os.path.normpath(v): k for k, v in conf["package-dir"].items()}
    found = set()
    for top in ("anncompiler", "ir", "passes", "backends"):
        for root, _, files in os.walk(os.path.join(ROOT, top)):
            if "__init__.py" in files and "__pycache__" not in root:
                rel = os.path.relpath(root, ROOT)
                # the nearest mapped ancestor gives the import name
                parts, tail = rel, []
                while parts not in dirs and parts:
                    parts, last = os.path.split(parts)
                    tail.insert(0, last)
                found.add(".".join([dirs[parts]] + tail))
    assert found <= declared, f"packages missing from pyproject.toml: {sorted(found - declared)}"


def test_the_public_interface_is_listed_in___all__():
    """``__all__`` names every public name of the package (and nothing missing), so that
    ``from anncompiler import *`` gives ANNarchy's names and the linter sees the re-exports."""
    import types
    import anncompiler
    public = {n for n, v in vars(anncompiler).items()
              if not n.startswith("_") and not (isinstance(v, types.ModuleType) and n != "extensions")}
    assert public == set(anncompiler.__all__)
