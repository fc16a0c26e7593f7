"""A word-level attack on text classifiers: greedy token substitutions and deletions.

Captum's attacks move continuous inputs; tokens are discrete, so we search. Each round
ranks every single-token substitution by the first-order change it makes to the loss
(the gradient with respect to the token embedding, dotted with the difference between
the new and the old embedding; Ebrahimi et al., 2018, "HotFlip"), adds every deletion,
scores the best candidates with real forward passes and keeps the one that hurts the
model most. It stops when the label flips or the edit budget is spent. Special tokens
([CLS], [SEP], [PAD], ...) never change and are never inserted.

The adversarial text is rebuilt from its tokens and checked once more through the
tokenizer, so a reported flip is a flip of the text a user could type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from explain.core.batch import Batch
from explain.core.model import Model

__all__ = ["TextAttack", "attack_texts"]


@dataclass
class TextAttack:
    """Per example: edits needed (NaN: none within budget; 0: already wrong), the
    prediction after each budget ``(budget + 1, n)``, the attacked text, edited positions."""

    edits: np.ndarray
    predictions: np.ndarray
    texts: list[str]
    changed: list[tuple[int, ...]]


def attack_texts(
    model: Model, batch: Batch, labels: np.ndarray, *, max_edits: int, goal: np.ndarray | None,
    candidates: int = 24, progress: Callable[[float], None] | None = None,
) -> TextAttack:
    """Attack every text of ``batch`` (see the module docstring).

    Args:
        labels: true class of each text.
        max_edits: the largest number of tokens changed.
        goal: targeted attack: the class to reach per text; None: any wrong class.
        candidates: substitutions scored by forward passes per round.
    """
    tokenizer = model.tokenizer
    special_ids = torch.tensor(sorted(set(tokenizer.all_special_ids)), device=batch.x.device)
    table = model.embeddings().weight.detach()
    n = batch.n
    edits = np.full(n, np.nan)
    predictions = np.zeros((max_edits + 1, n), dtype=np.int64)
    texts, changed = [], []
    for i in range(n):
        ids = batch.x[i][batch.attention_mask[i].bool()].clone()
        want = None if goal is None else int(goal[i])
        found, preds, adv_ids, moved = _attack_one(
            model, ids, int(labels[i]), want, table, special_ids, max_edits, candidates)
        edits[i] = found
        predictions[:, i] = preds
        texts.append(_to_text(tokenizer, adv_ids, special_ids))
        changed.append(moved)
        if progress is not None:
            progress((i + 1) / n)
    _verify(model, texts, labels, goal, edits, predictions)
    return TextAttack(edits, predictions, texts, changed)


def _attack_one(
    model: Model, ids: torch.Tensor, label: int, goal: int | None, table: torch.Tensor,
    special_ids: torch.Tensor, max_edits: int, candidates: int,
) -> tuple[float, list[int], torch.Tensor, tuple[int, ...]]:
    origin = list(range(len(ids)))  # current position -> position in the clean text
    moved: set[int] = set()
    pred = int(_logits(model, table, ids[None]).argmax())
    preds = [pred]
    found = 0.0 if _success(pred, label, goal) else np.nan
    for k in range(1, max_edits + 1):
        if not np.isnan(found):
            preds.append(pred)
            continue
        trials, kinds = _candidates(model, ids, label, goal, table, special_ids, candidates)
        if not trials:
            preds.append(pred)
            continue
        padded, mask = _pad(trials, len(ids))
        with torch.no_grad():
            out = model.forward_module(table[padded], mask)
        best = int(torch.argmax(_objective(out, label, goal)))
        kind, position = kinds[best]
        moved.add(origin[position])
        if kind == "delete":
            del origin[position]
        ids = trials[best]
        pred = int(out[best].argmax())
        preds.append(pred)
        if _success(pred, label, goal):
            found = float(k)
    return found, preds, ids, tuple(sorted(moved))


def _candidates(
    model: Model, ids: torch.Tensor, label: int, goal: int | None, table: torch.Tensor,
    special_ids: torch.Tensor, candidates: int,
) -> tuple[list[torch.Tensor], list[tuple[str, int]]]:
    embeds = table[ids][None].clone().requires_grad_(True)
    out = model.forward_module(embeds, torch.ones_like(ids)[None])
    objective = _objective(out, label, goal).sum()
    (grad,) = torch.autograd.grad(objective, embeds)
    grad = grad[0]
    fixed = torch.isin(ids, special_ids)
    gain = grad @ table.T - (table[ids] * grad).sum(dim=1, keepdim=True)  # (tokens, vocab)
    gain[fixed] = -torch.inf
    gain[:, special_ids] = -torch.inf
    gain[torch.arange(len(ids)), ids] = -torch.inf
    flat = gain.flatten()
    top = torch.topk(flat, min(candidates, int(torch.isfinite(flat).sum()))).indices
    trials, kinds = [], []
    vocab = table.shape[0]
    for index in top.tolist():
        position, token = divmod(index, vocab)
        trial = ids.clone()
        trial[position] = token
        trials.append(trial)
        kinds.append(("substitute", position))
    if int((~fixed).sum()) > 1:  # never delete the last real token
        for position in torch.nonzero(~fixed).flatten().tolist():
            trials.append(torch.cat([ids[:position], ids[position + 1:]]))
            kinds.append(("delete", position))
    return trials, kinds


def _objective(out: torch.Tensor, label: int, goal: int | None) -> torch.Tensor:
    """What the attack maximises: the loss of the true class, or the log-probability of
    the goal class."""
    if goal is None:
        return F.cross_entropy(out, torch.full((out.shape[0],), label), reduction="none")
    return -F.cross_entropy(out, torch.full((out.shape[0],), goal), reduction="none")


def _success(pred: int, label: int, goal: int | None) -> bool:
    return pred == goal if goal is not None else pred != label


def _pad(trials: list[torch.Tensor], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.zeros((len(trials), length), dtype=torch.long)
    mask = torch.zeros((len(trials), length), dtype=torch.long)
    for row, trial in enumerate(trials):
        ids[row, : len(trial)] = trial
        mask[row, : len(trial)] = 1
    return ids, mask


def _logits(model: Model, table: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.forward_module(table[ids], torch.ones_like(ids))[0]


def _to_text(tokenizer: object, ids: torch.Tensor, special_ids: torch.Tensor) -> str:
    kept = ids[~torch.isin(ids, special_ids)].tolist()
    tokens = tokenizer.convert_ids_to_tokens(kept)  # type: ignore[attr-defined]
    return str(tokenizer.convert_tokens_to_string(tokens))  # type: ignore[attr-defined]


def _verify(
    model: Model, texts: list[str], labels: np.ndarray, goal: np.ndarray | None,
    edits: np.ndarray, predictions: np.ndarray,
) -> None:
    """Re-read each attacked text through the tokenizer; a flip that does not survive
    (sub-word pieces that re-tokenize differently) is withdrawn."""
    attacked = np.flatnonzero(edits > 0)
    if attacked.size == 0:
        return
    again = model.predict([texts[i] for i in attacked])
    for i, pred in zip(attacked, again):
        if not _success(int(pred), int(labels[i]), None if goal is None else int(goal[i])):
            first = int(edits[i])
            predictions[first:, i] = int(pred)
            edits[i] = np.nan
