"""Results of explanation-quality checks: faithfulness curves, the randomisation
cascade, and agreement between methods.

Example:
    >>> import numpy as np
    >>> from explain.results import Agreement
    >>> ag = Agreement(methods=("a", "b"), rank_correlation=np.array([[1, .5], [.5, 1]]),
    ...                top_k_overlap=np.eye(2), sign_agreement=np.eye(2), k=3, n_examples=10,
    ...                modality="tabular")
    >>> ag.mean_rank_correlation
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explain.results._base import Exported, freeze, frozen

__all__ = ["Quality", "SanityCheck", "Agreement", "auc"]


def auc(fractions: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """Area under ``curve`` (last axis) over ``fractions`` by the trapezoid rule.

    Example:
        >>> float(auc(np.array([0.0, 0.5, 1.0]), np.array([1.0, 0.5, 0.0])))
        0.5
    """
    x = np.asarray(fractions, dtype=float)
    y = np.asarray(curve, dtype=float)
    return ((y[..., 1:] + y[..., :-1]) / 2 * np.diff(x)).sum(axis=-1)


@dataclass(frozen=True)
class Quality(Exported):
    """Faithfulness of one attribution: deletion and insertion curves against random
    orderings, and Captum's infidelity and max-sensitivity.

    Deletion replaces the units (features, pixels or patches, tokens) by the baseline
    in decreasing order of attribution; insertion starts from the baseline and puts
    them back in the same order. A faithful attribution makes the deletion curve fall
    fast (low AUC) and the insertion curve rise fast (high AUC), compared with random
    orderings of the same units.

    Attributes:
        method: the attribution method evaluated.
        modality: ``"tabular"``, ``"image"`` or ``"text"``.
        fractions: the x axis, fraction of units removed (deletion) or inserted, ``(steps+1,)``.
        deletion_curves: the model's output per example and fraction, ``(n, steps+1)``.
        insertion_curves: the same for insertion.
        random_deletion_curves: example-mean deletion curve of each random ordering,
            ``(n_random, steps+1)``.
        random_insertion_curves: the same for insertion.
        deletion_auc: area under the example-mean deletion curve (lower is better).
        insertion_auc: area under the example-mean insertion curve (higher is better).
        random_deletion_auc: mean area over the random orderings.
        random_insertion_auc: mean area over the random orderings.
        target: the explained output of each example.
        output: ``"probability"`` (softmax of the target class) or ``"output"`` (raw).
        unit: what one step removes: ``"feature"``, ``"pixel"``, ``"4x4 patch"``, ``"token"``.
        infidelity: Captum's infidelity (normalised), mean over examples; None when skipped.
        infidelity_reference: the infidelity of an all-zero attribution under the same
            perturbations (the mean squared output change), a scale for ``infidelity``.
        sensitivity: Captum's max-sensitivity, mean over examples; None when skipped.
        class_names: names of the model's outputs, where known.
        params: every option used, and why a metric was skipped.
    """

    method: str
    modality: str
    fractions: np.ndarray
    deletion_curves: np.ndarray
    insertion_curves: np.ndarray
    random_deletion_curves: np.ndarray
    random_insertion_curves: np.ndarray
    deletion_auc: float
    insertion_auc: float
    random_deletion_auc: float
    random_insertion_auc: float
    target: np.ndarray
    output: str = "probability"
    unit: str = "feature"
    infidelity: float | None = None
    infidelity_reference: float | None = None
    sensitivity: float | None = None
    class_names: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, ("fractions", "deletion_curves", "insertion_curves", "random_deletion_curves",
                      "random_insertion_curves", "target"), ("class_names",))
        for name in ("deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("infidelity", "infidelity_reference", "sensitivity"):
            value = getattr(self, name)
            object.__setattr__(self, name, None if value is None else float(value))

    def __len__(self) -> int:
        return int(self.deletion_curves.shape[0])

    @property
    def units(self) -> str:
        """The unit in the plural, for labels: ``"features"``, ``"4x4 patches"``."""
        return self.unit + ("es" if self.unit.endswith("patch") else "s")

    @property
    def deletion_curve(self) -> np.ndarray:
        """The example-mean deletion curve, ``(steps+1,)``."""
        return self.deletion_curves.mean(axis=0)

    @property
    def insertion_curve(self) -> np.ndarray:
        """The example-mean insertion curve, ``(steps+1,)``."""
        return self.insertion_curves.mean(axis=0)

    @property
    def random_deletion_aucs(self) -> np.ndarray:
        """Deletion AUC of each random ordering, ``(n_random,)``: their spread."""
        return auc(self.fractions, self.random_deletion_curves)

    @property
    def random_insertion_aucs(self) -> np.ndarray:
        """Insertion AUC of each random ordering, ``(n_random,)``."""
        return auc(self.fractions, self.random_insertion_curves)

    @property
    def deletion_aucs(self) -> np.ndarray:
        """Deletion AUC of each example, ``(n,)``."""
        return auc(self.fractions, self.deletion_curves)

    @property
    def insertion_aucs(self) -> np.ndarray:
        """Insertion AUC of each example, ``(n,)``."""
        return auc(self.fractions, self.insertion_curves)


@dataclass(frozen=True)
class SanityCheck(Exported):
    """The model-randomisation test of Adebayo et al. (2018), cascading from the output.

    Step ``i`` randomises ``layers[0..i]`` (the earlier ones stay random) and explains
    the same examples for the same targets again. Similarities compare absolute
    attributions (per feature, per pixel summed over channels, per token), as
    Adebayo et al. do.

    Attributes:
        method: the attribution method checked.
        modality: ``"tabular"``, ``"image"`` or ``"text"``.
        layers: the module (or group of modules) randomised at each step, output first.
        spearman: Spearman rank correlation of |attribution| between the original and
            each randomised model, ``(steps, n)``; units zero in both maps left out.
        ssim: images: SSIM of the max-normalised |attribution| maps, ``(steps, n)``.
        similarity: mean Spearman per step, ``(steps,)``.
        passed: ``similarity[-1] < threshold``: the attribution changed once all
            layers were random, so it depends on what the model learned.
        threshold: the Spearman bound for ``passed``.
        maps: |attribution| maps of the first examples: ``(steps+1, k, ...)``, index 0 is
            the original model (tabular ``(k, features)``, images ``(k, h, w)``, text
            ``(k, tokens)``).
        inputs: images: the first examples' pixels, for display.
        tokens: text: the first examples' tokens.
        target: the explained output of each example (fixed across steps).
        feature_names: tabular feature names.
        class_names: names of the model's outputs.
        params: every option used, how the weights were randomised.
    """

    method: str
    modality: str
    layers: tuple[str, ...]
    spearman: np.ndarray
    similarity: np.ndarray
    passed: bool
    threshold: float
    maps: np.ndarray
    target: np.ndarray
    ssim: np.ndarray | None = None
    inputs: np.ndarray | None = None
    tokens: tuple[tuple[str, ...], ...] | None = None
    feature_names: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, ("spearman", "similarity", "maps", "target", "ssim", "inputs"),
               ("layers", "feature_names", "class_names"))
        object.__setattr__(self, "passed", bool(self.passed))
        object.__setattr__(self, "threshold", float(self.threshold))
        if self.tokens is not None:
            object.__setattr__(self, "tokens", tuple(tuple(t) for t in self.tokens))

    @property
    def final_similarity(self) -> float:
        """Mean Spearman after every layer was randomised."""
        return float(self.similarity[-1])


@dataclass(frozen=True)
class Agreement(Exported):
    """How much attribution methods agree on the same examples (Krishna et al., 2022).

    Attributes:
        methods: the names of the compared attributions, in matrix order.
        rank_correlation: mean Spearman correlation of |attribution| per pair, ``(m, m)``.
        top_k_overlap: mean fraction of the top-k units (by |attribution|) that two
            methods share, ``(m, m)``.
        sign_agreement: mean fraction of k of units in both top-k sets whose
            attributions also have the same sign, ``(m, m)``.
        k: the size of the top sets (images: pixels; text: at most the example's tokens).
        n_examples: how many examples were compared.
        modality: ``"tabular"``, ``"image"`` or ``"text"``.
        params: options used.
    """

    methods: tuple[str, ...]
    rank_correlation: np.ndarray
    top_k_overlap: np.ndarray
    sign_agreement: np.ndarray
    k: int
    n_examples: int
    modality: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("rank_correlation", "top_k_overlap", "sign_agreement"):
            object.__setattr__(self, name, frozen(np.asarray(getattr(self, name), dtype=float)))
        object.__setattr__(self, "methods", tuple(str(m) for m in self.methods))
        object.__setattr__(self, "k", int(self.k))
        object.__setattr__(self, "n_examples", int(self.n_examples))
        object.__setattr__(self, "params", dict(self.params))

    @property
    def mean_rank_correlation(self) -> float:
        """Mean rank correlation over all pairs of different methods."""
        m = len(self.methods)
        if m < 2:
            return 1.0
        off = ~np.eye(m, dtype=bool)
        return float(self.rank_correlation[off].mean())

    @property
    def mean_top_k_overlap(self) -> float:
        """Mean top-k overlap over all pairs of different methods."""
        m = len(self.methods)
        if m < 2:
            return 1.0
        return float(self.top_k_overlap[~np.eye(m, dtype=bool)].mean())
