"""What kind of input a network takes (table, image or text), read from the network itself.

A file exported without explain's metadata still says a lot: a torch.export program and
an ONNX graph carry their example input (rank and dtype), and any network's first layer
tells what it consumes. This module turns those facts into a modality, or into a sentence
saying why they do not decide it (then :func:`explain.load_model` asks for
``modality=...``).

Example:
    >>> modality_from_input(4, floating=True), modality_from_input(2, floating=True)
    ('image', 'tabular')
    >>> import torch
    >>> first_layer(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU()))[0]
    'Conv2d'
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["first_layer", "modality_from_input", "modality_from_layer", "undecided_input",
           "undecided_layer"]

# The input rank (batch axis included) of a float input and the modality it implies.
_RANKS = {2: "tabular", 4: "image"}
# The first layer with weights and the modality it implies.
_LAYERS = {"Linear": "tabular", "Bilinear": "tabular", "Conv2d": "image"}
# Layers that hold weights but do not tell what the input is (normalisation first).
_NEUTRAL = {"BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d"}


def modality_from_input(rank: int | None, *, floating: bool) -> str | None:
    """The modality an example input implies: float ``(batch, features)`` is a table,
    float ``(batch, channels, height, width)`` an image; anything else does not decide it.

    Integer inputs are token ids, but explain explains text models only with their
    tokenizer (a Hugging Face folder), so they decide nothing here either.
    """
    if rank is None or not floating:
        return None
    return _RANKS.get(rank)


def undecided_input(dims: Any, *, floating: bool) -> str:
    """Why an example input of shape ``dims`` (batch axis first) does not decide the modality."""
    shape = ", ".join("batch" if i == 0 else ("?" if d is None else str(d)) for i, d in enumerate(dims))
    if not floating:
        return (f"its input is integer ids of shape ({shape}); text models are explained with "
                "their tokenizer, so export a Hugging Face folder (save_pretrained) instead")
    return (f"its input has shape ({shape}): neither a table (batch, features) nor an image "
            "(batch, channels, height, width)")


def first_layer(network: nn.Module) -> tuple[str, torch.Tensor] | None:
    """The type name and weight of the first layer with a weight matrix, in registration
    order (TorchScript modules report their original class name)."""
    for module in network.modules():
        kind = getattr(module, "original_name", None) or type(module).__name__
        weight = getattr(module, "weight", None)
        if kind in _NEUTRAL or not isinstance(weight, torch.Tensor) or weight.ndim < 2:
            continue
        return kind, weight
    return None


def modality_from_layer(network: nn.Module) -> str | None:
    """The modality the network's first layer implies (Linear: table, Conv2d: image)."""
    found = first_layer(network)
    return _LAYERS.get(found[0]) if found else None


def undecided_layer(network: nn.Module) -> str:
    """Why the network's layers do not decide the modality."""
    found = first_layer(network)
    if found is None:
        return "it has no layer with weights that shows what it takes"
    return f"its first layer is a {found[0]}, which takes neither a table nor an image alone"
