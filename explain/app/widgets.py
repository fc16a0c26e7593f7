"""Widgets of the Streamlit app: the method picker with its options, the row picker, the
upload's column picker and model settings, and the Home page's summary of what is loaded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explain.app import choices, infer, lifecycle, page, tables
from explain.app.page import Held
from explain.app.persist import kept
from explain.core.dataset import Dataset
from explain.core.model import Model

__all__ = [
    "column_picker", "method_picker", "model_brief", "model_settings", "row_picker", "show_summary",
]

NO_LABELS = "(no labels)"
NO_METHOD = "(none)"
ROW_CHOICES = 1000  # rows offered in the row picker
INTEGRATION = ("gausslegendre", "riemann_trapezoid", "riemann_middle", "riemann_left", "riemann_right")
_HELP = {
    "n_steps": "Steps along the path from the baseline: more is more exact and slower.",
    "n_samples": "Random samples per example: more is steadier and slower.",
    "nt_samples": "Noisy copies averaged per example: more is smoother and slower.",
    "stdevs": "Standard deviation of the noise; empty: 15% of the data's range.",
    "patch": "Side of the square pixel patches treated as one feature; empty: 1/8 of the image.",
    "perturbations_per_eval": "Perturbed inputs per model call: speed and memory only.",
    "integration": "How the path integral is approximated.",
    "abs": "Take absolute values.",
    "multiply_by_inputs": "Multiply by (input − baseline): global attributions.",
    "relu_attributions": "Keep only positive evidence (ReLU on the map).",
}


# --- pickers -------------------------------------------------------------------------------
def method_picker(
    model: Model, slot: str, label: str, *, default: str | None = None, optional: bool = False
) -> tuple[str | None, dict[str, Any]]:
    """A method selectbox and a widget per option of the chosen method; ``optional`` adds
    a "(none)" choice, which returns ``(None, {})``."""
    available = choices.methods(model)
    offered = ([NO_METHOD] if optional else []) + available
    if default not in offered:
        default = offered[0]
    method = kept(st.selectbox, label, key=f"saliency.{slot}.method", default=default, options=offered)
    if method == NO_METHOD:
        return None, {}
    info = choices.method_info(method)
    st.caption(f"{info['summary']} (Captum {info['captum']})")
    return method, _options(model, slot, method, info["defaults"])


def _options(model: Model, slot: str, method: str, defaults: dict[str, Any]) -> dict[str, Any]:
    shown = [n for n in defaults if n not in ("window", "stride") and (n != "patch" or model.modality == "image")]
    # numbers and choices two to a line, then the switches (long names) one to a line
    shown.sort(key=lambda name: isinstance(defaults[name], bool))
    grid = [n for n in shown if not isinstance(defaults[n], bool)]
    cells = st.columns(2) if grid else []
    options: dict[str, Any] = {}
    for i, name in enumerate(shown):
        with cells[i % 2] if i < len(grid) else st.container():
            options[name] = _option(model, f"saliency.{slot}.{method}.{name}", name, defaults[name])
    return options


def _option(model: Model, key: str, name: str, default: Any) -> Any:
    help_text = _HELP.get(name)
    if name == "layer":
        layers = choices.conv_layers(model)
        if layers:
            return kept(st.selectbox, "layer", key=key, default=layers[-1], options=layers,
                        help="The convolutional layer whose activations are mapped.")
        return kept(st.text_input, "layer", key=key, default="", help="A layer name.") or None
    if name == "integration":
        return kept(st.selectbox, name, key=key, default=default, options=INTEGRATION, help=help_text)
    if isinstance(default, bool):
        return kept(st.checkbox, name, key=key, default=default, help=help_text)
    if name == "stdevs":
        return kept(st.number_input, name, key=key, default=default, min_value=0.0, step=0.01,
                    format="%.4f", placeholder="automatic", help=help_text)
    if isinstance(default, int) or name == "patch":
        return kept(st.number_input, name, key=key, default=default, min_value=1, step=1,
                    placeholder="automatic", help=help_text)
    return default


def row_picker(data: Dataset, fingerprint: str) -> int:
    """A selectbox of the dataset's first rows, each shown with its label and a preview."""
    cached = st.session_state.get(lifecycle.PREVIEWS)
    if cached is None or cached[0] != fingerprint:
        cached = (fingerprint, tables.row_previews(data, ROW_CHOICES))
        st.session_state[lifecycle.PREVIEWS] = cached
    previews = cached[1]
    what = {"image": "Image", "text": "Text"}.get(data.modality, "Row")
    more = f" The first {ROW_CHOICES:,} of {len(data):,} are listed." if len(data) > ROW_CHOICES else ""
    return int(kept(
        st.selectbox, f"{what} to explain", key="saliency.row", default=0,
        options=list(range(len(previews))), format_func=lambda i: previews[i],
        help="Type to search by number, label or value." + more,
    ))


