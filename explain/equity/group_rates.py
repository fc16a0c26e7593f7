"""Counts, rates and disparities per group, with fairlearn's definitions, bootstrap
intervals, and the test of each disparity against chance.

Rates of a binary decision (``decided``: the favourable outcome was predicted; ``positive``:
it is the true label): ``selection_rate`` = predicted positives / rows, ``tpr`` = true
positives / positives, ``fpr`` = false positives / negatives, ``precision`` = true positives
/ predicted positives. A rate with nothing to divide by is NaN (fairlearn says 0): that group
is left out of the disparities built on it, and a note says so.

Disparities (fairlearn's ``between_groups`` / ``worst_case``): a difference is the largest
minus the smallest rate over the groups, a ratio the smallest over the largest;
``equalized_odds`` takes the larger of the TPR and FPR differences (the smaller ratio).

Against chance: the two extreme groups' counts, Fisher's exact test where a cell expects
fewer than 5 rows, else the pooled two-proportion z-test (two-sided), times the number of
pairs of groups that could have been the extremes (Bonferroni, at most 1); equalized odds
takes twice the smaller of its two p-values. Regression gaps: Welch's t-test, likewise.

Example:
    >>> import numpy as np
    >>> codes = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> counts = binary_counts(codes, 2, np.array([1, 1, 0, 0, 1, 0, 0, 0], bool),
    ...                        np.array([1, 1, 1, 0, 0, 0, 0, 1], bool))
    >>> r = rates(counts)
    >>> r["selection_rate"].tolist(), r["tpr"].tolist(), r["fpr"].tolist()
    ([0.75, 0.25], [1.0, 0.0], [0.5, 0.3333333333333333])
    >>> d, _, _ = disparities(r, ("a", "b"))
    >>> d["demographic_parity_difference"], round(d["equalized_odds_difference"], 3)
    (0.5, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from explain.diagnostics import measures as m
from explain.diagnostics import significance as sig

__all__ = ["binary_counts", "rates", "disparities", "chance", "regression_means", "regression_chance",
           "group_intervals", "RATE_BASES", "DISPARITIES"]

# Each rate of a disparity and its (successes, trials) counts.
RATE_BASES = {"selection_rate": ("predicted_positives", "count"), "tpr": ("true_positives", "positives"),
              "fpr": ("false_positives", "negatives")}
DISPARITIES = ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
               "equalized_odds_ratio", "equal_opportunity_difference", "equal_opportunity_ratio")
_WHY = {"tpr": "no positive labels", "fpr": "no negative labels"}


def binary_counts(codes: np.ndarray, k: int, positive: np.ndarray, decided: np.ndarray,
                  weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per group (``k`` of them): ``count``, ``positives``, ``negatives``,
    ``predicted_positives``, ``true_positives``, ``false_positives``, ``correct``
    (weighted by how often each row was drawn, where ``weights`` are given)."""
    w = np.ones(len(codes)) if weights is None else weights

    def total(mask: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(codes, w if mask is None else w * mask, minlength=k)

    return {"count": total(), "positives": total(positive), "negatives": total(~positive),
            "predicted_positives": total(decided), "true_positives": total(positive & decided),
            "false_positives": total(~positive & decided), "correct": total(positive == decided)}


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)


