"""The audit's performance section: how well the model does on the labelled rows
(:func:`explain.performance`, with bootstrap intervals), where it errs
(:func:`explain.error_analysis`, and :func:`explain.cohort_drivers` in the cohort that errs
most), and, when the user names them, slices (:func:`explain.slices`).

The findings say it in words (:mod:`explain.auditing.performance_text`); the
figures are the Performance page's; the JSON keeps the figures and the cohorts' rules,
sizes, rates and intervals, not one entry per row.

Example:
    >>> import explain
    >>> from explain.auditing.sections.performance import SECTION
    >>> model, data = explain.load_example("diabetes")
    >>> section = SECTION.run(model, data)
    >>> section.status, section.metrics["r2"] == section.metrics["performance.r2"] > 0.4
    ('ok', True)
    >>> list(section.results), section.metrics["performance.cohorts_found"]
    (['performance', 'error_analysis'], 0.0)
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from explain.auditing import performance_text as text
from explain.auditing.common import Findings, Section, SectionSpec, plain_export, sample_rows, timed
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.errors import ExplainError
from explain.results._base import jsonable

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "performance_section", "performance_figures", "performance_export", "MEASURED_ROWS",
           "DRIVER_ROWS"]

MEASURED_ROWS = 200_000
"""The section measures the model, searches cohorts and measures slices on at most this
many rows (drawn with the audit's seed); every number comes from the same rows."""

DRIVER_ROWS = 500
"""The cohort's drivers: global importance on at most this many rows inside the cohort and
as many outside it."""

# fields of a Performance with one entry per row (or per distinct score), left out of the JSON
_PER_ROW = ("labels", "predictions", "rows", "roc_points", "pr_points", "threshold_points")


def performance_section(model: Model, data: Dataset, *, seed: int = 0, slices: Any = None, backend: Any = None,
                        **_: Any) -> Section:
    """Measure ``model`` on the labelled rows of ``data`` and find where it errs.

    Args:
        model: the model.
        data: a labelled Dataset; at most :data:`MEASURED_ROWS` rows are used.
        seed: seeds the row sample, the bootstrap and the cohort search.
        slices: rules for :func:`explain.slices` (``{"name": "rule"}``, a list of rules or
            one rule), e.g. ``["age > 60"]``; None: no slices.
        backend: where the error analysis and the drivers run (``"ray"`` or local).

    Metrics (for gates): ``performance.<figure>`` for each of ``explain.performance``'s
    headline figures (``accuracy``, ``balanced_accuracy``, ``f1_macro``, ``roc_auc``,
    ``average_precision``, ``log_loss``, ``brier``; regression ``r2``, ``mae``, ``rmse``);
    ``performance.cohorts_found``, the cohorts that err more than the rest beyond chance;
    ``performance.worst_cohort_error``, the highest error rate (regression: mean absolute
    error) among those cohorts, or the overall rate when there are none;
    ``performance.slices_flagged`` when slices are given (those that differ from the rest
    beyond chance, either way); and, as before, ``accuracy``
    (classifiers) or ``r2`` and ``mae`` (regression).
    """
    from explain.diagnostics.cohorts import error_analysis
    from explain.diagnostics.metrics import performance
    from explain.diagnostics.slicing import slices as measure_slices

    def run() -> Findings:
        if data.y is None:
            raise ExplainError("The dataset has no labels, so accuracy cannot be measured; load it with target=...")
        measured = sample_rows(data, MEASURED_ROWS, seed)
        perf = performance(model, measured, seed=seed)
        findings = text.headline(perf, len(data))
        metrics = {f"performance.{name}": value for name, value in perf.metrics.items()}
        metrics.update({"accuracy": perf.accuracy} if perf.task == "classification" else
                       {"r2": perf.r2, "mae": perf.mae})
        results: dict[str, Any] = {"performance": perf}
        # the audit's local backend is an object; error_analysis batches it as it does None
        local = getattr(backend, "name", backend) in (None, "local")
        analysis = error_analysis(model, measured, seed=seed, backend=None if local else backend)
        found = analysis.significant
        worst = max(found, key=lambda c: c.error_rate) if found else None
        findings += text.cohorts(analysis)
        metrics["performance.cohorts_found"] = float(len(found))
        metrics["performance.worst_cohort_error"] = float(worst.error_rate if worst else analysis.error_rate)
        results["error_analysis"] = analysis
        if worst is not None:
            findings.append(_drivers(model, measured, worst, seed, backend, results))
        if slices is not None:
            try:
                sliced = measure_slices(model, measured, slices)
            except ExplainError as err:
                findings.append(f"the slices were not measured: {err}")
            else:
                findings += text.slice_findings(sliced)
                metrics["performance.slices_flagged"] = float(sliced.flagged.sum())
                results["slices"] = sliced
        return findings, metrics, results

    return timed(SECTION, run)


def _drivers(model: Model, data: Dataset, worst: Any, seed: int, backend: Any, results: dict[str, Any]) -> str:
    """What drives the model in the cohort that errs most (kept in ``results``), in words."""
    from explain.attribution.attributions import methods
    from explain.diagnostics.drivers import cohort_drivers

    method = "saliency" if "saliency" in methods(model) else "feature_ablation"
    try:
        drivers = cohort_drivers(model, data, worst, method=method, sample=DRIVER_ROWS, seed=seed, backend=backend)
    except ExplainError as err:
        return f"what drives the model in {worst.rule} was not measured: {err}"
    results["drivers"] = drivers
    return text.drivers(drivers)


def performance_figures(name: str, result: Any) -> list[go.Figure]:
    """``performance``: the confusion matrix (shares of each true class), ROC and
    precision-recall curves, and a binary model's threshold curve; a regression's
    residuals. ``error_analysis``: the cohorts' bars and the error tree. ``drivers``:
    the cohort against elsewhere. ``slices``: the metric per slice."""
    from explain import plots

    if name == "performance":
        if result.task == "regression":
            return [plots.residuals(result)]
        figures = [plots.confusion_matrix(result, normalize=True), plots.roc_curve(result), plots.pr_curve(result)]
        if result.threshold_points is not None:
            figures.append(plots.threshold_curve(result))
        return figures
    if name == "error_analysis":
        return [plots.cohort_bars(result), plots.error_tree(result)]
    if name == "drivers":
        return [plots.cohort_drivers(result)]
    if name == "slices":
        return [plots.slice_metrics(result)]
    return []


def performance_export(name: str, result: Any) -> Any:
    """What the JSON keeps: ``performance`` without its per-row fields (labels,
    predictions, row ids, curve points) but with its row count and, binary, the best-F1
    threshold; ``error_analysis`` as its verdict and each cohort's rule, conditions, size,
    errors, rate, interval, coverage, rest's rate, p-value and significance (no row
    indices); ``slices`` as their table; ``drivers`` whole."""
    if name == "performance":
        out = {f.name: jsonable(getattr(result, f.name)) for f in dataclasses.fields(result) if f.name not in _PER_ROW}
        out["n"] = len(result)
        if result.threshold_points is not None:
            out["best_f1_threshold"] = result.best_threshold("f1")
        return out
    if name == "error_analysis":
        cohorts = [{f.name: jsonable(getattr(c, f.name)) for f in dataclasses.fields(c)
                    if f.name not in ("rows", "row_ids")} for c in result.cohorts]
        return {"verdict": result.verdict(), "metric": result.metric, "n": result.n, "errors": result.errors,
                "error_rate": result.error_rate, "alpha": result.alpha, "tested": result.tested,
                "cutoff": result.cutoff, "columns": list(result.columns), "cohorts": cohorts}
    if name == "slices":
        return {"metric": result.metric, "overall": result.overall, "alpha": result.alpha, "level": result.level,
                "slices": jsonable(result.table.reset_index().to_dict("records"))}
    return plain_export(name, result)


SECTION = SectionSpec("performance", "Performance", performance_section, performance_figures, performance_export)
