"""The model-randomisation sanity check (Adebayo et al., 2018), cascading from the output.

Example:
    >>> import torch, explain
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> model = explain.Model(net, task="classification")
    >>> sc = explain.sanity_check(model, torch.randn(20, 6), method="saliency")
    >>> sc.layers
    ('2', '0')
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from explain.core.batch import Batch, prepare
from explain.core.budget import batch_rows
from explain.core.model import Model, check_model
from explain.core.running import raw_outputs, resolve_targets
from explain.core.validate import Int, Number, check
from explain.errors import InputError, MethodError
from explain.quality.similarity import lengths_of, normalised, spearman_rows, ssim, unit_maps
from explain.results import Attribution
from explain.results.quality import SanityCheck

__all__ = ["sanity_check"]

Step = tuple[str, list[str]]  # (label, names of the parameters it randomises)


def sanity_check(
    model: Model,
    inputs: Any,
    method: str | Callable[..., Any] = "saliency",
    *,
    target: int | np.ndarray | list[int] | None = None,
    layers: int | Sequence[str] | None = None,
    seed: int = 0,
    threshold: float = 0.5,
    keep: int = 4,
    batch_size: int | None = None,
    **method_options: Any,
) -> SanityCheck:
    """Does the attribution depend on what the model learned? Randomise the weights,
    layer by layer from the output down, and see whether the attribution changes.

    Step ``i`` replaces the parameters of ``layers[i]`` by Gaussian noise of the same
    root-mean-square as the trained values (so a layer keeps its scale; buffers such as
    batch-norm statistics are kept), drawn from a ``torch.Generator`` seeded with
    ``seed``; earlier steps stay random (the cascade). After each step the same
    examples are explained again for the same targets, and the absolute attributions
    (per feature; per pixel, channels summed; per token) are compared with the
    original ones, as Adebayo et al. do, by Spearman rank correlation, and for images
    also by SSIM of the max-normalised maps. The rank correlation leaves out the units
    whose attribution is exactly zero in both maps: methods with a baseline give zero
    to every pixel that equals it (the black background of a digit) whatever the
    weights, and those ties alone would make any two maps look alike.

    ``passed`` is True when the mean Spearman correlation after every layer was
    randomised is below ``threshold`` (0.5): the map then changed, so it reflects the
    weights. A method that returns the input, or an edge detector, fails.

    The model itself is never modified: the check randomises a deep copy of it (one
    more copy of the parameters in memory), so the original stays bit for bit as it
    was, even when an exception stops the check mid-way.

    Args:
        model: an :class:`explain.Model` (a live module, safetensors, Hugging Face,
            ``.pt2`` or any format whose network holds torch parameters).
        inputs: the examples to explain (any form ``explain.attribute`` takes).
        method: an :func:`explain.methods` name, or a callable
            ``fn(model, inputs, *, target, seed, **method_options)`` returning an
            Attribution or an array of attributions shaped like ``.values``.
        target: as for :func:`explain.attribute`; fixed across all steps.
        layers: None: every module that holds parameters, ordered from the output down
            by when it runs; an int: at most that many steps, grouping modules by their
            parent (e.g. a transformer block per step); or module names (each step
            randomises everything under that module), in the order to randomise them.
        seed: seeds the noise and the method; results repeat exactly.
        threshold: Spearman bound for ``passed``.
        keep: how many examples' maps to keep for plots.
        batch_size: passed to :func:`explain.attribute` (None: rows from the memory budget).
        **method_options: passed to the method.

    Returns:
        A :class:`explain.results.SanityCheck`.

    Raises:
        MethodError: the method is unknown, or the model has no parameters to randomise.
        InputError: an option is wrong, or ``layers`` names no module of the model.

    Example:
        Randomising the layers from the output down changes a saliency map of a real
        network: the map depends on what the model learned, so the check passes.

        >>> import torch, explain
        >>> _ = torch.manual_seed(0)
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
        ...                           torch.nn.ReLU(), torch.nn.Linear(16, 2))
        >>> model = explain.Model(net, modality="tabular")
        >>> x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
        >>> sc = explain.sanity_check(model, x, "saliency")
        >>> sc.passed, sc.layers
        (True, ('4', '2', '0'))
    """
    check_model(model)
    check(keep=(keep, Int(low=1, suggest=4)), batch_size=(batch_size, Int(low=1, optional=True)),
          threshold=(threshold, Number(suggest=0.5)))
    if not -1.0 < float(threshold) <= 1.0:
        raise InputError(f"threshold must be in (-1, 1], got {threshold!r}; the default is 0.5.")
    batch = prepare(model, inputs)
    rows = batch_rows(model, batch, batch_size)
    targets = resolve_targets(model, target, raw_outputs(model, batch, rows).float(), batch.n).cpu().numpy()
    clone = _copy(model)
    steps, unused = _cascade(clone, batch, layers)
    run = _runner(method, inputs, targets, seed, batch_size, method_options)
    name = method if isinstance(method, str) else getattr(method, "__name__", "custom")

    original = unit_maps(run(clone), model.modality)
    lengths = lengths_of(batch.tokens, batch.n, int(np.prod(original.shape[1:]))) if model.modality == "text" else None
    params = dict(clone.network.named_parameters())
    generator = torch.Generator().manual_seed(int(seed))
    rho, structure, maps = [], [], [original[:keep]]
    for _, names in steps:
        _randomise([params[n] for n in names], generator)
        current = unit_maps(run(clone), model.modality)
        if current.shape != original.shape:
            raise MethodError(f"{name} returned attributions of shape {current.shape} after randomising, "
                              f"but {original.shape} before; a method must keep the inputs' shape.")
        rho.append(spearman_rows(original, current, lengths, skip_zeros=True))
        if model.modality == "image":
            structure.append(ssim(normalised(original), normalised(current)))
        maps.append(current[:keep])
    del clone
    similarity = np.array([r.mean() for r in rho])
    return SanityCheck(
        method=name, modality=model.modality, layers=tuple(label for label, _ in steps),
        spearman=np.array(rho), similarity=similarity, passed=bool(similarity[-1] < threshold),
        threshold=threshold, maps=np.array(maps), target=targets,
        ssim=np.array(structure) if structure else None,
        inputs=None if model.modality == "text" else batch.x[:keep].detach().cpu().numpy(),
        tokens=None if batch.tokens is None else batch.tokens[:keep],
        feature_names=model.feature_names, class_names=model.class_names,
        params={"seed": seed, "method_options": dict(method_options), "unused_modules": unused,
                "randomisation": "Gaussian noise with each parameter's root-mean-square, cascading "
                                 "from the output; buffers kept",
                "copy": "a deep copy of the model was randomised; the original is untouched",
                "similarity": "Spearman rank correlation of absolute attributions, units zero in "
                              "both maps left out",
                "passed_if": f"mean Spearman after the last step < {threshold}"},
    )


def _runner(method: Any, inputs: Any, targets: np.ndarray, seed: int, batch_size: int | None,
            options: dict[str, Any]) -> Callable[[Model], np.ndarray]:
    from explain.attribution.attributions import attribute

    if not isinstance(method, str) and not callable(method):
        raise MethodError(f"method must be an explain.methods() name or a callable, got {method!r}.")

    def run(m: Model) -> np.ndarray:
        if isinstance(method, str):
            return attribute(m, inputs, method=method, target=targets, seed=seed, batch_size=batch_size,
                             **options).values
        result = method(m, inputs, target=targets, seed=seed, **options)
        return np.asarray(result.values if isinstance(result, Attribution) else result, dtype=np.float64)

    return run


def _copy(model: Model) -> Model:
    """A deep copy of the model sharing only its tokenizer (which holds no weights)."""
    memo = {id(model.tokenizer): model.tokenizer} if model.tokenizer is not None else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return copy.deepcopy(model, memo)
    except Exception as err:  # noqa: BLE001 - any failure to copy means we cannot proceed safely
        raise MethodError(
            f"The sanity check randomises a copy of the model, and this {model.format} model cannot be "
            f"copied ({type(err).__name__}: {err}). Pass the live module with explain.Model(module, ...) "
            "or a safetensors / Hugging Face model."
        ) from err


def _owners(net: nn.Module) -> dict[str, list[str]]:
    """Modules that hold parameters directly, in registration order, with those parameters."""
    owners: dict[str, list[str]] = {}
    seen: set[int] = set()
    for name, module in net.named_modules():
        direct = []
        for pname, p in module.named_parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                direct.append(f"{name}.{pname}" if name else pname)
        if direct:
            owners[name] = direct
    return owners


class _FirstUse(TorchFunctionMode):
    """Records the order in which torch operations first take each owner's parameters."""

    def __init__(self, owner_of: dict[int, str]) -> None:
        super().__init__()
        self.owner_of = owner_of
        self.order: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        for leaf in _leaves((args, kwargs or {})):
            owner = self.owner_of.get(id(leaf))
            if owner is not None and owner not in self.order:
                self.order.append(owner)
        return func(*args, **(kwargs or {}))


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, torch.Tensor):
        yield value


