"""Plots of image attributions: the image, its signed heatmap and an overlay."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explain.errors import InputError
from explain.plots._common import (
    DIVERGING_SCALE,
    check_index,
    check_modality,
    example_title,
    symmetric_range,
)

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import Attribution

__all__ = ["image_heatmap"]


def _channels_first(array: np.ndarray, what: str) -> np.ndarray:
    """One example as ``(channels, height, width)``; a 2-D array is one channel."""
    array = np.asarray(array, dtype=float)
    if array.ndim == 2:
        return array[None]
    if array.ndim != 3:
        raise InputError(
            f"image {what} of one example must have shape (channels, height, width), "
            f"got {array.shape}; explain images shaped (n, channels, height, width)."
        )
    return array


def _to_rgb255(image: np.ndarray) -> np.ndarray:
    """A ``(3, H, W)`` image as ``(H, W, 3)`` values in 0..255 for an Image trace."""
    low, high = float(np.nanmin(image)), float(np.nanmax(image))
    if low >= 0.0 and high <= 1.0:
        scaled = image * 255.0
    elif low >= 0.0 and high <= 255.0:
        scaled = image
    else:  # e.g. normalised with a mean and std: stretch to the full range
        scaled = (image - low) / (high - low) * 255.0 if high > low else np.zeros_like(image)
    return np.nan_to_num(np.clip(scaled, 0.0, 255.0)).transpose(1, 2, 0)


def _gray(image: np.ndarray) -> np.ndarray:
    """The channel mean of a ``(C, H, W)`` image, ``(H, W)``."""
    return image.mean(axis=0)


def _heatmap(heat: np.ndarray, bound: float, *, opacity: float = 1.0, showscale: bool) -> go.Heatmap:
    return go.Heatmap(
        z=heat,
        colorscale=DIVERGING_SCALE,
        zmid=0.0,
        zmin=-bound,
        zmax=bound,
        opacity=opacity,
        showscale=showscale,
        colorbar={"title": {"text": "attribution"}} if showscale else None,
        hovertemplate="row %{y}, col %{x}<br>attribution %{z:.4g}<extra></extra>",
    )


def _gray_heatmap(gray: np.ndarray) -> go.Heatmap:
    return go.Heatmap(
        z=gray,
        colorscale="gray",
        showscale=False,
        hovertemplate="row %{y}, col %{x}<br>pixel %{z:.4g}<extra></extra>",
    )


def image_heatmap(attr: Attribution, index: int = 0, *, overlay_opacity: float = 0.6) -> go.Figure:
    """The input image, its attribution heatmap and the heatmap over the image.

    The attribution is summed over channels and drawn with the diverging
    ``RdBu_r`` scale centred on zero (red positive, blue negative) over a
    symmetric range ``±max|a|``. Rows run top to bottom as in the array and
    pixels are square. When ``attr.inputs`` is None only the heatmap is shown.

    Args:
        attr: an image Attribution with values ``(n, channels, height, width)``.
        index: the example to show.
        overlay_opacity: opacity of the heatmap in the overlay panel, 0..1.

    Returns:
        A 1x3 subplot figure (image, attribution, overlay), or one panel.

    Example:
        >>> import numpy as np
        >>> from explain.results import Attribution
        >>> a = Attribution(values=np.ones((1, 3, 4, 4)), method="saliency",
        ...                 target=np.array([0]), modality="image",
        ...                 inputs=np.zeros((1, 3, 4, 4)))
        >>> fig = image_heatmap(a)
        >>> [t.type for t in fig.data]
        ['image', 'heatmap', 'heatmap', 'heatmap']
    """
    check_modality(attr, "image", "image_heatmap")
    if not 0.0 <= float(overlay_opacity) <= 1.0:
        raise InputError(f"overlay_opacity must be in 0..1, got {overlay_opacity}; pass e.g. 0.6.")
    index = check_index(attr, index)
    heat = _channels_first(attr.values[index], "attributions").sum(axis=0)
    bound = symmetric_range(heat)
    title = example_title(attr, index)

    if attr.inputs is None:
        fig = go.Figure(_heatmap(heat, bound, showscale=True))
        fig.update_yaxes(autorange="reversed", scaleanchor="x")
        fig.update_layout(title=title)
        return fig

    image = _channels_first(attr.inputs[index], "inputs")
    if image.shape[1:] != heat.shape:
        raise InputError(
            f"image inputs {image.shape[1:]} and attributions {heat.shape} differ in size; "
            f"pass inputs and attributions of the same height and width."
        )
    fig = make_subplots(rows=1, cols=3, subplot_titles=("input", "attribution", "overlay"))
    if image.shape[0] == 3:
        fig.add_trace(go.Image(z=_to_rgb255(image), hoverinfo="x+y+z"), row=1, col=1)
    else:
        fig.add_trace(_gray_heatmap(_gray(image)), row=1, col=1)
    fig.add_trace(_heatmap(heat, bound, showscale=True), row=1, col=2)
    fig.add_trace(_gray_heatmap(_gray(image)), row=1, col=3)
    fig.add_trace(_heatmap(heat, bound, opacity=float(overlay_opacity), showscale=False), row=1, col=3)
    for col, x_name in ((1, "x"), (2, "x2"), (3, "x3")):
        fig.update_yaxes(autorange="reversed", scaleanchor=x_name, row=1, col=col)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(title=title, height=400)
    return fig
