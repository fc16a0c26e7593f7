"""The What-if page's work: the row to start from, an editor for it (numbers within the
observed range, integer columns as integers, each one-hot group as one choice), the
prediction, class probabilities, uncertainty and attribution of the edited row beside the
original's, and counterfactuals of the edited row. The computations go through
:mod:`explain.app.compute` (cached, with progress and Cancel)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explain import plots
from explain.app import charts, compute, tables
from explain.app.charts import Chart
from explain.app.persist import kept
from explain.app.remote import SessionModel
from explain.core.dataset import Dataset
from explain.recourse.constraints import build

__all__ = ["Columns", "columns", "editor", "outputs_frame", "show_outputs", "show_uncertainty", "show_attributions",
           "counterfactual_options", "show_counterfactuals", "NO_DROPOUT"]

NO_DROPOUT = ("Uncertainty: the model has no dropout layers, so MC dropout cannot measure it here; the Uncertainty "
              "page offers test-time augmentation and the softmax spread.")


@dataclass(frozen=True)
class Columns:
    """How each feature is edited: its observed range, whether it is an integer, and the
    one-hot groups (lists of column positions)."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    integer: np.ndarray
    groups: tuple[tuple[int, ...], ...]


def columns(data: Dataset) -> Columns:
    """The editing kinds of ``data``'s columns, read the way :func:`explain.counterfactuals`
    reads them (so an edit and a counterfactual keep the same constraints).

    Example:
        >>> import numpy as np, explain
        >>> x = np.array([[1.0, 0.5, 1, 0], [3.0, 1.5, 0, 1], [2.0, 0.7, 1, 0]])
        >>> kinds = columns(explain.Dataset(x, feature_names=["n", "r", "c_a", "c_b"]))
        >>> kinds.integer.tolist()[:2], kinds.groups, kinds.high.tolist()[:2]
        ([True, False], ((2, 3),), [3.0, 1.5])
    """
    names = tuple(data.feature_names or [f"x{j}" for j in range(data.x.shape[1])])
    c = build(np.asarray(data.x, dtype=np.float64), names, immutable=(), ranges=None, onehot=None)
    return Columns(names, c.low, c.high, c.integer, tuple(tuple(int(j) for j in g) for g in c.groups))


def editor(original: np.ndarray, kinds: Columns, row: int) -> np.ndarray:
    """A form with one input per feature (one choice per one-hot group), starting at the
    row's values; the edited row as applied (the original until **Apply** is pressed)."""
    grouped = {j: g for g in kinds.groups for j in g}
    edited = np.array(original, dtype=np.float64)
    with st.form(f"whatif.form.{row}"):
        cells = st.columns(3)
        k = 0
        for j, name in enumerate(kinds.names):
            if j in grouped and j != grouped[j][0]:
                continue
            cell = cells[k % 3]
            k += 1
            if j in grouped:
                group = grouped[j]
                labels = [kinds.names[i] for i in group]
                chosen = cell.selectbox(" / ".join(labels[:2]) + (" / …" if len(labels) > 2 else ""), labels,
                                        index=int(np.argmax(original[list(group)])), key=f"whatif.{row}.{j}")
                edited[list(group)] = [float(label == chosen) for label in labels]
            elif kinds.integer[j]:
                edited[j] = cell.number_input(name, min_value=int(kinds.low[j]), max_value=int(kinds.high[j]),
                                              value=int(round(original[j])), step=1, key=f"whatif.{row}.{j}")
            else:
                low, high = float(kinds.low[j]), float(kinds.high[j])
                step = (high - low) / 100 or 1.0
                edited[j] = cell.number_input(name, min_value=low, max_value=high, value=float(original[j]),
                                              step=step, format="%.4g", key=f"whatif.{row}.{j}")
        st.form_submit_button("Apply", type="primary")
    return edited


def outputs_frame(model: SessionModel, raw: np.ndarray) -> pd.DataFrame:
    """The original's and the edited row's outputs: class probabilities (softmax of the
    logits) one row per class, or the prediction of a regression.

    Example:
        >>> import numpy as np
        >>> class M: task, class_names = "classification", ("no", "yes")
        >>> outputs_frame(M(), np.array([[0.0, 0.0], [0.0, np.log(3.0)]])).round(2).values.tolist()
        [['no', 0.5, 0.25], ['yes', 0.5, 0.75]]
    """
    if model.task != "classification":
        return pd.DataFrame({"output": ["prediction"], "original": [raw[0, 0]], "edited": [raw[1, 0]]})
    shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
    proba = shifted / shifted.sum(axis=1, keepdims=True)
    names = list(model.class_names or [str(c) for c in range(raw.shape[1])])
    return pd.DataFrame({"class": names, "original": proba[0], "edited": proba[1]})


