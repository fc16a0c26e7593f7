"""Fairness: how the model's decisions and errors differ between groups of people. Pick the
sensitive columns (and, with more than two classes, the favourable one) and press Run: the
verdict comes first, then the groups with their intervals, the disparities against chance,
how balanced the data are, what the model leans on in each group, whether decisions change
with the sensitive input alone, and a preview of per-group thresholds."""

from __future__ import annotations

import streamlit as st

from explain.app import groups, page


def render() -> None:
    """The Fairness page."""
    page.setup("Fairness")
    st.title("Fairness")
    st.caption("Whether the model treats groups of people differently, beyond what chance allows.")
    model, data = page.require_loaded()
    if data.y is None:
        st.info("The dataset has no labels, so the groups' errors cannot be measured: load it again on Home with "
                "its label column.")
        st.stop()

    result = groups.assessment(model, data)
    if result is None:
        st.info("Choose the sensitive columns, then press **Run**.")
        st.stop()

    groups.show_verdict(result)
    st.subheader("Groups")
    groups.show_groups(result)
    st.subheader("Disparities")
    groups.show_disparities(result)

    sensitive = list(result.sensitive)
    st.subheader("Data balance")
    groups.show_balance(sensitive)
    st.subheader("What the model leans on in each group")
    groups.show_importance(model, sensitive)
    if result.flips is not None:
        st.subheader("Changing only the sensitive input")
        groups.show_flips(result)
    if result.mitigation:
        st.subheader("Per-group thresholds")
        groups.show_mitigation(result)


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
