"""Turn what a user passes as inputs into tensors the model takes, checking shapes.

Inputs may be a Dataset (or a slice of one), a tensor, an ndarray, a DataFrame,
nested lists of numbers, or a list of strings for text models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from explain.errors import DataError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from explain.core.model import Model


@dataclass
class Batch:
    """Model-ready inputs: a tensor (tabular, image) or token ids and mask (text)."""

    model: Model
    x: torch.Tensor
    attention_mask: torch.Tensor | None = None
    tokens: list[list[str]] | None = None

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def slice(self, start: int, stop: int) -> Batch:
        mask = None if self.attention_mask is None else self.attention_mask[start:stop]
        tokens = None if self.tokens is None else self.tokens[start:stop]
        return Batch(self.model, self.x[start:stop], mask, tokens)

    def forward_args(self) -> tuple[torch.Tensor, ...]:
        """Arguments for ``model.forward_module``: text goes in as token embeddings."""
        if self.model.modality == "text":
            return (self.embed(self.x), self.attention_mask)
        return (self.x,)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model.embeddings()(ids).detach()


def prepare(model: Model, inputs: Any) -> Batch:
    """Convert ``inputs`` for ``model`` and check they fit it.

    Raises:
        InputError: the inputs have a type explain cannot use.
        DataError: the inputs do not fit the model (feature count, image size).
    """
    from explain.core.dataset import Dataset

    if isinstance(inputs, Dataset):
        if inputs.modality != model.modality:
            raise DataError(
                f"The dataset holds {inputs.modality} data but the model takes "
                f"{model.modality} inputs. Load the dataset that belongs to this model."
            )
        inputs = inputs.texts if inputs.modality == "text" else inputs.x
    if model.modality == "text":
        return _tokenize(model, inputs)
    x = _to_tensor(inputs)
    x = _check_shape(model, x)
    return Batch(model, x.to(model.device))


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
    if not torch.isfinite(x).all():
        raise DataError(
            "The inputs contain NaN or infinite values. Fill or drop them first "
            "(explain.load_dataset(..., missing='drop') drops incomplete rows)."
        )
    return x.float()


def _check_shape(model: Model, x: torch.Tensor) -> torch.Tensor:
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


def _tokenize(model: Model, inputs: Any) -> Batch:
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
