"""Per-session state of the Streamlit app: the loaded model and dataset, and cached results.

Each browser session holds its own :class:`explain.Model` in ``st.session_state``; never a
global ``st.cache_resource``, because Captum's hook methods change modules while they run.
Attributions are cached in the session too, keyed by a content hash of the model, the
explained rows, the method and its options, so a page revisited never recomputes.

Every call into the package goes through :func:`guarded`: an :class:`explain.ExplainError`
becomes ``st.error(message)``, never a traceback, and whatever was loaded stays loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

import explain
from explain import plots
from explain.data import Dataset
from explain.model import Model
from explain.results import Attribution

__all__ = [
    "Held", "SaliencyResult", "attribution", "current", "download_figure", "download_json",
    "guarded", "kept", "load_example", "load_uploads", "page_setup", "require_loaded",
    "saliency", "saliency_figures", "show_summary", "target_guess", "was_cancelled",
]

_log = logging.getLogger(__name__)

MODEL, DATA, SCORE, CACHE = "explain.model", "explain.data", "explain.score", "explain.cache"
CANCELLED, SIDEBAR = "explain.cancelled", "explain.sidebar"
CACHE_SIZE = 16  # attributions kept per session, least recently used dropped first
SCORE_ROWS = 10_000  # accuracy / R² on at most this many rows, at load time
BACKGROUND_ROWS = 32  # background examples for DeepLiftShap / GradientShap
HOME = "app.py"


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
    model, data = st.session_state.get(MODEL), st.session_state.get(DATA)
    with slot.container():
        st.caption(f"Model: **{model.label}**" if model else "Model: none loaded")
        st.caption(f"Dataset: **{data.label}**" if data else "Dataset: none loaded")


def guarded(fn: Callable[..., Any], *args: Any, context: str = "", **kwargs: Any) -> tuple[bool, Any]:
    """Call ``fn``; on failure show ``st.error`` (never a traceback) and return ``(False, None)``."""
    prefix = f"{context}: " if context else ""
    try:
        return True, fn(*args, **kwargs)
    except explain.ExplainError as err:
        st.error(f"{prefix}{err}")
    except Exception as err:  # a bug, not the user's fault: say so, log the traceback
        _log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
        st.error(f"{prefix}unexpected {type(err).__name__}: {err}. The details are in the server log.")
    return False, None


def current() -> tuple[Model | None, Dataset | None]:
    """The session's model and dataset (None for what is not loaded)."""
    model, data = st.session_state.get(MODEL), st.session_state.get(DATA)
    return (model.value if model else None), (data.value if data else None)


def require_loaded() -> tuple[Model, Dataset]:
    """The session's model and dataset; with either missing, say what to do and stop the page."""
    model, data = current()
    if model is None or data is None:
        st.info("Load a model and a dataset on the Home page first.")
        st.page_link(HOME, label="Go to the Home page", icon="🏠")
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
    if not _fits(value, kwargs):
        value = default
    st.session_state[key] = value
    result = widget(label, key=key, **kwargs)
    st.session_state[store] = result
    return result


def _fits(value: Any, kwargs: dict[str, Any]) -> bool:
    if "options" in kwargs and value not in list(kwargs["options"]):
        return False
    try:
        if kwargs.get("min_value") is not None and value < kwargs["min_value"]:
            return False
        if kwargs.get("max_value") is not None and value > kwargs["max_value"]:
            return False
    except TypeError:
        return False
    return True


# --- loading -------------------------------------------------------------------------
def load_example(name: str) -> bool:
    """Load a bundled example into the session; True on success."""
    with st.spinner(f"Loading the example {name!r}…"):
        ok, pair = guarded(explain.load_example, name)
        if not ok:
            return False
        model, data = pair
        label = f"example {name}"
        return _accept(Held(model, _module_digest(model), label), Held(data, label, label))


