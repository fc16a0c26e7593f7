"""The Streamlit app's helpers: session state, loading, cached calls, widgets and inference.

This subpackage is the only part of ``explain`` that imports streamlit (``import explain``
never imports it), and the pages reach the package only through it:

- :mod:`explain.app.navigation`: the one ``st.navigation`` over the pages, run by both launch
  paths (``streamlit run app.py`` in a checkout, ``explain app`` from a wheel, whose entry
  script is ``explain/app/entry/dashboard.py``); :mod:`explain.app.pages`: one module per
  page, whose ``render()`` draws it.

- :mod:`explain.app.state`: each session's own model and dataset in ``st.session_state``,
  loading (examples and uploads), and attributions cached by content hash, so switching
  pages never recomputes; a new model releases the old one and its results.
- :mod:`explain.app.saliency`: the Saliency page's computations and charts.
- :mod:`explain.app.widgets`: summaries, charts with their downloads, and pickers.
- :mod:`explain.app.infer` and :mod:`explain.app.tables`: pure functions (no streamlit):
  which column of an upload is the label, and the tables behind charts and pickers.
"""

from __future__ import annotations

__all__ = ["infer", "navigation", "pages", "saliency", "state", "tables", "widgets"]
