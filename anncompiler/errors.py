"""The exceptions anncompiler raises for user mistakes and internal faults.

Every user-facing error derives from :class:`AnnCompilerError`.  Model errors
carry the model name, the equation as written and the offending name or
column, so that the message points at the user's text rather than at sympy or
llvmlite internals.
"""
from __future__ import annotations


class AnnCompilerError(Exception):
    """Base class of every exception raised by anncompiler."""


class ModelError(AnnCompilerError, ValueError):
    """A Neuron or Synapse definition is wrong.

    ``model`` is the model's name, ``equation`` the line as the user wrote it,
    ``name`` the offending identifier (if any) and ``column`` a 0-based column
    in ``equation`` to put a caret under (if known).
    """

    def __init__(self, message: str, *, model: str | None = None,
                 equation: str | None = None, name: str | None = None,
                 column: int | None = None):
        self.reason = message
        self.model = model
        self.equation = equation
        self.name = name
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        head = f"in model '{self.model}': " if self.model else ""
        text = head + self.reason
        if self.name and f"'{self.name}'" not in self.reason:
            text += f" (name: '{self.name}')"
        if self.equation is not None:
            text += f"\n    {self.equation}"
            if self.column is not None and 0 <= self.column <= len(self.equation):
                text += "\n    " + " " * self.column + "^"
        return text


class EquationSyntaxError(ModelError):
    """An equation cannot be parsed (unbalanced parentheses, bad operator, ...)."""


class UnknownNameError(ModelError, NameError):
    """An equation uses a name that is neither an attribute, a constant nor a function."""


class ReservedNameError(ModelError):
    """An attribute uses a reserved name (``t``, ``dt``, a built-in function, ...)."""


class MissingVariableError(ModelError):
    """A required variable is missing (``r`` in a rate-coded neuron) or forbidden."""


class LocalityError(ModelError):
    """A global attribute depends on a local one, or a similar locality rule is broken."""


class FlagError(ModelError):
    """An unknown or malformed flag after ``:``."""


class NonLinearODEError(ModelError):
    """A numerical method that needs a linear ODE was given a non-linear one."""


class ArityError(ModelError):
    """A function is called with the wrong number of arguments."""


class NetworkError(AnnCompilerError):
    """The network is inconsistent: unknown population, compile twice, add after compile, ..."""


class ConnectivityError(NetworkError, ValueError):
    """A connector was given impossible arguments (probability out of range, wrong shape, ...)."""


class IndexOutOfRangeError(AnnCompilerError, IndexError):
    """A population index, slice or coordinate is outside the population."""


class ShapeError(AnnCompilerError, ValueError):
    """An array assigned to an attribute has the wrong shape."""


class InvalidValueError(AnnCompilerError, ValueError):
    """A value is out of its domain: a negative or non-finite ``dt``, duration, period,
    delay, refractory period or spike time, a population of size 0, ..."""


class InvalidTypeError(AnnCompilerError, TypeError):
    """A value has the wrong type (``pop.v = None``, a string where a number is expected)."""


class NotSupportedError(AnnCompilerError, NotImplementedError):
    """A part of ANNarchy's interface that anncompiler does not implement yet (the README's
    "Not supported yet" lists them)."""


class PipelineError(AnnCompilerError):
    """A pass pipeline string names an unknown pass or is malformed."""


class BackendError(AnnCompilerError):
    """A backend is unknown, unavailable or failed to build the code."""


class IRVerificationError(AnnCompilerError):
    """An IR stage is malformed: a bug in a pass (ours or a user's), not in the model."""


class RecordingMemoryWarning(UserWarning):
    """The in-memory recordings of the monitors may not fit in the memory left (estimated before
    each simulation); a streamed monitor (``stream='rec.h5'``) records to disk instead."""
