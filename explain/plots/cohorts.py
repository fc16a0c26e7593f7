"""Plots of error analysis: the cohorts (bars, a table), the error tree, heat maps of the
error rate over one or two features, and a cohort's drivers against elsewhere.

Example:
    >>> import numpy as np
    >>> from explain.results import ErrorHeatmap
    >>> heat = ErrorHeatmap("age", ("≤ 30", "> 30"), np.array([10, 10]), np.array([1, 6]), 0.35)
    >>> error_heatmap(heat).data[0].type
    'bar'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from explain.errors import InputError
from explain.plots._common import NEUTRAL_COLOR, POSITIVE_COLOR, display_text

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import CohortDrivers, ErrorAnalysis, ErrorHeatmap

__all__ = ["cohort_bars", "cohort_table", "error_tree", "error_heatmap", "cohort_drivers"]

_OVERALL_COLOR = "#4d4d4d"


def _check(result: Any, kind: str, plot_name: str, attribute: str) -> None:
    if not hasattr(result, attribute):
        raise InputError(f"{plot_name} plots an explain.{kind}, got {type(result).__name__}; compute one with "
                         f"{'explain.cohort_drivers(model, data, cohort)' if kind == 'CohortDrivers' else 'explain.error_analysis(model, data)'}.")


def _percent(result: Any) -> bool:
    return result.metric == "error rate"


def cohort_bars(result: ErrorAnalysis, *, top_k: int = 10) -> go.Figure:
    """Horizontal bars of the cohorts' error rates with their 95% intervals, the most
    harmful at the top, against a line at the overall rate; cohorts beyond chance are
    red, the others grey. Hovering shows size, error coverage and p-value.

    Args:
        result: an ErrorAnalysis.
        top_k: show at most this many cohorts.

    Raises:
        InputError: ``result`` is not an ErrorAnalysis.

    Example:
        >>> import explain, numpy as np, torch
        >>> data = explain.Dataset(np.random.default_rng(0).random((300, 2)), np.zeros(300, dtype=int))
        >>> result = explain.error_analysis(explain.Model(torch.nn.Linear(2, 2), modality="tabular"), data)
        >>> fig = cohort_bars(result)
        >>> fig.layout.title.text.startswith("no cohort") or fig.layout.title.text.startswith("errors")
        True
    """
    _check(result, "ErrorAnalysis", "cohort_bars", "cohorts")
    shown = list(result.cohorts[: int(top_k)])[::-1]
    rates = np.array([c.error_rate for c in shown], dtype=float)
    low = np.array([c.interval[0] for c in shown], dtype=float)
    high = np.array([c.interval[1] for c in shown], dtype=float)
    fig = go.Figure(go.Bar(
        x=rates, y=[display_text(c.rule) for c in shown], orientation="h",
        marker_color=[POSITIVE_COLOR if c.significant else NEUTRAL_COLOR for c in shown],
        error_x={"type": "data", "symmetric": False, "array": high - rates, "arrayminus": rates - low},
        customdata=[[c.size, c.error_coverage, c.p_value, c.rest_error_rate] for c in shown],
        hovertemplate="%{y}<br>rate %{x:.3g} (rest %{customdata[3]:.3g})<br>%{customdata[0]:,} rows, "
                      "%{customdata[1]:.0%} of all errors<br>p = %{customdata[2]:.2g}<extra></extra>"))
    fig.add_vline(x=result.error_rate, line_dash="dash", line_color=_OVERALL_COLOR,
                  annotation_text=f"overall {result.error_rate:.3g}")
    fig.update_layout(title=display_text(result.verdict()), xaxis_title=result.metric,
                      xaxis_tickformat=".0%" if _percent(result) else None, height=220 + 40 * len(shown))
    return fig


def cohort_table(result: ErrorAnalysis) -> go.Figure:
    """The cohorts as a table: rule, rows, error rate and interval, the rest's rate,
    share of all errors, p-value and whether it is beyond chance.

    Example:
        >>> import explain, numpy as np, torch
        >>> data = explain.Dataset(np.random.default_rng(0).random((300, 2)), np.zeros(300, dtype=int))
        >>> result = explain.error_analysis(explain.Model(torch.nn.Linear(2, 2), modality="tabular"), data)
        >>> cohort_table(result).data[0].type
        'table'
    """
    _check(result, "ErrorAnalysis", "cohort_table", "cohorts")
    fmt = (lambda v: f"{v:.1%}") if _percent(result) else (lambda v: f"{v:.3g}")
    rows = [[display_text(c.rule), f"{c.size:,}", fmt(c.error_rate), f"{fmt(c.interval[0])} – {fmt(c.interval[1])}",
             fmt(c.rest_error_rate), f"{c.error_coverage:.0%}", f"{c.p_value:.2g}",
             "yes" if c.significant else "no"] for c in result.cohorts]
    header = ["cohort", "rows", result.metric, "95% interval", "elsewhere", "share of errors", "p-value",
              f"beyond chance (FDR {result.alpha:.0%})"]
    columns = [list(col) for col in zip(*rows)] if rows else [[] for _ in header]
    fig = go.Figure(go.Table(header={"values": header}, cells={"values": columns}))
    fig.update_layout(title=display_text(result.verdict()))
    return fig


def error_tree(result: ErrorAnalysis, *, pruned: bool = True) -> go.Figure:
    """An icicle of the tree's nodes: each box one node, as wide as its rows, coloured by
    its error rate (red above the overall rate, blue below).

    Args:
        result: an ErrorAnalysis.
        pruned: show only the nodes the pruning kept (False: every node grown).

    Example:
        >>> import explain, numpy as np, torch
        >>> data = explain.Dataset(np.random.default_rng(0).random((300, 2)), np.zeros(300, dtype=int))
        >>> result = explain.error_analysis(explain.Model(torch.nn.Linear(2, 2), modality="tabular"), data)
        >>> error_tree(result).data[0].type
        'icicle'
    """
    _check(result, "ErrorAnalysis", "error_tree", "node_parent")
    keep = np.asarray(result.node_in_tree, dtype=bool) if pruned else np.ones(len(result.node_parent), dtype=bool)
    nodes = np.flatnonzero(keep)
    size = np.asarray(result.node_size, dtype=float)
    rate = np.asarray(result.node_errors, dtype=float) / np.maximum(size, 1e-300)
    parent = np.asarray(result.node_parent)
    fig = go.Figure(go.Icicle(
        ids=[str(v) for v in nodes], labels=[display_text(result.node_condition[v]) for v in nodes],
        parents=["" if parent[v] < 0 else str(parent[v]) for v in nodes], values=size[nodes],
        branchvalues="total", marker={"colors": rate[nodes], "colorbar": {"title": result.metric},
                                      **_around(rate[nodes], result.error_rate)},
        customdata=np.stack([rate[nodes], np.asarray(result.node_p_value)[nodes]], axis=1),
        hovertemplate="%{label}<br>%{value:,} rows<br>rate %{customdata[0]:.3g}<br>p = %{customdata[1]:.2g}"
                      "<extra></extra>"))
    fig.update_layout(title=f"Error tree: {result.metric} per node (overall {result.error_rate:.3g})")
    return fig


def _around(rates: np.ndarray, overall: float) -> dict[str, object]:
    """A colour scale from 0 (blue) through ``overall`` (white) to the highest rate (red):
    plotly's ``cmid`` would make the range symmetric and show negative rates."""
    top = max(float(np.max(rates, initial=0.0)), overall, 1e-12)
    mid = min(max(overall / top, 0.0), 1.0)
    scale = [[0.0, "#2166ac"], [mid, "#f7f7f7"], [1.0, "#b2182b"]] if 0.0 < mid < 1.0 else \
        [[0.0, "#f7f7f7"], [1.0, "#b2182b"]] if mid <= 0.0 else [[0.0, "#2166ac"], [1.0, "#f7f7f7"]]
    return {"colorscale": scale, "cmin": 0.0, "cmax": top}


