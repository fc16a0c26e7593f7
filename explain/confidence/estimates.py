"""Predictive uncertainty (MC dropout, deep ensembles, test-time augmentation, one softmax
pass) and selective prediction (the risk-coverage curve).

Example:
    >>> import torch, explain
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(),
    ...                           torch.nn.Dropout(0.3), torch.nn.Linear(16, 3))
    >>> model = explain.Model(net, task="classification", modality="tabular")
    >>> u = explain.uncertainty(model, torch.randn(8, 4), method="mc_dropout", n_samples=20)
    >>> u.mean.shape, bool((u.mutual_information >= 0).all()), net.training
    ((8, 3), True, False)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import torch

from explain.confidence.sampling import Augmenter, augmentations_for, dropout_layers, mc_dropout
from explain.core.batch import prepare
from explain.core.budget import batch_rows, check_batch_size
from explain.core.dataset import Dataset
from explain.core.labels import labels_of
from explain.core.model import Model, check_model
from explain.core.rng import seeded
from explain.core.running import class_logits, log_softmax
from explain.core.validate import Int, Number, check
from explain.errors import DataError, InputError, MethodError
from explain.results.uncertainty import RiskCoverage, Uncertainty

__all__ = ["uncertainty", "risk_coverage", "selective", "mc_dropout", "dropout_layers", "METHODS"]

METHODS = ("mc_dropout", "ensemble", "tta", "softmax")


# --- uncertainty ------------------------------------------------------------------------
def _members(model: Model, models: Sequence[Model] | None) -> list[Model]:
    if not models:
        raise InputError(
            "method='ensemble' needs the other members: pass models=[model_2, model_3, ...] "
            "(explain.Model objects with the same outputs; the first model is included)."
        )
    members = [model] + [check_model(m, "every entry of models") for m in models]
    for m in members[1:]:
        if (m.task, m.modality) != (model.task, model.modality):
            raise InputError(
                f"Ensemble members must all be {model.task} {model.modality} models; one is a "
                f"{m.task} {m.modality} model. Pass models trained for the same job."
            )
    return members


def _entropy(log_p: np.ndarray) -> np.ndarray:
    return -(np.exp(log_p) * log_p).sum(axis=-1)


def _summarise_classes(logits: np.ndarray) -> dict[str, np.ndarray]:
    """logits (S, b, k) -> mean, std, total entropy, expected entropy and mutual information."""
    log_p = log_softmax(logits)
    p = np.exp(log_p)
    log_mean = np.logaddexp.reduce(log_p, axis=0) - np.log(len(p))
    mean = np.exp(log_mean)
    kl = (p * (log_p - log_mean[None])).sum(axis=-1)  # KL(p_s || mean) per sample
    return {"mean": mean, "std": p.std(axis=0), "entropy": _entropy(log_mean),
            "expected_entropy": _entropy(log_p).mean(axis=0), "mutual_information": kl.mean(axis=0)}


def uncertainty(
    model: Model,
    inputs: Any,
    *,
    method: str = "mc_dropout",
    n_samples: int = 30,
    models: Sequence[Model] | None = None,
    targets: Any = None,
    augmentations: Sequence[str] | None = None,
    noise: float = 0.1,
    shift: int = 1,
    scale: Any = None,
    level: float = 0.9,
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> Uncertainty:
    """Predictive uncertainty of ``model`` on ``inputs`` from several stochastic passes.

    Methods: ``"mc_dropout"`` runs ``n_samples`` passes with the dropout layers switched on
    (and only them: BatchNorm stays in eval mode; every flag is restored afterwards);
    ``"ensemble"`` averages ``model`` and ``models``; ``"tta"`` (test-time augmentation)
    averages the input and ``n_samples - 1`` perturbed copies (noise of ``noise`` times
    each feature's standard deviation over ``inputs``, or ``scale``; images also shifted
    by up to ``shift`` pixels, and flipped left-right when ``"flip"`` is asked for);
    ``"softmax"`` is a single ordinary pass (no epistemic part).

    Args:
        model: the model.
        inputs: a Dataset, tensor, ndarray, DataFrame or list of strings (text models).
        method: one of :data:`METHODS`.
        n_samples: passes per example (mc_dropout, tta).
        models: ensemble: the other members (explain.Model, same outputs); ``model`` is
            the first member.
        targets: true labels (optional); a labelled Dataset brings its own. Kept in the
            result for correct/wrong plots and selective prediction.
        augmentations: tta: from ``"noise"`` (tabular, image), ``"shift"``, ``"flip"``
            (images). Default: noise for tables, shift and noise for images.
        noise: tta: noise standard deviation, in units of each feature's scale.
        shift: tta: largest image shift in pixels.
        scale: tta: per-feature (per-channel) scale of the noise instead of the inputs' std.
        level: regression: nominal level of the ``mean ± z std`` intervals.
        batch_size: examples per forward pass, which bounds memory; None: as many as the
            memory budget holds (see :mod:`explain.core.budget`).
        seed: seeds dropout masks and augmentations: the same seed (and batch_size) gives
            the same result.
        progress: called with the fraction done after each batch.

    Returns:
        An :class:`~explain.results.Uncertainty`.

    Raises:
        MethodError: the method cannot serve the model (no dropout layers; tta on text;
            softmax for regression).
        InputError: an option has the wrong value.

    Example:
        >>> import torch, explain
        >>> net = torch.nn.Linear(2, 2)
        >>> a = explain.Model(net, task="classification", modality="tabular")
        >>> b = explain.Model(torch.nn.Linear(2, 2), task="classification", modality="tabular")
        >>> u = explain.uncertainty(a, torch.randn(5, 2), method="ensemble", models=[b])
        >>> u.n_samples, u.mean.shape
        (2, (5, 2))
    """
    model = check_model(model)
    if method not in METHODS:
        raise MethodError(f"method must be one of {list(METHODS)}, got {method!r}.")
    check_batch_size(batch_size)
    level = check(level=(level, Number(low=0, high=1, open=True, suggest=0.9)))["level"]
    if method == "softmax" and model.task != "classification":
        raise MethodError(
            "method='softmax' is for classifiers; for a regression use 'mc_dropout', 'ensemble' "
            "or 'tta', or explain.conformal for intervals with a coverage guarantee."
        )
    members = _members(model, models) if method == "ensemble" else [model]
    if method == "ensemble":
        n_samples = len(members)
    elif method == "softmax":
        n_samples = 1
    else:
        n_samples = check(n_samples=(n_samples, Int(low=2, suggest=30)))["n_samples"]
    batches = [prepare(m, inputs) for m in members]
    n = batches[0].n
    if n == 0:
        raise InputError("There are no examples to score: inputs hold 0 rows. Pass at least one example.")
    labels = _optional_labels(model, inputs, targets, n)
    kinds: tuple[str, ...] = ()
    augment = None
    if method == "tta":
        kinds = augmentations_for(model, augmentations)
        shift = check(shift=(shift, Int(low=0, suggest=1)))["shift"]
        augment = Augmenter(batches[0], kinds, noise, shift, scale, n_samples, seed)
    context = mc_dropout(model) if method == "mc_dropout" else contextlib.nullcontext()
    chunks: list[dict[str, np.ndarray]] = []
    with context, seeded(seed, model.device), torch.no_grad():
        # every pass runs with dropout on, the one measuring what a row costs too
        batch_size = min(batch_rows(m, b, batch_size) for m, b in zip(members, batches))
        for start in range(0, n, batch_size):
            samples = []
            for s in range(n_samples):
                member = members[s] if method == "ensemble" else model
                part = batches[s if method == "ensemble" else 0].slice(start, start + batch_size)
                if augment is not None:
                    part = dataclasses.replace(part, x=augment(part.x, s))
                samples.append(member.forward_module(*part.forward_args()).detach().double().cpu())
            chunks.append(_summarise(model, samples, method))
            if progress is not None:
                progress(min(1.0, (start + batch_size) / n))
    stats = {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}
    params = {"method": method, "n_samples": n_samples, "batch_size": batch_size, "seed": seed}
    if method == "tta":
        params.update(augmentations=list(kinds), noise=noise, shift=shift)
    if method == "mc_dropout":
        params["dropout_layers"] = len(dropout_layers(model.network))
    if model.task == "regression":
        z = NormalDist().inv_cdf(0.5 + float(level) / 2)
        mean, std = stats["mean"], stats["std"]
        if mean.shape[1] == 1:
            mean, std = mean[:, 0], std[:, 0]
        params["level"] = float(level)
        return Uncertainty(method=method, task="regression", mean=mean, std=std, lower=mean - z * std,
                           upper=mean + z * std, level=float(level), labels=labels,
                           n_samples=n_samples, rows=batches[0].rows, params=params)
    names = batches[0].class_names
    return Uncertainty(method=method, task="classification", mean=stats["mean"], std=stats["std"],
                       entropy=stats["entropy"], expected_entropy=stats["expected_entropy"],
                       mutual_information=stats["mutual_information"], labels=labels, n_samples=n_samples,
                       class_names=names if names and len(names) == stats["mean"].shape[1] else None,
                       rows=batches[0].rows, params=params)


def _summarise(model: Model, samples: list[torch.Tensor], method: str) -> dict[str, np.ndarray]:
    shapes = {tuple(s.shape) for s in samples}
    if len(shapes) != 1:
        raise InputError(
            f"The {method} passes gave outputs of different shapes {sorted(shapes)}; ensemble "
            "members must have the same outputs, in the same order."
        )
    if model.task == "classification":
        return _summarise_classes(torch.stack([class_logits(s) for s in samples]).numpy())
    values = torch.stack(samples).numpy()
    return {"mean": values.mean(axis=0), "std": values.std(axis=0)}


def _optional_labels(model: Model, inputs: Any, targets: Any, n: int) -> np.ndarray | None:
    if targets is not None:
        return labels_of(model, inputs, targets, n)
    if not (isinstance(inputs, Dataset) and inputs.y is not None):
        return None
    try:
        return labels_of(model, inputs, None, n)
    except DataError:  # a dataset whose labels do not match the model's classes
        return None


# --- selective prediction ---------------------------------------------------------------
def selective(result: Uncertainty, labels: Any = None, *, by: str | None = None) -> RiskCoverage:
    """The risk-coverage curve of an :class:`~explain.results.Uncertainty` result.

    Args:
        result: uncertainty of the examples.
        labels: their true labels (model output indices, or values); default ``result.labels``.
        by: the uncertainty score that orders abstention (see ``Uncertainty.score``);
            default entropy for classifiers, std for regression.

    Raises:
        DataError: no labels.

    Example:
        >>> import numpy as np
        >>> from explain.results import Uncertainty
        >>> mean = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
        >>> u = Uncertainty(method="softmax", task="classification", mean=mean, std=0 * mean,
        ...                 entropy=np.array([0.3, 0.7, 0.5]))
        >>> rc = selective(u, [0, 1, 1])
        >>> rc.risk.round(3).tolist(), rc.most_uncertain(1).tolist()
        ([0.0, 0.0, 0.333], [1])
    """
    if labels is None:
        labels = result.labels
    if labels is None:
        raise DataError("Selective prediction needs the true labels: pass labels=... or targets=... .")
    labels = np.asarray(labels).reshape(len(result), -1)
    by = by or ("entropy" if result.task == "classification" else "std")
    score = np.asarray(result.score(by), dtype=float)
    if result.task == "classification":
        loss = (result.predictions != labels[:, 0]).astype(float)
        loss_name = "error rate"
    else:
        loss = np.abs(result.mean.reshape(len(result), -1) - labels).mean(axis=1)
        loss_name = "absolute error"
    order = np.argsort(score, kind="stable")  # most certain first
    counts = np.arange(1, len(loss) + 1)
    risk = np.cumsum(loss[order]) / counts
    oracle = np.cumsum(np.sort(loss)) / counts
    return RiskCoverage(coverage=counts / len(loss), risk=risk, oracle_risk=oracle,
                        aurc=float(risk.mean()), oracle_aurc=float(oracle.mean()), score=score,
                        loss=loss, by=by, loss_name=loss_name, rows=result.rows,
                        params={"method": result.method, "by": by})


def risk_coverage(
    model: Model,
    inputs: Any,
    targets: Any = None,
    *,
    by: str | None = None,
    method: str = "softmax",
    n_samples: int = 30,
    models: Sequence[Model] | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> RiskCoverage:
    """Selective prediction: the error when the model abstains on its least certain examples.

    Runs :func:`uncertainty` with ``method`` (and ``n_samples``, ``models``, ``seed``), then
    :func:`selective`. ``targets`` are the true labels (a labelled Dataset brings its own).

    Example:
        >>> import numpy as np, torch, explain
        >>> model = explain.Model(torch.nn.Identity(), task="classification",
        ...                       modality="tabular", input_shape=(2,))
        >>> logits = np.array([[4.0, 0.0], [0.1, 0.0], [0.0, 3.0]])
        >>> rc = explain.risk_coverage(model, logits, [0, 1, 1])
        >>> rc.risk_at(1.0), rc.risk_at(2 / 3)
        (0.3333333333333333, 0.0)
    """
    model = check_model(model)
    result = uncertainty(model, inputs, method=method, n_samples=n_samples, models=models,
                         batch_size=batch_size, seed=seed, progress=progress)
    labels = labels_of(model, inputs, targets, len(result))
    return selective(result, labels, by=by)
