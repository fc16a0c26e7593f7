"""SHAP: each feature's share of the model's output, exact where it is cheap, sampled with
an error estimate where it is not."""

from __future__ import annotations

import streamlit as st

from explain.app import compute, panels, state, tables, trust, widgets
from explain.attribution.shapley import ALGORITHMS


def render() -> None:
    """The SHAP page."""
    state.page_setup("SHAP")
    st.title("SHAP")
    model, data = state.require_loaded()
    _, held_data = state.held()

    first, second, third = st.columns(3)
    with first:
        algorithm = state.kept(st.selectbox, "Algorithm", key="shap.algorithm", default="auto",
                               options=list(ALGORITHMS),
                               help="auto: exact up to 14 features (12 for images and text), else Kernel SHAP.")
        samples = state.kept(st.number_input, "Samples (0: the algorithm's default)", key="shap.samples", default=0,
                             min_value=0, max_value=100_000, step=100)
    with second:
        row = widgets.row_picker(data, held_data.fingerprint)
    with third:
        n_rows = state.kept(st.slider, "Rows explained", key="shap.rows", default=min(50, len(data)),
                            min_value=1, max_value=min(len(data), 500),
                            help="A random sample (seed 0) of the dataset, plus the chosen row.")
    rows = sorted(set(tables.sample_rows(len(data), n_rows)) | {row}) if model.modality == "tabular" else [row]

    run = st.button("Run", type="primary")
    if state.was_cancelled():
        st.info("Cancelled. Press **Run** to start again.")
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
    charts = panels.shap_charts(sv, rows, row, feature)
    for k in range(0, len(charts), 2):
        for cell, (j, item) in zip(st.columns(2), enumerate(charts[k:k + 2], start=k)):
            with cell:
                widgets.chart(item, f"shap{j}")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
