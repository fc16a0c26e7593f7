"""SHAP-style plots of one tabular result: a waterfall for one example and a dependence
scatter for one feature.

Example:
    >>> import numpy as np
    >>> from explain.results import Attribution
    >>> from explain.plots import waterfall
    >>> a = Attribution(values=np.array([[1.0, -0.5, 0.25]]), method="shap", target=np.array([0]),
    ...                 modality="tabular", feature_names=("a", "b", "c"),
    ...                 base_values=np.array([2.0]), outputs=np.array([2.75]))
    >>> list(waterfall(a).data[0].y)
    ['E[f(x)]', 'a = ?', 'b = ?', 'c = ?', 'f(x)']
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explain.errors import InputError
from explain.plots._common import (
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    check_index,
    check_modality,
    display_text,
    example_title,
)
from explain.results import Attribution

__all__ = ["waterfall", "dependence", "strongest_interaction"]


def _names(attr: Attribution) -> list[str]:
    width = attr.values.shape[1]
    return [display_text(n) for n in attr.feature_names] if attr.feature_names else [f"x{i}" for i in range(width)]


def waterfall(attr: Attribution, index: int = 0, *, max_display: int = 12) -> go.Figure:
    """From the base value to the model's output, one bar per feature (largest first);
    features past ``max_display - 1`` are summed into one bar."""
    check_modality(attr, "tabular", "waterfall")
    i = check_index(attr, index)
    if attr.base_values is None:
        raise InputError("waterfall needs base values: use explain.shap_values or a baseline method.")
    values = np.asarray(attr.values[i], dtype=float)
    names = _names(attr)
    order = np.argsort(-np.abs(values), kind="stable")
    shown, rest = order[: max(1, max_display - 1)], order[max(1, max_display - 1):]
    data = None if attr.inputs is None else attr.inputs[i]
    labels = [f"{names[j]} = {'?' if data is None else f'{data[j]:.4g}'}" for j in shown]
    steps = [float(values[j]) for j in shown]
    if len(rest):
        labels.append(f"{len(rest)} other features")
        steps.append(float(values[rest].sum()))
    base = float(np.asarray(attr.base_values)[i])
    end = base + float(values.sum())
    fig = go.Figure(go.Waterfall(
        orientation="h",
        y=["E[f(x)]", *labels, "f(x)"],
        x=[base, *steps, end],
        measure=["absolute", *["relative"] * len(steps), "total"],
        increasing={"marker": {"color": POSITIVE_COLOR}},
        decreasing={"marker": {"color": NEGATIVE_COLOR}},
        totals={"marker": {"color": "#777777"}},
        text=[f"{base:.4g}", *[f"{s:+.4g}" for s in steps], f"{end:.4g}"],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}<br>%{text}<extra></extra>",
    ))
    fig.update_layout(
        title=example_title(attr, i), yaxis={"autorange": "reversed"}, xaxis={"title": "model output"},
        height=160 + 30 * (len(labels) + 2), margin={"l": 10, "r": 70},
    )
    return fig


def strongest_interaction(attr: Attribution, feature: int) -> int | None:
    """The other feature whose value best explains the spread of ``feature``'s attribution
    at similar values of ``feature`` (rows sorted by it, |correlation| summed over bins)."""
    x = attr.inputs
    if x is None or x.shape[1] < 2 or len(x) < 4:
        return None
    order = np.argsort(x[:, feature], kind="stable")
    bins = np.array_split(order, max(1, len(order) // 10))
    scores = np.zeros(x.shape[1])
    for rows in bins:
        if len(rows) < 3:
            continue
        y = attr.values[rows, feature]
        for k in range(x.shape[1]):
            if k == feature or np.std(x[rows, k]) == 0 or np.std(y) == 0:
                continue
            scores[k] += abs(np.corrcoef(y, x[rows, k])[0, 1])
    scores[feature] = -1
    best = int(np.argmax(scores))
    return best if scores[best] > 0 else None


def dependence(attr: Attribution, feature: int | str, *, color_by: int | str | None = "auto") -> go.Figure:
    """Attribution of ``feature`` against its value, one point per example, coloured by
    the strongest interacting feature (``color_by="auto"``), another feature, or nothing."""
    check_modality(attr, "tabular", "dependence")
    names = _names(attr)
    j = _feature_index(names, feature)
    if attr.inputs is None:
        raise InputError("dependence needs the feature values (attr.inputs); explain rows of a dataset.")
    k = strongest_interaction(attr, j) if color_by == "auto" else (
        None if color_by is None else _feature_index(names, color_by))
    marker: dict = {"size": 7, "opacity": 0.8}
    if k is not None:
        marker.update(color=attr.inputs[:, k], colorscale="RdBu_r", showscale=True,
                      colorbar={"title": {"text": names[k]}})
    fig = go.Figure(go.Scatter(
        x=attr.inputs[:, j], y=attr.values[:, j], mode="markers", marker=marker,
        hovertemplate=f"{names[j]} = %{{x:.4g}}<br>attribution %{{y:.4g}}<extra></extra>",
    ))
    fig.add_hline(y=0, line={"color": "#999999", "width": 1})
    fig.update_layout(title=f"{attr.method}: dependence on {names[j]}",
                      xaxis={"title": names[j]}, yaxis={"title": f"attribution of {names[j]}"})
    return fig


def _feature_index(names: list[str], feature: int | str) -> int:
    if isinstance(feature, str):
        if display_text(feature) not in names:
            raise InputError(f"No feature named {feature!r}; features are {names[:10]}...")
        return names.index(display_text(feature))
    if not 0 <= int(feature) < len(names):
        raise InputError(f"feature index {feature} is out of range for {len(names)} features.")
    return int(feature)
