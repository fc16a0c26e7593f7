"""Plots of performance results: the confusion matrix (counts or shares of each true
class), ROC and precision-recall curves, a binary model's metrics against its threshold,
regression residuals, and metrics per slice with their intervals.

Example:
    >>> import numpy as np
    >>> from explain.results import Performance
    >>> perf = Performance(task="classification", labels=np.array([0, 1, 1]), predictions=np.array([0, 1, 0]),
    ...                    class_names=("cat", "dog"), accuracy=2 / 3, balanced_accuracy=0.75,
    ...                    confusion_matrix=np.array([[1, 0], [1, 1]]))
    >>> [list(row) for row in confusion_matrix(perf).data[0].text]
    [['1', '0'], ['1', '1']]
    >>> [list(row) for row in confusion_matrix(perf, normalize=True).data[0].text]
    [['100%', '0%'], ['50%', '50%']]
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explain.errors import InputError
from explain.plots._common import NEGATIVE_COLOR, NEUTRAL_COLOR, POSITIVE_COLOR, display_text
from explain.results.performance import Performance, SliceMetrics

__all__ = ["confusion_matrix", "roc_curve", "pr_curve", "threshold_curve", "residuals", "slice_metrics"]

_METRIC_TITLE = {"error_rate": "error rate", "mae": "mean absolute error"}


def _performance(result: Performance, task: str, plot_name: str) -> None:
    if not isinstance(result, Performance):
        raise InputError(f"{plot_name} draws a Performance (explain.performance(model, data)), "
                         f"got {type(result).__name__}.")
    if result.task != task:
        other = "residuals" if task == "classification" else "confusion_matrix, roc_curve or pr_curve"
        raise InputError(f"{plot_name} is for {task} models; this result is a {result.task}: plot {other}.")


def _thin(count: int, max_points: int) -> np.ndarray:
    """At most ``max_points`` evenly spaced positions of ``count``, the ends kept."""
    if count <= max_points:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, max_points).round().astype(np.int64))


def _names(result: Performance) -> list[str]:
    k = len(result.confusion_matrix)
    return [display_text(n) for n in (result.class_names or tuple(str(i) for i in range(k)))]


def confusion_matrix(result: Performance, *, normalize: bool = False) -> go.Figure:
    """A heat map of the confusion matrix, rows the true class and columns the predicted,
    with each cell's number written in.

    Args:
        result: a classifier's Performance.
        normalize: show each true class's row as shares of its rows (its recall on the
            diagonal) instead of counts; the counts stay in the hover text.

    Returns:
        One heat map; ``text`` holds the numbers written in the cells.
    """
    _performance(result, "classification", "confusion_matrix")
    counts = np.asarray(result.confusion_matrix, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    z = shares if normalize else counts
    text = [[f"{v:.0%}" if normalize else f"{int(v)}" for v in row] for row in z]
    names = _names(result)
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, text=text, texttemplate="%{text}", colorscale="Blues",
        customdata=np.stack([counts, shares], axis=-1), zmin=0, zmax=1 if normalize else None,
        hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata[0]:.0f} rows (%{customdata[1]:.1%} of the "
                      "true class)<extra></extra>", colorbar={"title": "share" if normalize else "rows"},
    ))
    balanced = f", balanced {result.balanced_accuracy:.1%}" if result.balanced_accuracy is not None else ""
    fig.update_layout(
        title=f"Confusion matrix{' (shares of each true class)' if normalize else ''}: accuracy "
              f"{result.accuracy:.1%}{balanced}",
        xaxis={"title": "predicted class", "type": "category"},
        yaxis={"title": "true class", "type": "category", "autorange": "reversed"}, height=460,
    )
    return fig


def _class_label(result: Performance, c: int) -> str:
    names = result.class_names or ()
    return display_text(names[c]) if c < len(names) else str(c)


def roc_curve(result: Performance, *, max_points: int = 2000) -> go.Figure:
    """The ROC curve (binary: of class 1; multiclass: each class against the rest), each
    labelled with its AUC, against the diagonal of chance.

    Args:
        result: a classifier's Performance.
        max_points: the most points drawn per curve (evenly spaced, ends kept).
    """
    _performance(result, "classification", "roc_curve")
    fig = go.Figure()
    points = result.roc_points
    for c in np.unique(points[:, 0]).astype(int):
        curve = points[points[:, 0] == c]
        keep = _thin(len(curve), max_points)
        auc = result.class_roc_auc[c]
        fig.add_trace(go.Scatter(
            x=curve[keep, 1], y=curve[keep, 2], mode="lines", name=f"{_class_label(result, c)} (AUC {auc:.3f})",
            customdata=curve[keep, 3], hovertemplate="threshold %{customdata:.3g}<br>false positive rate %{x:.3f}"
                                                     "<br>true positive rate %{y:.3f}<extra></extra>",
        ))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", hoverinfo="skip",
                             line={"color": NEUTRAL_COLOR, "dash": "dash"}))
    title = "ROC curve" if result.roc_auc is None else f"ROC curve: AUC {result.roc_auc:.3f}"
    fig.update_layout(title=title, xaxis={"title": "false positive rate", "range": [0, 1]},
                      yaxis={"title": "true positive rate", "range": [0, 1.02]}, height=440)
    return fig


def pr_curve(result: Performance, *, max_points: int = 2000) -> go.Figure:
    """The precision-recall curve (binary: of class 1; multiclass: each class against the
    rest), each labelled with its average precision; the share of positives is the line a
    model without skill would draw.

    Args:
        result: a classifier's Performance.
        max_points: the most points drawn per curve (evenly spaced, ends kept).
    """
    _performance(result, "classification", "pr_curve")
    fig = go.Figure()
    points = result.pr_points
    support = np.asarray(result.support, dtype=np.float64)
    for c in np.unique(points[:, 0]).astype(int):
        curve = points[points[:, 0] == c]
        keep = _thin(len(curve), max_points)
        fig.add_trace(go.Scatter(
            x=curve[keep, 1], y=curve[keep, 2], mode="lines", line_shape="vh",
            name=f"{_class_label(result, c)} (AP {result.class_average_precision[c]:.3f})",
            hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<extra></extra>",
        ))
        if len(support) == 2:
            share = support[c] / support.sum()
            fig.add_trace(go.Scatter(x=[0, 1], y=[share, share], mode="lines", hoverinfo="skip",
                                     name=f"no skill ({share:.1%} positive)",
                                     line={"color": NEUTRAL_COLOR, "dash": "dash"}))
    title = "Precision-recall curve" if result.average_precision is None else \
        f"Precision-recall curve: average precision {result.average_precision:.3f}"
    fig.update_layout(title=title, xaxis={"title": "recall", "range": [0, 1]},
                      yaxis={"title": "precision", "range": [0, 1.02]}, height=440)
    return fig


def threshold_curve(result: Performance, *, max_points: int = 2000) -> go.Figure:
    """A binary model's precision, recall and F1 against the threshold on the probability
    of class 1, with the threshold its predictions use marked (0.5 where the largest
    output wins).

    Args:
        result: a binary classifier's Performance.
        max_points: the most thresholds drawn (evenly spaced, ends kept).
    """
    _performance(result, "classification", "threshold_curve")
    if result.threshold_points is None:
        raise InputError("threshold_curve is for binary classifiers; this one has more than two classes: "
                         "plot confusion_matrix or roc_curve.")
    table = result.thresholds.iloc[1:]  # the first row, at infinity, calls nothing positive
    table = table.iloc[_thin(len(table), max_points)]
    fig = go.Figure()
    for column, color, dash in (("precision", NEGATIVE_COLOR, "solid"), ("recall", POSITIVE_COLOR, "solid"),
                                ("f1", "#1b7837", "dot")):
        fig.add_trace(go.Scatter(x=table["threshold"], y=table[column], mode="lines", name=column,
                                 line={"color": color, "dash": dash},
                                 hovertemplate=f"threshold %{{x:.3f}}<br>{column} %{{y:.3f}}<extra></extra>"))
    chosen = 0.5 if result.threshold is None else float(result.threshold)
    label = "the largest output wins (0.5)" if result.threshold is None else f"threshold {chosen:.3g}"
    fig.add_vline(x=chosen, line={"color": NEUTRAL_COLOR, "dash": "dash"}, annotation_text=label)
    fig.update_layout(title=f"Precision, recall and F1 by threshold: {label}",
                      xaxis={"title": f"threshold on the probability of {_class_label(result, 1)}", "range": [0, 1]},
                      yaxis={"title": "value", "range": [0, 1.02]}, height=420)
    return fig


def residuals(result: Performance, *, max_points: int = 5000, bins: int = 40) -> go.Figure:
    """A regression's residuals (true minus predicted): against the prediction, and their
    histogram.

    Args:
        result: a regression's Performance.
        max_points: the most rows drawn in the scatter (evenly spaced); the histogram
            counts them all.
        bins: histogram bins.
    """
    _performance(result, "regression", "residuals")
    residual, predicted = result.residuals, np.asarray(result.predictions, dtype=np.float64)
    keep = _thin(len(residual), max_points)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.65, 0.35],
                        subplot_titles=("residual against prediction", "residuals"))
    fig.add_trace(go.Scatter(x=predicted[keep], y=residual[keep], mode="markers", name="rows",
                             marker={"size": 5, "color": NEGATIVE_COLOR, "opacity": 0.6},
                             hovertemplate="predicted %{x:.4g}<br>residual %{y:.4g}<extra></extra>"), row=1, col=1)
    fig.add_hline(y=0, line={"color": NEUTRAL_COLOR, "dash": "dash"}, row=1, col=1)
    fig.add_trace(go.Histogram(y=residual, nbinsy=bins, name="residuals", marker_color=NEGATIVE_COLOR,
                               hovertemplate="residual %{y}<br>%{x} rows<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title_text="prediction", row=1, col=1)
    fig.update_xaxes(title_text="rows", row=1, col=2)
    fig.update_yaxes(title_text="residual (true - predicted)", row=1, col=1)
    fig.update_layout(title=f"Residuals: R² {result.r2:.3f}, MAE {result.mae:.3g}, RMSE {result.rmse:.3g}",
                      showlegend=False, height=420)
    return fig


def slice_metrics(result: SliceMetrics) -> go.Figure:
    """The metric on each slice as a bar with its interval, the value over all rows as a
    dashed line, and the slices that differ from the rest beyond chance (after Holm's
    correction) in red.

    Args:
        result: the outcome of explain.slices.
    """
    if not isinstance(result, SliceMetrics):
        raise InputError(f"slice_metrics draws a SliceMetrics (explain.slices(model, data, rules)), "
                         f"got {type(result).__name__}.")
    names = [display_text(n) for n in result.names]
    value = np.asarray(result.value, dtype=np.float64)
    flagged = np.asarray(result.flagged, dtype=bool)
    custom = np.stack([result.size, result.rest, result.p_adjusted, [display_text(r) for r in result.rules]], axis=1)
    fig = go.Figure(go.Bar(
        x=value, y=names, orientation="h", name=_METRIC_TITLE[result.metric],
        marker_color=[POSITIVE_COLOR if f else NEUTRAL_COLOR for f in flagged],
        error_x={"type": "data", "symmetric": False, "array": np.asarray(result.high) - value,
                 "arrayminus": value - np.asarray(result.low), "color": "#444"},
        customdata=custom, hovertemplate="%{customdata[3]}<br>%{x:.3g} on %{customdata[0]} rows<br>rest "
                                         "%{customdata[1]:.3g}<br>Holm-adjusted p %{customdata[2]:.2g}<extra></extra>",
    ))
    fig.add_vline(x=result.overall, line={"color": NEGATIVE_COLOR, "dash": "dash"},
                  annotation_text=f"all rows {result.overall:.3g}")
    fig.update_layout(
        title=f"{_METRIC_TITLE[result.metric].capitalize()} by slice: {int(flagged.sum())} of {len(names)} "
              f"differ from the rest beyond chance (Holm, alpha {result.alpha:g})",
        xaxis={"title": f"{_METRIC_TITLE[result.metric]} ({result.level:.0%} interval)"},
        yaxis={"autorange": "reversed", "type": "category"}, height=max(300, 60 + 40 * len(names)),
    )
    return fig
