"""Uncertainty: how sure the model is, whether it should be (calibration), prediction sets
with guaranteed coverage, and the least certain rows, each one click from its explanation."""

from __future__ import annotations

import streamlit as st

from explain.app import cache, charts, choices, page, sections
from explain.app.persist import kept


def render() -> None:
    """The Uncertainty page."""
    page.setup("Uncertainty")
    st.title("Uncertainty")
    st.caption("How sure the model is, whether it should be (calibration), and prediction sets with guaranteed coverage.")
    model, data = page.require_loaded()

    methods = choices.uncertainty_methods(model)
    conformal_methods, default_conformal = choices.conformal_methods(model.task)
    first, second, third = st.columns(3)
    with first:
        method = kept(st.selectbox, "Uncertainty from", key="unc.method", default=methods[0], options=methods,
                      help="mc_dropout: dropout left on, several passes. softmax: one pass. tta: noisy or "
                           "shifted copies of each input. (Ensembles: explain.uncertainty from Python.)")
        samples = kept(st.number_input, "Passes (MC dropout, TTA)", key="unc.samples", default=30,
                       min_value=2, max_value=500)
    with second:
        alpha = kept(st.select_slider, "Conformal level", key="unc.alpha", default=0.1,
                     options=[0.01, 0.02, 0.05, 0.1, 0.2, 0.3], format_func=lambda a: f"{1 - a:.0%} coverage")
        conformal = kept(st.selectbox, "Conformal method", key="unc.conformal", default=default_conformal,
                         options=conformal_methods,
                         help="Prediction sets: LAC (smallest on average, the default), RAPS (adaptive, "
                         "regularised), APS (adaptive; deterministic sets over-cover).")
    with third:
        rows = kept(st.slider, "Rows", key="unc.rows", default=min(500, len(data)), min_value=min(20, len(data)),
                    max_value=min(len(data), 5000), help="A random sample (seed 0); conformal sets are "
                    "calibrated on half of it and checked on the other half.")

    run = cache.run_button()
    section = sections.run_section("uncertainty", int(rows), compute_now=run, uncertainty_method=method,
                                   uncertainty_samples=int(samples), conformal_alpha=float(alpha),
                                   conformal_method=conformal)
    if section is None:
        st.info("Choose how to measure uncertainty, then press **Run**.")
        st.stop()

    sections.show_findings(section)
    unc = section.results.get("uncertainty")
    if unc is not None and unc.rows is not None:
        st.subheader("Least certain rows")
        st.caption("Open one on the Saliency page to see what drove the model there.")
        top = [int(r) for r in unc.most_uncertain(6)]
        with st.container(horizontal=True):
            for row in top:
                if st.button(f"Row {row}", key=f"unc.explain.{row}", icon=":material/search:"):
                    page.open_row(row)
    items = sections.charts(section)
    charts.pairs(items, "unc")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
