"""The performance section's findings in words: the headline figures with their
intervals, the weakest class, a binary model's best threshold, where errors concentrate,
what drives the model there, and the slices.

Example:
    >>> import numpy as np
    >>> from explain.results import Performance
    >>> perf = Performance(task="regression", labels=np.array([1.0, 2.0, 4.0]), predictions=np.array([1.5, 2.0, 3.0]),
    ...                    r2=0.75, mae=0.5, rmse=0.645, intervals={"r2": (0.2, 0.9)})
    >>> headline(perf, 3)
    ['R² 0.750 (0.200–0.900), mean absolute error 0.5, RMSE 0.645 on 3 labelled examples']
    >>> span(0.93, 0.987, "share"), span(0.868, 0.872, "share"), span(0.9991, 1.0, "score"), span(41.6, 48.95, "number")
    ('93–99%', '86.8–87.2%', '0.999–1.000', '41.6–49')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.auditing.common import pct
from explain.results.cohorts import rate_text

__all__ = ["span", "headline", "cohorts", "drivers", "slice_findings", "MORE_COHORTS"]

MORE_COHORTS = 2
"""Cohorts beyond chance named after the first (which the verdict names)."""


def _number(value: float, kind: str) -> str:
    """``kind`` ``"score"``: three decimals (F1, AUC, R²); ``"number"``: three significant
    digits (errors in the label's units)."""
    return f"{value:.3f}" if kind == "score" else f"{value:.3g}"


def span(low: float, high: float, kind: str) -> str:
    """An interval as written in a finding: ``93–99%`` for a ``"share"``, else both ends
    as :func:`_number` writes them."""
    if kind == "share":
        digits = 0 if high - low >= 0.02 else 1
        return f"{100 * low:.{digits}f}–{100 * high:.{digits}f}%"
    return f"{_number(low, kind)}–{_number(high, kind)}"


def _figure(perf: Any, name: str, label: str, kind: str) -> str:
    """``"accuracy 96% (93–99%)"``: a headline figure and its bootstrap interval."""
    value = getattr(perf, name)
    shown = pct(value) if kind == "share" else _number(value, kind)
    interval = perf.intervals.get(name)
    return f"{label} {shown}" + (f" ({span(*interval, kind)})" if interval else "")


def headline(perf: Any, total: int) -> list[str]:
    """The headline figures (95% bootstrap intervals in brackets), and for classifiers the
    scores' quality, the weakest class, the most confused pair and a binary model's best
    threshold; then how labels were matched and what could not be measured."""
    n = len(perf)
    rows = f"{n:,} labelled examples" if n == total else f"{n:,} of {total:,} labelled examples (sampled)"
    if perf.task == "regression":
        out = [f"{_figure(perf, 'r2', 'R²', 'score')}, {_figure(perf, 'mae', 'mean absolute error', 'number')}, "
               f"{_figure(perf, 'rmse', 'RMSE', 'number')} on {rows}"]
    else:
        out = [f"{_figure(perf, 'accuracy', 'accuracy', 'share')}, "
               f"{_figure(perf, 'balanced_accuracy', 'balanced accuracy', 'share')}, "
               f"{_figure(perf, 'f1_macro', 'F1 macro', 'score')} on {rows}"]
        scores = [f"log loss {perf.log_loss:.3g}", f"Brier score {perf.brier:.3g}"]
        if perf.average_precision is not None:
            scores.insert(0, f"average precision {perf.average_precision:.3f}")
        if perf.roc_auc is not None:
            scores.insert(0, _figure(perf, "roc_auc", "ROC AUC", "score"))
        out.append(", ".join(scores))
        out += _classes(perf)
    if perf.mapping:
        out.append(f"{perf.mapping}, since the model names no classes; give it class names "
                   "(load_model(..., class_names=[...])) if it was trained otherwise")
    out += list(perf.notes)
    return out


def _classes(perf: Any) -> list[str]:
    """The class with the lowest F1, the pair most often confused (more than two classes)
    and the threshold that maximises F1 against 0.5 (two)."""
    names = perf.class_names or tuple(str(c) for c in range(len(perf.support)))
    present = np.flatnonzero(perf.support > 0)
    weakest = int(present[np.argmin(perf.f1[present])])
    out = [f"weakest class: {names[weakest]!r}, F1 {perf.f1[weakest]:.2f} (precision {pct(perf.precision[weakest])}, "
           f"recall {pct(perf.recall[weakest])}, {int(perf.support[weakest]):,} rows)"]
    matrix = np.array(perf.confusion_matrix, dtype=np.int64)
    np.fill_diagonal(matrix, 0)
    if len(names) > 2 and matrix.max() > 0:
        true, predicted = np.unravel_index(int(np.argmax(matrix)), matrix.shape)
        out.append(f"most often confused: true {names[true]!r} predicted as {names[predicted]!r} "
                   f"({matrix[true, predicted]:,} rows)")
    if perf.threshold_points is not None:
        table = perf.thresholds
        best = perf.best_threshold("f1")
        at_best = float(table["f1"][table["threshold"] == best].iloc[0])
        at_half = float(table["f1"][table["threshold"] >= 0.5].iloc[-1])
        if at_best - at_half < 5e-4:
            out.append(f"the threshold 0.5 is as good as any for F1 ({at_half:.3f}; the best is at {best:.3g})")
        else:
            out.append(f"the threshold that maximises F1 is {best:.3g} (F1 {at_best:.3f}, against {at_half:.3f} "
                       "at 0.5)")
    return out


def cohorts(analysis: Any) -> list[str]:
    """The error analysis's verdict (it names the cohort that errs most beyond chance,
    or says that none does), up to :data:`MORE_COHORTS` more cohorts beyond chance, and
    the share of the errors they hold."""
    out = [analysis.verdict()]
    found = analysis.significant
    for cohort in found[1:1 + MORE_COHORTS]:
        out.append(f"errors also concentrate in {cohort.summary()} ({pct(cohort.error_coverage)} of the errors)")
    if found:
        rows = sum(c.size for c in found) / max(analysis.n, 1)
        share = sum(c.error_coverage for c in found)
        kind = "errors" if analysis.metric == "error rate" else "absolute error"
        which = "the cohort beyond chance holds" if len(found) == 1 else f"the {len(found)} cohorts beyond chance hold"
        out.append(f"{which} {pct(share)} of the {kind} on {pct(rows)} of the rows")
    return out


def drivers(result: Any) -> str:
    """The drivers' sentence, said of the cohort that errs most."""
    return f"in the cohort that errs most ({result.rule}), {result.sentence.removeprefix('in this cohort ')}"


def slice_findings(result: Any) -> list[str]:
    """Each slice's rate against the rest, and whether it differs beyond chance (Holm)."""
    metric = "error rate" if result.metric == "error_rate" else "mean absolute error"
    out = []
    for k, (name, rule) in enumerate(zip(result.names, result.rules)):
        label = rule if name == rule else f"{name!r} ({rule})"
        if result.size[k] == 0:
            out.append(f"slice {label}: no rows")
            continue
        verdict = "beyond chance" if result.flagged[k] else "within chance"
        p = f"Holm-adjusted p {result.p_adjusted[k]:.2g}: " if np.isfinite(result.p_adjusted[k]) else ""
        out.append(f"slice {label}: {rate_text(result.value[k], metric)} on {int(result.size[k]):,} rows, "
                   f"{rate_text(result.rest[k], metric).removesuffix(' wrong')} elsewhere ({p}{verdict})")
    return out