def model_brief(model: Model) -> str:
    """One line about a model: format, task, modality, inputs and classes."""
    parts = [model.format, f"{model.modality} {model.task}"]
    if model.n_features:
        parts.append(f"{model.n_features} features")
    elif model.input_shape:
        parts.append("input " + "×".join(str(s) for s in model.input_shape))
    if model.class_names:
        parts.append("classes " + _brief(model.class_names, 4))
    return " · ".join(parts)


TASKS = ("classification", "regression")
MODALITIES = ("tabular", "image", "text")


def model_settings(model_file: Any, pending: Held | None) -> None:
    """The "Model settings" expander of an uploaded model: see and correct its task,
    modality, class names, feature names and input shape. Applying them reads the file
    again with these overrides of :func:`explain.load_model` (in its worker), and replaces
    the loaded model when it came from this file. Shown when the file could not be read
    too (open at once then): a wrong guess of the modality is corrected here."""
    info = pending.value if pending is not None else None
    applied = lifecycle.model_settings(model_file)
    # keyed by the file and the model read from it: after Apply the fields show what was read
    # again; after a failed Apply they keep what the user typed
    owner = (f"home.settings.{getattr(model_file, 'file_id', '') or id(model_file)}."
             f"{pending.fingerprint[:12] if pending is not None else 'unread'}")
    done = st.session_state.pop(lifecycle.APPLIED, None)
    with st.expander("Model settings", expanded=info is None or done is not None, icon=":material/tune:"):
        if done:
            st.success(done)
        st.caption("What was read from the file, or guessed. Correct it and press **Apply**: the model is "
                   "read again with these settings" + (" (the error above came from the guess)." if info is None
                                                       else "."))
        left, right = st.columns(2)
        task = left.selectbox("Task", TASKS, key=f"{owner}.task",
                              index=_index(TASKS, info.task if info else applied.get("task")))
        modality = right.selectbox("Modality", MODALITIES, key=f"{owner}.modality",
                                   index=_index(MODALITIES, info.modality if info else applied.get("modality")))
        classes = st.text_input(
            "Class names (comma-separated, in output order)", key=f"{owner}.classes",
            value=", ".join(info.class_names or ()) if info else ", ".join(applied.get("class_names", ())),
        )
        features = st.text_input(
            "Feature names (comma-separated; tables)", key=f"{owner}.features",
            value=", ".join(info.feature_names or ()) if info else ", ".join(applied.get("feature_names", ())),
        )
        shape = info.input_shape if info else applied.get("input_shape")
        typed_shape = st.text_input(
            "Input shape of one example (e.g. 1, 8, 8 for 8×8 grey images)", key=f"{owner}.shape",
            value=", ".join(str(n) for n in shape or ()),
        )
        if st.button("Apply", key=f"{owner}.apply", icon=":material/refresh:"):
            chosen = {"task": task, "modality": modality, "class_names": _names(classes),
                      "feature_names": _names(features), "input_shape": _shape(typed_shape)}
            if chosen["input_shape"] == "bad":
                st.error(f"Cannot read the input shape {typed_shape!r}: write whole numbers separated by "
                         "commas, e.g. 1, 8, 8.")
                return
            read = {"task": info.task, "modality": info.modality, "class_names": info.class_names,
                    "feature_names": info.feature_names, "input_shape": info.input_shape} if info else {}
            # only what differs from what the file gave (all of it when the file could not be read),
            # on top of what was applied before
            overrides = {**applied, **{k: v for k, v in chosen.items()
                                       if v is not None and (not info or _differs(v, read.get(k)))}}
            if lifecycle.apply_model_settings(model_file, overrides):
                names = [k.replace("_", " ") for k in overrides]
                changed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
                st.session_state[lifecycle.APPLIED] = (f"Read the model again with the {changed} set here."
                                                   if changed else "Read the model again.")
                st.rerun()


