"""Turn what a user passes as inputs into tensors the model takes, checking shapes.

Inputs may be a Dataset (or a slice of one), a tensor, an ndarray, a DataFrame,
nested lists of numbers, or a list of strings for text models. The Batch keeps what
results need besides the tensors: feature and class names, a Dataset's labels, and the
row ids of the examples in the data they came from.

Example:
    >>> import numpy as np, torch, explain
    >>> model = explain.Model(torch.nn.Linear(2, 2), modality="tabular")
    >>> data = explain.Dataset(np.zeros((30, 2)), np.zeros(30, dtype=int), feature_names=["a", "b"])
    >>> batch = prepare(model, data[10:13])
    >>> batch.rows.tolist(), batch.feature_names, batch.slice(1, 3).rows.tolist()
    ([10, 11, 12], ('a', 'b'), [11, 12])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from explain.core.dataset import Dataset
from explain.errors import DataError, InputError

__all__ = ["Batch", "Runnable", "prepare"]


class Runnable(Protocol):
    """What a Batch and the engine below the Model need of a model (explain.Model has it)."""

    task: str
    modality: str
    input_shape: tuple[int, ...] | None
    feature_names: tuple[str, ...] | None
    class_names: tuple[str, ...] | None
    tokenizer: Any
    max_length: int | None
    network: nn.Module
    forward_module: nn.Module

    @property
    def device(self) -> torch.device: ...

    def embeddings(self) -> nn.Module: ...


@dataclass
class Batch:
    """Model-ready inputs: a tensor (tabular, image) or token ids and mask (text), with
    the names, labels and row ids that came with them.

    Attributes:
        model: the model the inputs were prepared for.
        x: the inputs, or token ids (text), on the model's device.
        attention_mask: text: the tokenizer's mask.
        tokens: text: the tokens of each example, padding removed.
        feature_names: the model's feature names, else the dataset's.
        class_names: the model's class names, else (classifiers) the dataset's.
        labels: a Dataset's labels as stored (``Dataset.y``), else None; see
            :mod:`explain.core.labels` for them as output indices.
        rows: the row id of each example in the data it came from (``Dataset.rows``;
            ``0..n-1`` for arrays and tensors).
    """

    model: Runnable
    x: torch.Tensor
    attention_mask: torch.Tensor | None = None
    tokens: list[list[str]] | None = None
    feature_names: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    labels: np.ndarray | None = None
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.rows is None:
            self.rows = np.arange(self.n)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def slice(self, start: int, stop: int) -> Batch:
        """Examples ``start`` to ``stop`` with their tokens, labels and row ids."""
        mask = None if self.attention_mask is None else self.attention_mask[start:stop]
        tokens = None if self.tokens is None else self.tokens[start:stop]
        labels = None if self.labels is None else self.labels[start:stop]
        rows = None if self.rows is None else self.rows[start:stop]
        return dataclasses.replace(self, x=self.x[start:stop], attention_mask=mask, tokens=tokens,
                                   labels=labels, rows=rows)

    def forward_args(self) -> tuple[torch.Tensor, ...]:
        """Arguments for ``model.forward_module``: text goes in as token embeddings."""
        if self.model.modality == "text":
            return (self.embed(self.x), self.attention_mask)
        return (self.x,)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model.embeddings()(ids).detach()


def prepare(model: Runnable, inputs: Any) -> Batch:
    """Convert ``inputs`` for ``model`` and check they fit it.

    A Dataset (or a slice of one) also gives its names where the model has none, its
    labels and its row ids.

    Raises:
        InputError: the inputs have a type explain cannot use.
        DataError: the inputs do not fit the model (feature count, image size).
    """
    data = inputs if isinstance(inputs, Dataset) else None
    if data is not None:
        if data.modality != model.modality:
            raise DataError(
                f"The dataset holds {data.modality} data but the model takes "
                f"{model.modality} inputs. Load the dataset that belongs to this model."
            )
        inputs = data.texts if data.modality == "text" else data.x
    if model.modality == "text":
        batch = _tokenize(model, inputs)
    else:
        x = _check_shape(model, _to_tensor(inputs))
        batch = Batch(model, x.to(model.device))
    if data is None:
        return dataclasses.replace(batch, feature_names=model.feature_names, class_names=model.class_names)
    return dataclasses.replace(batch, feature_names=model.feature_names or data.feature_names,
                               class_names=_class_names(model, data), labels=data.y, rows=data.rows)


def _class_names(model: Runnable, data: Dataset) -> tuple[str, ...] | None:
    """The model's class names; else, for a classifier, the dataset's."""
    if model.class_names or model.task != "classification":
        return model.class_names
    return data.class_names


def _to_tensor(inputs: Any) -> torch.Tensor:
    if isinstance(inputs, torch.Tensor):
        x = inputs.detach()
    else:
        if hasattr(inputs, "to_numpy") and hasattr(inputs, "columns"):  # a DataFrame
            import pandas as pd

            bad = [c for c in inputs.columns if not pd.api.types.is_numeric_dtype(inputs[c])]
            if bad:
                raise DataError(
                    f"Columns {bad} are not numeric. Drop them (or the target column) "
                    "before explaining, or load the file with explain.load_dataset."
                )
            inputs = inputs.to_numpy(dtype=np.float32)
        if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], str):
            raise InputError(
                "Got a list of strings, but this model is not a text model. Pass numbers "
                "(an array, tensor or Dataset) instead."
            )
        try:
            array = np.asarray(inputs, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise InputError(
                f"Could not turn inputs of type {type(inputs).__name__} into numbers ({err}). "
                "Pass a Dataset, a tensor, an ndarray, a DataFrame or a list of strings."
            ) from err
        if not array.flags.writeable:  # a frozen result's array: torch wants its own
            array = array.copy()
        x = torch.from_numpy(array)
    if not torch.is_floating_point(x):
        x = x.float()
    if x.ndim == 0:
        raise InputError("Inputs are a single number; pass a batch of examples.")
    if not _finite(x):
        raise DataError(
            "The inputs contain NaN or infinite values. Fill or drop them first "
            "(explain.load_dataset(..., missing='drop') drops incomplete rows)."
        )
    return x.float()


def _finite(x: torch.Tensor) -> bool:
    """Whether every element is finite; through numpy where it can (a CPU float32 or
    float64 tensor), which is several times faster than torch on one thread."""
    if x.device.type == "cpu" and x.layout == torch.strided and x.dtype in (torch.float32, torch.float64):
        return bool(np.isfinite(x.numpy()).all())
    return bool(torch.isfinite(x).all())


def _check_shape(model: Runnable, x: torch.Tensor) -> torch.Tensor:
    expected = model.input_shape
    if model.modality == "tabular":
        if x.ndim == 1:
            x = x.unsqueeze(0)
        if x.ndim != 2:
            raise DataError(
                f"Tabular inputs must be 2-D (examples, features); got shape {tuple(x.shape)}."
            )
    elif model.modality == "image":
        if x.ndim == 3 and expected is not None and tuple(x.shape) == tuple(expected):
            x = x.unsqueeze(0)
        if x.ndim != 4:
            raise DataError(
                f"Image inputs must be 4-D (images, channels, height, width); got shape "
                f"{tuple(x.shape)}. Add the channel axis for grayscale images."
            )
    if expected is not None and tuple(x.shape[1:]) != tuple(expected):
        if model.modality == "tabular":
            raise DataError(
                f"The model takes {expected[0]} features but the data has {x.shape[1]}. "
                "Check that the target column is set and that the columns match the ones "
                "the model was trained on."
            )
        raise DataError(
            f"The model takes inputs of shape {tuple(expected)} but got "
            f"{tuple(x.shape[1:])}. Resize the images or load the matching dataset."
        )
    return x


def _tokenize(model: Runnable, inputs: Any) -> Batch:
    if isinstance(inputs, str):
        inputs = [inputs]
    if hasattr(inputs, "tolist"):
        inputs = inputs.tolist()
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(t, str) for t in inputs):
        raise InputError(
            f"A text model takes a list of strings (or a text Dataset); got "
            f"{type(inputs).__name__}."
        )
    if not inputs:
        raise InputError("No texts to explain: the list is empty.")
    tokenizer = model.tokenizer
    limit = model.max_length or min(int(getattr(tokenizer, "model_max_length", 512)), 512)
    encoded = tokenizer(
        list(inputs), padding=True, truncation=True, max_length=limit, return_tensors="pt"
    )
    ids = encoded["input_ids"]
    mask = encoded.get("attention_mask")
    if mask is None:
        mask = torch.ones_like(ids)
    tokens = [
        tokenizer.convert_ids_to_tokens(row[m.bool()].tolist())
        for row, m in zip(ids, mask)
    ]
    device = model.device
    return Batch(model, ids.to(device), mask.to(device), tokens)
