"""True labels in the model's own output indices, for the sections that score the model
(robustness, calibration, conformal prediction, selective prediction).

A dataset numbers its classes in its own order (see :func:`explain.core.dataset.encode_labels`);
the model numbers them in the order it was trained with. Where the model names its
classes, labels are matched by name; otherwise integer labels are output indices and
others are taken in the dataset's sorted order (see :func:`label_mapping`).

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

from explain.core.dataset import Dataset, encode_labels
from explain.core.model import Model
from explain.errors import DataError, InputError

__all__ = ["true_labels", "label_mapping", "labels_of"]


def true_labels(model: Model, inputs: Any, targets: Any = None, *, n_outputs: int | None = None) -> np.ndarray:
    """The labels of ``inputs`` as model output indices (classification) or values (regression).

    Args:
        model: the model whose outputs the labels index.
        inputs: the examples; a :class:`Dataset` brings its own labels.
        targets: explicit labels (one per example); they win over the dataset's.
        n_outputs: the model's number of outputs, where known: a dataset's labels are then
            checked against it (see :func:`label_mapping`).

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
            return label_mapping(model, inputs, n_outputs)[0]
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


def labels_of(model: Model, inputs: Any, targets: Any, n: int) -> np.ndarray:
    """True labels in model output order (``targets``, or a labelled Dataset's own), one
    for each of the ``n`` examples.

    Raises:
        DataError: no labels, or not one per example.
    """
    labels = true_labels(model, inputs, targets)
    if len(labels) != n:
        raise DataError(f"Got {len(labels)} labels for {n} examples; pass one label per example.")
    return labels


def label_mapping(model: Model, data: Dataset, n_outputs: int | None = None) -> tuple[np.ndarray, str | None]:
    """A classifier's labels in ``data`` as output indices, and how they were matched
    when that was an assumption (else None).

    In this order: by name, where the model names its classes; as indices, where the
    labels are integers within the outputs; otherwise in sorted order (as scikit-learn's
    ``LabelEncoder`` numbers classes, which is how most models without names were
    trained), where the dataset has as many label values as the model has outputs.
    Give the model its class names (``load_model(..., class_names=[...])``) to change it.

    Raises:
        DataError: the labels cannot be matched with the outputs; the message says how.

    Example:
        >>> import numpy as np, torch, explain
        >>> model = explain.Model(torch.nn.Linear(2, 3), modality="tabular")
        >>> data = explain.Dataset(np.zeros((3, 2)), np.array([2, 0, 1]),
        ...                        class_names=["type_a", "type_b", "type_c"])
        >>> labels, how = label_mapping(model, data, n_outputs=3)
        >>> labels.tolist(), how
        ([2, 0, 1], "labels matched with outputs in sorted order: 'type_a' → 0, 'type_b' → 1, 'type_c' → 2")
    """
    labels = data.labels or []
    names = model.class_names
    if names:
        index = {str(name): i for i, name in enumerate(names)}
        unknown = sorted({label for label in labels if label not in index})
        if not unknown:
            return np.array([index[label] for label in labels], dtype=np.int64), None
        if not all(_is_int(label) for label in labels):
            raise DataError(
                f"The dataset has labels {unknown[:5]} that are not among the model's classes "
                f"{list(names)[:10]}. Check the target column, or rename the labels to match."
            )
    if data.class_names:  # the dataset's own numbering: sorted, for a loaded file
        indices, values = np.asarray(data.y, dtype=np.int64), list(data.class_names)
    else:
        indices, encoded = encode_labels(labels)
        values = list(encoded)
    if all(_is_int(v) for v in values) and (
            n_outputs is None or all(0 <= int(v) < n_outputs for v in values)):
        return np.array([int(label) for label in labels], dtype=np.int64), None  # output indices
    if n_outputs is not None and len(values) != n_outputs:
        raise DataError(
            f"The dataset's labels take {len(values)} values ({', '.join(values[:5])}"
            f"{', ...' if len(values) > 5 else ''}) but the model has {n_outputs} outputs and no "
            "class names, so they cannot be matched. Give the model its class names in output "
            "order: explain.load_model(path, class_names=[...]) (in the app: Model settings)."
        )
    shown = ", ".join(f"{v!r} → {i}" for i, v in enumerate(values[:10]))
    more = ", ..." if len(values) > 10 else ""
    return indices, f"labels matched with outputs in sorted order: {shown}{more}"


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()
