"""``python -m anncompiler``: the pass and backend lists, and ``dump`` (compile only, no simulation)."""
import os
import subprocess
import sys

import pytest

from anncompiler.passes import DEFAULT_PIPELINE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, cwd=ROOT):
    env = dict(os.environ, ANNC_NO_CACHE="1", PYTHONPATH=ROOT)
    env.pop("ANNC_DUMP_IR", None)
    return subprocess.run([sys.executable, "-m", "anncompiler", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_dump_writes_every_stage_and_simulates_nothing(tmp_path):
    out = tmp_path / "dump"
    r = cli("dump", os.path.join("examples", "coba.py"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "simulate:" not in r.stdout  # coba.py prints its simulation time after simulate()
    files = set(os.listdir(out))
    ran = (out / "pipeline.txt").read_text().strip()
    assert ran.startswith(DEFAULT_PIPELINE + ",cpu-")  # the neutral pipeline, then the llvm backend's platform passes
    names = [p.split("{")[0] for p in ran.split(",")]
    assert {"00-model.txt", "pipeline.txt", "network.dot"} <= files
    assert {f"{i + 1:02d}-{n}.txt" for i, n in enumerate(names)} <= files
    assert f"{len(names) + 1:02d}-llvm.ll" in files and f"{len(names) + 2:02d}-llvm-opt.ll" in files
    assert f"{len(names) + 3:02d}-llvm.s" in files  # the host assembly


def test_dump_with_backend_and_pipeline(tmp_path):
    script = tmp_path / "legacy.py"
    script.write_text("import anncompiler as ann\n"
                      "P = ann.Population(3, ann.Neuron(equations='r = 1.0'))\n"
                      "ann.compile()\n"
                      "open('simulated', 'w').write('yes')\n")
    pipeline = DEFAULT_PIPELINE.replace("lower-to-kernels", "lower-to-kernels{lanes=2}")
    r = cli("dump", str(script), "--out", "d", "--backend", "reference", "--pipeline", pipeline, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "simulated").exists()
    assert (tmp_path / "d" / "pipeline.txt").read_text().strip() == pipeline
    assert not any(f.endswith(".ll") for f in os.listdir(tmp_path / "d"))


def test_dump_reports_errors(tmp_path):
    r = cli("dump", os.path.join("examples", "coba.py"), "--out", str(tmp_path), "--backend", "no-such-backend")
    assert r.returncode == 1 and "no-such-backend" in r.stderr and "Traceback" not in r.stderr
    script = tmp_path / "nothing.py"
    script.write_text("x = 1\n")
    r = cli("dump", str(script), "--out", str(tmp_path / "d"))
    assert r.returncode == 1 and "without calling compile()" in r.stderr


def test_passes_and_backends_lists():
    r = cli("passes")
    assert r.returncode == 0
    for name in DEFAULT_PIPELINE.split(","):
        assert name in r.stdout
    assert "lanes: an integer or none, default none" in r.stdout
    r = cli("backends")
    assert r.returncode == 0
    assert "llvm  available" in r.stdout and "reference  available" in r.stdout


def test_dump_for_the_cuda_backend_needs_no_device(tmp_path):
    """The cuda backend renders and compiles (NVRTC) without a GPU: its source and PTX are dumped."""
    pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="the cuda extra is not installed")
    out = tmp_path / "dump"
    r = cli("dump", os.path.join("examples", "coba.py"), "--out", str(out), "--backend", "cuda")
    assert r.returncode == 0, r.stderr
    files = os.listdir(out)
    assert any(f.endswith("-cuda-map.txt") for f in files)
    source = open(out / next(f for f in files if f.endswith("-cuda.cu"))).read()
    assert "__global__" in source and any(f.endswith("-cuda.ptx") for f in files)
