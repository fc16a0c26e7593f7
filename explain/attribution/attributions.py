"""Attributions through Captum behind one registry: ``explain.attribute`` and ``explain.methods``.

Example:
    >>> import torch, explain
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 1, bias=False))
    >>> with torch.no_grad():
    ...     net[0].weight[:] = torch.tensor([[2.0, -3.0]])
    >>> model = explain.Model(net, task="regression")
    >>> explain.attribute(model, [[1.0, 1.0]], method="input_x_gradient").values.tolist()
    [[2.0, -3.0]]
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from explain.attribution.checks import check_method, find_layer, probing
from explain.attribution.registry import METHODS, Call, Method, expansion
from explain.core.batch import Batch, prepare
from explain.core.budget import check_batch_size, row_bytes, rows_per_batch
from explain.core.model import Model, check_model
from explain.core.rng import seeded
from explain.core.running import raw_outputs, resolve_targets
from explain.errors import InputError, MethodError
from explain.results import Attribution

__all__ = ["attribute", "methods", "method_info", "lookup", "pad_ids", "DEFAULT_BACKGROUND",
           "default_background", "default_stdevs", "describe_baseline"]

# Rows of the inputs that DeepLiftShap and GradientShap take as background by default.
DEFAULT_BACKGROUND = 32


def default_background(n: int, seed: int) -> np.ndarray:
    """Which of ``n`` rows form the default background: up to :data:`DEFAULT_BACKGROUND`,
    drawn with ``seed``, in row order (the same rows for attribute, global importance,
    the quality checks and the app).

    Example:
        >>> default_background(5, seed=0).tolist()
        [0, 1, 2, 3, 4]
        >>> len(default_background(1000, seed=0))
        32
    """
    picked = np.random.default_rng(seed).choice(n, size=min(DEFAULT_BACKGROUND, n), replace=False)
    return np.sort(picked)


def default_stdevs(low: float, high: float) -> float:
    """SmoothGrad's default noise: 15% of the inputs' range (0.15 for constant inputs)."""
    return float(0.15 * (high - low)) or 0.15


def describe_baseline(baseline: Any) -> Any:
    """A baseline as the result's params record it: its name, its number, or ``"array"``."""
    if baseline is None or isinstance(baseline, (str, int, float)):
        return baseline if baseline is not None else "zeros"
    return "array"


def methods(model: Model | None = None) -> list[str]:
    """Names of every attribution method; with a model, only those that can serve it.

    Example:
        >>> "integrated_gradients" in methods()
        True
    """
    if model is None:
        return list(METHODS)
    example = _probe_batch(model)
    served = []
    for name, method in METHODS.items():
        try:
            check_method(model, method, probe=example is not None, example=example)
        except MethodError:
            continue
        served.append(name)
    return served


def _probe_batch(model: Model) -> Batch | None:
    """One made-up example of the model's input shape, to probe what its forward calls."""
    if model.modality == "text":
        return prepare(model, ["a"])
    if model.input_shape is None:
        return None
    return prepare(model, torch.zeros((1, *model.input_shape)))


def method_info(name: str) -> dict[str, Any]:
    """What a method computes, its Captum class, what it needs, and its default options.

    Example:
        >>> info = method_info("integrated_gradients")
        >>> info["captum"], info["baseline"], info["defaults"]["n_steps"]
        ('IntegratedGradients', True, 50)
    """
    m = lookup(name)
    return {
        "name": m.name, "captum": m.captum, "summary": m.summary, "needs_gradients": m.gradients,
        "needs_hooks": m.hooks, "baseline": m.baseline, "background": m.background,
        "stochastic": m.stochastic, "modalities": m.modalities, "defaults": dict(m.defaults),
    }


