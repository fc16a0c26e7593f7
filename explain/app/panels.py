"""Charts of the SHAP and Attention pages, each with the table behind it (for its CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from explain import plots
from explain.app import state, tables
from explain.app.saliency import Chart
from explain.results import AttentionMaps, Attribution

__all__ = ["shap_charts", "attention_charts", "shap_caption"]


def shap_caption(sv: Attribution) -> str:
    """Algorithm, masker, and how exactly the values add up to the model's output."""
    text = (f"Algorithm **{sv.params.get('algorithm')}**; {sv.params.get('masker')}. Values plus the base value "
            f"equal the model's output to within {float(np.abs(sv.delta).max()):.1e}.")
    if sv.stderr is not None:
        text += f" Sampling error (standard error): {float(np.mean(sv.stderr[sv.stderr > 0]) if (sv.stderr > 0).any() else 0):.2g} on average."
    return text


def shap_charts(sv: Attribution, rows: Sequence[int], row: int, feature: str | None) -> list[Chart]:
    """Tables: the row's waterfall, mean |SHAP|, the beeswarm and a dependence plot; images
    and text: the row's heatmap."""
    rows = [int(r) for r in rows]
    i = rows.index(row) if row in rows else 0
    one = sv[i]
    out = []
    if sv.modality == "tabular":
        whole = tables.attribution_frame(sv, rows)
        for stem, make in (("waterfall", lambda: _titled(plots.waterfall(sv, i), f"example {i}", f"row {rows[i]}")),
                           ("mean_abs_shap", lambda: plots.global_importance(sv)),
                           ("beeswarm", lambda: plots.beeswarm(sv))):
            ok, fig = state.guarded(make)
            if ok:
                table = tables.attribution_frame(one, [rows[i]]) if stem == "waterfall" else whole
                out.append(Chart(f"shap_{stem}", fig, table, one if stem == "waterfall" else sv))
        if feature is not None:
            ok, fig = state.guarded(plots.dependence, sv, feature)
            if ok:
                j = list(sv.feature_names or []).index(feature)
                table = pd.DataFrame({"row": rows, "value": sv.inputs[:, j], "shap": sv.values[:, j]})
                out.append(Chart(f"shap_dependence_{j}", fig, table, sv))
        return out
    ok, fig = state.guarded(one.plot, index=0)
    if ok:
        out.append(Chart(f"shap_row{rows[i]}", fig, tables.attribution_frame(one, [rows[i]]), one))
    return out


def _titled(fig: Any, old: str, new: str) -> Any:
    return fig.update_layout(title=(fig.layout.title.text or "").replace(old, new, 1))


def attention_charts(maps: AttentionMaps, row: int, layer: int, head: int) -> list[Chart]:
    """The layers x heads grid, one head in detail, rollout and class relevance."""
    tokens = maps.tokens[0]
    weights = maps.example(0)
    grid = pd.DataFrame([
        {"row": row, "layer": l, "head": h, "query": q, "query_token": tokens[q], "key": k, "key_token": tokens[k],
         "weight": float(weights[l, h, q, k])}
        for l in range(weights.shape[0]) for h in range(weights.shape[1])
        for q in range(len(tokens)) for k in range(len(tokens))
    ])
    head_table = grid[(grid.layer == layer) & (grid.head == head)]
    out = [Chart(f"attention_grid_row{row}", plots.attention_grid(maps, 0), grid, maps),
           Chart(f"attention_L{layer}H{head}_row{row}", plots.attention_head(maps, 0, layer, head), head_table, maps)]
    for kind in ("rollout", "relevance"):
        if kind == "relevance" and maps.gradients is None:
            continue
        scores = (maps.rollout(0) if kind == "rollout" else maps.relevance(0))[0]
        table = pd.DataFrame({"row": row, "position": range(len(tokens)), "token": tokens, kind: scores})
        out.append(Chart(f"attention_{kind}_row{row}", plots.attention_scores(maps, 0, kind=kind), table, maps))
    return out
