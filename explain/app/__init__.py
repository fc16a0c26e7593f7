"""The Streamlit app's helpers: session state, loading, cached calls and small widgets.

This subpackage is the only part of ``explain`` that imports streamlit (``import explain``
never imports it). The pages (``app.py`` and ``pages/``) stay thin and call
:mod:`explain.app.state`, which holds each session's own model and dataset in
``st.session_state`` and caches results by a content hash, so switching pages never
recomputes.
"""

from __future__ import annotations

__all__ = ["state"]
