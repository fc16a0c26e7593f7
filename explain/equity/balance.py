"""``data_balance()``: how the groups of people in the data differ before any model sees
them: their sizes, their labels, and each feature's standardised mean difference.

Example:
    >>> import numpy as np, pandas as pd, explain
    >>> x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 6.0], [4.0, 6.0]])
    >>> data = explain.Dataset(x, np.array([0, 1, 1, 1]), feature_names=["age", "score"],
    ...                        metadata=pd.DataFrame({"sex": ["f", "f", "m", "m"]}))
    >>> balance = explain.data_balance(data, sensitive="sex")
    >>> balance.smd_table.round(3).to_dict("index")["f"]  # (1.5 - 3.5) / sqrt((0.5 + 0.5) / 2)
    {'age': -2.828, 'score': -inf}
    >>> balance.by_group["share 1"].tolist()
    [0.5, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.core.dataset import Dataset
from explain.core.validate import Instance, check
from explain.equity.grouping import sensitive_groups
from explain.results.groups import DataBalance

__all__ = ["data_balance", "standardised_difference"]


def standardised_difference(inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Per column: ``(mean_inside - mean_outside) / sqrt((var_inside + var_outside) / 2)``
    with sample variances; 0 where both sides are constant and equal, ±inf where constant
    and different, NaN where a side has fewer than two rows."""
    if len(inside) < 2 or len(outside) < 2:
        return np.full(inside.shape[1], np.nan)
    gap = inside.mean(axis=0) - outside.mean(axis=0)
    spread = np.sqrt((inside.var(axis=0, ddof=1) + outside.var(axis=0, ddof=1)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, gap / np.where(spread > 0, spread, 1), np.where(gap == 0, 0.0, np.sign(gap) * np.inf))


def data_balance(data: Any, *, sensitive: Any) -> DataBalance:
    """Group sizes, the label distribution per group, and per feature the standardised
    mean difference (SMD) of each group against the rest of the rows (with two groups,
    the usual SMD between them; with more, read the largest |SMD| of a feature as the
    group that differs most from everyone else).

    Args:
        data: an explain.Dataset (labels optional; features compared where tabular).
        sensitive: a column name, a list of names, or one group label per row (see
            :mod:`explain.equity.grouping`); sensitive feature columns are not compared.

    Returns:
        A :class:`explain.DataBalance`; ``.sentence()`` names the largest imbalance.

    Raises:
        InputError: an unknown column or labels not one per row.
    """
    check(data=(data, Instance(Dataset, "Load the data with explain.load_dataset(path, target=..., metadata=[...]).")))
    groups = sensitive_groups(data, sensitive)
    codes, k = groups.codes, len(groups.names)
    notes = []
    features: tuple[str, ...] = ()
    x = np.zeros((len(data), 0))
    if data.x is not None and data.x.ndim == 2 and data.feature_names:
        keep = [j for j, name in enumerate(data.feature_names) if name not in groups.columns]
        features = tuple(data.feature_names[j] for j in keep)
        x = np.asarray(data.x[:, keep], dtype=np.float64)
    else:
        notes.append("no features compared: standardised mean differences need tabular data")
    count = groups.count
    means = np.array([x[codes == g].mean(axis=0) for g in range(k)]).reshape(k, len(features))
    smd = np.array([standardised_difference(x[codes == g], x[codes != g]) for g in range(k)]).reshape(k, -1)
    if k == 1:
        notes.append("one group only: nothing to compare it with")
    fields: dict[str, Any] = {}
    if data.y is not None and data.task == "classification":
        labels = np.asarray(data.labels, dtype=object)
        classes = tuple(data.class_names) if data.class_names else tuple(sorted(set(labels.tolist()), key=str))
        index = {c: i for i, c in enumerate(classes)}
        label_codes = np.array([index[v] for v in labels], dtype=np.int64)
        fields = {"class_names": classes,
                  "label_counts": np.bincount(codes * len(classes) + label_codes,
                                              minlength=k * len(classes)).reshape(k, len(classes))}
    elif data.y is not None:
        y = np.asarray(data.y, dtype=np.float64)
        fields = {"mean_label": np.bincount(codes, y, k) / count}
    return DataBalance(sensitive=groups.columns, groups=groups.names, count=count, features=features, means=means,
                       smd=smd, notes=tuple(notes), **fields)
