"""``from ANNarchy.extensions.convolution import Convolution, Pooling, Copy, Transpose``."""
from anncompiler.core.specialised import Convolution, Copy, Pooling, Transpose

__all__ = ["Convolution", "Copy", "Pooling", "Transpose"]
