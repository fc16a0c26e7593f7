"""What the package offers the pages' pickers: the bundled examples, attribution methods and
their options, audit sections, SHAP algorithms, uncertainty and conformal methods, the
columns slices, error analysis and fairness can use, and the favourable class.

Pure functions (no streamlit): a page reaches the package only through :mod:`explain.app`,
and the choices it offers come from here.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

import explain
from explain.app.remote import SessionModel
from explain.attribution.shapley import ALGORITHMS
from explain.confidence.conformal_sets import CLASSIFICATION_METHODS, DEFAULT_METHODS, REGRESSION_METHODS
from explain.core.dataset import Dataset
from explain.diagnostics.mistakes import DERIVED
from explain.equity.grouping import MAX_GROUPS

__all__ = [
    "audit_sections", "default_sections", "conformal_methods", "conv_layers", "error_columns", "example_rule",
    "examples", "favourable_classes", "method_info", "methods", "sensitive_columns", "shap_algorithms", "slice_columns",
    "uncertainty_methods",
]


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


def audit_sections() -> list[str]:
    """Names of the audit's sections, in the report's order."""
    return list(explain.audit_sections())


def default_sections() -> list[str]:
    """The sections an audit runs unless told: all but those asked for by an option
    (the compression section)."""
    from explain.auditing.registry import default_sections as defaults

    return defaults()


def shap_algorithms() -> list[str]:
    """SHAP's algorithms, ``"auto"`` first."""
    return list(ALGORITHMS)


def uncertainty_methods(model: SessionModel) -> list[str]:
    """Where ``model``'s uncertainty can come from: MC dropout (models with dropout), the
    softmax (classifiers), test-time augmentation (not for text)."""
    out = (["mc_dropout"] if model.has_dropout else []) + (["softmax"] if model.task == "classification" else [])
    return out + ([] if model.modality == "text" else ["tta"])


def conformal_methods(task: str) -> tuple[list[str], str]:
    """The conformal methods for ``task`` and the default one.

    Example:
        >>> conformal_methods("regression")
        (['residual', 'normalized'], 'residual')
    """
    if task == "classification":
        return list(CLASSIFICATION_METHODS), DEFAULT_METHODS["classification"]
    return list(REGRESSION_METHODS), DEFAULT_METHODS["regression"]


def _table_columns(data: Dataset) -> list[str]:
    features = list(data.feature_names or ()) if data.modality == "tabular" and data.x is not None else []
    return features + ([str(c) for c in data.metadata.columns] if data.metadata is not None else [])


def error_columns(model: SessionModel, data: Dataset) -> list[str]:
    """The columns :func:`explain.error_analysis` can search: a table's features, the
    metadata, and the derived features (true and predicted class, confidence; text length).

    Example:
        >>> import torch
        >>> model = SessionModel.local(explain.Model(torch.nn.Linear(2, 2), feature_names=["a", "b"]))
        >>> error_columns(model, Dataset(np.zeros((3, 2)), np.zeros(3, dtype=int), feature_names=["a", "b"]))
        ['a', 'b', 'true class', 'predicted class', 'confidence']
    """
    derived = ["true class", "predicted class", "confidence"] if model.task == "classification" else \
        ["true value", "prediction"]
    derived += ["length (tokens)", "length (words)"] if data.texts is not None else []
    return _table_columns(data) + [d for d in derived if d in DERIVED]


def slice_columns(model: SessionModel, data: Dataset) -> list[str]:
    """The columns a slice rule can name (:func:`explain.slices`)."""
    derived = ["true_class", "predicted_class"] if model.task == "classification" else []
    return _table_columns(data) + derived + (["length"] if data.texts is not None else [])


def example_rule(data: Dataset) -> str:
    """A slice rule that fits ``data``, to show how one is written.

    Example:
        >>> example_rule(Dataset(np.array([[1.0], [3.0]]), np.zeros(2, dtype=int), feature_names=["mean radius"]))
        '`mean radius` > 2'
    """
    if data.texts is not None:
        return "length > 50"
    if data.x is None or data.x.ndim != 2 or not data.feature_names:
        return "true_class == 'cat'"
    name = data.feature_names[0]
    written = name if re.fullmatch(r"[A-Za-z_]\w*", name) else f"`{name}`"
    return f"{written} > {float(np.nanmedian(data.x[:, 0])):.4g}"


def sensitive_columns(data: Dataset) -> list[str]:
    """The columns whose groups :func:`explain.fairness` can compare: every metadata column
    first (what the model does not see), then a table's features with at most
    :data:`~explain.equity.grouping.MAX_GROUPS` distinct values (a continuous feature
    makes no groups of people).

    Example:
        >>> import pandas as pd
        >>> x = np.column_stack([np.arange(60.0), np.arange(60) % 2])
        >>> sensitive_columns(Dataset(x, np.zeros(60, dtype=int), feature_names=["income", "sex"],
        ...                           metadata=pd.DataFrame({"region": ["n", "s"] * 30})))
        ['region', 'sex']
    """
    meta = [str(c) for c in data.metadata.columns] if data.metadata is not None else []
    if data.modality != "tabular" or data.x is None or data.x.ndim != 2 or not data.feature_names:
        return meta
    few = [name for j, name in enumerate(data.feature_names)
           if name not in meta and len(np.unique(data.x[:, j])) <= MAX_GROUPS]
    return meta + few


def favourable_classes(model: SessionModel) -> list[str]:
    """The classes a user picks the favourable one from: a classifier's class names when it
    has more than two (with two, the second is favourable); else none.

    Example:
        >>> import torch
        >>> favourable_classes(SessionModel.local(explain.Model(torch.nn.Linear(2, 3), class_names=["a", "b", "c"])))
        ['a', 'b', 'c']
    """
    names = list(model.class_names or ())
    return names if model.task == "classification" and len(names) > 2 else []