def _execution_order(model: Model, batch: Batch, owners: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """Owner modules from the input up, by when the forward pass first uses one of their
    parameters (live modules and torch.export graphs alike), and those never used.
    Code torch cannot watch (TorchScript) keeps the registration order."""
    params = dict(model.network.named_parameters())
    owner_of = {id(params[p]): owner for owner, names in owners.items() for p in names}
    recorder = _FirstUse(owner_of)
    one = batch.slice(0, 1)
    try:
        with torch.no_grad(), recorder:  # rebuilt on this model: text embeds with its own layer
            model.forward_module(*Batch(model, one.x, one.attention_mask).forward_args())
    except Exception:  # noqa: BLE001 - the order is a nicety; fall back to registration order
        recorder.order = []
    if not recorder.order:
        return list(owners), []
    return recorder.order, [o for o in owners if o not in recorder.order]


def _cascade(model: Model, batch: Batch, layers: int | Sequence[str] | None) -> tuple[list[Step], list[str]]:
    owners = _owners(model.network)
    if not owners:
        raise MethodError(
            f"This {model.format} model has no torch parameters to randomise"
            f"{' (it runs as a black box)' if not model.differentiable else ''}. The sanity check needs "
            "the weights: load a differentiable format (safetensors, Hugging Face, .pt2, ONNX with "
            "onnx2torch) or pass the live module."
        )
    if layers is not None and not isinstance(layers, (int, np.integer)):
        return _named_steps(model.network, layers), []
    order, unused = _execution_order(model, batch, owners)
    if layers is None:
        return [(name or "(root)", owners[name]) for name in reversed(order)], unused
    if int(layers) < 1:
        raise InputError(f"layers must be at least 1 when it is a number, got {layers}.")
    return _grouped(order, owners, int(layers)), unused


def _named_steps(net: nn.Module, layers: Sequence[str]) -> list[Step]:
    if isinstance(layers, str) or not layers:
        raise InputError("layers must be None, a number of steps, or a non-empty list of module names.")
    modules = dict(net.named_modules())
    steps = []
    for name in layers:
        if name not in modules:
            named = [n for n, m in modules.items() if n and any(True for _ in m.parameters(recurse=False))]
            raise InputError(f"The model has no module named {name!r}. Modules with parameters: {named[:20]}.")
        prefix = f"{name}." if name else ""
        params = [prefix + p for p, _ in modules[name].named_parameters()]
        if not params:
            raise InputError(f"Module {name!r} has no parameters to randomise.")
        steps.append((name, params))
    return steps


def _grouped(order: list[str], owners: dict[str, list[str]], most: int) -> list[Step]:
    """At most ``most`` steps: owner modules merged by a common ancestor, or contiguous runs."""
    depth = max(name.count(".") + 1 for name in order)
    for d in range(depth, 0, -1):
        groups: dict[str, list[str]] = {}
        last: dict[str, int] = {}
        for i, name in enumerate(order):
            key = ".".join(name.split(".")[:d])
            groups.setdefault(key, []).extend(owners[name])
            last[key] = i
        if len(groups) <= most:
            return [(key or "(root)", groups[key]) for key in sorted(groups, key=lambda k: -last[k])]
    chunks = np.array_split(np.arange(len(order))[::-1], most)
    label = [name or "(root)" for name in order]
    return [(f"{label[c[0]]} … {label[c[-1]]}" if len(c) > 1 else label[c[0]],
             [p for i in c for p in owners[order[i]]]) for c in chunks if len(c)]


def _randomise(params: list[nn.Parameter], generator: torch.Generator) -> None:
    """Replace each parameter by N(0, rms^2) noise of its own root-mean-square."""
    with torch.no_grad():
        for p in params:
            rms = p.detach().float().pow(2).mean().sqrt()
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float32) * rms.cpu()
            p.copy_(noise.to(device=p.device, dtype=p.dtype))
