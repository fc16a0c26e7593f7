"""Calibration of a classifier: ECE, MCE, Brier score, NLL, reliability bins, and
temperature scaling fitted on one part of the examples and judged on the other.

Example:
    >>> import numpy as np
    >>> from explain.confidence.calibrating import reliability
    >>> probs = np.array([[0.95, 0.05], [0.85, 0.15], [0.3, 0.7], [0.58, 0.42]])
    >>> r = reliability(probs, np.array([0, 1, 1, 0]), n_bins=5)  # bins of width 0.2
    >>> round(r.ece, 3), round(r.mce, 3), r.accuracy  # .5 * |.9 - .5| + .25 * .3 + .25 * .42
    (0.38, 0.42, 0.75)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from explain.core.batch import prepare
from explain.core.budget import batch_rows, check_batch_size
from explain.core.labels import labels_of
from explain.core.model import check_model
from explain.core.running import log_softmax, outputs
from explain.core.validate import Int, Number, check
from explain.errors import DataError, InputError, MethodError
from explain.results.uncertainty import Calibration, Reliability

__all__ = ["calibration", "reliability", "fit_temperature"]

_T_BOUNDS = (1e-2, 1e2)


def _check_labels(labels: Any, n: int, k: int) -> np.ndarray:
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != n:
        raise DataError(f"Got {len(labels)} labels for {n} examples; pass one label per example.")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.mod(labels, 1) == 0):
            raise InputError("labels must be class indices (integers).")
        labels = labels.astype(np.int64)
    if n and (labels.min() < 0 or labels.max() >= k):
        raise DataError(
            f"Labels must be class indices from 0 to {k - 1} (the model has {k} outputs); got "
            f"values from {labels.min()} to {labels.max()}. Map the labels to the model's classes."
        )
    return labels.astype(np.int64)


def reliability(
    probabilities: Any,
    labels: Any,
    *,
    n_bins: int = 15,
    log_probabilities: Any = None,
) -> Reliability:
    """Calibration metrics of class probabilities against true labels.

    ECE follows torchmetrics' ``MulticlassCalibrationError(norm="l1")``: the confidence
    (largest probability) is binned in ``n_bins`` equal-width bins ``[lower, upper)`` (a
    confidence of exactly 1 in one more bin), and ECE is the bin-size-weighted mean of
    ``|accuracy - mean confidence|``; MCE is the largest gap. Brier is the mean over
    examples of the squared error of the probability vector against the one-hot label,
    summed over classes; NLL the mean ``-log p(true class)`` in nats.

    Args:
        probabilities: ``(n, classes)``, each row summing to 1.
        labels: ``(n,)`` true class indices.
        n_bins: number of equal-width confidence bins.
        log_probabilities: the log of ``probabilities`` where known exactly (from
            ``log_softmax``), for an NLL that does not underflow.

    Raises:
        InputError: the probabilities are not a 2-D array of rows summing to 1.
        DataError: labels out of range or of the wrong length.
    """
    n_bins = check(n_bins=(n_bins, Int(low=1, suggest=15)))["n_bins"]
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise InputError(f"probabilities must be a non-empty (examples, classes) array; got shape {p.shape}.")
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-3) or p.min() < 0:
        raise InputError("Each row of probabilities must be >= 0 and sum to 1: pass softmax outputs, not logits.")
    n, k = p.shape
    y = _check_labels(labels, n, k)
    confidence = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, n_bins)
    count = np.bincount(index, minlength=n_bins + 1)
    zero = np.zeros(n_bins + 1)
    bin_conf = np.divide(np.bincount(index, confidence, n_bins + 1), count, out=zero.copy(), where=count > 0)
    bin_acc = np.divide(np.bincount(index, correct.astype(float), n_bins + 1), count, out=zero.copy(),
                        where=count > 0)
    gap = np.abs(bin_acc - bin_conf)
    onehot = np.eye(k)[y]
    if log_probabilities is not None:
        log_true = np.asarray(log_probabilities, dtype=np.float64)[np.arange(n), y]
    else:
        log_true = np.log(np.clip(p[np.arange(n), y], 1e-300, None))
    return Reliability(
        ece=float((count / n * gap).sum()), mce=float(gap.max()),
        brier=float(((p - onehot) ** 2).sum(axis=1).mean()), nll=float(-log_true.mean()),
        accuracy=float(correct.mean()), edges=edges, bin_confidence=bin_conf, bin_accuracy=bin_acc,
        bin_count=count, confidence=confidence, correct=correct,
    )


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    return float(-log_softmax(logits, temperature)[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: Any, labels: Any, *, tolerance: float = 1e-6) -> float:
    """The temperature T > 0 that minimises the NLL of ``softmax(logits / T)``.

    The NLL is convex in 1/T, so it has one minimum; a golden-section search on log T over
    [0.01, 100] finds it deterministically (a bound is returned when the minimum lies beyond).

    Example:
        >>> import numpy as np
        >>> logits = np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
        >>> round(fit_temperature(logits, [0, 0, 1, 1]), 3)  # 3 of 4 right: sigmoid(4 / T) = 0.75
        3.641
    """
    z = np.asarray(logits, dtype=np.float64)
    y = _check_labels(labels, len(z), z.shape[1])
    ratio = (np.sqrt(5.0) - 1) / 2
    a, b = np.log(_T_BOUNDS[0]), np.log(_T_BOUNDS[1])
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = _nll(z, y, np.exp(c)), _nll(z, y, np.exp(d))
    while b - a > tolerance:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = _nll(z, y, np.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = _nll(z, y, np.exp(d))
    return float(np.exp((a + b) / 2))


def calibration(
    model: Any,
    inputs: Any,
    targets: Any = None,
    *,
    n_bins: int = 15,
    fit_fraction: float = 0.5,
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    backend: Any = None,
) -> Calibration:
    """How well the classifier's confidence matches its accuracy, and temperature scaling.

    The metrics (see :func:`reliability`) are measured on every example. Then a seeded
    random ``fit_fraction`` of the examples fits a temperature (:func:`fit_temperature`)
    and the rest, held out, are scored without (``before``) and with it (``after``).
    A classifier with one sigmoid output is treated as two classes (its logit z as [0, z]).

    Args:
        model: a classifier (explain.Model).
        inputs: a Dataset, tensor, ndarray, DataFrame or list of strings (text models).
        targets: true class indices; a labelled Dataset brings its own.
        n_bins: equal-width confidence bins (15, as torchmetrics' default).
        fit_fraction: the share of examples that fits the temperature.
        batch_size: examples per forward pass; None: as many as the memory budget holds
            (see :mod:`explain.core.budget`).
        seed: chooses the fitting examples.
        progress: called with the fraction of forward passes done.
        backend: ``"ray"`` computes the model's outputs on Ray actors (the same numbers).

    Returns:
        A :class:`~explain.results.Calibration`; ``params["fit_rows"]`` lists the positions
        of the examples that fitted the temperature.

    Raises:
        MethodError: the model is a regression.
        DataError: no labels, or fewer than 4 examples.

    Example:
        >>> import numpy as np, torch, explain
        >>> model = explain.Model(torch.nn.Identity(), task="classification",
        ...                       modality="tabular", input_shape=(2,))
        >>> logits = np.array([[3.0, 0.0]] * 10 + [[0.0, 3.0]] * 10)
        >>> labels = np.array([0] * 8 + [1] * 2 + [1] * 8 + [0] * 2)  # 80% right at 95%
        >>> cal = explain.calibration(model, logits, labels)
        >>> round(cal.ece, 3), cal.verdict, cal.temperature > 1
        (0.153, 'overconfident', True)
    """
    model = check_model(model)
    if model.task != "classification":
        raise MethodError(
            "calibration() measures a classifier's confidence, but this model is a regression. "
            "For regression use explain.conformal(model, x_cal, y_cal) (intervals with guaranteed "
            "coverage) or explain.uncertainty(model, x) (predictive std and intervals)."
        )
    n_bins = check(n_bins=(n_bins, Int(low=1, suggest=15)))["n_bins"]
    check_batch_size(batch_size)
    check(fit_fraction=(fit_fraction, Number(low=0, high=1, open=True, suggest=0.5)))
    batch = prepare(model, inputs)
    labels = labels_of(model, inputs, targets, batch.n)
    n = batch.n
    n_fit = int(round(float(fit_fraction) * n))
    if n_fit < 2 or n - n_fit < 2:
        raise DataError(
            f"Calibration needs at least 2 examples to fit the temperature and 2 to check it; got "
            f"{n} examples with fit_fraction={fit_fraction}. Pass more labelled examples."
        )
    batch_size = batch_rows(model, batch, batch_size)
    logits = outputs(model, batch, batch_size, progress, backend)
    labels = _check_labels(labels, n, logits.shape[1])
    fit = np.sort(np.random.default_rng(seed).permutation(n)[:n_fit])
    held = np.setdiff1d(np.arange(n), fit)
    temperature = fit_temperature(logits[fit], labels[fit])

    def scored(rows: np.ndarray, t: float) -> Reliability:
        log_p = log_softmax(logits[rows], t)
        return reliability(np.exp(log_p), labels[rows], n_bins=n_bins, log_probabilities=log_p)

    everything = np.arange(n)
    bounded = not _T_BOUNDS[0] * 1.01 < temperature < _T_BOUNDS[1] / 1.01
    names = model.class_names if model.class_names and len(model.class_names) == logits.shape[1] else None
    return Calibration(
        overall=scored(everything, 1.0), temperature=temperature, before=scored(held, 1.0),
        after=scored(held, temperature), labels=labels, predictions=logits.argmax(axis=1),
        class_names=names,
        params={"n_bins": n_bins, "fit_fraction": float(fit_fraction), "seed": seed,
                "batch_size": batch_size, "fit_rows": fit.tolist(), "heldout_rows": len(held),
                "temperature_at_bound": bounded},
        rows=batch.rows,
    )
