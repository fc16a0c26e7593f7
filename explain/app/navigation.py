"""The dashboard's one navigation: its pages, in order, with their titles and URLs.

Both launch paths run :func:`run`: ``streamlit run app.py`` in a source checkout, and
``explain app`` (``streamlit run`` on ``explain/app/entry/dashboard.py``) from an installed
wheel. Each page is a file of :mod:`explain.app.pages` whose ``render()`` draws it;
``st.navigation`` lists those files, so Streamlit ignores the top-level ``pages/`` folder of
a checkout once it has run; before that (a new server's first request, every AppTest run)
Streamlit may run a file of ``pages/``, and each of them calls :func:`run` too. So there is
one navigation whichever file starts, and no page is listed twice.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

__all__ = ["PAGES", "page", "page_file", "run"]

FOLDER = Path(__file__).resolve().parent / "pages"
# file stem in explain/app/pages/ -> title in the sidebar (the URL is the title, "_" for " ")
PAGES = {
    "home": "Home",
    "performance": "Performance",
    "error_analysis": "Error analysis",
    "fairness": "Fairness",
    "what_if": "What-if",
    "feature_effects": "Feature effects",
    "compare": "Compare",
    "saliency": "Saliency",
    "shap": "SHAP",
    "attention": "Attention",
    "report": "Report",
    "robustness": "Robustness",
    "uncertainty": "Uncertainty",
    "quality": "Explanation quality",
}


def page_file(name: str) -> Path:
    """The file of page ``name`` (a key of :data:`PAGES`)."""
    return FOLDER / f"{name}.py"


def page(name: str) -> st.Page:
    """Page ``name`` as ``st.Page``, for ``st.navigation``, ``st.page_link`` and ``st.switch_page``
    (the same object whichever script started the app)."""
    title = PAGES[name]
    return st.Page(page_file(name), title=title, url_path=title.replace(" ", "_"), default=name == "home")


def run() -> None:
    """Build the navigation over every page and run the one the browser asked for."""
    st.navigation([page(name) for name in PAGES], expanded=True).run()  # every page listed, no "View more"
