"""Plots of global feature effects: partial dependence with ICE lines, a pair's heat map,
and accumulated local effects.

Example:
    >>> import numpy as np
    >>> from explain.results import PartialDependence
    >>> pd_ = PartialDependence(features=("age",), grid={"age": np.array([20.0, 40.0])},
    ...                         average={"age": np.array([[0.2, 0.6]])},
    ...                         individual={"age": np.array([[0.1, 0.5], [0.3, 0.7]])},
    ...                         outputs=("prediction",), task="regression", n=2)
    >>> [trace.name for trace in pdp_curves(pd_, "age").data]
    ['ICE', 'average']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from explain.errors import InputError
from explain.plots._common import NEGATIVE_COLOR, NEUTRAL_COLOR, POSITIVE_COLOR, display_text

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import AccumulatedEffects, PartialDependence

__all__ = ["pdp_curves", "pdp_heatmap", "ale_curves"]

_PALETTE = (NEGATIVE_COLOR, POSITIVE_COLOR, "#1b7837", "#762a83", "#e08214", "#35978f", "#8c510a", "#4d4d4d")


def _check(result: Any, kind: str, plot_name: str, attribute: str, how: str) -> None:
    if not hasattr(result, attribute):
        raise InputError(f"{plot_name} plots an explain.{kind}, got {type(result).__name__}; compute one with {how}.")


def _feature(result: Any, feature: Any, pair: bool) -> Any:
    key = result.features[0] if feature is None else (
        tuple(str(f) for f in feature) if isinstance(feature, (tuple, list)) else str(feature))
    if key not in result.features:
        raise InputError(f"This result holds no effect for {feature!r}; pass one of {list(result.features)}.")
    if isinstance(key, tuple) != pair:
        other = "pdp_heatmap" if isinstance(key, tuple) else "pdp_curves"
        raise InputError(f"{key!r} is {'a pair' if isinstance(key, tuple) else 'one feature'}: plot it with {other}.")
    return key


def pdp_curves(result: PartialDependence, feature: Any = None, *, output: int | str | None = None,
               max_lines: int = 100) -> go.Figure:
    """The partial dependence of one feature (a thick line) over up to ``max_lines`` ICE
    curves (thin grey lines), for one output (default: the positive class of a binary
    model, the last class otherwise, or the prediction).

    Raises:
        InputError: not a PartialDependence, an unknown feature or output, or a pair.
    """
    _check(result, "PartialDependence", "pdp_curves", "individual",
           "explain.partial_dependence(model, data, features=[...])")
    key = _feature(result, feature, pair=False)
    c = result.output_index(output)
    grid = np.asarray(result.grid[key], dtype=float)
    traces = []
    ice = result.individual.get(key)
    if ice is not None and len(ice):
        curves = ice if ice.ndim == 2 else ice[..., c]
        curves = curves[: int(max_lines)]
        xs = np.concatenate([np.append(grid, np.nan) for _ in curves])
        ys = np.concatenate([np.append(row, np.nan) for row in curves])
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", name="ICE", line={"color": NEUTRAL_COLOR, "width": 1},
                                 opacity=0.5, hoverinfo="skip"))
    traces.append(go.Scatter(x=grid, y=result.average[key][c], mode="lines+markers", name="average",
                             line={"color": POSITIVE_COLOR, "width": 3},
                             hovertemplate=display_text(key) + " %{x:.4g}: %{y:.4g}<extra></extra>"))
    name = display_text(result.outputs[c])
    label = f"P({name})" if result.task == "classification" else name
    fig = go.Figure(traces)
    fig.update_layout(title=f"Partial dependence of {label} on {display_text(key)}",
                      xaxis_title=display_text(key), yaxis_title=label)
    return fig


def pdp_heatmap(result: PartialDependence, feature: Any = None, *, output: int | str | None = None) -> go.Figure:
    """The 2-D partial dependence of a pair of features as a heat map, for one output.

    Raises:
        InputError: not a PartialDependence, an unknown pair or output, or one feature.
    """
    _check(result, "PartialDependence", "pdp_heatmap", "individual",
           "explain.partial_dependence(model, data, features=[(a, b)])")
    if feature is None:
        pairs = [f for f in result.features if isinstance(f, tuple)]
        if not pairs:
            raise InputError("This result holds no pair; compute one with features=[('a', 'b')].")
        feature = pairs[0]
    key = _feature(result, feature, pair=True)
    c = result.output_index(output)
    ga, gb = (np.asarray(g, dtype=float) for g in result.grid[key])
    name = display_text(result.outputs[c])
    label = f"P({name})" if result.task == "classification" else name
    fig = go.Figure(go.Heatmap(x=gb, y=ga, z=result.average[key][c], colorscale="Viridis",
                               colorbar={"title": {"text": label}},
                               hovertemplate=(display_text(key[1]) + " %{x:.4g}<br>" + display_text(key[0])
                                              + " %{y:.4g}<br>" + label + " %{z:.4g}<extra></extra>")))
    fig.update_layout(title=f"Partial dependence of {label} on {display_text(key[0])} and {display_text(key[1])}",
                      xaxis_title=display_text(key[1]), yaxis_title=display_text(key[0]))
    return fig


def ale_curves(result: AccumulatedEffects, feature: Any = None, *, outputs: Any = None) -> go.Figure:
    """The accumulated local effect of one feature at each bin edge, one line per output
    (default: every class but the first of a binary model, else all), with the rows per
    bin on hover.

    Raises:
        InputError: not an AccumulatedEffects, or an unknown feature.
    """
    _check(result, "AccumulatedEffects", "ale_curves", "counts", "explain.ale(model, data, features=[...])")
    key = _feature(result, feature, pair=False)
    if outputs is None:
        shown = [1] if result.task == "classification" and len(result.outputs) == 2 else range(len(result.outputs))
    else:
        shown = [result.outputs.index(o) if isinstance(o, str) else int(o)
                 for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
    edges = np.asarray(result.edges[key], dtype=float)
    counts = np.concatenate([[0], result.counts[key]])
    fig = go.Figure([go.Scatter(x=edges, y=result.effect[key][c], mode="lines+markers",
                                name=display_text(result.outputs[c]), customdata=counts,
                                line={"color": _PALETTE[i % len(_PALETTE)]},
                                hovertemplate=(display_text(key) + " %{x:.4g}: %{y:.4g}<br>%{customdata} rows "
                                               "in the bin below<extra>%{fullData.name}</extra>"))
                     for i, c in enumerate(shown)])
    fig.add_hline(y=0, line_dash="dot", line_color="#4d4d4d")
    what = "probability" if result.task == "classification" else "prediction"
    fig.update_layout(title=f"Accumulated local effect of {display_text(key)}", xaxis_title=display_text(key),
                      yaxis_title=f"effect on the {what} (centred)")
    return fig
