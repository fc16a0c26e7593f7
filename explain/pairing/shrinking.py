"""``compress()``: a lighter copy of a model, int8 weights or pruned, that every
explanation method still runs on.

- ``method="quantize"``: weight-only int8. Each Linear and Conv weight (and, in an exported
  graph, each weight of two or more dimensions) is stored as int8 with one float scale per
  output channel (symmetric: ``scale = max|w| / 127``), and dequantised on the fly in
  forward. Inputs and activations stay float, so gradients flow to the inputs and every
  Captum method runs, integrated gradients included (dynamic int8 quantisation breaks it:
  its int8 kernels are not differentiable). Done here rather than with torchao, which
  adds a dependency for the same arithmetic.
- ``method="prune"``: global magnitude pruning (``torch.nn.utils.prune.global_unstructured``
  with ``L1Unstructured``) of the same weights to exactly ``amount`` sparsity over them, made
  permanent with ``prune.remove`` (PyTorch's pruning alone only adds a mask).

The original model is never touched: the work is done on a deep copy.

Example:
    >>> import torch, explain
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> model = explain.Model(net, task="classification")
    >>> small = explain.compress(model, method="quantize")
    >>> type(small.network[0]).__name__, small.network[0].weight_int8.dtype
    ('Int8Linear', torch.int8)
    >>> pruned = explain.compress(model, method="prune", amount=0.5)  # over both layers' 48 weights
    >>> sum(int((layer.weight == 0).sum()) for layer in (pruned.network[0], pruned.network[2]))
    24
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune

from explain.core.model import Model, check_model
from explain.core.validate import Number, OneOf, check
from explain.errors import InputError, ModelFormatError

__all__ = ["compress", "METHODS", "weight_owners", "is_int8", "Int8Linear", "Int8Conv1d", "Int8Conv2d",
           "Int8Conv3d", "Int8Module"]

METHODS = ("quantize", "prune")
_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_REFUSED = {
    "onnx": "an ONNX model runs in onnxruntime (or as converted operators) whose weights explain does not own",
    "torchscript": "a TorchScript module's forward is compiled and cannot be given int8 or pruned weights",
}


def _dequantised(self: nn.Module) -> torch.Tensor:
    """The float weight of an int8 layer: its int8 values times the per-channel scale."""
    return self.weight_int8.to(self.weight_scale.dtype) * self.weight_scale


def _int8_class(base: type[nn.Module], name: str) -> type[nn.Module]:
    cls = type(name, (base,), {"weight": property(_dequantised), "__module__": __name__,
                               "__doc__": f"{base.__name__} with int8 weights dequantised in forward."})
    cls.__qualname__ = name
    return cls


# One class per layer type, defined here so that quantised models pickle.
Int8Linear = _int8_class(nn.Linear, "Int8Linear")
Int8Conv1d = _int8_class(nn.Conv1d, "Int8Conv1d")
Int8Conv2d = _int8_class(nn.Conv2d, "Int8Conv2d")
Int8Conv3d = _int8_class(nn.Conv3d, "Int8Conv3d")
Int8Module = _int8_class(nn.Module, "Int8Module")  # an exported graph's plain holder of a weight
_INT8 = {nn.Linear: Int8Linear, nn.Conv1d: Int8Conv1d, nn.Conv2d: Int8Conv2d, nn.Conv3d: Int8Conv3d,
         nn.Module: Int8Module}


def is_int8(module: nn.Module) -> bool:
    """Whether ``module`` holds its weight as int8 (a layer :func:`compress` quantised)."""
    return isinstance(module, tuple(_INT8.values()))


def compress(model: Any, *, method: str = "quantize", amount: float = 0.5) -> Model:
    """A lighter copy of ``model``: int8 weights, or pruned weights.

    Args:
        model: an :class:`explain.Model` of a live module or an exported graph (``.pt2``).
        method: ``"quantize"`` (weight-only int8, per output channel) or ``"prune"``
            (global magnitude pruning).
        amount: ``"prune"``: the share of the weights set to zero, over all Linear and Conv
            weights together (exactly ``round(amount * weights)`` of them). Ignored by quantize.

    Returns:
        A new :class:`explain.Model` with the same task, names and format; the original is
        unchanged. :func:`explain.model_size` reports how big each is.

    Raises:
        ModelFormatError: an ONNX or TorchScript model, or one without weights to compress.
        InputError: an unknown method or an amount outside [0, 1).

    Example:
        >>> import torch, explain
        >>> model = explain.Model(torch.nn.Linear(10, 2), task="classification")
        >>> pruned = explain.compress(model, method="prune", amount=0.3)
        >>> int((pruned.network.weight == 0).sum()), int((model.network.weight == 0).sum())
        (6, 0)
    """
    model = check_model(model)
    opts = check(method=(method, OneOf(METHODS)),
                 amount=(amount, Number(low=0, high=1, suggest=0.5, hint="It is the share of weights set to 0.")))
    if opts["amount"] == 1:
        raise InputError("amount=1 would set every weight to 0; pass a share below 1, e.g. amount=0.5.")
    if model.format in _REFUSED or not model.differentiable:
        why = _REFUSED.get(model.format, "the model is a black box")
        raise ModelFormatError(
            f"Cannot compress a {model.format} model: {why}. Compress the live module (explain.Model(module, ...)) "
            "or its torch.export .pt2 file, or compare with a second model you compressed yourself.")
    light = _copy(model)
    owners = weight_owners(light.network)
    if not owners:
        raise ModelFormatError(
            "The model has no Linear or Conv weights to compress; compress works on the weights of "
            "nn.Linear and nn.Conv1d/2d/3d layers (or an exported graph's weight matrices).")
    if opts["method"] == "quantize":
        for module in owners:
            _quantise(module)
    elif opts["amount"] > 0:
        with torch.no_grad():
            prune.global_unstructured([(m, "weight") for m in owners], pruning_method=prune.L1Unstructured,
                                      amount=opts["amount"])
            for module in owners:
                prune.remove(module, "weight")
    light.source = f"{model.source or model.format}, {_label(opts['method'], opts['amount'])}"
    return light


def _copy(model: Model) -> Model:
    """A deep copy of the model sharing only its tokenizer (which holds no weights)."""
    memo = {id(model.tokenizer): model.tokenizer} if model.tokenizer is not None else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pytree deprecations when a graph is copied
            return copy.deepcopy(model, memo)
    except Exception as err:  # noqa: BLE001 - any failure to copy means the original would be changed
        raise ModelFormatError(
            f"compress works on a copy of the model, and this {model.format} model cannot be copied "
            f"({type(err).__name__}: {err}). Pass the live module with explain.Model(module, ...).") from err


def _label(method: str, amount: float) -> str:
    return "int8 weights" if method == "quantize" else f"pruned to {amount:.0%} sparsity"


def weight_owners(network: nn.Module) -> list[nn.Module]:
    """The modules whose ``weight`` is compressed: Linear and Conv layers, and (exported
    graphs) plain modules holding a float weight of two or more dimensions."""
    graph = isinstance(network, torch.fx.GraphModule)
    found = []
    for module in network.modules():
        weight = module._parameters.get("weight") if hasattr(module, "_parameters") else None
        if weight is None or not weight.is_floating_point():
            continue
        if isinstance(module, _LAYERS) or graph and type(module) is nn.Module and weight.ndim >= 2:
            found.append(module)
    return found


def _quantise(module: nn.Module) -> None:
    """Store ``module.weight`` as int8 plus a scale per output channel, in place."""
    kind = type(module)
    if kind not in _INT8:  # a subclass (MultiheadAttention's out_proj, say): a class of its own
        _INT8[kind] = _int8_class(kind, f"Int8{kind.__name__}")
    with torch.no_grad():
        w = module._parameters.pop("weight").detach()
        dims = tuple(range(1, w.ndim))
        scale = (w.abs().amax(dim=dims, keepdim=True) / 127.0).clamp_min(torch.finfo(w.dtype).tiny)
        q = torch.round(w / scale).clamp(-127, 127).to(torch.int8)
    module.register_buffer("weight_int8", q)
    module.register_buffer("weight_scale", scale)
    module.__class__ = _INT8[kind]
