"""The fairness section's findings in words: the headline gap between groups with its
test against chance, equalized odds, what is undefined or too small to judge, the flip
probe, and the threshold preview.

Example:
    >>> import numpy as np, pandas as pd, torch, explain
    >>> model = explain.Model(torch.nn.Identity(), task="classification", modality="tabular", input_shape=(2,))
    >>> logits = np.array([[0.0, 1.0]] * 30 + [[1.0, 0.0]] * 10 + [[0.0, 1.0]] * 10 + [[1.0, 0.0]] * 30)
    >>> data = explain.Dataset(logits, np.array([1] * 40 + [0] * 40),
    ...                        metadata=pd.DataFrame({"region": ["north"] * 40 + ["south"] * 40}))
    >>> result = explain.fairness(model, data, sensitive="region", bootstrap=0)
    >>> headline(result)
    "selection rate 75% for 'north' vs 25% for 'south': a difference of 0.5, beyond what chance allows on these counts (p 7.7e-06)"
    >>> odds(result)
    'equalized odds: neither the true nor the false positive rate is defined for two groups or more, so they cannot be compared'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.auditing.common import pct

__all__ = ["headline", "odds", "judged", "flips", "mitigation", "coverage"]

# the headline disparity of each task: (disparity, the figure per group, its words, a share?)
_HEADLINE = {"classification": ("demographic_parity_difference", "selection_rate", "selection rate", True),
             "regression": ("mae_gap", "mae", "mean absolute error", False)}
_RATE_WORDS = {"tpr": "true positive rate", "fpr": "false positive rate"}


def judged(p: float, alpha: float) -> str:
    """``"beyond what chance allows on these counts (p 0.003)"``, ``"within it"`` likewise,
    or ``"not tested"`` where there is no p-value.

    Example:
        >>> judged(0.003, 0.05), judged(0.4, 0.05), judged(float("nan"), 0.05)
        ('beyond what chance allows on these counts (p 0.003)', 'within what chance allows on these counts (p 0.4)', 'not tested')
    """
    if not np.isfinite(p):
        return "not tested"
    return f"{'beyond' if p < alpha else 'within'} what chance allows on these counts (p {p:.2g})"


def _value(value: float, share: bool) -> str:
    return pct(value) if share else f"{value:.3g}"


def _between(result: Any, key: str, metric: str, words: str, share: bool) -> str | None:
    """``"<words> 41% for 'a' vs 52% for 'b': a difference of 0.11, <judged>"``, or None
    when the gap is undefined."""
    gap = result.disparities.get(key, float("nan"))
    hi, lo = result.extremes.get(key, ("", ""))
    if not np.isfinite(gap) or not hi or hi == lo:
        return None
    values = result.metrics[metric]
    high, low = values[result.groups.index(hi)], values[result.groups.index(lo)]
    return (f"{words} {_value(high, share)} for {hi!r} vs {_value(low, share)} for {lo!r}: a difference of "
            f"{gap:.2g}, {judged(result.p_values.get(key, float('nan')), result.alpha)}")


def headline(result: Any) -> str:
    """The headline gap (selection rate; regression: mean absolute error) between the
    groups with the highest and the lowest figure, and whether chance explains it."""
    key, metric, words, share = _HEADLINE[result.task]
    said = _between(result, key, metric, words, share)
    if said is None:
        return f"the {words} cannot be compared between groups ({len(result.groups)} group(s) with it defined)"
    return said


def odds(result: Any) -> str:
    """Equalized odds: the larger of the true and false positive rate gaps, said of the
    rate behind it (classifiers)."""
    eo, opportunity = result.equalized_odds_difference, result.equal_opportunity_difference
    rate = "tpr" if np.isfinite(opportunity) and opportunity >= eo else "fpr"
    said = _between(result, "equalized_odds_difference", rate, f"equalized odds: {_RATE_WORDS[rate]}", True)
    if said is None:
        return ("equalized odds: neither the true nor the false positive rate is defined for two groups or more, "
                "so they cannot be compared")
    return said


def coverage(result: Any, promised: float = 0.9) -> str | None:
    """The conformal sets' coverage of the least and the most covered group against the
    ``promised`` share (None where it was not measured).

    Example:
        >>> class R:
        ...     groups, metrics = ("a", "b"), {"coverage": np.array([0.93, 0.61])}
        >>> coverage(R())
        "conformal sets that promise 90% on average cover 61% of 'b' and 93% of 'a'"
    """
    values = np.asarray(result.metrics.get("coverage", []), dtype=np.float64)
    if len(values) < 2 or not np.isfinite(values).any():
        return None
    lo, hi = int(np.nanargmin(values)), int(np.nanargmax(values))
    return (f"conformal sets that promise {pct(promised)} on average cover {pct(values[lo])} of "
            f"{result.groups[lo]!r} and {pct(values[hi])} of {result.groups[hi]!r}")


def flips(result: Any) -> str:
    """The flip probe's sentence, with what it means."""
    probe = result.flips
    if probe.task == "regression":
        return probe.sentence()
    meaning = ("the decisions do not depend on it alone" if probe.changed_rows == 0 else
               "the model uses the attribute itself")
    return f"{probe.sentence()}: {meaning}"


def mitigation(result: Any) -> list[str]:
    """Each threshold preview's sentence (binary classifiers), said as a preview."""
    return [f"a preview, not a fix: {preview.sentence()}" for preview in result.mitigation]
