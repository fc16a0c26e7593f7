"""The life cycle of the session's model and dataset: loading an example or uploads, the
uploaded model's worker process, its settings, and replacing what was loaded.

An upload lives in a worker process of its own (a :class:`~explain.app.remote.SessionModel`),
with memory and time limits, so a model that crashes or runs out of memory takes only its
worker down; a bundled example runs in the server. Never a global ``st.cache_resource``:
Captum's hook methods and MC dropout change modules while they run. An uploaded model is
read as soon as it is uploaded (:func:`pending_model`), so the dataset's columns can be
matched to it; it is kept, in its worker, until it is accepted or replaced. When a new
model loads, the old one's worker stops and its cached results are dropped.
"""

from __future__ import annotations

import gc
import hashlib
import json
from typing import Any

import streamlit as st

import explain
from explain.app import cache, infer, page, remote, tasks
from explain.app.page import DATA, MODEL, Held
from explain.app.remote import SessionModel

__all__ = [
    "APPLIED", "PREVIEWS", "SCORE", "apply_model_settings", "guess_columns", "load_example", "load_uploads",
    "model_settings", "pending_model",
]

SCORE, PENDING, PREVIEWS = "explain.score", "explain.pending", "explain.previews"
SETTINGS, APPLIED = "explain.settings", "explain.settings_applied"


def load_example(name: str) -> bool:
    """Load a bundled example into the session; True on success."""
    with st.spinner(f"Loading the example {name!r}…"):
        ok, pair = page.guarded(explain.load_example, name)
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
    loaded, data = page.held()
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
    ok, value, message = page.attempt(remote.from_upload, model_file.getvalue(), _name(model_file, "upload"),
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
        header, n_features=model.n_features, feature_names=model.feature_names, modality=model.modality,
        class_names=model.class_names,
    )


def load_uploads(model_file: Any, data_file: Any, target: str | None, text: str | None = None,
                 metadata: list[str] | None = None) -> bool:
    """Load uploaded files (Streamlit ``UploadedFile`` or any file-like object) into the session.

    Either may be None: the one given replaces what is loaded, the other stays. When the
    new pair does not fit together, nothing changes and the error is shown. ``metadata``:
    columns of the table kept beside the features (``Dataset.metadata``), never given to
    the model. The dataset's fingerprint covers the file and how it was read.
    """
    model, data = page.held()
    with st.spinner("Reading the uploads…"):
        if model_file is not None:
            pending = st.session_state.get(PENDING)
            shown = pending is not None and pending[0] == _file_key(model_file)  # by the page, this run
            model = pending_model(model_file, show_error=not shown)
            if model is None:
                return False
        if data_file is not None:
            target = (target or "").strip() or None
            text = text if text and text != target else None
            metadata = [m for m in metadata or [] if m not in (target, text)]
            ok, value = page.guarded(
                explain.load_dataset, data_file, target=target, text=text, metadata=metadata or None,
                context="Dataset",
            )
            if not ok:
                return False
            how = json.dumps({"target": target, "text": text, "metadata": metadata})
            fingerprint = hashlib.sha256((_bytes_digest(data_file) + how).encode()).hexdigest()
            data = Held(value, fingerprint, _name(data_file, "uploaded dataset"))
    return _accept(model, data)


def _accept(model: Held | None, data: Held | None) -> bool:
    """Store the pair after checking that the model runs on the data (which gives the score);
    drop the model and data it replaces, with the cached results of the old model."""
    score = None
    if model is not None and data is not None:
        with st.spinner("Checking the model on the dataset…"):
            ok, score = page.guarded(model.value.call, tasks.score, data.value,
                                     context="The model does not fit the dataset")
        if not ok:
            return False
    old = st.session_state.get(MODEL)
    if old is not None and (model is None or old.fingerprint != model.fingerprint):
        cache.forget(old.fingerprint)
    pending = st.session_state.get(PENDING)
    stale = pending is not None and (pending[1] is None or model is None or pending[1].value is not model.value)
    # Delete before storing: Streamlit keeps the previous run's values until the next run.
    for key in (MODEL, DATA, SCORE, PREVIEWS, *([PENDING] if stale else [])):
        if key in st.session_state:
            del st.session_state[key]
    st.session_state[MODEL], st.session_state[DATA], st.session_state[SCORE] = model, data, score
    if old is not None and (model is None or old.value is not model.value):
        old.value.close()  # stop its worker: the replaced model's memory goes with it
    del old, pending
    gc.collect()  # modules hold reference cycles: free the replaced model's memory now
    page.show_loaded()
    return True


def _name(upload: Any, fallback: str) -> str:
    return str(getattr(upload, "name", "") or fallback)


def _bytes_digest(upload: Any) -> str:
    data = upload.getvalue() if hasattr(upload, "getvalue") else bytes(upload)
    return hashlib.sha256(data).hexdigest()
