"""Per-session state of the Streamlit app: the loaded model and dataset, and cached results.

Each browser session holds its own model in ``st.session_state`` (a
:class:`~explain.app.remote.SessionModel`): an upload lives in a worker process of its own,
with memory and time limits, so a model that crashes or runs out of memory takes only its
worker down; a bundled example runs in the server. Never a global ``st.cache_resource``:
Captum's hook methods and MC dropout change modules while they run.
Attributions are cached in the session too, keyed by a content hash of the model, the
explained rows, the method and its options, so a page revisited never recomputes. When a
new model loads, the old one and its cached results are dropped.

Every call into the package goes through :func:`guarded`: an :class:`explain.ExplainError`
becomes ``st.error(message)``, never a traceback, and whatever was loaded stays loaded.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

import explain
from explain.app import infer, navigation, remote, tasks
from explain.app.remote import SessionModel
from explain.core.dataset import Dataset
from explain.results import Attribution

__all__ = [
    "Held", "apply_model_settings", "attribution", "conv_layers", "current", "examples", "guarded",
    "guess_columns", "held", "kept", "load_example", "load_uploads", "method_info", "methods",
    "model_settings", "page_setup", "pending_model", "require_loaded", "was_cancelled",
]

_log = logging.getLogger(__name__)

MODEL, DATA, SCORE, CACHE = "explain.model", "explain.data", "explain.score", "explain.cache"
CANCELLED, SIDEBAR, PENDING = "explain.cancelled", "explain.sidebar", "explain.pending"
SETTINGS, APPLIED = "explain.settings", "explain.settings_applied"
CACHE_SIZE = 16  # attributions kept per session, least recently used dropped first
BACKGROUND_ROWS = 32  # background examples for DeepLiftShap / GradientShap


@dataclass(frozen=True)
class Held:
    """A loaded object with a content fingerprint and a name to show."""

    value: Any
    fingerprint: str
    label: str


# --- page set-up and errors ----------------------------------------------------------
def page_setup(title: str) -> None:
    """Configure the page and show in the sidebar what this session has loaded."""
    st.set_page_config(page_title=f"{title} · explain", page_icon="🔍", layout="wide")
    st.session_state[SIDEBAR] = st.sidebar.empty()  # this run's slot, refilled after a load
    _show_loaded()


def _show_loaded() -> None:
    slot = st.session_state.get(SIDEBAR)
    if slot is None:
        return
    model, data = held()
    with slot.container():
        st.caption(f"Model: **{model.label}**" if model else "Model: none loaded")
        st.caption(f"Dataset: **{data.label}**" if data else "Dataset: none loaded")


def guarded(fn: Callable[..., Any], *args: Any, context: str = "", **kwargs: Any) -> tuple[bool, Any]:
    """Call ``fn``; on failure show ``st.error`` (never a traceback) and return ``(False, None)``."""
    ok, value, message = _attempt(fn, *args, context=context, **kwargs)
    if not ok:
        st.error(message)
    return ok, value


def _attempt(fn: Callable[..., Any], *args: Any, context: str = "", **kwargs: Any) -> tuple[bool, Any, str]:
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


def kept(widget: Callable[..., Any], label: str, *, key: str, default: Any, **kwargs: Any) -> Any:
    """Render ``widget`` whose value survives visits to other pages.

    Streamlit forgets a widget's value when its page is left; this keeps a copy under
    another key and restores it, falling back to ``default`` when the copy no longer
    fits the widget's ``options`` or bounds (another model or dataset was loaded).
    """
    store = f"explain.kept.{key}"
    value = st.session_state.get(key, st.session_state.get(store, default))
    if not (value is None and default is None) and not _fits(value, kwargs):
        value = default
    st.session_state[key] = value
    result = widget(label, key=key, **kwargs)
    st.session_state[store] = result
    return result


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


# --- what the package offers (pages reach it only through here) ------------------------
def examples() -> list[str]:
    """Names of the bundled examples."""
    return explain.examples()


def methods(model: SessionModel) -> list[str]:
    """Attribution methods that can serve ``model`` (probed when it loaded)."""
    return list(model.methods)


def method_info(name: str) -> dict[str, Any]:
    """A method's summary and default options."""
    return explain.method_info(name)


def conv_layers(model: SessionModel) -> list[str]:
    """Names of the model's convolutional layers (Grad-CAM's choices), first to last."""
    return list(model.conv_layers)


# --- loading -------------------------------------------------------------------------
def load_example(name: str) -> bool:
    """Load a bundled example into the session; True on success."""
    with st.spinner(f"Loading the example {name!r}…"):
        ok, pair = guarded(explain.load_example, name)
        if not ok:
            return False
        model = SessionModel.local(pair[0])
        label = f"example {name}"
        return _accept(Held(model, model.fingerprint, label), Held(pair[1], label, label))


