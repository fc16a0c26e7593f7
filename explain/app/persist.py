"""Widget values that survive visits to other pages.

Streamlit forgets a widget's value when its page is left; :func:`kept` keeps a copy under
``explain.kept.<key>`` and restores it on the next visit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

__all__ = ["kept", "remember"]

PREFIX = "explain.kept."


def kept(widget: Callable[..., Any], label: str, *, key: str, default: Any, **kwargs: Any) -> Any:
    """Render ``widget`` whose value survives visits to other pages.

    Streamlit forgets a widget's value when its page is left; this keeps a copy under
    another key and restores it, falling back to ``default`` when the copy no longer
    fits the widget's ``options`` or bounds (another model or dataset was loaded).
    """
    store = PREFIX + key
    value = st.session_state.get(key, st.session_state.get(store, default))
    if not (value is None and default is None) and not _fits(value, kwargs):
        value = default
    st.session_state[key] = value
    result = widget(label, key=key, **kwargs)
    st.session_state[store] = result
    return result


def remember(key: str, value: Any) -> None:
    """Set the kept widget ``key`` to ``value`` before its page is drawn (e.g. to open a
    page on a given row)."""
    st.session_state[key] = value
    st.session_state[PREFIX + key] = value


def _fits(value: Any, kwargs: dict[str, Any]) -> bool:
    if "options" in kwargs:
        options = list(kwargs["options"])
        chosen = value if isinstance(value, (list, tuple)) else [value]  # multiselect: every choice
        if any(v not in options for v in chosen):
            return False
    if value is None:
        return False
    try:
        if kwargs.get("min_value") is not None and value < kwargs["min_value"]:
            return False
        if kwargs.get("max_value") is not None and value > kwargs["max_value"]:
            return False
    except TypeError:
        return False
    return True
