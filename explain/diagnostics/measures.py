"""The metrics of :func:`explain.performance`, in numpy, each equal to scikit-learn's
function of the same name on the same predictions (tests/test_performance.py checks them).

Weighted forms (``weights``: how often each row was drawn) serve the bootstrap: a
resample is a vector of counts, so no rows are copied.

Example:
    >>> import numpy as np
    >>> truth, predicted = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 1])
    >>> matrix = confusion(truth, predicted, 3)
    >>> matrix.tolist(), round(balanced_accuracy(matrix), 3)
    ([[1, 1, 0], [0, 2, 0], [0, 1, 0]], 0.5)
    >>> ranks = Ranking(np.array([True, False, True, False]), np.array([0.9, 0.1, 0.4, 0.4]))
    >>> ranks.auc()  # (1 + 0.5 + 1 + 1) / 4 pairs
    0.875
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

__all__ = [
    "confusion", "per_class_scores", "balanced_accuracy", "f1_macro", "Ranking", "roc_points",
    "precision_recall_points", "average_precision", "log_loss", "brier", "threshold_table",
    "r2", "regression_errors", "percentile_interval", "resample_counts",
]


def confusion(truth: np.ndarray, predicted: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``(k, k)`` counts: rows the true class, columns the predicted, in class order
    (sklearn's ``confusion_matrix(truth, predicted, labels=range(k))``)."""
    codes = np.asarray(truth, dtype=np.int64) * k + np.asarray(predicted, dtype=np.int64)
    counts = np.bincount(codes, weights=weights, minlength=k * k).reshape(k, k)
    return counts if weights is not None else counts.astype(np.int64)