def pending_model(model_file: Any, *, show_error: bool = True) -> Held | None:
    """The model in an upload, loaded once per file and kept until it is accepted or replaced.

    Read as soon as it is uploaded, so the dataset's columns can be matched to it; a bad
    file shows its error here. None without a file or when the file is not a model.
    """
    if model_file is None:
        _release_pending()
        return None
    file_key = _file_key(model_file)
    pending = st.session_state.get(PENDING)
    if pending is None or pending[0] != file_key:
        _release_pending()
        with st.spinner(f"Reading the model {_name(model_file, '')} in a worker process…"):
            entry, message = _read_upload(model_file, model_settings(model_file), "Model")
        pending = (file_key, entry, message)
        st.session_state[PENDING] = pending
    if pending[1] is None and show_error:
        st.error(pending[2])
    return pending[1]


def model_settings(model_file: Any) -> dict[str, Any]:
    """The corrections applied to this uploaded model file (overrides of
    :func:`explain.load_model`); empty when none were."""
    return dict(st.session_state.get(SETTINGS, {}).get(_file_key(model_file), {}))


def apply_model_settings(model_file: Any, overrides: dict[str, Any]) -> bool:
    """Read the uploaded model again with ``overrides`` (task, modality, class and feature
    names, input shape) in a new worker; True on success.

    When the model read before is the loaded one, the corrected model replaces it (checked
    on the loaded dataset, whose score is recomputed). On failure the error is shown and
    nothing changes: the model read before (if any), the loaded model and dataset stay.
    """
    file_key = _file_key(model_file)
    with st.spinner(f"Reading the model {_name(model_file, '')} again with these settings…"):
        entry, message = _read_upload(model_file, overrides, "Model settings")
    if entry is None:
        st.error(message)
        return False
    pending = st.session_state.get(PENDING)
    loaded, data = held()
    was_loaded = (loaded is not None and pending is not None and pending[0] == file_key
                  and pending[1] is not None and pending[1].value is loaded.value)
    _release_pending()
    st.session_state[PENDING] = (file_key, entry, "")
    st.session_state.setdefault(SETTINGS, {})[file_key] = dict(overrides)
    if was_loaded:
        return _accept(entry, data)
    return True


def _read_upload(model_file: Any, overrides: dict[str, Any], context: str) -> tuple[Held | None, str]:
    """Load an uploaded model in a new worker with ``overrides``: ``(Held, "")`` or ``(None, error)``.
    The fingerprint covers the file and the overrides (results of one never serve the other)."""
    ok, value, message = _attempt(remote.from_upload, model_file.getvalue(), _name(model_file, "upload"),
                                  context=context, **overrides)
    if not ok:
        return None, message
    fingerprint = _bytes_digest(model_file)
    if overrides:
        fingerprint = hashlib.sha256((fingerprint + json.dumps(overrides, sort_keys=True, default=str)).encode())
        fingerprint = fingerprint.hexdigest()
    return Held(value, fingerprint, _name(model_file, "uploaded model")), ""


def _release_pending() -> None:
    """Stop the worker of a pending upload that is being replaced (unless it was accepted)."""
    pending = st.session_state.pop(PENDING, None)
    loaded = st.session_state.get(MODEL)
    if pending is not None and pending[1] is not None and (loaded is None or pending[1].value is not loaded.value):
        pending[1].value.close()


def _file_key(upload: Any) -> str:
    return str(getattr(upload, "file_id", "") or id(upload))


def guess_columns(data_file: Any, model: SessionModel | None) -> tuple[infer.Header | None, infer.Guess | None]:
    """The columns of an uploaded table and the guess of its label (and text) column."""
    if data_file is None:
        return None, None
    header = infer.read_header(data_file.getvalue())
    if header is None:
        return None, None
    if model is None:
        return header, infer.guess_columns(header)
    return header, infer.guess_columns(
        header, n_features=model.n_features, feature_names=model.feature_names, modality=model.modality
    )


def load_uploads(model_file: Any, data_file: Any, target: str | None, text: str | None = None) -> bool:
    """Load uploaded files (Streamlit ``UploadedFile`` or any file-like object) into the session.

    Either may be None: the one given replaces what is loaded, the other stays. When the
    new pair does not fit together, nothing changes and the error is shown.
    """
    model, data = held()
    with st.spinner("Reading the uploads…"):
        if model_file is not None:
            pending = st.session_state.get(PENDING)
            shown = pending is not None and pending[0] == _file_key(model_file)  # by the page, this run
            model = pending_model(model_file, show_error=not shown)
            if model is None:
                return False
        if data_file is not None:
            target = (target or "").strip() or None
            ok, value = guarded(
                explain.load_dataset, data_file, target=target,
                text=text if text and text != target else None, context="Dataset",
            )
            if not ok:
                return False
            data = Held(value, _bytes_digest(data_file), _name(data_file, "uploaded dataset"))
    return _accept(model, data)


