"""The one funnel of cached computations: every result a page shows comes through :func:`cached`.

Each result is kept in the session (never a global ``st.cache_resource``: one session never
sees another's) under a content hash of the model's fingerprint, the rows it ran on and the
options, so switching pages never recomputes; the least recently used results are dropped
first, and :func:`forget` drops a replaced model's. Long work shows a progress bar saying
what runs and a Cancel button: it reruns the page, which stops the computation at its next
progress report, and the page then says so (:func:`was_cancelled`).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explain.app import page
from explain.core.dataset import Dataset

__all__ = ["auto_run", "cached", "cancel", "forget", "rows_digest", "run_button", "was_cancelled"]

CACHE, CANCELLED = "explain.cache", "explain.cancelled"
CACHE_SIZE = 16  # results kept per session, least recently used dropped first


def cached(name: str, subset: Sequence[int] | None, label: str, run: Callable[..., Any], *, compute: bool,
           args: dict[str, Any] | None = None, key: dict[str, Any] | None = None, **options: Any) -> Any:
    """``run(model, data[subset], progress=..., **args, **options)`` (all rows for ``subset=None``), from the cache
    or computed now (only when ``compute``); None when not cached and not computed, or on an error (shown).

    ``run`` is a module-level function (see :mod:`explain.app.tasks`): it runs where the
    model lives, in the model's worker process for an upload. ``options`` are passed and
    make the cache key; ``args`` are passed but not hashed, and ``key`` is hashed but not
    passed (say there what the ``args`` are, e.g. a digest)."""
    model, data = page.held()
    part = data.value if subset is None else data.value[[int(r) for r in subset]]
    digest = hashlib.sha256(model.fingerprint.encode())
    digest.update(json.dumps({"name": name, "options": options, "key": key}, sort_keys=True, default=str).encode())
    digest.update(rows_digest(part).encode())
    entry = digest.hexdigest()
    store: OrderedDict[str, tuple[str, Any]] = st.session_state.setdefault(CACHE, OrderedDict())
    if entry in store:
        store.move_to_end(entry)
        return store[entry][1]
    if not compute:
        return None
    holder = st.empty()
    with holder.container():
        bar = st.progress(0.0, text=label)
        st.button("Cancel", key=f"cancel-{entry[:12]}", on_click=cancel, args=(name,))
    ok, result = page.guarded(model.value.call, run, part, progress=lambda f: bar.progress(float(f), text=label),
                              **(args or {}), **options)
    holder.empty()
    if not ok:
        return None
    store[entry] = (model.fingerprint, result)
    while len(store) > CACHE_SIZE:
        store.popitem(last=False)
    return result


def forget(fingerprint: str) -> None:
    """Drop every result of the model with this fingerprint (it is being replaced)."""
    store = st.session_state.get(CACHE, {})
    for entry in [k for k, (owner, _) in store.items() if owner == fingerprint]:
        del store[entry]


def rows_digest(data: Dataset) -> str:
    """A content hash of a dataset's inputs (its arrays, or its texts), row ids, labels and
    metadata: two rows with the same values are still two rows, results carry which one
    they explain, and a slice or cohort over a metadata column never reuses a result of
    other metadata (or other labels)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(data.rows, dtype=np.int64).tobytes())
    if data.x is not None:
        h.update(str(data.x.shape).encode())
        h.update(np.ascontiguousarray(data.x).tobytes())
    else:
        h.update(json.dumps(data.texts).encode())
    if data.y is not None:
        h.update(b"labels" + str(np.asarray(data.y).dtype).encode() + np.ascontiguousarray(data.y).tobytes())
        h.update(json.dumps(list(data.class_names or ())).encode())
    if data.metadata is not None:
        h.update(b"metadata" + json.dumps([str(c) for c in data.metadata.columns]).encode())
        try:
            h.update(pd.util.hash_pandas_object(data.metadata, index=False).to_numpy().tobytes())
        except TypeError:  # values pandas cannot hash (lists, dicts): their text
            h.update(data.metadata.astype(str).to_csv(index=False).encode())
    return h.hexdigest()


def cancel(name: str = "") -> None:
    """The Cancel button's callback: remembers which computation (``cached``'s name) was cancelled."""
    st.session_state[CANCELLED] = name or True


def was_cancelled(name: str | None = None) -> bool:
    """True once after the user pressed Cancel during a computation (with ``name``: during
    that computation only; another's Cancel is left for its own page section to see)."""
    value = st.session_state.get(CANCELLED)
    if not value or (name is not None and value is not True and value != name):
        return False
    del st.session_state[CANCELLED]
    return True


def run_button(label: str = "Run", name: str | None = None) -> bool:
    """A page's primary button that starts its computation; after a Cancel (of ``name``,
    or of any computation), says so."""
    pressed = st.button(label, type="primary")
    if was_cancelled(name):
        st.info(f"Cancelled. Press **{label}** to start again.")
    return pressed


def auto_run(name: str, label: str) -> bool:
    """Whether a computation that starts by itself (``cached``'s ``name``) may start now:
    not right after its Cancel, when this says so and offers a button ``label`` instead."""
    if not was_cancelled(name):
        return True
    st.info(f"Cancelled. Press **{label}** to start again.")
    return st.button(label, type="primary", key=f"restart-{name}")
