"""Split conformal prediction: sets of classes (LAC, APS, RAPS) or intervals (regression)
that hold the truth with probability at least ``1 - alpha`` on exchangeable data.

A score says how badly a label fits an example; the threshold is the
``ceil((n + 1)(1 - alpha))``-th smallest score of ``n`` calibration examples, and a new
example's set holds every label whose score is within it.

Example:
    >>> import numpy as np, torch, explain
    >>> model = explain.Model(torch.nn.Identity(), task="classification",
    ...                       modality="tabular", input_shape=(3,))
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(size=(200, 3)) * 2
    >>> labels = np.array([rng.choice(3, p=np.exp(z) / np.exp(z).sum()) for z in logits])
    >>> cp = explain.conformal(model, logits[:100], labels[:100], alpha=0.2, method="lac")
    >>> cp.predict(logits[100:]).shape, cp.coverage(logits[100:], labels[100:]) > 0.7
    ((100, 3), True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from explain.confidence.estimates import uncertainty as _uncertainty
from explain.core.batch import Batch, prepare
from explain.core.budget import check_batch_size
from explain.core.dataset import Dataset
from explain.core.labels import labels_of
from explain.core.model import Model, check_model
from explain.core.running import log_softmax, outputs
from explain.core.validate import Int, Number, check
from explain.errors import DataError, MethodError
from explain.results.uncertainty import PredictionSets

__all__ = ["conformal", "ConformalPredictor", "conformal_quantile", "coverage_band",
           "CLASSIFICATION_METHODS", "REGRESSION_METHODS", "DEFAULT_METHODS"]

CLASSIFICATION_METHODS = ("lac", "aps", "raps")
REGRESSION_METHODS = ("residual", "normalized")
# The score taken when none is named, for the function, the audit and the app alike. LAC
# has the smallest mean set size of all scores with marginal coverage 1 - alpha (Sadinle,
# Lei and Wasserman, 2019); deterministic APS includes the whole mass of the last class
# and over-covers (a 93%-accurate 10-class CNN: coverage 100%, 3.5 classes per set at
# alpha 0.1, against LAC's 91% and 0.95).
DEFAULT_METHODS = {"classification": "lac", "regression": "residual"}


def conformal_quantile(scores: Any, alpha: float) -> float:
    """The ``ceil((n + 1)(1 - alpha))``-th smallest of ``n`` calibration scores.

    Raises:
        DataError: ``n`` is too small for ``alpha`` (the rank would exceed ``n``).

    Example:
        >>> conformal_quantile(np.arange(1, 10), 0.1)  # n = 9: rank ceil(10 * 0.9) = 9
        9.0
        >>> conformal_quantile(np.arange(1, 20), 0.1)  # n = 19: rank 18
        18.0
    """
    s = np.sort(np.asarray(scores, dtype=np.float64).reshape(-1))
    n = len(s)
    rank = math.ceil((n + 1) * (1 - alpha) - 1e-9)
    if rank > n:
        raise DataError(
            f"{n} calibration examples are too few for alpha={alpha}: split conformal needs at "
            f"least {math.ceil((1 - alpha) / alpha - 1e-9)}. Pass more calibration examples or a "
            "larger alpha."
        )
    return s[max(rank, 1) - 1].item()


def coverage_band(n_calibration: int, n_test: int, alpha: float) -> tuple[float, float]:
    """The coverage that split conformal promises on ``n_test`` new examples after
    ``n_calibration`` calibration examples, and its standard error.

    Given the calibration set, coverage is Beta(l, n + 1 - l) with
    ``l = ceil((n + 1)(1 - alpha))`` (Vovk 2012; Angelopoulos and Bates, 2021), so its
    mean is ``l / (n + 1)``; measured on ``n_test`` rows it adds a binomial spread.
    Coverage above the mean by more than about two standard errors means the sets are
    wider than they need to be (a conservative score, or ties).

    Example:
        >>> mean, error = coverage_band(99, 100, 0.1)   # l = 90
        >>> round(mean, 3), round(error, 3)
        (0.9, 0.042)
    """
    n = int(n_calibration)
    rank = min(math.ceil((n + 1) * (1 - alpha) - 1e-9), n)
    mean = rank / (n + 1)
    beta = rank * (n + 1 - rank) / ((n + 1) ** 2 * (n + 2))
    return mean, math.sqrt(beta + mean * (1 - mean) / max(int(n_test), 1))


def _ranked(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class: the probability mass of the strictly more likely classes, and the
    class's rank (1 = most likely); ties broken by class index."""
    order = np.argsort(-p, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(p.shape[1])[None].repeat(len(p), 0), axis=1)
    sorted_p = np.take_along_axis(p, order, axis=1)
    before_sorted = np.cumsum(sorted_p, axis=1) - sorted_p
    return np.take_along_axis(before_sorted, ranks, axis=1), ranks + 1


