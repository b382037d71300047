"""Random distributions used to initialise attributes, weights and delays.

These are ANNarchy's ``core/Random.py`` classes: thin wrappers around a
``numpy.random.Generator`` with ``get_values(shape)``.  Each instance owns a
generator (``rng``): a fresh ``np.random.default_rng()`` unless one is given
(``rng=net.default_rng`` makes the values reproducible with the network seed).

``distribution_name`` and ``args`` let the compiler recognise the distribution
and its parameters, e.g. to map the same names onto equation-level random
variables.  ``repr()`` gives source text that rebuilds the object (without the
generator).
"""
from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

Shape = Union[int, tuple]


def _as_shape(shape: Any) -> tuple:
    """Accept an int, a tuple or a list as a numpy shape."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _fmt(value: Any) -> str:
    """repr of a parameter, plain Python style (no ``np.float64(...)``)."""
    if isinstance(value, (np.integer,)):
        return repr(int(value))
    if isinstance(value, (np.floating,)):
        return repr(float(value))
    return repr(value)


class RandomDistribution:
    """Base class: subclasses define ``_params`` (constructor order) and ``_sample``.

    ``min``/``max`` (when a subclass has them and they are not None) clip the
    samples, as ANNarchy does for Normal, LogNormal, Exponential and Gamma.
    """

    distribution_name: str = "RandomDistribution"
    _params: tuple = ()
    _clipped: bool = False  # min/max are optional clipping bounds

    def __init__(self, rng: Optional[np.random.Generator] = None):
        self.rng = rng if rng is not None else np.random.default_rng()

    # -- interface ---------------------------------------------------------
    @property
    def args(self) -> dict:
        """Parameters by name, in constructor order (the generator excluded)."""
        return {name: getattr(self, name) for name in self._params}

    def get_values(self, shape: Shape) -> np.ndarray:
        """An ndarray of ``shape`` (an int or a tuple) of independent samples."""
        values = self._sample(_as_shape(shape))
        if self._clipped:
            lo, hi = getattr(self, "min", None), getattr(self, "max", None)
            if lo is not None or hi is not None:
                # in place when the samples are floats: no second array of them
                values = np.clip(values, lo, hi, out=values if values.dtype.kind == "f" else None)
        return values

    def get_value(self):
        """One sample, as a Python scalar."""
        return self.get_values(1)[0].item()

    def get_list_values(self, size: int) -> list:
        """ANNarchy-compatible helper: ``size`` samples as a list."""
        return self.get_values(size).tolist()

    def _sample(self, shape: tuple) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- printing ---------------------------------------------------------
    def __repr__(self) -> str:
        shown = []
        for name in self._params:
            value = getattr(self, name)
            if self._clipped and name in ("min", "max"):
                if value is not None:
                    shown.append(f"{name}={_fmt(value)}")
            else:
                shown.append(_fmt(value))
        return f"{type(self).__name__}({', '.join(shown)})"


def _check_bounds(name: str, lo, hi) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"{name}: min ({lo}) must not exceed max ({hi})")


class Uniform(RandomDistribution):
    """Uniform on [min, max): ``rng.uniform(min, max)``. Requires min < max."""

    distribution_name = "Uniform"
    _params = ("min", "max")

    def __init__(self, min: float, max: float, rng: Optional[np.random.Generator] = None):
        if not min < max:
            raise ValueError(f"Uniform: min ({min}) must be smaller than max ({max})")
        super().__init__(rng)
        self.min = min
        self.max = max

    def _sample(self, shape):
        return self.rng.uniform(self.min, self.max, shape)


class DiscreteUniform(RandomDistribution):
    """Integers uniform on [min, max], max INCLUDED (ANNarchy's convention)."""

    distribution_name = "DiscreteUniform"
    _params = ("min", "max")

    def __init__(self, min: int, max: int, rng: Optional[np.random.Generator] = None):
        if min > max:
            raise ValueError(f"DiscreteUniform: min ({min}) must not exceed max ({max})")
        super().__init__(rng)
        self.min = min
        self.max = max

    def _sample(self, shape):
        return self.rng.integers(self.min, self.max, shape, endpoint=True)


class Normal(RandomDistribution):
    """Normal(mu, sigma), clipped to [min, max] when those are given."""

    distribution_name = "Normal"
    _params = ("mu", "sigma", "min", "max")
    _clipped = True

    def __init__(self, mu: float, sigma: float, min: Optional[float] = None,
                 max: Optional[float] = None, rng: Optional[np.random.Generator] = None):
        if sigma < 0:
            raise ValueError(f"Normal: sigma ({sigma}) must be non-negative")
        _check_bounds("Normal", min, max)
        super().__init__(rng)
        self.mu, self.sigma, self.min, self.max = mu, sigma, min, max

    def _sample(self, shape):
        return self.rng.normal(self.mu, self.sigma, shape)


class LogNormal(RandomDistribution):
    """exp(Normal(mu, sigma)), clipped to [min, max] when given."""

    distribution_name = "LogNormal"
    _params = ("mu", "sigma", "min", "max")
    _clipped = True

    def __init__(self, mu: float, sigma: float, min: Optional[float] = None,
                 max: Optional[float] = None, rng: Optional[np.random.Generator] = None):
        if sigma < 0:
            raise ValueError(f"LogNormal: sigma ({sigma}) must be non-negative")
        _check_bounds("LogNormal", min, max)
        super().__init__(rng)
        self.mu, self.sigma, self.min, self.max = mu, sigma, min, max

    def _sample(self, shape):
        return self.rng.lognormal(self.mu, self.sigma, shape)


class Exponential(RandomDistribution):
    """``rng.exponential(Lambda)``, clipped to [min, max] when given.

    Beware: as in ANNarchy's Python side, ``Lambda`` is used as the SCALE
    (mean = Lambda), whereas ``Exponential(Lambda)`` inside an equation maps to
    ``std::exponential_distribution(Lambda)`` where it is a RATE (mean =
    1/Lambda).  We keep ANNarchy's behaviour for compatibility (its Appendix A,
    item 2).
    """

    distribution_name = "Exponential"
    _params = ("Lambda", "min", "max")
    _clipped = True

    def __init__(self, Lambda: float, min: Optional[float] = None,
                 max: Optional[float] = None, rng: Optional[np.random.Generator] = None):
        if Lambda <= 0:
            raise ValueError(f"Exponential: Lambda ({Lambda}) must be positive")
        _check_bounds("Exponential", min, max)
        super().__init__(rng)
        self.Lambda, self.min, self.max = Lambda, min, max

    def _sample(self, shape):
        return self.rng.exponential(self.Lambda, shape)


class Gamma(RandomDistribution):
    """Gamma with shape ``alpha`` and scale ``beta`` (numpy's convention), clipped when given."""

    distribution_name = "Gamma"
    _params = ("alpha", "beta", "min", "max")
    _clipped = True

    def __init__(self, alpha: float, beta: float = 1.0, min: Optional[float] = None,
                 max: Optional[float] = None, rng: Optional[np.random.Generator] = None):
        if alpha <= 0 or beta <= 0:
            raise ValueError(f"Gamma: alpha ({alpha}) and beta ({beta}) must be positive")
        _check_bounds("Gamma", min, max)
        super().__init__(rng)
        self.alpha, self.beta, self.min, self.max = alpha, beta, min, max

    def _sample(self, shape):
        return self.rng.gamma(self.alpha, self.beta, shape)


class Binomial(RandomDistribution):
    """Number of successes in ``n`` trials of probability ``p`` (integers)."""

    distribution_name = "Binomial"
    _params = ("n", "p")

    def __init__(self, n: int, p: float, rng: Optional[np.random.Generator] = None):
        if n < 0 or not 0.0 <= p <= 1.0:
            raise ValueError(f"Binomial: need n >= 0 and 0 <= p <= 1 (got n={n}, p={p})")
        super().__init__(rng)
        self.n, self.p = n, p

    def _sample(self, shape):
        return self.rng.binomial(self.n, self.p, shape)


def from_init(init, model: str = "") -> "RandomDistribution":
    """The distribution an ``init = Uniform(...)`` of a model names (``ir.model.RandomInit``)."""
    from anncompiler.errors import FlagError
    cls = globals().get(init.distribution)
    if not (isinstance(cls, type) and issubclass(cls, RandomDistribution)):
        raise FlagError(f"unknown distribution '{init}'", model=model or None)
    try:
        return cls(*init.args, **dict(init.kwargs))
    except Exception as e:
        raise FlagError(f"bad distribution '{init}': {e}", model=model or None) from None


__all__ = ["RandomDistribution", "Uniform", "DiscreteUniform", "Normal", "LogNormal",
           "Exponential", "Gamma", "Binomial"]
