"""Saliency: which inputs drove the model's output, by Captum attribution methods."""

from __future__ import annotations

import streamlit as st

import explain
from explain.app import state

state.page_setup("Saliency")
st.title("Saliency")
model, data = state.require_loaded()

available = explain.methods(model)
chosen = st.session_state.get("saliency.method", "integrated_gradients")
left, middle, right = st.columns(3)
with left:
    method = state.kept(
        st.selectbox, "Method", key="saliency.method",
        default="integrated_gradients" if "integrated_gradients" in available else available[0],
        options=available,
        help=explain.method_info(chosen)["summary"] if chosen in available else None,
    )
    st.caption(f"{method}: {explain.method_info(method)['summary']}")
with middle:
    row = state.kept(
        st.number_input, "Example (row) to explain", key="saliency.row", default=0,
        min_value=0, max_value=len(data) - 1, step=1,
    )
n_rows = None
if model.modality == "tabular":
    with right:
        n_rows = state.kept(
            st.slider, "Rows for the global view", key="saliency.rows", default=min(100, len(data)),
            min_value=1, max_value=min(len(data), 1000),
        )

run = st.button("Run", type="primary")
if state.was_cancelled():
    st.info("Cancelled. Press **Run** to start again.")
result = state.saliency(method, int(row), n_rows, compute=run)
if result is None:
    st.info("Choose a method and an example, then press **Run**.")
    st.stop()

labels = data.labels
if labels is not None:
    st.caption(f"Row {result.row}: labelled **{labels[result.row]}** in the dataset.")
figures = state.saliency_figures(result)
for column, (stem, fig) in zip(st.columns(len(figures) or 1), figures.items()):
    with column:
        st.plotly_chart(fig, key=f"chart-{stem}")
        state.download_figure(fig, stem)
state.download_json(result.example, f"{method}_row{result.row}", "Download this row's attributions (JSON)")
if result.overall is not None:
    state.download_json(result.overall, f"{method}_{len(result.overall)}rows",
                        f"Download the {len(result.overall)} rows' attributions (JSON)")
