"""Plots of uncertainty results: reliability diagrams (gap shaded) before and after
temperature scaling, the confidence histogram, entropy of right and wrong predictions,
the set-size distribution of conformal prediction, the risk-coverage curve, and
regression intervals.

Example:
    >>> import numpy as np
    >>> from explain.confidence.calibrating import reliability
    >>> from explain.plots import reliability_diagram
    >>> r = reliability(np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 0]), n_bins=5)
    >>> [trace.name for trace in reliability_diagram(r).data]
    ['accuracy', 'gap', 'perfect calibration']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explain.errors import InputError
from explain.plots._common import NEGATIVE_COLOR, NEUTRAL_COLOR, POSITIVE_COLOR
from explain.results.uncertainty import (
    Calibration,
    PredictionSets,
    Reliability,
    RiskCoverage,
    Uncertainty,
)

__all__ = [
    "reliability_diagram",
    "temperature_comparison",
    "confidence_histogram",
    "entropy_by_correctness",
    "set_size_distribution",
    "risk_coverage_curve",
    "prediction_intervals",
    "uncertainty_figures",
]

_WHICH = {"overall": "all examples", "before": "held-out, before temperature scaling",
          "after": "held-out, after temperature scaling"}


def _reliability(result: Calibration | Reliability, which: str) -> Reliability:
    if isinstance(result, Reliability):
        return result
    if not isinstance(result, Calibration):
        raise InputError(f"Expected a Calibration or Reliability result, got {type(result).__name__}.")
    if which not in _WHICH:
        raise InputError(f"which must be one of {list(_WHICH)}, got {which!r}.")
    return getattr(result, which)


def _bin_geometry(r: Reliability) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres, widths and the non-empty mask of the bins (the [1, 1] bin drawn narrow at 1)."""
    width = np.diff(r.edges)
    centres = np.append(r.edges[:-1] + width / 2, 1.0)
    widths = np.append(width, width[-1] / 4)
    return centres, widths, np.asarray(r.bin_count) > 0


def _add_reliability(fig: go.Figure, r: Reliability, row: int | None = None, col: int | None = None,
                     legend: bool = True) -> None:
    centres, widths, full = _bin_geometry(r)
    where = {"row": row, "col": col} if row is not None else {}
    counts = np.asarray(r.bin_count)[full]
    fig.add_trace(go.Bar(
        x=centres[full], y=r.bin_accuracy[full], width=widths[full], name="accuracy",
        marker_color=NEGATIVE_COLOR, customdata=np.stack([counts, r.bin_confidence[full]], axis=1),
        hovertemplate="confidence %{customdata[1]:.3f}<br>accuracy %{y:.3f}<br>%{customdata[0]} "
                      "examples<extra></extra>", showlegend=legend, legendgroup="accuracy",
    ), **where)
    gap = (r.bin_confidence - r.bin_accuracy)[full]
    fig.add_trace(go.Bar(
        x=centres[full], y=gap, base=r.bin_accuracy[full], width=widths[full], name="gap",
        marker={"color": "rgba(178, 24, 43, 0.35)", "line": {"color": POSITIVE_COLOR, "width": 1},
                "pattern": {"shape": "/"}},
        hovertemplate="gap (confidence - accuracy) %{y:.3f}<extra></extra>", showlegend=legend,
        legendgroup="gap",
    ), **where)
    fig.add_trace(go.Scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
        line={"color": NEUTRAL_COLOR, "dash": "dash"}, hoverinfo="skip", showlegend=legend,
        legendgroup="diagonal",
    ), **where)


def reliability_diagram(result: Calibration | Reliability, *, which: str = "overall") -> go.Figure:
    """Accuracy per confidence bin against the diagonal, with the gap to the bin's mean
    confidence shaded (above the bar: overconfident; below: underconfident).

    Args:
        result: a Calibration (pick ``which`` of ``"overall"``, ``"before"``, ``"after"``)
            or a Reliability.
        which: for a Calibration, which set of probabilities to draw.

    Returns:
        Bars ``accuracy`` (heights: the non-empty bins' accuracies), ``gap`` and the
        ``perfect calibration`` line.

    Example:
        >>> import numpy as np
        >>> from explain.confidence.calibrating import reliability
        >>> r = reliability(np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 0]), n_bins=5)
        >>> [float(v) for v in reliability_diagram(r).data[0].y]
        [0.0, 1.0]
    """
    r = _reliability(result, which)
    fig = go.Figure()
    _add_reliability(fig, r)
    label = _WHICH[which] if isinstance(result, Calibration) else f"{len(r.confidence)} examples"
    fig.update_layout(
        title=f"Reliability ({label}): ECE {r.ece:.3f}, MCE {r.mce:.3f}",
        xaxis={"title": "confidence", "range": [0, 1.02]}, yaxis={"title": "accuracy", "range": [0, 1]},
        barmode="overlay", height=420, legend={"orientation": "h", "y": -0.2},
    )
    return fig