def show_outputs(model: SessionModel, raw: np.ndarray) -> None:
    """The prediction of each row and the class probabilities side by side."""
    frame = outputs_frame(model, raw)
    left, right = st.columns(2)
    if model.task == "classification":
        names = frame["class"].tolist()
        before, after = names[int(raw[0].argmax())], names[int(raw[1].argmax())]
        left.metric("Original prediction", before)
        right.metric("Edited prediction", after, delta="changed" if after != before else "unchanged",
                     delta_color="off")
    else:
        left.metric("Original prediction", f"{raw[0, 0]:.4g}")
        right.metric("Edited prediction", f"{raw[1, 0]:.4g}", delta=f"{raw[1, 0] - raw[0, 0]:+.4g}")
    shown = "{:.2%}" if model.task == "classification" else "{:.4g}"  # not 0.0000000000000000001
    st.dataframe(frame.style.format({"original": shown, "edited": shown}), hide_index=True)


def show_uncertainty(model: SessionModel, both: np.ndarray) -> None:
    """MC-dropout uncertainty of both rows, or why it is not measured."""
    if not model.has_dropout:
        st.caption(NO_DROPOUT)
        return
    found = compute.row_uncertainty(both)
    if found is None:
        return
    if found.task == "classification":
        frame = pd.DataFrame({"row": ["original", "edited"], "entropy": found.entropy,
                              "mutual information": found.mutual_information})
    else:
        frame = pd.DataFrame({"row": ["original", "edited"], "std": np.ravel(found.std)[:2],
                              "lower": found.lower, "upper": found.upper})
    st.dataframe(frame, hide_index=True)


def show_attributions(model: SessionModel, row: int, both: np.ndarray) -> None:
    """The original row's attribution (the cached path of the Saliency page) beside the
    edited row's, by a method the user picks."""
    served = [m for m in ("integrated_gradients", "saliency", "feature_ablation") if m in model.methods]
    method = kept(st.selectbox, "Attribution method", key="whatif.method", default=served[0], options=served)
    original = compute.attribution(method, [row])
    edited = compute.row_attribution(both[1:], method)
    if original is None or edited is None:
        return
    items = [Chart(f"whatif_original_{row}", plots.feature_bars(original, 0), tables.attribution_frame(original, [row]),
                   original),
             Chart(f"whatif_edited_{row}", plots.feature_bars(edited, 0), tables.attribution_frame(edited, [row]),
                   edited)]
    for item, title in zip(items, ("Original row", "Edited row")):
        item.figure.update_layout(title=f"{title}: {method}")
    charts.pairs(items, "whatif-")


def counterfactual_options(model: SessionModel, data: Dataset, prediction: np.ndarray) -> dict[str, Any]:
    """The target (a class other than the edited row's, or a range for a regression), the
    immutable features and how many counterfactuals to find."""
    left, middle, right = st.columns([1, 2, 1])
    if model.task == "classification":
        names = list(model.class_names or [str(c) for c in range(len(prediction))])
        others = [c for j, c in enumerate(names) if j != int(np.argmax(prediction))] or names
        target: Any = kept(left.selectbox, "Target class", key="whatif.target", default=others[0], options=others)
    else:
        value = float(prediction[0])
        low = left.number_input("Target: at least", value=round(value + abs(value) * 0.1 + 1e-3, 4),
                                key="whatif.low", format="%.4g")
        target = (float(low), None)
    names = list(data.feature_names or [])
    immutable = kept(middle.multiselect, "Immutable features", key="whatif.immutable", default=[], options=names,
                     help="Features the counterfactuals never change (e.g. age).")
    n = kept(right.number_input, "How many", key="whatif.n", default=3, min_value=1, max_value=10, step=1)
    return {"target": target, "immutable": list(immutable), "n": int(n)}


def show_counterfactuals(found: Any, which: str) -> None:
    """The counterfactual table of the edited row, its measures, and the reason when fewer
    than asked were found."""
    if found.reasons[0]:
        st.info(f"For the {which} row: {found.reasons[0]}.")
    if not len(found.values):
        return
    measures = found.frame()[["validity", "sparsity", "proximity", "plausibility", "prediction"]]
    measures.insert(0, "counterfactual", range(len(measures)))
    charts.show(Chart("counterfactuals", found.plot(0), found.frame(), found), "whatif-cf")
    st.dataframe(measures, hide_index=True)
