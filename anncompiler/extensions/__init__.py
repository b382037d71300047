"""ANNarchy's extension modules: ``convolution`` (``from anncompiler.extensions.convolution import
Convolution``) and ``image`` (ImagePopulation; Pillow is imported only when an image is loaded)."""
from . import image  # noqa: F401
