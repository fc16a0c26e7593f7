"""Plots of text attributions: a heat strip of tokens coloured by attribution."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from explain.errors import InputError
from explain.plots._common import (
    DIVERGING_SCALE,
    check_index,
    check_modality,
    display_text,
    symmetric_range,
    target_label,
)

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import Attribution

__all__ = ["token_strip"]


def token_strip(
    attr: Attribution,
    indices: Sequence[int] | None = None,
    *,
    max_examples: int = 20,
    wrap: int = 16,
) -> go.Figure:
    """A heatmap of tokens, each cell coloured by the token's attribution.

    Each example takes one row, or several when it has more than ``wrap`` tokens.
    Colours use the diverging ``RdBu_r`` scale centred on zero over a symmetric
    range (red positive, blue negative); each cell shows its token, and hovering
    shows the token and its value. Cells past the end of an example are empty.

    Args:
        attr: a text Attribution (``tokens`` must be held).
        indices: the examples to show; by default the first ``max_examples``.
        max_examples: how many examples to show when ``indices`` is None.
        wrap: tokens per row.

    Returns:
        A figure with one Heatmap trace; its rows run from the top example down.

    Example:
        >>> import numpy as np
        >>> from explain.results import Attribution
        >>> a = Attribution(values=np.array([[0.5, -1.0, 0.0]]), method="saliency",
        ...                 target=np.array([1]), modality="text", tokens=(("hi", "there"),))
        >>> fig = token_strip(a)
        >>> len(fig.data), list(fig.data[0].text[0])
        (1, ['hi', 'there'])
    """
    check_modality(attr, "text", "token_strip")
    if attr.tokens is None:
        raise InputError(
            "token_strip needs the tokens of each example, but attr.tokens is None; "
            "explain text through a tokenizer so the result holds its tokens."
        )
    if int(wrap) < 1:
        raise InputError(f"wrap must be at least 1, got {wrap}; pass e.g. wrap=16.")
    if indices is None:
        picked = list(range(min(len(attr), int(max_examples))))
    else:
        picked = [check_index(attr, i) for i in indices]
    wrap = int(wrap)

    lengths = [len(attr.tokens[i]) for i in picked]
    width = max(1, min(wrap, max(lengths, default=1)))
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    hover: list[list[str]] = []
    labels: list[str] = []
    shown: list[np.ndarray] = []
    for i, length in zip(picked, lengths):
        tokens = attr.tokens[i]
        values = np.asarray(attr.values[i, :length], dtype=float)
        shown.append(values)
        n_rows = max(1, math.ceil(length / wrap))
        name = target_label(attr, i)
        for r in range(n_rows):
            start = r * wrap
            stop = min(start + wrap, length)
            pad = width - (stop - start)
            z.append([float(v) for v in values[start:stop]] + [None] * pad)
            text.append([display_text(t) for t in tokens[start:stop]] + [""] * pad)
            hover.append([f"example {i}, token {p}" for p in range(start, stop)] + [""] * pad)
            labels.append(f"#{i} ({name})" if r == 0 else f"#{i} +{start}")

    bound = symmetric_range(np.concatenate(shown)) if shown else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 12},
            customdata=hover,
            colorscale=DIVERGING_SCALE,
            zmid=0.0,
            zmin=-bound,
            zmax=bound,
            xgap=1,
            ygap=1,
            colorbar={"title": {"text": "attribution"}},
            hovertemplate="%{text}<br>attribution %{z:.4g}<br>%{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{attr.method}: token attributions",
        xaxis={"showticklabels": False, "showgrid": False, "zeroline": False},
        yaxis={
            "autorange": "reversed",
            "tickmode": "array",
            "tickvals": list(range(len(labels))),
            "ticktext": labels,
            "showgrid": False,
            "zeroline": False,
        },
        height=140 + 34 * len(labels),
        width=max(600, 160 + 64 * width),
        margin={"t": 60, "b": 30, "l": 110},
    )
    return fig
