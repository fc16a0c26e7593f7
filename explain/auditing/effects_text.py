"""The effects section's findings in words: how the output moves along each top feature's
partial dependence curve, and what the counterfactuals of a few unfavourable rows show.

Example:
    >>> import numpy as np
    >>> from explain.results.effects import PartialDependence
    >>> result = PartialDependence(features=("worst area",), grid={"worst area": np.array([500.0, 1000.0, 1500.0])},
    ...                            average={"worst area": np.array([[0.1, 0.5, 0.9], [0.9, 0.5, 0.1]])},
    ...                            individual={"worst area": None}, outputs=("malignant", "benign"),
    ...                            task="classification", n=100)
    >>> curve(result, "worst area", "malignant")
    'the probability of malignant rises from 0.1 to 0.9 as worst area rises from 500 to 1,500'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.auditing.common import pct

__all__ = ["number", "curve", "recourse"]


def number(x: float) -> str:
    """A value for a sentence: thousands separated, three significant digits.

    Example:
        >>> number(1500.0), number(0.08412), number(-12.0)
        ('1,500', '0.0841', '-12')
    """
    x = float(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def curve(result: Any, feature: str, output: str | None) -> str:
    """How the average response to ``feature`` moves from the first grid value to the last
    (for a classifier, the probability of ``output``), and its peak or dip when the curve
    turns in between."""
    grid = np.asarray(result.grid[feature], dtype=float)
    column = 0 if output is None else result.output_index(output)
    values = np.asarray(result.average[feature][column], dtype=float)
    what = "the prediction" if result.task == "regression" else f"the probability of {output}"
    start, end = values[0], values[-1]
    verb = "rises" if end > start else "falls" if end < start else "stays"
    moved = f"{verb} from {number(start)} to {number(end)}" if verb != "stays" else f"stays at {number(start)}"
    said = f"{what} {moved} as {feature} rises from {number(grid[0])} to {number(grid[-1])}"
    span = float(values.max() - values.min())
    if span > 1.5 * abs(end - start) + 1e-12:
        top = int(values.argmax() if abs(values.max() - max(start, end)) >= abs(values.min() - min(start, end))
                  else values.argmin())
        said += f", {'peaking' if top == int(values.argmax()) else 'dipping'} at {number(values[top])} " \
                f"near {number(grid[top])}"
    return said


def recourse(result: Any, favourable: str) -> list[str]:
    """What the counterfactuals show: how many were found for how many rows, their validity,
    sparsity and proximity, and why a row has none.

    Example:
        >>> import numpy as np
        >>> from explain.results.recourse import Counterfactuals
        >>> cf = Counterfactuals(feature_names=("a", "b"), queries=np.array([[0.0, 0.0], [1.0, 1.0]]),
        ...                      values=np.array([[0.0, 2.0]]), query_index=np.array([0]),
        ...                      validity=np.array([True]), sparsity=np.array([1]), proximity=np.array([0.5]),
        ...                      plausibility=np.array([0.2]), prediction=np.array([1.0]),
        ...                      query_prediction=np.array([0.0, 0.0]), diversity=np.array([np.nan, np.nan]),
        ...                      targets=("yes", "yes"), reasons=("found 1 of 3: time", "found none: time"),
        ...                      outputs=("no", "yes"), task="classification")
        >>> recourse(cf, "yes")[0]
        "counterfactuals toward 'yes' for 2 rows predicted otherwise: 1 found (1 of 2 rows have at least one), 100% valid on a fresh forward pass, changing 1 feature(s) on average at a distance of 0.5 MAD per feature"
        >>> recourse(cf, "yes")[1]
        'row 1: found none: time'
    """
    found = len(result.values)
    rows = len(result)
    answered = len(np.unique(result.query_index)) if found else 0
    if not found:
        said = f"counterfactuals toward {favourable!r} for {rows} rows predicted otherwise: none found"
    else:
        said = (f"counterfactuals toward {favourable!r} for {rows} rows predicted otherwise: {found} found "
                f"({answered} of {rows} rows have at least one), {pct(float(np.mean(result.validity)))} valid on a "
                f"fresh forward pass, changing {float(np.mean(result.sparsity)):.2g} feature(s) on average at a "
                f"distance of {float(np.mean(result.proximity)):.2g} MAD per feature")
    notes = [f"row {i}: {reason}" for i, reason in enumerate(result.reasons)
             if reason and not np.any(result.query_index == i)]
    return [said, *notes]