def temperature_comparison(cal: Calibration) -> go.Figure:
    """Reliability diagrams of the held-out examples before and after temperature scaling.

    Example:
        >>> import numpy as np, torch, explain
        >>> model = explain.Model(torch.nn.Identity(), modality="tabular", input_shape=(2,))
        >>> z = np.random.default_rng(0).normal(size=(40, 2)) * 4
        >>> y = (z[:, 1] > z[:, 0]).astype(int) ^ (np.arange(40) % 4 == 0)
        >>> cal = explain.calibration(model, z, y)
        >>> len(temperature_comparison(cal).data)
        6
    """
    if not isinstance(cal, Calibration):
        raise InputError(f"temperature_comparison takes a Calibration, got {type(cal).__name__}.")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=(
        f"before: ECE {cal.before.ece:.3f}, NLL {cal.before.nll:.3f}",
        f"after T = {cal.temperature:.2f}: ECE {cal.after.ece:.3f}, NLL {cal.after.nll:.3f}"))
    _add_reliability(fig, cal.before, 1, 1)
    _add_reliability(fig, cal.after, 1, 2, legend=False)
    fig.update_xaxes(title_text="confidence", range=[0, 1.02])
    fig.update_yaxes(title_text="accuracy", range=[0, 1], row=1, col=1)
    fig.update_layout(title=f"Temperature scaling on {len(cal.after.confidence)} held-out examples",
                      barmode="overlay", height=420, legend={"orientation": "h", "y": -0.2})
    return fig


def confidence_histogram(result: Calibration | Reliability, *, which: str = "overall") -> go.Figure:
    """The share of examples in each confidence bin, with the accuracy and the mean
    confidence marked (a mean confidence right of the accuracy means overconfidence).

    Example:
        >>> import numpy as np
        >>> from explain.confidence.calibrating import reliability
        >>> r = reliability(np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 0]), n_bins=5)
        >>> [float(v) for v in confidence_histogram(r).data[0].y]
        [0.0, 0.0, 0.0, 0.5, 0.5, 0.0]"""
    r = _reliability(result, which)
    centres, widths, _ = _bin_geometry(r)
    share = np.asarray(r.bin_count) / max(1, len(r.confidence))
    fig = go.Figure(go.Bar(x=centres, y=share, width=widths, name="examples", marker_color=NEGATIVE_COLOR,
                           customdata=r.bin_count,
                           hovertemplate="confidence bin %{x:.3f}<br>%{customdata} examples (%{y:.1%})"
                                         "<extra></extra>"))
    mean_conf = float(np.mean(r.confidence))
    top = float(share.max()) if share.size else 1.0
    for name, value, dash, color in (("accuracy", r.accuracy, "dash", NEUTRAL_COLOR),
                                     ("mean confidence", mean_conf, "solid", POSITIVE_COLOR)):
        fig.add_trace(go.Scatter(x=[value, value], y=[0, top], mode="lines", name=f"{name} {value:.3f}",
                                 line={"dash": dash, "color": color, "width": 2}, hoverinfo="name"))
    fig.update_layout(title="Confidence of the predictions", xaxis={"title": "confidence", "range": [0, 1.02]},
                      yaxis={"title": "share of examples", "tickformat": ".0%"}, height=380,
                      legend={"orientation": "h", "y": -0.2})
    return fig


