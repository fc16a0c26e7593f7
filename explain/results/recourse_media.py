"""The results of :func:`explain.counterfactuals` on images and on text.

Example:
    >>> import numpy as np
    >>> cf = ImageCounterfactuals(originals=np.zeros((1, 1, 2, 2)), counterfactuals=np.eye(2)[None, None] * 0.5,
    ...                           validity=np.array([True]), prediction=np.array([1]), query_prediction=np.array([0]),
    ...                           target_index=np.array([1]), l2=np.array([0.71]), linf=np.array([0.5]),
    ...                           changed_pixels=np.array([0.5]), targets=("b",), reasons=("",), outputs=("a", "b"))
    >>> cf.difference[0, 0].tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    >>> t = TextCounterfactuals(originals=("a fine film",), counterfactuals=("a dull film",),
    ...                         edits=(((1, "fine", "dull"),),), validity=np.array([True]),
    ...                         prediction=np.array([0]), query_prediction=np.array([1]), targets=("negative",),
    ...                         reasons=("",), outputs=("negative", "positive"))
    >>> t.changes(0)
       position  word replacement
    0         1  fine        dull
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.errors import InputError
from explain.results._base import Exported, freeze

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["ImageCounterfactuals", "TextCounterfactuals"]


def _index(i: int, n: int) -> int:
    if not -n <= int(i) < n:
        raise InputError(f"query {i} is out of range for {n} queries; pass 0 to {n - 1}.")
    return int(i) % n


@dataclass(frozen=True)
class ImageCounterfactuals(Exported):
    """The outcome of :func:`explain.counterfactuals` on an image classifier: one
    counterfactual per query.

    Attributes:
        originals: ``(queries, C, H, W)`` the query images.
        counterfactuals: ``(queries, C, H, W)`` the changed images (the query itself where
            none was found).
        validity: ``(queries,)`` whether a fresh forward pass on the returned image gives the
            target.
        prediction: ``(queries,)`` the class reached (-1 where none was found).
        query_prediction: ``(queries,)`` the query's class. target_index: the target's index.
        l2, linf: ``(queries,)`` the change's size (NaN where none was found).
        changed_pixels: ``(queries,)`` the share of pixels moved by more than 1% of the value
            range (NaN where none was found).
        targets: each query's target class name. reasons: why a query has none ("" where it
            has one). outputs: class names. params: the options it ran with.
    """

    originals: np.ndarray
    counterfactuals: np.ndarray
    validity: np.ndarray
    prediction: np.ndarray
    query_prediction: np.ndarray
    target_index: np.ndarray
    l2: np.ndarray
    linf: np.ndarray
    changed_pixels: np.ndarray
    targets: tuple[str, ...]
    reasons: tuple[str, ...]
    outputs: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, ("originals", "counterfactuals", "validity", "prediction", "query_prediction", "target_index",
                      "l2", "linf", "changed_pixels"), ("targets", "reasons", "outputs"))

    def __len__(self) -> int:
        return len(self.originals)

    @property
    def difference(self) -> np.ndarray:
        """``(queries, C, H, W)`` the change map: counterfactual minus original."""
        return self.counterfactuals - self.originals

    def summary(self) -> pd.DataFrame:
        """One row per query: its class, the target, validity, the change's size, reason."""
        import pandas as pd

        return pd.DataFrame({"prediction": [self.outputs[p] for p in self.query_prediction],
                             "target": self.targets, "valid": self.validity, "l2": self.l2, "linf": self.linf,
                             "changed_pixels": self.changed_pixels, "reason": self.reasons})

    def frame(self) -> pd.DataFrame:
        """The same as :meth:`summary` (one counterfactual per query)."""
        return self.summary()

    def plot(self, index: int = 0, **options: Any) -> go.Figure:
        """Original | counterfactual | difference (see :func:`explain.plots.counterfactual_difference`)."""
        from explain.plots.recourse_media import counterfactual_difference

        return counterfactual_difference(self, _index(index, len(self)), **options)


@dataclass(frozen=True)
class TextCounterfactuals(Exported):
    """The outcome of :func:`explain.counterfactuals` on a text classifier: per query, the
    text with word substitutions and deletions that the model decides as the target.

    Attributes:
        originals: the query texts. counterfactuals: the edited texts (the query itself
            where none was found).
        edits: per query, ``(position, word, replacement)`` in the original's words, with
            ``replacement`` None for a deletion.
        validity: ``(queries,)`` whether a fresh forward pass on the edited text gives the target.
        prediction: ``(queries,)`` the class reached (-1 where none was found).
        query_prediction: ``(queries,)`` the query's class.
        targets, reasons, outputs, params: as for :class:`ImageCounterfactuals`.
        tokens: per query, the original's tokens (what ``edits`` positions index; the
            words split at spaces when not given).
    """

    originals: tuple[str, ...]
    counterfactuals: tuple[str, ...]
    edits: tuple[tuple[tuple[int, str, str | None], ...], ...]
    validity: np.ndarray
    prediction: np.ndarray
    query_prediction: np.ndarray
    targets: tuple[str, ...]
    reasons: tuple[str, ...]
    outputs: tuple[str, ...]
    tokens: tuple[tuple[str, ...], ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(tuple(str(t) for t in row) for row in self.tokens) or
                           tuple(tuple(text.split()) for text in self.originals))
        freeze(self, ("validity", "prediction", "query_prediction"),
               ("originals", "counterfactuals", "targets", "reasons", "outputs"))
        object.__setattr__(self, "edits", tuple(tuple((int(p), str(w), None if r is None else str(r))
                                                      for p, w, r in e) for e in self.edits))

    def __len__(self) -> int:
        return len(self.originals)

    def changes(self, i: int) -> pd.DataFrame:
        """Query ``i``'s edits: position (in the original's tokens), word, replacement ("" for
        a deletion)."""
        import pandas as pd

        edits = self.edits[_index(i, len(self))]
        return pd.DataFrame({"position": [e[0] for e in edits], "word": [e[1] for e in edits],
                             "replacement": ["" if e[2] is None else e[2] for e in edits]})

    def summary(self) -> pd.DataFrame:
        """One row per query: its class, the target, validity, the edits, reason."""
        import pandas as pd

        return pd.DataFrame({"prediction": [self.outputs[p] for p in self.query_prediction],
                             "target": self.targets, "valid": self.validity,
                             "edits": [len(e) for e in self.edits], "counterfactual": self.counterfactuals,
                             "reason": self.reasons})

    def frame(self) -> pd.DataFrame:
        """The same as :meth:`summary` (one counterfactual per query)."""
        return self.summary()

    def plot(self, index: int = 0, **options: Any) -> go.Figure:
        """The original's words with the edits marked (see :func:`explain.plots.counterfactual_edits`)."""
        from explain.plots.recourse_media import counterfactual_edits

        return counterfactual_edits(self, _index(index, len(self)), **options)
