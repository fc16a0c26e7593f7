"""Plots of attention maps: a layers x heads grid, one head in detail, and the per-token
score of rollout or class relevance (over the image for vision transformers).

Long inputs stay fast and readable: the grid pools each head to at most ``max_tokens``
rows and columns (block means); the detail view keeps every token.

Example:
    >>> import numpy as np
    >>> from explain.results import AttentionMaps
    >>> from explain.plots import attention_grid
    >>> w = np.full((1, 2, 3, 4, 4), 0.25)
    >>> maps = AttentionMaps(weights=w, tokens=(("[CLS]", "a", "b", "[SEP]"),))
    >>> len(attention_grid(maps).data)
    6
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explain.errors import InputError
from explain.plots._common import display_text
from explain.results import AttentionMaps

__all__ = ["attention_grid", "attention_head", "attention_scores"]

_SCALE = "Blues"


def _pool(matrix: np.ndarray, size: int) -> np.ndarray:
    n = matrix.shape[-1]
    if n <= size:
        return matrix
    edges = np.linspace(0, n, size + 1).astype(int)
    rows = np.add.reduceat(matrix, edges[:-1], axis=0) / np.diff(edges)[:, None]
    return np.add.reduceat(rows, edges[:-1], axis=1) / np.diff(edges)[None, :]


def _check(maps: AttentionMaps, index: int) -> int:
    if not 0 <= index < len(maps):
        raise InputError(f"index {index} is out of range for {len(maps)} example(s).")
    return index


def attention_grid(maps: AttentionMaps, index: int = 0, *, max_tokens: int = 48) -> go.Figure:
    """Every layer (rows) and head (columns) of one example as small heatmaps."""
    weights = maps.example(_check(maps, index))
    layers, heads, n = weights.shape[0], weights.shape[1], weights.shape[-1]
    fig = make_subplots(rows=layers, cols=heads, horizontal_spacing=0.01, vertical_spacing=0.01,
                        row_titles=[f"L{l}" for l in range(layers)], column_titles=[f"H{h}" for h in range(heads)])
    for layer in range(layers):
        for head in range(heads):
            fig.add_trace(go.Heatmap(
                z=_pool(weights[layer, head], max_tokens), zmin=0, zmax=1, colorscale=_SCALE,
                showscale=layer == 0 and head == 0, colorbar={"title": {"text": "weight"}},
                hovertemplate=f"layer {layer}, head {head}<br>query %{{y}}, key %{{x}}<br>%{{z:.3f}}<extra></extra>",
            ), row=layer + 1, col=head + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    pooled = f" (pooled to {max_tokens} x {max_tokens})" if n > max_tokens else ""
    fig.update_layout(title=f"attention of every layer and head, example {index}, {n} tokens{pooled}",
                      height=140 + 170 * layers, width=None)
    return fig


def attention_head(maps: AttentionMaps, index: int = 0, layer: int = 0, head: int = 0) -> go.Figure:
    """One head's token-to-token weights, every token kept, with the tokens on hover."""
    weights = maps.example(_check(maps, index))
    if not (0 <= layer < weights.shape[0] and 0 <= head < weights.shape[1]):
        raise InputError(f"layer must be below {weights.shape[0]} and head below {weights.shape[1]}.")
    labels = [f"{k}:{display_text(t)}" for k, t in enumerate(maps.tokens[index])]
    n = len(labels)
    fig = go.Figure(go.Heatmap(
        z=weights[layer, head], x=labels, y=labels, zmin=0, zmax=1, colorscale=_SCALE,
        colorbar={"title": {"text": "weight"}},
        hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.4f}<extra></extra>",
    ))
    show = n <= 64
    fig.update_xaxes(showticklabels=show, tickangle=-60, title="key")
    fig.update_yaxes(showticklabels=show, autorange="reversed", title="query")
    fig.update_layout(title=f"layer {layer}, head {head}, example {index}", height=max(400, min(900, 200 + 12 * n)))
    return fig


def attention_scores(maps: AttentionMaps, index: int = 0, *, kind: str = "rollout") -> go.Figure:
    """The first token's row of ``rollout`` or ``relevance``: how much each token (or image
    patch) feeds the prediction. Vision transformers: a heatmap over the patch grid beside
    the image."""
    i = _check(maps, index)
    if kind not in ("rollout", "relevance"):
        raise InputError(f"kind must be 'rollout' or 'relevance', got {kind!r}.")
    # the first token's row, without its entry for itself (rollout keeps half of every row
    # on the token itself and relevance starts from the identity, which would dwarf the rest)
    scores = (maps.rollout(i) if kind == "rollout" else maps.relevance(i))[0, 1:]
    tokens = maps.tokens[i][1:]
    target = ""
    if kind == "relevance" and maps.target is not None:
        t = int(maps.target[i])
        target = f" for {display_text(maps.class_names[t]) if maps.class_names else t}"
    title = f"{kind}{target} from the first token, example {i}"
    if maps.grid is not None:
        rows, cols = maps.grid
        patches = scores[len(scores) - rows * cols:].reshape(rows, cols)
        fig = make_subplots(rows=1, cols=2, subplot_titles=("input", kind))
        if maps.inputs is not None:
            image = maps.inputs[i].mean(axis=0)
            fig.add_trace(go.Heatmap(z=image, colorscale="gray", showscale=False, hoverinfo="skip"), row=1, col=1)
        fig.add_trace(go.Heatmap(z=patches, colorscale="Viridis", colorbar={"title": {"text": kind}},
                                 hovertemplate="patch (%{y}, %{x})<br>%{z:.4f}<extra></extra>"), row=1, col=2)
        fig.update_yaxes(autorange="reversed", showticklabels=False)
        fig.update_xaxes(showticklabels=False)
        fig.update_layout(title=title, height=420)
        return fig
    fig = go.Figure(go.Bar(x=[f"{k}:{display_text(t)}" for k, t in enumerate(tokens, start=1)], y=scores,
                           marker={"color": scores, "colorscale": "Viridis"},
                           hovertemplate="%{x}<br>%{y:.4f}<extra></extra>"))
    fig.update_layout(title=title, xaxis={"tickangle": -60, "showticklabels": len(tokens) <= 80},
                      yaxis={"title": kind}, height=420)
    return fig
