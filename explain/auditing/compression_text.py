"""The compression section's findings in words: how much lighter the second model is, how
often it changes a decision, its accuracy beside the original's, whether its reasons
stay the same, and whether the change is beyond chance (McNemar's test).

Example:
    >>> headline("int8", size_ratio=3.9, agreement=0.9978, changed=1, n=450, accuracy=(0.978, 0.98),
    ...          method="saliency", similarity=0.995, task="classification")
    'int8: 3.9x smaller, agreement 99.8% (1 row in 450 changes), accuracy 97.8% -> 98.0%, saliency similarity 0.995'
    >>> chance(1.0, {"a_right_b_wrong": 0, "a_wrong_b_right": 0})
    'McNemar p 1: no change beyond chance (0 rows the original got right turned wrong, 0 the other way)'
"""

from __future__ import annotations

from typing import Any

__all__ = ["headline", "chance", "trust_text", "ratio_text", "drift"]


def ratio_text(ratio: float) -> str:
    """``3.9`` -> ``'3.9x smaller'``, ``0.5`` -> ``'2x larger'``, ``1`` -> ``'the same size'``.

    Example:
        >>> ratio_text(3.94), ratio_text(0.5), ratio_text(1.0)
        ('3.9x smaller', '2x larger', 'the same size')
    """
    if abs(ratio - 1) < 0.005:
        return "the same size"
    return f"{ratio:.2g}x smaller" if ratio > 1 else f"{1 / ratio:.2g}x larger"


def headline(label: str, *, size_ratio: float, agreement: float, changed: int, n: int,
             accuracy: tuple[float, float] | None, method: str, similarity: float, task: str) -> str:
    """The first finding: size, agreement, accuracy of both, explanation similarity.

    Example:
        >>> headline("pruned", size_ratio=1.0, agreement=0.12, changed=0, n=10, accuracy=(30.0, 31.5),
        ...          method="saliency", similarity=0.9, task="regression")
        'pruned: the same size, predictions 0.12 apart on average over 10 rows, mean absolute error 30 -> 31.5, saliency similarity 0.9'
    """
    parts = [f"{label}: {ratio_text(size_ratio)}"]
    if task == "classification":
        parts.append(f"agreement {100 * agreement:.1f}% ({changed} row{'s' if changed != 1 else ''} in {n} "
                     f"change{'s' if changed == 1 else ''})")
        if accuracy is not None:
            parts.append(f"accuracy {100 * accuracy[0]:.1f}% -> {100 * accuracy[1]:.1f}%")
    else:
        parts.append(f"predictions {agreement:.3g} apart on average over {n} rows")
        if accuracy is not None:
            parts.append(f"mean absolute error {accuracy[0]:.3g} -> {accuracy[1]:.3g}")
    parts.append(f"{method} similarity {similarity:.3g}")
    return ", ".join(parts)


def chance(p: float, flips: dict[str, int]) -> str:
    """McNemar's test of the flips, in words."""
    worse, better = flips.get("a_right_b_wrong", 0), flips.get("a_wrong_b_right", 0)
    verdict = "no change beyond chance" if p >= 0.05 else (
        "the lighter model is worse beyond chance" if worse > better else "the lighter model is better beyond chance")
    return (f"McNemar p {p:.2g}: {verdict} ({worse} row{'s' if worse != 1 else ''} the original got right turned "
            f"wrong, {better} the other way)")


def trust_text(backward_trust: float | None, new_error_share: float | None, ece: Any) -> str | None:
    """Backward trust, the share of new errors and the calibration of both, or None.

    Example:
        >>> trust_text(0.995, 0.1, (0.031, 0.035))
        "backward trust 99.5% of the original's right answers kept; 10.0% of the errors are new; ECE 0.031 -> 0.035"
    """
    if backward_trust is None:
        return None
    text = (f"backward trust {100 * backward_trust:.1f}% of the original's right answers kept; "
            f"{100 * (new_error_share or 0):.1f}% of the errors are new")
    if ece is not None:
        text += f"; ECE {ece[0]:.2g} -> {ece[1]:.2g}"
    return text


def drift(groups: dict[str, Any], frame: Any) -> str:
    """Fairness drift: the parity difference (or mean prediction gap) of both, and the
    group whose accuracy (or error) changes most.

    Example:
        >>> import pandas as pd
        >>> g = {"sensitive": ["sex"], "parity_difference": [0.1, 0.15]}
        >>> drift(g, pd.DataFrame({"group": ["f", "m"], "accuracy_a": [0.9, 0.95], "accuracy_b": [0.85, 0.95],
        ...                        "accuracy_delta": [-0.05, 0.0]}))
        "by sex: demographic parity difference 0.1 -> 0.15 (drift +0.05); largest change in a group's accuracy: 'f' 90.0% -> 85.0%"
    """
    by = " & ".join(groups["sensitive"])
    if "parity_difference" in groups:
        a, b = groups["parity_difference"]
        text = f"by {by}: demographic parity difference {a:.2g} -> {b:.2g} (drift {b - a:+.2g})"
        measure, share = "accuracy", True
    else:
        a, b = groups["mean_prediction_gap"]
        text = f"by {by}: mean prediction gap {a:.3g} -> {b:.3g} (drift {b - a:+.3g})"
        measure, share = "mae", False
    if f"{measure}_delta" in getattr(frame, "columns", ()) and len(frame):
        row = frame.loc[frame[f"{measure}_delta"].abs().fillna(-1).idxmax()]
        before, after = (f"{100 * row[f'{measure}_a']:.1f}%", f"{100 * row[f'{measure}_b']:.1f}%") if share else \
            (f"{row[f'{measure}_a']:.3g}", f"{row[f'{measure}_b']:.3g}")
        what = "accuracy" if share else "mean absolute error"
        text += f"; largest change in a group's {what}: {row['group']!r} {before} -> {after}"
    return text
