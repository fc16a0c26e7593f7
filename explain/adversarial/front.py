"""Adversarial robustness: ``explain.robustness``.

How little does it take to change the model's mind? FGSM and PGD (Captum's robust
module) on tables and images, a token search on text; the accuracy at each attack size,
the smallest size that flips each example, and how the explanation of each flipped
example moved.

Example:
    >>> import torch, explain
    >>> net = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    ...     _ = net.bias.zero_()
    >>> model = explain.Model(net, modality="tabular")
    >>> x = torch.tensor([[0.5, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> rob = explain.robustness(model, x, [0, 0, 0], attack="fgsm", epsilons=[0, 0.6, 1.2],
    ...                          scale="none", bounds=(-5, 5), refine=10,
    ...                          explain_method=None)
    >>> rob.accuracy.round(2).tolist(), rob.min_epsilon.round(2).tolist()
    ([1.0, 0.67, 0.33], [0.5, 1.0, nan])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from explain.adversarial.attacks import Space, as_array, attack_batch, build_space
from explain.adversarial.text import attack_texts
from explain.core.batch import Batch, prepare
from explain.core.budget import batch_rows, check_batch_size
from explain.core.dataset import Dataset
from explain.core.labels import true_labels
from explain.core.model import Model
from explain.core.rng import seeded
from explain.errors import InputError, MethodError
from explain.quality.similarity import spearman_rows, top_k_overlap, unit_maps
from explain.results.robustness import RobustnessResult
from explain.runtime.backends import Local, get_backend

__all__ = ["robustness", "ATTACKS", "default_epsilons"]

ATTACKS = ("fgsm", "pgd", "text")
NORMS = ("linf", "l2")


def default_epsilons(modality: str, norm: str = "linf") -> list[float]:
    """Attack sizes used when none are given: standard deviations (tables), pixel units
    relative to a 0..1 range (images), token edits (text).

    Example:
        >>> default_epsilons("text")
        [0, 1, 2, 3]
    """
    if modality == "text":
        return [0, 1, 2, 3]
    if norm == "l2":
        return [0.0, 0.1, 0.25, 0.5, 1.0, 2.0]
    if modality == "image":
        return [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]
    return [0.0, 0.05, 0.1, 0.2, 0.3, 0.5]


def robustness(
    model: Model,
    inputs: Any,
    targets: Any = None,
    *,
    attack: str = "pgd",
    epsilons: Sequence[float] | None = None,
    norm: str = "linf",
    bounds: Any = None,
    steps: int = 20,
    step_size: float | None = None,
    random_start: bool = False,
    target_class: int | Sequence[int] | None = None,
    scale: Any = "std",
    immutable: Any = None,
    integer: Any = "auto",
    one_hot: Any = None,
    min_epsilon: bool = True,
    refine: int = 6,
    explain_method: str | None = "saliency",
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    backend: Any = None,
) -> RobustnessResult:
    """Attack the model at each size in ``epsilons`` and measure what it takes to flip it.

    Args:
        model: a classifier (:class:`explain.Model`).
        inputs: examples: a Dataset (brings its labels), tensor, array, DataFrame, or texts.
        targets: true labels in the model's output order (default: the Dataset's).
        attack: ``"pgd"`` or ``"fgsm"`` (tables, images); text models always use
            ``"text"``, a search over token substitutions and deletions.
        epsilons: attack sizes. Tables: in standard deviations of each feature (see
            ``scale``); images: pixel units; text: tokens changed. Default:
            :func:`default_epsilons`.
        norm: ``"linf"`` or ``"l2"`` (PGD only; FGSM is an L-inf attack).
        bounds: ``(lower, upper)`` valid input range, numbers or one value per
            feature. Default: the range seen in ``inputs`` (per feature for tables).
        steps, step_size: PGD iterations and step (default ``2.5 * eps / steps``).
        random_start: PGD starts from a random point in the ball (seeded).
        target_class: targeted attack: the class to reach (one, or one per example);
            success means the model predicts it. Default: untargeted.
        scale: tables: ``"std"`` (each feature's standard deviation in ``inputs``),
            ``"none"`` (raw units) or one positive value per feature.
        immutable: tables: features (names or indices) that never move.
        integer: tables: integer features, kept whole: ``"auto"`` (columns whose values
            are all whole numbers), a list, or None.
        one_hot: tables: groups of one-hot columns; each keeps exactly one 1.
        min_epsilon: search the smallest flipping size per example between the grid
            points by bisection (``refine`` halvings). Text: the edit count.
        explain_method: attribution method compared before and after the attack on
            each flipped example (tables and images); None skips it.
        batch_size: examples per attack call, which bounds memory; None: as many as the
            memory budget holds for a gradient pass (see :mod:`explain.core.budget`).
        seed: seeds the random start and every stochastic step.
        progress: called with the fraction done.
        backend: ``None``/``"local"`` (this process) or ``"ray"`` (chunks of
            ``batch_size`` rows on Ray actors that hold the model; the scales, bounds and
            integer columns are read from all rows first, so the result equals the local
            run's; a random start is seeded per chunk there).

    Returns:
        A :class:`RobustnessResult`; ``result.curve`` is the accuracy table.

    Raises:
        InputError: an unknown attack, norm, or options that do not fit the data.
        MethodError: the model is a regression or has no gradients.
    """
    _check(model, attack, norm, steps, refine, batch_size)
    labels = true_labels(model, inputs, targets)
    batch = prepare(model, inputs)
    if len(labels) != batch.n:
        raise InputError(f"There are {batch.n} examples but {len(labels)} labels; give one label per example.")
    batch_size = batch_rows(model, batch, batch_size, gradients=True)
    goal = None if target_class is None else _goals(target_class, batch.n)
    eps = _epsilons(epsilons, model.modality, norm)
    report = progress or (lambda _f: None)
    chosen = get_backend(backend)
    if not isinstance(chosen, Local):
        from explain.adversarial.chunks import run_chunked

        options = {"attack": attack, "epsilons": eps.tolist(), "norm": norm, "bounds": bounds, "steps": steps,
                   "step_size": step_size, "random_start": random_start, "scale": scale, "immutable": immutable,
                   "integer": integer, "one_hot": one_hot, "min_epsilon": min_epsilon, "refine": refine,
                   "explain_method": explain_method, "batch_size": batch_size, "seed": seed}
        return run_chunked(chosen, model, inputs, batch, labels, goal, options, batch_size, progress)
    with seeded(seed, batch.x.device):
        if model.modality == "text":
            return _text(model, batch, labels, goal, eps, report)
        names = _names(model, inputs)
        space = build_space(model, batch.x.cpu(), bounds=bounds, scale=scale, immutable=immutable,
                            integer=integer, one_hot=one_hot, names=names)
        space = _on(space, batch.x.device)
        options = {"attack": attack, "norm": norm, "steps": 1 if attack == "fgsm" else steps,
                   "step_size": step_size, "random_start": random_start, "targeted": goal is not None}
        return _continuous(model, batch, labels, goal, eps, space, options, min_epsilon, refine,
                           explain_method, batch_size, seed, names, report, scale)


def _check(model: Model, attack: str, norm: str, steps: int, refine: int, batch_size: int | None) -> None:
    if not isinstance(model, Model):
        raise InputError(f"robustness needs an explain.Model, got {type(model).__name__}.")
    if model.task != "classification":
        raise MethodError(
            "robustness measures how easily a classifier's label flips; this model is a regression. "
            "Use explain.uncertainty for prediction intervals instead."
        )
    if not model.differentiable:
        raise MethodError(
            "This model has no gradients (an ONNX file run by onnxruntime), and the attacks follow "
            "gradients. Install onnx2torch (pip install onnx2torch) or load a .pt2 / safetensors model."
        )
    if attack not in ATTACKS:
        raise InputError(f"attack must be one of {list(ATTACKS)}; got {attack!r}.")
    if norm not in NORMS:
        raise InputError(f"norm must be 'linf' or 'l2'; got {norm!r}.")
    if attack == "fgsm" and norm == "l2":
        raise InputError("FGSM is an L-inf attack; use attack='pgd' for norm='l2'.")
    if attack == "text" and model.modality != "text":
        raise InputError("attack='text' is for text models; use 'pgd' or 'fgsm' for tables and images.")
    for name, value in (("steps", steps), ("refine", refine)):
        if not isinstance(value, int) or value < (0 if name == "refine" else 1):
            raise InputError(f"{name} must be a positive integer; got {value!r}.")
    check_batch_size(batch_size)


def _epsilons(epsilons: Sequence[float] | None, modality: str, norm: str) -> np.ndarray:
    values = default_epsilons(modality, norm) if epsilons is None else epsilons
    try:
        eps = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise InputError(f"epsilons must be a list of numbers; got {epsilons!r}.") from err
    if eps.size == 0 or (eps < 0).any() or not np.isfinite(eps).all():
        raise InputError(f"epsilons must be non-negative finite numbers; got {eps.tolist()}.")
    if modality == "text" and not np.all(eps == np.round(eps)):
        raise InputError("For text, epsilons count token edits: give whole numbers such as [0, 1, 2, 3].")
    return np.unique(eps)


def _goals(target_class: Any, n: int) -> np.ndarray:
    goal = np.asarray(target_class, dtype=np.int64).reshape(-1)
    if goal.size == 1:
        goal = np.full(n, int(goal[0]))
    if goal.size != n:
        raise InputError(f"target_class has {goal.size} entries for {n} examples; give one, or one per example.")
    return goal


def _names(model: Model, inputs: Any) -> tuple[str, ...] | None:
    if model.feature_names:
        return model.feature_names
    return inputs.feature_names if isinstance(inputs, Dataset) else None


def _on(space: Space, device: torch.device) -> Space:
    return Space(space.scale.to(device), space.lower.to(device), space.upper.to(device),
                 space.mask.to(device), space.integer, space.one_hot)


def _success(pred: np.ndarray, labels: np.ndarray, goal: np.ndarray | None) -> np.ndarray:
    return pred == goal if goal is not None else pred != labels


def _attack_all(model: Model, batch: Batch, rows: np.ndarray, aim: np.ndarray, eps: float,
                space: Space, options: dict[str, Any], batch_size: int) -> tuple[torch.Tensor, np.ndarray]:
    """Adversarial inputs and predictions for ``rows`` of ``batch`` at size ``eps``."""
    advs, preds = [], []
    for start in range(0, len(rows), batch_size):
        part = torch.as_tensor(rows[start:start + batch_size])
        x = batch.x[part]
        target = torch.as_tensor(aim[part.numpy()], device=x.device)
        adv = attack_batch(model, x, target, eps=eps, space=space, **options)
        with torch.no_grad():
            preds.append(model.forward_module(adv).argmax(dim=1).cpu().numpy())
        advs.append(adv)
    return torch.cat(advs), np.concatenate(preds)


def _continuous(
    model: Model, batch: Batch, labels: np.ndarray, goal: np.ndarray | None, eps: np.ndarray,
    space: Space, options: dict[str, Any], search: bool, refine: int, explain_method: str | None,
    batch_size: int, seed: int, names: tuple[str, ...] | None, report: Callable[[float], None],
    scale: Any,
) -> RobustnessResult:
    n = batch.n
    rows = np.arange(n)
    aim = labels if goal is None else goal
    with torch.no_grad():
        clean = np.concatenate([model.forward_module(batch.x[s:s + batch_size]).argmax(dim=1).cpu().numpy()
                                for s in range(0, n, batch_size)])
    flipped = np.zeros((len(eps), n), dtype=bool)
    adv_preds = np.zeros((len(eps), n), dtype=np.int64)
    adversarial = batch.x.clone()
    found = np.where(_success(clean, labels, goal), 0.0, np.nan)
    total = len(eps) + (refine if search else 0)
    for k, e in enumerate(eps):
        adv, preds = _attack_all(model, batch, rows, aim, float(e), space, options, batch_size)
        adv_preds[k] = preds
        flipped[k] = _success(preds, labels, goal) & ~_success(clean, labels, goal)
        first = flipped[k] & np.isnan(found)
        found[first] = e
        keep = torch.as_tensor(first | (np.isnan(found) & (k == len(eps) - 1)))
        adversarial[keep] = adv[keep]
        report((k + 1) / total)
    if search and refine > 0:
        _refine(model, batch, aim, labels, goal, eps, found, adversarial, space, options, refine,
                batch_size, lambda f: report((len(eps) + f * refine) / total))
    attributions = _explanations(model, batch, adversarial, found, explain_method, seed, space)
    correct = (clean == labels).astype(float)
    accuracy = np.array([(adv_preds[k] == labels).mean() for k in range(len(eps))])
    base = np.maximum(correct.sum() if goal is None else (clean != goal).sum(), 1)
    success = flipped.sum(axis=1) / base
    report(1.0)
    return RobustnessResult(
        attack=options["attack"], norm=options["norm"], epsilons=eps, accuracy=accuracy,
        success_rate=success, flipped=flipped, adversarial_predictions=adv_preds, targets=labels,
        predictions=clean, min_epsilon=found, modality=model.modality, inputs=as_array(batch.x),
        adversarial=as_array(adversarial), feature_names=names, class_names=model.class_names,
        params={**options, "epsilons": eps.tolist(), "scale": _scale_name(model, scale),
                "bounds": [as_array(space.lower)[0].tolist(), as_array(space.upper)[0].tolist()]
                if model.modality == "tabular" else [float(space.lower.min()), float(space.upper.max())],
                "refine": refine if search else 0, "explain_method": explain_method, "seed": seed,
                "target_class": None if goal is None else goal.tolist(), "batch_size": batch_size},
        **attributions,
    )


def _scale_name(model: Model, scale: Any) -> str:
    if model.modality != "tabular" or scale is None or (isinstance(scale, str) and scale == "none"):
        return "none"
    return scale if isinstance(scale, str) else "custom"


def _refine(
    model: Model, batch: Batch, aim: np.ndarray, labels: np.ndarray, goal: np.ndarray | None,
    eps: np.ndarray, found: np.ndarray, adversarial: torch.Tensor, space: Space,
    options: dict[str, Any], refine: int, batch_size: int, report: Callable[[float], None],
) -> None:
    """Bisect each flipped example's bracket: between the grid size below (no flip) and
    the size that flipped it. Examples with the same bracket share one attack call, so
    every call takes one scalar size."""
    grid = [0.0, *eps.tolist()] if eps[0] > 0 else eps.tolist()
    moved = np.flatnonzero(found > 0)
    high = found.copy()
    low = np.zeros_like(found)
    for i in moved:
        low[i] = grid[grid.index(found[i]) - 1]
    for step in range(refine):
        groups: dict[tuple[float, float], list[int]] = {}
        for i in moved:
            groups.setdefault((low[i], high[i]), []).append(int(i))
        for (lo, hi), members in groups.items():
            mid = (lo + hi) / 2
            rows = np.array(members)
            adv, preds = _attack_all(model, batch, rows, aim, mid, space, options, batch_size)
            ok = _success(preds, labels[rows], None if goal is None else goal[rows])
            for j, i in enumerate(members):
                if ok[j]:
                    high[i] = found[i] = mid
                    adversarial[i] = adv[j]
                else:
                    low[i] = mid
        report((step + 1) / refine)


def _explanations(model: Model, batch: Batch, adversarial: torch.Tensor, found: np.ndarray,
                  method: str | None, seed: int, space: Space) -> dict[str, Any]:
    moved = np.flatnonzero(found > 0)
    if method is None or moved.size == 0:
        return {}
    from explain.attribution.attributions import attribute

    before = attribute(model, batch.x[torch.as_tensor(moved)], method=method, seed=seed).values
    after = attribute(model, adversarial[torch.as_tensor(moved)], method=method, seed=seed).values
    shape = (batch.n, *before.shape[1:])
    full_before, full_after = np.full(shape, np.nan), np.full(shape, np.nan)
    full_before[moved], full_after[moved] = before, after
    rho, overlap = np.full(batch.n, np.nan), np.full(batch.n, np.nan)
    a, b = unit_maps(before, model.modality), unit_maps(after, model.modality)
    rho[moved] = spearman_rows(a, b)
    overlap[moved] = top_k_overlap(a, b, _top_k(model, a[0].size))[0]
    return {"attribution_before": full_before, "attribution_after": full_after,
            "rank_correlation": rho, "topk_overlap": overlap}


def _top_k(model: Model, size: int) -> int:
    """Top 3 features of a table, top 10% of an image's pixels."""
    return min(3, size) if model.modality == "tabular" else max(1, size // 10)


def _text(model: Model, batch: Batch, labels: np.ndarray, goal: np.ndarray | None,
          eps: np.ndarray, report: Callable[[float], None]) -> RobustnessResult:
    budget = int(eps.max())
    outcome = attack_texts(model, batch, labels, max_edits=budget, goal=goal, progress=report)
    levels = eps.astype(int)
    adv_preds = outcome.predictions[levels]
    clean = outcome.predictions[0]
    already = _success(clean, labels, goal)
    flipped = np.array([_success(p, labels, goal) & ~already for p in adv_preds])
    accuracy = np.array([(p == labels).mean() for p in adv_preds])
    base = max(int((~already).sum()), 1)
    return RobustnessResult(
        attack="text", norm="edits", epsilons=eps, accuracy=accuracy,
        success_rate=flipped.sum(axis=1) / base, flipped=flipped, adversarial_predictions=adv_preds,
        targets=labels, predictions=clean, min_epsilon=outcome.edits, modality="text",
        texts=list(batch_texts(batch, model)), adversarial_texts=outcome.texts, changed=outcome.changed,
        class_names=model.class_names,
        params={"attack": "text", "norm": "edits", "epsilons": eps.tolist(), "candidates": 24,
                "edits": "token substitutions and deletions, special tokens fixed",
                "target_class": None if goal is None else goal.tolist()},
    )


def batch_texts(batch: Batch, model: Model) -> list[str]:
    """The texts as the tokenizer reads them back (special tokens removed)."""
    tokenizer = model.tokenizer
    special = set(tokenizer.all_special_tokens)
    return [str(tokenizer.convert_tokens_to_string([t for t in tokens if t not in special]))
            for tokens in batch.tokens or []]