def _class_scores(p: np.ndarray, method: str, u: np.ndarray, penalty: float, k_reg: int) -> np.ndarray:
    """The score of every class of every example, (n, k)."""
    if method == "lac":
        return 1.0 - p
    before, rank = _ranked(p)
    extra = penalty * np.maximum(0, rank - k_reg) if method == "raps" else 0.0
    return before + u[:, None] * p + extra


class ConformalPredictor:
    """A calibrated split-conformal predictor (made by :func:`conformal`).

    Attributes:
        model: the model.
        method: the score (``"lac"``, ``"aps"``, ``"raps"``, ``"residual"``, ``"normalized"``).
        alpha: the miscoverage level.
        quantile: the calibrated score threshold.
        scores: the calibration scores, sorted.
        params: every option.
    """

    def __init__(self, model: Model, method: str, alpha: float, scores: np.ndarray,
                 params: dict[str, Any], models: Sequence[Model] | None = None) -> None:
        self.model = model
        self.models = list(models or [])
        self.method = method
        self.alpha = alpha
        self.scores = np.sort(scores)
        self.scores.flags.writeable = False
        self.quantile = conformal_quantile(scores, alpha)
        self.params = dict(params)

    def __repr__(self) -> str:
        return (f"ConformalPredictor(method={self.method!r}, alpha={self.alpha}, "
                f"n_calibration={len(self.scores)}, quantile={self.quantile:.4g})")

    # scores of examples, shared by calibration and prediction
    def _probabilities(self, batch: Batch) -> np.ndarray:
        logits = outputs(self.model, batch, self.params["batch_size"])
        return np.exp(log_softmax(logits))

    def _u(self, n: int, stream: int) -> np.ndarray:
        if not self.params["randomized"]:
            return np.ones(n)
        return np.random.default_rng([self.params["seed"], stream]).random(n)

    def _regression(self, inputs: Any, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """Point predictions for ``batch`` (``inputs`` prepared) and the predictive std (ones
        for plain residuals)."""
        point = outputs(self.model, batch, self.params["batch_size"])
        if point.shape[1] != 1:
            raise MethodError(
                f"Conformal intervals serve single-output regression models; this one has "
                f"{point.shape[1]} outputs. Wrap the module so it returns one output."
            )
        if self.method == "residual":
            return point[:, 0], np.ones(len(point))
        spread = _uncertainty(self.model, inputs, method=self.params["spread"],
                              n_samples=self.params["n_samples"], models=self.models or None,
                              seed=self.params["seed"], batch_size=self.params["batch_size"]).std
        return point[:, 0], np.asarray(spread, dtype=np.float64).reshape(-1)

    def evaluate(self, inputs: Any, targets: Any = None) -> PredictionSets:
        """Prediction sets (or intervals) of ``inputs`` as a result; with ``targets`` (or a
        labelled Dataset) it also knows which sets hold the truth."""
        return self._evaluate(inputs, targets, labelled=True)

    def _evaluate(self, inputs: Any, targets: Any, *, labelled: bool) -> PredictionSets:
        common: dict[str, Any] = {"method": self.method, "task": self.model.task, "alpha": self.alpha,
                                  "quantile": self.quantile, "calibration_scores": self.scores,
                                  "params": self.params}
        batch = prepare(self.model, inputs)
        common["rows"] = batch.rows
        if self.model.task == "classification":
            p = self._probabilities(batch)
            score = _class_scores(p, self.method, self._u(len(p), 1), self.params["penalty"],
                                  self.params["k_reg"])
            sets = score <= self.quantile
            if not self.params["randomized"] and self.method != "lac":
                sets[np.arange(len(p)), p.argmax(axis=1)] = True  # never empty
            names = self.model.class_names
            return PredictionSets(sets=sets, point=p.argmax(axis=1), labels=self._labels(inputs, targets, len(p), labelled),
                                  class_names=names if names and len(names) == p.shape[1] else None, **common)
        point, spread = self._regression(inputs, batch)
        width = self.quantile * (spread + self.params["spread_floor"])
        return PredictionSets(lower=point - width, upper=point + width, point=point,
                              labels=self._labels(inputs, targets, len(point), labelled), **common)

    def _labels(self, inputs: Any, targets: Any, n: int, labelled: bool) -> np.ndarray | None:
        if not labelled or (targets is None and not (isinstance(inputs, Dataset) and inputs.y is not None)):
            return None
        return labels_of(self.model, inputs, targets, n)

    def predict(self, inputs: Any) -> np.ndarray:
        """Classifiers: boolean ``(examples, classes)`` sets; regression: ``(examples, 2)``
        intervals ``[lower, upper]``."""
        result = self._evaluate(inputs, None, labelled=False)
        if result.sets is not None:
            return np.array(result.sets)
        return np.stack([np.asarray(result.lower), np.asarray(result.upper)], axis=1)

    def coverage(self, inputs: Any, targets: Any = None) -> float:
        """The fraction of examples whose set (interval) holds the true label."""
        result = self.evaluate(inputs, targets)
        if result.coverage is None:
            raise DataError("coverage needs the true labels: pass targets=... or a labelled Dataset.")
        return result.coverage


def conformal(
    model: Model,
    inputs: Any,
    targets: Any = None,
    *,
    alpha: float = 0.1,
    method: str | None = None,
    randomized: bool = False,
    penalty: float = 0.01,
    k_reg: int = 1,
    spread: str = "mc_dropout",
    n_samples: int = 30,
    models: Sequence[Model] | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    backend: Any = None,
) -> ConformalPredictor:
    """Calibrate a split-conformal predictor on held-out labelled examples.

    Classification scores, with ``p`` the softmax probabilities and ``rho(y)`` the mass of
    the classes more likely than ``y``: ``"lac"`` ``1 - p_y`` (smallest sets, may be empty);
    ``"aps"`` ``rho(y) + u p_y``; ``"raps"`` adds ``penalty * max(0, rank(y) - k_reg)``.
    A set holds every class whose score is within the threshold. By default ``u = 1``
    (deterministic) and APS/RAPS sets also always hold the most likely class, so they are
    never empty (coverage ``>= 1 - alpha``, slightly conservative). ``randomized=True``
    draws ``u`` uniformly per example (seeded, the same draw for every class): coverage
    is exact on average, and sets may be empty.

    Regression: ``"residual"`` scores ``|y - prediction|`` (intervals ``prediction ± q``);
    ``"normalized"`` divides by the predictive std of :func:`explain.uncertainty` with
    method ``spread`` (intervals widen where the model is unsure).

    Args:
        model: the model.
        inputs: calibration examples, not used in training (a Dataset, tensor, ...).
        targets: their true labels; a labelled Dataset brings its own.
        alpha: miscoverage level in (0, 1): sets hold the truth with probability >= 1 - alpha.
        method: a score from :data:`CLASSIFICATION_METHODS` or :data:`REGRESSION_METHODS`;
            None takes :data:`DEFAULT_METHODS` (``"lac"``, which gives the smallest sets
            at the promised coverage, and ``"residual"``).
        randomized: APS/RAPS: randomize the score (see above).
        penalty: RAPS: the lambda per class beyond ``k_reg``.
        k_reg: RAPS: how many classes go unpenalised.
        spread: normalized regression: the uncertainty method giving the std.
        n_samples: normalized regression: samples of that method.
        models: normalized regression with ``spread="ensemble"``: the other members.
        batch_size: examples per forward pass; None: as many as the memory budget holds.
        seed: seeds the randomized score and the spread's sampling.
        progress: called with the fraction of calibration passes done.
        backend: ``"ray"`` computes the model's outputs on Ray actors (the same numbers).

    Returns:
        A :class:`ConformalPredictor` with ``.predict``, ``.coverage`` and ``.evaluate``.

    Raises:
        DataError: no labels, or too few calibration examples for ``alpha``.
        MethodError: the method does not serve the model's task.

    Example:
        >>> import numpy as np, torch, explain
        >>> model = explain.Model(torch.nn.Linear(1, 1), task="regression", modality="tabular")
        >>> x = np.linspace(-1, 1, 50, dtype=np.float32)[:, None]
        >>> y = model.predict(x) + np.where(np.arange(50) % 2, 0.5, -0.5)  # residuals of 0.5
        >>> cp = explain.conformal(model, x, y, alpha=0.1)
        >>> round(cp.quantile, 3), cp.predict(x[:1]).shape, cp.coverage(x, y)
        (0.5, (1, 2), 1.0)
    """
    model = check_model(model)
    checked = check(alpha=(alpha, Number(low=0, high=1, open=True)), penalty=(penalty, Number(low=0, suggest=0.01)),
                    k_reg=(k_reg, Int(low=0, suggest=1)))
    classifier = model.task == "classification"
    allowed = CLASSIFICATION_METHODS if classifier else REGRESSION_METHODS
    method = method or DEFAULT_METHODS[model.task]
    if method not in allowed:
        raise MethodError(f"For a {model.task} model, method must be one of {list(allowed)}; got {method!r}.")
    params: dict[str, Any] = {
        "alpha": checked["alpha"], "method": method, "randomized": bool(randomized), "penalty": checked["penalty"],
        "k_reg": checked["k_reg"], "seed": seed, "spread": spread,
        "n_samples": n_samples, "ensemble_members": len(models or []) + 1,
        "batch_size": check_batch_size(batch_size), "spread_floor": 0.0,
    }
    batch = prepare(model, inputs)
    labels = labels_of(model, inputs, targets, batch.n)
    conformal_quantile(np.zeros(batch.n), float(alpha))  # too few examples: say so before computing
    params["n_calibration"] = int(batch.n)
    if classifier:
        logits = outputs(model, batch, params["batch_size"], progress, backend)
        if labels.min() < 0 or labels.max() >= logits.shape[1]:
            raise DataError(
                f"Labels must be class indices from 0 to {logits.shape[1] - 1} (the model's outputs); "
                f"got values from {labels.min()} to {labels.max()}. Map the labels to the model's classes."
            )
        p = np.exp(log_softmax(logits))
        u = np.random.default_rng([seed, 0]).random(len(p)) if randomized else np.ones(len(p))
        score = _class_scores(p, method, u, params["penalty"], params["k_reg"])
        return ConformalPredictor(model, method, float(alpha), score[np.arange(len(p)), labels], params)
    draft = ConformalPredictor(model, method, float(alpha), np.zeros(batch.n), params, models)
    point, std = draft._regression(inputs, batch)
    if method == "normalized":
        params["spread_floor"] = 1e-3 * float(np.mean(std)) + 1e-12
    if progress is not None:
        progress(1.0)
    scores = np.abs(labels.astype(np.float64) - point) / (std + params["spread_floor"])
    return ConformalPredictor(model, method, float(alpha), scores, params, models)
