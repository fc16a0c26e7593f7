"""The numbers the Performance and Error analysis pages show, from results already computed:
the headline figures as text, a binary model at another threshold, a cohort against the
rest, a cohort's rows, and the slice rules typed one per line. Pure functions (no streamlit).

Example:
    >>> import numpy as np
    >>> from explain.results import Performance
    >>> perf = Performance(task="classification", labels=np.array([1, 0, 1, 0]), predictions=np.array([1, 0, 0, 0]),
    ...                    rows=np.arange(4), class_names=("no", "yes"), accuracy=0.75, balanced_accuracy=0.75,
    ...                    intervals={"accuracy": (0.5, 1.0)})
    >>> headline(perf)
    [('Accuracy', '75.0%', '95% interval 50.0% to 100.0%'), ('Balanced accuracy', '75.0%', None)]
    >>> rule_lines("age > 60\\n\\n# a comment\\nregion == 'north'\\nage > 60")
    ['age > 60', "region == 'north'"]
    >>> versus_rest(perf, np.array([0, 1]))["accuracy"].round(2).tolist()
    [1.0, 0.5, 0.75]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from explain.core.dataset import Dataset
from explain.diagnostics import measures
from explain.results import Performance

__all__ = ["at_threshold", "cohort_rows", "headline", "positions_of", "rule_lines", "versus_rest"]

# headline figure -> its label and how it is written
_FIGURES = {
    "accuracy": ("Accuracy", "{:.1%}"), "balanced_accuracy": ("Balanced accuracy", "{:.1%}"),
    "f1_macro": ("F1 (macro)", "{:.1%}"), "roc_auc": ("ROC AUC", "{:.3f}"),
    "average_precision": ("Average precision", "{:.3f}"), "log_loss": ("Log loss", "{:.3f}"),
    "brier": ("Brier score", "{:.3f}"), "r2": ("R²", "{:.3f}"), "mae": ("MAE", "{:.4g}"), "rmse": ("RMSE", "{:.4g}"),
}


def headline(perf: Performance) -> list[tuple[str, str, str | None]]:
    """``(label, value, interval)`` of each headline figure that is defined; the interval is
    the bootstrap's, as text, or None where there is none."""
    level = perf.params.get("level", 0.95)
    out = []
    for name, value in perf.metrics.items():
        label, form = _FIGURES[name]
        interval = perf.intervals.get(name)
        text = f"{level:.0%} interval {form.format(interval[0])} to {form.format(interval[1])}" if interval else None
        out.append((label, form.format(value), text))
    return out


def rule_lines(text: str) -> list[str]:
    """The slice rules typed in a text area: one per line, blank lines and ``#`` comments
    left out, each once."""
    lines = (line.strip() for line in (text or "").splitlines())
    return list(dict.fromkeys(line for line in lines if line and not line.startswith("#")))


def at_threshold(perf: Performance, threshold: float) -> Performance:
    """A binary model's figures when rows whose probability of class 1 is at least
    ``threshold`` are called class 1, read off ``perf.thresholds`` (no model run): the
    confusion matrix, accuracy, balanced accuracy, F1 macro and the per-class precision,
    recall and F1 at that threshold. Labels, predictions and curves stay ``perf``'s (it
    holds no scores), so draw only the matrix and the threshold curve with it."""
    table = perf.thresholds
    row = table[table["threshold"] >= float(threshold)].iloc[-1]  # the first row (infinity) always qualifies
    positives = float(np.sum(np.asarray(perf.labels) == 1))
    tp, fp = float(row["tp"]), float(row["fp"])
    matrix = np.array([[len(perf) - positives - fp, fp], [positives - tp, tp]]).round().astype(np.int64)
    precision, recall, f1, support = measures.per_class_scores(matrix)
    return dataclasses.replace(
        perf, threshold=float(threshold), confusion_matrix=matrix, accuracy=float(np.trace(matrix) / matrix.sum()),
        balanced_accuracy=measures.balanced_accuracy(matrix), f1_macro=measures.f1_macro(matrix),
        precision=precision, recall=recall, f1=f1, support=support, intervals={},
    )


def positions_of(perf: Performance, row_ids: np.ndarray) -> np.ndarray:
    """Which of ``perf``'s examples have these row ids (a boolean mask over ``perf``)."""
    ids = np.asarray(perf.rows if perf.rows is not None else np.arange(len(perf)))
    return np.isin(ids, np.asarray(row_ids))


