"""Home page of the explain dashboard: load a model and a dataset, see what they are.

Run with ``streamlit run app.py``; the pages in ``pages/`` explain what is loaded here.
"""

from __future__ import annotations

import streamlit as st

import explain
from explain.app import state

state.page_setup("Home")
st.title("explain")
st.write(
    "Explain and audit a PyTorch model: load a model and a dataset here, then open a page "
    "on the left (Saliency, …)."
)

source = state.kept(
    st.radio, "Model and data", key="home.source", default="Try an example",
    options=["Try an example", "Upload your own"], horizontal=True,
)

if source == "Try an example":
    names = explain.examples()
    name = state.kept(
        st.selectbox, "Example", key="home.example",
        default="breast_cancer" if "breast_cancer" in names else names[0], options=names,
        help="Small models trained on scikit-learn's datasets, with held-out data.",
    )
    if st.button("Load example", type="primary"):
        if state.load_example(name):
            st.success(f"Loaded the example {name!r}.")
else:
    left, right = st.columns(2)
    model_file = left.file_uploader(
        "Model", help="A Hugging Face folder as .zip, weights + config (.zip), .pt2, TorchScript or ONNX."
    )
    data_file = right.file_uploader(
        "Dataset", help="CSV or Parquet table, text CSV, .npz arrays, or a .zip of images in class folders."
    )
    guess, columns = state.target_guess(data_file)
    target = right.text_input(
        "Target column", value=guess,
        key=f"home.target.{getattr(data_file, 'file_id', 'none')}",
        help="The label column of a table; leave empty for no labels."
        + (f" Columns: {', '.join(columns[:30])}" if columns else ""),
    )
    if st.button("Load uploads", type="primary", disabled=model_file is None and data_file is None):
        if state.load_uploads(model_file, data_file, target):
            st.success("Loaded the uploads.")

st.divider()
model, data = state.current()
if model is None and data is None:
    st.info("Nothing loaded yet: pick an example and press **Load example**, or upload your own.")
else:
    state.show_summary()
    if model is not None and data is not None:
        st.page_link("pages/1_Saliency.py", label="Explain it: Saliency", icon="➡️")
