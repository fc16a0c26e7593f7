"""Saliency: which inputs drove the model's output, by Captum attribution methods.

Pick a method (with its options), optionally a second one to compare, and the example to
explain; for tables, the global importance over a random sample of rows too.
"""

from __future__ import annotations

import streamlit as st

from explain.app import cache, page, panels, saliency, tables, widgets
from explain.app.persist import kept


def render() -> None:
    """The Saliency page."""
    page.setup("Saliency")
    st.title("Saliency")
    model, data = page.require_loaded()
    _, held_data = page.held()

    first, second, third = st.columns(3)
    with first:
        method, options = widgets.method_picker(model, "a", "Method", default="integrated_gradients")
    with second:
        other, other_options = widgets.method_picker(model, "b", "Compare with", optional=True)
    with third:
        row = widgets.row_picker(data, held_data.fingerprint)
        sample = None
        if model.modality == "tabular" and len(data) > 1:
            n_rows = kept(
                st.slider, "Rows sampled for the global view", key="saliency.rows",
                default=min(100, len(data)), min_value=1, max_value=min(len(data), 1000),
                help="Global importance: mean |attribution| over this many rows drawn at random (seed 0).",
            )
            sample = tables.sample_rows(len(data), n_rows)

    run = cache.run_button()
    chosen = [(method, options)] + ([(other, other_options)] if other else [])
    results = [saliency.explain_rows(m, o, row, sample, run=run) for m, o in chosen]
    if all(r is None for r in results):
        st.info("Choose a method and an example, then press **Run**.")
        st.stop()

    if data.labels is not None:
        what = {"image": "Image", "text": "Text"}.get(data.modality, "Row")
        st.caption(f"{what} {row}: labelled **{data.labels[row]}** in the dataset.")
    panels.show_results(results, [m for m, _ in chosen], model.modality)


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
