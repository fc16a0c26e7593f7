"""Plots of a dataset-wide GlobalImportance: bars for features and tokens, a map for images."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from explain.errors import InputError
from explain.plots._common import POSITIVE_COLOR, display_text

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import GlobalImportance

__all__ = ["importance_bars", "importance_map"]


def _check(result: GlobalImportance, plot_name: str) -> None:
    if not hasattr(result, "mean_abs") or not hasattr(result, "n"):
        raise InputError(
            f"{plot_name} plots an explain.results.GlobalImportance, got {type(result).__name__}; "
            "compute one with explain.global_importance(model, data), or plot an Attribution "
            "with explain.plots.global_importance."
        )


def importance_bars(result: GlobalImportance, *, top_k: int = 20, min_count: int = 1) -> go.Figure:
    """Horizontal bars of mean |attribution|, the most important feature or token at the top.

    Each bar's error line is the standard deviation of the signed attribution; hovering
    shows the signed mean (and, for tokens, how often the token occurred). Image
    results get bars of their ``top_k`` most important pixels (see also
    :func:`importance_map`).

    Args:
        result: a GlobalImportance.
        top_k: show at most this many features or tokens.
        min_count: text only: leave out tokens seen fewer times than this.

    Returns:
        A figure with one Bar trace.

    Raises:
        InputError: ``result`` is not a GlobalImportance, or ``top_k`` is below 1.

    Example:
        >>> import numpy as np
        >>> from explain.results import GlobalImportance
        >>> g = GlobalImportance(mean_abs=np.array([1.0, 3.0]), mean=np.array([1.0, -3.0]),
        ...                      std=np.zeros(2), n=10, method="saliency", modality="tabular")
        >>> fig = importance_bars(g)
        >>> list(fig.data[0].y), [float(v) for v in fig.data[0].x]
        (['x1', 'x0'], [3.0, 1.0])
    """
    _check(result, "importance_bars")
    if int(top_k) < 1:
        raise InputError(f"top_k must be at least 1, got {top_k}; pass e.g. top_k=20.")
    values = np.asarray(result.mean_abs, dtype=float).reshape(-1)
    keep = np.ones(values.size, dtype=bool) if result.counts is None else np.asarray(result.counts) >= min_count
    picked = [j for j in np.argsort(-values, kind="stable") if keep[j]][: int(top_k)]
    names = result.names()
    mean = np.asarray(result.mean, dtype=float).reshape(-1)[picked]
    std = np.asarray(result.std, dtype=float).reshape(-1)[picked]
    custom: list[list[float]] = [[m] for m in mean]
    hover = "%{y}<br>mean |attribution| %{x:.4g}<br>mean attribution %{customdata[0]:.4g}"
    if result.counts is not None:
        counts = np.asarray(result.counts).reshape(-1)[picked]
        custom = [[m, float(c)] for m, c in zip(mean, counts)]
        hover += "<br>seen %{customdata[1]:.0f} times"
    fig = go.Figure(
        go.Bar(
            x=values[picked],
            y=[display_text(names[j]) for j in picked],
            orientation="h",
            marker_color=POSITIVE_COLOR,
            error_x={"type": "data", "array": std.tolist(), "visible": True, "thickness": 1},
            customdata=custom,
            hovertemplate=hover + "<extra></extra>",
        )
    )
    what = "texts" if result.modality == "text" else "examples"
    fig.update_layout(
        title=f"{result.method}: mean |attribution| over {result.n:,} {what}",
        xaxis_title="mean |attribution| (line: std of the signed attribution)",
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 60 + 24 * len(picked)),
        showlegend=False,
    )
    return fig


def importance_map(result: GlobalImportance) -> go.Figure:
    """A heatmap of an image result's mean |attribution|, summed over channels.

    Args:
        result: a GlobalImportance of image attributions, ``mean_abs`` of shape
            ``(channels, height, width)``.

    Returns:
        A figure with one Heatmap trace (rows top to bottom, square pixels).

    Raises:
        InputError: ``result`` is not an image GlobalImportance.

    Example:
        >>> import numpy as np
        >>> from explain.results import GlobalImportance
        >>> g = GlobalImportance(mean_abs=np.ones((3, 4, 5)), mean=np.zeros((3, 4, 5)),
        ...                      std=np.zeros((3, 4, 5)), n=2, method="saliency", modality="image")
        >>> fig = importance_map(g)
        >>> fig.data[0].type, np.asarray(fig.data[0].z).shape, float(fig.data[0].z[0][0])
        ('heatmap', (4, 5), 3.0)
    """
    _check(result, "importance_map")
    values = np.asarray(result.mean_abs, dtype=float)
    if result.modality != "image" or values.ndim != 3:
        raise InputError(
            f"importance_map draws image results of shape (channels, height, width); this one has "
            f"modality {result.modality!r} and shape {values.shape}. Use importance_bars instead."
        )
    heat = values.sum(axis=0)
    fig = go.Figure(
        go.Heatmap(
            z=heat,
            colorscale="Reds",
            zmin=0.0,
            colorbar={"title": "mean |a|"},
            hovertemplate="row %{y}, col %{x}<br>mean |attribution| %{z:.4g}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", scaleanchor="x")
    fig.update_layout(
        title=f"{result.method}: mean |attribution| per pixel over {result.n:,} images",
        height=420,
    )
    return fig
