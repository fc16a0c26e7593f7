"""Attention: every layer and head of a transformer, one head in detail, rollout and the
class-specific relevance of each token or image patch."""

from __future__ import annotations

import streamlit as st

from explain.app import charts, compute, page, panels, widgets


def render() -> None:
    """The Attention page."""
    page.setup("Attention")
    st.title("Attention")
    model, data = page.require_loaded()
    _, held_data = page.held()
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
    items = panels.attention_charts(maps, row, layer, head)
    charts.show(items[0], "att0")
    charts.pairs(items[1:3], "att", start=1)
    for j, item in enumerate(items[3:], start=3):
        charts.show(item, f"att{j}")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
