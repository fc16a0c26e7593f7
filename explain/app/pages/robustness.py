"""Robustness: how little it takes to change the model's mind, and what that does to its
explanations."""

from __future__ import annotations

import streamlit as st

from explain.app import cache, charts, page, robust, tables
from explain.app.persist import kept


def render() -> None:
    """The Robustness page."""
    page.setup("Robustness")
    st.title("Robustness")
    model, data = page.require_loaded()
    if model.task != "classification":
        st.info("Robustness measures how easily a classifier's label flips; this model is a regression. "
                "The Uncertainty page gives its prediction intervals.")
        st.stop()
    if data.y is None:
        st.warning("The dataset has no labels, and accuracy under attack needs them. Load it again with its label column.")
        st.stop()

    text = model.modality == "text"
    first, second, third = st.columns(3)
    with first:
        attack = "text" if text else kept(st.selectbox, "Attack", key="robust.attack", default="pgd",
                                          options=["pgd", "fgsm"],
                                          help="PGD: many small steps (stronger). FGSM: one step.")
        norm = "linf" if text or attack == "fgsm" else kept(
            st.selectbox, "Norm", key="robust.norm", default="linf", options=["linf", "l2"])
        if text:
            st.caption("Text: a search over token substitutions and deletions; epsilon counts tokens changed.")
    with second:
        unit = {"tabular": "standard deviations of each feature", "image": "pixel units",
                "text": "tokens changed"}[model.modality]
        typed = kept(st.text_input, f"Epsilons ({unit})", key=f"robust.eps.{norm}",
                     default=robust.epsilons_text(model.modality, norm))
        steps = 20 if text or attack == "fgsm" else kept(st.number_input, "PGD steps", key="robust.steps",
                                                         default=20, min_value=1, max_value=500)
    with third:
        n_rows = kept(st.slider, "Rows attacked", key="robust.rows", default=min(20 if text else 100, len(data)),
                      min_value=1, max_value=min(len(data), 1000), help="A random sample (seed 0) of the dataset.")
        immutable = []
        if model.modality == "tabular" and data.feature_names:
            immutable = kept(st.multiselect, "Features that never move", key="robust.immutable", default=[],
                             options=list(data.feature_names), help="e.g. age, sex: the attack leaves them as they are.")

    epsilons = robust.parse_epsilons(typed)
    if epsilons is None:
        st.stop()
    rows = tables.sample_rows(len(data), int(n_rows))
    options = {"attack": attack, "norm": norm, "epsilons": epsilons}
    if not text:
        options |= {"steps": int(steps), "immutable": list(immutable) or None}
    run = cache.run_button()
    result = robust.attack(rows, compute_now=run, **options)
    if result is None:
        st.info("Choose the attack and its sizes, then press **Run**.")
        st.stop()

    st.subheader(result.verdict())
    st.dataframe(result.curve, hide_index=True)
    choices = robust.flipped_choices(result, rows)
    picked = st.selectbox("Flipped example", list(choices), key="robust.example") if choices else None
    index = choices[picked] if picked else None
    charts.pairs(robust.charts(result, rows, index), "robust")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
