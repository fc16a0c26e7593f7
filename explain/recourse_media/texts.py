"""Counterfactuals of text classifiers: word substitutions and deletions that flip the
decision to the target class.

The search is the robustness check's word-level attack (:func:`explain.adversarial.text.attack_texts`,
HotFlip-ranked substitutions and every deletion, greedily, up to ``max_edits`` edits) run
as a targeted attack toward the target class. The edits are read off the tokens of the
original and the edited text (position in the original's tokens, the old token, the new one
or None for a deletion), and every edited text is verified by a fresh forward pass on the
text itself.

Example:
    >>> import explain
    >>> model, data = explain.load_example("sentiment")
    >>> cf = explain.counterfactuals(model, data, ["i love this movie"], target="negative")
    >>> bool(cf.validity[0]), model.predict(list(cf.counterfactuals)).tolist() == [0]
    (True, True)
"""

from __future__ import annotations

import difflib
import time
from typing import Any

import numpy as np

from explain.adversarial.text import attack_texts
from explain.core.batch import prepare
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.core.validate import Int, Number, check
from explain.errors import InputError, MethodError
from explain.recourse.goals import resolve_goal
from explain.results.recourse_media import TextCounterfactuals

__all__ = ["text_counterfactuals", "token_edits"]


def text_counterfactuals(model: Model, queries: Any, *, target: Any = None, max_edits: int = 5,
                         time_limit: float = 10.0) -> TextCounterfactuals:
    """Per query text, the edited text the model decides as ``target``.

    Args:
        model: a text classifier with gradients (a tokenizer and an embedding table).
        queries: a text, a list of texts, or a text Dataset.
        target: the class to reach (a name or index); None: the other class of a binary
            model, the runner-up class (second most probable) of a multi-class one.
        max_edits: the most word substitutions and deletions per text.
        time_limit: seconds per query on average: once the queries' total
            (``time_limit`` times their number) has run out, the rest are skipped with that
            reason (each attack is bounded by ``max_edits`` rounds).

    Raises:
        InputError: a regression model, an unknown class, no texts.
        MethodError: a model without gradients.
    """
    opts = check(max_edits=(max_edits, Int(low=1, suggest=5)),
                 time_limit=(time_limit, Number(low=0, open=True, suggest=10.0)))
    if model.task != "classification":
        raise InputError("Text counterfactuals need a classifier (a class to reach); this model is a regression.")
    if not model.differentiable:
        raise MethodError(f"Text counterfactuals need a model with gradients; this one is a black box "
                          f"({model.format}). Load the PyTorch model instead.")
    texts = _texts(queries)
    logits = model.logits(texts)
    classes = tuple(model.class_names or ()) or tuple(str(k) for k in range(logits.shape[1]))
    predicted = logits.argmax(axis=1)
    goals = np.array([int(np.argsort(-out)[1]) if target is None and len(classes) > 2 else
                      int(resolve_goal("classification", classes, target, int(p)).cls or 0)
                      for out, p in zip(logits, predicted)])
    deadline = time.monotonic() + opts["time_limit"] * len(texts)
    edited, reasons = list(texts), [""] * len(texts)
    for i, text in enumerate(texts):
        if predicted[i] == goals[i]:
            reasons[i] = f"the query is already {classes[goals[i]]!r}: nothing to change"
        elif time.monotonic() > deadline:
            reasons[i] = "found none: the time limit ran out before this query; raise time_limit"
        else:
            found = attack_texts(model, prepare(model, [text]), predicted[i:i + 1], max_edits=opts["max_edits"],
                                 goal=goals[i:i + 1])
            if np.isnan(found.edits[0]):
                reasons[i] = (f"found none: no {opts['max_edits']} word substitutions or deletions reached "
                              f"{classes[goals[i]]!r}; raise max_edits")
            else:
                edited[i] = found.texts[0]
    reached = model.predict(edited)  # the final check, on the texts returned
    valid = (reached == goals) & (predicted != goals) & np.array([e != t for e, t in zip(edited, texts)])
    for i in np.flatnonzero(~valid):
        if not reasons[i]:
            reasons[i] = "found none: the edited text did not keep the target on a fresh forward pass"
        edited[i] = texts[i]
    tokenize = model.tokenizer.tokenize  # type: ignore[union-attr]
    return TextCounterfactuals(
        originals=tuple(texts), counterfactuals=tuple(edited),
        edits=tuple(token_edits(tokenize(t), tokenize(e)) if v else () for t, e, v in zip(texts, edited, valid)),
        validity=valid, prediction=np.where(valid, reached, -1), query_prediction=predicted,
        targets=tuple(classes[g] for g in goals), reasons=tuple(reasons), outputs=classes,
        tokens=tuple(tuple(tokenize(t)) for t in texts),
        params={"target": target if target is None or isinstance(target, (int, str)) else str(target),
                "max_edits": opts["max_edits"], "time_limit": opts["time_limit"]})


def _texts(queries: Any) -> list[str]:
    if isinstance(queries, str):
        return [queries]
    if isinstance(queries, Dataset):
        if queries.texts is None:
            raise InputError("Text counterfactuals need texts; this Dataset holds none. Pass a text Dataset or "
                             "a list of strings.")
        return [str(t) for t in queries.texts]
    texts = [str(t) for t in queries]
    if not texts:
        raise InputError("Text counterfactuals need at least one query text; pass e.g. ['a fine film'].")
    return texts


def token_edits(old: list[str], new: list[str]) -> tuple[tuple[int, str, str | None], ...]:
    """The substitutions and deletions that turn the tokens ``old`` into ``new``:
    ``(position in old, old token, new token or None)``.

    Example:
        >>> token_edits(["a", "fine", "long", "film"], ["a", "dull", "film"])
        ((1, 'fine', 'dull'), (2, 'long', None))
    """
    out: list[tuple[int, str, str | None]] = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            for k in range(a1 - a0):
                out.append((a0 + k, old[a0 + k], new[b0 + k] if b0 + k < b1 else None))
        elif op == "insert":  # not made by the attack; shown as a change of the token before
            out.append((max(a0 - 1, 0), old[max(a0 - 1, 0)] if old else "", " ".join(new[b0:b1])))
    return tuple(out)
