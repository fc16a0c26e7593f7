"""``counterfactuals()`` for every modality: tables go to :mod:`explain.recourse.finding`,
images to :mod:`~explain.recourse_media.images`, text to :mod:`~explain.recourse_media.texts`."""

from __future__ import annotations

from typing import Any

from explain.core.model import check_model
from explain.errors import InputError
from explain.recourse.finding import counterfactuals as tabular_counterfactuals
from explain.recourse_media.images import image_counterfactuals
from explain.recourse_media.texts import text_counterfactuals
from explain.results.recourse import Counterfactuals
from explain.results.recourse_media import ImageCounterfactuals, TextCounterfactuals

__all__ = ["counterfactuals"]


def counterfactuals(model: Any, data: Any, queries: Any, *, target: Any = None, immutable: Any = (), n: int = 3,
                    ranges: Any = None, onehot: Any = None, method: str = "auto", time_limit: float = 10.0,
                    seed: int = 0, batch_size: int | None = None,
                    max_edits: int = 5, also: Any = None) -> Counterfactuals | ImageCounterfactuals | TextCounterfactuals:
    """Counterfactual explanations: what would have to change for the model to decide ``target``.

    Tables (see :func:`explain.recourse.finding.counterfactuals` for every option, ``also=``
    included: other models, e.g. a compressed copy, they are checked on): up to
    ``n`` diverse, constrained rows per query, with their robustness, as
    :class:`explain.Counterfactuals`. Images: the smallest L2 change of each query image
    within the data's value range (``ranges=(low, high)`` overrides it), as
    :class:`explain.ImageCounterfactuals`; ``target`` None is the runner-up class of a
    multi-class model. Text: word substitutions and deletions (at most ``max_edits``) that
    flip the decision, as :class:`explain.TextCounterfactuals`. Images and text give one
    counterfactual per query (``n``, ``immutable``, ``onehot``, ``method`` and ``batch_size``
    are for tables); every returned counterfactual is verified by a fresh forward pass.

    Raises:
        InputError: a bad option, an unknown feature or class, a missing target.
        MethodError: a model without gradients where the search needs them.
        DataError: inputs that do not fit the model.

    Example:
        >>> import explain
        >>> model, data = explain.load_example("digits")
        >>> cf = explain.counterfactuals(model, data, data[:1], target="8", time_limit=5)
        >>> type(cf).__name__, cf.targets
        ('ImageCounterfactuals', ('8',))
    """
    checked = check_model(model)
    if also is not None and checked.modality != "tabular":
        raise InputError("also= (other models the counterfactuals are checked on) is for tables; for "
                         f"{checked.modality} models compare the two with explain.compare.")
    if checked.modality == "image":
        return image_counterfactuals(checked, data, queries, target=target, ranges=ranges, time_limit=time_limit,
                                     seed=seed)
    if checked.modality == "text":
        return text_counterfactuals(checked, queries, target=target, max_edits=max_edits, time_limit=time_limit)
    return tabular_counterfactuals(model, data, queries, target=target, immutable=immutable, n=n, ranges=ranges,
                                   onehot=onehot, method=method, time_limit=time_limit, seed=seed,
                                   batch_size=batch_size, also=also)
