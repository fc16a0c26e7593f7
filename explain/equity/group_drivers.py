"""``group_importance()``: what the model leans on in each group of people: global
importance (:func:`explain.global_importance`) on each group's rows, how alike the groups'
rankings are, and the feature it leans on more for one group than another.

Example:
    >>> import numpy as np, pandas as pd, torch, explain
    >>> model = explain.Model(torch.nn.Linear(2, 2), modality="tabular", feature_names=["tenure", "amount"])
    >>> meta = pd.DataFrame({"region": ["north", "south"] * 20})
    >>> data = explain.Dataset(np.random.default_rng(0).random((40, 2)), np.zeros(40, dtype=int), metadata=meta)
    >>> result = explain.group_importance(model, data, sensitive="region")
    >>> result.frame().shape, result.spearman.shape
    ((2, 2), (2, 2))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from explain.attribution.streaming import global_importance
from explain.core.dataset import Dataset
from explain.core.model import check_model
from explain.core.validate import Instance, Int, check
from explain.equity.grouping import sensitive_groups
from explain.results.groups import GroupImportance

__all__ = ["group_importance", "spearman"]


def spearman(values: np.ndarray) -> np.ndarray:
    """Spearman rank correlation between the rows of ``values`` (ties get average ranks;
    NaN for a row whose values are all equal)."""
    ranks = np.array([pd.Series(row).rank(method="average").to_numpy() for row in values])
    centred = ranks - ranks.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred**2).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = centred @ centred.T / np.outer(norm, norm)
    return np.where(np.outer(norm, norm) > 0, out, np.nan)


def group_importance(model: Any, data: Any, *, sensitive: Any, method: str = "saliency", sample: int = 2000,
                     batch_size: int | None = None, seed: int = 0, backend: Any = None) -> GroupImportance:
    """Mean |attribution| of every feature over each group's rows, their Spearman rank
    correlations, and the feature with the largest ratio between two groups among those
    that matter (at least a tenth of the largest importance in the group that leans on it
    more).

    Args:
        model: an :class:`explain.Model`.
        data: an :class:`explain.Dataset`.
        sensitive: a column name, a list of names, or one group label per row (see
            :mod:`explain.equity.grouping`).
        method: an attribution method (:func:`explain.methods`).
        sample: attribute at most this many rows of each group (drawn with ``seed``).
        batch_size: rows attributed at a time (None: from the memory budget).
        seed: draws the samples and seeds the method.
        backend: as for :func:`explain.global_importance`.

    Returns:
        A :class:`explain.GroupImportance`; ``.frame()`` is features by groups,
        ``.sentence()`` says where the groups differ.

    Raises:
        InputError: an unknown column, labels not one per row, or a bad option.
    """
    model = check_model(model)
    opts = check(data=(data, Instance(Dataset, "Pass an explain.Dataset with the sensitive column.")),
                 sample=(sample, Int(low=1, suggest=2000)), seed=(seed, Int()))
    groups = sensitive_groups(data, sensitive)
    rng = np.random.default_rng(opts["seed"])
    found = []
    for g in range(len(groups.names)):
        picked = np.flatnonzero(groups.codes == g)
        if picked.size > opts["sample"]:
            picked = np.sort(rng.choice(picked, size=opts["sample"], replace=False))
        inputs = [data.texts[i] for i in picked] if data.texts is not None else data.x[picked]
        found.append(global_importance(model, inputs, method=method, batch_size=batch_size, seed=opts["seed"],
                                       backend=backend))
    features = [name for name in found[0].names() if all(name in set(f.names()) for f in found[1:])]
    values = np.array([_values(f, features) for f in found]).reshape(len(found), len(features))
    return GroupImportance(sensitive=groups.columns, groups=groups.names, features=tuple(features), values=values,
                           size=groups.count, n=np.array([f.n for f in found]), spearman=spearman(values),
                           method=method, leans=_leans(values, groups.names, tuple(features)),
                           params={"sample": opts["sample"], "seed": opts["seed"], "batch_size": batch_size})


def _values(result: Any, features: list[str]) -> np.ndarray:
    where = {name: j for j, name in enumerate(result.names())}
    flat = np.asarray(result.mean_abs, dtype=np.float64).reshape(-1)
    return flat[[where[name] for name in features]]


def _leans(values: np.ndarray, groups: tuple[str, ...], features: tuple[str, ...]
           ) -> tuple[str, str, str, float] | None:
    if values.size == 0 or not np.any(values > 0) or len(groups) < 2:
        return None
    best: tuple[float, int, int, int] | None = None
    for f in range(len(features)):
        column = values[:, f]
        more, less = int(np.argmax(column)), int(np.argmin(column))
        if column[more] < 0.1 * values[more].max() or column[more] == 0:
            continue
        ratio = column[more] / column[less] if column[less] > 0 else np.inf
        if best is None or ratio > best[0]:
            best = (ratio, f, more, less)
    if best is None:
        return None
    ratio, f, more, less = best
    return features[f], groups[more], groups[less], float(ratio)