def entropy_by_correctness(unc: Uncertainty, *, by: str = "entropy") -> go.Figure:
    """Histograms of an uncertainty score for right and for wrong predictions (each
    normalised to its own count): a useful score puts the wrong ones to the right.

    Args:
        unc: a classifier's Uncertainty with labels.
        by: ``"entropy"``, ``"mutual_information"``, ``"expected_entropy"`` or ``"confidence"``.

    Returns:
        Two Histogram traces, ``correct`` and ``wrong``, holding the scores of each group.

    Example:
        >>> import numpy as np
        >>> from explain.results import Uncertainty
        >>> u = Uncertainty(method="softmax", task="classification",
        ...                 mean=np.array([[0.9, 0.1], [0.6, 0.4]]), std=np.zeros((2, 2)),
        ...                 entropy=np.array([0.33, 0.67]), labels=np.array([0, 1]))
        >>> [trace.x.tolist() for trace in entropy_by_correctness(u).data]
        [[0.33], [0.67]]
    """
    correct = unc.correct if isinstance(unc, Uncertainty) else None
    if correct is None:
        raise InputError("entropy_by_correctness needs a classifier's Uncertainty computed with labels "
                         "(pass targets=... or a labelled Dataset to explain.uncertainty).")
    score = unc.score(by)
    fig = go.Figure()
    for name, mask, color in (("correct", correct, NEGATIVE_COLOR), ("wrong", ~correct, POSITIVE_COLOR)):
        fig.add_trace(go.Histogram(x=score[mask], name=f"{name}", histnorm="probability", opacity=0.6,
                                   marker_color=color, nbinsx=30,
                                   hovertemplate=f"{name}: %{{y:.1%}} at %{{x}}<extra></extra>"))
    unit = " (nats)" if by != "confidence" else " (1 - top probability)"
    fig.update_layout(
        title=f"{unc.method}: {by.replace('_', ' ')} of {int(correct.sum())} right and "
              f"{int((~correct).sum())} wrong predictions",
        barmode="overlay", xaxis_title=by.replace("_", " ") + unit, yaxis={"title": "share", "tickformat": ".0%"},
        height=380,
    )
    return fig


def set_size_distribution(sets: PredictionSets) -> go.Figure:
    """How many classes the conformal prediction sets hold (regression: interval widths).

    Example:
        >>> import numpy as np
        >>> from explain.results import PredictionSets
        >>> sets = PredictionSets(method="aps", task="classification", alpha=0.1, quantile=0.9,
        ...                       calibration_scores=np.zeros(9),
        ...                       sets=np.array([[True, False], [True, True], [False, True]]))
        >>> [int(v) for v in set_size_distribution(sets).data[0].y]
        [0, 2, 1]"""
    if not isinstance(sets, PredictionSets):
        raise InputError(f"set_size_distribution takes PredictionSets, got {type(sets).__name__}.")
    coverage = "" if sets.coverage is None else f", coverage {sets.coverage:.1%}"
    if sets.sets is None:
        fig = go.Figure(go.Histogram(x=sets.sizes, nbinsx=30, marker_color=NEGATIVE_COLOR, name="width"))
        fig.update_layout(title=f"{sets.method} intervals at {1 - sets.alpha:.0%}{coverage}",
                          xaxis_title="interval width", yaxis_title="examples", height=380)
        return fig
    counts = sets.size_counts()
    fig = go.Figure(go.Bar(x=np.arange(len(counts)), y=counts, marker_color=NEGATIVE_COLOR, name="sets",
                           hovertemplate="%{y} sets of %{x} classes<extra></extra>"))
    fig.update_layout(
        title=f"{sets.method.upper()} sets at {1 - sets.alpha:.0%}: mean size {sets.sizes.mean():.2f}{coverage}",
        xaxis={"title": "classes in the set", "dtick": 1}, yaxis_title="examples", height=380)
    return fig


def risk_coverage_curve(rc: RiskCoverage) -> go.Figure:
    """Risk against coverage when abstaining on the least certain examples first, with the
    best possible order (oracle) and the risk without abstention for reference.

    Example:
        >>> import numpy as np
        >>> from explain.results import Uncertainty
        >>> from explain.confidence.estimates import selective
        >>> u = Uncertainty(method="softmax", task="classification", mean=np.eye(2), std=np.zeros((2, 2)),
        ...                 entropy=np.array([0.1, 0.2]))
        >>> [float(v) for v in risk_coverage_curve(selective(u, [0, 0])).data[0].y]
        [0.0, 0.5]"""
    if not isinstance(rc, RiskCoverage):
        raise InputError(f"risk_coverage_curve takes a RiskCoverage, got {type(rc).__name__}.")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=rc.coverage, y=rc.risk, mode="lines", name=f"by {rc.by.replace('_', ' ')}",
                             line={"color": NEGATIVE_COLOR},
                             hovertemplate="coverage %{x:.1%}<br>risk %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=rc.coverage, y=rc.oracle_risk, mode="lines", name="oracle",
                             line={"color": NEUTRAL_COLOR, "dash": "dot"}, hoverinfo="skip"))
    fig.add_hline(y=float(rc.risk[-1]), line_dash="dash", line_color=POSITIVE_COLOR,
                  annotation_text="no abstention", annotation_position="bottom right")
    fig.update_layout(title=f"Risk-coverage: AURC {rc.aurc:.4g} (oracle {rc.oracle_aurc:.4g})",
                      xaxis={"title": "coverage (share of examples answered)", "tickformat": ".0%"},
                      yaxis_title=rc.loss_name, height=400, legend={"orientation": "h", "y": -0.2})
    return fig


