"""One way to check arguments at the public boundary: rules declared per parameter, and
errors that name the parameter, what was expected, what came, and an example of a good value.

A bad type raises :class:`~explain.errors.InputTypeError` (a ``TypeError``), a bad value
:class:`~explain.errors.InputError` (a ``ValueError``); both are ``ExplainError``s.
Booleans are not integers here, numpy integers and floats are numbers, NaN is within no
bounds. A rule's ``hint`` is added to its message (what a special value means, say), and
``suggest`` is the good value its message proposes.

Example:
    >>> check(steps=(20, Int(low=1)), alpha=(0.1, Number(low=0, high=1, open=True)))
    {'steps': 20, 'alpha': 0.1}
    >>> check(batch_size=(0, Int(low=1, optional=True)))
    Traceback (most recent call last):
    ...
    explain.errors.InputError: batch_size must be a positive integer or None, got 0; pass e.g. batch_size=64.
    >>> check(norm=("l3", OneOf(("linf", "l2"))))
    Traceback (most recent call last):
    ...
    explain.errors.InputError: norm must be one of 'linf', 'l2', got 'l3'; pass e.g. norm='linf'.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from explain.errors import InputError, InputTypeError

__all__ = ["Int", "Number", "OneOf", "Instance", "check"]


@dataclass(frozen=True)
class Int:
    """An integer (not a bool) within ``[low, high]``; ``optional`` lets None through."""

    low: int | None = None
    high: int | None = None
    optional: bool = False
    hint: str = ""
    suggest: int | None = None

    def expected(self) -> str:
        if self.low == 1 and self.high is None:
            text = "a positive integer"
        else:
            text = "an integer" + _bounds(self.low, self.high, open=False)
        return text + (" or None" if self.optional else "")

    def example(self) -> Any:
        if self.suggest is not None:
            return self.suggest
        return 64 if self.low is not None and self.low <= 64 <= (self.high or 64) else (self.low or 0)

    def convert(self, name: str, value: Any) -> Any:
        if value is None and self.optional:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InputTypeError(_message(name, self, value))
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise InputError(_message(name, self, value))
        return int(value)


@dataclass(frozen=True)
class Number:
    """A real number within ``[low, high]`` (``open``: strictly between them)."""

    low: float | None = None
    high: float | None = None
    open: bool = False
    optional: bool = False
    hint: str = ""
    suggest: float | None = None

    def expected(self) -> str:
        text = "a number" + _bounds(self.low, self.high, open=self.open)
        return text + (" or None" if self.optional else "")

    def example(self) -> Any:
        if self.suggest is not None:
            return self.suggest
        if self.low is not None and self.high is not None:
            return round((self.low + self.high) / 10 if self.low == 0 else (self.low + self.high) / 2, 3)
        return self.low + 1 if self.low is not None else 1.0

    def convert(self, name: str, value: Any) -> Any:
        if value is None and self.optional:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputTypeError(_message(name, self, value))
        value = float(value)
        low_bad = self.low is not None and (value <= self.low if self.open else value < self.low)
        high_bad = self.high is not None and (value >= self.high if self.open else value > self.high)
        if low_bad or high_bad or value != value:  # NaN fits no bounds
            raise InputError(_message(name, self, value))
        return value


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of values (names of methods, attacks, norms, ...)."""

    choices: tuple[Any, ...]
    optional: bool = False
    hint: str = ""

    def expected(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices) + (" or None" if self.optional else "")

    def example(self) -> Any:
        return self.choices[0]

    def convert(self, name: str, value: Any) -> Any:
        if value is None and self.optional:
            return None
        try:
            known = value in self.choices
        except TypeError:  # an unhashable or uncomparable value
            known = False
        if not known:
            raise InputError(_message(name, self, value))
        return value


@dataclass(frozen=True)
class Instance:
    """An instance of ``kind``; ``hint`` says how to make one."""

    kind: type | tuple[type, ...]
    hint: str
    optional: bool = False

    def convert(self, name: str, value: Any) -> Any:
        if value is None and self.optional:
            return None
        if not isinstance(value, self.kind):
            kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
            wanted = " or ".join(_type_name(k) for k in kinds)
            article = "an" if wanted[0] in "aeiou" else "a"
            raise InputTypeError(f"{name} must be {article} {wanted}, got {type(value).__name__}. {self.hint}")
        return value


Rule = Int | Number | OneOf | Instance


def check(**arguments: tuple[Any, Rule]) -> dict[str, Any]:
    """Check each ``name=(value, rule)`` and return the values, converted (numpy integers
    to ``int``, numbers to ``float``).

    Raises:
        InputTypeError: a value of the wrong type.
        InputError: a value of the right type outside what the rule allows.
    """
    return {name: rule.convert(name, value) for name, (value, rule) in arguments.items()}


def _type_name(kind: type) -> str:
    """How users write a type: ``explain.Model`` for explain's own types."""
    if kind.__module__.split(".")[0] == "explain":
        return f"explain.{kind.__name__}"
    return kind.__name__


def _bounds(low: float | None, high: float | None, *, open: bool) -> str:
    if low is not None and high is not None:
        return f" {'strictly ' if open else ''}between {low} and {high}"
    if low is not None:
        return f" {'>' if open else '>='} {low}"
    if high is not None:
        return f" {'<' if open else '<='} {high}"
    return ""


def _message(name: str, rule: Int | Number | OneOf, value: Any) -> str:
    text = f"{name} must be {rule.expected()}, got {value!r}; pass e.g. {name}={rule.example()!r}."
    return f"{text} {rule.hint}" if rule.hint else text
