"""Plots of adversarial robustness: accuracy against attack size, the smallest flipping
sizes, and what an attack changed (pixels, features or tokens) and did to the explanation.

Example:
    >>> import numpy as np
    >>> from explain.results import RobustnessResult
    >>> r = RobustnessResult(attack="pgd", norm="linf", epsilons=np.array([0.0, 0.1]),
    ...     accuracy=np.array([0.9, 0.4]), success_rate=np.array([0.0, 0.5]),
    ...     flipped=np.zeros((2, 2), bool), adversarial_predictions=np.zeros((2, 2), int),
    ...     targets=np.zeros(2, int), predictions=np.zeros(2, int),
    ...     min_epsilon=np.array([0.1, np.nan]), modality="tabular")
    >>> robustness_curve(r).data[0].y.tolist()
    [0.9, 0.4]
"""

from __future__ import annotations

from collections.abc import Sequence
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
    from explain.results import RobustnessResult

__all__ = ["robustness_curve", "min_epsilon_histogram", "adversarial_example", "explanation_shift"]

_UNITS = {"linf": "L-inf", "l2": "L2", "edits": "token edits"}


def _axis_title(result: RobustnessResult) -> str:
    if result.norm == "edits":
        return "tokens changed"
    unit = "standard deviations per feature" if result.params.get("scale") == "std" else "input units"
    return f"epsilon ({_UNITS[result.norm]}, {unit})"


def robustness_curve(results: RobustnessResult | Sequence[RobustnessResult]) -> go.Figure:
    """Accuracy against attack size; several results (attacks, norms) share one chart.

    Args:
        results: one :class:`RobustnessResult` or a list of them.
    """
    many = [results] if not isinstance(results, (list, tuple)) else list(results)
    if not many:
        raise InputError("robustness_curve needs at least one RobustnessResult.")
    fig = go.Figure()
    for r in many:
        fig.add_trace(go.Scatter(
            x=r.epsilons, y=r.accuracy, mode="lines+markers", name=f"{r.attack.upper()} {_UNITS[r.norm]}",
            customdata=np.column_stack([r.success_rate, r.flipped.sum(axis=1)]),
            hovertemplate="epsilon %{x:.4g}<br>accuracy %{y:.1%}<br>attack success %{customdata[0]:.1%}"
                          " (%{customdata[1]} flipped)<extra></extra>",
        ))
    fig.update_layout(title="Accuracy under attack", xaxis_title=_axis_title(many[0]),
                      yaxis=dict(title="accuracy", range=[0, 1.02], tickformat=".0%"),
                      template="plotly_white", legend_title_text="attack")
    return fig


def min_epsilon_histogram(result: RobustnessResult, *, bins: int = 20) -> go.Figure:
    """How big an attack each example needs before its label flips (examples already
    wrong and those never flipped are counted in the title)."""
    sizes = result.min_epsilon
    found = sizes[np.isfinite(sizes) & (sizes > 0)]
    never = int(np.isnan(sizes).sum())
    wrong = int((sizes == 0).sum())
    fig = go.Figure(go.Histogram(x=found, nbinsx=bins, marker_color=NEGATIVE_COLOR, name="flipped",
                                 hovertemplate="epsilon %{x}<br>%{y} examples<extra></extra>"))
    top = f"{result.epsilons.max():g}"
    what = "Token edits needed" if result.norm == "edits" else "Smallest flipping epsilon"
    fig.update_layout(
        title=f"{what}: {len(found)} flipped, {never} held up to {top}, {wrong} already wrong",
        xaxis_title=_axis_title(result), yaxis_title="examples", template="plotly_white", bargap=0.05)
    return fig


def adversarial_example(result: RobustnessResult, index: int = 0) -> go.Figure:
    """What the attack changed in one example: original, adversarial and difference
    (images), the shift of each feature (tables), or the tokens changed (text)."""
    n = len(result)
    if not -n <= index < n:
        raise InputError(f"index {index} is out of range for {n} examples.")
    index %= n
    if result.modality == "text":
        return _text_example(result, index)
    if result.inputs is None or result.adversarial is None:
        raise InputError("This result holds no inputs; run explain.robustness on tables or images.")
    title = _example_title(result, index)
    if result.modality == "image":
        return _image_example(result, index, title)
    return _tabular_example(result, index, title)


def _label(result: RobustnessResult, k: int) -> str:
    names = result.class_names
    return display_text(names[k]) if names and 0 <= k < len(names) else str(k)


def _example_title(result: RobustnessResult, index: int) -> str:
    eps = result.min_epsilon[index]
    before = _label(result, int(result.predictions[index]))
    if np.isnan(eps):
        return f"Example {index}: '{before}' held up to epsilon {result.epsilons.max():g}"
    if eps == 0:
        return f"Example {index}: already wrong ('{before}', true '{_label(result, int(result.targets[index]))}')"
    k = np.flatnonzero(result.epsilons >= eps - 1e-12)  # the first grid size at or above it
    after = int(result.adversarial_predictions[k[0] if k.size else -1, index])
    return f"Example {index}: '{before}' becomes '{_label(result, after)}' at epsilon {eps:.3g}"


