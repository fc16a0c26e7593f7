"""SHAP values: exact where it is cheap, sampled with an error estimate where it is not.

``explain.shap_values`` returns an :class:`~explain.results.Attribution` whose values,
summed over the features, plus ``base_values`` equal the model's raw output for the
target (additivity). Algorithms, chosen by ``algorithm="auto"`` and reported in
``params["algorithm"]``:

- ``exact``: every coalition of the features is evaluated (in large torch batches) and
  the Shapley formula is applied exactly; used up to ``exact_max_features`` features.
- ``kernel``: Kernel SHAP with paired (antithetic) coalitions drawn from the Shapley
  kernel, solved by least squares with the efficiency constraint, so additivity is
  exact; ``stderr`` comes from independent groups of the samples.
- ``permutation``: antithetic permutation sampling (each permutation and its reverse);
  additive by construction; ``stderr`` from the spread over permutations.
- ``gradient``: expected gradients (Captum's GradientShap), and ``deep``: DeepLift-SHAP,
  fast estimates for large inputs.

Why not shap's own explainers: they evaluate the model one explained row at a time
through numpy; here every coalition of a row goes through the model in one torch batch
on the model's device (see bench/README.md for the measured difference).

Example:
    >>> import torch, explain
    >>> net = torch.nn.Linear(3, 1)
    >>> model = explain.Model(net, task="regression")
    >>> x, bg = torch.randn(4, 3), torch.randn(50, 3)
    >>> sv = explain.shap_values(model, x, background=bg)
    >>> sv.params["algorithm"]
    'exact'
    >>> bool(abs(sv.values.sum(1) + sv.base_values - sv.outputs).max() < 1e-4)
    True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from explain.attribution.attributions import attribute
from explain.attribution.maskers import Masker, make_masker
from explain.core.batch import prepare
from explain.core.budget import check_batch_size, row_bytes, rows_per_batch
from explain.core.model import Model, check_model
from explain.core.rng import seeded
from explain.core.running import raw_outputs, resolve_targets
from explain.core.validate import Int, OneOf, check
from explain.errors import InputError
from explain.results import Attribution

__all__ = ["shap_values", "ALGORITHMS"]

ALGORITHMS = ("auto", "exact", "kernel", "permutation", "gradient", "deep")


def shap_values(
    model: Model,
    inputs: Any,
    *,
    background: Any = None,
    target: int | np.ndarray | list[int] | None = None,
    algorithm: str = "auto",
    n_samples: int | None = None,
    max_background: int = 32,
    masker: Any = None,
    patch: int | None = None,
    exact_max_features: int | None = None,
    rows_per_call: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> Attribution:
    """Shapley values of the model's raw output for ``target``.

    Args:
        model: an :class:`explain.Model`.
        inputs: what to explain (Dataset, tensor, ndarray, DataFrame, or texts).
        background: rows that absent features are drawn from (tabular; images with
            ``masker="background"``). Default: up to ``max_background`` of the inputs,
            sampled with ``seed``. More rows than ``max_background`` are summarised by
            k-means (weighted by cluster size).
        target: output to explain; None is the predicted class (regression: output 0).
        algorithm: one of ``auto``, ``exact``, ``kernel``, ``permutation``, ``gradient``, ``deep``.
        n_samples: coalitions per example (kernel), permutations (permutation), or
            samples (gradient); defaults scale with the number of features.
        masker: images: ``"blur"`` (default without background), ``"background"``, or a
            number; text always uses the mask token.
        patch: images: side of the square patches that are the features.
        exact_max_features: ``auto`` is exact up to this many features (default 14 for
            tables, 12 for images and text, whose forward passes cost more).
        rows_per_call: largest batch sent through the model at once (bounds memory);
            None: as many rows as the memory budget holds (see :mod:`explain.core.budget`).
        seed: seeds sampling and background selection.
        progress: called with the fraction done after each example.

    Raises:
        InputError: unknown algorithm or options that do not fit.

    Example:
        A linear model's exact Shapley values against an all-zero background are weight
        times input, and they add up to the output minus the base value:

        >>> import torch, explain
        >>> net = torch.nn.Linear(3, 1)
        >>> with torch.no_grad():
        ...     _ = net.weight.copy_(torch.tensor([[2.0, -1.0, 0.5]])), net.bias.zero_()
        >>> model = explain.Model(net, task="regression", modality="tabular",
        ...                       feature_names=["a", "b", "c"])
        >>> sv = explain.shap_values(model, torch.tensor([[1.0, 2.0, 4.0]]), background=torch.zeros(4, 3))
        >>> sv.values.round(6).tolist(), sv.base_values.tolist(), sv.params["algorithm"]
        ([[2.0, -2.0, 2.0]], [0.0], 'exact')
    """
    check_model(model)
    check(algorithm=(algorithm, OneOf(ALGORITHMS)), max_background=(max_background, Int(low=1, suggest=32)))
    if algorithm in ("gradient", "deep"):
        return _gradient_shap(model, inputs, background, target, algorithm, n_samples, max_background, seed, progress)
    batch = prepare(model, inputs)
    rows_per_call = check_batch_size(rows_per_call, "rows_per_call") or rows_per_batch(
        row_bytes(model, batch), device=batch.x.device)
    with seeded(seed):
        outputs = raw_outputs(model, batch, rows_per_call).float()
        targets = resolve_targets(model, target, outputs, batch.n)
        bg, weights = _background(model, batch, background, max_background, seed)
        mask = make_masker(model, batch, bg, weights, masker, patch, rows_per_call)
        generator = torch.Generator().manual_seed(seed)
        if exact_max_features is None:
            exact_max_features = 14 if model.modality == "tabular" else 12
        phis, bases, fulls, errors, used = [], [], [], [], set()
        for i in range(batch.n):
            m = mask.features_of(i)
            chosen = _choose(algorithm, m, exact_max_features, n_samples)
            used.add(chosen)
            phi, base, full, err = _ALGORITHMS[chosen](mask, i, int(targets[i]), m, n_samples, generator)
            phis.append(phi)
            bases.append(base)
            fulls.append(full)
            errors.append(err)
            if progress is not None:
                progress((i + 1) / batch.n)
    width = max(len(p) for p in phis)
    phi_all = torch.zeros(batch.n, width, dtype=torch.float64)
    err_all = torch.zeros(batch.n, width, dtype=torch.float64)
    for i, (p, e) in enumerate(zip(phis, errors)):
        phi_all[i, : len(p)] = p
        err_all[i, : len(e)] = e
    values = mask.spread(phi_all).cpu().numpy()
    stderr = mask.spread(err_all).cpu().numpy() if used & {"kernel", "permutation"} else None
    return Attribution(
        values=values, method="shap", target=targets.cpu().numpy(), modality=model.modality,
        inputs=None if model.modality == "text" else batch.x.cpu().numpy(),
        feature_names=batch.feature_names, class_names=batch.class_names, tokens=batch.tokens,
        base_values=np.array(bases), outputs=np.array(fulls),
        delta=values.reshape(batch.n, -1).sum(axis=1) + np.array(bases) - np.array(fulls),
        stderr=stderr,
        params={"algorithm": "+".join(sorted(used)), "masker": mask.description, "n_samples": n_samples,
                "background_rows": None if bg is None else int(len(bg)), "seed": seed,
                "features": int(mask.n_features), "patch": getattr(mask, "patch", None)},
        rows=batch.rows,
    )


def _choose(algorithm: str, m: int, exact_max: int, n_samples: int | None) -> str:
    if algorithm == "kernel" and 2**m - 2 <= 2 * (n_samples or 2048):
        return "exact"  # sampling would cost more model calls than enumerating
    if algorithm != "auto":
        if algorithm == "exact" and m > 20:
            raise InputError(f"Exact Shapley values for {m} features need 2^{m} model calls per example; "
                             "use algorithm='kernel' or 'permutation', or fewer features (a larger patch).")
        return algorithm
    return "exact" if m <= exact_max else _choose("kernel", m, exact_max, n_samples)


def _background(model: Model, batch: Any, background: Any, limit: int, seed: int
                ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    if model.modality == "text":
        return None, None
    if background is None:
        if model.modality == "image":
            return None, None
        rows = batch.x
    else:
        rows = prepare(model, background).x
    if len(rows) <= limit:
        return rows, torch.ones(len(rows), dtype=torch.float64, device=rows.device)
    if background is None:
        pick = torch.as_tensor(np.sort(np.random.default_rng(seed).choice(len(rows), limit, replace=False)))
        return rows[pick.to(rows.device)], torch.ones(limit, dtype=torch.float64, device=rows.device)
    return _kmeans(rows, limit, seed)


def _kmeans(rows: torch.Tensor, k: int, seed: int, iterations: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Summarise ``rows`` by ``k`` centres weighted by cluster size (Lloyd's algorithm;
    a few lines here rather than a scikit-learn dependency for one call)."""
    flat = rows.reshape(len(rows), -1).double()
    start = np.random.default_rng(seed).choice(len(rows), k, replace=False)
    centres = flat[torch.as_tensor(start)]
    for _ in range(iterations):
        nearest = torch.cdist(flat, centres).argmin(dim=1)
        for j in range(k):
            members = flat[nearest == j]
            if len(members):
                centres[j] = members.mean(dim=0)
    counts = torch.bincount(torch.cdist(flat, centres).argmin(dim=1), minlength=k).double()
    keep = counts > 0
    return centres[keep].to(rows.dtype).reshape(-1, *rows.shape[1:]), counts[keep]


