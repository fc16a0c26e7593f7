"""The dashboard's pages: one module per page, whose ``render()`` draws it.

:mod:`explain.app.navigation` lists these files in ``st.navigation`` (Streamlit runs each as
``__main__``, which calls ``render()``); the top-level ``app.py`` and ``pages/N_Name.py`` of a
source checkout call the same functions.
"""
