"""True labels in the model's own output indices, for the sections that score the model
(robustness, calibration, conformal prediction, selective prediction).

A dataset numbers its classes in its own order (see :func:`explain.data.encode_labels`);
the model numbers them in the order it was trained with. Where both name their classes,
labels are matched by name; otherwise the dataset's indices are taken as they are.

Example:
    >>> import numpy as np, torch, explain
    >>> model = explain.Model(torch.nn.Linear(2, 2), task="classification",
    ...                       modality="tabular", class_names=["yes", "no"])
    >>> data = explain.Dataset(np.zeros((3, 2)), np.array([0, 1, 1]), class_names=["no", "yes"])
    >>> true_labels(model, data).tolist()
    [1, 0, 0]
    >>> true_labels(model, data, [True, False, True]).tolist()
    [1, 0, 1]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .data import Dataset
from .errors import DataError, InputError
from .model import Model

__all__ = ["true_labels"]


def true_labels(model: Model, inputs: Any, targets: Any = None) -> np.ndarray:
    """The labels of ``inputs`` as model output indices (classification) or values (regression).

    Args:
        model: the model whose outputs the labels index.
        inputs: the examples; a :class:`Dataset` brings its own labels.
        targets: explicit labels (one per example); they win over the dataset's.

    Raises:
        DataError: there are no labels, or they name classes the model does not have.
    """
    if targets is None:
        if not isinstance(inputs, Dataset) or inputs.y is None:
            raise DataError(
                "This needs the true labels: pass targets=... (one per example), or a Dataset "
                "loaded with target=<label column>."
            )
        if model.task == "classification":
            return _from_dataset(model, inputs)
        return inputs.y.astype(np.float64)
    try:
        array = np.asarray(targets)
    except (TypeError, ValueError) as err:  # pragma: no cover - numpy accepts nearly anything
        raise InputError(f"targets must be an array of labels; got {type(targets).__name__}.") from err
    if hasattr(targets, "detach"):
        array = targets.detach().cpu().numpy()
    array = array.reshape(-1)
    if model.task == "classification":
        if array.dtype == np.bool_:  # False / True are classes 0 / 1
            array = array.astype(np.int64)
        if not np.issubdtype(array.dtype, np.integer):
            if np.issubdtype(array.dtype, np.floating) and np.all(array == np.round(array)):
                array = array.astype(np.int64)
            else:
                raise InputError(
                    "targets of a classifier must be class indices (integers); map class names "
                    "to the model's output order first."
                )
        return array.astype(np.int64)
    return array.astype(np.float64)


def _from_dataset(model: Model, data: Dataset) -> np.ndarray:
    labels = data.labels or []
    names = model.class_names
    if names:
        index = {str(name): i for i, name in enumerate(names)}
        if all(label in index for label in labels):
            return np.array([index[label] for label in labels], dtype=np.int64)
    if all(_is_int(label) for label in labels):  # "0", "1", ... are output indices
        return np.array([int(label) for label in labels], dtype=np.int64)
    if names:
        unknown = sorted({label for label in labels if label not in names})[:5]
        raise DataError(
            f"The dataset has labels {unknown} that are not among the model's classes "
            f"{list(names)[:10]}. Check the target column, or rename the labels to match."
        )
    return np.asarray(data.y, dtype=np.int64)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()