Estimate = tuple[torch.Tensor, float, float, torch.Tensor]


def _exact(mask: Masker, i: int, target: int, m: int, n_samples: int | None, g: torch.Generator) -> Estimate:
    index = torch.arange(2**m)
    z = ((index[:, None] >> torch.arange(m)[None, :]) & 1).to(mask.batch.x.device)
    v = mask.values(i, target, z).cpu()
    z = z.cpu().double()
    size = z.sum(dim=1).long()
    weight = torch.tensor([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) for s in range(m)],
                          dtype=torch.float64)
    # phi_j = sum over S containing j of w(|S|-1) v(S) - sum over S without j of w(|S|) v(S)
    inside = weight[(size - 1).clamp(min=0)][:, None]
    outside = weight[size.clamp(max=m - 1)][:, None]
    phi = (z * inside - (1 - z) * outside).T @ v
    return phi, float(v[0]), float(v[-1]), torch.zeros(m, dtype=torch.float64)


def _kernel(mask: Masker, i: int, target: int, m: int, n_samples: int | None, g: torch.Generator) -> Estimate:
    pairs = max(8, (n_samples or max(2048, 40 * m)) // 2)
    sizes = torch.arange(1, m)
    kernel = (m - 1) / (sizes * (m - sizes)).double()
    drawn = sizes[torch.multinomial(kernel, pairs, replacement=True, generator=g)]
    order = torch.argsort(torch.rand(pairs, m, generator=g), dim=1)
    z = (order < drawn[:, None]).to(torch.int64)
    z = torch.cat([z, 1 - z])  # each coalition with its complement
    device = mask.batch.x.device
    ends = mask.values(i, target, torch.stack([torch.zeros(m), torch.ones(m)]).to(device, torch.int64)).cpu()
    base, full = float(ends[0]), float(ends[1])
    v = mask.values(i, target, z.to(device)).cpu()
    phi = _constrained_fit(z, v, base, full)
    groups = 8
    parts = [torch.cat([torch.arange(k, pairs, groups), torch.arange(k, pairs, groups) + pairs]) for k in range(groups)]
    spread = torch.stack([_constrained_fit(z[p], v[p], base, full) for p in parts])
    return phi, base, full, spread.std(dim=0) / math.sqrt(groups)


def _constrained_fit(z: torch.Tensor, v: torch.Tensor, base: float, full: float) -> torch.Tensor:
    """Least squares v(z) - base = z . phi subject to sum(phi) = full - base (eliminating
    the last feature); coalitions drawn from the Shapley kernel carry equal weight."""
    zf = z.double()
    total = full - base
    y = v - base - zf[:, -1] * total
    x = zf[:, :-1] - zf[:, -1:]
    # normal equations: (M-1) x (M-1), far cheaper than a QR of the (samples x M) matrix
    gram = x.T @ x
    gram += torch.eye(len(gram), dtype=gram.dtype) * 1e-12 * gram.diagonal().mean()
    head = torch.linalg.solve(gram, x.T @ y)
    return torch.cat([head, (total - head.sum())[None]])


def _permutation(mask: Masker, i: int, target: int, m: int, n_samples: int | None, g: torch.Generator) -> Estimate:
    pairs = max(2, (n_samples or max(20, 2 * m)) // 2)
    orders = torch.stack([torch.randperm(m, generator=g) for _ in range(pairs)])
    orders = torch.cat([orders, orders.flip(1)])  # antithetic: each permutation and its reverse
    steps = torch.tril(torch.ones(m + 1, m + 1, dtype=torch.int64), diagonal=-1)[:, :m]  # prefix k has k ones
    z = torch.zeros(len(orders), m + 1, m, dtype=torch.int64)
    z.scatter_(2, orders[:, None, :].expand(-1, m + 1, -1), steps[None].expand(len(orders), -1, -1))
    v = mask.values(i, target, z.reshape(-1, m).to(mask.batch.x.device)).cpu().reshape(len(orders), m + 1)
    gains = torch.zeros(len(orders), m, dtype=torch.float64)
    gains.scatter_(1, orders, v[:, 1:] - v[:, :-1])
    per_pair = (gains[:pairs] + gains[pairs:]) / 2
    return gains.mean(dim=0), float(v[0, 0]), float(v[0, -1]), per_pair.std(dim=0) / math.sqrt(pairs)


_ALGORITHMS = {"exact": _exact, "kernel": _kernel, "permutation": _permutation}


def _gradient_shap(model: Model, inputs: Any, background: Any, target: Any, algorithm: str,
                   n_samples: int | None, limit: int, seed: int, progress: Any) -> Attribution:
    method = "gradient_shap" if algorithm == "gradient" else "deeplift_shap"
    options = {"n_samples": n_samples or 50} if algorithm == "gradient" else {}
    if background is not None:
        rows = prepare(model, background).x
        if len(rows) > limit:
            rows = _kmeans(rows, limit, seed)[0]
        background = rows
    result = attribute(model, inputs, method=method, target=target, background=background, seed=seed,
                       progress=progress, **options)
    params = {**result.params, "algorithm": algorithm}
    return dataclasses.replace(result, method="shap", params=params)
