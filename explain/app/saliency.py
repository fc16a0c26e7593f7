"""The Saliency page's work: one method's attributions for a row and a sample, and its charts.

A sample's attributions (tabular: the global view) are computed only when the user presses
Run; after a Run with some settings, other rows under the same settings are computed as
they are picked (one row is quick). Everything comes from :func:`compute.attribution`
(the session's one cache), so revisiting the page never recomputes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import streamlit as st

from explain import plots
from explain.app import compute, page, tables
from explain.app.charts import Chart
from explain.results import Attribution

__all__ = ["SaliencyResult", "charts", "explain_rows", "settings_ran"]

LIVE = "saliency.live"  # settings the user has pressed Run for


@dataclass(frozen=True)
class SaliencyResult:
    """One method's attribution of dataset row ``row`` (``example`` has one example) and,
    for the global view, of the rows ``sample`` (``overall``)."""

    method: str
    example: Attribution
    row: int
    overall: Attribution | None
    sample: tuple[int, ...] | None


def _settings(method: str, options: dict[str, Any]) -> str:
    model, _ = page.held()
    fingerprint = model.fingerprint if model else ""
    return json.dumps([fingerprint, method, options], sort_keys=True, default=str)


def settings_ran(method: str, options: dict[str, Any]) -> bool:
    """Whether Run was pressed for this method and these options (on this model)."""
    return _settings(method, options) in st.session_state.get(LIVE, set())


def explain_rows(
    method: str, options: dict[str, Any], row: int, sample: list[int] | None, *, run: bool
) -> SaliencyResult | None:
    """The method's result for ``row`` and ``sample``, from the cache or computed now.

    The sample is computed only when ``run``; the row also when Run was pressed before for
    these settings. A row inside the sample is taken from that one computation.
    """
    live = run or settings_ran(method, options)
    overall = None
    if sample:
        overall = compute.attribution(method, sample, compute=run, **options)
        if overall is None:
            return None
    if overall is not None and sample and row in sample:
        example = overall[sample.index(row)]
    else:
        example = compute.attribution(method, [row], compute=live, **options)
    if example is None:
        return None
    if run:
        st.session_state.setdefault(LIVE, set()).add(_settings(method, options))
    return SaliencyResult(method, example, row, overall, tuple(sample) if sample else None)


def charts(result: SaliencyResult) -> list[Chart]:
    """The row's natural plot and, with a sample, its global importance, each with its data."""
    out = []
    ok, fig = page.guarded(result.example.plot, index=0)
    if ok:
        title = fig.layout.title.text or ""
        fig.update_layout(title=title.replace("example 0", f"row {int(result.example.rows[0])}", 1))
        table = tables.attribution_frame(result.example, [result.row])
        out.append(Chart(f"{result.method}_row{result.row}", fig, table, result.example))
    if result.overall is not None and result.sample:
        ok, fig = page.guarded(plots.global_importance, result.overall)
        if ok:
            n = len(result.sample)
            fig.update_layout(title=f"{result.method}: mean |attribution| over {n} sampled rows")
            table = tables.attribution_frame(result.overall, result.sample)
            out.append(Chart(f"{result.method}_global_{n}rows", fig, table, result.overall))
    return out
