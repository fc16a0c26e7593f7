"""Per-group deltas of :func:`explain.compare` (fairness drift): each group's accuracy
under model A and model B and the change in the demographic parity difference, with the
groups of :func:`explain.fairness` (:func:`explain.equity.grouping.sensitive_groups`).

Example:
    >>> import numpy as np
    >>> codes = np.array([0, 0, 1, 1])
    >>> found = group_deltas(("g",), ("f", "m"), codes, truth=np.array([1, 0, 1, 0]), predicted_a=np.array([1, 0, 1, 0]),
    ...                      predicted_b=np.array([1, 1, 0, 0]), task="classification", positive=1, classes=("no", "yes"))
    >>> found["accuracy_a"], found["accuracy_b"], found["parity_difference"]
    ([1.0, 1.0], [0.5, 0.5], [0.0, 1.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.core.dataset import Dataset
from explain.equity.grouping import sensitive_groups
from explain.errors import InputError

__all__ = ["group_deltas", "groups_of"]


def groups_of(data: Any, sensitive: Any, n: int) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """``(columns, group names, group code per compared row)`` of ``sensitive`` in ``data``.

    Raises:
        InputError: ``data`` is not a Dataset, or it has rows that were not compared.

    Example:
        >>> import pandas as pd, explain
        >>> data = explain.Dataset(np.zeros((3, 2)), metadata=pd.DataFrame({"sex": ["f", "m", "f"]}))
        >>> groups_of(data, "sex", 3)[1:]
        (('f', 'm'), array([0, 1, 0]))
    """
    if not isinstance(data, Dataset):
        raise InputError("sensitive= needs the rows as an explain.Dataset (with the columns as metadata or "
                         "features): load them with explain.load_dataset(path, target=..., metadata=[...]).")
    groups = sensitive_groups(data, sensitive)
    if len(groups.codes) != n:
        raise InputError(f"The data has {len(groups.codes)} rows and {n} were compared (rows without a label are "
                         "left out); pass only labelled rows with sensitive=.")
    return groups.columns, groups.names, np.asarray(groups.codes)


def group_deltas(columns: tuple[str, ...], names: tuple[str, ...], codes: np.ndarray, *, truth: Any,
                 predicted_a: np.ndarray, predicted_b: np.ndarray, task: str, positive: int | None = None,
                 classes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Each group's figures under A and B: classifiers: accuracy (with labels) and the
    share decided ``positive`` (the selection rate) and the demographic parity difference
    (largest minus smallest selection rate) of each model; regression: mean absolute
    error (with labels), mean prediction and the mean prediction gap of each."""
    k = len(names)
    count = np.bincount(codes, minlength=k)
    present = count > 0

    def per_group(values: np.ndarray) -> list[float]:
        sums = np.bincount(codes, weights=values.astype(np.float64), minlength=k)
        return [float(s / c) if c else float("nan") for s, c in zip(sums, count)]

    def spread(rates: list[float]) -> float:
        kept = np.asarray(rates)[present]
        return float(kept.max() - kept.min()) if len(kept) else float("nan")

    out: dict[str, Any] = {"sensitive": list(columns), "names": list(names), "count": count.tolist()}
    if task == "classification":
        if truth is not None:
            out["accuracy_a"] = per_group(truth == predicted_a)
            out["accuracy_b"] = per_group(truth == predicted_b)
        out["selection_a"], out["selection_b"] = per_group(predicted_a == positive), per_group(predicted_b == positive)
        out["positive"] = classes[positive] if positive is not None and positive < len(classes) else positive
        out["parity_difference"] = [spread(out["selection_a"]), spread(out["selection_b"])]
    else:
        if truth is not None:
            t = np.asarray(truth, dtype=np.float64)
            out["mae_a"], out["mae_b"] = per_group(np.abs(t - predicted_a)), per_group(np.abs(t - predicted_b))
        out["mean_a"], out["mean_b"] = per_group(predicted_a), per_group(predicted_b)
        out["mean_prediction_gap"] = [spread(out["mean_a"]), spread(out["mean_b"])]
    return out
