"""Pages that show one audit section (Uncertainty, Explanation quality): the section is
computed through :func:`explain.audit` (the same code path as the report), cached per
session, and drawn with the figures its declaration gives (the report's too), each with
its data for download."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explain.app import tasks
from explain.app.cache import cached
from explain.app.charts import Chart
from explain.auditing.common import Section
from explain.auditing.registry import section_figures

__all__ = ["run_section", "charts", "result_frame", "show_findings"]


def run_section(name: str, rows: int, *, compute_now: bool, **options: Any) -> Section | None:
    """The audit section ``name`` over the dataset, from the cache or computed now."""

    return cached(f"section.{name}", None, f"{name}: running on up to {rows} rows…", tasks.section,
                          compute=compute_now, section_name=name, rows=rows, **options)


def show_findings(section: Section) -> None:
    """The section's findings as plain text (they quote names from the user's files)."""
    if section.status != "ok":
        st.warning(f"{section.title} did not run: {section.reason}")
        return
    for finding in section.findings:
        st.text(f"• {finding}")


def charts(section: Section) -> list[Chart]:
    """One chart per figure, with its result's rows as the CSV and the result as JSON."""
    out = []
    for k, (key, result, fig) in enumerate(section_figures(section)):
        out.append(Chart(f"{section.name}_{key}_{k}", fig, result_frame(result), result))
    return out


def result_frame(result: Any) -> pd.DataFrame:
    """A table of a result: its ``bins`` or ``curve`` where it has one, else every
    per-example field (1-D arrays of one length, and the rows of 2-D ones).

    Example:
        >>> import numpy as np
        >>> from explain.results import PredictionSets
        >>> sets = PredictionSets(method="lac", task="classification", alpha=0.1, quantile=0.5,
        ...                       calibration_scores=np.zeros(9), sets=np.eye(2, dtype=bool),
        ...                       rows=np.array([3, 7]))
        >>> list(result_frame(sets).columns)
        ['sets_0', 'sets_1', 'rows']
    """
    for name in ("bins", "curve"):
        table = getattr(result, name, None)
        if isinstance(table, pd.DataFrame):
            return table
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    arrays = {k: v for k, v in fields.items() if isinstance(v, np.ndarray) and v.ndim in (1, 2)}
    if not arrays:
        return pd.DataFrame()
    rows = fields.get("rows")
    lengths = [len(v) for v in arrays.values()]
    n = len(rows) if rows is not None else max(set(lengths), key=lengths.count)  # one entry per example
    columns: dict[str, Any] = {}
    for key, value in arrays.items():
        if len(value) != n:
            continue
        if value.ndim == 1:
            columns[key] = value
        elif value.shape[1] <= 50:
            for j in range(value.shape[1]):
                columns[f"{key}_{j}"] = value[:, j]
    return pd.DataFrame(columns)
