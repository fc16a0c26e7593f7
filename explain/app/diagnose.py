"""The Performance page's work: the headline figures with their intervals, the confusion
matrix, ROC and precision-recall curves and the per-class table, a binary model at a chosen
threshold, a regression's residuals, and slices the user writes as rules. The model runs
through :mod:`explain.app.compute` (an upload's in its worker), cached, with progress and
Cancel; every figure comes with its downloads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explain import plots
from explain.app import cache, charts, choices, compute, page, scoreboard
from explain.app.charts import Chart
from explain.app.persist import kept
from explain.app.remote import SessionModel
from explain.core.dataset import Dataset
from explain.results import Performance, SliceMetrics

__all__ = ["curves", "measure", "per_class", "show_headline", "show_slices", "show_threshold"]


def measure() -> Performance | None:
    """The model's performance on the dataset: cached, else computed now (unless just
    cancelled: then a button starts it again)."""
    perf = compute.performance(compute=False)
    if perf is None and cache.auto_run("performance", "Run"):
        perf = compute.performance(compute=True)
    return perf


def show_headline(perf: Performance) -> None:
    """The headline figures, four to a line, each with its bootstrap interval below."""
    items = scoreboard.headline(perf)
    for start in range(0, len(items), 4):
        for cell, (label, value, interval) in zip(st.columns(4), items[start:start + 4]):
            cell.metric(label, value, help=interval or "No interval for this figure.")
            if interval:
                cell.caption(interval)
    rows = f"On {len(perf):,} labelled rows"
    st.caption(rows + (f"; {perf.params.get('bootstrap')} bootstrap resamples (seed {perf.params.get('seed')})."
                       if perf.intervals else "."))
    if perf.mapping:
        st.info(f"The model names no classes, so its {perf.mapping}.")
    for note in perf.notes:
        st.caption(f"Note: {note}.")


def _matrix(perf: Performance) -> pd.DataFrame:
    names = list(perf.class_names or range(len(perf.confusion_matrix)))
    frame = pd.DataFrame(perf.confusion_matrix, index=pd.Index(names, name="true"), columns=names)
    return frame.reset_index()


def curves(perf: Performance, normalize: bool) -> list[Chart]:
    """Classifiers: the confusion matrix, the ROC and precision-recall curves; regression:
    the residuals."""
    if perf.task == "regression":
        table = pd.DataFrame({"row": perf.rows, "label": perf.labels, "prediction": perf.predictions,
                              "residual": perf.residuals})
        return [Chart("residuals", plots.residuals(perf), table, perf)]
    out = [Chart("confusion_matrix" + ("_normalized" if normalize else ""),
                 plots.confusion_matrix(perf, normalize=normalize), _matrix(perf), perf)]
    if perf.roc_points is not None and len(perf.roc_points):
        out.append(Chart("roc_curve", plots.roc_curve(perf), perf.roc, perf))
        out.append(Chart("pr_curve", plots.pr_curve(perf), perf.precision_recall, perf))
    return out


def per_class(perf: Performance) -> None:
    """Precision, recall, F1, support and the one-against-the-rest AUC and AP of each class."""
    table = perf.per_class
    st.dataframe(table.style.format({c: "{:.3f}" for c in table.columns if c != "support"}, na_rep="—"),
                 width="stretch")


def show_threshold(perf: Performance, normalize: bool) -> None:
    """A binary model at a chosen threshold on the probability of its class 1: precision,
    recall, F1 and accuracy there (against the largest output), the threshold curve and the
    confusion matrix there; read off the result, so moving the slider runs nothing."""
    positive = (perf.class_names or ("0", "1"))[1]
    threshold = kept(st.slider, f"Threshold on the probability of {positive}", key="perf.threshold",
                     default=0.5, min_value=0.0, max_value=1.0, step=0.01,
                     help=f"Rows whose probability of {positive} is at least this are called {positive}.")
    there = scoreboard.at_threshold(perf, float(threshold))
    best = perf.best_threshold("f1")
    figures = [("Precision", there.precision[1], perf.precision[1]), ("Recall", there.recall[1], perf.recall[1]),
               ("F1", there.f1[1], perf.f1[1]), ("Accuracy", there.accuracy, perf.accuracy)]
    for cell, (name, value, default) in zip(st.columns(4), figures):
        cell.metric(f"{name} of {positive}" if name != "Accuracy" else "Accuracy at this threshold", f"{value:.3f}",
                    delta=f"{value - default:+.3f}" if abs(value - default) >= 5e-4 else None,
                    help="The change is against the largest output (0.5).")
    best_f1 = float(np.max(perf.thresholds["f1"].to_numpy()))
    st.caption(f"F1 of {positive} is highest, {best_f1:.3f}, at threshold {best:.4g}.")
    matrix = plots.confusion_matrix(there, normalize=normalize)
    matrix.update_layout(title=matrix.layout.title.text.replace("Confusion matrix", f"Confusion matrix at {threshold:.2f}", 1))
    charts.pairs([Chart("threshold_curve", plots.threshold_curve(there), perf.thresholds, perf),
                  Chart(f"confusion_matrix_at_{threshold:.2f}", matrix, _matrix(there), perf)], "perf-t")


def _flagged(table: pd.DataFrame) -> pd.io.formats.style.Styler:
    def colour(row: pd.Series) -> list[str]:
        return ["background-color: rgba(214, 39, 40, 0.18)" if row["flagged"] else ""] * len(row)

    number = {c: "{:.3g}" for c in ("value", "low", "high", "rest", "difference", "p_value", "p_adjusted")}
    return table.style.apply(colour, axis=1).format(number, na_rep="—")


def show_slices(model: SessionModel, data: Dataset) -> None:
    """The slices the user writes (one rule per line): the table, flagged slices in red, and
    the plot; a rule that cannot be read shows its error and the others still run."""
    st.subheader("Slices")
    text = kept(st.text_area, "Slice rules, one per line", key="perf.rules", default="",
                placeholder=f"{choices.example_rule(data)}\n…",
                help="<column> <op> <value> joined by and; op one of > >= < <= == != in; backticks around names "
                     "with spaces; quotes around text. Parsed, never evaluated.")
    names = choices.slice_columns(model, data)
    shown = ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")
    st.caption(f"Columns: {shown}. A slice is flagged only when it differs from the rest beyond chance "
               "after Holm's correction for the number of slices.")
    rules = scoreboard.rule_lines(text)
    if not rules:
        st.info(f"Write a rule, e.g. {choices.example_rule(data)}, to measure the model on those rows.")
        return
    outcome = compute.slices(rules) if cache.auto_run("slices", "Measure the slices") else None
    if outcome is None:
        return
    result, bad = outcome
    for message in bad.values():
        st.error(message + (" The other rules ran." if result is not None else ""))
    if result is None:
        return
    _slice_table(result)


def _slice_table(result: SliceMetrics) -> None:
    table = result.table
    what = "error rate" if result.metric == "error_rate" else "mean absolute error"
    flagged = int(np.sum(result.flagged))
    st.caption(f"The {what} on each slice and on the rows outside it; {flagged} of {len(result)} flagged.")
    st.dataframe(_flagged(table), width="stretch")
    ok, figure = page.guarded(plots.slice_metrics, result)
    if ok:
        charts.show(Chart("slices", figure, table.reset_index(), result), "perf-slices")
