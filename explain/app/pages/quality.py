"""Explanation quality: how far each explanation can be trusted. Deletion and insertion
against random orderings (faithfulness), infidelity and max-sensitivity, the cascading
randomisation check (does the explanation depend on the weights?), and how far the methods
agree with each other."""

from __future__ import annotations

import streamlit as st

from explain.app import cache, charts, choices, page, tables, trust
from explain.app.persist import kept


def render() -> None:
    """The Explanation quality page."""
    page.setup("Explanation quality")
    st.title("Explanation quality")
    model, data = page.require_loaded()

    served = choices.methods(model)
    preferred = [m for m in ("integrated_gradients", "saliency", "guided_backprop" if model.modality == "image"
                             else "feature_ablation") if m in served] or served[:2]
    first, second = st.columns([2, 1])
    with first:
        chosen = kept(st.multiselect, "Methods", key="quality.methods", default=preferred[:3], options=served,
                      help="Each is checked on its own and against the others.")
    with second:
        limit = {"tabular": 100, "image": 16, "text": 12}[model.modality]
        n_rows = kept(st.slider, "Rows", key="quality.rows", default=min(limit // 2, len(data)), min_value=1,
                      max_value=min(len(data), limit * 2), help="A random sample (seed 0) of the dataset.")
        randomise = kept(st.checkbox, "Randomisation check", key="quality.sanity", default=True,
                         help="Re-explain with the model's layers randomised one by one, from the output down "
                              "(Adebayo et al., 2018). Slower: one attribution per layer.")
    rows = tables.sample_rows(len(data), int(n_rows))

    run = cache.run_button()
    if not chosen:
        st.info("Choose at least one method.")
        st.stop()
    done = []
    for method in chosen:
        outcome = trust.method_quality(method, rows, compute_now=run)
        check = trust.sanity(method, rows[: min(len(rows), 16)], compute_now=run) if randomise else None
        if outcome is not None:
            done.append((method, outcome[0], outcome[1], check))
    if not done:
        st.info("Choose the methods and rows, then press **Run**.")
        st.stop()

    for method, _attr, quality, check in done:
        st.subheader(method)
        trust.show_verdict(quality, check)
        curves, *cascade = trust.charts(quality, check)
        charts.show(curves, f"q-{method}-curves")  # two panels: full width
        for cell, (j, item) in zip(st.columns(2), enumerate(cascade)):
            with cell:
                charts.show(item, f"q-{method}-{j}")

    agreement = trust.agreement([attr for _, attr, _, _ in done])
    if agreement is not None:
        st.subheader("Agreement between methods")
        st.caption(f"Mean rank correlation {agreement.mean_rank_correlation:.2f}, mean top-{agreement.k} overlap "
                   f"{agreement.mean_top_k_overlap:.0%} over {agreement.n_examples} rows.")
        charts.show(trust.agreement_chart(agreement), "q-agreement")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
