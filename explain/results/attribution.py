"""Attribution: what one attribution method says about a batch of examples."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.results._base import Exported, freeze

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["Attribution"]

_ARRAYS = ("values", "target", "inputs", "base_values", "delta", "outputs", "stderr", "rows")


@dataclass(frozen=True)
class Attribution(Exported):
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
        rows: the row id of each example in the data it came from (a Dataset slice's
            ``rows``; ``0..n-1`` for arrays), or None where not recorded.
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
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        freeze(self, _ARRAYS, ("feature_names", "class_names"))
        if self.tokens is not None:
            object.__setattr__(self, "tokens", tuple(tuple(t) for t in self.tokens))

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
        from explain import plots

        return plots.plot(self, index=index, **options)

    def to_shap(self) -> Any:
        """This result as a ``shap.Explanation``, so shap's own plots work on it."""
        from explain.results.shap_bridge import to_shap

        return to_shap(self)

    @classmethod
    def from_shap(cls, explanation: Any, **options: Any) -> Attribution:
        """An Attribution from a single-output ``shap.Explanation`` (tabular or image)."""
        from explain.results.shap_bridge import from_shap

        return from_shap(explanation, **options)
