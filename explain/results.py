"""Result types: frozen dataclasses of numpy arrays, picklable and JSON-exportable.

Compute once, plot many times: every plot in :mod:`explain.plots` takes one of
these and never computes.

Example:
    >>> import numpy as np
    >>> from explain.results import Attribution
    >>> a = Attribution(values=np.ones((2, 3)), method="saliency", target=np.array([0, 1]),
    ...                 modality="tabular", feature_names=("a", "b", "c"))
    >>> a.values.flags.writeable
    False
    >>> a.to_dict()["method"]
    'saliency'
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["Attribution", "AttentionMaps"]

_ARRAYS = ("values", "target", "inputs", "base_values", "delta", "outputs", "stderr")


def _frozen(array: Any) -> Any:
    """Return a read-only numpy copy of ``array`` (None stays None)."""
    if array is None:
        return None
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class _Exported:
    """JSON export shared by the result dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of every field."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON; also write it to ``path`` when one is given."""
        text = json.dumps(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


@dataclass(frozen=True)
class Attribution(_Exported):
    """Attributions of one method for a batch of examples.

    Attributes:
        values: same shape as the explained inputs (tabular ``(n, features)``,
            image ``(n, channels, height, width)``); for text ``(n, tokens)``, one
            value per token, zero past each example's length.
        method: the registry name of the method.
        target: the explained output index of each example, shape ``(n,)``.
        modality: ``"tabular"``, ``"image"`` or ``"text"``.
        inputs: the explained inputs as numpy (tabular and image), for plots.
        feature_names: names of the tabular features.
        class_names: names of the model's outputs, where known.
        tokens: text only: the tokens of each example, padding removed.
        base_values: the model's output for the target at the baseline, where the
            method has one: ``values`` summed plus ``base_values`` approximates the
            output (exactly, up to ``delta``, for integrated gradients).
        delta: completeness error per example, where the method reports one.
        outputs: the model's raw output for the target on each example.
        stderr: sampling methods: the standard error of each value, where estimated.
        params: every option the method ran with.
    """

    values: np.ndarray
    method: str
    target: np.ndarray
    modality: str
    inputs: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    tokens: tuple[tuple[str, ...], ...] | None = None
    base_values: np.ndarray | None = None
    delta: np.ndarray | None = None
    outputs: np.ndarray | None = None
    stderr: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _ARRAYS:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        for name in ("feature_names", "class_names"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(str(v) for v in value))
        if self.tokens is not None:
            object.__setattr__(self, "tokens", tuple(tuple(t) for t in self.tokens))
        object.__setattr__(self, "params", dict(self.params))

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def __getitem__(self, index: int | slice) -> Attribution:
        """The attributions of some examples, as a new Attribution."""
        rows = slice(index, index + 1) if isinstance(index, (int, np.integer)) else index
        picked: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _ARRAYS:
                picked[f.name] = None if value is None else value[rows]
            elif f.name == "tokens" and value is not None:
                picked[f.name] = value[rows]
            else:
                picked[f.name] = value
        return Attribution(**picked)

    def global_importance(self) -> np.ndarray:
        """Mean absolute attribution per feature (tabular), pixel (image) or token position."""
        return np.abs(self.values).mean(axis=0)

    def plot(self, index: int | None = None, **options: Any) -> go.Figure:
        """The natural plot: feature bars (one tabular example) or a beeswarm (many),
        a heatmap beside the image, or a token heat strip.

        Args:
            index: the example to show; ``None`` shows all tabular rows as a beeswarm
                and the first image.
            **options: passed to the plot function.
        """
        from . import plots

        return plots.plot(self, index=index, **options)

    def to_shap(self) -> Any:
        """This result as a ``shap.Explanation``, so shap's own plots work on it."""
        from ._shap_interop import to_shap

        return to_shap(self)

    @classmethod
    def from_shap(cls, explanation: Any, **options: Any) -> Attribution:
        """An Attribution from a single-output ``shap.Explanation`` (tabular or image)."""
        from ._shap_interop import from_shap

        return from_shap(explanation, **options)



@dataclass(frozen=True)
class AttentionMaps(_Exported):
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
            object.__setattr__(self, name, _frozen(getattr(self, name)))
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
