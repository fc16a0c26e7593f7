"""RobustnessResult: how the model's accuracy falls as an attack gets more room, which
examples flip and at what size, and what the attack does to their explanations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.results._base import Exported, freeze

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["RobustnessResult"]

_ARRAYS = (
    "epsilons", "accuracy", "success_rate", "flipped", "adversarial_predictions", "inputs",
    "adversarial", "targets", "predictions", "min_epsilon", "attribution_before",
    "attribution_after", "rank_correlation", "topk_overlap",
)


@dataclass(frozen=True)
class RobustnessResult(Exported):
    """The outcome of :func:`explain.robustness`.

    Attributes:
        attack: ``"fgsm"``, ``"pgd"`` or ``"text"`` (token substitutions and deletions).
        norm: ``"linf"``, ``"l2"`` or ``"edits"`` (text: tokens changed).
        epsilons: the attack sizes, shape ``(e,)``. Tabular data: in units of each
            feature's standard deviation; images: in pixel units; text: token edits.
        accuracy: accuracy against the true labels at each epsilon, ``(e,)``.
        success_rate: share of the examples the model got right that the attack
            flipped (targeted: sent to the target class), ``(e,)``.
        flipped: ``(e, n)``: whether each example was flipped at each epsilon.
        adversarial_predictions: ``(e, n)`` predicted class under attack.
        inputs: the attacked inputs (tabular and image), ``(n, ...)``.
        adversarial: for each example, the adversarial input at its smallest flipping
            epsilon, or at the largest epsilon where none flipped it, ``(n, ...)``.
        targets: true labels ``(n,)``.
        predictions: predictions on the clean inputs ``(n,)``.
        min_epsilon: the smallest epsilon found that flips each example (NaN: none up to
            the largest epsilon; 0: already wrong). An upper bound on the true minimum.
        texts, adversarial_texts: text only: the clean and the attacked texts.
        changed: text only: the positions of the tokens each attack changed.
        attribution_before, attribution_after: the explanation of the predicted class
            before and after the attack (NaN rows for examples not flipped).
        rank_correlation: Spearman correlation of |attribution| before vs after, per
            flipped example (NaN otherwise).
        topk_overlap: share of the top-k features (pixels) before that stay in the
            top-k after, per flipped example.
        feature_names, class_names: names for plots.
        modality: ``"tabular"``, ``"image"`` or ``"text"``.
        params: every option the attack ran with.
    """

    attack: str
    norm: str
    epsilons: np.ndarray
    accuracy: np.ndarray
    success_rate: np.ndarray
    flipped: np.ndarray
    adversarial_predictions: np.ndarray
    targets: np.ndarray
    predictions: np.ndarray
    min_epsilon: np.ndarray
    modality: str
    inputs: np.ndarray | None = None
    adversarial: np.ndarray | None = None
    texts: tuple[str, ...] | None = None
    adversarial_texts: tuple[str, ...] | None = None
    changed: tuple[tuple[int, ...], ...] | None = None
    attribution_before: np.ndarray | None = None
    attribution_after: np.ndarray | None = None
    rank_correlation: np.ndarray | None = None
    topk_overlap: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, _ARRAYS, ("feature_names", "class_names", "texts", "adversarial_texts"))
        if self.changed is not None:
            object.__setattr__(self, "changed", tuple(tuple(int(i) for i in c) for c in self.changed))

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    @property
    def curve(self) -> pd.DataFrame:
        """One row per epsilon: ``attack``, ``norm``, ``epsilon``, ``accuracy``,
        ``success_rate`` and ``flipped`` (count)."""
        import pandas as pd

        return pd.DataFrame({
            "attack": self.attack,
            "norm": self.norm,
            "epsilon": self.epsilons,
            "accuracy": self.accuracy,
            "success_rate": self.success_rate,
            "flipped": self.flipped.sum(axis=1),
        })

    def verdict(self) -> str:
        """One line: how far accuracy falls, e.g. ``"accuracy falls from 96% to 12% at
        epsilon 0.05 (L-inf, PGD)"``."""
        start, end = float(self.accuracy[0]), float(self.accuracy[-1])
        eps = float(self.epsilons[-1])
        if self.norm == "edits":
            size, how = f"{int(eps)} token edits", "substitutions or deletions"
        else:
            size = f"epsilon {eps:g}"
            how = f"{'L-inf' if self.norm == 'linf' else 'L2'}, {self.attack.upper()}"
            if self.params.get("scale") == "std":
                how += ", in standard deviations of each feature"
        if math.isclose(start, end):
            return f"accuracy holds at {start:.0%} up to {size} ({how})"
        return f"accuracy falls from {start:.0%} to {end:.0%} at {size} ({how})"

    def accuracy_at(self, epsilon: float) -> float:
        """Accuracy at the largest computed epsilon not above ``epsilon``."""
        below = np.flatnonzero(self.epsilons <= epsilon + 1e-12)
        if below.size == 0:
            raise ValueError(f"No epsilon at or below {epsilon}; computed {self.epsilons.tolist()}.")
        return float(self.accuracy[below[-1]])
