"""What-if: pick a row, edit it (numbers within the observed range, integers as integers,
one-hot groups as one choice) and see the prediction, class probabilities, uncertainty and
attribution of the edited row beside the original's; then ask for counterfactuals: the
smallest changes that give another class (or, for a regression, a value in a range)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explain.app import cache, compute, page, whatif, widgets


def render() -> None:
    """The What-if page."""
    page.setup("What-if")
    st.title("What-if")
    st.caption("Edit a row and see what the model does with it; find what would have to change.")
    model, data = page.require_loaded()
    _, held_data = page.held()
    if model.modality != "tabular":
        st.info(f"What-if editing and counterfactuals work on tables; this model takes {model.modality} inputs. "
                "The Robustness page shows the smallest changes that flip its decision.")
        st.stop()

    row = widgets.row_picker(data, held_data.fingerprint)
    kinds = whatif.columns(data)
    original = np.asarray(data.x[row], dtype=np.float64)
    edited = whatif.editor(original, kinds, row)
    both = np.vstack([original, edited]).astype(np.float32)
    raw = compute.row_outputs(both)
    if raw is None:
        st.stop()
    changed = [kinds.names[j] for j in np.flatnonzero(both[0] != both[1])]
    st.caption("Changed: " + (", ".join(changed) if changed else "nothing yet (edit the values, then **Apply**)."))
    whatif.show_outputs(model, raw)
    whatif.show_uncertainty(model, both)

    st.subheader("Attribution")
    whatif.show_attributions(model, row, both)

    st.subheader("Counterfactuals of the edited row")
    options = whatif.counterfactual_options(model, data, raw[1])
    pressed = cache.run_button("Find counterfactuals", name="counterfactuals")
    found = compute.counterfactuals(both[1], compute=pressed, **options)
    if found is None:
        st.info("Choose the target and the features that may not change, then press **Find counterfactuals**.")
        st.stop()
    whatif.show_counterfactuals(found, "edited")


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
