"""Can a method serve a model? Refuse clearly rather than return a silently wrong answer.

Hook-based methods (DeepLift, guided backprop, deconvolution, Grad-CAM) only see
nonlinearities that run as ``nn.Module`` layers. A network that calls
``torch.relu`` or ``F.softmax`` directly in ``forward`` would get plain gradients
for those layers without any warning from Captum, so we look for such calls by
running one example under a :class:`torch.overrides.TorchFunctionMode` and refuse
the method when we find them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from explain.errors import MethodError

if TYPE_CHECKING:  # pragma: no cover
    from explain.attribution.registry import Method
    from explain.core.batch import Batch
    from explain.core.model import Model

# nonlinear function names (aten overloads are compared without their ".default" suffix)
_NONLINEAR = {
    "relu", "relu_", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "leaky_relu", "gelu",
    "silu", "mish", "softplus", "hardtanh", "relu6", "selu", "celu", "max_pool1d", "max_pool2d",
    "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
}
_RELU = {"relu", "relu_"}


def _deeplift_modules() -> tuple[type, ...]:
    """The module types DeepLift has a rule for (any other nonlinearity is wrong there)."""
    from captum.attr._core.deep_lift import SUPPORTED_NON_LINEAR

    return tuple(SUPPORTED_NON_LINEAR)


# what each hook method needs: (modules whose inside is handled, function names to look for)
_PROBES = {
    "deeplift": (_deeplift_modules, _NONLINEAR),
    "deeplift_shap": (_deeplift_modules, _NONLINEAR),
    "guided_backprop": (lambda: (nn.ReLU,), _RELU),
    "deconvolution": (lambda: (nn.ReLU,), _RELU),
}


def check_method(model: Model, spec: Method, *, probe: bool, example: Batch | None = None) -> None:
    """Raise MethodError when ``spec`` cannot give a correct answer on ``model``.

    ``probe``: the model is about to be explained (the layer Grad-CAM is asked for is
    checked then); hook methods run ``example`` through the model to look for functional
    nonlinearities. With ``probe`` and no example, the caller runs that probe in a pass it
    makes anyway, under :func:`probing`."""
    from explain.attribution.registry import METHODS

    if model.modality not in spec.modalities:
        raise MethodError(
            f"{spec.name} does not serve {model.modality} models; it supports "
            f"{list(spec.modalities)}. For {model.modality} models use one of "
            f"{[m for m, s in METHODS.items() if model.modality in s.modalities][:6]}."
        )
    if spec.gradients and not model.differentiable:
        black_box = [m for m, s in METHODS.items() if not s.gradients]
        raise MethodError(
            f"{spec.name} needs gradients, but this {model.format} model runs as a black box. "
            f"Use a perturbation method ({black_box}), or load the model in a differentiable "
            "format (torch.export .pt2, safetensors, or ONNX with onnx2torch installed)."
        )
    if spec.hooks and not model.supports_hooks:
        hook_free = [m for m, s in METHODS.items() if not s.hooks and model.modality in s.modalities]
        raise MethodError(
            f"{spec.name} relies on module hooks, and {model.hook_limitation}. Use a hook-free "
            f"method ({hook_free}), or pass the live module with explain.Model(module, ...)."
        )
    if spec.name in ("guided_backprop", "deconvolution") and not any(
        isinstance(m, nn.ReLU) for m in model.network.modules()
    ):
        raise MethodError(
            f"{spec.name} changes the backward pass of nn.ReLU layers, and this model has none, "
            "so it would silently equal plain gradients. Use saliency or integrated_gradients."
        )
    if spec.name == "grad_cam" and not probe:  # when listing methods; attribute checks the layer asked for
        find_layer(model, None)
    if probe and spec.name in _PROBES and example is not None:
        modules, names = _PROBES[spec.name]
        _refuse(spec, functional_nonlinearities(model, example, modules(), names))


def _refuse(spec: Method, found: set[str]) -> None:
    if found:
        raise MethodError(
            f"{spec.name} handles nonlinearities only as the nn.Module layers it has rules for, "
            f"but the model calls {sorted(found)} as functions in forward() or in layers without "
            "a rule, which it would treat as linear and give a wrong answer. Use modules it "
            "supports (nn.ReLU(), nn.Softmax(dim), nn.MaxPool2d...), or a hook-free method such "
            "as integrated_gradients."
        )


@contextlib.contextmanager
def probing(model: Model, spec: Method, *, enabled: bool = True) -> Iterator[None]:
    """Make the model's forward pass in the block the probe of :func:`check_method`
    (``probe=True`` without an example), so that a pass made anyway (measuring a row's
    cost) serves: on leaving the block, MethodError where ``spec`` cannot serve the model.
    Nothing is watched for methods without a probe, or when not ``enabled``."""
    if not enabled or spec.name not in _PROBES:
        yield
        return
    modules, names = _PROBES[spec.name]
    with _recording(model, modules(), names) as recorder:
        yield
    _refuse(spec, recorder.found)


class _Recorder(TorchFunctionMode):
    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names
        self.inside = 0
        self.found: set[str] = set()

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        name = getattr(func, "__name__", "").split(".")[0]
        if self.inside == 0 and name in self.names:
            self.found.add(name)
        return func(*args, **(kwargs or {}))


def functional_nonlinearities(
    model: Model, example: Batch, handled: tuple[type, ...], names: set[str]
) -> set[str]:
    """Names of nonlinear torch functions the model calls outside ``handled`` modules."""
    with _recording(model, handled, names) as recorder, torch.no_grad():
        model.forward_module(*example.forward_args())
    return recorder.found


@contextlib.contextmanager
def _recording(model: Model, handled: tuple[type, ...], names: set[str]) -> Iterator[_Recorder]:
    """Record the functions in ``names`` called in the block outside ``handled`` modules."""
    recorder = _Recorder(names)
    handles = []

    def enter(*_: Any) -> None:
        recorder.inside += 1

    def leave(*_: Any) -> None:
        recorder.inside -= 1

    for module in model.network.modules():
        if isinstance(module, handled):
            handles.append(module.register_forward_pre_hook(enter))
            handles.append(module.register_forward_hook(leave))
    try:
        with recorder:
            yield recorder
    finally:
        for h in handles:
            h.remove()


def find_layer(model: Model, layer: str | None) -> tuple[str, nn.Module]:
    """The layer Grad-CAM explains: ``layer`` by name, or the last Conv2d of the network."""
    from explain.loading.graph import Tap

    named = {n: m for n, m in model.network.named_modules() if not isinstance(m, Tap)}
    named.update({m.origin: m for m in model.network.modules() if isinstance(m, Tap)})
    convs = [(n, m) for n, m in named.items() if isinstance(m, nn.Conv2d) or getattr(m, "kind", "") == "conv"]
    if layer is not None:
        if layer not in named:
            raise MethodError(
                f"No layer named {layer!r} in the model. Convolutional layers: {[n for n, _ in convs]}."
            )
        return layer, named[layer]
    if not convs:
        raise MethodError(
            "grad_cam needs a convolutional layer (nn.Conv2d) and the model has none. Pass "
            "layer='name' for another layer with a (batch, channels, h, w) output, or use "
            "integrated_gradients."
        )
    return convs[-1]
