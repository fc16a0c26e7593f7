"""Architectures that safetensors weights can be loaded into without running user code.

A folder (or zip) holding ``config.json`` with an ``"architecture"`` key naming an
entry of :data:`ARCHITECTURES` and a ``model.safetensors`` file is a safe model
format: the code is ours, the file only carries numbers.

Example:
    >>> from explain.loading.architectures import build
    >>> net = build("mlp", n_features=4, hidden=[8], n_outputs=2)
    >>> tuple(net(__import__("torch").zeros(3, 4)).shape)
    (3, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from explain.errors import ModelFormatError

__all__ = ["ARCHITECTURES", "build", "Standardize", "MLP", "SmallCNN"]


class Standardize(nn.Module):
    """Subtract a per-feature mean and divide by a per-feature scale (stored as buffers).

    Keeping the scaling inside the model means attributions are given for the raw
    features, in the units the user's data is written in.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale


class MLP(nn.Module):
    """A multilayer perceptron for tables: standardise, then Linear + ReLU blocks."""

    def __init__(
        self,
        n_features: int,
        hidden: Sequence[int] = (64, 32),
        n_outputs: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.standardize = Standardize(n_features)
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.standardize(x))


class SmallCNN(nn.Module):
    """A two-block convolutional classifier for small images (such as 8x8 digits)."""

    def __init__(
        self,
        in_channels: int = 1,
        height: int = 8,
        width: int = 8,
        n_classes: int = 10,
        channels: Sequence[int] = (16, 32),
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        flat = c2 * (height // 2) * (width // 2)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat, 64),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(64, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLP,
    "small_cnn": SmallCNN,
}


def build(name: str, **arguments: Any) -> nn.Module:
    """Build the registered architecture ``name`` with keyword ``arguments``.

    Raises:
        ModelFormatError: the name is not registered or the arguments do not fit.
    """
    if name not in ARCHITECTURES:
        raise ModelFormatError(
            f"config.json names the architecture {name!r}, which explain does not know. "
            f"Known architectures: {sorted(ARCHITECTURES)}. Export the model with "
            "torch.export (explain.save_model) or as a Hugging Face folder instead."
        )
    try:
        return ARCHITECTURES[name](**arguments)
    except TypeError as err:
        raise ModelFormatError(
            f"The arguments in config.json do not fit the architecture {name!r}: {err}. "
            "Check the 'arguments' entry of config.json."
        ) from err
