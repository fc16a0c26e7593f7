"""The Dataset: examples (a table, images or texts), optional labels, and their names.

Example:
    >>> import numpy as np, explain
    >>> data = explain.Dataset(np.zeros((5, 2)), np.array([0, 1, 0, 1, 1]),
    ...                        feature_names=["a", "b"], class_names=["no", "yes"])
    >>> len(data[:3]), data.modality
    (3, 'tabular')
    >>> data[1:4].rows.tolist(), data[[4, 0]].rows.tolist(), data[1:4][[2]].rows.tolist()
    ([1, 2, 3], [4, 0], [3])

    Metadata columns travel beside the features, aligned with the rows, and never reach
    the model:

    >>> import pandas as pd
    >>> data = explain.Dataset(np.zeros((3, 1)), metadata=pd.DataFrame({"region": ["n", "s", "n"]}))
    >>> data[[2, 1]].metadata["region"].tolist(), data.describe()["metadata"]
    (['n', 's'], ['region'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from explain.errors import DataError, InputError, InputTypeError

__all__ = ["Dataset", "encode_labels"]


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def encode_labels(labels: Sequence[Any]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map labels, kept exactly as written, to class indices.

    Integer-looking labels sort numerically, others alphabetically.

    Example:
        >>> y, names = encode_labels(["b", "NA", "b", "a"])
        >>> y.tolist(), names
        ([2, 0, 2, 1], ('NA', 'a', 'b'))
    """
    text = [str(v) for v in labels]
    unique = set(text)
    if all(_is_int(v) for v in unique):
        names = tuple(sorted(unique, key=int))
    else:
        names = tuple(sorted(unique))
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[v] for v in text], dtype=np.int64), names


class Dataset:
    """Examples to explain, with optional labels.

    Args:
        x: tabular ``(n, features)`` or image ``(n, channels, height, width)`` numbers;
            ``None`` for text.
        y: labels: class indices (classification) or values (regression); optional.
        modality: ``"tabular"``, ``"image"`` or ``"text"``; inferred from ``x`` when omitted.
        feature_names: tabular column names.
        class_names: the name of each class index in ``y``.
        texts: text examples (text modality).
        target_name: the name of the label column in the source file.
        task: ``"classification"`` or ``"regression"`` for the labels, where known.
        source: where the data came from, for display.
        rows: the id of each row in the data it came from (default ``0..n-1``); slicing
            keeps them, so ``data[10:20].rows`` is ``10..19``.
        metadata: columns kept beside the features and never given to the model (sex,
            region, ...): a DataFrame (or a dict of columns) with one row per example, in
            the same order. Values may be text or numbers, and missing; they are kept as
            they are. Available as ``data.metadata`` (index ``0..n-1``; None when there
            is none); slicing keeps it aligned, and pickling keeps it.
    """

    def __init__(
        self,
        x: Any = None,
        y: Any = None,
        *,
        modality: str | None = None,
        feature_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        texts: Sequence[str] | None = None,
        target_name: str | None = None,
        task: str | None = None,
        source: str | None = None,
        rows: Any = None,
        metadata: Any = None,
    ) -> None:
        if texts is not None:
            self.texts: list[str] | None = [str(t) for t in texts]
            self.x: np.ndarray | None = None
            modality = modality or "text"
            n = len(self.texts)
        else:
            if x is None:
                raise InputError("A Dataset needs x (numbers) or texts.")
            self.x = np.asarray(x, dtype=np.float32)
            self.texts = None
            if self.x.ndim == 1:
                self.x = self.x[:, None]
            modality = modality or ("tabular" if self.x.ndim == 2 else "image")
            n = self.x.shape[0]
        self.modality = modality
        self.y = None if y is None else np.asarray(y)
        if self.y is not None and len(self.y) != n:
            raise DataError(f"x has {n} examples but y has {len(self.y)} labels; they must match.")
        if feature_names is None and self.modality == "tabular" and self.x is not None:
            feature_names = [f"x{i}" for i in range(self.x.shape[1])]
        self.feature_names = tuple(str(f) for f in feature_names) if feature_names else None
        self.class_names = tuple(str(c) for c in class_names) if class_names else None
        self.target_name = target_name
        if task is None and self.y is not None:
            task = "classification" if np.issubdtype(self.y.dtype, np.integer) else "regression"
        self.task = task
        self.source = source
        self.rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(self.rows) != n:
            raise DataError(f"x has {n} examples but rows has {len(self.rows)} ids; they must match.")
        self.metadata = _metadata_frame(metadata, n)

    def __len__(self) -> int:
        return len(self.texts) if self.texts is not None else int(self.x.shape[0])  # type: ignore[union-attr]

    def __getitem__(self, index: Any) -> Dataset:
        """Rows of the dataset as a new Dataset: ``data[:50]``, ``data[[0, 3]]``, ``data[2]``."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1 if index != -1 else None)
        texts = None
        if self.texts is not None:
            texts = list(np.array(self.texts, dtype=object)[index])
        return Dataset(
            None if self.x is None else self.x[index],
            None if self.y is None else self.y[index],
            modality=self.modality,
            feature_names=self.feature_names,
            class_names=self.class_names,
            texts=texts,
            target_name=self.target_name,
            task=self.task,
            source=self.source,
            rows=self.rows[index],
            metadata=None if self.metadata is None else self.metadata.iloc[index],
        )

    @property
    def inputs(self) -> Any:
        """What models take: the array (tabular, image) or the list of texts."""
        return self.texts if self.texts is not None else self.x

    @property
    def labels(self) -> list[str] | None:
        """The labels as written in the source (class names), or None without labels."""
        if self.y is None:
            return None
        if self.task == "classification" and self.class_names:
            return [self.class_names[int(i)] for i in self.y]
        return [str(v) for v in self.y]

    def describe(self) -> dict[str, Any]:
        """A summary for display: rows, shape, features, classes and label balance."""
        info: dict[str, Any] = {"rows": len(self), "modality": self.modality, "task": self.task}
        if self.x is not None:
            info["example_shape"] = tuple(self.x.shape[1:])
        if self.feature_names:
            info["features"] = len(self.feature_names)
        if self.y is not None and self.task == "classification":
            counts = np.bincount(self.y.astype(np.int64), minlength=len(self.class_names or ()))
            names = self.class_names or tuple(str(i) for i in range(len(counts)))
            info["label_balance"] = {names[i]: int(c) for i, c in enumerate(counts)}
        if self.metadata is not None:
            info["metadata"] = list(self.metadata.columns)
        return info

    def __repr__(self) -> str:
        shape = None if self.x is None else tuple(self.x.shape)
        return f"Dataset(modality={self.modality!r}, rows={len(self)}, shape={shape}, task={self.task!r})"


def _metadata_frame(metadata: Any, n: int) -> pd.DataFrame | None:
    """``metadata`` as a DataFrame of ``n`` rows with string column names and index ``0..n-1``."""
    if metadata is None:
        return None
    if isinstance(metadata, dict):
        metadata = pd.DataFrame(metadata)
    if not isinstance(metadata, pd.DataFrame):
        raise InputTypeError(
            f"metadata must be a pandas DataFrame (or a dict of columns), got {type(metadata).__name__}; "
            "pass e.g. metadata=pd.DataFrame({'region': [...]}) with one row per example."
        )
    if len(metadata) != n:
        raise DataError(
            f"x has {n} examples but metadata has {len(metadata)} rows; give one metadata row per example."
        )
    frame = metadata.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame
