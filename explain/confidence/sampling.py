"""The stochastic passes of the uncertainty family: switching MC dropout on and off, and
test-time augmentation.

Example:
    >>> import torch, explain
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 2))
    >>> model = explain.Model(net, task="classification", modality="tabular")
    >>> with mc_dropout(model) as layers:
    ...     print(len(layers), net[1].training, net[0].training)
    1 True False
    >>> net[1].training
    False
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explain.core.batch import Batch
from explain.core.model import Model
from explain.errors import InputError, MethodError

__all__ = ["dropout_layers", "mc_dropout", "Augmenter", "augmentations_for"]

_DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                  nn.FeatureAlphaDropout)
_AUGMENTATIONS = {"tabular": ("noise",), "image": ("noise", "shift", "flip")}
_OTHERS = "use method='ensemble' (models=[...]), 'tta' (test-time augmentation) or 'softmax' (one pass)"


# --- MC dropout -------------------------------------------------------------------------
def dropout_layers(network: nn.Module) -> list[nn.Module]:
    """The dropout modules of ``network`` with a drop probability above zero."""
    return [m for m in network.modules() if isinstance(m, _DROPOUT_TYPES) and float(m.p) > 0]


def _no_dropout_reason(model: Model) -> str:
    graph = getattr(model.network, "graph", None)
    nodes: list[Any] = list(graph.nodes) if isinstance(graph, torch.fx.Graph) else []
    names = {str(getattr(n, "target", "")) for n in nodes}
    if any("dropout" in name for name in names):
        return ("its exported graph runs dropout as a fixed function in eval mode "
                "(torch.export bakes train=False in), so it cannot be switched on")
    scripted = [m for m in model.network.modules() if "Dropout" in str(getattr(m, "original_name", ""))]
    if scripted and model.format == "torchscript":
        return "its dropout is compiled into TorchScript, where explain cannot switch it on alone"
    return "it has no dropout layers (torch.nn.Dropout with p > 0)"


@contextlib.contextmanager
def mc_dropout(model: Model) -> Iterator[list[nn.Module]]:
    """Switch on the dropout layers of ``model`` (and only those: BatchNorm and the rest stay
    in eval mode); every module's ``training`` flag is restored afterwards, also on errors.

    Raises:
        MethodError: the model has no dropout layer that can be switched on.
    """
    layers = dropout_layers(model.network)
    if not layers:
        raise MethodError(
            f"MC dropout cannot serve this {model.format} model: {_no_dropout_reason(model)}. "
            f"For its uncertainty {_OTHERS}."
        )
    saved = [(m, m.training) for m in model.network.modules()]
    try:
        for layer in layers:
            layer.training = True
        yield layers
    finally:
        for module, flag in saved:
            module.training = flag


# --- test-time augmentation -------------------------------------------------------------
class Augmenter:
    """Sample 0 is the input itself; later samples add noise in each feature's (channel's)
    scale and, for images, shift by whole pixels (edges replicated) and flip left-right."""

    def __init__(self, batch: Batch, kinds: Sequence[str], noise: float, shift: int,
                 scale: Any, n_samples: int, seed: int) -> None:
        x = batch.x
        self.kinds = tuple(kinds)
        self.shift = shift
        if scale is not None:
            given = torch.as_tensor(np.asarray(scale, dtype=np.float32)).to(x.device)
            self.scale = given if x.ndim == 2 else given.reshape(1, -1, *([1] * (x.ndim - 2)))
        elif x.ndim == 2:
            self.scale = x.std(dim=0, unbiased=False)
        else:
            self.scale = x.transpose(0, 1).reshape(x.shape[1], -1).std(dim=1, unbiased=False)
            self.scale = self.scale.reshape(1, -1, *([1] * (x.ndim - 2)))
        self.noise = float(noise)
        rng = np.random.default_rng(seed)
        self.offsets = rng.integers(-shift, shift + 1, size=(n_samples, 2))
        self.flips = rng.random(n_samples) < 0.5
        self.generator = torch.Generator().manual_seed(int(seed))

    def __call__(self, x: torch.Tensor, s: int) -> torch.Tensor:
        if s == 0:
            return x
        if "flip" in self.kinds and self.flips[s]:
            x = torch.flip(x, dims=[-1])
        if "shift" in self.kinds and self.shift > 0:
            k = self.shift
            dy, dx = (int(v) for v in self.offsets[s])
            padded = F.pad(x, (k, k, k, k), mode="replicate")
            x = padded[..., k + dy: k + dy + x.shape[-2], k + dx: k + dx + x.shape[-1]]
        if "noise" in self.kinds and self.noise > 0:
            draw = torch.randn(x.shape, generator=self.generator).to(x.device)
            x = x + self.noise * self.scale * draw
        return x


def augmentations_for(model: Model, augmentations: Sequence[str] | None) -> tuple[str, ...]:
    if model.modality == "text":
        raise MethodError(
            "Test-time augmentation serves tabular and image models; for text models use "
            "method='mc_dropout' (the model's dropout) or 'softmax'."
        )
    allowed = _AUGMENTATIONS[model.modality]
    kinds = tuple(augmentations) if augmentations is not None else (
        ("noise",) if model.modality == "tabular" else ("shift", "noise"))
    bad = [k for k in kinds if k not in allowed]
    if bad or not kinds:
        raise InputError(
            f"augmentations for {model.modality} models are chosen from {list(allowed)}; got "
            f"{list(kinds)}. Pass e.g. augmentations={list(allowed[:2])}."
        )
    return kinds