def versus_rest(perf: Performance, row_ids: np.ndarray) -> pd.DataFrame:
    """The figures of the rows with these ids against the other rows and all of them: rows,
    accuracy, balanced accuracy and F1 macro (classifiers), or MAE, RMSE and R² (regression),
    indexed ``cohort``, ``rest``, ``all``."""
    inside = positions_of(perf, row_ids)
    labels, predicted = np.asarray(perf.labels), np.asarray(perf.predictions)
    records = []
    k = len(perf.class_names) if perf.class_names else int(max(labels.max(initial=0), predicted.max(initial=0))) + 1
    for mask in (inside, ~inside, np.ones_like(inside)):
        y, p = labels[mask], predicted[mask]
        if perf.task == "classification":
            matrix = measures.confusion(y, p, k)
            records.append({"rows": int(mask.sum()), "accuracy": float(np.mean(y == p)) if mask.any() else np.nan,
                            "balanced_accuracy": measures.balanced_accuracy(matrix),
                            "f1_macro": measures.f1_macro(matrix) if mask.any() else np.nan})
        else:
            y, p = y.astype(np.float64), p.astype(np.float64)
            error = y - p
            records.append({"rows": int(mask.sum()), "mae": float(np.mean(np.abs(error))) if mask.any() else np.nan,
                            "rmse": float(np.sqrt(np.mean(error ** 2))) if mask.any() else np.nan,
                            "r2": measures.r2(y, p) if mask.sum() > 1 else np.nan})
    return pd.DataFrame(records, index=pd.Index(["cohort", "rest", "all"], name="rows of"))


def cohort_rows(data: Dataset, perf: Performance | None, positions: Sequence[int], limit: int = 200) -> pd.DataFrame:
    """The first ``limit`` of the rows at ``positions`` in ``data``: the row, its label and
    the model's prediction (with whether it is right, or the residual), then its features
    (tables) or text, then its metadata; rows the model got wrong first.

    Example:
        >>> data = Dataset(np.array([[1.0], [2.0], [3.0]]), np.array([0, 1, 1]), feature_names=["a"],
        ...                class_names=["no", "yes"])
        >>> perf = Performance(task="classification", labels=np.array([0, 1, 1]), predictions=np.array([0, 0, 1]),
        ...                    rows=np.arange(3), class_names=("no", "yes"))
        >>> cohort_rows(data, perf, [0, 1]).to_dict("records")
        [{'row': 1, 'label': 'yes', 'predicted': 'no', 'right': False, 'a': 2.0}, {'row': 0, 'label': 'no', \
'predicted': 'no', 'right': True, 'a': 1.0}]
    """
    positions = np.asarray(positions, dtype=np.int64)
    frame = pd.DataFrame({"row": positions})
    if data.labels is not None:
        frame["label"] = np.asarray(data.labels, dtype=object)[positions]
    if perf is not None and len(perf) == len(data):
        names = perf.class_names
        predicted = np.asarray(perf.predictions)[positions]
        if perf.task == "classification":
            frame["predicted"] = [names[int(p)] if names else int(p) for p in predicted]
            frame["right"] = np.asarray(perf.labels)[positions] == predicted
            frame = frame.sort_values("right", kind="stable")
        else:
            frame["predicted"] = predicted
            frame["residual"] = np.asarray(perf.labels, dtype=np.float64)[positions] - predicted
            frame = frame.iloc[np.argsort(-np.abs(frame["residual"].to_numpy()), kind="stable")]
    frame = frame.head(int(limit)).reset_index(drop=True)
    shown = frame["row"].to_numpy()
    if data.texts is not None:
        frame["text"] = [data.texts[int(i)] for i in shown]
    elif data.x is not None and data.x.ndim == 2:
        names = list(data.feature_names or [f"x{j}" for j in range(data.x.shape[1])])
        frame = pd.concat([frame, pd.DataFrame(data.x[shown], columns=names)], axis=1)
    if data.metadata is not None:
        meta = data.metadata.iloc[shown].reset_index(drop=True)
        frame = pd.concat([frame, meta.rename(columns=lambda c: c if c not in frame else f"{c} (metadata)")], axis=1)
    return frame
