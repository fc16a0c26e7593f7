"""The computations the pages run on the session's model, as module-level functions.

Each takes the model first and a ``progress`` callback, and returns a result of
:mod:`explain.results` (picklable), so the same function runs in the server's process or
in a model's worker process (:meth:`explain.app.remote.SessionModel.call`). No streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import explain
from explain.data import Dataset
from explain.model import Model

__all__ = ["attribute", "shap_values", "attention", "audit", "section", "robustness", "quick_quality",
           "full_quality", "sanity", "score"]

Progress = Callable[[float], None]
SCORE_ROWS = 10_000  # accuracy / R² on at most this many rows, at load time


def attribute(model: Model, part: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.attribute(model, part, progress=progress, **options)


def shap_values(model: Model, part: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.shap_values(model, part, progress=progress, **options)


def attention(model: Model, part: Dataset, *, progress: Progress) -> Any:
    maps = explain.attention(model, part)
    progress(1.0)
    return maps


def audit(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.audit(model, data, progress=lambda _section, f: progress(f), **options)


def section(model: Model, data: Dataset, *, progress: Progress, section_name: str, **options: Any) -> Any:
    """One audit section (what the Uncertainty page shows)."""
    return audit(model, data, progress=progress, sections=[section_name], **options).section(section_name)


def robustness(model: Model, part: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.robustness(model, part, progress=progress, **options)


def quick_quality(model: Model, part: Dataset, *, progress: Progress, attribution: Any) -> Any:
    """Deletion and insertion only (the badge): infidelity and sensitivity re-run the method."""
    quality = explain.evaluate(model, part, attribution, infidelity_samples=0, sensitivity_samples=0)
    progress(1.0)
    return quality


def full_quality(model: Model, part: Dataset, *, progress: Progress, attribution: Any) -> Any:
    quality = explain.evaluate(model, part, attribution)
    progress(1.0)
    return quality


def sanity(model: Model, part: Dataset, *, progress: Progress, method: str) -> Any:
    check = explain.sanity_check(model, part, method, layers=8)
    progress(1.0)
    return check


def score(model: Model, data: Dataset, *, progress: Progress) -> dict[str, Any] | None:
    """Accuracy (class names compared by name) or R² on the labelled rows, or None; also
    checks that the model runs on the data."""
    if data.y is None:
        model.logits(data[:2])
        return None
    part = data[:SCORE_ROWS]
    predicted = model.predict(part)
    progress(1.0)
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
