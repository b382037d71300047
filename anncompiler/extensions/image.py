"""ImagePopulation: a rate-coded input whose ``r`` is an image file (needs Pillow, the optional
``image`` extra: ``pip install anncompiler[image]``)."""
from __future__ import annotations

from anncompiler.core.inputs import InputArray
from anncompiler.errors import InvalidValueError, NotSupportedError, ShapeError


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise NotSupportedError("ImagePopulation needs Pillow: pip install anncompiler[image] "
                                "(or pip install Pillow)") from None
    return Image


class ImagePopulation(InputArray):
    """A rate-coded population of geometry ``(height, width)`` (grey levels) or
    ``(height, width, 3)`` (RGB; ``(height, width, 1)`` is grey too), whose ``r`` is set from an
    image file by :meth:`set_image`: the image is resized to the geometry and its values scaled
    to [0, 1]."""

    def __init__(self, geometry, name=None, *, network=None):
        shape = tuple(geometry) if isinstance(geometry, (tuple, list)) else (geometry,)
        if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3)):
            raise ShapeError(f"ImagePopulation {name or ''}: the geometry must be (height, width) or "
                             f"(height, width, 1 or 3), not {geometry!r}")
        super().__init__(geometry, name=name, network=network)

    def set_image(self, image_name):
        """Load ``image_name`` (any format Pillow reads), resize it to the geometry and set ``r``
        to its values divided by 255."""
        import numpy as np
        Image = _pillow()
        try:
            image = Image.open(image_name)
        except (OSError, ValueError) as e:
            raise InvalidValueError(f"ImagePopulation {self.name!r}: cannot read the image {image_name!r}: {e}") \
                from None
        shape = tuple(self.geometry)
        color = len(shape) == 3 and shape[2] == 3
        image = image.convert("RGB" if color else "L").resize((shape[1], shape[0]))
        values = np.asarray(image, dtype=float) / 255.0
        self.r = values.reshape(shape)