def error_heatmap(result: ErrorHeatmap | ErrorAnalysis, feature_a: str | None = None,
                  feature_b: str | None = None, *, bins: int | None = None) -> go.Figure:
    """The error rate over one feature (bars, with the overall rate as a line) or two
    (a heat map); hovering shows each bin's rows.

    Args:
        result: an ErrorHeatmap (``analysis.heatmap(a, b)``), or an ErrorAnalysis with
            ``feature_a`` (and ``feature_b``) naming its columns.
        feature_a, feature_b: columns, when ``result`` is an ErrorAnalysis.
        bins: as for :meth:`explain.ErrorAnalysis.heatmap`.

    Raises:
        InputError: neither an ErrorHeatmap nor an ErrorAnalysis with ``feature_a``.
    """
    if hasattr(result, "heatmap"):
        if feature_a is None:
            raise InputError("error_heatmap needs feature_a when given an ErrorAnalysis; pass e.g. "
                             f"feature_a={result.columns[0]!r}." if result.columns else
                             "error_heatmap: this analysis searched no columns.")
        result = result.heatmap(feature_a, feature_b, bins=bins)
    _check(result, "ErrorHeatmap", "error_heatmap", "labels_a")
    rate = result.rate
    title = f"{result.metric} by {display_text(result.feature_a)}"
    if result.feature_b is None:
        fig = go.Figure(go.Bar(x=[display_text(v) for v in result.labels_a], y=rate, marker_color=POSITIVE_COLOR,
                               customdata=result.size, hovertemplate="%{x}<br>rate %{y:.3g}<br>%{customdata:,} rows"
                                                                     "<extra></extra>"))
        fig.add_hline(y=result.overall, line_dash="dash", line_color=_OVERALL_COLOR,
                      annotation_text=f"overall {result.overall:.3g}")
        fig.update_layout(title=title, xaxis_title=display_text(result.feature_a), yaxis_title=result.metric)
        return fig
    fig = go.Figure(go.Heatmap(
        z=rate.T, x=[display_text(v) for v in result.labels_a], y=[display_text(v) for v in result.labels_b],
        customdata=result.size.T, colorscale="Reds", colorbar={"title": result.metric},
        hovertemplate="%{x}, %{y}<br>rate %{z:.3g}<br>%{customdata:,} rows<extra></extra>"))
    fig.update_layout(title=f"{title} and {display_text(result.feature_b)}",
                      xaxis_title=display_text(result.feature_a), yaxis_title=display_text(result.feature_b))
    return fig