def _divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top / bottom``, 0 where ``bottom`` is 0 (sklearn's ``zero_division=0``)."""
    top, bottom = np.asarray(top, dtype=np.float64), np.asarray(bottom, dtype=np.float64)
    return np.divide(top, bottom, out=np.zeros_like(top), where=bottom != 0)


def per_class_scores(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support of each class (sklearn's
    ``precision_recall_fscore_support(..., labels=range(k), zero_division=0)``: a ratio
    with nothing to divide by is 0)."""
    tp = np.diag(matrix).astype(np.float64)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    return _divide(tp, predicted), _divide(tp, support), _divide(2 * tp, predicted + support), support


def balanced_accuracy(matrix: np.ndarray) -> float:
    """The mean recall over the classes that have true rows (sklearn's
    ``balanced_accuracy_score``, which leaves out classes absent from the truth)."""
    support = matrix.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(matrix)[present] / support[present])) if present.any() else float("nan")


def f1_macro(matrix: np.ndarray) -> float:
    """The mean F1 over the classes that are true or predicted somewhere (sklearn's
    ``f1_score(truth, predicted, average="macro")``)."""
    seen = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
    return float(np.mean(per_class_scores(matrix)[2][seen])) if seen.any() else float("nan")


class Ranking:
    """Scores of one class against the rest, sorted once: ROC AUC for any resample in
    one pass (Mann-Whitney, ties counted half: the area under sklearn's ROC curve).

    Args:
        positive: ``(n,)`` whether each row belongs to the class.
        score: ``(n,)`` the model's score for the class.
    """

    def __init__(self, positive: np.ndarray, score: np.ndarray) -> None:
        order = np.argsort(score, kind="mergesort")
        ordered = np.asarray(score, dtype=np.float64)[order]
        group = np.zeros(len(order), dtype=np.int64)
        group[1:] = np.cumsum(ordered[1:] != ordered[:-1])
        self._group = np.empty(len(order), dtype=np.int64)
        self._group[order] = group  # the tie group of each row, groups in ascending score
        self._groups = int(group[-1]) + 1 if len(group) else 0
        self._positive = np.asarray(positive, dtype=bool)

    def auc(self, weights: np.ndarray | None = None) -> float:
        """The ROC AUC, each row counted ``weights`` times (default once); NaN without
        both positive and negative rows."""
        w = np.ones(len(self._positive)) if weights is None else np.asarray(weights, dtype=np.float64)
        pos = np.bincount(self._group, weights=w * self._positive, minlength=self._groups)
        neg = np.bincount(self._group, weights=w * ~self._positive, minlength=self._groups)
        total_pos, total_neg = pos.sum(), neg.sum()
        if total_pos == 0 or total_neg == 0:
            return float("nan")
        below = np.cumsum(neg) - neg  # negatives scored lower than each group
        return float((pos * (below + 0.5 * neg)).sum() / (total_pos * total_neg))


def _binary_curve(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positives when rows scoring at least each distinct score (from the
    highest) are called positive: sklearn's ``_binary_clf_curve``."""
    order = np.argsort(score, kind="mergesort")[::-1]
    score, positive = np.asarray(score, dtype=np.float64)[order], np.asarray(positive)[order]
    ends = np.r_[np.where(np.diff(score))[0], len(score) - 1]
    tps = np.cumsum(positive, dtype=np.float64)[ends]
    return 1 + ends - tps, tps, score[ends]


def roc_points(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive rates and their thresholds, as sklearn's ``roc_curve``
    (points on a straight line dropped; the first threshold is infinity)."""
    fps, tps, thresholds = _binary_curve(positive, score)
    if len(fps) > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps, thresholds = np.r_[0, fps], np.r_[0, tps], np.r_[np.inf, thresholds]
    fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
    tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr, thresholds


def precision_recall_points(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and thresholds, as sklearn's ``precision_recall_curve``: by
    increasing threshold, ending at precision 1, recall 0 (which has no threshold)."""
    fps, tps, thresholds = _binary_curve(positive, score)
    precision = _divide(tps, tps + fps)
    recall = np.ones_like(tps) if tps[-1] == 0 else tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def average_precision(positive: np.ndarray, score: np.ndarray) -> float:
    """Sklearn's ``average_precision_score``: the sum over thresholds of precision times
    the gain in recall; NaN when no row is positive."""
    if not np.any(positive):
        return float("nan")
    precision, recall, _ = precision_recall_points(positive, score)
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def log_loss(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The mean ``-log p(true class)`` in nats, probabilities clipped to ``[eps, 1 - eps]``
    (float64 eps) as sklearn's ``log_loss`` does."""
    eps = np.finfo(np.float64).eps
    p = np.clip(np.asarray(probabilities, dtype=np.float64), eps, 1 - eps)
    return float(-np.mean(np.log(p[np.arange(len(truth)), truth])))


def brier(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """Sklearn's ``brier_score_loss``: with two classes the mean squared error of the
    probability of class 1 (half the sum over both classes); with more, the mean over
    rows of the squared error summed over classes (its multiclass definition)."""
    p = np.asarray(probabilities, dtype=np.float64)
    onehot = np.eye(p.shape[1])[truth]
    if p.shape[1] == 2:
        return float(np.mean((p[:, 1] - onehot[:, 1]) ** 2))
    return float(np.mean(((p - onehot) ** 2).sum(axis=1)))


def threshold_table(positive: np.ndarray, score: np.ndarray) -> dict[str, np.ndarray]:
    """Binary metrics when rows scoring at least ``threshold`` are called positive, at
    every distinct score (highest first) after a first row at infinity (nothing positive):
    ``threshold``, ``tp``, ``fp``, ``precision`` (NaN with nothing called positive),
    ``recall``, ``f1``, ``fpr``, ``tpr`` and ``predicted_positive_rate``."""
    fps, tps, thresholds = _binary_curve(positive, score)
    fps, tps, thresholds = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thresholds]
    n, n_pos = len(score), float(np.sum(positive))
    called = tps + fps
    precision = np.divide(tps, called, out=np.full(tps.shape, np.nan), where=called > 0)
    recall = _divide(tps, np.full(tps.shape, n_pos))
    return {
        "threshold": thresholds, "tp": tps, "fp": fps, "precision": precision, "recall": recall,
        "f1": _divide(2 * tps, called + n_pos), "fpr": _divide(fps, np.full(fps.shape, n - n_pos)),
        "tpr": recall, "predicted_positive_rate": called / n,
    }


def r2(truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The coefficient of determination (sklearn's ``r2_score``); NaN when the truth is
    constant, where it is undefined (sklearn says 0.0, or -inf with ``force_finite=False``)."""
    w = np.ones(len(truth)) if weights is None else weights
    mean = np.sum(w * truth) / np.sum(w)
    spread = float(np.sum(w * (truth - mean) ** 2))
    return 1.0 - float(np.sum(w * (truth - predicted) ** 2)) / spread if spread > 0 else float("nan")


def regression_errors(truth: np.ndarray, predicted: np.ndarray,
                      weights: np.ndarray | None = None) -> dict[str, float]:
    """``r2``, ``mae`` (mean absolute error) and ``rmse`` (root mean squared error)."""
    w = np.ones(len(truth)) if weights is None else weights
    error = truth - predicted
    total = float(np.sum(w))
    return {"r2": r2(truth, predicted, weights), "mae": float(np.sum(w * np.abs(error)) / total),
            "rmse": float(np.sqrt(np.sum(w * error**2) / total))}


def resample_counts(n: int, times: int, seed: int) -> Iterator[np.ndarray]:
    """``times`` bootstrap resamples of ``n`` rows as counts per row, seeded; one at a time."""
    rng = np.random.default_rng(seed)
    for _ in range(times):
        yield np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)


def percentile_interval(
    statistic: Callable[[np.ndarray], dict[str, float]], n: int, *, times: int, level: float, seed: int,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of each figure ``statistic(weights)`` returns.

    A figure undefined (NaN) in more than half of the resamples gets no interval; else the
    interval is taken over the resamples where it is defined.
    """
    draws: dict[str, list[float]] = {}
    for weights in resample_counts(n, times, seed):
        for name, value in statistic(weights).items():
            draws.setdefault(name, []).append(value)
    tail = (1 - level) / 2 * 100
    out = {}
    for name, values in draws.items():
        finite = np.asarray(values, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        if len(finite) * 2 > times:
            low, high = np.percentile(finite, [tail, 100 - tail])
            out[name] = (float(low), float(high))
    return out
