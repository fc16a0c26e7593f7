"""Is an explanation faithful to the model? Deletion and insertion against random
orderings, Captum's infidelity and max-sensitivity, and agreement between methods.

Example:
    >>> import torch, explain
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 1, bias=False))
    >>> with torch.no_grad():
    ...     net[0].weight[:] = torch.tensor([[3.0, 2.0, 1.0, 0.5]])
    >>> model = explain.Model(net, task="regression")
    >>> x = torch.ones(8, 4)
    >>> q = explain.evaluate(model, x, explain.attribute(model, x, method="input_x_gradient"))
    >>> q.deletion_auc < q.random_deletion_auc, q.insertion_auc > q.random_insertion_auc
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from explain.attribution.registry import METHODS
from explain.core.batch import Batch, prepare
from explain.core.budget import batch_rows
from explain.core.model import Model, check_model
from explain.core.rng import seeded
from explain.core.validate import Instance, Int, Number, check
from explain.errors import InputError
from explain.quality.deletion import Units, default_patch
from explain.quality.sanity import sanity_check
from explain.quality.similarity import lengths_of, spearman_rows, top_k_overlap, unit_maps
from explain.quality.verdicts import verdict
from explain.results import Attribution
from explain.results.quality import Agreement, Quality, auc

__all__ = ["evaluate", "sanity_check", "agreement", "verdict"]

# methods whose attributions are local slopes (gradients), not shares of the output
# change: infidelity perturbs them with Gaussian noise instead of removing subsets
_LOCAL = {"saliency", "smoothgrad", "guided_backprop", "deconvolution", "grad_cam"}


def evaluate(
    model: Model,
    inputs: Any,
    attribution: Attribution,
    *,
    steps: int | None = None,
    baseline: Any = None,
    n_random: int = 5,
    patch: int | None = None,
    infidelity_samples: int = 16,
    sensitivity_samples: int = 5,
    sensitivity_radius: float = 0.02,
    batch_size: int | None = None,
    seed: int = 0,
) -> Quality:
    """Faithfulness of ``attribution`` on the ``inputs`` it explains.

    Deletion removes units (tabular features; image pixels, all channels together, or
    square patches for images larger than 64x64; text tokens other than [CLS], [SEP]
    and friends) in decreasing order of their signed attribution, replacing them by the
    baseline; insertion starts from the baseline and puts them back in that order. The
    y axis is the softmax probability of the target class (classifiers) or the raw
    output (regression); the x axis is the fraction of units; AUCs use the trapezoid
    rule. ``n_random`` seeded random orderings of the same units give the yardstick.

    Infidelity (Captum's ``infidelity``, ``normalize=True`` so the attribution's scale
    does not matter) compares the attribution with the change of the raw target output:
    for gradient-like methods (saliency, smoothgrad, guided backprop, deconvolution,
    Grad-CAM) under Gaussian noise of 10% of the inputs' spread; for the others under
    removal of random subsets (each unit replaced by the baseline with probability 1/4).
    Max-sensitivity (Captum's ``sensitivity_max``) re-runs the method on inputs moved
    uniformly by up to ``sensitivity_radius`` times each feature's standard deviation
    (images: the pixel range); it needs an :func:`explain.attribute` method. Text skips
    both (the inputs are discrete tokens); the reasons go to ``params["skipped"]``.

    Args:
        model: an :class:`explain.Model`.
        inputs: the inputs the attribution explains (any form ``explain.attribute`` takes).
        attribution: from :func:`explain.attribute` or :func:`explain.shap_values`.
        steps: points on the curve after the first; default ``min(units, 50)``.
        baseline: what removed units become: None (the attribution's own baseline when
            it recorded one; else the inputs' mean for tables, as for SHAP values, and
            zeros for images), ``"zeros"``, ``"mean"``, a number, or an array of one
            example's shape. Text always uses [PAD].
        n_random: random orderings averaged for the yardstick.
        patch: images: the side of square patches (1 = pixels); default pixels up to
            64x64, else a grid of about 32x32 patches.
        infidelity_samples: perturbations per example for infidelity (0 skips it).
        sensitivity_samples: perturbations per example for max-sensitivity (0 skips it).
        sensitivity_radius: the perturbation radius, relative to the inputs' spread.
        batch_size: inputs per model call; None: as many as the memory budget holds (see
            :mod:`explain.core.budget`). The curves do not depend on it.
        seed: seeds the random orderings and perturbations; results repeat exactly.

    Returns:
        A :class:`explain.results.Quality`.

    Raises:
        InputError: the attribution does not belong to these inputs, or an option is wrong.

    Example:
        Deleting the features the attribution ranks first lowers the output faster than
        deleting them in random order (a smaller area under the deletion curve):

        >>> import torch, explain
        >>> net = torch.nn.Linear(3, 1)
        >>> with torch.no_grad():
        ...     _ = net.weight.copy_(torch.tensor([[2.0, -1.0, 0.5]])), net.bias.zero_()
        >>> model = explain.Model(net, task="regression", modality="tabular",
        ...                       feature_names=["a", "b", "c"])
        >>> x = torch.tensor([[1.0, 2.0, 4.0], [3.0, 1.0, 0.0]])
        >>> attr = explain.attribute(model, x)
        >>> q = explain.evaluate(model, x, attr, infidelity_samples=0, sensitivity_samples=0)
        >>> round(q.deletion_auc, 3), round(q.random_deletion_auc, 3), q.unit
        (-0.083, 1.95, 'feature')
    """
    _check_options(model, attribution, steps, n_random, batch_size, (infidelity_samples, sensitivity_samples),
                   sensitivity_radius)
    batch = prepare(model, inputs)
    _check_match(model, batch, attribution)
    rows = batch_rows(model, batch, batch_size)
    base, base_name = _baseline(model, batch, baseline, attribution)
    side = 1
    if model.modality == "image":
        side = int(patch) if patch else default_patch(*batch.x.shape[2:])
    units = Units(model, batch, base, side)
    steps = int(steps) if steps is not None else int(min(units.width, 50))
    fractions = np.linspace(0.0, 1.0, steps + 1)
    target = torch.tensor(np.asarray(attribution.target, dtype=np.int64))
    ranks = units.ranks(units.scores(attribution.values))
    deletion = units.curves(ranks, fractions, target, insertion=False, batch_size=rows)
    insertion = units.curves(ranks, fractions, target, insertion=True, batch_size=rows)
    rng = np.random.default_rng(seed)
    rand_del, rand_ins = [], []
    for _ in range(n_random):
        r = units.random_ranks(rng)
        rand_del.append(units.curves(r, fractions, target, insertion=False, batch_size=rows).mean(0))
        rand_ins.append(units.curves(r, fractions, target, insertion=True, batch_size=rows).mean(0))
    skipped: dict[str, str] = {}
    metrics = _metrics(model, batch, attribution, units, base, base_name, target, skipped,
                       infidelity_samples, sensitivity_samples, sensitivity_radius, rows, batch_size, seed)
    params = {"steps": steps, "n_random": n_random, "baseline": base_name, "seed": seed,
              "infidelity_samples": infidelity_samples, "sensitivity_samples": sensitivity_samples,
              "sensitivity_radius": sensitivity_radius, "order": "signed attribution, largest first",
              "skipped": skipped, **({"patch": side} if model.modality == "image" else {})}
    rand_del_a, rand_ins_a = np.array(rand_del), np.array(rand_ins)
    return Quality(
        method=attribution.method, modality=model.modality, fractions=fractions,
        deletion_curves=deletion, insertion_curves=insertion,
        random_deletion_curves=rand_del_a, random_insertion_curves=rand_ins_a,
        deletion_auc=float(auc(fractions, deletion.mean(0))),
        insertion_auc=float(auc(fractions, insertion.mean(0))),
        random_deletion_auc=float(auc(fractions, rand_del_a).mean()),
        random_insertion_auc=float(auc(fractions, rand_ins_a).mean()),
        target=attribution.target, output="probability" if model.task == "classification" else "output",
        unit=units.unit, class_names=attribution.class_names or model.class_names, params=params,
        **metrics,
    )


def _check_options(model: Any, attribution: Any, steps: Any, n_random: Any, batch_size: Any,
                   samples: tuple[Any, Any], radius: Any) -> None:
    check_model(model)
    check(
        attribution=(attribution, Instance(Attribution, "Compute one with explain.attribute(model, inputs) "
                                                        "or explain.shap_values(model, inputs).")),
        steps=(steps, Int(low=1, optional=True, suggest=50)), n_random=(n_random, Int(low=1, suggest=5)),
        batch_size=(batch_size, Int(low=1, optional=True)),
        infidelity_samples=(samples[0], Int(low=0, hint="0 skips infidelity.", suggest=16)),
        sensitivity_samples=(samples[1], Int(low=0, hint="0 skips max-sensitivity.", suggest=5)),
        sensitivity_radius=(radius, Number(low=0, suggest=0.02)),
    )


def _check_match(model: Model, batch: Batch, attribution: Attribution) -> None:
    """The attribution must explain exactly these inputs."""
    fix = ("Pass the inputs the attribution was computed on, e.g. "
           "explain.evaluate(model, x, explain.attribute(model, x)).")
    if attribution.modality != model.modality:
        raise InputError(f"The attribution is of {attribution.modality} data but the model takes "
                         f"{model.modality} inputs. {fix}")
    if len(attribution) != batch.n:
        raise InputError(f"The attribution explains {len(attribution)} examples but {batch.n} inputs "
                         f"were given. {fix}")
    if model.modality == "text":
        if attribution.tokens is not None and tuple(map(tuple, batch.tokens or ())) != attribution.tokens:
            raise InputError(f"The attribution's tokens differ from these texts' tokens. {fix}")
        return
    shape = tuple(batch.x.shape)
    if tuple(attribution.values.shape) != shape:
        raise InputError(f"The attribution's values have shape {tuple(attribution.values.shape)} but the "
                         f"inputs have shape {shape}; they must match. {fix}")
    if attribution.inputs is not None and not np.allclose(
            attribution.inputs, batch.x.detach().cpu().numpy(), rtol=1e-4, atol=1e-5):
        raise InputError(f"The attribution was computed on other inputs than these. {fix}")
    outputs = model.logits(batch.x[:1]).shape[1]
    if (np.asarray(attribution.target) >= outputs).any() or (np.asarray(attribution.target) < 0).any():
        raise InputError(f"The attribution's targets must be between 0 and {outputs - 1}: the model has "
                         f"{outputs} outputs. Is this the model the attribution was computed for?")


def _baseline(model: Model, batch: Batch, baseline: Any, attribution: Attribution) -> tuple[torch.Tensor | None, Any]:
    if model.modality == "text":
        if baseline not in (None, "zeros"):
            raise InputError("Text baselines are fixed: removed tokens become [PAD]; leave baseline=None.")
        return None, "[PAD]"
    x = batch.x
    if baseline is None:
        recorded = attribution.params.get("baseline")
        if recorded == "array":
            raise InputError(
                "The attribution used an array as its baseline, which it does not keep. Pass the "
                "same array: explain.evaluate(model, x, attr, baseline=that_array)."
            )
        if isinstance(recorded, (str, int, float)) and not isinstance(recorded, bool):
            baseline = recorded
        else:  # e.g. SHAP, whose absent features take background values: their mean, roughly
            baseline = "mean" if model.modality == "tabular" else "zeros"
    if isinstance(baseline, str):
        if baseline == "zeros":
            return torch.zeros_like(x[:1]), "zeros"
        if baseline == "mean":
            return x.mean(dim=0, keepdim=True), "mean"
        raise InputError(f"baseline must be None, 'zeros', 'mean', a number or an array; got {baseline!r}.")
    if isinstance(baseline, (int, float)):
        return torch.full_like(x[:1], float(baseline)), float(baseline)
    b = torch.as_tensor(np.asarray(baseline), dtype=x.dtype, device=x.device)
    if tuple(b.shape) != tuple(x.shape[1:]):
        raise InputError(f"baseline must have one example's shape {tuple(x.shape[1:])}; got {tuple(b.shape)}.")
    return b.unsqueeze(0), "array"


def _metrics(model: Model, batch: Batch, attribution: Attribution, units: Units, base: torch.Tensor | None,
             base_name: Any, target: torch.Tensor, skipped: dict[str, str], infidelity_samples: int,
             sensitivity_samples: int, radius: float, rows: int, batch_size: int | None,
             seed: int) -> dict[str, Any]:
    """Infidelity and max-sensitivity; ``rows`` inputs per model call, ``batch_size`` as the
    user gave it (None: :func:`explain.attribute` sizes its own batches from the budget)."""
    out: dict[str, Any] = {"infidelity": None, "infidelity_reference": None, "sensitivity": None}
    if model.modality == "text":
        skipped["infidelity"] = skipped["sensitivity"] = (
            "text inputs are discrete tokens: there is no small perturbation to take")
        return out
    if not model.differentiable and attribution.method in METHODS and METHODS[attribution.method].gradients:
        skipped["sensitivity"] = "the model runs as a black box"
    x = batch.x.detach()
    values = torch.tensor(np.asarray(attribution.values), dtype=x.dtype, device=x.device)
    t = target.to(x.device)
    if infidelity_samples:
        with seeded(seed):
            out["infidelity"], out["infidelity_reference"] = _infidelity(
                model, attribution.method, units, x, values, base, t, infidelity_samples, rows)
    else:
        skipped["infidelity"] = "infidelity_samples=0"
    if not sensitivity_samples:
        skipped["sensitivity"] = "sensitivity_samples=0"
    elif attribution.method not in METHODS:
        skipped["sensitivity"] = (
            f"max-sensitivity re-runs the method, and {attribution.method!r} is not an "
            "explain.attribute method")
    elif "sensitivity" not in skipped:
        with seeded(seed):
            out["sensitivity"] = _sensitivity(model, attribution, x, t, base, base_name,
                                              sensitivity_samples, radius, rows, batch_size, seed)
    return out


def _spread(x: torch.Tensor) -> torch.Tensor:
    """Per-feature standard deviation (tabular) or the pixel range (images), never 0."""
    if x.ndim == 2 and x.shape[0] > 1:
        s = x.std(dim=0, keepdim=True)
        return torch.where(s > 0, s, torch.ones_like(s))
    r = (x.max() - x.min()).reshape(1)
    return torch.where(r > 0, r, torch.ones_like(r))


def _infidelity(model: Model, method: str, units: Units, x: torch.Tensor, values: torch.Tensor,
                base: torch.Tensor | None, target: torch.Tensor, samples: int, batch_size: int) -> tuple[float, float]:
    from captum.metrics import infidelity

    local = method in _LOCAL
    scale = 0.1 * _spread(x)

    def perturb(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if local:
            noise = torch.randn_like(inputs) * scale
            return noise, inputs - noise
        picked = units.random_subsets(inputs, 0.25)
        return picked.to(inputs.dtype), torch.where(picked, base.expand_as(inputs), inputs)

    chunk = max(1, batch_size // samples)
    scores, reference = [], []
    for start in range(0, x.shape[0], chunk):
        rows = slice(start, start + chunk)
        for attr, into in ((values[rows], scores), (torch.zeros_like(values[rows]), reference)):
            state = torch.get_rng_state()  # the same perturbations for both
            into.append(infidelity(model.forward_module, perturb, x[rows], attr, target=target[rows],
                                   n_perturb_samples=samples, normalize=True).detach().cpu())
            if into is scores:
                torch.set_rng_state(state)
    return float(torch.cat(scores).mean()), float(torch.cat(reference).mean())


def _sensitivity(model: Model, attribution: Attribution, x: torch.Tensor, target: torch.Tensor,
                 base: torch.Tensor | None, base_name: Any, samples: int, radius: float,
                 rows: int, batch_size: int | None, seed: int) -> float:
    from captum.metrics import sensitivity_max

    from explain.attribution.attributions import attribute, default_background

    spec = METHODS[attribution.method]
    options = {k: attribution.params[k] for k in spec.defaults if k in attribution.params}
    extra: dict[str, Any] = {}
    if spec.baseline:
        extra["baseline"] = base[0].cpu().numpy() if base_name in ("mean", "array") else base_name
    if spec.background:  # the default background of explain.attribute, fixed to the originals
        extra["background"] = x[torch.as_tensor(default_background(len(x), seed))]
    scale = _spread(x)

    def explain_fn(inputs: Any, target: torch.Tensor) -> tuple[torch.Tensor]:
        xs = inputs[0] if isinstance(inputs, tuple) else inputs
        a = attribute(model, xs, method=attribution.method, target=target.cpu().numpy(), seed=seed,
                      batch_size=None if batch_size is None else min(batch_size, 64), **options, **extra)
        return (torch.tensor(a.values, dtype=xs.dtype, device=xs.device),)

    def perturb(inputs: torch.Tensor, r: float) -> torch.Tensor:
        return inputs + (torch.rand_like(inputs) * 2 - 1) * r * scale

    chunk = max(1, rows // samples)
    out = []
    for start in range(0, x.shape[0], chunk):
        rows = slice(start, start + chunk)
        out.append(sensitivity_max(explain_fn, x[rows], perturb_func=perturb, perturb_radius=radius,
                                   n_perturb_samples=samples, target=target[rows]).detach().cpu())
    return float(torch.cat(out).mean())


def agreement(attributions: Sequence[Attribution], *, k: int | None = None,
              names: Sequence[str] | None = None) -> Agreement:
    """Pairwise agreement of attribution methods on the same examples.

    For every pair: the Spearman rank correlation of |attribution| per example, the
    fraction of the top-``k`` units (by |attribution|) both share, and the fraction of
    k of the shared ones whose signs also agree (Krishna et al., 2022), each averaged
    over examples. Units: features, pixels (channels summed) or each example's tokens.

    Args:
        attributions: two or more Attributions of the same examples and targets.
        k: the top set's size; default 5 (tabular, text; at most the units there are),
            10% of the pixels for images.
        names: labels of the attributions; default their methods (repeats numbered).

    Returns:
        An :class:`explain.results.Agreement`.

    Raises:
        InputError: fewer than two attributions, or they explain different things.

    Example:
        >>> import numpy as np, explain
        >>> from explain.results import Attribution
        >>> a = Attribution(values=np.array([[3.0, 2, 1, 0]]), method="a",
        ...                 target=np.array([0]), modality="tabular")
        >>> b = Attribution(values=np.array([[0.0, 1, 2, 3]]), method="b",
        ...                 target=np.array([0]), modality="tabular")
        >>> explain.agreement([a, b], k=2).rank_correlation.round(6).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    attrs = list(attributions)
    if len(attrs) < 2 or not all(isinstance(a, Attribution) for a in attrs):
        raise InputError("agreement needs a list of two or more explain.Attribution results of the same examples.")
    first = attrs[0]
    for a in attrs[1:]:
        _check_pair(first, a)
    labels = list(names) if names is not None else _labels([a.method for a in attrs])
    if len(labels) != len(attrs):
        raise InputError(f"names has {len(labels)} entries for {len(attrs)} attributions; give one each.")
    maps = [unit_maps(a.values, a.modality) for a in attrs]
    signed = [unit_maps(a.values, a.modality, signed=True) for a in attrs]
    n, width = len(first), int(np.prod(maps[0].shape[1:]))
    lengths = lengths_of(first.tokens, n, width) if first.modality == "text" else None
    if k is None:
        k = max(1, round(0.1 * width)) if first.modality == "image" else min(5, width)
    k = check(k=(k, Int(low=1, suggest=5)))["k"]
    m = len(attrs)
    rho, overlap, signs = np.eye(m), np.eye(m), np.eye(m)
    for i in range(m):
        for j in range(i + 1, m):
            rho[i, j] = rho[j, i] = float(np.mean(spearman_rows(maps[i], maps[j], lengths)))
            o, s = top_k_overlap(maps[i], maps[j], int(k), lengths, (signed[i], signed[j]))
            overlap[i, j] = overlap[j, i] = float(o.mean())
            signs[i, j] = signs[j, i] = float(s.mean())
    return Agreement(methods=tuple(labels), rank_correlation=rho, top_k_overlap=overlap,
                     sign_agreement=signs, k=int(k), n_examples=n, modality=first.modality,
                     params={"similarity": "absolute attributions"})


def _check_pair(a: Attribution, b: Attribution) -> None:
    fix = "Explain the same examples for the same targets with each method."
    if a.modality != b.modality or a.values.shape != b.values.shape:
        raise InputError(f"{a.method} has {a.modality} values of shape {a.values.shape} but {b.method} "
                         f"has {b.modality} values of shape {b.values.shape}. {fix}")
    if a.tokens != b.tokens or (a.inputs is not None and b.inputs is not None
                                and not np.allclose(a.inputs, b.inputs, rtol=1e-4, atol=1e-5)):
        raise InputError(f"{a.method} and {b.method} explain different examples. {fix}")
    if not np.array_equal(np.asarray(a.target), np.asarray(b.target)):
        raise InputError(f"{a.method} and {b.method} explain different targets; pass target=... to both. {fix}")


def _labels(methods: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in methods:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
