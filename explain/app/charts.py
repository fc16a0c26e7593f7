"""A chart with the data behind it (:class:`Chart`), and how every page shows one: the
Plotly figure with its downloads (the chart as HTML, its data as CSV, the result as JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from explain.loading.csv_export import safe_csv
from explain.results import Attribution

__all__ = ["Chart", "pairs", "show"]


@dataclass(frozen=True)
class Chart:
    """A figure with the data behind it: a CSV table and the result it plots (JSON)."""

    stem: str
    figure: go.Figure
    table: pd.DataFrame
    attribution: Any  # the result plotted (anything with to_json)


def show(item: Chart, key: str) -> None:
    """A Plotly chart (toolbar shown: its camera button saves a PNG) and, beside it, its
    downloads: the chart as self-contained HTML, its data as CSV, the attributions as JSON."""
    config = {"displayModeBar": True, "displaylogo": False,
              "toImageButtonOptions": {"format": "png", "filename": item.stem, "scale": 2}}
    st.plotly_chart(item.figure, key=f"chart-{key}", config=config)
    with st.container(horizontal=True):
        st.download_button(
            "Chart (HTML)", data=lambda: item.figure.to_html(include_plotlyjs=True, full_html=True),
            file_name=f"{item.stem}.html", mime="text/html", key=f"html-{key}", on_click="ignore",
        )
        st.download_button(
            "Data (CSV)", data=lambda: safe_csv(item.table), file_name=f"{item.stem}.csv",
            mime="text/csv", key=f"csv-{key}", on_click="ignore",
        )
        st.download_button(
            "Attributions (JSON)" if isinstance(item.attribution, Attribution) else "Result (JSON)",
            data=item.attribution.to_json, file_name=f"{item.stem}.json",
            mime="application/json", key=f"json-{key}", on_click="ignore",
        )


def pairs(items: Sequence[Chart], prefix: str, *, start: int = 0) -> None:
    """The charts two to a line; chart ``j`` (counted from ``start``) gets the key ``prefix + j``."""
    for k in range(0, len(items), 2):
        for cell, (j, item) in zip(st.columns(2), enumerate(items[k:k + 2], start=start + k)):
            with cell:
                show(item, f"{prefix}{j}")
