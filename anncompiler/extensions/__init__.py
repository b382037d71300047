"""ANNarchy's extension modules: ``convolution`` (``from anncompiler.extensions.convolution import
Convolution``), ``image`` (ImagePopulation; Pillow is imported only when an image is loaded),
``bold`` (BoldMonitor and the balloon models) and ``tensorboard`` (Logger; tensorboardX is
imported only when a Logger is created)."""
from . import bold, image, tensorboard  # noqa: F401