def _image_example(result: RobustnessResult, index: int, title: str) -> go.Figure:
    x = np.asarray(result.inputs[index], dtype=float)
    adv = np.asarray(result.adversarial[index], dtype=float)
    diff = (adv - x).sum(axis=0)
    gray = x.shape[0] == 1
    fig = make_subplots(rows=1, cols=3, subplot_titles=("original", "adversarial", "difference"))
    lo, hi = result.params.get("bounds", [float(x.min()), float(x.max())])
    for col, img in ((1, x), (2, adv)):
        if gray:
            fig.add_trace(go.Heatmap(z=img[0], colorscale="gray", zmin=lo, zmax=hi, showscale=False), 1, col)
        else:
            rgb = np.clip((img.transpose(1, 2, 0) - lo) / ((hi - lo) or 1) * 255, 0, 255).astype(np.uint8)
            fig.add_trace(go.Image(z=rgb), 1, col)
    top = symmetric_range(diff)
    fig.add_trace(go.Heatmap(z=diff, colorscale=DIVERGING_SCALE, zmin=-top, zmax=top,
                             colorbar=dict(title="change")), 1, 3)
    for col in (1, 2, 3):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False,
                         row=1, col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    fig.update_layout(title=title, template="plotly_white")
    return fig


def _tabular_example(result: RobustnessResult, index: int, title: str) -> go.Figure:
    x = np.asarray(result.inputs[index], dtype=float)
    adv = np.asarray(result.adversarial[index], dtype=float)
    names = [display_text(f) for f in (result.feature_names or [f"x{j}" for j in range(x.size)])]
    shift = adv - x
    order = np.argsort(-np.abs(shift), kind="stable")
    order = order[np.abs(shift[order]) > 0][:20]
    if order.size == 0:
        order = np.arange(min(x.size, 20))
    fig = go.Figure(go.Bar(
        x=shift[order][::-1], y=[names[j] for j in order][::-1], orientation="h",
        marker_color=[POSITIVE_COLOR if v > 0 else NEGATIVE_COLOR for v in shift[order][::-1]],
        customdata=np.column_stack([x[order][::-1], adv[order][::-1]]),
        hovertemplate="%{y}<br>%{customdata[0]:.4g} → %{customdata[1]:.4g}<br>change %{x:.4g}<extra></extra>",
    ))
    fig.update_layout(title=title, xaxis_title="change (input units)", template="plotly_white",
                      height=max(300, 28 * len(order) + 120))
    return fig


def _text_example(result: RobustnessResult, index: int) -> go.Figure:
    texts, adv = result.texts or (), result.adversarial_texts or ()
    edits = result.min_epsilon[index]
    status = ("already wrong" if edits == 0 else "not flipped within the budget" if np.isnan(edits)
              else f"flipped with {int(edits)} token edit(s)")
    fig = go.Figure(go.Table(
        header=dict(values=["", "text", "prediction"], align="left"),
        cells=dict(values=[
            ["original", "attacked"],
            [display_text(texts[index]) if texts else "", display_text(adv[index]) if adv else ""],
            [_label(result, int(result.predictions[index])),
             _label(result, int(result.adversarial_predictions[-1, index]))],
        ], align="left", height=30),
        columnwidth=[1, 8, 2],
    ))
    fig.update_layout(title=f"Example {index}: {status}", template="plotly_white", height=260)
    return fig


def explanation_shift(result: RobustnessResult) -> go.Figure:
    """For every flipped example, how far its explanation moved: rank correlation of
    |attribution| before vs after against the attack size that flipped it. Points near
    1 mean the explanation stayed put while the decision flipped."""
    if result.rank_correlation is None:
        raise InputError("This result has no explanations; run explain.robustness(..., explain_method='saliency').")
    moved = np.isfinite(result.rank_correlation)
    fig = go.Figure(go.Scatter(
        x=result.min_epsilon[moved], y=result.rank_correlation[moved], mode="markers",
        customdata=np.column_stack([np.flatnonzero(moved), result.topk_overlap[moved]]),
        marker=dict(color=result.topk_overlap[moved], colorscale="Viridis", cmin=0, cmax=1,
                    colorbar=dict(title="top-k kept"), size=9),
        hovertemplate="example %{customdata[0]}<br>epsilon %{x:.3g}<br>rank correlation %{y:.2f}"
                      "<br>top-k kept %{customdata[1]:.0%}<extra></extra>",
    ))
    method = display_text(result.params.get("explain_method") or "")
    fig.update_layout(title=f"How much the {method} explanation moved when the label flipped",
                      xaxis_title=_axis_title(result), yaxis=dict(title="rank correlation before/after",
                                                                 range=[-1.05, 1.05]),
                      template="plotly_white")
    return fig
