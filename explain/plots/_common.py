"""Small helpers shared by the plot modules (private)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explain.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from explain.results import Attribution

# Ends of the RdBu diverging scale: positive attributions red, negative blue.
POSITIVE_COLOR = "#b2182b"
NEGATIVE_COLOR = "#2166ac"
NEUTRAL_COLOR = "#bababa"
DIVERGING_SCALE = "RdBu_r"


def display_text(text: object) -> str:
    """User text (feature and class names, tokens) made safe for plotly, which reads a
    subset of HTML in labels: ``<``, ``>`` and ``&`` become entities and show literally."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def check_modality(attr: Attribution, modality: str, plot_name: str) -> None:
    """Raise InputError when ``attr`` is not of ``modality``."""
    if attr.modality != modality:
        raise InputError(
            f"{plot_name} plots {modality} attributions, but this result has "
            f"modality {attr.modality!r}; call explain.plots.plot(attr) to get the "
            f"plot that fits its modality."
        )


def check_index(attr: Attribution, index: int) -> int:
    """Return ``index`` as a non-negative int, or raise InputError when out of range."""
    n = len(attr)
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise InputError(f"index must be an int, got {type(index).__name__}; pass e.g. index=0.")
    if not -n <= int(index) < n:
        raise InputError(
            f"index {int(index)} is out of range for {n} example(s); pass an index "
            f"from 0 to {n - 1}."
        )
    return int(index) % n


def target_label(attr: Attribution, index: int) -> str:
    """The explained class of example ``index``: its name where known, else its number."""
    if attr.target is None or np.ndim(attr.target) == 0 or len(attr.target) <= index:
        return "?"
    target = attr.target[index]
    if np.ndim(target) != 0:
        return str(np.asarray(target).tolist())
    target = int(target)
    if attr.class_names is not None and 0 <= target < len(attr.class_names):
        return display_text(attr.class_names[target])
    return str(target)


def example_title(attr: Attribution, index: int) -> str:
    """A title naming the method, the example and the explained class."""
    return f"{attr.method}: example {index}, target {target_label(attr, index)}"


def symmetric_range(values: np.ndarray) -> float:
    """The largest finite |value|, or 1.0 when there is none or it is zero."""
    finite = np.abs(values[np.isfinite(values)]) if np.size(values) else np.zeros(0)
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else 1.0
