"""Plots of tabular attributions: one example's bars, global importance, beeswarm."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from explain.errors import InputError
from explain.plots._common import (
    DIVERGING_SCALE,
    NEGATIVE_COLOR,
    NEUTRAL_COLOR,
    POSITIVE_COLOR,
    check_index,
    check_modality,
    display_text,
    example_title,
)

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import Attribution

__all__ = ["feature_bars", "global_importance", "beeswarm"]


def _values_2d(attr: Attribution, plot_name: str) -> np.ndarray:
    check_modality(attr, "tabular", plot_name)
    values = np.asarray(attr.values, dtype=float)
    if values.ndim != 2:
        raise InputError(
            f"{plot_name} needs tabular values of shape (examples, features), got shape "
            f"{values.shape}; explain a 2-D table of inputs."
        )
    return values


def _feature_names(attr: Attribution, n_features: int) -> list[str]:
    if attr.feature_names is not None and len(attr.feature_names) == n_features:
        return [display_text(n) for n in attr.feature_names]
    return [f"x{j}" for j in range(n_features)]


def _check_top_k(top_k: int) -> None:
    if int(top_k) < 1:
        raise InputError(f"top_k must be at least 1, got {top_k}; pass e.g. top_k=20.")


def feature_bars(attr: Attribution, index: int = 0, *, top_k: int = 20) -> go.Figure:
    """Horizontal bars of one example's attributions, largest |value| at the top.

    Bars are red for positive and blue for negative attributions. Hovering shows
    the feature's input value (when ``attr.inputs`` is held) and the attribution.

    Args:
        attr: a tabular Attribution.
        index: the example to show.
        top_k: show at most this many features, those with the largest |value|.

    Returns:
        A figure with one Bar trace; its ``y`` lists features from largest |value| down.

    Example:
        >>> import numpy as np
        >>> from explain.results import Attribution
        >>> a = Attribution(values=np.array([[0.1, -2.0, 0.5]]), method="saliency",
        ...                 target=np.array([0]), modality="tabular",
        ...                 feature_names=("a", "b", "c"))
        >>> fig = feature_bars(a)
        >>> len(fig.data), list(fig.data[0].y)
        (1, ['b', 'c', 'a'])
    """
    values = _values_2d(attr, "feature_bars")
    _check_top_k(top_k)
    index = check_index(attr, index)
    row = values[index]
    names = _feature_names(attr, row.size)
    order = np.argsort(-np.abs(row), kind="stable")[: int(top_k)]
    x = row[order]
    colors = [POSITIVE_COLOR if v > 0 else NEGATIVE_COLOR if v < 0 else NEUTRAL_COLOR for v in x]
    if attr.inputs is not None and np.shape(attr.inputs) == values.shape:
        customdata = np.asarray(attr.inputs, dtype=float)[index][order][:, None]
        hover = "%{y} = %{customdata[0]:.4g}<br>attribution %{x:.4g}<extra></extra>"
    else:
        customdata = None
        hover = "%{y}<br>attribution %{x:.4g}<extra></extra>"
    fig = go.Figure(
        go.Bar(
            x=x,
            y=[names[j] for j in order],
            orientation="h",
            marker_color=colors,
            customdata=customdata,
            hovertemplate=hover,
        )
    )
    fig.update_layout(
        title=example_title(attr, index),
        xaxis_title="attribution",
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 60 + 24 * len(order)),
        showlegend=False,
    )
    return fig


def global_importance(attr: Attribution, *, top_k: int = 20) -> go.Figure:
    """Bars of the mean |attribution| per feature over all examples, largest at the top.

    Args:
        attr: a tabular Attribution.
        top_k: show at most this many features.

    Returns:
        A figure with one Bar trace.

    Example:
        >>> import numpy as np
        >>> from explain.results import Attribution
        >>> a = Attribution(values=np.array([[1.0, -3.0], [-1.0, 1.0]]), method="saliency",
        ...                 target=np.array([0, 0]), modality="tabular")
        >>> fig = global_importance(a)
        >>> list(fig.data[0].y), [float(v) for v in fig.data[0].x]
        (['x1', 'x0'], [2.0, 1.0])
    """
    values = _values_2d(attr, "global_importance")
    _check_top_k(top_k)
    importance = np.abs(values).mean(axis=0)
    names = _feature_names(attr, importance.size)
    order = np.argsort(-importance, kind="stable")[: int(top_k)]
    fig = go.Figure(
        go.Bar(
            x=importance[order],
            y=[names[j] for j in order],
            orientation="h",
            marker_color=POSITIVE_COLOR,
            hovertemplate="%{y}<br>mean |attribution| %{x:.4g}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{attr.method}: mean |attribution| over {len(attr)} example(s)",
        xaxis_title="mean |attribution|",
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 60 + 24 * len(order)),
        showlegend=False,
    )
    return fig


def beeswarm(
    attr: Attribution, *, top_k: int = 20, max_points: int = 5000, seed: int = 0
) -> go.Figure:
    """One row of points per feature: each point is one example's attribution.

    Features are the ``top_k`` with the largest mean |attribution|, the most
    important at the top. Points are jittered vertically (seeded) and coloured by
    the feature's value, min-max normalised per feature (low blue, high red).

    Args:
        attr: a tabular Attribution.
        top_k: show at most this many features.
        max_points: show at most this many examples per feature; beyond it a
            seeded random subset of examples is drawn (the same for every feature).
        seed: seed of the jitter and of the subsample.

    Returns:
        A figure with one Scatter trace per feature (named after it) and a
        vertical line at x = 0.

    Example:
        >>> import numpy as np
        >>> from explain.results import Attribution
        >>> rng = np.random.default_rng(0)
        >>> a = Attribution(values=rng.normal(size=(50, 4)), method="saliency",
        ...                 target=np.zeros(50, dtype=int), modality="tabular",
        ...                 inputs=rng.normal(size=(50, 4)))
        >>> len(beeswarm(a, top_k=3).data)
        3
    """
    values = _values_2d(attr, "beeswarm")
    _check_top_k(top_k)
    if int(max_points) < 1:
        raise InputError(f"max_points must be at least 1, got {max_points}; pass e.g. 5000.")
    rng = np.random.default_rng(seed)
    n, n_features = values.shape
    rows = np.arange(n)
    if n > max_points:
        rows = np.sort(rng.choice(n, size=int(max_points), replace=False))
    names = _feature_names(attr, n_features)
    order = np.argsort(-np.abs(values).mean(axis=0), kind="stable")[: int(top_k)]
    inputs = None
    if attr.inputs is not None and np.shape(attr.inputs) == values.shape:
        inputs = np.asarray(attr.inputs, dtype=float)[rows]

    fig = go.Figure()
    for rank, j in enumerate(order):
        position = len(order) - 1 - rank  # most important feature at the top
        x = values[rows, j]
        y = position + rng.uniform(-0.3, 0.3, size=x.size)
        marker: dict = {"size": 5, "opacity": 0.8}
        if inputs is not None:
            column = inputs[:, j]
            low, high = np.nanmin(column), np.nanmax(column)
            spread = high - low
            color = (column - low) / spread if spread > 0 else np.full(column.size, 0.5)
            marker.update(color=color, coloraxis="coloraxis")
            customdata = column[:, None]
            hover = f"{names[j]} = %{{customdata[0]:.4g}}<br>attribution %{{x:.4g}}<extra></extra>"
        else:
            marker.update(color=NEUTRAL_COLOR)
            customdata = None
            hover = f"{names[j]}<br>attribution %{{x:.4g}}<extra></extra>"
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers",
                name=names[j],
                marker=marker,
                customdata=customdata,
                hovertemplate=hover,
            )
        )
    fig.add_vline(x=0, line_width=1, line_color="gray")
    layout: dict = {
        "title": f"{attr.method}: attributions of {rows.size} example(s)",
        "xaxis_title": "attribution",
        "yaxis": {
            "tickmode": "array",
            "tickvals": list(range(len(order))),
            "ticktext": [names[j] for j in order][::-1],
            "zeroline": False,
        },
        "height": max(300, 80 + 36 * len(order)),
        "showlegend": False,
    }
    if inputs is not None:
        layout["coloraxis"] = {
            "colorscale": DIVERGING_SCALE,
            "cmin": 0.0,
            "cmax": 1.0,
            "colorbar": {
                "title": {"text": "feature value"},
                "tickvals": [0.0, 1.0],
                "ticktext": ["low", "high"],
            },
        }
    fig.update_layout(**layout)
    return fig
