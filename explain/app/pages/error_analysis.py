"""Error analysis: where the model fails, and for whom. A shallow tree on the model's errors
finds the cohorts that err most (tested on held-out rows, with the false discovery rate
controlled); pick one to see its rows, its figures against the rest, and what drives the
model there."""

from __future__ import annotations

import streamlit as st

from explain.app import cohorts, diagnose, page


def render() -> None:
    """The Error analysis page."""
    page.setup("Error analysis")
    st.title("Error analysis")
    st.caption("Which cohorts of rows carry the model's errors, found without being told where to look.")
    model, data = page.require_loaded()
    if data.y is None:
        st.info("The dataset has no labels, so there are no errors to analyse: load it again on Home with its "
                "label column.")
        st.stop()

    result = cohorts.analysis(model, data)
    if result is None:
        st.info("Choose how deep to search and the columns to use, then press **Run**.")
        st.stop()

    cohorts.show_verdict(result)
    st.subheader("Cohorts")
    cohorts.overview(result)

    st.subheader("One cohort")
    cohort = cohorts.pick(result)
    if cohort is None:
        st.info("There is no cohort to look into: no branch of the tree errs more than the rest.")
    else:
        perf = diagnose.measure()  # the predictions row by row (cached, shared with the Performance page)
        cohorts.show_cohort(model, data, cohort, perf)

    cohorts.show_heatmap(result)


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
