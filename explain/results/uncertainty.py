"""Results of the uncertainty family: predictive uncertainty, calibration, conformal
prediction sets and selective prediction (risk-coverage).

Every field is numpy or a plain Python value, so the results pickle, export to JSON
(no NaN: empty calibration bins hold 0 with a count of 0) and cache cheaply.

Example:
    >>> import numpy as np
    >>> from explain.results import Uncertainty
    >>> u = Uncertainty(method="softmax", task="classification", mean=np.array([[0.9, 0.1]]),
    ...                 std=np.zeros((1, 2)), entropy=np.array([0.325]),
    ...                 expected_entropy=np.array([0.325]), mutual_information=np.zeros(1))
    >>> u.predictions.tolist(), u.most_uncertain(1).tolist()
    ([0], [0])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.errors import InputError
from explain.results._base import Exported, freeze, jsonable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Uncertainty", "Reliability", "Calibration", "PredictionSets", "RiskCoverage"]

_BY = ("entropy", "mutual_information", "expected_entropy", "std", "confidence")


@dataclass(frozen=True)
class Uncertainty(Exported):
    """Predictive uncertainty of a model on a batch of examples.

    Entropies are in nats. For classifiers, with ``p_s`` the probabilities of sample ``s``
    (a dropout mask, an ensemble member or an augmentation) and ``p̄`` their mean:
    ``entropy = H(p̄)`` (total), ``expected_entropy = mean_s H(p_s)`` (aleatoric) and
    ``mutual_information = mean_s KL(p_s || p̄)`` (epistemic); total = aleatoric + epistemic.

    Attributes:
        method: ``"mc_dropout"``, ``"ensemble"``, ``"tta"`` or ``"softmax"``.
        task: ``"classification"`` or ``"regression"``.
        mean: classifiers: mean probabilities ``(n, classes)``; regression: the predictive
            mean, ``(n,)`` for one output, else ``(n, outputs)``.
        std: standard deviation over samples (population, ``ddof=0``), shaped like ``mean``.
        entropy: classifiers: total predictive entropy per example ``(n,)``.
        expected_entropy: classifiers: aleatoric part ``(n,)``.
        mutual_information: classifiers: epistemic part ``(n,)``.
        lower: regression: lower end of the ``level`` interval ``mean - z * std``.
        upper: regression: upper end.
        level: regression: the interval's nominal level (e.g. 0.9).
        labels: true labels (model output indices, or values), where known.
        rows: row index of each example in the data it came from (default ``0..n-1``),
            so a list of uncertain examples can link back to them.
        n_samples: forward passes per example.
        class_names: names of the classes.
        params: every option the computation ran with.
    """

    method: str
    task: str
    mean: np.ndarray
    std: np.ndarray
    entropy: np.ndarray | None = None
    expected_entropy: np.ndarray | None = None
    mutual_information: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    level: float | None = None
    labels: np.ndarray | None = None
    rows: np.ndarray | None = None
    n_samples: int = 1
    class_names: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows is None:
            object.__setattr__(self, "rows", np.arange(len(self.mean)))
        freeze(self, ("mean", "std", "entropy", "expected_entropy", "mutual_information",
                       "lower", "upper", "labels", "rows"), ("class_names",))

    def __len__(self) -> int:
        return int(len(self.mean))

    @property
    def aleatoric(self) -> np.ndarray | None:
        """Alias of :attr:`expected_entropy`."""
        return self.expected_entropy

    @property
    def epistemic(self) -> np.ndarray | None:
        """Alias of :attr:`mutual_information`."""
        return self.mutual_information

    @property
    def predictions(self) -> np.ndarray:
        """Predicted class of each example (classifiers) or the predictive mean (regression)."""
        return self.mean.argmax(axis=1) if self.task == "classification" else self.mean

    @property
    def confidence(self) -> np.ndarray | None:
        """Classifiers: the largest mean probability of each example."""
        return self.mean.max(axis=1) if self.task == "classification" else None

    @property
    def correct(self) -> np.ndarray | None:
        """Classifiers with labels: whether each prediction is right."""
        if self.labels is None or self.task != "classification":
            return None
        return self.predictions == self.labels

    def score(self, by: str = "entropy") -> np.ndarray:
        """An uncertainty score per example, larger meaning less certain.

        Args:
            by: ``"entropy"``, ``"mutual_information"``, ``"expected_entropy"``, ``"std"``
                (summed over outputs) or ``"confidence"`` (one minus the top probability).
        """
        if by not in _BY:
            raise InputError(f"by must be one of {list(_BY)}, got {by!r}.")
        if by == "std":
            return self.std.reshape(len(self), -1).sum(axis=1)
        if by == "confidence":
            if self.task != "classification":
                raise InputError("by='confidence' is for classifiers; use by='std' for regression.")
            return 1.0 - self.mean.max(axis=1)
        value = getattr(self, by)
        if value is None:
            raise InputError(f"This {self.task} result has no {by}; use by='std'.")
        return value

    def most_uncertain(self, k: int = 10, *, by: str | None = None) -> np.ndarray:
        """Row indices (see :attr:`rows`) of the ``k`` least certain examples, least certain
        first. ``by`` defaults to entropy for classifiers and std for regression."""
        by = by or ("entropy" if self.task == "classification" else "std")
        order = np.argsort(-self.score(by), kind="stable")[: max(0, int(k))]
        return np.asarray(self.rows)[order]


@dataclass(frozen=True)
class Reliability(Exported):
    """Calibration metrics and reliability bins of one set of probabilities.

    Bins split the confidence (the largest probability) into ``n_bins`` equal-width
    intervals ``[lower, upper)``; as in torchmetrics, a confidence of exactly 1.0 falls
    in one more bin of its own, so the bin arrays have ``n_bins + 1`` entries (the last
    is ``[1, 1]``). Empty bins hold 0 with a count of 0.

    Attributes:
        ece: expected calibration error: sum over bins of (bin size / n) x
            |bin accuracy - bin mean confidence|.
        mce: maximum calibration error: the largest such gap.
        brier: multiclass Brier score: mean over examples of the squared distance between
            the probability vector and the one-hot label, summed over classes (0 to 2).
        nll: mean negative log-likelihood of the true class (nats).
        accuracy: fraction of correct predictions.
        edges: bin edges, ``n_bins + 1`` values from 0 to 1.
        bin_confidence: mean confidence in each bin.
        bin_accuracy: accuracy in each bin.
        bin_count: examples in each bin.
        confidence: the confidence of each example.
        correct: whether each example's prediction is right.
    """

    ece: float
    mce: float
    brier: float
    nll: float
    accuracy: float
    edges: np.ndarray
    bin_confidence: np.ndarray
    bin_accuracy: np.ndarray
    bin_count: np.ndarray
    confidence: np.ndarray
    correct: np.ndarray

    def __post_init__(self) -> None:
        freeze(self, ("edges", "bin_confidence", "bin_accuracy", "bin_count", "confidence", "correct"))

    @property
    def n_bins(self) -> int:
        return int(len(self.edges) - 1)

    @property
    def bins(self) -> pd.DataFrame:
        """One row per bin: ``lower``, ``upper``, ``count``, ``confidence``, ``accuracy``,
        ``gap`` (confidence - accuracy; positive means overconfident)."""
        import pandas as pd

        lower = np.append(self.edges[:-1], 1.0)
        upper = np.append(self.edges[1:], 1.0)
        return pd.DataFrame({
            "lower": lower, "upper": upper, "count": self.bin_count,
            "confidence": self.bin_confidence, "accuracy": self.bin_accuracy,
            "gap": self.bin_confidence - self.bin_accuracy,
        })


@dataclass(frozen=True)
class Calibration(Exported):
    """How well a classifier's confidence matches its accuracy, and temperature scaling.

    ``ece``, ``mce``, ``brier``, ``nll`` and ``bins`` describe every example as the model
    gives them (``overall``). Temperature scaling divides the logits by one ``temperature``
    fitted (minimum NLL) on a seeded random part of the examples; ``before`` and ``after``
    are the other, held-out part without and with it.

    Attributes:
        overall: the examples as the model gives them.
        temperature: the fitted temperature (> 1: the model was overconfident).
        before: the held-out part, temperature 1.
        after: the held-out part, logits divided by ``temperature``.
        labels: the true class of each example (model output indices).
        predictions: the predicted class of each example.
        rows: row index of each example in its source data.
        class_names: names of the classes.
        params: options, and which rows fitted the temperature (``fit_rows``).
    """

    overall: Reliability
    temperature: float
    before: Reliability
    after: Reliability
    labels: np.ndarray
    predictions: np.ndarray
    rows: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows is None:
            object.__setattr__(self, "rows", np.arange(len(self.labels)))
        freeze(self, ("labels", "predictions", "rows"), ("class_names",))

    @property
    def ece(self) -> float:
        """Expected calibration error over all examples."""
        return self.overall.ece

    @property
    def mce(self) -> float:
        """Maximum calibration error over all examples."""
        return self.overall.mce

    @property
    def brier(self) -> float:
        """Multiclass Brier score over all examples."""
        return self.overall.brier

    @property
    def nll(self) -> float:
        """Mean negative log-likelihood over all examples."""
        return self.overall.nll

    @property
    def accuracy(self) -> float:
        """Accuracy over all examples."""
        return self.overall.accuracy

    @property
    def bins(self) -> pd.DataFrame:
        """Reliability bins of all examples as a DataFrame (see :attr:`Reliability.bins`)."""
        return self.overall.bins

    @property
    def ece_after(self) -> float:
        """ECE of the held-out part after temperature scaling."""
        return self.after.ece

    @property
    def verdict(self) -> str:
        """``"overconfident"``, ``"underconfident"`` or ``"well calibrated"`` (ECE below 0.03)."""
        if self.ece < 0.03:
            return "well calibrated"
        gap = float(np.mean(self.overall.confidence) - self.overall.accuracy)
        return "overconfident" if gap > 0 else "underconfident"

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)
               if f.name not in ("overall", "before", "after")}
        out.update(ece=self.ece, mce=self.mce, brier=self.brier, nll=self.nll, accuracy=self.accuracy,
                   overall=self.overall.to_dict(), before=self.before.to_dict(), after=self.after.to_dict())
        return out


@dataclass(frozen=True)
class PredictionSets(Exported):
    """Split-conformal prediction sets (classifiers) or intervals (regression) for a batch.

    Attributes:
        method: the conformity score: ``"lac"``, ``"aps"``, ``"raps"`` (classification),
            ``"residual"`` or ``"normalized"`` (regression).
        task: ``"classification"`` or ``"regression"``.
        alpha: the miscoverage level; sets hold the truth with probability >= 1 - alpha.
        quantile: the calibrated threshold on the score (the ``ceil((n+1)(1-alpha))``-th
            smallest calibration score).
        calibration_scores: the scores of the calibration examples, sorted.
        sets: classifiers: ``(n, classes)`` booleans, True where a class is in the set.
        lower: regression: lower interval ends ``(n,)``.
        upper: regression: upper interval ends ``(n,)``.
        point: regression: the model's prediction; classifiers: the predicted class.
        labels: true labels where given.
        rows: row index of each example in its source data.
        class_names: names of the classes.
        params: every option.
    """

    method: str
    task: str
    alpha: float
    quantile: float
    calibration_scores: np.ndarray
    sets: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    point: np.ndarray | None = None
    labels: np.ndarray | None = None
    rows: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows is None:
            n = len(self.sets) if self.sets is not None else len(self.lower)  # type: ignore[arg-type]
            object.__setattr__(self, "rows", np.arange(n))
        freeze(self, ("calibration_scores", "sets", "lower", "upper", "point", "labels", "rows"), ("class_names",))

    def __len__(self) -> int:
        return int(len(self.rows))  # type: ignore[arg-type]

    @property
    def sizes(self) -> np.ndarray:
        """Set size (classes) of each example, or interval width (regression)."""
        if self.sets is not None:
            return self.sets.sum(axis=1)
        return self.upper - self.lower  # type: ignore[operator]

    @property
    def covered(self) -> np.ndarray | None:
        """Whether each example's set (interval) holds its true label, where labels are known."""
        if self.labels is None:
            return None
        if self.sets is not None:
            return self.sets[np.arange(len(self.labels)), self.labels.astype(int)]
        return (self.lower <= self.labels) & (self.labels <= self.upper)  # type: ignore[operator]

    @property
    def coverage(self) -> float | None:
        """Fraction of examples whose set holds the truth (None without labels)."""
        covered = self.covered
        return None if covered is None else float(np.mean(covered))

    def size_counts(self) -> np.ndarray:
        """Classifiers: how many sets have 0, 1, 2, ... classes (length classes + 1)."""
        if self.sets is None:
            raise InputError("size_counts is for classification sets; use .sizes for interval widths.")
        return np.bincount(self.sizes, minlength=self.sets.shape[1] + 1)


