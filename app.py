"""The explain dashboard: ``streamlit run app.py`` (``explain app`` serves the same from a wheel).

The navigation and every page's body live in the package (:mod:`explain.app.navigation`,
:mod:`explain.app.pages`); the Home page is ``explain/app/pages/home.py``.
"""

from explain.app.navigation import run

run()
