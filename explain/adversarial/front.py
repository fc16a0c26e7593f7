"""Adversarial robustness: ``explain.robustness``.

How little does it take to change the model's mind? FGSM and PGD (Captum's robust
module) on tables and images, a token search on text; the accuracy at each attack size,
the smallest size that flips each example, and how the explanation of each flipped
example moved.

The front door checks the options, prepares the inputs and reads their labels once,
resolves every setting (the sizes, the attack space read from all rows) into one
:class:`~explain.adversarial.plan.Plan`, and runs it on all rows here
(:mod:`explain.adversarial.local`) or in chunks on a backend
(:mod:`explain.adversarial.chunks`).

Example:
    >>> import torch, explain
    >>> net = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    ...     _ = net.bias.zero_()
    >>> model = explain.Model(net, modality="tabular")
    >>> x = torch.tensor([[0.5, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> rob = explain.robustness(model, x, [0, 0, 0], attack="fgsm", epsilons=[0, 0.6, 1.2],
    ...                          scale="none", bounds=(-5, 5), refine=10,
    ...                          explain_method=None)
    >>> rob.accuracy.round(2).tolist(), rob.min_epsilon.round(2).tolist()
    ([1.0, 0.67, 0.33], [0.5, 1.0, nan])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from explain.adversarial.attacks import build_space
from explain.adversarial.chunks import run_chunked
from explain.adversarial.local import attack_rows
from explain.adversarial.plan import Plan, Rows
from explain.core.batch import prepare
from explain.core.budget import batch_rows
from explain.core.labels import true_labels
from explain.core.model import Model, check_model
from explain.core.validate import Int, OneOf, check
from explain.errors import InputError, InputTypeError, MethodError
from explain.results.robustness import RobustnessResult
from explain.runtime.backends import Local, get_backend

__all__ = ["robustness", "ATTACKS", "default_epsilons"]

ATTACKS = ("fgsm", "pgd", "text")
NORMS = ("linf", "l2")


def default_epsilons(modality: str, norm: str = "linf") -> list[float]:
    """Attack sizes used when none are given: standard deviations (tables), pixel units
    relative to a 0..1 range (images), token edits (text).

    Example:
        >>> default_epsilons("text")
        [0, 1, 2, 3]
    """
    if modality == "text":
        return [0, 1, 2, 3]
    if norm == "l2":
        return [0.0, 0.1, 0.25, 0.5, 1.0, 2.0]
    if modality == "image":
        return [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]
    return [0.0, 0.05, 0.1, 0.2, 0.3, 0.5]


def robustness(
    model: Model,
    inputs: Any,
    targets: Any = None,
    *,
    attack: str = "pgd",
    epsilons: Sequence[float] | None = None,
    norm: str = "linf",
    bounds: Any = None,
    steps: int = 20,
    step_size: float | None = None,
    random_start: bool = False,
    target_class: int | Sequence[int] | None = None,
    scale: Any = "std",
    immutable: Any = None,
    integer: Any = "auto",
    one_hot: Any = None,
    min_epsilon: bool = True,
    refine: int = 6,
    explain_method: str | None = "saliency",
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    backend: Any = None,
) -> RobustnessResult:
    """Attack the model at each size in ``epsilons`` and measure what it takes to flip it.

    Args:
        model: a classifier (:class:`explain.Model`).
        inputs: examples: a Dataset (brings its labels), tensor, array, DataFrame, or texts.
        targets: true labels in the model's output order (default: the Dataset's).
        attack: ``"pgd"`` or ``"fgsm"`` (tables, images); text models always use
            ``"text"``, a search over token substitutions and deletions.
        epsilons: attack sizes. Tables: in standard deviations of each feature (see
            ``scale``); images: pixel units; text: tokens changed. Default:
            :func:`default_epsilons`.
        norm: ``"linf"`` or ``"l2"`` (PGD only; FGSM is an L-inf attack).
        bounds: ``(lower, upper)`` valid input range, numbers or one value per
            feature. Default: the range seen in ``inputs`` (per feature for tables).
        steps, step_size: PGD iterations and step (default ``2.5 * eps / steps``).
        random_start: PGD starts from a random point in the ball (seeded).
        target_class: targeted attack: the class to reach (one, or one per example);
            success means the model predicts it. Default: untargeted.
        scale: tables: ``"std"`` (each feature's standard deviation in ``inputs``),
            ``"none"`` (raw units) or one positive value per feature.
        immutable: tables: features (names or indices) that never move.
        integer: tables: integer features, kept whole: ``"auto"`` (columns whose values
            are all whole numbers), a list, or None.
        one_hot: tables: groups of one-hot columns; each keeps exactly one 1.
        min_epsilon: search the smallest flipping size per example between the grid
            points by bisection (``refine`` halvings). Text: the edit count.
        explain_method: attribution method compared before and after the attack on
            each flipped example (tables and images); None skips it.
        batch_size: examples per attack call, which bounds memory; None: as many as the
            memory budget holds for a gradient pass (see :mod:`explain.core.budget`).
        seed: seeds the random start and every stochastic step.
        progress: called with the fraction done.
        backend: ``None``/``"local"`` (this process) or ``"ray"`` (chunks of
            ``batch_size`` rows on Ray actors that hold the model; the scales, bounds and
            integer columns are read from all rows first, so the result equals the local
            run's; a random start is seeded per chunk there).

    Returns:
        A :class:`RobustnessResult`; ``result.curve`` is the accuracy table.

    Raises:
        InputTypeError: an argument of the wrong type (not a Model, steps not an integer).
        InputError: an unknown attack, norm, or options that do not fit the data.
        MethodError: the model is a regression or has no gradients.

    Example:
        >>> import explain
        >>> model, data = explain.load_example("digits")
        >>> rob = explain.robustness(model, data[:20], epsilons=[0.0, 0.2], steps=10)
        >>> rob.curve[["epsilon", "accuracy"]].round(2).values.tolist()
        [[0.0, 0.95], [0.2, 0.0]]
        >>> rob.verdict()
        'accuracy falls from 95% to 0% at epsilon 0.2 (L-inf, PGD)'
    """
    steps, refine, batch_size = _check(model, attack, norm, steps, refine, batch_size)
    labels = true_labels(model, inputs, targets)
    batch = prepare(model, inputs)
    if len(labels) != batch.n:
        raise InputError(f"There are {batch.n} examples but {len(labels)} labels; give one label per example.")
    batch_size = batch_rows(model, batch, batch_size, gradients=True)
    goal = None if target_class is None else _goals(target_class, batch.n)
    eps = _epsilons(epsilons, model.modality, norm)
    chosen = get_backend(backend)
    text = model.modality == "text"
    space = None if text else build_space(model, batch.x.cpu(), bounds=bounds, scale=scale, immutable=immutable,
                                          integer=integer, one_hot=one_hot, names=batch.feature_names)
    plan = Plan(
        modality=model.modality, attack="text" if text else attack, norm="edits" if text else norm,
        epsilons=eps, steps=1 if attack == "fgsm" else steps, step_size=step_size, random_start=random_start,
        space=space, search=min_epsilon, refine=refine, explain_method=None if text else explain_method,
        batch_size=batch_size, seed=seed, feature_names=None if text else batch.feature_names,
        scale_name=_scale_name(model, scale), target_class=None if goal is None else tuple(goal.tolist()),
    )
    rows = Rows.of(batch, labels, goal)
    if isinstance(chosen, Local):
        return attack_rows(model, plan, rows, progress)
    return run_chunked(chosen, model, plan, rows, progress)


def _check(model: Any, attack: Any, norm: Any, steps: Any, refine: Any, batch_size: Any) -> tuple[int, int, int | None]:
    """The one check of the options; returns ``steps``, ``refine`` and ``batch_size`` as ints."""
    check_model(model)
    if model.task != "classification":
        raise MethodError(
            "robustness measures how easily a classifier's label flips; this model is a regression. "
            "Use explain.uncertainty for prediction intervals instead."
        )
    if not model.differentiable:
        raise MethodError(
            "This model has no gradients (an ONNX file run by onnxruntime), and the attacks follow "
            "gradients. Install onnx2torch (pip install onnx2torch) or load a .pt2 / safetensors model."
        )
    values = check(attack=(attack, OneOf(ATTACKS)), norm=(norm, OneOf(NORMS)), steps=(steps, Int(low=1)),
                   refine=(refine, Int(low=0)), batch_size=(batch_size, Int(low=1, optional=True)))
    if attack == "fgsm" and norm == "l2":
        raise InputError("FGSM is an L-inf attack; use attack='pgd' for norm='l2'.")
    if attack == "text" and model.modality != "text":
        raise InputError("attack='text' is for text models; use 'pgd' or 'fgsm' for tables and images.")
    return values["steps"], values["refine"], values["batch_size"]


def _epsilons(epsilons: Sequence[float] | None, modality: str, norm: str) -> np.ndarray:
    values = default_epsilons(modality, norm) if epsilons is None else epsilons
    try:
        eps = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise InputTypeError(f"epsilons must be a list of numbers, got {epsilons!r}; "
                             "pass e.g. epsilons=[0, 0.1, 0.3].") from err
    if eps.size == 0 or (eps < 0).any() or not np.isfinite(eps).all():
        raise InputError(f"epsilons must be non-negative finite numbers; got {eps.tolist()}.")
    if modality == "text" and not np.all(eps == np.round(eps)):
        raise InputError("For text, epsilons count token edits: give whole numbers such as [0, 1, 2, 3].")
    return np.unique(eps)


def _goals(target_class: Any, n: int) -> np.ndarray:
    goal = np.asarray(target_class, dtype=np.int64).reshape(-1)
    if goal.size == 1:
        goal = np.full(n, int(goal[0]))
    if goal.size != n:
        raise InputError(f"target_class has {goal.size} entries for {n} examples; give one, or one per example.")
    return goal


def _scale_name(model: Model, scale: Any) -> str:
    if model.modality != "tabular" or scale is None or (isinstance(scale, str) and scale == "none"):
        return "none"
    return scale if isinstance(scale, str) else "custom"
