"""Attention maps of transformers: every layer and head, rollout and class relevance.

Two kinds of model are read: Hugging Face models (text classifiers and ViT-like image
classifiers), run with the eager attention kernel (which returns the weights; the
outputs are the same), and any module built on ``nn.MultiheadAttention`` (including
``nn.TransformerEncoderLayer``), whose weights are captured by hooks that ask each
attention module for its per-head weights.

See :func:`attention` for an example.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from explain.core.batch import Batch, prepare
from explain.core.budget import batch_rows, check_batch_size
from explain.core.model import Model, check_model
from explain.core.running import raw_outputs, resolve_targets
from explain.errors import MethodError
from explain.results import AttentionMaps

__all__ = ["attention", "attention_support"]


def attention(
    model: Model,
    inputs: Any,
    *,
    target: int | np.ndarray | list[int] | None = None,
    gradients: bool = True,
    batch_size: int | None = None,
) -> AttentionMaps:
    """Attention weights of every layer and head for ``inputs``.

    Args:
        model: an :class:`explain.Model` holding a transformer.
        inputs: texts, images, or any inputs the model takes.
        target: the class whose gradients weight the relevance (default: predicted).
        gradients: also record d(target logit)/d(weights) for ``AttentionMaps.relevance``.
        batch_size: examples per forward pass; None: as many as the memory budget holds
            (see :mod:`explain.core.budget`).

    Raises:
        MethodError: the model has no attention layers explain can read.

    Example:
        >>> import torch, explain
        >>> class Tiny(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.attn = torch.nn.MultiheadAttention(4, 2, batch_first=True)
        ...         self.head = torch.nn.Linear(4, 2)
        ...     def forward(self, x):  # 20 features read as 5 tokens of width 4
        ...         tokens = x.reshape(-1, 5, 4)
        ...         y, _ = self.attn(tokens, tokens, tokens, need_weights=False)
        ...         return self.head(y.mean(1))
        >>> model = explain.Model(Tiny(), input_shape=(20,))
        >>> maps = explain.attention(model, torch.randn(3, 20))
        >>> maps.weights.shape
        (3, 1, 2, 5, 5)
    """
    check_model(model)
    check_batch_size(batch_size)
    batch = prepare(model, inputs)
    reader = _reader(model)
    batch_size = batch_rows(model, batch, batch_size, gradients=gradients)
    outputs = raw_outputs(model, batch, batch_size).float()
    targets = resolve_targets(model, target, outputs, batch.n)
    chunks: list[tuple[list[torch.Tensor], list[torch.Tensor] | None]] = []
    for start in range(0, batch.n, batch_size):
        part = batch.slice(start, start + batch_size)
        chunks.append(reader(model, part, targets[start : start + batch_size] if gradients else None))
    tokens, grid = _tokens(model, batch, chunks[0][0][0].shape[-1])
    weights = _assemble([c[0] for c in chunks], batch, tokens)
    grads = _assemble([c[1] for c in chunks], batch, tokens) if gradients else None
    return AttentionMaps(
        weights=weights, tokens=tokens, target=targets.cpu().numpy() if gradients else None, gradients=grads,
        grid=grid, inputs=batch.x.cpu().numpy() if model.modality == "image" else None,
        class_names=model.class_names, params={"reader": reader.__name__.strip("_")},
    )


def attention_support(model: Model) -> str | None:
    """None when :func:`attention` can read the model, else the reason it cannot."""
    try:
        _reader(model)
    except MethodError as err:
        return str(err)
    return None


def _reader(model: Model) -> Any:
    network = model.network
    if hasattr(network, "config") and hasattr(network.config, "num_attention_heads"):
        return _huggingface
    if any(isinstance(m, nn.MultiheadAttention) for m in network.modules()):
        return _multihead
    raise MethodError(
        "This model has no attention explain can read: it looked for a Hugging Face transformer "
        "(a config with num_attention_heads) and for nn.MultiheadAttention layers, and found neither."
    )


def _with_gradients(weights: list[torch.Tensor], logits: torch.Tensor, targets: torch.Tensor | None
                    ) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    if targets is None:
        return [w.detach() for w in weights], None
    chosen = logits[torch.arange(len(logits)), targets].sum()
    grads = torch.autograd.grad(chosen, weights, allow_unused=True)
    grads = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, grads)]
    return [w.detach() for w in weights], [g.detach() for g in grads]


@contextlib.contextmanager
def _eager(network: nn.Module) -> Iterator[None]:
    """Run a Hugging Face model with the eager attention kernel, which returns weights."""
    config = network.config
    before = getattr(config, "_attn_implementation", "eager")
    if before != "eager" and hasattr(network, "set_attn_implementation"):
        network.set_attn_implementation("eager")
    try:
        yield
    finally:
        if before != "eager" and hasattr(network, "set_attn_implementation"):
            network.set_attn_implementation(before)


def _huggingface(model: Model, part: Batch, targets: torch.Tensor | None
                 ) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    network = model.network
    with _eager(network), torch.set_grad_enabled(targets is not None):
        if model.modality == "text":
            out = network(input_ids=part.x, attention_mask=part.attention_mask, output_attentions=True)
        else:
            out = network(pixel_values=part.x, output_attentions=True)
    if not out.attentions or out.attentions[0] is None:
        raise MethodError("The model returned no attention weights even with the eager kernel.")
    return _with_gradients(list(out.attentions), out.logits, targets)


def _multihead(model: Model, part: Batch, targets: torch.Tensor | None
               ) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    captured: list[torch.Tensor] = []

    def ask(module: nn.Module, args: Any, kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return args, {**kwargs, "need_weights": True, "average_attn_weights": False}

    def keep(module: nn.Module, args: Any, output: Any) -> None:
        captured.append(output[1])

    handles = []
    for module in model.network.modules():
        if isinstance(module, nn.MultiheadAttention):
            handles.append(module.register_forward_pre_hook(ask, with_kwargs=True))
            handles.append(module.register_forward_hook(keep))
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused kernel skips the module call
    try:
        with torch.set_grad_enabled(targets is not None):
            logits = model.forward_module(*part.forward_args())
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for handle in handles:
            handle.remove()
    return _with_gradients(captured, logits, targets)


def _tokens(model: Model, batch: Batch, length: int) -> tuple[tuple[tuple[str, ...], ...], tuple[int, int] | None]:
    if batch.tokens is not None:
        return tuple(tuple(t) for t in batch.tokens), None
    config = getattr(model.network, "config", None)
    if model.modality == "image" and config is not None and hasattr(config, "patch_size"):
        side = int(config.image_size) // int(config.patch_size)
        special = length - side * side
        names = ["[CLS]", "[DIST]"][:special] + [f"p{r},{c}" for r in range(side) for c in range(side)]
        return tuple(tuple(names) for _ in range(batch.n)), (side, side)
    return tuple(tuple(f"t{k}" for k in range(length)) for _ in range(batch.n)), None


def _assemble(chunks: list[list[torch.Tensor] | None], batch: Batch, tokens: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """Stack (layers) per chunk into (examples, layers, heads, t, t), keeping only real tokens."""
    stacked = np.concatenate([torch.stack(c, dim=1).float().cpu().numpy() for c in chunks if c is not None])
    if batch.attention_mask is None:
        return stacked
    width = max(len(t) for t in tokens)
    out = np.zeros(stacked.shape[:3] + (width, width), dtype=stacked.dtype)
    mask = batch.attention_mask.bool().cpu().numpy()
    for i in range(len(stacked)):
        real = np.flatnonzero(mask[i])
        out[i, :, :, : len(real), : len(real)] = stacked[i][:, :, real][:, :, :, real]
    return out
