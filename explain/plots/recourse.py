"""Plots of counterfactuals: a table of a query beside its counterfactuals with the changed
cells marked, and the changes in MAD units as bars.

Example:
    >>> import numpy as np
    >>> from explain.results import Counterfactuals
    >>> cf = Counterfactuals(feature_names=("age", "income"), queries=np.array([[30.0, 10.0]]),
    ...                      values=np.array([[30.0, 14.0]]), query_index=np.array([0]),
    ...                      validity=np.array([True]), sparsity=np.array([1]), proximity=np.array([0.4]),
    ...                      plausibility=np.array([0.1]), prediction=np.array([1.0]),
    ...                      query_prediction=np.array([0.0]), diversity=np.array([np.nan]),
    ...                      targets=("yes",), reasons=("",), outputs=("no", "yes"), task="classification")
    >>> fig = counterfactual_table(cf, 0)
    >>> fig.data[0].type, list(fig.data[0].header.values)
    ('table', ['feature', 'query', 'counterfactual 0'])
    >>> counterfactual_changes(cf, 0).data[0].type
    'bar'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from explain.errors import InputError
from explain.plots._common import NEGATIVE_COLOR, POSITIVE_COLOR, display_text

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import Counterfactuals

__all__ = ["counterfactual_table", "counterfactual_changes"]

_CHANGED = "#fddbc7"


def _rows(result: Any, index: int, plot_name: str) -> tuple[int, np.ndarray]:
    if not hasattr(result, "query_index"):
        raise InputError(f"{plot_name} plots an explain.Counterfactuals, got {type(result).__name__}; compute one "
                         "with explain.counterfactuals(model, data, queries, target=...).")
    if not isinstance(index, (int, np.integer)) or not -len(result) <= int(index) < len(result):
        raise InputError(f"index must be a query number from 0 to {len(result) - 1}, got {index!r}.")
    index = int(index) % len(result)
    return index, result.values[result.query_index == index]


def _label(result: Counterfactuals, value: float) -> str:
    if result.task == "classification" and 0 <= int(value) < len(result.outputs):
        return display_text(result.outputs[int(value)])
    return f"{value:.4g}"


def counterfactual_table(result: Counterfactuals, index: int = 0, *, changed_only: bool = False) -> go.Figure:
    """Query ``index`` and its counterfactuals as table columns, one row per feature, the
    changed cells shaded; the last rows give the prediction and the measures. A query
    without counterfactuals shows why in the title.

    Raises:
        InputError: not a Counterfactuals, or an index out of range.
    """
    index, mine = _rows(result, index, "counterfactual_table")
    query = result.queries[index]
    features = range(len(result.feature_names))
    if changed_only and len(mine):
        features = [j for j in features if (mine[:, j] != query[j]).any()]
    picked = result.query_index == index
    header = ["feature", "query"] + [f"counterfactual {k}" for k in range(len(mine))]
    names = [display_text(result.feature_names[j]) for j in features] + \
        ["prediction", "features changed", "proximity (MAD)", "plausibility (MAD)", "robustness"]
    columns = [names, [f"{query[j]:.4g}" for j in features] + [_label(result, result.query_prediction[index]), "", "", "",
                                                                 ""]]
    fills = [["white"] * len(names), ["white"] * len(names)]
    for k, row in enumerate(mine):
        columns.append([f"{row[j]:.4g}" for j in features] + [
            _label(result, result.prediction[picked][k]), str(int(result.sparsity[picked][k])),
            f"{result.proximity[picked][k]:.3g}", f"{result.plausibility[picked][k]:.3g}",
            f"{result.robustness[picked][k]:.0%}" if np.isfinite(result.robustness[picked][k]) else "-"])
        fills.append([_CHANGED if row[j] != query[j] else "white" for j in features] + ["white"] * 5)
    fig = go.Figure(go.Table(header={"values": header, "fill_color": "#f0f0f0"},
                             cells={"values": columns, "fill_color": fills}))
    reason = result.reasons[index]
    title = f"Query {index}: target {display_text(result.targets[index])}" + (
        f" ({display_text(reason)})" if reason else "")
    fig.update_layout(title=title, height=160 + 26 * len(names))
    return fig


def counterfactual_changes(result: Counterfactuals, index: int = 0) -> go.Figure:
    """Each counterfactual's changes to query ``index`` in MAD units of the reference data
    (grouped bars per changed feature; red up, blue down).

    Raises:
        InputError: not a Counterfactuals, or an index out of range.
    """
    index, mine = _rows(result, index, "counterfactual_changes")
    query = result.queries[index]
    changed = [j for j in range(len(result.feature_names)) if len(mine) and (mine[:, j] != query[j]).any()]
    scale = np.asarray(result.params.get("scale", np.ones(len(query))), dtype=float)
    fig = go.Figure([go.Bar(x=[display_text(result.feature_names[j]) for j in changed],
                            y=[(row[j] - query[j]) / scale[j] for j in changed], name=f"counterfactual {k}",
                            marker_color=[POSITIVE_COLOR if row[j] > query[j] else NEGATIVE_COLOR for j in changed],
                            customdata=[[query[j], row[j]] for j in changed],
                            hovertemplate="%{x}: %{customdata[0]:.4g} → %{customdata[1]:.4g}<extra>%{fullData.name}</extra>")
                     for k, row in enumerate(mine)])
    fig.update_layout(barmode="group", title=f"Changes to query {index} (target {display_text(result.targets[index])})",
                      yaxis_title="change in MAD units", showlegend=len(mine) > 1)
    return fig