def lookup(name: str) -> Method:
    """The registry entry of method ``name``.

    Raises:
        MethodError: an unknown name, with the closest known one.
    """
    if not isinstance(name, str) or name not in METHODS:
        close = difflib.get_close_matches(str(name), list(METHODS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise MethodError(f"Unknown method {name!r}.{hint} Choose one of {list(METHODS)}.")
    return METHODS[name]


def attribute(
    model: Model,
    inputs: Any,
    *,
    method: str = "integrated_gradients",
    target: int | np.ndarray | list[int] | None = None,
    baseline: Any = None,
    background: Any = None,
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    **options: Any,
) -> Attribution:
    """Attribute the model's output for ``target`` to each input feature, pixel or token.

    Args:
        model: an :class:`explain.Model`.
        inputs: a Dataset (or slice), tensor, ndarray, DataFrame, or list of strings (text).
        method: a name from :func:`methods`.
        target: output index to explain; None means the predicted class (classification)
            or output 0 (regression); an int or one int per example picks others.
        baseline: reference input for baseline methods: None or ``"zeros"`` (text: the
            [PAD] token at every non-special position), ``"mean"`` (mean of the inputs),
            a number, or an array of one example's shape.
        background: examples for DeepLiftShap / GradientShap (default: up to 32 of the
            inputs, sampled with ``seed``).
        batch_size: examples per Captum call. None: as many as the memory budget holds
            (see :mod:`explain.core.budget`; ``EXPLAIN_MEMORY_BUDGET``), counting what one
            example costs in the model times the rows the method makes of it (e.g.
            ``n_steps``). The values do not depend on it for deterministic methods.
        seed: seeds torch's generator so stochastic methods repeat exactly.
        progress: called with the fraction done after each batch.
        **options: method options (see ``method_info(method)["defaults"]``), passed on.

    Returns:
        An :class:`Attribution` with values of the inputs' shape (text: one per token).

    Raises:
        MethodError: the method is unknown or cannot serve this model (and says which can).
        DataError, InputError: the inputs do not fit the model.

    Example:
        Integrated gradients of a linear model are weight times input, and they add up
        to the output (``delta`` is the completeness error):

        >>> import torch, explain
        >>> net = torch.nn.Linear(3, 1)
        >>> with torch.no_grad():
        ...     _ = net.weight.copy_(torch.tensor([[2.0, -1.0, 0.5]])), net.bias.zero_()
        >>> model = explain.Model(net, task="regression", modality="tabular",
        ...                       feature_names=["a", "b", "c"])
        >>> attr = explain.attribute(model, torch.tensor([[1.0, 2.0, 4.0]]))
        >>> attr.values.tolist(), float(attr.delta[0]), attr.feature_names
        ([[2.0, -2.0, 2.0]], 0.0, ('a', 'b', 'c'))
    """
    spec = checked_call(model, method, batch_size, options)
    batch = prepare(model, inputs)
    if batch.n == 0:
        raise InputError("No examples to explain: the inputs have 0 rows. Pass at least one row.")
    check_method(model, spec, probe=True)  # the probe runs in plan's measuring pass
    opts = {**spec.defaults, **options}
    plan(model, spec, opts, batch, batch.n, batch_size, background_rows(background, batch.n), probe=True)
    with seeded(seed):
        return attribute_batch(model, batch, spec, opts, target, baseline, background, seed, progress)


def checked_call(model: Any, method: str, batch_size: Any, options: dict[str, Any]) -> Method:
    """The checks every attribution entry point makes: an explain.Model, a known method,
    a positive integer batch size or None, and only that method's options. Returns the method.

    Raises:
        InputError, MethodError: what was wrong and how to fix it.
    """
    check_model(model)
    spec = lookup(method)
    check_batch_size(batch_size)
    unknown = set(options) - set(spec.defaults)
    if unknown:
        raise InputError(
            f"{method} takes the options {sorted(spec.defaults) or 'none'}, not {sorted(unknown)}."
        )
    return spec


def plan(model: Model, spec: Method, opts: dict[str, Any], first: Batch, n: int, batch_size: int | None,
         background_rows: int, *, probe: bool = False) -> None:
    """Set ``opts["batch_size"]`` (examples per Captum call: ``batch_size``, or what the
    memory budget holds for ``n`` rows) and ``opts["pass_rows"]`` (model rows per forward
    pass, which the runners use to split a call whose expansion would not fit), from what
    one example of ``first`` costs; with ``probe``, that pass is check_method's probe too."""
    with probing(model, spec, enabled=probe):
        cost = row_bytes(model, first, gradients=spec.gradients)
    device = first.x.device
    opts["pass_rows"] = rows_per_batch(cost, device=device)
    if batch_size is None:
        width = int(first.x[0].numel()) if first.n else 1  # features, pixels or tokens: the most perturbations
        batch_size = rows_per_batch(cost, expansion(spec, opts, width, background_rows), n=n, device=device)
    opts["batch_size"] = int(batch_size)


def background_rows(background: Any, n: int) -> int:
    """Rows of the background DeepLiftShap expands each example into (default: 32 at most)."""
    return min(DEFAULT_BACKGROUND, n) if background is None else len(background)


def attribute_batch(
    model: Model, batch: Batch, spec: Method, opts: dict[str, Any], target: Any, baseline: Any,
    background: Any, seed: int, progress: Callable[[float], None] | None,
) -> Attribution:
    """The attributions of a prepared batch with checked options (``opts`` as :func:`plan`
    filled them); the caller seeds the run. Names and row ids come from the batch."""
    method = spec.name
    batch_size = opts["batch_size"]
    outputs_all = raw_outputs(model, batch, max(batch_size, opts["pass_rows"])).float()
    targets = resolve_targets(model, target, outputs_all, batch.n)
    space = _Space(model, batch)
    _fill_options(model, spec, opts, space)
    background_t = _background(spec, background, space, seed) if spec.background else None

    values, deltas, bases = [], [], []
    for start in range(0, batch.n, batch_size):
        part = batch.slice(start, start + batch_size)
        x = space.inputs(part)
        call = Call(
            model=model, x=x, target=targets[start : start + batch_size],
            baseline=space.baseline(part, baseline) if spec.baseline else _zeros(x),
            background=background_t, feature_mask=space.feature_mask(part, opts),
            extra=space.extra(part), options=opts,
            zero_baseline=model.modality != "text" and (baseline is None or _is_zeros(baseline)),
        )
        values_b, delta_b = _run(spec, call)
        values.append(_share(values_b.detach(), call, spec))
        if spec.baseline or spec.background:
            bases.append(_base_values(call, spec))
        if delta_b is not None:
            deltas.append(delta_b.detach().reshape(-1))
        if progress is not None:
            progress(min(1.0, (start + part.n) / batch.n))

    raw = torch.cat(values)
    outputs = outputs_all[torch.arange(batch.n), targets.cpu()].numpy()
    base = torch.cat(bases).cpu().numpy() if bases else None
    delta = torch.cat(deltas).cpu().numpy() if deltas else None
    values_np = space.to_values(raw)
    if delta is None and base is not None and method in _COMPLETE:
        delta = values_np.reshape(batch.n, -1).sum(axis=1) - (outputs - base)
    params = {k: v for k, v in opts.items() if k != "layer_module"}
    params.update(seed=seed, baseline=describe_baseline(baseline), captum=spec.captum)
    return Attribution(
        values=values_np, method=method, target=targets.cpu().numpy(), modality=model.modality,
        inputs=None if model.modality == "text" else batch.x.detach().cpu().numpy(),
        feature_names=batch.feature_names, class_names=batch.class_names,
        tokens=batch.tokens, base_values=base, delta=delta, outputs=outputs, params=params, rows=batch.rows,
    )


# methods whose attributions should sum to output minus baseline output
_COMPLETE = {"deeplift_shap", "gradient_shap", "shapley_value_sampling", "kernel_shap"}


def _run(spec: Method, call: Call) -> tuple[torch.Tensor, torch.Tensor | None]:
    with warnings.catch_warnings():
        # Captum warns on every call that it set requires_grad and attached hooks; both
        # are expected here and would drown the user's own warnings.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\.")
        if spec.per_example and call.x.shape[0] > 1:
            outs = [_run(spec, _one(call, i))[0] for i in range(call.x.shape[0])]
            return torch.cat(outs), None
        grad = torch.enable_grad() if spec.gradients else torch.no_grad()
        with grad:
            return spec.run(call)


def _share(values: torch.Tensor, call: Call, spec: Method) -> torch.Tensor:
    """Captum gives every element of a feature group (image patch, token embedding) the
    whole group's attribution; divide it evenly so that values sum to the attribution."""
    if call.feature_mask is not None:
        mask = call.feature_mask[0]
        sizes = torch.bincount(mask.flatten())[mask].to(values.dtype)
        return values / sizes.unsqueeze(0)
    if spec.name == "occlusion" and call.model.modality == "text":
        return values / values.shape[-1]
    return values


def _one(call: Call, i: int) -> Call:
    def pick(t: Any) -> Any:
        return t[i : i + 1] if isinstance(t, torch.Tensor) and t.shape[0] == call.x.shape[0] else t

    return Call(
        model=call.model, x=call.x[i : i + 1], target=call.target[i : i + 1],
        baseline=pick(call.baseline), background=call.background,
        feature_mask=pick(call.feature_mask), extra=tuple(pick(e) for e in call.extra),
        options=call.options, zero_baseline=call.zero_baseline,
    )


def _base_values(call: Call, spec: Method) -> torch.Tensor:
    with torch.no_grad():
        if spec.background:
            out = call.forward(call.background)
            return out[:, call.target].mean(dim=0).float().cpu()
        if call.model.modality != "text":  # one baseline shared by every row: one forward row
            out = call.forward(call.baseline[:1])
            return out[0, call.target].float().cpu()
        out = call.forward(call.baseline, *call.extra)
        return out[torch.arange(out.shape[0]), call.target].float().cpu()


def _zeros(x: torch.Tensor) -> torch.Tensor:  # one zero example broadcast over the rows, no copies
    return torch.zeros((1, *x.shape[1:]), dtype=x.dtype, device=x.device).expand_as(x)


def _is_zeros(baseline: Any) -> bool:
    return (isinstance(baseline, str) and baseline == "zeros") or (
        isinstance(baseline, (int, float)) and float(baseline) == 0.0)


def _background(spec: Method, background: Any, space: _Space, seed: int) -> torch.Tensor:
    if background is None:
        x = space.inputs(space.batch)
        bg = x[torch.as_tensor(default_background(x.shape[0], seed))].detach()
    else:
        bg = prepare(space.model, background).x
    if bg.shape[0] < 2 and spec.name == "deeplift_shap":
        bg = torch.cat([bg, torch.zeros_like(bg)])
    return bg


def _fill_options(model: Model, spec: Method, opts: dict[str, Any], space: _Space) -> None:
    """Fill the data-dependent defaults (noise level, window, layer)."""
    shape = space.example_shape
    if spec.name == "smoothgrad" and opts["stdevs"] is None:
        x = space.inputs(space.batch)
        opts["stdevs"] = default_stdevs(x.min().item(), x.max().item())
    if spec.name == "occlusion":
        if model.modality == "image":
            side = max(1, math.ceil(min(shape[1:]) / 8))
            opts["window"] = opts["window"] or (shape[0], side, side)
            opts["stride"] = opts["stride"] or (shape[0], max(1, side // 2), max(1, side // 2))
        elif model.modality == "text":
            opts["window"] = opts["window"] or (1, shape[-1])
            opts["stride"] = opts["stride"] or (1, shape[-1])
        else:
            opts["window"] = opts["window"] or (1,)
            opts["stride"] = opts["stride"] or (1,)
    if spec.name == "grad_cam":
        opts["layer"], opts["layer_module"] = find_layer(model, opts["layer"])


class _Space:
    """The space attributions are taken in: raw inputs, or token embeddings for text."""

    def __init__(self, model: Model, batch: Batch) -> None:
        self.model, self.batch = model, batch
        first = self.inputs(batch.slice(0, 1))
        self.example_shape = tuple(first.shape[1:])

    def inputs(self, part: Batch) -> torch.Tensor:
        if self.model.modality == "text":
            return part.embed(part.x)
        return part.x

    def extra(self, part: Batch) -> tuple[Any, ...]:
        return (part.attention_mask,) if self.model.modality == "text" else ()

    def baseline(self, part: Batch, baseline: Any) -> torch.Tensor:
        x = self.inputs(part)
        if self.model.modality == "text":
            if baseline not in (None, "zeros"):
                raise InputError("Text baselines are fixed: [PAD] at every non-special token.")
            return part.embed(pad_ids(self.model, part))
        if baseline is None or (isinstance(baseline, str) and baseline == "zeros"):
            return _zeros(x)
        if isinstance(baseline, str) and baseline == "mean":
            return self.inputs(self.batch).mean(dim=0, keepdim=True).expand_as(x).clone()
        if isinstance(baseline, str):
            raise InputError(f"baseline must be None, 'zeros', 'mean', a number or an array; got {baseline!r}.")
        if isinstance(baseline, (int, float)):
            return torch.full_like(x, float(baseline))
        b = torch.as_tensor(np.asarray(baseline), dtype=x.dtype, device=x.device)
        if tuple(b.shape) == self.example_shape:
            return b.unsqueeze(0).expand_as(x).clone()
        raise InputError(f"baseline must have one example's shape {self.example_shape}; got {tuple(b.shape)}.")

    def feature_mask(self, part: Batch, opts: dict[str, Any]) -> torch.Tensor | None:
        if "patch" not in opts:
            return None
        x = self.inputs(part)
        # one mask for the whole batch (shape 1 x example): Captum broadcasts it, and a
        # per-example mask makes FeatureAblation perturb each example on its own
        if self.model.modality == "text":
            positions = torch.arange(x.shape[1], device=x.device)
            return positions[None, :, None].expand_as(x[:1]).clone()
        if self.model.modality == "image":
            h, w = x.shape[2:]
            side = int(opts["patch"] or max(1, math.ceil(min(h, w) / 8)))
            opts["patch"] = side
            rows = torch.arange(h, device=x.device) // side
            cols = torch.arange(w, device=x.device) // side
            grid = rows[:, None] * math.ceil(w / side) + cols[None, :]
            return grid[None, None].expand_as(x[:1]).clone()
        return None

    def to_values(self, raw: torch.Tensor) -> np.ndarray:
        """Text: sum over the embedding and left-align the real tokens; else as is."""
        if self.model.modality != "text":
            return raw.float().cpu().numpy()
        per_token = raw.sum(dim=-1).float().cpu()
        mask = self.batch.attention_mask.bool().cpu()
        out = np.zeros((per_token.shape[0], int(mask.sum(dim=1).max())), dtype=np.float32)
        for i in range(per_token.shape[0]):
            row = per_token[i][mask[i]].numpy()
            out[i, : len(row)] = row
        return out


def pad_ids(model: Model, part: Batch) -> torch.Tensor:
    """Text: the token ids of ``part`` with every non-special token replaced by [PAD]."""
    tokenizer = model.tokenizer
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    special = torch.zeros_like(part.x, dtype=torch.bool)
    for token_id in tokenizer.all_special_ids:
        special |= part.x == token_id
    return torch.where(special, part.x, torch.full_like(part.x, pad))
