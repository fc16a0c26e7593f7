"""``performance()``: how well the model does on labelled rows, in depth: accuracy,
balanced accuracy, the confusion matrix, per-class precision, recall and F1, ROC AUC, ROC
and precision-recall curves, log loss and Brier score, the metrics at every threshold of a
binary model; R², MAE and RMSE for regression; bootstrap intervals for the headline figures.

Every figure equals scikit-learn's on the same predictions (see
:mod:`explain.diagnostics.measures` for each definition).

Example:
    >>> import numpy as np, torch, explain
    >>> model = explain.Model(torch.nn.Identity(), task="classification", modality="tabular",
    ...                       input_shape=(2,), class_names=["no", "yes"])
    >>> logits = np.array([[2.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 3.0], [0.5, 0.0]])
    >>> perf = explain.performance(model, logits, [0, 1, 1, 1, 0], bootstrap=0)
    >>> perf.accuracy, perf.confusion_matrix.tolist(), round(perf.roc_auc, 3)
    (0.8, [[2, 0], [1, 2]], 0.833)
    >>> perf.per_class.loc["yes", ["precision", "recall"]].tolist()
    [1.0, 0.6666666666666666]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from explain.core.budget import check_batch_size
from explain.core.model import check_model
from explain.core.validate import Int, Number, check
from explain.diagnostics import measures as m
from explain.diagnostics.truth import Labelled, labelled_outputs
from explain.errors import DataError, InputError
from explain.results.performance import THRESHOLD_COLUMNS, Performance

__all__ = ["performance"]


def performance(
    model: Any,
    inputs: Any,
    targets: Any = None,
    *,
    threshold: float | None = None,
    cost_ratio: float | None = None,
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    batch_size: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> Performance:
    """Measure the model on labelled rows.

    Classifiers predict the largest output, or for a binary model class 1 where its
    probability is at least ``threshold``. Definitions (scikit-learn's, which the tests
    check): balanced accuracy is the mean recall over the classes with true rows; a
    precision or recall with nothing to divide by is 0; F1 macro averages the classes
    true or predicted somewhere; ROC AUC is of the scores of class 1 (binary) or the
    macro mean one class against the rest (multiclass; None when a class has no rows);
    log loss clips probabilities to [eps, 1 - eps]; the Brier score of a binary model is
    the mean squared error of the probability of class 1 (sklearn's ``brier_score_loss``),
    of a multiclass model the mean over rows of the squared error summed over classes
    (twice the binary definition for two classes; ``explain.calibration``'s ``brier``
    sums over classes always). R² is NaN when the labels are constant.

    Args:
        model: an explain.Model.
        inputs: a Dataset (a labelled one brings its labels), tensor, ndarray, DataFrame,
            or a list of strings (text models).
        targets: true labels (class indices in output order, or values); they win over
            a Dataset's own.
        threshold: binary classifiers: call class 1 where its probability is at least this.
        cost_ratio: binary classifiers: use the threshold that minimises false positives
            plus ``cost_ratio`` times false negatives (see ``Performance.best_threshold``).
        bootstrap: resamples for the percentile intervals of the headline figures
            (accuracy, balanced accuracy, F1 macro, ROC AUC; R², MAE, RMSE); 0 for none.
        level: the intervals' confidence level.
        seed: seeds the resampling.
        batch_size: examples per forward pass; None: as many as the memory budget holds.
        progress: called with the fraction of forward passes done.

    Returns:
        A :class:`~explain.results.Performance`.

    Raises:
        DataError: no labels, or labels that cannot be matched with the outputs.
        InputError: a threshold or cost ratio for a model that is not a binary classifier,
            both at once, or a bad option.
    """
    model = check_model(model)
    options = check(
        threshold=(threshold, Number(low=0, high=1, optional=True, suggest=0.5)),
        cost_ratio=(cost_ratio, Number(low=0, optional=True, suggest=5.0)),
        bootstrap=(bootstrap, Int(low=0, suggest=200, hint="0 skips the intervals.")),
        level=(level, Number(low=0, high=1, open=True, suggest=0.95)),
        seed=(seed, Int()),
    )
    check_batch_size(batch_size)
    if threshold is not None and cost_ratio is not None:
        raise InputError("Pass threshold or cost_ratio, not both: cost_ratio chooses the threshold.")
    found = labelled_outputs(model, inputs, targets, batch_size=batch_size, progress=progress)
    if len(found.truth) == 0:
        raise DataError("There are no labelled rows to measure the model on; pass at least one.")
    params = {**options, "batch_size": batch_size}
    if model.task == "regression":
        if threshold is not None or cost_ratio is not None:
            raise InputError("threshold and cost_ratio are for binary classifiers; this model is a regression.")
        return _regression(found, params)
    if (threshold is not None or cost_ratio is not None) and found.outputs.shape[1] != 2:
        raise InputError(f"threshold and cost_ratio are for binary classifiers; this model has "
                         f"{found.outputs.shape[1]} classes. Leave them out: the largest output wins.")
    return _classification(found, params)


def _regression(found: Labelled, params: dict[str, Any]) -> Performance:
    truth, predicted = np.asarray(found.truth, dtype=np.float64), found.predicted
    errors = m.regression_errors(truth, predicted)
    intervals = {}
    if params["bootstrap"]:
        intervals = m.percentile_interval(lambda w: m.regression_errors(truth, predicted, w), len(truth),
                                          times=params["bootstrap"], level=params["level"], seed=params["seed"])
    notes = ("R² is not defined: the labels are all the same",) if np.isnan(errors["r2"]) else ()
    return Performance(task="regression", labels=truth, predictions=predicted, rows=found.rows, r2=errors["r2"],
                       mae=errors["mae"], rmse=errors["rmse"], intervals=intervals, notes=notes, params=params)


def _classification(found: Labelled, params: dict[str, Any]) -> Performance:
    p, y, names = found.probabilities, found.truth, found.class_names or ()
    k, binary = p.shape[1], p.shape[1] == 2
    table = m.threshold_table(y == 1, p[:, 1]) if binary else None
    threshold = params["threshold"]
    if params["cost_ratio"] is not None and table is not None:
        cost = table["fp"] + params["cost_ratio"] * (np.sum(y == 1) - table["tp"])
        threshold = float(table["threshold"][int(np.argmin(cost))])
    predicted = (p[:, 1] >= threshold).astype(np.int64) if threshold is not None else found.outputs.argmax(axis=1)
    matrix = m.confusion(y, predicted, k)
    precision, recall, f1, support = m.per_class_scores(matrix)
    rankings = [m.Ranking(y == c, p[:, c]) for c in range(k)]
    class_auc = np.array([r.auc() for r in rankings])
    class_ap = np.array([m.average_precision(y == c, p[:, c]) for c in range(k)])
    absent = [names[c] for c in range(k) if support[c] == 0]
    notes = []
    if absent:
        notes.append(f"roc_auc is not defined: no rows of class {', '.join(map(repr, absent))}")
    roc_auc = None if absent else float(class_auc[1] if binary else class_auc.mean())
    present = support > 0
    ap = float(class_ap[1]) if binary else float(class_ap[present].mean())
    curves = [c for c in ([1] if binary else range(k)) if 0 < support[c] < len(y)]  # both sides present
    roc = [np.column_stack([np.full(len(f), c), f, t, th]) for c in curves
           for f, t, th in [m.roc_points(y == c, p[:, c])]]
    pr = [np.column_stack([np.full(len(pr_), c), rc, pr_, np.r_[th, np.nan]]) for c in curves
          for pr_, rc, th in [m.precision_recall_points(y == c, p[:, c])]]
    intervals = {}
    if params["bootstrap"]:
        def statistic(w: np.ndarray) -> dict[str, float]:
            resampled = m.confusion(y, predicted, k, w)
            aucs = [rankings[1].auc(w)] if binary else [r.auc(w) for r in rankings]
            return {"accuracy": float(np.trace(resampled) / resampled.sum()),
                    "balanced_accuracy": m.balanced_accuracy(resampled), "f1_macro": m.f1_macro(resampled),
                    "roc_auc": float(np.mean(aucs))}

        intervals = m.percentile_interval(statistic, len(y), times=params["bootstrap"], level=params["level"],
                                          seed=params["seed"])
        if roc_auc is None:
            intervals.pop("roc_auc", None)
    return Performance(
        task="classification", labels=y, predictions=predicted, rows=found.rows, class_names=found.class_names,
        accuracy=float(np.mean(predicted == y)), balanced_accuracy=m.balanced_accuracy(matrix),
        f1_macro=m.f1_macro(matrix), confusion_matrix=matrix, precision=precision, recall=recall, f1=f1,
        support=support, class_roc_auc=class_auc, class_average_precision=class_ap, roc_auc=roc_auc,
        average_precision=ap if np.isfinite(ap) else None, log_loss=m.log_loss(p, y), brier=m.brier(p, y),
        roc_points=np.concatenate(roc) if roc else np.zeros((0, 4)),
        pr_points=np.concatenate(pr) if pr else np.zeros((0, 4)),
        threshold_points=None if table is None else np.column_stack([table[c] for c in THRESHOLD_COLUMNS]),
        threshold=threshold, intervals=intervals, mapping=found.mapping, notes=tuple(notes),
        params={**params, "threshold": threshold},
    )
