"""Conversions between :class:`explain.Attribution` and ``shap.Explanation``, so that
shap's own plots work on our results and shap's results flow into our plots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from explain.errors import InputError
from explain.runtime.deps import require

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import Attribution


def to_shap(attr: Attribution) -> Any:
    """A ``shap.Explanation`` of the same values (images channels-last, as shap plots expect)."""
    shap = require("shap", feature="Attribution.to_shap")
    base = attr.base_values if attr.base_values is not None else np.zeros(len(attr))
    if attr.modality == "text":
        values = np.empty(len(attr), dtype=object)
        data = np.empty(len(attr), dtype=object)
        for i, tokens in enumerate(attr.tokens or ()):
            values[i] = np.asarray(attr.values[i, : len(tokens)])
            data[i] = np.asarray(tokens)
        return shap.Explanation(values=values, base_values=np.asarray(base), data=data)
    values, data = np.asarray(attr.values), attr.inputs
    if attr.modality == "image":
        values = np.transpose(values, (0, 2, 3, 1))
        data = None if data is None else np.transpose(data, (0, 2, 3, 1))
    return shap.Explanation(
        values=values, base_values=np.asarray(base),
        data=None if data is None else np.asarray(data),
        feature_names=list(attr.feature_names) if attr.feature_names else None,
    )


def from_shap(explanation: Any, *, method: str = "shap", target: Any = None,
              class_names: Any = None) -> Attribution:
    """An Attribution from a ``shap.Explanation`` of a single output (tabular or image).

    For a multi-output explanation pick the output first: ``explanation[..., k]``.
    """
    from explain.results import Attribution

    values = np.asarray(explanation.values, dtype=float)
    if values.ndim == 1:
        values = values[None]
    base = np.broadcast_to(np.asarray(explanation.base_values, dtype=float), (len(values),)).copy() \
        if np.ndim(explanation.base_values) <= 1 else None
    if base is None:
        raise InputError("The Explanation has several outputs; pick one first: explanation[..., k].")
    data = None if explanation.data is None else np.asarray(explanation.data, dtype=float).reshape(values.shape)
    modality = "tabular" if values.ndim == 2 else "image"
    if modality == "image":  # shap keeps images channels-last
        values = np.transpose(values, (0, 3, 1, 2))
        data = None if data is None else np.transpose(data, (0, 3, 1, 2))
    targets = np.zeros(len(values), dtype=np.int64) if target is None else np.broadcast_to(target, len(values))
    names = explanation.feature_names
    return Attribution(
        values=values, method=method, target=targets, modality=modality, inputs=data,
        feature_names=list(names) if names is not None and modality == "tabular" else None,
        class_names=class_names, base_values=base,
        outputs=values.reshape(len(values), -1).sum(axis=1) + base, params={"source": "shap"},
    )