def load_uploads(model_file: Any, data_file: Any, target: str | None) -> bool:
    """Load uploaded files (Streamlit ``UploadedFile`` or any file-like object) into the session.

    Either may be None: the one given replaces what is loaded, the other stays. When the
    new pair does not fit together, nothing changes and the error is shown.
    """
    model, data = st.session_state.get(MODEL), st.session_state.get(DATA)
    with st.spinner("Reading the uploads…"):
        if model_file is not None:
            ok, value = guarded(explain.load_model, model_file, context="Model")
            if not ok:
                return False
            model = Held(value, _bytes_digest(model_file), _name(model_file, "uploaded model"))
        if data_file is not None:
            ok, value = guarded(
                explain.load_dataset, data_file, target=(target or "").strip() or None, context="Dataset"
            )
            if not ok:
                return False
            data = Held(value, _bytes_digest(data_file), _name(data_file, "uploaded dataset"))
    return _accept(model, data)


def _accept(model: Held | None, data: Held | None) -> bool:
    """Store the pair after checking that the model runs on the data (which gives the score)."""
    score = None
    if model is not None and data is not None:
        with st.spinner("Checking the model on the dataset…"):
            ok, score = guarded(_score, model.value, data.value, context="The model does not fit the dataset")
        if not ok:
            return False
    st.session_state[MODEL], st.session_state[DATA], st.session_state[SCORE] = model, data, score
    _show_loaded()
    return True


def _score(model: Model, data: Dataset) -> dict[str, Any] | None:
    """Accuracy (class names compared by name) or R² on the labelled rows, or None."""
    if data.y is None:
        return None
    part = data[:SCORE_ROWS]
    predicted = model.predict(part)
    if model.task == "classification":
        names = model.class_names or tuple(str(i) for i in range(int(predicted.max()) + 1))
        truth = part.labels or []
        guessed = [names[int(i)] if int(i) < len(names) else str(int(i)) for i in predicted]
        value = float(np.mean([g == t for g, t in zip(guessed, truth)]))
        unknown = sorted(set(truth) - set(names))[:5]
        note = f"labels not among the model's classes: {unknown}" if unknown else None
        return {"name": "Accuracy", "value": value, "text": f"{value:.1%}", "rows": len(part), "note": note}
    if predicted.ndim != 1:
        return None
    y = np.asarray(part.y, dtype=float)
    spread = float(((y - y.mean()) ** 2).sum())
    value = 1.0 - float(((y - predicted) ** 2).sum()) / spread if spread > 0 else float("nan")
    return {"name": "R²", "value": value, "text": f"{value:.3f}", "rows": len(part), "note": None}


def target_guess(data_file: Any) -> tuple[str, list[str]]:
    """For an uploaded table: the likely label column ("label", "target", ...) and all columns."""
    if data_file is None:
        return "", []
    try:
        head = pd.read_csv(io.BytesIO(data_file.getvalue()), nrows=0)
    except Exception:  # not a CSV (npz, zip, parquet): the user types the column
        return "", []
    columns = [str(c) for c in head.columns]
    for wanted in ("label", "target", "class", "y"):
        for column in columns:
            if column.lower() == wanted:
                return column, columns
    return "", columns


def _name(upload: Any, fallback: str) -> str:
    return str(getattr(upload, "name", "") or fallback)


def _bytes_digest(upload: Any) -> str:
    data = upload.getvalue() if hasattr(upload, "getvalue") else bytes(upload)
    return hashlib.sha256(data).hexdigest()


def _module_digest(model: Model) -> str:
    """A hash of the model's format, metadata and weights."""
    h = hashlib.sha256(repr(model).encode())
    h.update(json.dumps(model.describe(), default=str, sort_keys=True).encode())
    for name, tensor in model.network.state_dict().items():
        h.update(name.encode())
        try:
            h.update(tensor.detach().cpu().reshape(-1).view(dtype=torch.uint8).numpy().tobytes())
        except (RuntimeError, TypeError):  # an exotic tensor: fall back to its identity
            h.update(f"{id(tensor)}".encode())
    return h.hexdigest()


