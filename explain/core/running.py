"""Helpers of the uncertainty family (private): running a model for its logits, labels,
seeding, switching MC dropout on and off, and test-time augmentation."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explain.core import rng as _rng
from explain.core.batch import Batch
from explain.core.budget import batch_rows
from explain.core.labels import true_labels
from explain.core.model import Model
from explain.errors import DataError, InputError, MethodError

_DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                  nn.FeatureAlphaDropout)
_AUGMENTATIONS = {"tabular": ("noise",), "image": ("noise", "shift", "flip")}
_OTHERS = "use method='ensemble' (models=[...]), 'tta' (test-time augmentation) or 'softmax' (one pass)"


# --- running the model ------------------------------------------------------------------
def check_model(model: Any, name: str = "model") -> Model:
    if not isinstance(model, Model):
        raise InputError(
            f"{name} must be an explain.Model, got {type(model).__name__}. Wrap a module with "
            "explain.Model(module, task=..., modality=...) or load one with explain.load_model."
        )
    return model


def check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InputError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def class_logits(out: torch.Tensor) -> torch.Tensor:
    """Logits of a classifier as (batch, classes); one sigmoid logit z becomes [0, z], whose
    softmax is [1 - sigmoid(z), sigmoid(z)]."""
    if out.shape[1] == 1:
        return torch.cat([torch.zeros_like(out), out], dim=1)
    return out


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``log softmax(logits / temperature)`` over the last axis, in float64 numpy."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def outputs(model: Model, batch: Batch, batch_size: int | None,
            progress: Callable[[float], None] | None = None, backend: Any = None) -> np.ndarray:
    """The model's raw outputs in float64, (n, outputs); classifiers as in :func:`class_logits`.

    ``batch_size`` rows go through at once (None: as many as the memory budget holds);
    ``backend="ray"`` runs the same chunks on Ray actors (see :mod:`explain.runtime.backends`)."""
    from explain.runtime.backends import Local, get_backend

    batch_size = batch_rows(model, batch, batch_size)
    chosen = get_backend(backend)
    if not isinstance(chosen, Local):
        chunks = []
        for start in range(0, batch.n, batch_size):
            part = batch.slice(start, start + batch_size)
            chunks.append((part.x.cpu(), None if part.attention_mask is None else part.attention_mask.cpu()))
        return np.concatenate(chosen.map(model, _chunk_outputs, chunks, progress), axis=0)
    parts = []
    with torch.no_grad():
        for start in range(0, batch.n, batch_size):
            part = batch.slice(start, start + batch_size)
            out = model.forward_module(*part.forward_args()).detach().double().cpu()
            parts.append(class_logits(out) if model.task == "classification" else out)
            if progress is not None:
                progress(min(1.0, (start + part.n) / batch.n))
    return torch.cat(parts).numpy()


def _chunk_outputs(model: Model, x: torch.Tensor, mask: torch.Tensor | None) -> np.ndarray:
    """One chunk's outputs, where the backend runs it."""
    part = Batch(model, x.to(model.device), None if mask is None else mask.to(model.device))
    return outputs(model, part, max(1, part.n))


def labels_of(model: Model, inputs: Any, targets: Any, n: int) -> np.ndarray:
    """True labels in model output order (``targets``, or a labelled Dataset's own).

    Raises:
        DataError: no labels, or not one per example.
    """
    labels = true_labels(model, inputs, targets)
    if len(labels) != n:
        raise DataError(f"Got {len(labels)} labels for {n} examples; pass one label per example.")
    return labels


def seeded(seed: int, device: torch.device) -> contextlib.AbstractContextManager[None]:
    """Seed the generators for the block, one thread at a time (see :mod:`explain.core.rng`)."""
    return _rng.seeded(seed, device)


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
