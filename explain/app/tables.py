"""Tables behind the app's charts and pickers: pure functions (no streamlit), unit-tested.

Example:
    >>> import numpy as np
    >>> from explain.results import Attribution
    >>> a = Attribution(values=np.array([[0.5, -1.0]]), method="saliency",
    ...                 target=np.array([1]), modality="tabular", feature_names=("a", "b"),
    ...                 class_names=("no", "yes"))
    >>> attribution_frame(a, [7]).to_dict("records")
    [{'row': 7, 'target': 'yes', 'a': 0.5, 'b': -1.0}]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from explain.core.dataset import Dataset
from explain.results import Attribution

__all__ = ["attribution_frame", "rank_agreement", "row_previews", "sample_rows"]

PREVIEW_CHARS = 70


def _target_names(attr: Attribution) -> list[str]:
    names = attr.class_names
    return [names[int(t)] if names and 0 <= int(t) < len(names) else str(int(t)) for t in attr.target]


def attribution_frame(attr: Attribution, rows: Sequence[int]) -> pd.DataFrame:
    """The attribution values as a table, one example's row index per line.

    Tabular: one line per example, a column per feature (named as the features).
    Images: a long table ``row, target, channel, y, x, value`` (pixel coordinates).
    Text: a long table ``row, target, position, token, value``.

    Args:
        attr: the attributions.
        rows: the dataset row of each example in ``attr``.
    """
    rows = [int(r) for r in rows]
    if len(rows) != len(attr):
        raise ValueError(f"rows has {len(rows)} entries for {len(attr)} examples; give one per example.")
    targets = _target_names(attr)
    values = np.asarray(attr.values)
    if attr.modality == "tabular":
        flat = values.reshape(len(attr), -1)
        names = list(attr.feature_names or [f"x{i}" for i in range(flat.shape[1])])
        frame = pd.DataFrame(flat, columns=names)
        frame.insert(0, "target", targets)
        frame.insert(0, "row", rows)
        return frame
    if attr.modality == "image":
        n, channels, height, width = values.shape
        c, y, x = (a.reshape(-1) for a in np.indices((channels, height, width)))
        per = channels * height * width
        return pd.DataFrame({
            "row": np.repeat(rows, per), "target": np.repeat(targets, per),
            "channel": np.tile(c, n), "y": np.tile(y, n), "x": np.tile(x, n),
            "value": values.reshape(-1),
        })
    records = []
    for i, (row, target) in enumerate(zip(rows, targets)):
        tokens = attr.tokens[i] if attr.tokens is not None else ()
        for position, token in enumerate(tokens):
            records.append((row, target, position, token, float(values[i, position])))
    return pd.DataFrame(records, columns=["row", "target", "position", "token", "value"])


def row_previews(data: Dataset, limit: int = 1000) -> list[str]:
    """A short line per example (the first ``limit``): its number, label and a preview.

    Example:
        >>> d = Dataset(np.array([[1.0, 2.5], [3.0, 4.0]]), np.array([0, 1]),
        ...             feature_names=["a", "b"], class_names=["no", "yes"])
        >>> row_previews(d)
        ['0 · no · a=1, b=2.5', '1 · yes · a=3, b=4']
    """
    n = min(len(data), limit)
    labels = data.labels
    lines = []
    for i in range(n):
        parts = [str(i)]
        if labels is not None:
            parts.append(labels[i])
        if data.texts is not None:
            parts.append(_clip(repr(data.texts[i])))
        elif data.modality == "tabular" and data.x is not None:
            names = data.feature_names or [f"x{j}" for j in range(data.x.shape[1])]
            parts.append(_clip(", ".join(f"{name}={value:.4g}" for name, value in zip(names, data.x[i]))))
        elif data.x is not None:
            parts.append("image " + "×".join(str(s) for s in data.x.shape[1:]))
        lines.append(" · ".join(parts))
    return lines


def _clip(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def sample_rows(n_total: int, n: int, seed: int = 0) -> list[int]:
    """``n`` distinct rows out of ``n_total``, drawn with ``seed``, in ascending order
    (all rows when ``n >= n_total``).

    Example:
        >>> sample_rows(5, 10)
        [0, 1, 2, 3, 4]
        >>> len(sample_rows(1000, 20)), sample_rows(1000, 20) == sample_rows(1000, 20)
        (20, True)
    """
    if n >= n_total:
        return list(range(n_total))
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(n_total, size=n, replace=False))


def rank_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two attributions' magnitudes (1: same ranking).

    Example:
        >>> rank_agreement(np.array([3.0, -2.0, 1.0]), np.array([0.9, 0.5, -0.1]))
        1.0
    """
    x = np.abs(np.asarray(a, dtype=float)).reshape(-1)
    y = np.abs(np.asarray(b, dtype=float)).reshape(-1)
    if x.size < 2 or x.size != y.size:
        return float("nan")
    rx = pd.Series(x).rank().to_numpy()
    ry = pd.Series(y).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])
