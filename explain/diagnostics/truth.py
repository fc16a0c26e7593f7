"""The model's outputs beside the true labels, matched with them: the one path that
:func:`~explain.diagnostics.scoring.score`, :func:`explain.performance` and
:func:`explain.slices` share.

Classifiers: a labelled Dataset's labels are matched with the outputs by
:func:`explain.core.labels.label_mapping` (by name, as indices, or in sorted order, said in
``mapping``); explicit ``targets`` are output indices (see :func:`explain.core.labels.labels_of`).
A classifier with one sigmoid output counts as two classes (its logit z as [0, z]).

Example:
    >>> import numpy as np, torch, explain
    >>> model = explain.Model(torch.nn.Identity(), task="classification", modality="tabular",
    ...                       input_shape=(2,))
    >>> data = explain.Dataset(np.array([[2.0, 0], [0, 1]]), np.array([0, 0]), class_names=["no", "yes"])
    >>> found = labelled_outputs(model, data)
    >>> found.truth.tolist(), found.predicted.tolist(), found.class_names
    ([0, 0], [0, 1], ('no', 'yes'))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from explain.core.batch import prepare
from explain.core.dataset import Dataset, encode_labels
from explain.core.labels import label_mapping, labels_of
from explain.core.model import Model
from explain.core.running import log_softmax, outputs
from explain.errors import DataError

__all__ = ["Labelled", "labelled_outputs"]


@dataclass(frozen=True)
class Labelled:
    """Outputs and true labels of the same rows.

    Attributes:
        outputs: ``(n, outputs)`` float64: logits (classifiers, two columns for one sigmoid
            output) or predictions (regression).
        truth: ``(n,)`` true output indices (classifiers) or values (regression).
        mapping: how labels were matched with outputs where that was assumed, else None.
        rows: the row ids of the examples (``Dataset.rows``; ``0..n-1`` for arrays).
        class_names: a name for each output of a classifier: the model's, else the
            dataset's where its labels were matched in sorted order, else the output
            indices as text; None for a regression.
    """

    outputs: np.ndarray
    truth: np.ndarray
    mapping: str | None
    rows: np.ndarray
    class_names: tuple[str, ...] | None

    @property
    def predicted(self) -> np.ndarray:
        """The predicted class (argmax) or value of each row."""
        return self.outputs.argmax(axis=1) if self.class_names is not None else self.outputs[:, 0]

    @property
    def probabilities(self) -> np.ndarray:
        """Softmax of a classifier's logits, ``(n, classes)``."""
        return np.exp(log_softmax(self.outputs))


def labelled_outputs(
    model: Model, inputs: Any, targets: Any = None, *, batch_size: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> Labelled:
    """Run ``model`` on ``inputs`` and match the outputs with the true labels.

    Raises:
        DataError: no labels, labels that cannot be matched with the outputs, class
            indices outside them, or a regression with more than one output.
    """
    batch = prepare(model, inputs)
    values = outputs(model, batch, batch_size, progress)
    k = values.shape[1]
    mapping = None
    if model.task == "classification":
        own = targets is None and isinstance(inputs, Dataset) and inputs.y is not None
        if own:
            truth, mapping = label_mapping(model, inputs, n_outputs=k)
        else:
            truth = labels_of(model, inputs, targets, batch.n)
        if len(truth) and (truth.min() < 0 or truth.max() >= k):
            raise DataError(
                f"Labels must be class indices from 0 to {k - 1} (the model has {k} outputs); got values "
                f"from {truth.min()} to {truth.max()}. Map the labels to the model's classes."
            )
        return Labelled(values, truth, mapping, batch.rows, _class_names(model, inputs, k, mapping))
    if k != 1:
        raise DataError(f"The regression model has {k} outputs; R² is measured for one output.")
    truth = labels_of(model, inputs, targets, batch.n)
    return Labelled(values, truth, None, batch.rows, None)


def _class_names(model: Model, inputs: Any, k: int, mapping: str | None) -> tuple[str, ...]:
    if model.class_names and len(model.class_names) == k:
        return tuple(str(c) for c in model.class_names)
    if mapping is not None:  # labels matched in the dataset's sorted order: its names number the outputs
        names = inputs.class_names or encode_labels(inputs.labels or [])[1]
        if len(names) == k:
            return tuple(names)
    return tuple(str(i) for i in range(k))
