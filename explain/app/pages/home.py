"""Home page of the explain dashboard: load a model and a dataset, see what they are.

The other pages of :mod:`explain.app.navigation` explain what is loaded here.
"""

from __future__ import annotations

import streamlit as st

from explain.app import choices, lifecycle, navigation, page, widgets
from explain.app.persist import kept


def render() -> None:
    """The Home page."""
    page.setup("Home")
    st.title("explain")
    st.write(
        "Explain and audit a PyTorch model: load a model and a dataset here, then open a page "
        "on the left (Performance, Error analysis, Saliency, …)."
    )

    source = kept(
        st.radio, "Model and data", key="home.source", default="Try an example",
        options=["Try an example", "Upload your own"], horizontal=True,
    )

    if source == "Try an example":
        names = choices.examples()
        name = kept(
            st.selectbox, "Example", key="home.example",
            default="breast_cancer" if "breast_cancer" in names else names[0], options=names,
            help="Small models trained on scikit-learn's datasets, with held-out data.",
        )
        if st.button("Load example", type="primary"):
            if lifecycle.load_example(name):
                st.success(f"Loaded the example {name!r}.")
    else:
        left, right = st.columns(2)
        with left:
            model_file = st.file_uploader(
                "Model", key="home.model_file",
                help="A Hugging Face folder as .zip, weights + config (.zip), .pt2, TorchScript or ONNX.",
            )
            pending = lifecycle.pending_model(model_file)
            if pending is not None:
                st.caption(f"Read {pending.label}: {widgets.model_brief(pending.value)}")
            elif model_file is not None:
                st.caption("Correct its settings below, upload another model, or remove this file (×) "
                           "to load only the dataset.")
            if model_file is not None:
                widgets.model_settings(model_file, pending)
        with right:
            data_file = st.file_uploader(
                "Dataset", key="home.data_file",
                help="CSV or Parquet table, text CSV, .npz arrays, or a .zip of images in class folders.",
            )
            target, text, metadata = widgets.column_picker(data_file, pending if model_file else page.held()[0])
        ready = (model_file is None or pending is not None) and (model_file or data_file) is not None
        if st.button("Load uploads", type="primary", disabled=not ready):
            if lifecycle.load_uploads(model_file, data_file, target, text, metadata):
                st.success("Loaded the uploads.")

    st.divider()
    model, data = page.current()
    if model is None and data is None:
        st.info("Nothing loaded yet: pick an example and press **Load example**, or upload your own.")
    else:
        widgets.show_summary()
        if model is not None and data is not None:
            with st.container(horizontal=True):
                st.page_link(navigation.page("performance"), label="How well it does: Performance",
                             icon=":material/arrow_forward:")
                st.page_link(navigation.page("saliency"), label="Explain it: Saliency", icon=":material/arrow_forward:")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
