"""The Error analysis page's work: the search's options, its verdict, the cohorts as a table,
an error tree and bars, one cohort in detail (its metrics against the rest, its rows, each one
click from the Saliency page, and what drives the model there), and a heat map of the error
rate over one or two columns. Computations go through :mod:`explain.app.compute` (cached,
with progress and Cancel); every figure comes with its downloads."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from explain import plots
from explain.app import cache, charts, choices, compute, page, scoreboard, widgets
from explain.app.charts import Chart
from explain.app.persist import kept
from explain.app.remote import SessionModel
from explain.core.dataset import Dataset
from explain.results import Cohort, ErrorAnalysis, Performance

__all__ = ["analysis", "overview", "pick", "show_cohort", "show_heatmap", "show_verdict"]

NONE = "(none)"
ROWS_SHOWN = 200
OPEN_BUTTONS = 6


def analysis(model: SessionModel, data: Dataset) -> ErrorAnalysis | None:
    """The search's options and its Run button; the analysis from the cache or run now."""
    first, second, third = st.columns([1, 1, 2])
    depth = kept(first.slider, "Most conditions per cohort", key="errors.depth", default=3, min_value=1, max_value=6,
                 help="The depth of the tree: how many conditions a cohort's rule joins with and.")
    size = kept(second.number_input, "Fewest rows per cohort", key="errors.min_size", default=None, min_value=1,
                step=1, placeholder="automatic", help="Empty: max(30, 1% of the rows). Smaller cohorts are noisier; "
                "the false discovery rate control keeps them honest.")
    features = kept(third.multiselect, "Columns to search", key="errors.features", default=[],
                    options=choices.error_columns(model, data), placeholder="all features and metadata",
                    help="Features, metadata and derived columns (true and predicted class, confidence, length).")
    run = cache.run_button(name="error_analysis")
    return compute.error_analysis(compute=run, max_depth=int(depth), min_size=None if size is None else int(size),
                                  features=features or None)


def show_verdict(result: ErrorAnalysis) -> None:
    """The verdict first: where errors concentrate, or that no cohort stands out beyond chance."""
    found = bool(result.significant)
    st.badge("Errors concentrate" if found else "No cohort stands out", color="red" if found else "green",
             icon=":material/error:" if found else ":material/verified:")
    st.text(result.verdict()[0].upper() + result.verdict()[1:] + ".")  # plain text: it quotes column names


def overview(result: ErrorAnalysis) -> None:
    """The cohorts as a table (most harmful first), the error tree and their bars."""
    table = result.table()
    if len(table):
        rate = "{:.1%}" if result.metric == "error rate" else "{:.4g}"
        form = {"error_rate": rate, "low": rate, "high": rate, "rest_error_rate": rate, "error_coverage": "{:.1%}",
                "excess": "{:.3g}", "p_value": "{:.2g}"}
        st.dataframe(table.style.format(form), width="stretch", hide_index=True)
    else:
        st.info("The tree found no cohort that errs more than the rest; try fewer rows per cohort or other columns.")
    charts.pairs([Chart("error_tree", plots.error_tree(result), result.nodes(), result),
                  Chart("cohorts", plots.cohort_bars(result), table, result)], "errors")


def pick(result: ErrorAnalysis) -> Cohort | None:
    """A selectbox of the cohorts; the chosen one (None when there is none)."""
    if not result.cohorts:
        return None
    index = kept(st.selectbox, "Cohort", key="errors.cohort", default=0, options=list(range(len(result.cohorts))),
                 format_func=lambda i: f"{i + 1}. {result.cohorts[i].summary()}")
    return result.cohorts[int(index)]


