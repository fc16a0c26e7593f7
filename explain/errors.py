"""Errors raised by the explain package.

Every error a user can meet is an :class:`ExplainError`. Subclasses also derive
from the built-in exception that fits (``ValueError``, ``TypeError``,
``ImportError``) so that ordinary ``except ValueError`` code keeps working.

A message always says three things: what was wrong, what was expected, and how
to fix it.

Example:
    >>> import explain
    >>> try:
    ...     explain.load_model(b"not a model")
    ... except explain.ExplainError as err:
    ...     print(type(err).__name__, isinstance(err, ValueError))
    ModelFormatError True
"""

from __future__ import annotations

__all__ = [
    "ExplainError",
    "ModelFormatError",
    "UnsafeModelError",
    "DataError",
    "MethodError",
    "InputError",
    "InputTypeError",
    "MissingDependencyError",
]


class ExplainError(Exception):
    """Base class of every error the explain package raises on purpose."""


class ModelFormatError(ExplainError, ValueError):
    """A model file could not be recognised or read."""


class UnsafeModelError(ExplainError, ValueError):
    """A model file was refused because loading it could run code."""


class DataError(ExplainError, ValueError):
    """A dataset could not be read, or does not fit the model."""


class MethodError(ExplainError, ValueError):
    """An explanation method is unknown, or cannot serve this model."""


class InputError(ExplainError, ValueError):
    """An argument (inputs or an option) has a value that does not fit."""


class InputTypeError(InputError, TypeError):
    """An argument has the wrong type (also an :class:`InputError`, so one ``except``
    catches both)."""


class MissingDependencyError(ExplainError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""