def rates(counts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``accuracy``, ``selection_rate``, ``tpr``, ``fpr``, ``precision`` per group (NaN
    where the denominator is 0)."""
    return {"accuracy": _ratio(counts["correct"], counts["count"]),
            "selection_rate": _ratio(counts["predicted_positives"], counts["count"]),
            "tpr": _ratio(counts["true_positives"], counts["positives"]),
            "fpr": _ratio(counts["false_positives"], counts["negatives"]),
            "precision": _ratio(counts["true_positives"], counts["predicted_positives"])}


def _spread(values: np.ndarray) -> tuple[float, float, int, int]:
    """max - min, min / max, and the positions of the largest and smallest defined value."""
    defined = np.flatnonzero(np.isfinite(values))
    if not len(defined):
        return float("nan"), float("nan"), -1, -1
    hi = int(defined[np.argmax(values[defined])])
    lo = int(defined[np.argmin(values[defined])])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(values[lo]) / values[hi]) if values[hi] != 0 else float("nan")
    return float(values[hi] - values[lo]), ratio, hi, lo


def disparities(group_rates: dict[str, np.ndarray], names: tuple[str, ...]
                ) -> tuple[dict[str, float], dict[str, tuple[int, int]], tuple[str, ...]]:
    """The disparities (:data:`DISPARITIES`), the extreme groups (largest, smallest) of each
    rate, and a note for each group left out of one."""
    spread = {rate: _spread(group_rates[rate]) for rate in RATE_BASES}
    out = {"demographic_parity_difference": spread["selection_rate"][0],
           "demographic_parity_ratio": spread["selection_rate"][1],
           "equal_opportunity_difference": spread["tpr"][0], "equal_opportunity_ratio": spread["tpr"][1],
           "equalized_odds_difference": float(np.nanmax([spread["tpr"][0], spread["fpr"][0], -np.inf])),
           "equalized_odds_ratio": float(np.nanmin([spread["tpr"][1], spread["fpr"][1], np.inf]))}
    out = {key: value if np.isfinite(value) else float("nan") for key, value in out.items()}
    out = {key: out[key] for key in DISPARITIES}
    notes = []
    for rate, why in _WHY.items():
        left = [names[g] for g in np.flatnonzero(np.isnan(group_rates[rate]))]
        if left:
            used = "equal opportunity and equalized odds" if rate == "tpr" else "equalized odds"
            notes.append(f"{rate} is undefined for {', '.join(map(repr, left))} ({why}): left out of {used}")
    return out, {rate: spread[rate][2:] for rate in RATE_BASES}, tuple(notes)


def _pairs(values: np.ndarray) -> int:
    defined = int(np.isfinite(values).sum())
    return max(1, defined * (defined - 1) // 2)


def chance(counts: dict[str, np.ndarray], group_rates: dict[str, np.ndarray],
           extremes: dict[str, tuple[int, int]]) -> tuple[dict[str, float], dict[str, str]]:
    """The p-value of each disparity against chance, and the test used (see the module)."""
    p, tests = {}, {}
    for rate, (hi, lo) in extremes.items():
        successes, trials = RATE_BASES[rate]
        if hi < 0 or hi == lo:
            p[rate], tests[rate] = float("nan"), ""
            continue
        test, value = sig.rates_p_value(int(counts[successes][hi]), int(counts[trials][hi]),
                                        int(counts[successes][lo]), int(counts[trials][lo]))
        p[rate], tests[rate] = min(1.0, value * _pairs(group_rates[rate])), test
    odds = [p[r] for r in ("tpr", "fpr") if np.isfinite(p[r])]
    p_odds = min(1.0, len(odds) * min(odds)) if odds else float("nan")
    out = {"demographic_parity": p["selection_rate"], "equal_opportunity": p["tpr"], "equalized_odds": p_odds}
    used = {"demographic_parity": tests["selection_rate"], "equal_opportunity": tests["tpr"],
            "equalized_odds": "+".join(sorted({tests["tpr"], tests["fpr"]} - {""}))}
    return ({f"{key}_{kind}": value for key, value in out.items() for kind in ("difference", "ratio")},
            {f"{key}_{kind}": value for key, value in used.items() for kind in ("difference", "ratio")})


def regression_means(codes: np.ndarray, k: int, truth: np.ndarray, predicted: np.ndarray,
                     weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``mean_prediction``, ``mean_label`` and ``mae`` per group."""
    w = np.ones(len(codes)) if weights is None else weights
    count = np.bincount(codes, w, minlength=k)
    return {"mean_prediction": _ratio(np.bincount(codes, w * predicted, k), count),
            "mean_label": _ratio(np.bincount(codes, w * truth, k), count),
            "mae": _ratio(np.bincount(codes, w * np.abs(truth - predicted), k), count)}


def regression_chance(codes: np.ndarray, means: dict[str, np.ndarray], truth: np.ndarray,
                      predicted: np.ndarray) -> tuple[dict[str, float], dict[str, float], dict[str, str],
                                                      dict[str, tuple[int, int]]]:
    """The gap (max - min) of each regression figure, Welch's p-value of its two extreme
    groups (Bonferroni over the pairs), the test used, and the extreme groups."""
    per_row = {"mean_prediction": predicted, "mean_label": truth, "mae": np.abs(truth - predicted)}
    gaps, p, tests, extremes = {}, {}, {}, {}
    for name, values in means.items():
        gap, _, hi, lo = _spread(values)
        gaps[f"{name}_gap"], extremes[f"{name}_gap"] = gap, (hi, lo)
        value = sig.welch(per_row[name][codes == hi], per_row[name][codes == lo]) if hi != lo else float("nan")
        p[f"{name}_gap"] = min(1.0, value * _pairs(values)) if np.isfinite(value) else float("nan")
        tests[f"{name}_gap"] = "welch" if np.isfinite(value) else ""
    return gaps, p, tests, extremes


def group_intervals(statistic: Callable[[np.ndarray | None], dict[str, np.ndarray]], n: int, k: int, *,
                    times: int, level: float, seed: int) -> dict[str, np.ndarray]:
    """Percentile bootstrap intervals, ``(k, 2)`` per figure, of the per-group figures
    ``statistic(weights)`` returns (rows resampled together, so group sizes vary as they
    would in a new sample); NaN where a figure is undefined in more than half the draws."""
    if not times:
        return {}
    names = list(statistic(None))

    def flat(weights: np.ndarray) -> dict[str, float]:
        values = statistic(weights)
        return {f"{name}\t{g}": float(values[name][g]) for name in names for g in range(k)}

    found = m.percentile_interval(flat, n, times=times, level=level, seed=seed)
    out = {name: np.full((k, 2), np.nan) for name in names}
    for key, (low, high) in found.items():
        name, g = key.split("\t")
        out[name][int(g)] = (low, high)
    return out