def cohort_drivers(result: CohortDrivers, *, top_k: int = 10) -> go.Figure:
    """Grouped bars of the features the model leans on most in a cohort: mean
    |attribution| in the cohort against elsewhere; the title is the result's sentence.

    Example:
        >>> import numpy as np
        >>> from explain.results import CohortDrivers
        >>> d = CohortDrivers(("a", "b"), np.array([2.0, 1.0]), np.array([1.0, 1.0]), np.array([1.2, 1.0]),
        ...                   np.array([2.0, 1.0]), "x > 1", "saliency", 10, 50, 10, 40, "leans on a")
        >>> [t.name for t in cohort_drivers(d).data]
        ['in the cohort', 'elsewhere']
    """
    _check(result, "CohortDrivers", "cohort_drivers", "elsewhere")
    table = result.top(int(top_k)).iloc[::-1]
    names = [display_text(f) for f in table["feature"]]
    fig = go.Figure([
        go.Bar(x=table["cohort"], y=names, orientation="h", name="in the cohort", marker_color=POSITIVE_COLOR,
               customdata=table["ratio"], hovertemplate="%{y}: %{x:.3g} (%{customdata:.2f}x)<extra></extra>"),
        go.Bar(x=table["elsewhere"], y=names, orientation="h", name="elsewhere", marker_color=NEUTRAL_COLOR,
               hovertemplate="%{y}: %{x:.3g}<extra></extra>")])
    fig.update_layout(barmode="group", title=display_text(result.sentence),
                      xaxis_title=f"mean |attribution| ({result.method})", height=220 + 40 * len(names))
    return fig
