"""What a counterfactual may change, read from the reference data and the user's options.

A one-hot group is a set of at least two 0/1 columns that share a name prefix (``color_red``,
``color_blue``: the text before the last ``_``) and sum to exactly 1 in every row; the
user may name groups too (``onehot=[[...], ...]``). A column whose values are all whole
numbers is an integer column. Scales are the median absolute deviation (MAD) of each
column, else its standard deviation, else 1.

Example:
    >>> import numpy as np
    >>> x = np.array([[1.0, 1, 1, 20], [0, 1, 0, 35], [1, 0, 0, 41]])
    >>> names = ("color_red", "color_blue", "owner", "age")
    >>> onehot_groups(x, names, None)
    []
    >>> x = np.array([[1.0, 0, 1, 20], [0, 1, 0, 35], [1, 0, 1, 41]])
    >>> [g.tolist() for g in onehot_groups(x, names, None)]
    [[0, 1]]
    >>> c = build(x, names, immutable=["age"], ranges={"age": (18, 99)}, onehot=None)
    >>> c.integer.tolist(), c.mutable.tolist(), c.high.tolist()
    ([True, True, True, True], [True, True, True, False], [1.0, 1.0, 1.0, 99.0])
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from explain.effects.grids import is_integral
from explain.errors import DataError, InputError

__all__ = ["Constraints", "build", "onehot_groups"]


@dataclass(frozen=True)
class Constraints:
    """Per-feature bounds and kinds. ``units`` are what sparsity counts and what searches
    change: one per column, except one per one-hot group."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    integer: np.ndarray
    mutable: np.ndarray
    scale: np.ndarray
    groups: tuple[np.ndarray, ...]
    units: tuple[np.ndarray, ...]

    def project(self, x: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Clip to the ranges and put immutable features back to the query's values."""
        out = np.clip(x, self.low, self.high)
        out[..., ~self.mutable] = query[~self.mutable]
        return out

    def finalize(self, x: np.ndarray, query: np.ndarray) -> np.ndarray:
        """:meth:`project`, then integer columns rounded (within their ranges) and each one-hot
        group snapped to its largest column."""
        out = self.project(np.array(x, dtype=np.float64), query)
        for group in self.groups:
            picked = np.argmax(out[..., group], axis=-1)
            out[..., group] = np.eye(len(group))[picked]
        ints = self.integer
        out[..., ints] = np.clip(np.round(out[..., ints]), np.ceil(self.low[ints]), np.floor(self.high[ints]))
        out[..., ~self.mutable] = query[~self.mutable]
        return out

    def violations(self, x: np.ndarray, query: np.ndarray) -> int:
        """How many constraints the rows of ``x`` break (0 for every returned counterfactual)."""
        x = np.atleast_2d(x)
        bad = ((x < self.low - 1e-9) | (x > self.high + 1e-9)) & self.mutable
        bad |= (x != query) & ~self.mutable
        bad |= (x != np.round(x)) & self.integer & self.mutable
        count = int(bad.sum())
        for group in self.groups:
            part = x[:, group]
            count += int((~np.isin(part, (0.0, 1.0))).any(axis=1).sum() + (part.sum(axis=1) != 1).sum())
        return count

    def changed_units(self, x: np.ndarray, query: np.ndarray) -> np.ndarray:
        """``(rows, units)`` whether each unit differs from the query."""
        diff = np.atleast_2d(x) != query
        return np.stack([diff[:, unit].any(axis=1) for unit in self.units], axis=1)


def onehot_groups(x: np.ndarray, names: tuple[str, ...], given: Any) -> list[np.ndarray]:
    """The one-hot groups: the user's (``given``, lists of names) and those found by prefix.

    Raises:
        InputError: a given group names an unknown feature, or fewer than two.
        DataError: a given group's columns are not 0/1 summing to 1 in every row.
    """
    groups: list[np.ndarray] = []
    for group in given or ():
        if isinstance(group, str) or len(group) < 2:
            raise InputError(f"Each onehot group is a list of at least two column names, got {group!r}; "
                             "pass e.g. onehot=[['color_red', 'color_blue']].")
        unknown = [g for g in group if str(g) not in names]
        if unknown:
            raise InputError(f"onehot names unknown features {unknown}; pass column names of the data.")
        cols = np.array([names.index(str(g)) for g in group])
        if not _is_onehot(x[:, cols]):
            raise DataError(f"The columns {list(group)} are not one-hot: each row must hold 0/1 values that sum "
                            "to 1. Leave the group out of onehot=, or encode the data one-hot.")
        groups.append(cols)
    taken = {int(c) for g in groups for c in g}
    prefixes: dict[str, list[int]] = defaultdict(list)
    for j, name in enumerate(names):
        if "_" in name and j not in taken and np.isin(x[:, j], (0.0, 1.0)).all():
            prefixes[name.rsplit("_", 1)[0]].append(j)
    for cols in prefixes.values():
        if len(cols) >= 2 and _is_onehot(x[:, cols]):
            groups.append(np.array(cols))
    return groups


def _is_onehot(part: np.ndarray) -> bool:
    return bool(np.isin(part, (0.0, 1.0)).all() and (part.sum(axis=1) == 1).all())


def build(x: np.ndarray, names: tuple[str, ...], *, immutable: Any, ranges: Any, onehot: Any) -> Constraints:
    """The constraints of the reference rows ``x`` and the user's options.

    Raises:
        InputError: an unknown feature in ``immutable``/``ranges``, or a range that is not
            ``(low, high)`` with low <= high.
    """
    low, high = x.min(axis=0).astype(np.float64), x.max(axis=0).astype(np.float64)
    for name, bounds in dict(ranges or {}).items():
        if str(name) not in names:
            raise InputError(f"ranges names an unknown feature {name!r}; pass column names of the data.")
        try:
            lo, hi = (float(b) for b in bounds)
        except (TypeError, ValueError) as err:
            raise InputError(f"ranges[{name!r}] must be (low, high), got {bounds!r}; pass e.g. "
                             f"ranges={{{name!r}: (0, 100)}}.") from err
        if not lo <= hi:
            raise InputError(f"ranges[{name!r}] = {bounds!r} has low above high; pass (low, high).")
        j = names.index(str(name))
        low[j], high[j] = lo, hi
    mutable = np.ones(len(names), dtype=bool)
    for name in [immutable] if isinstance(immutable, str) else list(immutable or ()):
        if str(name) not in names:
            raise InputError(f"immutable names an unknown feature {name!r}; pass column names of the data.")
        mutable[names.index(str(name))] = False
    groups = onehot_groups(x, names, onehot)
    for group in groups:  # a group changes as one: fixed if any of its columns is
        if not mutable[group].all():
            mutable[group] = False
    integer = np.array([is_integral(x[:, j]) for j in range(x.shape[1])], dtype=bool)
    mad = np.median(np.abs(x - np.median(x, axis=0)), axis=0)
    std = x.std(axis=0)
    scale = np.where(mad > 0, mad, np.where(std > 0, std, 1.0))
    in_group = {int(c) for g in groups for c in g}
    units = tuple(groups) + tuple(np.array([j]) for j in range(len(names)) if j not in in_group)
    return Constraints(names=names, low=low, high=high, integer=integer, mutable=mutable, scale=scale,
                       groups=tuple(groups), units=units)
