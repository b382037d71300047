"""Optional extensions of the interface (as ANNarchy's ``ANNarchy.extensions``): ``image``
(ImagePopulation; Pillow is imported only when an image is loaded)."""
from . import image  # noqa: F401
