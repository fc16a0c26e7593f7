"""SHAP: each feature's share of the model's output, exact where it is cheap, sampled with
an error estimate where it is not."""

from __future__ import annotations

import streamlit as st

from explain.app import cache, charts, choices, compute, page, panels, tables, trust, widgets
from explain.app.persist import kept


def render() -> None:
    """The SHAP page."""
    page.setup("SHAP")
    st.title("SHAP")
    model, data = page.require_loaded()
    _, held_data = page.held()

    first, second, third = st.columns(3)
    with first:
        algorithm = kept(st.selectbox, "Algorithm", key="shap.algorithm", default="auto",
                         options=choices.shap_algorithms(),
                         help="auto: exact up to 14 features (12 for images and text), else Kernel SHAP.")
        samples = kept(st.number_input, "Samples (0: the algorithm's default)", key="shap.samples", default=0,
                       min_value=0, max_value=100_000, step=100)
    with second:
        row = widgets.row_picker(data, held_data.fingerprint)
    with third:
        n_rows = kept(st.slider, "Rows explained", key="shap.rows", default=min(50, len(data)),
                      min_value=1, max_value=min(len(data), 500),
                      help="A random sample (seed 0) of the dataset, plus the chosen row.")
    rows = sorted(set(tables.sample_rows(len(data), n_rows)) | {row}) if model.modality == "tabular" else [row]

    run = cache.run_button()
    sv = compute.shap_values(rows, compute=run, algorithm=algorithm, n_samples=int(samples) or None)
    if sv is None:
        st.info("Choose the rows and the algorithm, then press **Run**.")
        st.stop()

    st.caption(panels.shap_caption(sv))
    feature = None
    if sv.modality == "tabular" and sv.feature_names:
        top = sorted(sv.feature_names, key=lambda f: -abs(sv.values[:, sv.feature_names.index(f)]).mean())
        feature = st.selectbox("Dependence plot of", top, key="shap.feature")
    trust.badge(sv, rows, key="shap")
    charts.pairs(panels.shap_charts(sv, rows, row, feature), "shap")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
