"""Plots of image and text counterfactuals: original | counterfactual | difference, and a
text's edits.

Example:
    >>> import numpy as np
    >>> from explain.results.recourse_media import ImageCounterfactuals
    >>> cf = ImageCounterfactuals(originals=np.zeros((1, 1, 2, 2)), counterfactuals=np.full((1, 1, 2, 2), 0.5),
    ...                           validity=np.array([True]), prediction=np.array([1]), query_prediction=np.array([0]),
    ...                           target_index=np.array([1]), l2=np.array([1.0]), linf=np.array([0.5]),
    ...                           changed_pixels=np.array([1.0]), targets=("b",), reasons=("",), outputs=("a", "b"))
    >>> [t.type for t in counterfactual_difference(cf).data]
    ['heatmap', 'heatmap', 'heatmap']
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explain.errors import InputError
from explain.plots._common import (
    DIVERGING_SCALE,
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    display_text,
    symmetric_range,
)

if TYPE_CHECKING:  # pragma: no cover
    from explain.results.recourse_media import ImageCounterfactuals, TextCounterfactuals

__all__ = ["counterfactual_difference", "counterfactual_edits"]


def _checked(result: object, kind: str, index: int, plot: str) -> int:
    if type(result).__name__ != kind:
        raise InputError(f"{plot} draws an explain.{kind}, got {type(result).__name__}; pass the result of "
                         "explain.counterfactuals on a model of that modality.")
    n = len(result)  # type: ignore[arg-type]
    if not -n <= int(index) < n:
        raise InputError(f"query {index} is out of range for {n} queries; pass 0 to {n - 1}.")
    return int(index) % n


def _panel(image: np.ndarray) -> go.Heatmap | go.Image:
    if image.shape[0] == 3:
        low, high = float(image.min()), float(image.max())
        scaled = image * 255.0 if low >= 0 and high <= 1 else (image - low) / max(high - low, 1e-12) * 255.0
        return go.Image(z=np.clip(scaled, 0, 255).transpose(1, 2, 0))
    return go.Heatmap(z=image.mean(axis=0), colorscale="gray", showscale=False,
                      hovertemplate="row %{y}, col %{x}<br>pixel %{z:.4g}<extra></extra>")


def counterfactual_difference(result: ImageCounterfactuals, index: int = 0) -> go.Figure:
    """Query ``index``'s image, its counterfactual, and the difference (summed over channels,
    red where the counterfactual is brighter, blue darker).

    Raises:
        InputError: not an ImageCounterfactuals, or an index out of range.
    """
    index = _checked(result, "ImageCounterfactuals", index, "counterfactual_difference")
    original, changed = result.originals[index], result.counterfactuals[index]
    diff = (changed - original).sum(axis=0)
    bound = symmetric_range(diff) or 1.0
    reached = result.outputs[result.query_prediction[index]]
    fig = make_subplots(rows=1, cols=3, subplot_titles=(
        f"original ({display_text(reached)})",
        f"counterfactual ({display_text(result.targets[index])})" if result.validity[index] else "counterfactual: none",
        "difference"))
    fig.add_trace(_panel(original), row=1, col=1)
    fig.add_trace(_panel(changed), row=1, col=2)
    fig.add_trace(go.Heatmap(z=diff, colorscale=DIVERGING_SCALE, zmid=0.0, zmin=-bound, zmax=bound,
                             colorbar={"title": {"text": "change"}},
                             hovertemplate="row %{y}, col %{x}<br>change %{z:.4g}<extra></extra>"), row=1, col=3)
    for col in (1, 2, 3):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if col == 1 else col}", row=1, col=col)
    if result.validity[index]:
        title = (f"toward {display_text(result.targets[index])}: L2 {result.l2[index]:.3g}, "
                 f"L-inf {result.linf[index]:.3g}, {result.changed_pixels[index]:.0%} of pixels changed")
    else:
        title = display_text(result.reasons[index])
    fig.update_layout(title=title)
    return fig


def counterfactual_edits(result: TextCounterfactuals, index: int = 0) -> go.Figure:
    """Query ``index``'s words with the edits marked: deleted words struck through in blue,
    substituted words in red followed by their replacement.

    Raises:
        InputError: not a TextCounterfactuals, or an index out of range.
    """
    index = _checked(result, "TextCounterfactuals", index, "counterfactual_edits")
    edits = {p: new for p, _, new in result.edits[index]}
    words = []
    for position, word in enumerate(result.tokens[index]):
        safe = html.escape(word)
        if position not in edits:
            words.append(safe)
        elif edits[position] is None:
            words.append(f"<span style='color:{NEGATIVE_COLOR}'><s>{safe}</s></span>")
        else:
            words.append(f"<span style='color:{POSITIVE_COLOR}'><s>{safe}</s> <b>{html.escape(edits[position])}</b>"
                         "</span>")
    lines = [" ".join(words[k: k + 12]) for k in range(0, len(words), 12)] or [""]
    fig = go.Figure()
    fig.add_annotation(text="<br>".join(lines), x=0, y=1, xref="paper", yref="paper", xanchor="left",
                       yanchor="top", showarrow=False, align="left")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    reached = result.outputs[result.query_prediction[index]]
    title = (f"{display_text(reached)} -> {display_text(result.targets[index])}: {len(edits)} edit(s)"
             if result.validity[index] else display_text(result.reasons[index]))
    fig.update_layout(title=title, height=120 + 22 * len(lines), plot_bgcolor="white")
    return fig