def prediction_intervals(result: PredictionSets | Uncertainty, *, max_points: int = 500) -> go.Figure:
    """Regression intervals of each example, sorted by prediction, with the true values
    (red where outside the interval) when known.

    Args:
        result: regression PredictionSets (conformal) or Uncertainty (``mean ± z std``).
        max_points: draw at most this many examples (evenly spaced in the sorted order).

    Example:
        >>> import numpy as np
        >>> from explain.results import PredictionSets
        >>> sets = PredictionSets(method="residual", task="regression", alpha=0.1, quantile=1.0,
        ...                       calibration_scores=np.zeros(9), lower=np.array([1.0, -1.0]),
        ...                       upper=np.array([3.0, 1.0]), point=np.array([2.0, 0.0]))
        >>> [float(v) for v in prediction_intervals(sets).data[1].y]
        [0.0, 2.0]
    """
    lower: Any = getattr(result, "lower", None)
    if lower is None or getattr(result, "task", None) != "regression":
        raise InputError("prediction_intervals draws regression intervals: pass the PredictionSets of a "
                         "regression conformal predictor or a regression Uncertainty.")
    point = np.asarray(result.point if isinstance(result, PredictionSets) else result.mean)
    upper, rows = np.asarray(result.upper), np.asarray(result.rows)
    order = np.argsort(point, kind="stable")
    if len(order) > max_points:
        order = order[np.linspace(0, len(order) - 1, max_points).astype(int)]
    rank = np.arange(len(order))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.concatenate([rank, rank[::-1]]),
                             y=np.concatenate([upper[order], lower[order][::-1]]), fill="toself",
                             fillcolor="rgba(33, 102, 172, 0.2)", line={"width": 0}, name="interval",
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=rank, y=point[order], mode="lines", name="prediction",
                             line={"color": NEGATIVE_COLOR}, customdata=rows[order],
                             hovertemplate="row %{customdata}<br>prediction %{y:.4g}<extra></extra>"))
    if result.labels is not None:
        truth = np.asarray(result.labels, dtype=float).reshape(len(point), -1)[order, 0]
        inside = (lower[order] <= truth) & (truth <= upper[order])
        fig.add_trace(go.Scatter(x=rank, y=truth, mode="markers", name="true value",
                                 marker={"size": 5, "color": np.where(inside, NEUTRAL_COLOR, POSITIVE_COLOR)},
                                 customdata=rows[order],
                                 hovertemplate="row %{customdata}<br>true %{y:.4g}<extra></extra>"))
    level = result.level if isinstance(result, Uncertainty) else 1 - result.alpha
    fig.update_layout(title=f"{result.method} intervals at {level:.0%}, examples sorted by prediction",
                      xaxis_title="examples (sorted)", yaxis_title="value", height=420,
                      legend={"orientation": "h", "y": -0.2})
    return fig


def uncertainty_figures(result: Calibration | Uncertainty | PredictionSets | RiskCoverage) -> list[go.Figure]:
    """The figures a report shows for one result of the uncertainty family: a Calibration
    gets its reliability diagram, the temperature comparison and the confidence histogram;
    an Uncertainty the entropy of right and wrong predictions (with labels) or its
    intervals (regression); PredictionSets the set sizes (and, for regression, the
    intervals); a RiskCoverage its curve. Anything else gets none.

    Example:
        >>> import numpy as np
        >>> from explain.results import PredictionSets
        >>> sets = PredictionSets(method="lac", task="classification", alpha=0.1, quantile=0.5,
        ...                       calibration_scores=np.zeros(9), sets=np.ones((2, 3), dtype=bool))
        >>> [f.data[0].type for f in uncertainty_figures(sets)]
        ['bar']
    """
    if isinstance(result, Calibration):
        return [reliability_diagram(result), temperature_comparison(result), confidence_histogram(result)]
    if isinstance(result, Uncertainty):
        if result.task == "regression":
            return [prediction_intervals(result)]
        return [entropy_by_correctness(result)] if result.correct is not None else []
    if isinstance(result, PredictionSets):
        extra = [prediction_intervals(result)] if result.task == "regression" else []
        return [set_size_distribution(result), *extra]
    if isinstance(result, RiskCoverage):
        return [risk_coverage_curve(result)]
    return []
