"""Plots of a model comparison and a compression sweep: the sweep's curves, per-class
deltas, the histogram of explanation similarity, and one row's attributions side by side.

Example:
    >>> import numpy as np
    >>> from explain.results import Comparison
    >>> c = Comparison(names=("A", "B"), task="classification", n=2, rows=np.arange(2),
    ...                predicted_a=np.array([0, 1]), predicted_b=np.array([0, 0]), agreement=0.5,
    ...                truth=np.array([0, 1]), class_names=("no", "yes"), class_support=np.array([1, 1]),
    ...                recall_a=np.array([1.0, 1.0]), recall_b=np.array([1.0, 0.0]),
    ...                precision_a=np.array([1.0, 1.0]), precision_b=np.array([0.5, 0.0]),
    ...                explained=np.array([0, 1]), sampled=np.array([True, False]),
    ...                spearman=np.array([0.9, -0.1]), attributions_a=np.array([[1.0, -0.5], [0.2, 0.1]]),
    ...                attributions_b=np.array([[0.8, -0.4], [0.0, 0.3]]), feature_names=("f", "g"))
    >>> [t.name for t in class_deltas(c).data], len(similarity_histogram(c).data)
    (['recall', 'precision'], 1)
    >>> [t.name for t in row_side_by_side(c, 1).data]
    ['A', 'B']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explain.errors import InputError
from explain.plots._common import NEGATIVE_COLOR, NEUTRAL_COLOR, POSITIVE_COLOR, display_text

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import Comparison, CompressionSweep

__all__ = ["sweep_curves", "class_deltas", "similarity_histogram", "row_side_by_side"]


def _check(result: Any, kind: str, plot_name: str, attribute: str, how: str) -> None:
    if not hasattr(result, attribute):
        raise InputError(f"{plot_name} plots an explain.{kind}, got {type(result).__name__}; compute one with {how}.")


def sweep_curves(sweep: CompressionSweep) -> go.Figure:
    """Accuracy, agreement and explanation similarity against the compression amount, with
    the stored size on a second axis and the chosen amount marked.

    Raises:
        InputError: not a CompressionSweep.

    Example:
        >>> import numpy as np
        >>> from explain.results import CompressionSweep
        >>> s = CompressionSweep(method="prune", amounts=np.array([0.2, 0.5]), accuracy=np.array([0.9, 0.8]),
        ...                      agreement=np.array([1.0, 0.9]), explanation_similarity=np.array([0.9, 0.7]),
        ...                      latency=np.array([1e-5, 1e-5]), stored_bytes=np.array([30, 20]),
        ...                      nonzero=np.array([8, 5]), keep=0.95, best=0.2)
        >>> [t.name for t in sweep_curves(s).data]
        ['accuracy', 'agreement', 'explanation similarity', 'stored size (kB)']
    """
    _check(sweep, "CompressionSweep", "sweep_curves", "amounts", "explain.compress_sweep(model, data)")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = np.asarray(sweep.amounts, dtype=float)
    for name, values, color in (("accuracy", sweep.accuracy, NEGATIVE_COLOR), ("agreement", sweep.agreement,
                                POSITIVE_COLOR), ("explanation similarity", sweep.explanation_similarity, "#1b7837")):
        fig.add_trace(go.Scatter(x=x, y=values, mode="lines+markers", name=name, line={"color": color},
                                 hovertemplate=name + " at %{x:.2f}: %{y:.4f}<extra></extra>"), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=np.asarray(sweep.stored_bytes, dtype=float) / 1e3, mode="lines",
                             name="stored size (kB)", line={"color": NEUTRAL_COLOR, "dash": "dot"}), secondary_y=True)
    fig.add_hline(y=sweep.keep, line={"dash": "dash", "color": NEUTRAL_COLOR},
                  annotation_text=f"keep {sweep.keep:g}")
    if sweep.best is not None:
        fig.add_vline(x=sweep.best, line={"color": POSITIVE_COLOR, "dash": "dot"},
                      annotation_text=f"largest kept: {sweep.best:g}")
    fig.update_layout(title=f"Compression sweep ({sweep.method})", xaxis_title="amount (sparsity)")
    fig.update_yaxes(title_text="share", secondary_y=False)
    fig.update_yaxes(title_text="kB stored", secondary_y=True)
    return fig


def class_deltas(comparison: Comparison) -> go.Figure:
    """Per class: model B's recall and precision minus model A's (bars below zero: B is worse).

    Raises:
        InputError: not a Comparison, or one without labels or classes.
    """
    _check(comparison, "Comparison", "class_deltas", "recall_a", "explain.compare(model_a, model_b, data)")
    if comparison.recall_a is None or comparison.class_names is None:
        raise InputError("class_deltas needs per-class figures: compare classifiers on labelled rows "
                         "(a labelled Dataset, or targets=...).")
    names = [display_text(c) for c in comparison.class_names]
    a, b = comparison.names
    fig = go.Figure()
    for label, delta, color in (("recall", comparison.recall_b - comparison.recall_a, POSITIVE_COLOR),
                                ("precision", comparison.precision_b - comparison.precision_a, NEGATIVE_COLOR)):
        fig.add_trace(go.Bar(x=names, y=delta, name=label, marker_color=color,
                             customdata=np.asarray(comparison.class_support),
                             hovertemplate="%{x}: %{y:+.3f} (support %{customdata})<extra>" + label + "</extra>"))
    fig.update_layout(title=f"Per-class change, {display_text(b)} minus {display_text(a)}", barmode="group",
                      xaxis_title="class", yaxis_title="difference")
    fig.add_hline(y=0, line={"color": NEUTRAL_COLOR})
    return fig


def similarity_histogram(comparison: Comparison, *, measure: str = "spearman", bins: int = 20) -> go.Figure:
    """The distribution over the sampled rows of one explanation measure (``"spearman"``,
    ``"top_k_overlap"``, ``"rank_agreement"`` or ``"sign_agreement"``).

    Raises:
        InputError: not a Comparison, or an unknown measure.
    """
    _check(comparison, "Comparison", "similarity_histogram", "spearman", "explain.compare(model_a, model_b, data)")
    measures = ("spearman", "top_k_overlap", "rank_agreement", "sign_agreement")
    if measure not in measures:
        raise InputError(f"measure must be one of {list(measures)}, got {measure!r}; pass e.g. measure='spearman'.")
    values = getattr(comparison, measure)
    values = np.zeros(0) if values is None else np.asarray(values)[np.asarray(comparison.sampled, dtype=bool)]
    fig = go.Figure(go.Histogram(x=values, nbinsx=int(bins), marker_color=POSITIVE_COLOR, name=measure))
    mean = float(values.mean()) if len(values) else float("nan")
    fig.update_layout(title=f"Explanation similarity ({comparison.method}, {measure.replace('_', ' ')}): "
                            f"mean {mean:.3f} over {len(values)} rows",
                      xaxis_title=measure.replace("_", " "), yaxis_title="rows", bargap=0.05)
    return fig


def row_side_by_side(comparison: Comparison, index: int | None = None, *, top: int = 15) -> go.Figure:
    """Both models' attributions of one row as bar charts side by side (the ``top``
    features by the larger |attribution|; images and text flattened to their units).
    ``index`` is a row position; None takes the first disagreeing row, else the first explained.

    Raises:
        InputError: not a Comparison, or a row that was not explained.
    """
    _check(comparison, "Comparison", "row_side_by_side", "attributions_a", "explain.compare(model_a, model_b, data)")
    explained = np.asarray(comparison.explained)
    if index is None:
        shown = np.intersect1d(np.asarray(comparison.disagreeing if comparison.disagreeing is not None else []),
                               explained)
        index = int(shown[0] if len(shown) else explained[0])
    where = np.flatnonzero(explained == int(index))
    if not len(where):
        raise InputError(f"Row {index} was not explained; pass one of the explained positions "
                         f"(comparison.explained), e.g. {explained[:5].tolist()}.")
    i = int(where[0])
    va = np.asarray(comparison.attributions_a[i], dtype=float).reshape(-1)
    vb = np.asarray(comparison.attributions_b[i], dtype=float).reshape(-1)
    names = list(comparison.feature_names) if comparison.feature_names and len(comparison.feature_names) == len(va) \
        else [str(j) for j in range(len(va))]
    order = np.argsort(-np.maximum(np.abs(va), np.abs(vb)), kind="stable")[: int(top)][::-1]
    labels = [display_text(names[j]) for j in order]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=[display_text(n) for n in comparison.names])
    for col, values, name in ((1, va, comparison.names[0]), (2, vb, comparison.names[1])):
        colors = [POSITIVE_COLOR if v >= 0 else NEGATIVE_COLOR for v in values[order]]
        fig.add_trace(go.Bar(x=values[order], y=labels, orientation="h", marker_color=colors, name=name,
                             showlegend=False), row=1, col=col)
    pa, pb = comparison.predicted_a[int(index)], comparison.predicted_b[int(index)]
    fig.update_layout(title=f"Row {comparison.rows[int(index)]}: {display_text(comparison.names[0])} predicts "
                            f"{_label(comparison, pa)}, {display_text(comparison.names[1])} {_label(comparison, pb)} "
                            f"({comparison.method})")
    return fig


def _label(comparison: Comparison, value: Any) -> str:
    if comparison.class_names is not None and comparison.task == "classification":
        return display_text(comparison.class_names[int(value)])
    return f"{float(value):.4g}"
