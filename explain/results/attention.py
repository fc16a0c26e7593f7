"""AttentionMaps: the attention weights of a transformer, with rollout and relevance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explain.results._base import Exported, frozen

__all__ = ["AttentionMaps"]


@dataclass(frozen=True)
class AttentionMaps(Exported):
    """Attention weights of every layer and head, exactly as the model computed them.

    Attributes:
        weights: ``(examples, layers, heads, tokens, tokens)``; each row is one query's
            distribution over keys. Examples shorter than the longest are zero past
            their own length (padding never shows up as tokens).
        tokens: the tokens of each example (text), or patch names (images:
            ``"[CLS]"``, ``"p0,0"``, ...), padding removed.
        target: the class the gradients were taken for (None without gradients).
        gradients: d(target logit)/d(weights), same shape as ``weights``, where asked for.
        grid: images: (rows, cols) of the patch grid the tokens after the first map to.
        inputs: images: the pixels, for overlays.
        class_names: names of the model's outputs.
    """

    weights: np.ndarray
    tokens: tuple[tuple[str, ...], ...]
    target: np.ndarray | None = None
    gradients: np.ndarray | None = None
    grid: tuple[int, int] | None = None
    inputs: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("weights", "target", "gradients", "inputs"):
            object.__setattr__(self, name, frozen(getattr(self, name)))
        object.__setattr__(self, "tokens", tuple(tuple(t) for t in self.tokens))
        if self.class_names is not None:
            object.__setattr__(self, "class_names", tuple(self.class_names))

    def __len__(self) -> int:
        return int(self.weights.shape[0])

    def example(self, index: int) -> np.ndarray:
        """The weights of one example cropped to its tokens: ``(layers, heads, t, t)``."""
        n = len(self.tokens[index])
        return self.weights[index, :, :, :n, :n]

    def rollout(self, index: int | None = None, *, residual: bool = True) -> np.ndarray:
        """Attention rollout (Abnar and Zuidema, 2020): heads averaged, the residual
        identity added (``0.5 A + 0.5 I``), rows renormalised, layers multiplied from the
        first up. Returns ``(examples, t, t)`` (padded) or one example's ``(t, t)``.

        Every row sums to 1.
        """
        if index is not None:
            return _rollout(self.example(index), residual)
        out = np.zeros(self.weights.shape[:1] + self.weights.shape[3:])
        for i in range(len(self)):
            n = len(self.tokens[i])
            out[i, :n, :n] = _rollout(self.example(i), residual)
        return out

    def relevance(self, index: int) -> np.ndarray:
        """Class-specific relevance (Chefer et al., 2021) of one example, ``(t, t)``:
        ``R = I``; for each layer ``R += mean_heads(max(0, grad * A)) @ R``. Row 0 (the
        [CLS] query) is the relevance of each token for the target class."""
        if self.gradients is None:
            raise ValueError("relevance needs gradients: call explain.attention(..., gradients=True).")
        n = len(self.tokens[index])
        weights = self.example(index)
        grads = self.gradients[index, :, :, :n, :n]
        r = np.eye(n)
        for layer in range(weights.shape[0]):
            cam = np.clip(grads[layer] * weights[layer], 0, None).mean(axis=0)
            r = r + cam @ r
        return r



def _rollout(weights: np.ndarray, residual: bool) -> np.ndarray:
    n = weights.shape[-1]
    result = np.eye(n)
    for layer in weights:
        a = layer.mean(axis=0)
        if residual:
            a = 0.5 * a + 0.5 * np.eye(n)
        a = a / a.sum(axis=-1, keepdims=True)
        result = a @ result
    return result
