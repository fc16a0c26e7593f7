"""The attack path: one :class:`~explain.adversarial.plan.Plan` run on one block of rows.

Tables and images: FGSM or PGD at each size, then the smallest flipping size per
example by bisection, then the explanation of each flipped example before and after.
Text: the token search of :mod:`explain.adversarial.text`. :func:`explain.robustness`
calls :func:`attack_rows` on all rows; a chunked run calls it on each chunk.

Example:
    >>> import numpy as np
    >>> labels, clean = np.array([0, 0, 1]), np.array([0, 1, 1])
    >>> under_attack = np.array([[0, 1, 1], [1, 1, 0]])
    >>> flipped = flips(under_attack, clean, labels, None)
    >>> flipped.tolist()
    [[False, False, False], [True, False, True]]
    >>> accuracy, success = scores(under_attack, clean, labels, None, flipped)
    >>> accuracy.round(2).tolist(), success.tolist()
    ([0.67, 0.0], [0.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from explain.adversarial.attacks import Space, as_array, attack_batch
from explain.adversarial.plan import Plan, Rows
from explain.adversarial.text import attack_texts
from explain.core.batch import Batch
from explain.core.model import Model
from explain.core.rng import seeded
from explain.quality.similarity import spearman_rows, top_k_overlap, unit_maps
from explain.results.robustness import RobustnessResult

__all__ = ["attack_rows", "flips", "scores", "batch_texts"]

Progress = Callable[[float], None]


def attack_rows(model: Model, plan: Plan, rows: Rows, progress: Progress | None = None) -> RobustnessResult:
    """Attack ``rows`` as ``plan`` says, seeded with ``plan.seed``."""
    report = progress or (lambda _f: None)
    batch = rows.batch(model)
    with seeded(plan.seed, batch.x.device):
        if plan.space is None:  # text: a token search, no attack space
            return _text(model, plan, batch, rows.labels, rows.goal, report)
        return _continuous(model, plan, _on(plan.space, batch.x.device), batch, rows.labels, rows.goal, report)


def flips(predictions: np.ndarray, clean: np.ndarray, labels: np.ndarray, goal: np.ndarray | None) -> np.ndarray:
    """Per epsilon and example: the attack succeeded where the clean input had not."""
    return _success(predictions, labels, goal) & ~_success(clean, labels, goal)


def scores(predictions: np.ndarray, clean: np.ndarray, labels: np.ndarray, goal: np.ndarray | None,
           flipped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy per epsilon, and the success rate: flips over the examples that could
    flip (untargeted: those the model got right; targeted: those not at the goal yet)."""
    accuracy = (predictions == labels[None, :]).mean(axis=1)
    could = int((~_success(clean, labels, goal)).sum())
    return accuracy, flipped.sum(axis=1) / max(could, 1)


def _success(pred: np.ndarray, labels: np.ndarray, goal: np.ndarray | None) -> np.ndarray:
    return pred == goal if goal is not None else pred != labels


def _on(space: Space, device: torch.device) -> Space:
    return Space(space.scale.to(device), space.lower.to(device), space.upper.to(device),
                 space.mask.to(device), space.integer, space.one_hot)


def _options(plan: Plan, targeted: bool) -> dict[str, Any]:
    """The keyword arguments of :func:`attack_batch`, but the size and the space."""
    return {"attack": plan.attack, "norm": plan.norm, "steps": plan.steps, "step_size": plan.step_size,
            "random_start": plan.random_start, "targeted": targeted}


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


def _continuous(model: Model, plan: Plan, space: Space, batch: Batch, labels: np.ndarray,
                goal: np.ndarray | None, report: Progress) -> RobustnessResult:
    options = _options(plan, goal is not None)
    eps, batch_size, search = plan.epsilons, plan.batch_size, plan.search
    n = batch.n
    aim = labels if goal is None else goal
    with torch.no_grad():
        clean = np.concatenate([model.forward_module(batch.x[s:s + batch_size]).argmax(dim=1).cpu().numpy()
                                for s in range(0, n, batch_size)])
    flipped = np.zeros((len(eps), n), dtype=bool)
    adv_preds = np.zeros((len(eps), n), dtype=np.int64)
    adversarial = batch.x.clone()
    found = np.where(_success(clean, labels, goal), 0.0, np.nan)
    total = len(eps) + (plan.refine if search else 0)
    for k, e in enumerate(eps):
        adv, preds = _attack_all(model, batch, np.arange(n), aim, float(e), space, options, batch_size)
        adv_preds[k] = preds
        flipped[k] = flips(preds, clean, labels, goal)
        first = flipped[k] & np.isnan(found)
        found[first] = e
        keep = torch.as_tensor(first | (np.isnan(found) & (k == len(eps) - 1)))
        adversarial[keep] = adv[keep]
        report((k + 1) / total)
    if search and plan.refine > 0:
        _refine(model, batch, aim, labels, goal, eps, found, adversarial, space, options, plan.refine,
                batch_size, lambda f: report((len(eps) + f * plan.refine) / total))
    attributions = _explanations(model, batch, adversarial, found, plan.explain_method, plan.seed)
    accuracy, success = scores(adv_preds, clean, labels, goal, flipped)
    report(1.0)
    return RobustnessResult(
        attack=plan.attack, norm=plan.norm, epsilons=eps, accuracy=accuracy, success_rate=success,
        flipped=flipped, adversarial_predictions=adv_preds, targets=labels, predictions=clean,
        min_epsilon=found, modality=model.modality, inputs=as_array(batch.x), adversarial=as_array(adversarial),
        feature_names=plan.feature_names, class_names=model.class_names, params=plan.params(),
        **attributions,
    )


def _refine(
    model: Model, batch: Batch, aim: np.ndarray, labels: np.ndarray, goal: np.ndarray | None,
    eps: np.ndarray, found: np.ndarray, adversarial: torch.Tensor, space: Space,
    options: dict[str, Any], refine: int, batch_size: int, report: Progress,
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
                  method: str | None, seed: int) -> dict[str, Any]:
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


def _text(model: Model, plan: Plan, batch: Batch, labels: np.ndarray, goal: np.ndarray | None,
          report: Progress) -> RobustnessResult:
    eps = plan.epsilons
    outcome = attack_texts(model, batch, labels, max_edits=int(eps.max()), goal=goal, progress=report)
    adv_preds = outcome.predictions[eps.astype(int)]
    clean = outcome.predictions[0]
    flipped = flips(adv_preds, clean, labels, goal)
    accuracy, success = scores(adv_preds, clean, labels, goal, flipped)
    return RobustnessResult(
        attack="text", norm="edits", epsilons=eps, accuracy=accuracy, success_rate=success, flipped=flipped,
        adversarial_predictions=adv_preds, targets=labels, predictions=clean, min_epsilon=outcome.edits,
        modality="text", texts=list(batch_texts(batch, model)), adversarial_texts=outcome.texts,
        changed=outcome.changed, class_names=model.class_names, params=plan.params(),
    )


def batch_texts(batch: Batch, model: Model) -> list[str]:
    """The texts as the tokenizer reads them back (special tokens removed)."""
    tokenizer = model.tokenizer
    special = set(tokenizer.all_special_tokens)
    return [str(tokenizer.convert_tokens_to_string([t for t in tokens if t not in special]))
            for tokens in batch.tokens or []]
