"""Compare: the loaded model beside a lighter copy of itself (int8 weights, or pruned at a
chosen share), side by side: agreement, accuracy, calibration, size and latency, the
per-class changes, whether it decides for the same reasons, the rows where the two
disagree with both explanations, and the pruning sweep."""

from __future__ import annotations

import streamlit as st

from explain.app import page, pairs_view


def render() -> None:
    """The Compare page."""
    page.setup("Compare")
    st.title("Compare")
    st.caption("The model beside a lighter version of itself: does it keep its accuracy, and its reasons?")
    model, _data = page.require_loaded()

    chosen = pairs_view.choose(model)
    run = pairs_view.run_button()
    result = pairs_view.compute_pair(chosen, run)
    if result is None:
        st.info("Choose the second model (or upload its file), then press **Compare**.")
        st.stop()
    pairs_view.show(result)

    st.subheader("Pruning sweep")
    pairs_view.sweep(st.button("Run the sweep", key="compare.sweep"))


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
