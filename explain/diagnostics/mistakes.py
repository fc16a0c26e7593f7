"""Where the model is wrong, row by row, streamed: the one pass of error analysis through
the model.

The rows go through :func:`explain.core.running.outputs` a batch at a time (text is
tokenized a batch at a time too), and only small per-row arrays are kept: the error
(classification: 1.0 where the predicted class is not the true one; regression: the
absolute residual) and the derived features that text and image cohorts are described by.

Derived features (:data:`DERIVED`): ``true class`` and ``predicted class`` (classifiers),
``confidence`` (the softmax probability of the predicted class), ``true value`` and
``prediction`` (regression), and for text ``length (tokens)`` (the tokenizer's tokens,
special tokens included, after truncation) and ``length (words)`` (whitespace-separated
words of the text as given).

Example:
    >>> import numpy as np, torch, explain
    >>> net = torch.nn.Linear(1, 2)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[-1.0], [1.0]])), net.bias.zero_()
    >>> model = explain.Model(net, modality="tabular")
    >>> data = explain.Dataset(np.array([[-1.0], [1.0], [2.0]]), np.array([0, 0, 1]))
    >>> found = predict_errors(model, data, batch_size=2)
    >>> found.errors.tolist(), found.derived["predicted class"].tolist()
    ([0.0, 1.0, 0.0], [0, 1, 1])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explain.core.batch import prepare
from explain.core.budget import row_bytes, rows_per_batch
from explain.core.dataset import Dataset
from explain.core.labels import label_mapping
from explain.core.model import Model
from explain.core.running import log_softmax, outputs
from explain.errors import DataError

__all__ = ["DERIVED", "Mistakes", "predict_errors"]

DERIVED = {
    "true class": "the row's label (classifiers)",
    "predicted class": "the class the model predicts (classifiers)",
    "confidence": "the softmax probability of the predicted class (classifiers)",
    "true value": "the row's label (regression)",
    "prediction": "the model's output (regression)",
    "length (tokens)": "tokens the tokenizer makes of the text, special tokens included (text)",
    "length (words)": "whitespace-separated words of the text (text)",
}
"""Each derived feature and what it measures."""

_RAY_BATCHES = 16  # batches per call when the backend is Ray, so that its actors share them


@dataclass
class Mistakes:
    """The per-row outcome of the model on a labelled dataset.

    Attributes:
        errors: float64 per row: 0/1 (classification) or the absolute residual.
        binary: whether the errors are 0/1.
        derived: derived feature name -> one value per row (see :data:`DERIVED`).
        class_names: classifiers: the name of each output index.
        batch_size: rows per forward pass.
        mapping: how labels were matched with outputs, where that was assumed.
    """

    errors: np.ndarray
    binary: bool
    derived: dict[str, np.ndarray] = field(default_factory=dict)
    class_names: tuple[str, ...] = ()
    batch_size: int = 0
    mapping: str | None = None


def predict_errors(model: Model, data: Dataset, *, batch_size: int | None = None,
                   progress: Callable[[float], None] | None = None, backend: Any = None) -> Mistakes:
    """Run ``model`` over the labelled ``data`` in batches and keep only per-row errors and
    derived features.

    Raises:
        DataError: no labels, labels that do not match the model's outputs, or a regression
            model with more than one output.
    """
    if data.y is None:
        raise DataError("Error analysis needs labels: load the dataset with target=<label column>, "
                        "or build it as explain.Dataset(x, y).")
    n = len(data)
    inputs = data.texts if data.texts is not None else data.x
    first = prepare(model, inputs[: min(n, 2)])
    out0 = outputs(model, first, 2)
    if model.task == "regression" and out0.shape[1] != 1:
        raise DataError(f"The regression model has {out0.shape[1]} outputs; error analysis measures "
                        "the residual of one output. Wrap the model so that it returns one.")
    size = batch_size or rows_per_batch(row_bytes(model, first), n=n, device=model.device)
    span = size if backend in (None, "local") else size * _RAY_BATCHES
    truth, mapping = _truth(model, data, out0.shape[1])
    found = Mistakes(np.empty(n), model.task == "classification", batch_size=size, mapping=mapping,
                     class_names=tuple(model.class_names or data.class_names or
                                       (str(i) for i in range(out0.shape[1]))))
    keep = {name: np.empty(n, dtype=dtype) for name, dtype in _derived_types(model).items()}
    for start in range(0, n, span):
        stop = min(n, start + span)
        batch = prepare(model, inputs[start:stop])
        out = outputs(model, batch, size, backend=backend)
        _keep(model, out, truth[start:stop], found.errors[start:stop], keep, start, stop)
        if "length (tokens)" in keep:
            keep["length (tokens)"][start:stop] = batch.attention_mask.sum(dim=1).cpu().numpy()
            keep["length (words)"][start:stop] = [len(t.split()) for t in data.texts[start:stop]]
        if progress is not None:
            progress(stop / n)
    found.derived = keep
    return found


def _derived_types(model: Model) -> dict[str, type]:
    kinds: dict[str, type] = (
        {"true class": np.int32, "predicted class": np.int32, "confidence": np.float32}
        if model.task == "classification" else {"true value": np.float64, "prediction": np.float64})
    if model.modality == "text":
        kinds.update({"length (tokens)": np.int32, "length (words)": np.int32})
    return kinds


def _keep(model: Model, out: np.ndarray, truth: np.ndarray, errors: np.ndarray,
          keep: dict[str, np.ndarray], start: int, stop: int) -> None:
    """Write one chunk's errors and derived features in place."""
    if model.task == "classification":
        predicted = out.argmax(axis=1)
        errors[:] = predicted != truth
        keep["true class"][start:stop] = truth
        keep["predicted class"][start:stop] = predicted
        keep["confidence"][start:stop] = np.exp(log_softmax(out).max(axis=1))
    else:
        errors[:] = np.abs(out[:, 0] - truth)
        keep["true value"][start:stop] = truth
        keep["prediction"][start:stop] = out[:, 0]


def _truth(model: Model, data: Dataset, n_outputs: int) -> tuple[np.ndarray, str | None]:
    """The labels as output indices (classifiers) or values, without a string per row:
    labels are matched once per distinct value (the match depends only on which values
    there are), then looked up."""
    if model.task != "classification":
        return np.asarray(data.y, dtype=np.float64), None
    values, inverse = np.unique(np.asarray(data.y), return_inverse=True)
    distinct = Dataset(np.zeros((len(values), 1)), values, class_names=data.class_names, task="classification")
    mapped, mapping = label_mapping(model, distinct, n_outputs=n_outputs)
    if ((mapped < 0) | (mapped >= n_outputs)).any():
        raise DataError(f"The labels take values outside the model's {n_outputs} outputs; check the "
                        "target column, or give the model its class names in output order.")
    return mapped[inverse.reshape(-1)], mapping
