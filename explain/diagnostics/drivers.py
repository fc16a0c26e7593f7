"""What drives the model inside a cohort compared with everywhere else: global importance
(:func:`explain.global_importance`) on the cohort's rows against the other rows.

Example:
    >>> import numpy as np, torch, explain
    >>> net = torch.nn.Linear(2, 2)
    >>> model = explain.Model(net, modality="tabular", feature_names=["tenure", "amount"])
    >>> data = explain.Dataset(np.random.default_rng(0).random((200, 2)), np.zeros(200, dtype=int))
    >>> drivers = cohort_drivers(model, data, np.arange(50))
    >>> list(drivers.frame().columns)
    ['feature', 'cohort', 'elsewhere', 'overall', 'ratio']
    >>> drivers.sentence.startswith("in this cohort the model leans on")
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.attribution.streaming import global_importance
from explain.core.dataset import Dataset
from explain.core.model import check_model
from explain.core.validate import Instance, Int, check
from explain.errors import InputError
from explain.results.cohorts import Cohort, CohortDrivers

__all__ = ["cohort_drivers"]


def cohort_drivers(model: Any, data: Any, cohort: Any, *, method: str = "saliency", sample: int = 2000,
                   batch_size: int | None = None, seed: int = 0, backend: Any = None) -> CohortDrivers:
    """Mean |attribution| of every feature on a cohort's rows against the other rows, and
    one sentence on the feature the model leans on most more than elsewhere.

    Args:
        model: an :class:`explain.Model`.
        data: the :class:`explain.Dataset` the cohort was found in.
        cohort: a :class:`explain.Cohort` of ``explain.error_analysis(model, data)``, or
            the positions of its rows in ``data``.
        method: an attribution method (:func:`explain.methods`).
        sample: attribute at most this many rows on each side (drawn with ``seed``).
        batch_size: rows attributed at a time (None: from the memory budget).
        seed: draws the samples and seeds the method.
        backend: as for :func:`explain.global_importance`.

    Returns:
        A :class:`explain.CohortDrivers`; ``.frame()`` is a DataFrame of feature, cohort,
        elsewhere, overall and ratio.

    Raises:
        InputError: no rows in the cohort or none outside it, or positions out of range.
    """
    model = check_model(model)
    opts = check(data=(data, Instance(Dataset, "Pass the explain.Dataset the cohort was found in.")),
                 sample=(sample, Int(low=1, suggest=2000)), seed=(seed, Int()))
    n = len(data)
    rows = np.asarray(cohort.rows if isinstance(cohort, Cohort) else cohort).reshape(-1)
    if rows.dtype == np.bool_:
        rows = np.flatnonzero(rows)
    if rows.size == 0 or rows.min() < 0 or rows.max() >= n or not np.issubdtype(rows.dtype, np.integer):
        raise InputError(f"cohort must hold positions of rows in data (0 to {n - 1}); got {rows.size} "
                         "position(s). Pass result.cohorts[i] of explain.error_analysis(model, data).")
    inside = np.zeros(n, dtype=bool)
    inside[rows] = True
    if inside.all():
        raise InputError("The cohort holds every row, so there is nothing to compare it with; pick a smaller cohort.")
    rng = np.random.default_rng(opts["seed"])
    sides = []
    for picked in (np.flatnonzero(inside), np.flatnonzero(~inside)):
        if picked.size > opts["sample"]:
            picked = np.sort(rng.choice(picked, size=opts["sample"], replace=False))
        inputs = [data.texts[i] for i in picked] if data.texts is not None else data.x[picked]
        sides.append(global_importance(model, inputs, method=method, batch_size=batch_size, seed=opts["seed"],
                                       backend=backend))
    names, values = _aligned(*sides)
    size = int(inside.sum())
    overall = (size * values[0] + (n - size) * values[1]) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values[0] / values[1]
    rule = cohort.rule if isinstance(cohort, Cohort) else f"{size} chosen rows"
    return CohortDrivers(names, values[0], values[1], overall, ratio, rule, method, size, n,
                         sides[0].n, sides[1].n, _sentence(names, values[0], ratio))


def _aligned(cohort: Any, elsewhere: Any) -> tuple[tuple[str, ...], tuple[np.ndarray, np.ndarray]]:
    """Both sides' mean |attribution| per feature; text: the tokens both sides saw."""
    a, b = cohort.names(), elsewhere.names()
    va = np.asarray(cohort.mean_abs, dtype=np.float64).reshape(-1)
    vb = np.asarray(elsewhere.mean_abs, dtype=np.float64).reshape(-1)
    if a == b:
        return tuple(a), (va, vb)
    where = {name: j for j, name in enumerate(b)}
    common = [j for j, name in enumerate(a) if name in where]
    return tuple(a[j] for j in common), (va[common], vb[[where[a[j]] for j in common]])


def _sentence(names: tuple[str, ...], cohort: np.ndarray, ratio: np.ndarray) -> str:
    """The feature with the largest ratio among those that matter in the cohort (at least
    a tenth of its largest importance)."""
    if not names or not np.any(cohort > 0):
        return "in this cohort the model leans on no feature (every attribution is zero)"
    matters = np.flatnonzero(cohort >= 0.1 * cohort.max())
    ranked = np.where(np.isnan(ratio[matters]), -np.inf, ratio[matters])
    j = int(matters[int(np.argmax(ranked))])
    if not np.isfinite(ratio[j]):
        return f"in this cohort the model leans on {names[j]}, which it does not use elsewhere"
    if ratio[j] < 1.1:
        return f"in this cohort the model leans on the same features as elsewhere (largest change: {names[j]} " \
               f"{ratio[j]:.1f}x)"
    return f"in this cohort the model leans on {names[j]} {ratio[j]:.1f}x more than elsewhere"
