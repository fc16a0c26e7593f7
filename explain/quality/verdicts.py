"""Plain-language verdicts on explanation quality, with a level for badges.

Example:
    >>> import numpy as np
    >>> from explain.results import SanityCheck
    >>> sc = SanityCheck(method="guided_backprop", modality="image", layers=("fc", "conv"),
    ...                  spearman=np.full((2, 3), 0.9), similarity=np.array([0.95, 0.9]),
    ...                  passed=False, threshold=0.5, maps=np.zeros((3, 1, 2, 2)),
    ...                  target=np.zeros(3, dtype=int))
    >>> text, level = verdict(sc)
    >>> level
    'bad'
    >>> text.startswith("guided backprop: fails the randomisation check")
    True
"""

from __future__ import annotations

import numpy as np

from explain.errors import InputError
from explain.results.quality import Quality, SanityCheck

__all__ = ["verdict", "LEVELS"]

LEVELS = ("good", "warn", "bad")
_NARROW = 0.1  # a pass this close to the threshold is a warning


def verdict(*results: Quality | SanityCheck, short: bool = False) -> tuple[str, str]:
    """A verdict on a method in plain language, and its level: ``"good"``, ``"warn"``
    or ``"bad"`` (for a badge).

    Pass a :class:`Quality`, a :class:`SanityCheck`, or both for the same method; the
    level is the worst of theirs.

    Quality: *faithful* (good) when both the deletion AUC is lower and the insertion
    AUC higher than the random orderings' mean by more than three standard deviations
    of the random orderings' AUCs and 2% of the curves' range; *partly faithful*
    (warn) when only one is; *not faithful* (bad) when neither beats random;
    *inconclusive* (warn) when the baseline does not move the output at all.

    SanityCheck: *passes* (good) when ``passed`` with the final rank correlation more
    than 0.1 below the threshold, *passes narrowly* (warn) when closer, *fails* (bad)
    otherwise.

    Args:
        *results: the results of one method.
        short: a badge label without the method's name and numbers, e.g.
            ``"faithful; fails the randomisation check"``.

    Returns:
        ``(text, level)``, e.g. ``("integrated gradients: faithful, deletion AUC 0.21
        vs 0.48 random, insertion AUC 0.80 vs 0.52; passes the randomisation check
        (rank correlation 0.04 once all 4 layers are random)", "good")``.

    Raises:
        InputError: no result, a result of another type, or results of different methods.

    Example:
        >>> import torch, explain
        >>> _ = torch.manual_seed(0)
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
        ...                           torch.nn.ReLU(), torch.nn.Linear(16, 2))
        >>> model = explain.Model(net, modality="tabular")
        >>> x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
        >>> attr = explain.attribute(model, x, method="saliency")
        >>> q = explain.evaluate(model, x, attr, infidelity_samples=0, sensitivity_samples=0)
        >>> text, level = explain.verdict(q, explain.sanity_check(model, x, "saliency"))
        >>> level, text.split(",")[0], "passes the randomisation check" in text
        ('bad', 'saliency: not faithful', True)
    """
    if not results or not all(isinstance(r, (Quality, SanityCheck)) for r in results):
        raise InputError("verdict takes one or more Quality or SanityCheck results "
                         "(from explain.evaluate or explain.sanity_check).")
    methods = {r.method for r in results}
    if len(methods) > 1:
        raise InputError(f"verdict judges one method at a time; got results of {sorted(methods)}.")
    labels, parts, levels = [], [], []
    for r in results:
        label, text, level = _quality(r) if isinstance(r, Quality) else _sanity(r)
        labels.append(label)
        parts.append(f"{label}{text}")
        levels.append(level)
    level = max(levels, key=LEVELS.index)
    if short:
        return "; ".join(labels), level
    return f"{results[0].method.replace('_', ' ')}: " + "; ".join(parts), level


def _fmt(value: float, output: str) -> str:
    return f"{value:.2f}" if output == "probability" else f"{value:.3g}"


def _compare(value: float, random: float, spread: float, tol: float, lower_is_better: bool) -> str:
    gain = (random - value) if lower_is_better else (value - random)
    margin = max(3 * spread, tol)
    return "better" if gain > margin else "worse" if gain < -margin else "same"


def _quality(q: Quality) -> tuple[str, str, str]:
    """(label, the rest of the sentence, level)."""
    scale = float(np.ptp(np.concatenate([q.deletion_curve, q.insertion_curve])))
    f = lambda v: _fmt(v, q.output)  # noqa: E731
    numbers = (f"deletion AUC {f(q.deletion_auc)} vs {f(q.random_deletion_auc)} random, "
               f"insertion AUC {f(q.insertion_auc)} vs {f(q.random_insertion_auc)}")
    if scale < (0.01 if q.output == "probability" else 1e-12):
        return ("inconclusive", f", replacing the {q.units} by the baseline does not change the output "
                f"({numbers}); try another baseline", "warn")
    tol = 0.02 * scale
    d = _compare(q.deletion_auc, q.random_deletion_auc, float(np.std(q.random_deletion_aucs)), tol, True)
    i = _compare(q.insertion_auc, q.random_insertion_auc, float(np.std(q.random_insertion_aucs)), tol, False)
    if d == "better" and i == "better":
        return "faithful", f", {numbers}", "good"
    if d == "better" or i == "better":
        weak = "insertion" if d == "better" else "deletion"
        return "partly faithful", f", {numbers} ({weak} not clearly better than random)", "warn"
    return "not faithful", f", not clearly better than a random order of the {q.units} ({numbers})", "bad"


def _sanity(s: SanityCheck) -> tuple[str, str, str]:
    """(label, the rest of the sentence, level)."""
    steps = len(s.layers)
    layers = f"all {steps} layers" if steps != 1 else "its only layer"
    rho = s.final_similarity
    if s.passed and rho < s.threshold - _NARROW:
        return ("passes the randomisation check",
                f" (rank correlation {rho:.2f} with the original once {layers} are random)", "good")
    if s.passed:
        return ("passes the randomisation check narrowly",
                f" (rank correlation {rho:.2f} once {layers} are random; {s.threshold:.2f} fails)", "warn")
    shows = {"image": "the image (edges, strokes)", "text": "the tokens"}.get(s.modality, "the inputs")
    return ("fails the randomisation check",
            f", it mostly shows {shows}, not the model: its map barely changes when the weights are "
            f"randomised (rank correlation {rho:.2f} after {layers})", "bad")
