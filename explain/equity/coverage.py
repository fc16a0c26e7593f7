"""Conformal coverage per group: whether split-conformal prediction sets (or intervals)
keep their promise of ``1 - alpha`` for every group, not only on average.

A seeded half of the labelled rows calibrates the threshold with the default scores of
:func:`explain.conformal` (LAC for classifiers: ``1 - p(true class)``; the absolute residual
for regression) and :func:`~explain.confidence.conformal_sets.conformal_quantile`; each
group's coverage and mean set size are measured on its rows in the other half. Marginal
coverage holds by construction; a group well below ``1 - alpha`` is one the sets fail.

Example:
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8]] * 50)
    >>> truth = np.array([0, 1] * 50)
    >>> found = group_coverage(p, truth, np.array([0, 1] * 50), 2, alpha=0.1, seed=0)
    >>> found.coverage.tolist(), found.set_size.tolist(), found.calibration_rows
    ([1.0, 1.0], [1.0, 1.0], 50)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explain.confidence.conformal_sets import conformal_quantile
from explain.errors import DataError

__all__ = ["GroupCoverage", "group_coverage", "COVERAGE_ALPHA"]

COVERAGE_ALPHA = 0.1  # the sets promise 90% coverage, as explain.conformal's default


@dataclass(frozen=True)
class GroupCoverage:
    """Per group (NaN where a group has no row in the measured half): ``coverage`` (share
    of rows whose set holds the true label), ``set_size`` (mean classes per set; regression:
    the interval's width); and the calibration's ``threshold``, ``calibration_rows`` and
    ``note`` (why nothing was measured, else None)."""

    coverage: np.ndarray
    set_size: np.ndarray
    threshold: float
    calibration_rows: int
    note: str | None = None


def group_coverage(probabilities: np.ndarray | None, truth: np.ndarray, codes: np.ndarray, k: int, *,
                   alpha: float = COVERAGE_ALPHA, seed: int = 0,
                   predicted: np.ndarray | None = None) -> GroupCoverage:
    """Split-conformal coverage per group of ``k`` (``codes``: one group index per row).

    Classifiers pass ``probabilities`` (rows x classes) and integer ``truth``; regression
    passes ``probabilities=None``, float ``truth`` and ``predicted``.

    Example:
        >>> truth = np.arange(40, dtype=float)
        >>> found = group_coverage(None, truth, np.zeros(40, dtype=int), 1, predicted=truth + 1.0, seed=1)
        >>> found.coverage.tolist(), found.set_size.tolist()
        ([1.0], [2.0])
    """
    n = len(truth)
    order = np.random.default_rng(seed).permutation(n)
    calibrate, measure = order[: n // 2], order[n // 2:]
    if probabilities is not None:
        p = np.asarray(probabilities, dtype=np.float64)
        true_p = p[np.arange(n), np.asarray(truth, dtype=np.int64)]
        scores = 1.0 - true_p
    else:
        scores = np.abs(np.asarray(truth, dtype=np.float64) - np.asarray(predicted, dtype=np.float64))
    nan = np.full(k, np.nan)
    try:
        threshold = conformal_quantile(scores[calibrate], alpha)
    except DataError as err:
        return GroupCoverage(nan, nan.copy(), float("nan"), len(calibrate),
                             f"conformal coverage per group was not measured: {err}")
    covered = scores[measure] <= threshold
    if probabilities is not None:
        size = (1.0 - p[measure] <= threshold).sum(axis=1).astype(np.float64)
    else:
        size = np.full(len(measure), 2.0 * threshold)
    groups = np.asarray(codes)[measure]
    count = np.bincount(groups, minlength=k).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.bincount(groups, covered.astype(np.float64), k) / count
        set_size = np.bincount(groups, size, k) / count
    return GroupCoverage(np.where(count > 0, coverage, np.nan), np.where(count > 0, set_size, np.nan),
                         float(threshold), len(calibrate))
