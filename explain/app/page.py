"""What every page starts with: its set-up, the session's model and dataset, the error guard.

Each browser session holds its own model and dataset in ``st.session_state`` (as
:class:`Held`: the object, a content fingerprint, a name to show); :mod:`explain.app.lifecycle`
loads and replaces them. A page calls :func:`setup` first, then :func:`require_loaded`, which
says what to do and stops the page when nothing is loaded.

Every call into the package goes through :func:`guarded`: an :class:`explain.ExplainError`
becomes ``st.error(message)``, never a traceback, and whatever was loaded stays loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

import explain
from explain.app import navigation, persist
from explain.app.remote import SessionModel
from explain.core.dataset import Dataset

__all__ = [
    "DATA", "Held", "MODEL", "attempt", "current", "guarded", "held", "open_row", "require_loaded", "setup",
    "show_loaded",
]

_log = logging.getLogger(__name__)

MODEL, DATA, SIDEBAR = "explain.model", "explain.data", "explain.sidebar"


@dataclass(frozen=True)
class Held:
    """A loaded object with a content fingerprint and a name to show."""

    value: Any
    fingerprint: str
    label: str


def setup(title: str) -> None:
    """Configure the page and show in the sidebar what this session has loaded."""
    st.set_page_config(page_title=f"{title} · explain", page_icon="🔍", layout="wide")
    st.session_state[SIDEBAR] = st.sidebar.empty()  # this run's slot, refilled after a load
    show_loaded()


def show_loaded() -> None:
    """Fill this run's sidebar slot with the names of the loaded model and dataset."""
    slot = st.session_state.get(SIDEBAR)
    if slot is None:
        return
    model, data = held()
    with slot.container():
        st.caption(f"Model: **{model.label}**" if model else "Model: none loaded")
        st.caption(f"Dataset: **{data.label}**" if data else "Dataset: none loaded")


def guarded(fn: Callable[..., Any], *args: Any, context: str = "", **kwargs: Any) -> tuple[bool, Any]:
    """Call ``fn``; on failure show ``st.error`` (never a traceback) and return ``(False, None)``."""
    ok, value, message = attempt(fn, *args, context=context, **kwargs)
    if not ok:
        st.error(message)
    return ok, value


def attempt(fn: Callable[..., Any], *args: Any, context: str = "", **kwargs: Any) -> tuple[bool, Any, str]:
    """Call ``fn``; return ``(ok, value, error message)``: a plain message, never a traceback."""
    prefix = f"{context}: " if context else ""
    try:
        return True, fn(*args, **kwargs), ""
    except explain.ExplainError as err:
        return False, None, f"{prefix}{err}"
    except Exception as err:  # a bug, not the user's fault: say so, log the traceback
        _log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
        return False, None, f"{prefix}unexpected {type(err).__name__}: {err}. The details are in the server log."


def held() -> tuple[Held | None, Held | None]:
    """The session's model and dataset with their fingerprints and labels."""
    return st.session_state.get(MODEL), st.session_state.get(DATA)


def current() -> tuple[SessionModel | None, Dataset | None]:
    """The session's model and dataset (None for what is not loaded)."""
    model, data = held()
    return (model.value if model else None), (data.value if data else None)


def require_loaded() -> tuple[SessionModel, Dataset]:
    """The session's model and dataset; with either missing, say what to do and stop the page."""
    model, data = current()
    if model is None or data is None:
        st.info("Load a model and a dataset on the Home page first.")
        st.page_link(navigation.page("home"), label="Go to the Home page", icon=":material/home:")
        st.stop()
    return model, data  # type: ignore[return-value]


def open_row(row: int) -> None:
    """Open the Saliency page on dataset row ``row`` (the row picker keeps it)."""
    persist.remember("saliency.row", int(row))
    st.switch_page(navigation.page("saliency"))