@dataclass(frozen=True)
class RiskCoverage(Exported):
    """Selective prediction: the risk when the model abstains on its least certain examples.

    Keeping the ``k`` most certain examples gives coverage ``k / n`` and a risk equal to
    the mean loss over them (error rate for classifiers, absolute error for regression).

    Attributes:
        coverage: ``(n,)`` fractions kept, ``1/n .. 1``.
        risk: ``(n,)`` risk at each coverage.
        oracle_risk: ``(n,)`` risk if the examples were dropped worst-loss first (a lower bound).
        aurc: area under the risk-coverage curve (mean of ``risk``); lower is better.
        oracle_aurc: the same for ``oracle_risk``.
        score: the uncertainty score of each example (larger: less certain), input order.
        loss: each example's loss, input order.
        by: which score ranked the examples (``"entropy"``, ``"std"``, ...).
        loss_name: ``"error rate"`` or ``"absolute error"``.
        rows: row index of each example in its source data.
        params: every option.
    """

    coverage: np.ndarray
    risk: np.ndarray
    oracle_risk: np.ndarray
    aurc: float
    oracle_aurc: float
    score: np.ndarray
    loss: np.ndarray
    by: str
    loss_name: str
    rows: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows is None:
            object.__setattr__(self, "rows", np.arange(len(self.score)))
        freeze(self, ("coverage", "risk", "oracle_risk", "score", "loss", "rows"), ("class_names",))

    def risk_at(self, coverage: float) -> float:
        """The risk when keeping (at least) a fraction ``coverage`` of the examples."""
        if not 0 < coverage <= 1:
            raise InputError(f"coverage must be in (0, 1], got {coverage}.")
        k = int(np.ceil(coverage * len(self.risk) - 1e-9))
        return float(self.risk[max(k, 1) - 1])

    def most_uncertain(self, k: int = 10) -> np.ndarray:
        """Row indices of the ``k`` least certain examples, least certain first."""
        return np.asarray(self.rows)[np.argsort(-self.score, kind="stable")[: max(0, int(k))]]