def _accept(model: Held | None, data: Held | None) -> bool:
    """Store the pair after checking that the model runs on the data (which gives the score);
    drop the model and data it replaces, with the cached results of the old model."""
    score = None
    if model is not None and data is not None:
        with st.spinner("Checking the model on the dataset…"):
            ok, score = guarded(model.value.call, tasks.score, data.value,
                                context="The model does not fit the dataset")
        if not ok:
            return False
    old = st.session_state.get(MODEL)
    if old is not None and (model is None or old.fingerprint != model.fingerprint):
        cache = st.session_state.get(CACHE, {})
        for key in [k for k, (fingerprint, _) in cache.items() if fingerprint == old.fingerprint]:
            del cache[key]
    pending = st.session_state.get(PENDING)
    stale = pending is not None and (pending[1] is None or model is None or pending[1].value is not model.value)
    # Delete before storing: Streamlit keeps the previous run's values until the next run.
    for key in (MODEL, DATA, SCORE, "explain.previews", *([PENDING] if stale else [])):
        if key in st.session_state:
            del st.session_state[key]
    st.session_state[MODEL], st.session_state[DATA], st.session_state[SCORE] = model, data, score
    if old is not None and (model is None or old.value is not model.value):
        old.value.close()  # stop its worker: the replaced model's memory goes with it
    del old, pending
    gc.collect()  # modules hold reference cycles: free the replaced model's memory now
    _show_loaded()
    return True


def _name(upload: Any, fallback: str) -> str:
    return str(getattr(upload, "name", "") or fallback)


def _bytes_digest(upload: Any) -> str:
    data = upload.getvalue() if hasattr(upload, "getvalue") else bytes(upload)
    return hashlib.sha256(data).hexdigest()


# --- cached attributions -------------------------------------------------------------
def rows_digest(data: Dataset) -> str:
    h = hashlib.sha256()
    if data.x is not None:
        h.update(str(data.x.shape).encode())
        h.update(np.ascontiguousarray(data.x).tobytes())
    else:
        h.update(json.dumps(data.texts).encode())
    return h.hexdigest()


def _background_rows(n: int) -> list[int]:
    rng = np.random.default_rng(0)
    return sorted(int(i) for i in rng.choice(n, size=min(BACKGROUND_ROWS, n), replace=False))


def attribution(
    method: str, rows: Sequence[int], *, compute: bool = True, label: str | None = None, **options: Any
) -> Attribution | None:
    """Attributions of the session's model on ``rows`` of its dataset, cached in the session.

    Returns the cached result, else computes it (with a progress bar saying what runs and a
    Cancel button, which interrupts it at the next batch) when ``compute`` is true, else
    None. Methods with a background get ``BACKGROUND_ROWS`` seeded rows of the whole
    dataset, so one row is explained the same alone or in a batch.
    """
    model, data = st.session_state[MODEL], st.session_state[DATA]
    part = data.value[[int(r) for r in rows]]
    info = explain.method_info(method)
    background = data.value[_background_rows(len(data.value))] if info["background"] else None
    h = hashlib.sha256(model.fingerprint.encode())
    h.update(json.dumps({"method": method, "options": options}, sort_keys=True, default=str).encode())
    h.update(rows_digest(part).encode())
    h.update(rows_digest(background).encode() if background is not None else b"-")
    key = h.hexdigest()
    cache: OrderedDict[str, tuple[str, Attribution]] = st.session_state.setdefault(CACHE, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key][1]
    if not compute:
        return None
    what = f"{len(part)} row" + ("s" if len(part) != 1 else "")
    label = label or f"{method} on {what}" + (f" ({_brief_options(options)})" if options else "") + "…"
    holder = st.empty()
    with holder.container():
        bar = st.progress(0.0, text=label)
        st.button("Cancel", key=f"cancel-{key[:12]}", on_click=cancel)
    ok, result = guarded(
        model.value.call, tasks.attribute, part, method=method, background=background,
        batch_size=max(1, min(64, len(part) // 20)),  # about 20 steps of progress
        progress=lambda fraction: bar.progress(float(fraction), text=label), **options,
    )
    holder.empty()
    if not ok:
        return None
    cache[key] = (model.fingerprint, result)
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return result


def _brief_options(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items() if v is not None and k != "perturbations_per_eval")


def open_row(row: int) -> None:
    """Open the Saliency page on dataset row ``row`` (the row picker keeps it)."""
    st.session_state["saliency.row"] = int(row)
    st.session_state["explain.kept.saliency.row"] = int(row)
    st.switch_page(navigation.page("saliency"))


def cancel() -> None:
    st.session_state[CANCELLED] = True


def was_cancelled() -> bool:
    """True once after the user pressed Cancel during a computation."""
    return bool(st.session_state.pop(CANCELLED, False))
