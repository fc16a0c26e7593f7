"""Results of comparing two models (:func:`explain.compare`), of a model's size
(:func:`explain.model_size`) and of a compression sweep (:func:`explain.compress_sweep`).

Example:
    >>> size = ModelSize(parameters=10, nonzero=4, dense_bytes=40, stored_bytes=20, storage="sparse")
    >>> size.megabytes, size.sparsity
    (2e-05, 0.6)
    >>> sweep = CompressionSweep(method="prune", amounts=np.array([0.2, 0.5]),
    ...                          accuracy=np.array([0.9, 0.8]), agreement=np.array([1.0, 0.9]),
    ...                          explanation_similarity=np.array([0.99, 0.8]), latency=np.array([1e-5, 1e-5]),
    ...                          stored_bytes=np.array([30, 20]), nonzero=np.array([8, 5]), keep=0.95,
    ...                          best=0.2, base_accuracy=0.9, base_bytes=40)
    >>> sweep.frame()["agreement"].tolist()
    [1.0, 0.9]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.results._base import Exported, freeze

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["ModelSize", "Comparison", "CompressionSweep"]

_COMPARISON_ARRAYS = ("rows", "predicted_a", "predicted_b", "truth", "class_support", "recall_a", "recall_b",
                      "precision_a", "precision_b", "epsilons", "robust_accuracy_a", "robust_accuracy_b",
                      "explained", "sampled", "spearman", "top_k_overlap", "rank_agreement", "sign_agreement",
                      "attributions_a", "attributions_b", "disagreeing", "true_prob_drop", "hurt")


@dataclass(frozen=True)
class ModelSize(Exported):
    """How big a model is (see :func:`explain.model_size`).

    Attributes:
        parameters: weights counted (parameters, and the int8 weights of a quantised model).
        nonzero: those that are not zero.
        dense_bytes: ``parameters`` stored densely in float32 (4 bytes each).
        stored_bytes: as the model holds them: int8 weights at 1 byte plus a float scale per
            output channel; a float tensor with zeros as sparse CSR (``nnz * (4 + 4)`` bytes of
            values and int32 column indices plus ``(rows + 1) * 4`` of row pointers) where
            that is smaller than dense.
        storage: ``"dense"``, ``"sparse"`` (pruned) or ``"int8"`` (quantised).
    """

    parameters: int
    nonzero: int
    dense_bytes: int
    stored_bytes: int
    storage: str

    @property
    def megabytes(self) -> float:
        """``stored_bytes`` in MB (10^6 bytes)."""
        return self.stored_bytes / 1e6

    @property
    def sparsity(self) -> float:
        """The share of weights that are zero."""
        return 1.0 - self.nonzero / self.parameters if self.parameters else 0.0


@dataclass(frozen=True)
class Comparison(Exported):
    """The outcome of :func:`explain.compare`: model B (``names[1]``) beside model A.

    Positions index the compared rows (``0..n-1``); ``rows`` holds their ids.

    Attributes:
        names: the two models' labels. task: ``"classification"`` or ``"regression"``.
        n: rows compared. rows: their ids (a Dataset's ``rows``, else positions).
        predicted_a, predicted_b: each model's predicted class (or value) per row.
        truth: the true labels (output indices, or values); None without labels.
        agreement: classifiers: the share of rows both predict the same; regression: the
            mean absolute difference of the predictions.
        accuracy: ``(a, b)`` accuracy on labelled rows (regression: mean absolute error);
            None without labels.
        class_names: the classes of a classifier. class_support: true rows per class.
        recall_a, recall_b, precision_a, precision_b: per class (recall is the per-class
            accuracy); None without labels or for a regression.
        ece: ``(a, b)`` expected calibration error (15 bins) of a labelled classifier, else None.
        epsilons, robust_accuracy_a, robust_accuracy_b: the robustness curves under the same
            attack (None unless ``attack`` was given).
        coverage: ``(a, b)`` conformal coverage at the same alpha on the held-out half, or None.
        method: the attribution method both were explained with (for model A's predicted
            class). explained: the positions explained. sampled: which of those are the
            uniform sample the similarity is averaged over (the rest are disagreeing rows).
        spearman, top_k_overlap, rank_agreement, sign_agreement: per explained row: Spearman
            correlation of |attribution|, and Krishna et al.'s feature, rank and sign
            agreement of the top ``k`` features.
        k: the top set's size. attributions_a, attributions_b: the explained rows' values.
        feature_names: the units' names (tabular), else None.
        latency: ``(a, b)`` seconds per row: the median of timed passes over the same batch.
        size: ``(a, b)`` :class:`ModelSize` as dictionaries.
        disagreeing: positions where the predicted classes differ (regression: none).
        flips: ``{"a_right_b_wrong": .., "a_wrong_b_right": ..}``, McNemar's discordant pairs.
        mcnemar_p: the exact (binomial) McNemar p-value; 1.0 with no discordant pairs.
        backward_trust: the share of A's correct rows that B keeps correct (Bansal et al.).
        new_error_share: the share of B's errors that A got right.
        true_prob_drop: per row, A's probability of the true class minus B's (regression:
            B's absolute error minus A's). hurt: positions by that drop, largest first
            (Hooker et al.'s compression-identified exemplars), at most 20 with a drop > 0.
        groups: with ``sensitive=``: the groups' names, counts and each model's figures per
            group (see :meth:`per_group`) and ``parity_difference`` (classifiers) or
            ``mean_prediction_gap`` (regression) as ``[a, b]``; else None.
        params: the options it ran with, and notes (a method fallback).
    """

    names: tuple[str, ...]
    task: str
    n: int
    rows: np.ndarray
    predicted_a: np.ndarray
    predicted_b: np.ndarray
    agreement: float
    truth: np.ndarray | None = None
    accuracy: tuple[float, float] | None = None
    class_names: tuple[str, ...] | None = None
    class_support: np.ndarray | None = None
    recall_a: np.ndarray | None = None
    recall_b: np.ndarray | None = None
    precision_a: np.ndarray | None = None
    precision_b: np.ndarray | None = None
    ece: tuple[float, float] | None = None
    epsilons: np.ndarray | None = None
    robust_accuracy_a: np.ndarray | None = None
    robust_accuracy_b: np.ndarray | None = None
    coverage: tuple[float, float] | None = None
    method: str = "saliency"
    explained: np.ndarray | None = None
    sampled: np.ndarray | None = None
    spearman: np.ndarray | None = None
    top_k_overlap: np.ndarray | None = None
    rank_agreement: np.ndarray | None = None
    sign_agreement: np.ndarray | None = None
    k: int = 5
    attributions_a: np.ndarray | None = None
    attributions_b: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    latency: tuple[float, float] = (0.0, 0.0)
    size: tuple[dict[str, Any], dict[str, Any]] | None = None
    disagreeing: np.ndarray | None = None
    flips: dict[str, int] = field(default_factory=dict)
    mcnemar_p: float = 1.0
    backward_trust: float | None = None
    new_error_share: float | None = None
    true_prob_drop: np.ndarray | None = None
    hurt: np.ndarray | None = None
    groups: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, _COMPARISON_ARRAYS, ("names", "class_names", "feature_names"))

    @property
    def fairness_drift(self) -> float | None:
        """B's demographic parity difference minus A's (regression: the mean prediction
        gap's change); None without ``sensitive=``."""
        if not self.groups:
            return None
        pair = self.groups.get("parity_difference") or self.groups.get("mean_prediction_gap")
        return float(pair[1] - pair[0])

    def per_group(self) -> pd.DataFrame:
        """One row per sensitive group: rows, each model's accuracy (regression: mean
        absolute error) and selection rate (regression: mean prediction), and B - A."""
        import pandas as pd

        if not self.groups:
            return pd.DataFrame(columns=["group", "count"])
        g = self.groups
        frame = pd.DataFrame({"group": g["names"], "count": g["count"]})
        for measure in ("accuracy", "selection", "mae", "mean"):
            if f"{measure}_a" in g:
                frame[f"{measure}_a"], frame[f"{measure}_b"] = g[f"{measure}_a"], g[f"{measure}_b"]
                frame[f"{measure}_delta"] = frame[f"{measure}_b"] - frame[f"{measure}_a"]
        return frame

    @property
    def explanation_similarity(self) -> float:
        """The mean Spearman correlation of the two models' |attributions| over the sampled rows."""
        if self.spearman is None or self.sampled is None or not self.sampled.any():
            return float("nan")
        return float(np.mean(self.spearman[self.sampled]))

    def similarity(self) -> dict[str, float]:
        """Every explanation measure averaged over the sampled rows."""
        if self.sampled is None or self.spearman is None:
            return {}
        s = self.sampled
        return {"spearman": float(np.mean(self.spearman[s])), "top_k_overlap": float(np.mean(self.top_k_overlap[s])),
                "rank_agreement": float(np.mean(self.rank_agreement[s])),
                "sign_agreement": float(np.mean(self.sign_agreement[s])), "k": self.k}

    def per_class(self) -> pd.DataFrame:
        """One row per class: support, recall and precision of each model and B - A."""
        import pandas as pd

        if self.recall_a is None or self.class_names is None:
            return pd.DataFrame(columns=["class", "support", "recall_a", "recall_b", "recall_delta"])
        return pd.DataFrame({"class": list(self.class_names), "support": self.class_support,
                             "recall_a": self.recall_a, "recall_b": self.recall_b,
                             "recall_delta": self.recall_b - self.recall_a, "precision_a": self.precision_a,
                             "precision_b": self.precision_b, "precision_delta": self.precision_b - self.precision_a})

    def summary(self) -> dict[str, Any]:
        """The headline figures: agreement, accuracy pair, ECE pair, similarity, flips."""
        return {"agreement": self.agreement, "accuracy": self.accuracy, "ece": self.ece,
                "explanation_similarity": self.explanation_similarity, "flips": dict(self.flips),
                "mcnemar_p": self.mcnemar_p, "backward_trust": self.backward_trust,
                "new_error_share": self.new_error_share, "latency": self.latency, "coverage": self.coverage,
                "fairness_drift": self.fairness_drift}

    def plot(self, kind: str = "classes", **options: Any) -> go.Figure:
        """``"classes"``: per-class deltas; ``"similarity"``: the similarity histogram;
        ``"row"``: one row's attributions side by side (``index=`` a position)."""
        from explain.plots.comparison import class_deltas, row_side_by_side, similarity_histogram

        drawers = {"classes": class_deltas, "similarity": similarity_histogram, "row": row_side_by_side}
        if kind not in drawers:
            from explain.errors import InputError

            raise InputError(f"kind must be one of {list(drawers)}, got {kind!r}; pass e.g. kind='classes'.")
        return drawers[kind](self, **options)


@dataclass(frozen=True)
class CompressionSweep(Exported):
    """The outcome of :func:`explain.compress_sweep`: one entry per compression amount.

    Attributes:
        method: ``"prune"`` or ``"quantize"``. amounts: the sparsities tried (quantize: 0).
        accuracy: per amount (NaN without labels); agreement with the original;
        explanation_similarity: the mean Spearman correlation with the original's
        attributions; latency: seconds per row; base_latency: the original's, timed in turn
        with each light model; stored_bytes and nonzero: the size.
        keep: the agreement asked for. best: the largest amount whose agreement is at least
            ``keep`` (None when none is). base_accuracy, base_bytes: of the original.
    """

    method: str
    amounts: np.ndarray
    accuracy: np.ndarray
    agreement: np.ndarray
    explanation_similarity: np.ndarray
    latency: np.ndarray
    stored_bytes: np.ndarray
    nonzero: np.ndarray
    keep: float
    best: float | None
    base_accuracy: float | None = None
    base_bytes: int | None = None
    base_latency: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, ("amounts", "accuracy", "agreement", "explanation_similarity", "latency", "stored_bytes",
                      "nonzero", "base_latency"))

    def frame(self) -> pd.DataFrame:
        """One row per amount."""
        import pandas as pd

        return pd.DataFrame({"amount": self.amounts, "accuracy": self.accuracy, "agreement": self.agreement,
                             "explanation_similarity": self.explanation_similarity, "latency": self.latency,
                             "base_latency": self.base_latency if self.base_latency is not None
                             else np.full(len(self.amounts), np.nan),
                             "stored_bytes": self.stored_bytes, "nonzero": self.nonzero})

    def plot(self, **options: Any) -> go.Figure:
        """Accuracy, agreement and similarity against the amount (see :func:`explain.plots.sweep_curves`)."""
        from explain.plots.comparison import sweep_curves

        return sweep_curves(self, **options)
