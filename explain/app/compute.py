"""Cached computations for the pages beyond Saliency (SHAP, attention, the report).

Each result is kept in the session's cache under a content hash of the model, the rows
and the options, so switching pages never recomputes; long work shows a progress bar
saying what runs and can be cancelled (the Cancel button reruns the page, which stops
the computation at its next progress report).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from explain.app import state, tables, tasks

__all__ = ["cached", "shap_values", "attention_maps", "audit_report"]


def cached(name: str, subset: Sequence[int] | None, label: str, run: Callable[..., Any], *, compute: bool,
           args: dict[str, Any] | None = None, key: dict[str, Any] | None = None, **options: Any) -> Any:
    """``run(model, data[subset], progress=..., **args, **options)`` (all rows for ``subset=None``), from the cache
    or computed now (only when ``compute``); None when not cached and not computed, or on an error (shown).

    ``run`` is a module-level function (see :mod:`explain.app.tasks`): it runs where the
    model lives, in the model's worker process for an upload. ``options`` are passed and
    make the cache key; ``args`` are passed but not hashed, and ``key`` is hashed but not
    passed (say there what the ``args`` are, e.g. a digest)."""
    model, data = state.held()
    part = data.value if subset is None else data.value[[int(r) for r in subset]]
    digest = hashlib.sha256(model.fingerprint.encode())
    digest.update(json.dumps({"name": name, "options": options, "key": key}, sort_keys=True, default=str).encode())
    digest.update(state.rows_digest(part).encode())
    entry = digest.hexdigest()
    cache: OrderedDict[str, tuple[str, Any]] = st.session_state.setdefault(state.CACHE, OrderedDict())
    if entry in cache:
        cache.move_to_end(entry)
        return cache[entry][1]
    if not compute:
        return None
    holder = st.empty()
    with holder.container():
        bar = st.progress(0.0, text=label)
        st.button("Cancel", key=f"cancel-{entry[:12]}", on_click=state.cancel)
    ok, result = state.guarded(model.value.call, run, part, progress=lambda f: bar.progress(float(f), text=label),
                               **(args or {}), **options)
    holder.empty()
    if not ok:
        return None
    cache[entry] = (model.fingerprint, result)
    while len(cache) > state.CACHE_SIZE:
        cache.popitem(last=False)
    return result


def shap_values(rows: Sequence[int], *, compute: bool, algorithm: str, n_samples: int | None) -> Any:
    """SHAP values of ``rows``; tables take 100 seeded rows of the dataset as background."""
    _, data = state.current()
    background = None
    if data is not None and data.modality == "tabular":
        background = data[tables.sample_rows(len(data), min(100, len(data)), seed=1)]
    label = f"SHAP ({algorithm}) on {len(rows)} rows…"
    return cached("shap", rows, label, tasks.shap_values, compute=compute, args={"background": background},
                  algorithm=algorithm, n_samples=n_samples)


def attention_maps(row: int, *, compute: bool) -> Any:
    """Attention maps (with class-relevance gradients) of one row."""
    return cached("attention", [row], f"attention of row {row}…", tasks.attention, compute=compute)


def audit_report(sections: list[str], rows: int, *, compute: bool) -> Any:
    """The audit of the whole dataset (explanation sections on ``rows`` examples)."""
    return cached("audit", None, f"audit: {', '.join(sections)}…", tasks.audit, compute=compute,
                  sections=sections, rows=rows)
