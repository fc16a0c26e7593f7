"""The ``sensitive=`` argument of the fairness functions made into one group per row.

``sensitive`` is a column name (a metadata column of ``data.metadata`` or a feature; a
feature wins where both have the name, as in :func:`explain.slices`), a list of names
(intersectional groups, labelled ``"female & north"``; a list of 0/1 feature columns with
exactly one 1 per row is one-hot: each row's group is the name of its hot column), or one
group label per row (a numpy array or pandas Series always; a list when its items are not
all column names). Groups are sorted by their values, column by column; a missing value
is the group ``"missing"``.

Example:
    >>> import numpy as np, pandas as pd, explain
    >>> meta = pd.DataFrame({"sex": ["f", "m", "f", "m"], "region": ["n", "n", "s", "s"]})
    >>> data = explain.Dataset(np.array([[0.0, 1], [1, 0], [0, 1], [1, 1]]), metadata=meta)
    >>> groups = sensitive_groups(data, ["sex", "region"])
    >>> groups.names, groups.codes.tolist(), groups.inputs
    (('f & n', 'f & s', 'm & n', 'm & s'), [0, 2, 1, 3], ())
    >>> sensitive_groups(data, "x1").names, sensitive_groups(data, "x1").inputs
    (('0', '1'), ('x1',))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explain.core.dataset import Dataset
from explain.errors import InputError, InputTypeError

__all__ = ["Groups", "sensitive_groups", "MAX_GROUPS", "value_text"]

MAX_GROUPS = 50  # more than this is a continuous column, not groups of people: bin it first


@dataclass(frozen=True)
class Groups:
    """One group per row.

    Attributes:
        names: each group's label, in sorted order.
        codes: ``(n,)`` the index of each row's group in ``names``.
        columns: the columns that define the groups (``("groups",)`` for labels).
        inputs: those of them that are model inputs (feature columns), in order; empty
            when the groups come from metadata or labels.
        one_hot: whether ``inputs`` is one one-hot attribute.
    """

    names: tuple[str, ...]
    codes: np.ndarray
    columns: tuple[str, ...]
    inputs: tuple[str, ...]
    one_hot: bool = False

    @property
    def count(self) -> np.ndarray:
        """Rows in each group."""
        return np.bincount(self.codes, minlength=len(self.names))


def value_text(value: Any) -> str:
    """A group value as people write it: ``1`` not ``1.0``, ``"missing"`` for NaN/None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


def _column(data: Dataset, name: str) -> tuple[np.ndarray, bool]:
    """The values of column ``name`` and whether it is a model input."""
    if data.feature_names and name in data.feature_names and data.x is not None and data.x.ndim == 2:
        return data.x[:, data.feature_names.index(name)], True
    if data.metadata is not None and name in data.metadata.columns:
        return data.metadata[name].to_numpy(dtype=object), False
    raise InputError(f"sensitive names {name!r}, which is neither a metadata column ({_known(data.metadata)}) nor a "
                     f"feature ({_known(data.feature_names)}); load the column with explain.load_dataset(path, "
                     "target=..., metadata=[...]) or pass one group label per row.")


def _known(names: Any) -> str:
    names = [] if names is None else list(getattr(names, "columns", names))
    return ", ".join(map(repr, names[:12])) + (", ..." if len(names) > 12 else "") if names else "none"


def _is_names(data: Dataset, sensitive: Any) -> bool:
    known = set(data.feature_names or ()) | set(() if data.metadata is None else map(str, data.metadata.columns))
    return all(isinstance(s, str) and s in known for s in sensitive)


def sensitive_groups(data: Dataset, sensitive: Any) -> Groups:
    """The group of every row of ``data`` (see the module's docstring for ``sensitive``).

    Raises:
        InputError: an unknown column, labels not one per row, no groups, or more than
            :data:`MAX_GROUPS` groups (the message says to bin the column).
        InputTypeError: ``sensitive`` is none of the accepted kinds.
    """
    n = len(data)
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    if isinstance(sensitive, (list, tuple)) and sensitive and _is_names(data, sensitive) or \
            isinstance(sensitive, (list, tuple)) and len(sensitive) != n and all(isinstance(s, str) for s in sensitive):
        names = [str(s) for s in sensitive]
        if len(set(names)) != len(names) or not names:
            raise InputError(f"sensitive must name distinct columns, got {names!r}; pass e.g. sensitive='region'.")
        found = [_column(data, name) for name in names]
        inputs = tuple(name for name, (_, is_input) in zip(names, found) if is_input)
        values = [v for v, _ in found]
        if len(inputs) == len(names) > 1 and _one_hot(np.column_stack(values)):
            codes = np.column_stack(values).argmax(axis=1)
            present = np.unique(codes)
            return _checked(Groups(tuple(names[j] for j in present), np.searchsorted(present, codes),
                                   tuple(names), inputs, one_hot=True))
        return _checked(_combine(values, tuple(names), inputs))
    if isinstance(sensitive, (list, tuple, np.ndarray, pd.Series, pd.Categorical)):
        labels = np.asarray(sensitive, dtype=object).reshape(-1)
        if len(labels) != n:
            raise InputError(f"sensitive holds {len(labels)} group labels for {n} rows; pass one label per row, "
                             f"or column names of the data ({_known(data.metadata)}; features "
                             f"{_known(data.feature_names)}).")
        return _checked(_combine([labels], ("groups",), ()))
    raise InputTypeError(f"sensitive must be a column name, a list of names or one group label per row, got "
                         f"{type(sensitive).__name__}; pass e.g. sensitive='region' or sensitive=['sex', 'region'].")


def _one_hot(block: np.ndarray) -> bool:
    return bool(np.isin(block, (0, 1)).all() and np.all(block.sum(axis=1) == 1))


def _combine(values: list[np.ndarray], columns: tuple[str, ...], inputs: tuple[str, ...]) -> Groups:
    """Groups of the distinct combinations of ``values``, sorted column by column."""
    codes, uniques = [], []
    for v in values:
        series = pd.Series(v, dtype=object if v.dtype == object else v.dtype)
        numeric = pd.to_numeric(series, errors="coerce")
        if numeric.notna().sum() == series.notna().sum():  # numbers (maybe written as text): sort as numbers
            series = numeric
        code, unique = pd.factorize(series, sort=True, use_na_sentinel=True)
        codes.append(code)
        uniques.append(["missing", *[value_text(u) for u in unique]])
    stacked = np.column_stack(codes) if codes else np.zeros((0, 0), dtype=np.int64)
    present, inverse = np.unique(stacked, axis=0, return_inverse=True)
    names = tuple(" & ".join(uniques[c][int(code) + 1] for c, code in enumerate(row)) for row in present)
    return Groups(names, np.asarray(inverse, dtype=np.int64).reshape(-1), columns, inputs)


def _checked(groups: Groups) -> Groups:
    if len(groups.names) == 0:
        raise InputError("There are no rows to make groups of; pass data with at least one row.")
    if len(groups.names) > MAX_GROUPS:
        raise InputError(f"sensitive makes {len(groups.names)} groups (at most {MAX_GROUPS}): "
                         f"{', '.join(groups.columns)} looks continuous; bin it first, e.g. "
                         "metadata['age_band'] = pd.cut(age, [0, 30, 50, 120]).astype(str).")
    return groups