def _index(options: Sequence[str], value: Any) -> int:
    return list(options).index(value) if value in options else 0


def _names(typed: str) -> list[str] | None:
    names = [n.strip() for n in typed.split(",") if n.strip()]
    return names or None


def _shape(typed: str) -> tuple[int, ...] | str | None:
    parts = [p.strip() for p in typed.replace("×", ",").replace("x", ",").split(",") if p.strip()]
    if not parts:
        return None
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        return "bad"
    return shape if all(n > 0 for n in shape) else "bad"


def _differs(value: Any, read: Any) -> bool:
    if isinstance(value, (list, tuple)) and isinstance(read, (list, tuple)):
        return [str(v) for v in value] != [str(r) for r in read]
    return value != read


def column_picker(data_file: Any, model: Held | None) -> tuple[str | None, str | None, list[str]]:
    """For an uploaded table: the label column, preselected as inferred, the text column,
    and the metadata columns (those the model does not take, preselected).

    Returns ``(target, text, metadata)``; ``(None, None, [])`` for files that carry their
    labels (NPZ, zips).
    """
    header, guess = lifecycle.guess_columns(data_file, model.value if model else None)
    if data_file is None:
        return None, None, []
    if header is None or guess is None:
        st.caption("Not a table: labels come with the file (NPZ arrays, or one folder per class in a zip).")
        return None, None, []
    options = [NO_LABELS, *header.columns]
    owner = model.fingerprint[:12] if model else "none"
    file_key = getattr(data_file, "file_id", "")
    choice = st.selectbox(
        "Target column", options, index=options.index(guess.target or NO_LABELS),
        key=f"home.target.{file_key}.{owner}",
        help="The column with the labels; every other column is an input, or metadata.",
    )
    st.caption(("Inferred: " if guess.certain else "Best guess, please check: ") + guess.reason)
    if guess.text:
        st.caption(f"The texts are in the column {guess.text!r}.")
    target = None if choice == NO_LABELS else choice
    info = model.value if model else None
    offered, extra = infer.metadata_columns(header, target, guess.text, n_features=info.n_features if info else None,
                                            feature_names=info.feature_names if info else None)
    metadata = st.multiselect(
        "Metadata columns", offered, default=extra, key=f"home.metadata.{file_key}.{owner}.{target}",
        placeholder="none", help="Columns kept beside the features and never given to the model (sex, region, "
        "site, …): slices and error analysis can use them. Preselected: the columns the model does not take.",
    )
    return target, guess.text, list(metadata)


# --- the home page's summary -----------------------------------------------------------------
def _brief(names: Sequence[str] | None, limit: int = 6) -> str:
    if not names:
        return "—"
    shown = ", ".join(names[:limit])
    return f"{shown}, … ({len(names)} in all)" if len(names) > limit else shown


def show_summary() -> None:
    """Show what is loaded: the model's score on the dataset, the model and the dataset."""
    held_model, held_data = page.held()
    score = st.session_state.get(lifecycle.SCORE)
    if score is not None:
        how = " (labels matched with the model's outputs)" if score["name"] == "Accuracy" else ""
        st.metric(f"{score['name']} on the dataset", score["text"],
                  help=f"On {score['rows']:,} labelled rows{how}.")
        if score["mapping"]:
            st.info(f"The model names no classes, so its {score['mapping']} (as scikit-learn's LabelEncoder "
                    "numbers them). If it was trained otherwise, set its class names in output order under "
                    "**Model settings**.")
        if score["note"]:
            st.warning(f"The model could not be scored: {score['note']}")
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
        cols[3].metric("Image size", "×".join(str(s) for s in info["example_shape"]))
    if data.metadata is not None:
        st.caption(f"Metadata, kept beside the features and never given to the model: "
                   f"{_brief([str(c) for c in data.metadata.columns], 10)}. Slices and error analysis can use them.")
    left, right = st.columns([3, 2])
    labels = data.labels
    if data.x is not None and data.modality == "tabular":
        left.caption("First rows" + (" (then the metadata)" if data.metadata is not None else ""))
        first = pd.DataFrame(data.x[:5], columns=list(data.feature_names or ()))
        if data.metadata is not None:
            first = first.join(data.metadata.iloc[:5].reset_index(drop=True), rsuffix=" (metadata)")
        left.dataframe(first)
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
