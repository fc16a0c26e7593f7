"""Charts of the Saliency, SHAP and Attention pages, each with the table behind it (for its
CSV), and how the Saliency page lays out one or two methods' results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explain import plots
from explain.app import charts, page, saliency, tables, trust
from explain.app.charts import Chart
from explain.app.saliency import SaliencyResult
from explain.results import AttentionMaps, Attribution

__all__ = ["attention_charts", "quality_badge", "shap_caption", "shap_charts", "show_results"]


def show_results(results: Sequence[SaliencyResult | None], methods: Sequence[str], modality: str) -> None:
    """One method's charts (tabular: the row and the global view side by side), or two
    methods' charts side by side, with the rank agreement of the two on the row."""
    if len(results) == 1 and results[0] is not None:
        items = saliency.charts(results[0])
        cells = st.columns(len(items)) if modality == "tabular" and items else [st.container() for _ in items]
        for k, (cell, item) in enumerate(zip(cells, items)):
            with cell:
                charts.show(item, f"a{k}")
        quality_badge(results[0])
        return
    first, second = results[0], results[1]
    if first is not None and second is not None:
        rho = tables.rank_agreement(first.example.values, second.example.values)
        st.caption(f"Rank agreement of {methods[0]} and {methods[1]} on this example (Spearman, by "
                   f"magnitude): **{rho:.2f}** (1: same ranking, 0: unrelated).")
    per = [saliency.charts(r) if r is not None else [] for r in results]
    for k in range(max(len(p) for p in per) or 1):
        for slot, (cell, items, method) in enumerate(zip(st.columns(2), per, methods)):
            with cell:
                if k < len(items):
                    charts.show(items[k], f"{'ab'[slot]}{k}")
                elif k == 0:
                    st.info(f"Press **Run** to compute {method}.")
    for cell, result in zip(st.columns(2), results):
        with cell:
            if result is not None:
                quality_badge(result)


def quality_badge(result: SaliencyResult) -> None:
    """The faithfulness badge of a result: on the sampled rows where there are some (a
    steadier verdict), else on the row."""
    if result.overall is not None and result.sample:
        trust.badge(result.overall, list(result.sample), key=result.method)
    else:
        trust.badge(result.example, [result.row], key=result.method)


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
            ok, fig = page.guarded(make)
            if ok:
                table = tables.attribution_frame(one, [rows[i]]) if stem == "waterfall" else whole
                out.append(Chart(f"shap_{stem}", fig, table, one if stem == "waterfall" else sv))
        if feature is not None:
            ok, fig = page.guarded(plots.dependence, sv, feature)
            if ok:
                j = list(sv.feature_names or []).index(feature)
                table = pd.DataFrame({"row": rows, "value": sv.inputs[:, j], "shap": sv.values[:, j]})
                out.append(Chart(f"shap_dependence_{j}", fig, table, sv))
        return out
    ok, fig = page.guarded(one.plot, index=0)
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
