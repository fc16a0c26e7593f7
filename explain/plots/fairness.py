"""Plots of fairness: a figure per group with its interval, the groups' feature
importances side by side, the per-group threshold preview, and the data's balance.

Example:
    >>> import numpy as np
    >>> from explain.results import GroupImportance
    >>> gi = GroupImportance(sensitive=("sex",), groups=("f", "m"), features=("age", "income"),
    ...                      values=np.array([[0.5, 0.1], [0.2, 0.3]]), size=np.array([10, 10]),
    ...                      n=np.array([10, 10]), spearman=np.array([[1.0, -1.0], [-1.0, 1.0]]),
    ...                      method="saliency")
    >>> [trace.name for trace in group_importance(gi).data]
    ['f', 'm']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from explain.errors import InputError
from explain.plots._common import NEGATIVE_COLOR, NEUTRAL_COLOR, POSITIVE_COLOR, display_text
from explain.results.fairness import SHARES

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import DataBalance, Fairness, GroupImportance, ThresholdPreview

__all__ = ["group_bars", "group_importance", "threshold_preview", "balance_bars"]

def _check(result: Any, kind: str, plot_name: str, attribute: str, how: str) -> None:
    if not hasattr(result, attribute):
        raise InputError(f"{plot_name} plots an explain.{kind}, got {type(result).__name__}; compute one with {how}.")


def group_bars(result: Fairness, metric: str | None = None) -> go.Figure:
    """Bars of one figure per group with its bootstrap interval as whiskers; groups too
    small to judge are grey, and a dashed line marks the figure over every row.

    Args:
        result: a Fairness.
        metric: a column of ``result.metrics`` (default: ``selection_rate``, regression
            ``mae``).

    Raises:
        InputError: ``result`` is not a Fairness, or an unknown metric (the message lists them).

    Example:
        >>> import explain, numpy as np, pandas as pd, torch
        >>> model = explain.Model(torch.nn.Linear(2, 2), modality="tabular")
        >>> meta = pd.DataFrame({"g": ["a", "b"] * 20})
        >>> data = explain.Dataset(np.random.default_rng(0).random((40, 2)), np.arange(40) % 2, metadata=meta)
        >>> fig = group_bars(explain.fairness(model, data, sensitive="g", bootstrap=20), "tpr")
        >>> fig.data[0].type, list(fig.data[0].x)
        ('bar', ['a', 'b'])
    """
    _check(result, "Fairness", "group_bars", "disparities", "explain.fairness(model, data, sensitive=...)")
    metric = metric or ("mae" if result.task == "regression" else "selection_rate")
    if metric not in result.metrics:
        raise InputError(f"metric must be one of {', '.join(map(repr, result.metrics))}, got {metric!r}; "
                         f"pass e.g. metric={next(iter(result.metrics))!r}.")
    values = np.asarray(result.metrics[metric], dtype=float)
    bars = go.Bar(x=[display_text(g) for g in result.groups], y=values,
                  marker_color=[NEUTRAL_COLOR if s else NEGATIVE_COLOR for s in result.small],
                  customdata=np.column_stack([result.counts["count"], result.small]),
                  hovertemplate="%{x}<br>" + metric + " %{y:.3g}<br>%{customdata[0]:,} rows<extra></extra>")
    if metric in result.intervals:
        low, high = result.intervals[metric][:, 0], result.intervals[metric][:, 1]
        bars.error_y = {"type": "data", "symmetric": False, "array": np.nan_to_num(high - values),
                        "arrayminus": np.nan_to_num(values - low)}
    fig = go.Figure(bars)
    count = np.asarray(result.counts["count"], dtype=float)
    finite = np.isfinite(values)
    if finite.any():
        overall = float(np.average(values[finite], weights=count[finite]))
        fig.add_hline(y=overall, line_dash="dash", line_color="#4d4d4d", annotation_text=f"all rows {overall:.3g}")
    fig.update_layout(title=display_text(result.verdict()), yaxis_title=metric,
                      xaxis_title=" & ".join(result.sensitive), yaxis_tickformat=".0%" if metric in SHARES else None)
    return fig


def group_importance(result: GroupImportance, *, top_k: int = 10) -> go.Figure:
    """Grouped horizontal bars of the ``top_k`` features most important over all groups,
    one colour per group; the title says where the groups differ most.

    Raises:
        InputError: ``result`` is not a GroupImportance.
    """
    _check(result, "GroupImportance", "group_importance", "spearman",
           "explain.group_importance(model, data, sensitive=...)")
    order = np.argsort(-np.asarray(result.values, dtype=float).mean(axis=0), kind="stable")[: int(top_k)][::-1]
    fig = go.Figure([go.Bar(x=result.values[g, order], y=[display_text(result.features[j]) for j in order],
                            orientation="h", name=display_text(group),
                            hovertemplate="%{y}: %{x:.3g}<extra>" + display_text(group) + "</extra>")
                     for g, group in enumerate(result.groups)])
    fig.update_layout(barmode="group", title=display_text(result.sentence()),
                      xaxis_title=f"mean |attribution| ({result.method})", height=240 + 24 * len(order) * len(result.groups))
    return fig


def threshold_preview(result: ThresholdPreview) -> go.Figure:
    """Each group's rate with the model's decisions and with per-group thresholds, against
    a dashed line at the target rate.

    Raises:
        InputError: ``result`` is not a ThresholdPreview.
    """
    _check(result, "ThresholdPreview", "threshold_preview", "thresholds",
           "explain.fairness(model, data, sensitive=...).mitigation[0]")
    names = [display_text(g) for g in result.groups]
    fig = go.Figure([
        go.Bar(x=names, y=result.before, name="model's decisions", marker_color=NEUTRAL_COLOR),
        go.Bar(x=names, y=result.after, name="per-group thresholds", marker_color=POSITIVE_COLOR,
               customdata=result.thresholds, hovertemplate="%{x}: %{y:.3g} at threshold %{customdata:.3g}<extra></extra>"),
    ])
    fig.add_hline(y=result.target, line_dash="dash", line_color="#4d4d4d", annotation_text=f"target {result.target:.3g}")
    rate = "selection rate" if result.criterion == "demographic_parity" else "true positive rate"
    fig.update_layout(barmode="group", title=display_text(result.sentence()), yaxis_title=rate,
                      yaxis_tickformat=".0%")
    return fig


def balance_bars(result: DataBalance, *, top_k: int = 15) -> go.Figure:
    """Horizontal bars of each feature's largest |standardised mean difference| (the
    group named on hover), the most imbalanced at the top, against a line at 0.1.

    Raises:
        InputError: ``result`` is not a DataBalance.
    """
    _check(result, "DataBalance", "balance_bars", "smd", "explain.data_balance(data, sensitive=...)")
    magnitude = np.where(np.isnan(result.smd), -1.0, np.abs(result.smd)).reshape(len(result.groups), -1)
    which = magnitude.argmax(axis=0) if magnitude.size else np.zeros(0, dtype=int)
    top = magnitude.max(axis=0) if magnitude.size else np.zeros(0)
    order = np.argsort(-top, kind="stable")[: int(top_k)][::-1]
    shown = np.minimum(np.where(top[order] < 0, np.nan, top[order]), 10.0)  # ±inf drawn at 10
    fig = go.Figure(go.Bar(x=shown, y=[display_text(result.features[j]) for j in order], orientation="h",
                           marker_color=[POSITIVE_COLOR if v > 0.1 else NEUTRAL_COLOR for v in np.nan_to_num(shown)],
                           customdata=[display_text(result.groups[which[j]]) for j in order],
                           hovertemplate="%{y}: |SMD| %{x:.3g} (%{customdata} against the rest)<extra></extra>"))
    fig.add_vline(x=0.1, line_dash="dash", line_color="#4d4d4d", annotation_text="0.1")
    fig.update_layout(title=display_text(result.sentence()), xaxis_title="largest |standardised mean difference|",
                      height=220 + 24 * len(order))
    return fig
