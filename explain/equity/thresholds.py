"""The mitigation preview: per-group thresholds on the favourable class's probability
that equalise the selection rate (demographic parity) or the true positive rate (equal
opportunity) of a binary classifier.

Like fairlearn's ``ThresholdOptimizer`` the thresholds are chosen on the data, one per
group, but they are deterministic: each group's is the threshold, among its own scores,
whose rate comes nearest the rate of every row with the model's decisions (``target``);
of thresholds equally near, the highest (fewest favourable decisions). A preview: chosen
and judged on the same rows, so it is optimistic.

Example:
    >>> import numpy as np
    >>> score = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])
    >>> codes = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> truth = np.array([1, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    >>> dp, _ = threshold_previews(score, truth, score >= 0.5, codes, ("a", "b"))
    >>> dp.thresholds.tolist(), dp.before.tolist(), dp.after.tolist(), dp.accuracy_after
    ([0.8, 0.3], [1.0, 0.0], [0.5, 0.5], 1.0)
"""

from __future__ import annotations

import numpy as np

from explain.results.fairness import ThresholdPreview

__all__ = ["threshold_previews", "group_threshold"]


def group_threshold(scores: np.ndarray, target: float) -> float:
    """The threshold among ``scores`` (or infinity: nothing favourable) whose share of
    scores at or above it is nearest ``target``; the highest of equally near ones."""
    ordered = np.sort(scores)
    candidates = np.r_[np.inf, np.unique(scores)[::-1]]  # highest first
    share = (len(ordered) - np.searchsorted(ordered, candidates, side="left")) / max(len(ordered), 1)
    return float(candidates[int(np.argmin(np.abs(share - target)))])


def _rates(decided: np.ndarray, base: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    count = np.bincount(codes, base.astype(float), k)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, np.bincount(codes, (decided & base).astype(float), k) / np.maximum(count, 1),
                        np.nan)


def _gap(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max() - finite.min()) if len(finite) else float("nan")


def threshold_previews(score: np.ndarray, positive: np.ndarray, decided: np.ndarray, codes: np.ndarray,
                       names: tuple[str, ...]) -> tuple[ThresholdPreview, ...]:
    """The demographic parity and the equal opportunity previews (the second only where
    some row is positive).

    Args:
        score: ``(n,)`` the favourable class's probability.
        positive: ``(n,)`` whether the true label is the favourable class.
        decided: ``(n,)`` whether the model decides favourably.
        codes: ``(n,)`` each row's group; names: the groups.
    """
    k = len(names)
    out = []
    for criterion, base in (("demographic_parity", np.ones(len(score), dtype=bool)), ("equal_opportunity", positive)):
        if not base.any():
            continue
        target = float(decided[base].mean())
        thresholds = np.full(k, np.nan)
        after = decided.copy()
        notes = []
        for g in range(k):
            rows = codes == g
            if not (rows & base).any():
                notes.append(f"{names[g]!r} keeps the model's decisions: it has no positive labels")
                continue
            thresholds[g] = group_threshold(score[rows & base], target)
            after[rows] = score[rows] >= thresholds[g]
        out.append(ThresholdPreview(
            criterion=criterion, groups=names, thresholds=thresholds, before=_rates(decided, base, codes, k),
            after=_rates(after, base, codes, k), target=target, accuracy_before=float(np.mean(decided == positive)),
            accuracy_after=float(np.mean(after == positive)), disparity_before=_gap(_rates(decided, base, codes, k)),
            disparity_after=_gap(_rates(after, base, codes, k)), notes=tuple(notes)))
    return tuple(out)
