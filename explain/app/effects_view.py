"""The Feature effects page's work: which features (by default the top ones of a global
importance already computed on the Saliency page, else the first few), which view
(partial dependence with ICE lines, accumulated local effects, or a 2-D partial dependence
of two features), its options and the class to show, then the curves, each with its
downloads. The computations go through :mod:`explain.app.compute` (cached, with progress
and Cancel)."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from explain.app import cache, charts, compute, tables
from explain.app.charts import Chart
from explain.app.persist import kept
from explain.app.remote import SessionModel
from explain.core.dataset import Dataset

__all__ = ["KINDS", "default_features", "choose", "show"]

KINDS = ("PDP + ICE", "ALE", "2-D PDP")
"""The views: partial dependence with ICE lines, accumulated local effects, a pair's surface."""

DEFAULT_COUNT = 3
GLOBAL_ROWS = 100  # the Saliency page's default global view: this many rows (seed 0)


def default_features(model: SessionModel, data: Dataset, k: int = DEFAULT_COUNT) -> list[str]:
    """The ``k`` features with the largest mean |attribution| in a global view the Saliency
    page has already computed (integrated gradients, then saliency, on its default sample),
    else the first ``k`` features. Nothing is computed here."""
    names = list(data.feature_names or [])
    rows = tables.sample_rows(len(data), min(GLOBAL_ROWS, len(data)))
    for method in ("integrated_gradients", "saliency"):
        if method not in model.methods:
            continue
        found = compute.attribution(method, rows, compute=False)
        if found is not None:
            importance = np.abs(found.values).mean(axis=0).ravel()
            return [names[j] for j in np.argsort(-importance)[:k]]
    return names[:k]


def choose(model: SessionModel, data: Dataset) -> dict[str, Any]:
    """The view, its features and options, and the class: a dict for :func:`show`."""
    names = list(data.feature_names or [])
    kind = kept(st.radio, "View", key="effects.kind", default=KINDS[0], options=list(KINDS), horizontal=True,
                help="PDP: the mean output with the feature set to each value, ICE lines one row each. ALE: "
                     "local effects accumulated, honest when features are correlated. 2-D: two features at once.")
    left, right = st.columns([2, 1])
    if kind == "2-D PDP":
        first = kept(left.selectbox, "First feature", key="effects.a", default=names[0], options=names)
        second = kept(left.selectbox, "Second feature", key="effects.b", default=names[min(1, len(names) - 1)],
                      options=names)
        features: list[Any] = [(first, second)] if first != second else []
    else:
        features = kept(left.multiselect, "Features", key="effects.features",
                        default=default_features(model, data), options=names,
                        help="By default the top features of the Saliency page's global view, once it ran.")
    if kind == "ALE":
        resolution = kept(right.slider, "Bins", key="effects.bins", default=20, min_value=2, max_value=50)
    else:
        resolution = kept(right.slider, "Grid resolution", key="effects.grid", default=20, min_value=3, max_value=50)
    sample = kept(right.slider, "ICE curves (rows)", key="effects.ice", default=min(50, len(data)), min_value=1,
                  max_value=max(1, min(500, len(data)))) if kind == "PDP + ICE" and len(data) > 1 else 1
    classes = list(model.class_names or []) if model.task == "classification" else []
    output = kept(right.selectbox, "Class", key="effects.class", default=classes[-1], options=classes,
                  help="The probability of this class is shown.") if classes else None
    return {"kind": kind, "features": features, "resolution": int(resolution), "sample": int(sample),
            "output": output}


def compute_effects(chosen: dict[str, Any], run: bool) -> Any:
    """The chosen view's result from the cache, or computed now when ``run`` (None otherwise)."""
    if chosen["kind"] == "ALE":
        return compute.accumulated_effects(compute=run, features=chosen["features"], bins=chosen["resolution"])
    if chosen["kind"] == "2-D PDP":
        return compute.partial_dependence(compute=run, features=chosen["features"],
                                          grid_resolution=chosen["resolution"], sample=1, kind="average")
    return compute.partial_dependence(compute=run, features=chosen["features"], grid_resolution=chosen["resolution"],
                                      sample=chosen["sample"])


def show(result: Any, chosen: dict[str, Any]) -> None:
    """Each feature's figure with its downloads, two to a line."""
    items = []
    for feature in result.features:
        stem = "effects_" + ("_".join(feature) if isinstance(feature, tuple) else str(feature)).replace(" ", "_")
        if chosen["kind"] == "ALE":
            outputs = None if chosen["output"] is None else [chosen["output"]]
            figure, table = result.plot(feature, outputs=outputs), result.frame(feature)
        else:
            figure = result.plot(feature, output=chosen["output"])
            table = result.frame(feature)
        items.append(Chart(stem, figure, table, result))
    charts.pairs(items, "effects-")


def run_button() -> bool:
    """The page's Run button (says so after a Cancel)."""
    return cache.run_button()
