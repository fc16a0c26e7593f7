"""The Compare page's work: the second model (one click: the model's int8 copy, or the
model pruned at a chosen share; or an uploaded model file), then the two side by side (agreement, accuracy, ECE,
size and latency; per-class changes; the explanation similarity; the rows where they
disagree, each with both explanations) and, on a button, the pruning sweep. The
computations go through :mod:`explain.app.compute` (cached, with progress and Cancel)
and run where the model lives (its worker for an upload).

An uploaded second model is loaded only in a worker process, as the Home page's uploads
are (:func:`explain.app.tasks.comparison_with_upload`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explain.app import cache, charts, compute
from explain.app.charts import Chart
from explain.app.persist import kept
from explain.app.remote import SessionModel

__all__ = ["SECOND", "SWEEP_AMOUNTS", "choose", "metrics", "show", "sweep"]

SECOND = ("Quantise to int8", "Prune at", "Upload a model")
"""The second model: one click (int8, pruned), or a file."""

SWEEP_AMOUNTS = (0.2, 0.4, 0.6, 0.8)
"""The pruning amounts of the sweep."""


def choose(model: SessionModel) -> dict[str, Any]:
    """The second model, the attribution method and the rows explained: a dict for :func:`compute_pair`."""
    left, right = st.columns([2, 1])
    second = kept(left.radio, "Second model", key="compare.second", default=SECOND[0], options=list(SECOND),
                  horizontal=True, help="A lighter copy of the loaded model, made in one click, or another model "
                  "file (a distilled student, a retrained version) that takes the same inputs.")
    amount = kept(left.slider, "Prune at (share of weights set to 0)", key="compare.amount", default=0.5,
                  min_value=0.05, max_value=0.95, step=0.05) if second == SECOND[1] else 0.0
    upload = left.file_uploader("Second model file", key="compare.upload",
                                help="Any format Home takes (.pt2, TorchScript, ONNX, a zip); loaded in a worker "
                                     "process, as Home's uploads are.") if second == SECOND[2] else None
    methods = [m for m in ("saliency", "integrated_gradients", "feature_ablation") if m in model.methods] or \
        list(model.methods)[:1]
    method = kept(right.selectbox, "Attribution method", key="compare.method", default=methods[0], options=methods)
    rows = kept(right.slider, "Rows explained", key="compare.rows", default=100, min_value=10, max_value=500,
                step=10)
    if second == SECOND[2]:
        return {"upload": None if upload is None else (upload.getvalue(), upload.name), "explain_method": method,
                "rows": int(rows)}
    return {"method": "quantize" if second == SECOND[0] else "prune", "amount": float(amount),
            "explain_method": method, "rows": int(rows)}


def compute_pair(chosen: dict[str, Any], run: bool) -> Any:
    """The comparison from the cache, or computed now when ``run`` (None otherwise, and
    while an upload is chosen but no file given)."""
    if "upload" in chosen:
        if chosen["upload"] is None:
            return None
        data, name = chosen["upload"]
        return compute.comparison_with_upload(data, name, compute=run, explain_method=chosen["explain_method"],
                                              rows=chosen["rows"])
    return compute.comparison(compute=run, **chosen)


def metrics(c: Any) -> dict[str, str]:
    """The headline figures as the page shows them: agreement, accuracy, ECE, size, latency."""
    shown = {"Agreement": f"{100 * c.agreement:.1f}%" if c.task == "classification"
             else f"{c.agreement:.4g} apart"}
    if c.accuracy is not None:
        key, fmt = ("Accuracy", "{:.1%}") if c.task == "classification" else ("Mean absolute error", "{:.4g}")
        shown[key] = f"{fmt.format(c.accuracy[0])} → {fmt.format(c.accuracy[1])}"
    if c.ece is not None:
        shown["ECE"] = f"{c.ece[0]:.3f} → {c.ece[1]:.3f}"
    a, b = c.size
    shown["Size"] = f"{a['stored_bytes'] / 1e6:.3g} → {b['stored_bytes'] / 1e6:.3g} MB"
    shown["Latency"] = f"{1e3 * c.latency[0]:.3g} → {1e3 * c.latency[1]:.3g} ms/row"
    shown["Explanation similarity"] = f"{c.explanation_similarity:.3f}"
    return shown


def show(c: Any) -> None:
    """The figures side by side, the per-class table and the disagreeing rows."""
    items = list(metrics(c).items())
    for start in range(0, len(items), 3):  # three to a line: "a → b" needs the width
        for cell, (label, value) in zip(st.columns(3), items[start:start + 3]):
            cell.metric(label, value)
    flips = c.flips or {}
    st.caption(f"{c.names[1]} beside {c.names[0]} on {c.n} rows: {len(c.disagreeing)} change their prediction; "
               f"McNemar p {c.mcnemar_p:.2g} ({flips.get('a_right_b_wrong', 0)} right → wrong, "
               f"{flips.get('a_wrong_b_right', 0)} wrong → right); attributions by {c.method}.")
    items = []
    if c.recall_a is not None:
        items.append(Chart("compare_classes", c.plot("classes"), c.per_class(), c))
    sampled = np.asarray(c.sampled, dtype=bool)
    items.append(Chart("compare_similarity", c.plot("similarity"),
                       pd.DataFrame({"row": np.asarray(c.rows)[np.asarray(c.explained)[sampled]],
                                     "spearman": np.asarray(c.spearman)[sampled]}), c))
    charts.pairs(items, "compare-")
    shown = np.intersect1d(np.asarray(c.disagreeing), np.asarray(c.explained))
    if not len(shown):
        st.info("The two models agree on every row: no disagreeing row to show.")
        return
    position = st.selectbox("Disagreeing row", options=shown.tolist(), key="compare.row",
                            format_func=lambda p: f"row {c.rows[int(p)]}")
    st.plotly_chart(c.plot("row", index=int(position)), key="compare-row")


def sweep(run: bool) -> None:
    """The pruning sweep (computed on the button) as a plot and a table."""
    found = compute.compression_sweep(compute=run, amounts=SWEEP_AMOUNTS, keep=0.99)
    if found is None:
        st.caption(f"Press **Run the sweep** to prune at {', '.join(f'{a:.0%}' for a in SWEEP_AMOUNTS)}.")
        return
    best = "none" if found.best is None else f"{found.best:.0%}"
    st.caption(f"The largest pruning amount that keeps agreement ≥ {found.keep:.0%}: {best}.")
    charts.show(Chart("compare_sweep", found.plot(), found.frame(), found), "compare-sweep")


def run_button(label: str = "Compare") -> bool:
    """The page's primary button (says so after a Cancel)."""
    return cache.run_button(label, "comparison")
