"""The target of a counterfactual: a class to reach (classifiers) or a range of predictions
(regression), and the check that model outputs reach it.

Example:
    >>> import numpy as np
    >>> goal = Goal(cls=1, label="yes")
    >>> goal.reached(np.array([[0.0, 2.0], [3.0, 1.0]])).tolist()
    [True, False]
    >>> Goal(low=10.0, high=20.0, label="[10, 20]").reached(np.array([[15.0], [25.0]])).tolist()
    [True, False]
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from explain.errors import InputError

__all__ = ["Goal", "resolve_goal"]


@dataclass(frozen=True)
class Goal:
    """A class index ``cls`` (classification), else the range ``[low, high]`` of output 0."""

    cls: int | None = None
    low: float = -np.inf
    high: float = np.inf
    label: str = ""

    def reached(self, out: np.ndarray) -> np.ndarray:
        """Per row of raw outputs (classifier logits as ``explain.core.running.outputs``
        gives them), whether it reaches the goal."""
        out = np.atleast_2d(out)
        if self.cls is not None:
            return out.argmax(axis=1) == self.cls
        return (out[:, 0] >= self.low) & (out[:, 0] <= self.high)


def resolve_goal(task: str, classes: tuple[str, ...], target: Any, predicted: int) -> Goal:
    """The goal of one query whose predicted class is ``predicted`` (classification).

    Raises:
        InputError: an unknown class, a multi-class model without ``target``, or a
            regression target that is not ``(low, high)``.
    """
    if task != "classification":
        if not isinstance(target, (tuple, list)) or len(target) != 2:
            raise InputError(f"A regression model's target is a range (low, high) of predictions, got {target!r}; "
                             "pass e.g. target=(100, 200), with None for an open end.")
        low = -np.inf if target[0] is None else _number(target[0])
        high = np.inf if target[1] is None else _number(target[1])
        if low > high:
            raise InputError(f"target {tuple(target)!r} has low above high; pass (low, high).")
        return Goal(low=low, high=high, label=f"[{low:g}, {high:g}]")
    if target is None:
        if len(classes) != 2:
            raise InputError(f"The model has {len(classes)} classes: pass target=<class name or index> "
                             f"(one of {list(classes)}) to say which one the counterfactuals should reach.")
        target = 1 - predicted
    if isinstance(target, str):
        if target not in classes:
            raise InputError(f"Unknown target class {target!r}; pass one of {list(classes)} or its index.")
        target = classes.index(target)
    if isinstance(target, bool) or not isinstance(target, numbers.Integral) or not 0 <= int(target) < len(classes):
        raise InputError(f"target must be a class name or an index from 0 to {len(classes) - 1}, got {target!r}; "
                         f"pass e.g. target={classes[-1]!r}.")
    return Goal(cls=int(target), label=classes[int(target)])


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"A regression target's ends are numbers or None, got {value!r}; pass e.g. target=(100, 200).")
    return float(value)
