"""What one robustness run decides once, and the rows it attacks.

:func:`explain.robustness` resolves every setting from the options and the whole data
(the attack sizes, the attack space: scales, bounds, integer, one-hot and immutable
features) into one :class:`Plan`; the attack path (:mod:`explain.adversarial.local`)
then runs that plan on one block of :class:`Rows`, here or on a Ray actor. A chunk of
rows attacked with the whole run's plan attacks exactly as the whole run would.

Example:
    >>> import numpy as np, torch
    >>> rows = Rows(torch.zeros(5, 2), np.arange(5))
    >>> part = rows.slice(1, 3)
    >>> part.n, part.labels.tolist(), part.goal
    (2, [1, 2], None)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from explain.adversarial.attacks import Space, as_array
from explain.core.batch import Batch
from explain.core.model import Model

__all__ = ["Plan", "Rows"]


@dataclass(frozen=True)
class Plan:
    """Every resolved setting of one robustness run (text uses the sizes, the goals, the
    batch size and the seed; the rest is for tables and images).

    Attributes:
        modality: the model's: ``"tabular"``, ``"image"`` or ``"text"``.
        attack: ``"fgsm"``, ``"pgd"`` or ``"text"``.
        norm: ``"linf"``, ``"l2"`` or ``"edits"`` (text).
        epsilons: the attack sizes, sorted and unique.
        steps: attack iterations (1 for FGSM).
        step_size: PGD's step; None: ``2.5 * eps / steps``.
        random_start: PGD starts from a random point in the ball.
        space: where the attack may move, read from all rows (CPU tensors); None for text.
        search: bisect each example's smallest flipping size.
        refine: halvings of that search.
        explain_method: the attribution compared before and after; None: none.
        batch_size: rows per attack call.
        seed: seeds every stochastic step of a block.
        feature_names: names for the result (tables).
        scale_name: how the sizes are scaled: ``"std"``, ``"none"`` or ``"custom"``.
        target_class: a targeted attack's class per example (all rows); None: untargeted.
    """

    modality: str
    attack: str
    norm: str
    epsilons: np.ndarray
    steps: int
    step_size: float | None
    random_start: bool
    space: Space | None
    search: bool
    refine: int
    explain_method: str | None
    batch_size: int
    seed: int
    feature_names: tuple[str, ...] | None
    scale_name: str
    target_class: tuple[int, ...] | None

    def params(self) -> dict[str, Any]:
        """The options the result reports."""
        target_class = None if self.target_class is None else list(self.target_class)
        if self.space is None:  # text
            return {"attack": "text", "norm": "edits", "epsilons": self.epsilons.tolist(), "candidates": 24,
                    "edits": "token substitutions and deletions, special tokens fixed",
                    "target_class": target_class}
        lower, upper = self.space.lower, self.space.upper
        if self.modality == "tabular":  # one bound per feature
            bounds: list[Any] = [as_array(lower)[0].tolist(), as_array(upper)[0].tolist()]
        else:
            bounds = [float(lower.min()), float(upper.max())]
        return {"attack": self.attack, "norm": self.norm, "steps": self.steps, "step_size": self.step_size,
                "random_start": self.random_start, "targeted": target_class is not None,
                "epsilons": self.epsilons.tolist(), "scale": self.scale_name, "bounds": bounds,
                "refine": self.refine if self.search else 0, "explain_method": self.explain_method,
                "seed": self.seed, "target_class": target_class, "batch_size": self.batch_size}


@dataclass(frozen=True)
class Rows:
    """One block of examples: model inputs, each row's true label and, for a targeted
    attack, the class to reach."""

    x: torch.Tensor
    labels: np.ndarray
    goal: np.ndarray | None = None
    attention_mask: torch.Tensor | None = None
    tokens: list[list[str]] | None = None

    @classmethod
    def of(cls, batch: Batch, labels: np.ndarray, goal: np.ndarray | None) -> Rows:
        return cls(batch.x, labels, goal, batch.attention_mask, batch.tokens)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def slice(self, start: int, stop: int) -> Rows:
        """Rows ``start:stop``, on the CPU (to send them to another process)."""
        mask = None if self.attention_mask is None else self.attention_mask[start:stop].cpu()
        tokens = None if self.tokens is None else self.tokens[start:stop]
        goal = None if self.goal is None else self.goal[start:stop]
        return Rows(self.x[start:stop].cpu(), self.labels[start:stop], goal, mask, tokens)

    def batch(self, model: Model) -> Batch:
        """The rows as ``model`` takes them, on its device."""
        mask = None if self.attention_mask is None else self.attention_mask.to(model.device)
        return Batch(model, self.x.to(model.device), mask, self.tokens)
