"""Feature effects: how the model's output moves with a feature over the whole dataset.
Pick the features (by default the top ones of the Saliency page's global view), the view
(partial dependence with ICE lines, accumulated local effects, or two features at once),
its resolution and the class, then press Run."""

from __future__ import annotations

import streamlit as st

from explain.app import effects_view, page


def render() -> None:
    """The Feature effects page."""
    page.setup("Feature effects")
    st.title("Feature effects")
    st.caption("How the output moves with each feature, averaged over the whole dataset.")
    model, data = page.require_loaded()
    if model.modality != "tabular":
        st.info(f"Feature effects are computed for tables; this model takes {model.modality} inputs. The Saliency "
                "page shows what drives it.")
        st.stop()

    chosen = effects_view.choose(model, data)
    run = effects_view.run_button()
    if not chosen["features"]:
        st.info("Choose at least one feature (two different ones for the 2-D view), then press **Run**.")
        st.stop()
    result = effects_view.compute_effects(chosen, run)
    if result is None:
        st.info("Choose the features and the view, then press **Run**.")
        st.stop()
    effects_view.show(result, chosen)


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
