"""How well the model does on a labelled dataset: the one scoring path that the app's home
page, the audit's performance section and the CLI share.

Classifiers are scored on output indices: the dataset's labels are matched with the
model's outputs by :func:`explain.core.labels.label_mapping` (by name, as indices, or in
sorted order, which is then said in ``mapping``), through
:func:`explain.diagnostics.truth.labelled_outputs`, the path :func:`explain.performance`
takes too. Regressions get R² and mean absolute error.

Example:
    >>> import numpy as np, torch, explain
    >>> net = torch.nn.Linear(2, 3)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [-1, -1]])), net.bias.zero_()
    >>> model = explain.Model(net, modality="tabular")
    >>> x = np.array([[2, 0], [0, 2], [-2, -2], [0, 2]], dtype=np.float32)
    >>> data = explain.Dataset(x, np.array([0, 1, 2, 0]), class_names=["type_a", "type_b", "type_c"])
    >>> result = score(model, data)
    >>> result.text, result.mapping
    ('75.0%', "labels matched with outputs in sorted order: 'type_a' → 0, 'type_b' → 1, 'type_c' → 2")
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.diagnostics.measures import regression_errors
from explain.diagnostics.truth import labelled_outputs
from explain.errors import DataError

__all__ = ["Score", "score"]


@dataclass(frozen=True)
class Score:
    """The model's score on labelled rows.

    Attributes:
        name: ``"Accuracy"`` (classifiers) or ``"R²"`` (regression).
        value: the score.
        rows: how many labelled rows it was measured on.
        metrics: gate metrics: ``accuracy``, or ``r2`` and ``mae``.
        mapping: how labels were matched with outputs, where that was assumed; else None.
    """

    name: str
    value: float
    rows: int
    metrics: dict[str, float] = field(default_factory=dict)
    mapping: str | None = None

    @property
    def text(self) -> str:
        """The value as shown: a percentage for accuracy, three decimals for R²."""
        return f"{self.value:.1%}" if self.name == "Accuracy" else f"{self.value:.3f}"


def score(model: Model, data: Dataset) -> Score:
    """Accuracy (classifiers) or R² and mean absolute error (regression) on ``data``.

    Raises:
        DataError: the dataset has no labels, or its labels cannot be matched with the
            model's outputs (the message says how to fix it).
    """
    if data.y is None:
        raise DataError("The dataset has no labels, so the model cannot be scored; load it with target=...")
    found = labelled_outputs(model, data)
    if model.task == "classification":
        accuracy = float(np.mean(found.predicted == found.truth))
        return Score("Accuracy", accuracy, len(data), {"accuracy": accuracy}, found.mapping)
    errors = regression_errors(np.asarray(found.truth, dtype=np.float64), found.predicted)
    return Score("R²", errors["r2"], len(data), {"r2": errors["r2"], "mae": errors["mae"]})
