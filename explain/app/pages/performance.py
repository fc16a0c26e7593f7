"""Performance: how well the model does on the labelled rows, and on the slices you define.

Headline figures with bootstrap intervals, the confusion matrix (counts or shares), the
per-class table, ROC and precision-recall curves, a binary model at any threshold, a
regression's residuals, and metrics per slice with the slices that differ flagged.
"""

from __future__ import annotations

import streamlit as st

from explain.app import charts, diagnose, page
from explain.app.persist import kept


def render() -> None:
    """The Performance page."""
    page.setup("Performance")
    st.title("Performance")
    st.caption("How well the model does on the dataset's labelled rows, overall, per class and on slices you define.")
    model, data = page.require_loaded()
    if data.y is None:
        st.info("The dataset has no labels, and performance needs them: load it again on Home with its label column.")
        st.stop()

    perf = diagnose.measure()
    if perf is None:
        st.stop()
    diagnose.show_headline(perf)

    if perf.task == "classification":
        st.subheader("Confusion matrix and curves")
        normalize = kept(st.toggle, "Shares of each true class", key="perf.normalize", default=False,
                         help="Each row of the confusion matrix as shares of its true class (recall on the diagonal).")
        charts.pairs(diagnose.curves(perf, normalize), "perf")
        st.subheader("Per class")
        diagnose.per_class(perf)
        if perf.threshold_points is not None:
            st.subheader("Threshold")
            diagnose.show_threshold(perf, normalize)
    else:
        st.subheader("Residuals")
        charts.show(diagnose.curves(perf, False)[0], "perf-residuals")  # two panels: full width

    diagnose.show_slices(model, data)


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
