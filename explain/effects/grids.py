"""The inputs of feature-effect methods: rows as a float array, features by name or index,
and the grid of values each feature is set to.

A grid follows scikit-learn's ``partial_dependence``: a feature with fewer distinct values
than ``grid_resolution`` uses those values exactly (one-hot and other categorical columns);
otherwise ``grid_resolution`` equally spaced points between two percentiles of the column
(``scipy.stats.mstats.mquantiles``' definition). A column whose values are all integers
gets that grid rounded to integers (scikit-learn refuses integer columns).

Example:
    >>> import numpy as np
    >>> x = np.array([[0.0, 1.0], [1.0, 5.0], [0.0, 9.0], [1.0, 3.0]])
    >>> feature_grid(x[:, 0], 20, (0.05, 0.95)).tolist()
    [0.0, 1.0]
    >>> feature_grid(np.arange(100.0), 5, (0.0, 1.0)).tolist()
    [0.0, 25.0, 50.0, 74.0, 99.0]
    >>> mquantiles(np.arange(10.0), [0.3, 0.71]).round(3).tolist()
    [2.46, 6.642]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from explain.core.dataset import Dataset
from explain.core.model import Model, check_model
from explain.errors import DataError, InputError

__all__ = ["Feature", "tabular_rows", "feature_names", "resolve_features", "feature_grid", "mquantiles",
           "is_integral"]

Feature = str | tuple[str, str]


def tabular_rows(model: Any, data: Any, what: str) -> tuple[Model, np.ndarray, tuple[str, ...]]:
    """The checked model, ``data`` as a float64 ``(rows, features)`` array, and the feature names.

    Raises:
        InputError: not a tabular model, or no rows.
        DataError: rows that do not fit the model (feature count, NaN).
    """
    model = check_model(model)
    if model.modality != "tabular":
        raise InputError(f"{what} needs a tabular model; this one takes {model.modality} inputs. "
                         "Use explain.attribute or explain.global_importance for images and text.")
    if isinstance(data, Dataset):
        if data.modality != "tabular" or data.x is None:
            raise DataError(f"{what} needs a tabular Dataset; this one holds {data.modality} data.")
        x, names = data.x, data.feature_names
    elif hasattr(data, "columns") and hasattr(data, "to_numpy"):
        x, names = data, tuple(str(c) for c in data.columns)
    else:
        x, names = data, None
    from explain.core.batch import prepare

    checked = prepare(model, x).x.detach().cpu().numpy().astype(np.float64)  # shape and finiteness checks
    if checked.shape[0] == 0:
        raise InputError(f"{what} needs rows of data; got none. Pass the dataset the model was trained on.")
    return model, _as_given(x, checked), feature_names(model, names, checked.shape[1])


def _as_given(x: Any, checked: np.ndarray) -> np.ndarray:
    """The rows as the caller gave them, in float64 (``checked`` went through float32): a
    value that nothing changes stays the caller's own, bit for bit (a query's 0.16 is not
    returned as 0.1599999964, which would count as a change)."""
    try:
        given = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):  # a tensor that needs grad, objects: the checked copy
        return checked
    return given if given.shape == checked.shape else checked


def feature_names(model: Model, names: Sequence[str] | None, p: int) -> tuple[str, ...]:
    """The model's feature names, else the data's, else ``x0 .. x{p-1}``."""
    found = model.feature_names or names
    if found and len(found) == p:
        return tuple(str(n) for n in found)
    return tuple(f"x{i}" for i in range(p))


def _index(names: tuple[str, ...], feature: Any) -> int:
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
        if not 0 <= int(feature) < len(names):
            raise InputError(f"Feature index {int(feature)} is out of range: the model has {len(names)} "
                             f"features; pass an index from 0 to {len(names) - 1} or a name.")
        return int(feature)
    if str(feature) not in names:
        shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
        raise InputError(f"Unknown feature {feature!r}; pass one of the model's feature names: {shown}.")
    return names.index(str(feature))


def resolve_features(names: tuple[str, ...], features: Any, *, pairs: bool) -> list[tuple[Feature, tuple[int, ...]]]:
    """``features`` (a name, an index, or a list of them; with ``pairs`` also ``(a, b)``
    tuples) as ``(key, column indices)``; keys are names, or pairs of names.

    Raises:
        InputError: an unknown name, an index out of range, or an empty list.
    """
    if isinstance(features, (str, int, np.integer)):
        features = [features]
    try:
        items = list(features)
    except TypeError as err:
        raise InputError(f"features must be a list of feature names, got {features!r}; "
                         "pass e.g. features=['amount'].") from err
    if not items:
        raise InputError(f"features is empty; pass e.g. features=[{names[0]!r}].")
    out: list[tuple[Feature, tuple[int, ...]]] = []
    for item in items:
        if isinstance(item, (tuple, list)) and not isinstance(item, str):
            if not pairs or len(item) != 2:
                raise InputError(f"{tuple(item)!r} is not a feature; pass single names"
                                 + (", or pairs (a, b) for a 2-D surface." if pairs else "."))
            a, b = _index(names, item[0]), _index(names, item[1])
            if a == b:
                raise InputError(f"The pair {tuple(item)!r} names one feature twice; pass two different features.")
            out.append(((names[a], names[b]), (a, b)))
        else:
            j = _index(names, item)
            out.append((names[j], (j,)))
    return out


def is_integral(values: np.ndarray) -> bool:
    """Whether every value is a whole number."""
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def mquantiles(values: np.ndarray, prob: Sequence[float], alphap: float = 0.4, betap: float = 0.4) -> np.ndarray:
    """Quantiles as ``scipy.stats.mstats.mquantiles`` computes them (its default plotting
    positions, which scikit-learn's partial-dependence grid uses)."""
    x = np.sort(np.asarray(values, dtype=np.float64).reshape(-1))
    n = x.size
    p = np.asarray(prob, dtype=np.float64)
    m = alphap + p * (1.0 - alphap - betap)
    aleph = n * p + m
    k = np.floor(np.clip(aleph, 1, n - 1)).astype(int)
    gamma = np.clip(aleph - k, 0, 1)
    return (1.0 - gamma) * x[k - 1] + gamma * x[k]


def feature_grid(values: np.ndarray, resolution: int, percentiles: tuple[float, float]) -> np.ndarray:
    """The values a feature is set to (see the module's docstring).

    Raises:
        DataError: the percentiles of the column are equal (too few distinct values apart).
    """
    uniques = np.unique(values)
    if uniques.size < resolution:
        return uniques
    low, high = mquantiles(values, percentiles)
    if np.isclose(low, high):
        raise DataError(f"The column's {percentiles[0]:g} and {percentiles[1]:g} percentiles are both {low:g}; "
                        "pass percentiles further apart, e.g. percentiles=(0.0, 1.0).")
    grid = np.linspace(low, high, num=resolution)
    return np.unique(np.round(grid)) if is_integral(uniques) else grid