def show_cohort(model: SessionModel, data: Dataset, cohort: Cohort, perf: Performance | None) -> None:
    """One cohort: its rate against the rest, its figures against the rest, its rows (first
    the wrong ones, a button to open each on the Saliency page) and its drivers."""
    rate = (lambda v: f"{v:.1%}") if cohort.metric == "error rate" else (lambda v: f"{v:.4g}")
    cells = st.columns(4)
    cells[0].metric("Rows", f"{cohort.size:,}")
    cells[1].metric(cohort.metric.capitalize(), rate(cohort.error_rate), help=f"95% interval "
                    f"{rate(cohort.interval[0])} to {rate(cohort.interval[1])}; the rest: {rate(cohort.rest_error_rate)}")
    cells[2].metric("Elsewhere", rate(cohort.rest_error_rate))
    cells[3].metric("Share of all errors", f"{cohort.error_coverage:.0%}",
                    help=f"p = {cohort.p_value:.2g} on held-out rows; beyond chance: {'yes' if cohort.significant else 'no'}")
    if perf is not None:
        st.dataframe(scoreboard.versus_rest(perf, cohort.row_ids).style.format(precision=3), width="stretch")
    rows = scoreboard.cohort_rows(data, perf, cohort.rows, ROWS_SHOWN)
    st.caption(f"The first {min(ROWS_SHOWN, cohort.size):,} of its {cohort.size:,} rows, the model's mistakes first.")
    st.dataframe(rows, width="stretch", hide_index=True, height=260)
    openable = [int(r) for r in rows["row"] if r < widgets.ROW_CHOICES][:OPEN_BUTTONS]
    if openable:
        st.caption("Open one on the Saliency page to see what drove the model there.")
        with st.container(horizontal=True):
            for row in openable:
                if st.button(f"Row {row}", key=f"errors.open.{row}", icon=":material/search:"):
                    page.open_row(row)
    _drivers(model, cohort)


def _drivers(model: SessionModel, cohort: Cohort) -> None:
    st.subheader("What drives the model in this cohort")
    methods = choices.methods(model)
    if not methods:
        st.info("No attribution method serves this model, so its drivers cannot be measured.")
        return
    method = kept(st.selectbox, "Attribution method", key="errors.method",
                  default="saliency" if "saliency" in methods else methods[0], options=methods,
                  help="Mean |attribution| on the cohort's rows against the other rows (at most 2,000 each).")
    drivers = compute.cohort_drivers(cohort, method) if cache.auto_run("cohort_drivers", "Find the drivers") else None
    if drivers is not None:
        st.text(drivers.sentence[0].upper() + drivers.sentence[1:] + ".")
        charts.show(Chart("cohort_drivers", plots.cohort_drivers(drivers), drivers.frame(), drivers), "errors-drivers")


def show_heatmap(result: ErrorAnalysis) -> None:
    """The error rate over one column, or over a pair of the columns the search kept."""
    if not result.columns:
        return
    st.subheader("Error rate by column")
    left, right = st.columns(2)
    split = [c[0] for cohort in result.cohorts for c in cohort.conditions] + [a for pair in result.pairs for a in pair]
    first = kept(left.selectbox, "Column", key="errors.heat_a", default=(split or list(result.columns))[0],
                 options=list(result.columns), help="Default: the column of the first cohort's first condition.")
    partners = [b for a, b in result.pairs if a == first] + [a for a, b in result.pairs if b == first]
    second = kept(right.selectbox, "And a second column", key="errors.heat_b", default=NONE,
                  options=[NONE, *dict.fromkeys(partners)],
                  help="Pairs of the columns the tree split on (and the best at the root), up to eight columns.")
    other: Any = None if second == NONE else second
    ok, heat = page.guarded(result.heatmap, first, other)
    if ok:
        table = _heat_table(heat)
        charts.show(Chart(f"error_heatmap_{first}" + (f"_{other}" if other else ""), plots.error_heatmap(heat),
                          table, result), "errors-heat")


def _heat_table(heat: Any) -> pd.DataFrame:
    if heat.feature_b is None:
        return pd.DataFrame({heat.feature_a: heat.labels_a, "rows": heat.size, "errors": heat.errors, "rate": heat.rate})
    return pd.DataFrame([{heat.feature_a: a, heat.feature_b: b, "rows": heat.size[i, j], "errors": heat.errors[i, j],
                          "rate": heat.rate[i, j]} for i, a in enumerate(heat.labels_a)
                         for j, b in enumerate(heat.labels_b)])
