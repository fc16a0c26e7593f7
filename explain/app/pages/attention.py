"""Attention: every layer and head of a transformer, one head in detail, rollout and the
class-specific relevance of each token or image patch."""

from __future__ import annotations

import streamlit as st

from explain.app import compute, panels, state, widgets


def render() -> None:
    """The Attention page."""
    state.page_setup("Attention")
    st.title("Attention")
    model, data = state.require_loaded()
    _, held_data = state.held()
    reason = model.attention_support
    if reason is not None:
        st.info(f"{reason} Try the bundled 'sentiment' or 'vit_digits' example.")
        st.stop()

    row = widgets.row_picker(data, held_data.fingerprint)
    maps = compute.attention_maps(row, compute=True)
    if maps is None:
        st.stop()
    layers, heads = maps.weights.shape[1:3]
    left, right = st.columns(2)
    layer = left.selectbox("Layer", list(range(layers)), key="attention.layer")
    head = right.selectbox("Head", list(range(heads)), key="attention.head")
    st.caption(f"{layers} layers x {heads} heads, {len(maps.tokens[0])} tokens. Relevance is for the "
               f"predicted class, **{(maps.class_names or [str(int(maps.target[0]))])[int(maps.target[0])]}**.")
    charts = panels.attention_charts(maps, row, layer, head)
    widgets.chart(charts[0], "att0")
    for cell, (j, item) in zip(st.columns(2), enumerate(charts[1:3], start=1)):
        with cell:
            widgets.chart(item, f"att{j}")
    for j, item in enumerate(charts[3:], start=3):
        widgets.chart(item, f"att{j}")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