# --- cached attributions -------------------------------------------------------------
def _rows_digest(data: Dataset) -> str:
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
    method: str, rows: Sequence[int], *, compute: bool = True, label: str = "Computing…", **options: Any
) -> Attribution | None:
    """Attributions of the session's model on ``rows`` of its dataset, cached in the session.

    Returns the cached result, else computes it (with a progress bar and a Cancel button,
    which interrupts it at the next batch) when ``compute`` is true, else None. Methods with a background get ``BACKGROUND_ROWS``
    seeded rows of the whole dataset, so one row is explained the same alone or in a batch.
    """
    model, data = st.session_state[MODEL], st.session_state[DATA]
    part = data.value[[int(r) for r in rows]]
    info = explain.method_info(method)
    background = data.value[_background_rows(len(data.value))] if info["background"] else None
    h = hashlib.sha256(model.fingerprint.encode())
    h.update(json.dumps({"method": method, "options": options}, sort_keys=True, default=str).encode())
    h.update(_rows_digest(part).encode())
    h.update(_rows_digest(background).encode() if background is not None else b"-")
    key = h.hexdigest()
    cache: OrderedDict[str, Attribution] = st.session_state.setdefault(CACHE, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    if not compute:
        return None
    holder = st.empty()
    with holder.container():
        bar = st.progress(0.0, text=label)
        st.button("Cancel", key=f"cancel-{key[:12]}", on_click=_cancel)
    ok, result = guarded(
        explain.attribute, model.value, part, method=method, background=background,
        batch_size=max(1, min(64, len(part) // 20)),  # about 20 steps of progress
        progress=lambda fraction: bar.progress(float(fraction), text=label), **options,
    )
    holder.empty()
    if not ok:
        return None
    cache[key] = result
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return result


def _cancel() -> None:
    st.session_state[CANCELLED] = True


def was_cancelled() -> bool:
    """True once after the user pressed Cancel during a computation."""
    return bool(st.session_state.pop(CANCELLED, False))


# --- the saliency page -----------------------------------------------------------------
@dataclass(frozen=True)
class SaliencyResult:
    """One example's attribution (``example`` has one row: ``row`` of the dataset), and
    for tabular data the attributions of the first rows for the global view."""

    example: Attribution
    row: int
    overall: Attribution | None


def saliency(method: str, row: int, n_rows: int | None, *, compute: bool) -> SaliencyResult | None:
    """The saliency page's results, from the cache or (when ``compute``) computed now.

    ``n_rows``: rows 0..n_rows-1 for the global view (tabular), or None for none. A row
    inside them is taken from that one computation.
    """
    overall = None
    if n_rows:
        overall = attribution(method, range(n_rows), compute=compute,
                              label=f"Explaining {n_rows} rows for the global view…")
        if overall is None:
            return None
    if overall is not None and row < n_rows:  # type: ignore[operator]
        example = overall[row]
    else:
        example = attribution(method, [row], compute=compute, label=f"Explaining row {row}…")
    return None if example is None else SaliencyResult(example, row, overall)


def saliency_figures(result: SaliencyResult) -> dict[str, go.Figure]:
    """Figures by file stem: the example's natural plot and, for tabular, global importance."""
    ok, fig = guarded(result.example.plot, index=0)
    figures = {}
    if ok:
        title = fig.layout.title.text or ""
        fig.update_layout(title=title.replace("example 0", f"example {result.row}", 1))
        figures[f"{result.example.method}_row{result.row}"] = fig
    if result.overall is not None:
        ok, fig = guarded(plots.global_importance, result.overall)
        if ok:
            figures[f"{result.overall.method}_global_{len(result.overall)}rows"] = fig
    return figures


# --- display -----------------------------------------------------------------------------
def download_figure(fig: go.Figure, stem: str) -> None:
    """A button that downloads the figure as one self-contained HTML file (works offline)."""
    st.download_button(
        "Download chart (HTML)", data=lambda: fig.to_html(include_plotlyjs=True, full_html=True),
        file_name=f"{stem}.html", mime="text/html", key=f"html-{stem}", on_click="ignore",
    )


def download_json(attr: Attribution, stem: str, label: str = "Download attributions (JSON)") -> None:
    """A button that downloads an attribution as JSON."""
    st.download_button(
        label, data=attr.to_json, file_name=f"{stem}.json", mime="application/json",
        key=f"json-{stem}", on_click="ignore",
    )


def _brief(names: Sequence[str] | None, limit: int = 6) -> str:
    if not names:
        return "—"
    shown = ", ".join(names[:limit])
    return f"{shown}, … ({len(names)} in all)" if len(names) > limit else shown


def show_summary() -> None:
    """Show what is loaded: the model's score on the dataset, the model and the dataset."""
    held_model, held_data = st.session_state.get(MODEL), st.session_state.get(DATA)
    score = st.session_state.get(SCORE)
    if score is not None:
        how = " (predicted class names compared with the labels)" if score["name"] == "Accuracy" else ""
        st.metric(f"{score['name']} on the dataset", score["text"],
                  help=f"On {score['rows']:,} labelled rows{how}.")
        if score["note"]:
            st.warning(f"Accuracy may mislead: {score['note']}.")
    if held_model is not None:
        _show_model(held_model)
    if held_data is not None:
        _show_data(held_data)


def _show_model(held: Held) -> None:
    info = held.value.describe()
    st.subheader(f"Model: {held.label}")
    cols = st.columns(4)
    cols[0].metric("Task", info["task"])
    cols[1].metric("Modality", info["modality"])
    cols[2].metric("Parameters", f"{info['parameters']:,}")
    cols[3].metric("Format", info["format"])
    details = {
        "Input shape": str(info["input_shape"] or "—"),
        "Classes": _brief(info["class_names"]),
        "Features": _brief(info["feature_names"]),
        "Hook-based methods": info["hook_methods"],
        "Gradients": info["gradients"],
    }
    st.dataframe(pd.DataFrame({"property": list(details), "value": list(details.values())}),
                 hide_index=True, width="stretch")


def _show_data(held: Held) -> None:
    data: Dataset = held.value
    info = data.describe()
    st.subheader(f"Dataset: {held.label}")
    cols = st.columns(4)
    cols[0].metric("Rows", f"{info['rows']:,}")
    cols[1].metric("Modality", info["modality"])
    cols[2].metric("Labels", info["task"] or "none")
    if "features" in info:
        cols[3].metric("Features", info["features"])
    elif "example_shape" in info:
        cols[3].metric("Example shape", "×".join(str(s) for s in info["example_shape"]))
    left, right = st.columns([3, 2])
    labels = data.labels
    if data.x is not None and data.modality == "tabular":
        left.caption("First rows")
        left.dataframe(pd.DataFrame(data.x[:5], columns=list(data.feature_names or ())))
    elif data.x is not None and data.modality == "image":
        left.caption("First images" + (", with their labels" if labels else ""))
        left.image([_thumbnail(img) for img in data.x[:8]], width=56,
                   caption=labels[:8] if labels else None)
    elif data.texts is not None:
        left.caption("First texts")
        left.dataframe(pd.DataFrame({"text": data.texts[:5]}), hide_index=True)
    if "label_balance" in info:
        balance = pd.DataFrame(list(info["label_balance"].items()), columns=["class", "examples"])
        right.caption("Examples per class")
        right.dataframe(balance, hide_index=True, height=min(400, 38 + 35 * len(balance)))


def _thumbnail(image: np.ndarray, side: int = 72) -> np.ndarray:
    """One (channels, height, width) image as a (height, width[, 3]) array in 0..1, enlarged
    by repeating pixels so small images stay sharp."""
    img = np.asarray(image, dtype=np.float32)
    img = np.moveaxis(img[:3], 0, -1) if img.shape[0] in (3, 4) else img.mean(axis=0)
    low, high = float(img.min()), float(img.max())
    img = (img - low) / (high - low) if high > low else np.zeros_like(img)
    factor = max(1, side // max(img.shape[:2]))
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)
