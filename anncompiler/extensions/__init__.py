"""ANNarchy's extension modules (``from anncompiler.extensions.convolution import Convolution``)."""
