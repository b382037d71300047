"""The tensorboard Logger (anncompiler.extensions.tensorboard): what it writes is read back from
the event files (TFRecord framing, tensorboardX's Event protobuf)."""
import struct

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import InvalidTypeError, ShapeError

tensorboardX = pytest.importorskip("tensorboardX")
from tensorboardX.proto.event_pb2 import Event  # noqa: E402

from anncompiler.extensions.tensorboard import Logger  # noqa: E402


def events(folder):
    """Every Event of the event files under ``folder`` (8-byte length, 4-byte crc, data, crc)."""
    out = []
    for path in sorted(folder.rglob("events.out.tfevents*")):
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            out.append(Event.FromString(data[pos + 12:pos + 12 + length]))
            pos += 12 + length + 4
    return out


def values(folder):
    """(tag, step, summary value) of every logged value."""
    return [(v.tag, e.step, v) for e in events(folder) for v in e.summary.value]


def test_scalars_are_written_and_read_back(tmp_path):
    with Logger(logdir=str(tmp_path), experiment="trial1") as logger:
        for step in range(3):
            logger.add_scalar("Accuracy", 0.5 * step, step)
        logger.add_scalars("Rates", {"first": 1.0, "second": np.float32(2.0)}, 7)
    assert logger.currentlogdir == str(tmp_path / "trial1")
    got = [(t, s, v.simple_value) for t, s, v in values(tmp_path / "trial1") if t == "Accuracy"]
    assert got == [("Accuracy", 0, 0.0), ("Accuracy", 1, 0.5), ("Accuracy", 2, 1.0)]
    multi = {(t, s, v.simple_value) for t, s, v in values(tmp_path)}
    assert ("Rates", 7, 1.0) in multi and ("Rates", 7, 2.0) in multi


def test_images_histograms_and_parameters(tmp_path):
    logger = Logger(logdir=str(tmp_path), experiment="run")
    logger.add_image("mono", np.arange(12.0).reshape(3, 4), 1, equalize=True)
    logger.add_image("color", np.full((2, 5, 3), 0.5), 2)
    logger.add_images("fields", np.random.default_rng(0).random((4, 3, 3)), 3, equalize=True,
                      equalize_per_image=True)
    logger.add_image("constant", np.ones((2, 2)), 4, equalize=True)  # no division by zero
    logger.add_histogram("weights", [0.1, 0.2, 0.2, 0.9], 5)
    logger.add_parameters({"tau": 10.0, "rule": "hebb"}, {"accuracy": 0.9})
    logger.flush()
    logger.close()
    found = {t: (s, v) for t, s, v in values(tmp_path / "run")}
    assert (found["mono"][1].image.height, found["mono"][1].image.width) == (3, 4)
    assert found["mono"][0] == 1
    assert (found["color"][1].image.height, found["color"][1].image.width) == (2, 5)
    assert found["fields"][1].image.height > 0
    histogram = found["weights"][1].histo
    assert histogram.num == 4 and histogram.min == pytest.approx(0.1) and histogram.max == pytest.approx(0.9)
    assert "_hparams_/experiment" in found and found["accuracy"][1].simple_value == pytest.approx(0.9)


def test_bad_input_is_refused_clearly(tmp_path):
    with Logger(logdir=str(tmp_path), experiment="bad") as logger:
        with pytest.raises(ShapeError):
            logger.add_image("x", np.zeros((2, 2, 4)))
        with pytest.raises(ShapeError):
            logger.add_image("x", np.zeros(5))
        with pytest.raises(ShapeError):
            logger.add_images("x", np.zeros((2, 2)))
        with pytest.raises(InvalidTypeError):
            logger.add_scalars("x", [1.0, 2.0])
        with pytest.raises(ShapeError):
            logger.add_histogram("x", [])
        logger.add_scalar("still_works", 1.0, 0)
    assert [t for t, _, _ in values(tmp_path / "bad")] == ["still_works"]


def test_default_folder_and_ann_logger(tmp_path):
    with ann.Logger(logdir=str(tmp_path)) as logger:
        logger.add_scalar("x", 1.0, 0)
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.count("_") >= 2  # <month><day>_<time>_<host>
    assert values(folders[0])[0][0] == "x"


def test_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(2, 1), dpi=50)
    plt.plot([0, 1], [1, 0])
    with Logger(logdir=str(tmp_path), experiment="fig") as logger:
        logger.add_figure("Activity", fig, 0)
    image = values(tmp_path / "fig")[0][2].image
    assert (image.height, image.width) == (50, 100)


def test_missing_tensorboardx_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    from anncompiler.errors import NotSupportedError
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    with pytest.raises(NotSupportedError, match="tensorboardX"):
        Logger(logdir=str(tmp_path))
