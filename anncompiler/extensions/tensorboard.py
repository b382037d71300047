"""Logging to tensorboard (ANNarchy's ``ANNarchy.extensions.tensorboard``): ``Logger`` writes
scalars, images, histograms, figures and hyper-parameters as tensorboard event files, through
tensorboardX (the ``tensorboard`` extra: ``pip install "anncompiler[tensorboard]"``), imported
when the first Logger is created.  View them with ``tensorboard --logdir runs``."""
from __future__ import annotations

import os
import socket
from datetime import datetime

import numpy as np

from anncompiler.errors import InvalidTypeError, NotSupportedError, ShapeError


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise NotSupportedError("the tensorboard Logger needs the tensorboardX package: "
                                "pip install tensorboardX (or anncompiler[tensorboard])") from None
    return SummaryWriter


def _equalized(img: np.ndarray) -> np.ndarray:
    """``img`` rescaled to [0, 1] by its min and max (all zeros when it is constant)."""
    img = np.asarray(img, dtype=float)
    span = img.max() - img.min() if img.size else 0.0
    return (img - img.min()) / span if span > 0 else np.zeros_like(img)


def _array(value, what: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except Exception:
        raise InvalidTypeError(f"Logger.{what}: expected an array, not {type(value).__name__}") from None


class Logger:
    """Writes tensorboard logs into ``logdir/experiment`` (default ``runs/<date>_<host>``, e.g.
    ``runs/Apr22_12-11-22_machine``; reusing an experiment appends to it).  Close it at the end,
    or use it as a context manager::

        with Logger() as logger:
            logger.add_scalar("Accuracy", acc, trial)
    """

    def __init__(self, logdir: str = "runs/", experiment: str | None = None):
        writer = _summary_writer()
        self.logdir = logdir
        self.experiment = experiment
        os.makedirs(self.logdir, exist_ok=True)
        if not experiment:
            experiment = datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
        self.currentlogdir = os.path.join(self.logdir, experiment)
        self._summary = writer(self.currentlogdir, comment="", purge_step=None, max_queue=10, flush_secs=10,
                               filename_suffix="", write_to_disk=True)

    # logging ---------------------------------------------------------------------
    def add_scalar(self, tag: str, value: float, step: int | None = None):
        """One value (``tag`` names the plot; ``step`` is the time index)."""
        self._summary.add_scalar(tag=tag, scalar_value=float(value), global_step=step)

    def add_scalars(self, tag: str, value: dict, step: int | None = None):
        """Several values in one plot: ``{name: value}``."""
        if not isinstance(value, dict):
            raise InvalidTypeError(f"Logger.add_scalars: value is a dict {{name: value}}, not {type(value).__name__}")
        self._summary.add_scalars(main_tag=tag, tag_scalar_dict={k: float(v) for k, v in value.items()},
                                  global_step=step)

    def add_image(self, tag: str, img, step: int | None = None, equalize: bool = False):
        """An image, (height, width) or (height, width, 3), of integers in 0..255 or floats in
        [0, 1]; ``equalize`` rescales it to [0, 1] by its min and max."""
        img = _array(img, "add_image")
        if img.ndim == 3 and img.shape[2] != 3:
            raise ShapeError(f"Logger.add_image: color images have the shape (height, width, 3), not {img.shape}")
        if img.ndim not in (2, 3):
            raise ShapeError(f"Logger.add_image: images have the shape (height, width) or (height, width, 3), "
                             f"not {img.shape}")
        if equalize:
            img = _equalized(img)
        self._summary.add_image(tag=tag, img_tensor=img, global_step=step, dataformats="HW" if img.ndim == 2 else "HWC")

    def add_images(self, tag: str, img, step: int | None = None, equalize: bool = False,
                   equalize_per_image: bool = False):
        """A set of images, (number, height, width) or (number, height, width, 3) (receptive
        fields, ...); ``equalize`` rescales by the min and max of all of them, or of each one
        with ``equalize_per_image``."""
        img = _array(img, "add_images")
        if img.ndim == 3:
            img = img[..., np.newaxis]
        if img.ndim != 4 or img.shape[3] not in (1, 3):
            raise ShapeError(f"Logger.add_images: images have the shape (number, height, width) or (number, height, "
                             f"width, 3), not {img.shape}")
        if equalize:
            img = np.stack([_equalized(i) for i in img]) if equalize_per_image else _equalized(img)
        self._summary.add_images(tag=tag, img_tensor=img, global_step=step, dataformats="NHWC")

    def add_parameters(self, params: dict, metrics: dict):
        """The parameters of a run and the metrics they gave, once per run (tensorboard's
        hyper-parameter view compares runs)."""
        if not isinstance(params, dict) or not isinstance(metrics, dict):
            raise InvalidTypeError("Logger.add_parameters: params and metrics are dicts {name: value}")
        self._summary.add_hparams(params, metrics)

    def add_histogram(self, tag: str, hist, step: int | None = None):
        """The distribution of a list or 1D array of values (weights, rates, ...)."""
        values = np.asarray(_array(hist, "add_histogram"), dtype=float).reshape(-1)
        if values.size == 0:
            raise ShapeError("Logger.add_histogram: no values")
        self._summary.add_histogram(tag, values, step)

    def add_figure(self, tag: str, figure, step: int | None = None, close: bool = True):
        """A Matplotlib figure, drawn as an image (closed afterwards unless ``close=False``)."""
        try:
            import matplotlib.pyplot as plt
            from matplotlib.backends.backend_agg import FigureCanvasAgg
        except ImportError:
            raise NotSupportedError("Logger.add_figure needs matplotlib: pip install matplotlib") from None
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        self._summary.add_image(tag, rgba[:, :, :3], step, dataformats="HWC")
        if close:
            plt.close(figure)

    # resources -------------------------------------------------------------------------
    def flush(self):
        """Write what is queued to disk now."""
        self._summary.flush()

    def close(self):
        """Flush and close the event file."""
        self._summary.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()


__all__ = ["Logger"]
