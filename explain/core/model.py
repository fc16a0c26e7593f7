"""The Model wrapper: one object for every format, with the metadata explanations need.

Example:
    >>> import torch, explain
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    >>> model = explain.Model(net, task="classification", modality="tabular",
    ...                       feature_names=["a", "b", "c"], class_names=["no", "yes"])
    >>> model.n_features
    3
    >>> model.predict(torch.zeros(4, 3)).shape
    (4,)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from explain.core.batch import prepare
from explain.core.budget import batch_rows
from explain.core.input_kind import first_layer, modality_from_layer
from explain.core.running import raw_outputs
from explain.core.validate import Instance, OneOf, check
from explain.errors import InputError

__all__ = ["Model", "TASKS", "MODALITIES", "check_model"]

TASKS = ("classification", "regression")
MODALITIES = ("tabular", "image", "text")

# Formats on which Captum's module hooks (DeepLift, guided backprop, Grad-CAM) do not
# run. (torch.export programs are rebuilt with modules on loading: see explain.loading.graph.)
_HOOKLESS_FORMATS = {
    "torchscript": "TorchScript modules do not run Python module hooks",
    "onnx": "the ONNX model runs in onnxruntime as a black box",
}


def _as_logits(out: Any) -> torch.Tensor:
    """The raw output tensor of a model call, shaped (batch, outputs)."""
    if hasattr(out, "logits"):
        out = out.logits
    elif isinstance(out, (tuple, list)):
        out = out[0]
    elif isinstance(out, dict):
        out = out.get("logits", next(iter(out.values())))
    if not isinstance(out, torch.Tensor):
        raise InputError(
            f"The model returned {type(out).__name__}; explain needs a tensor of raw "
            "outputs (logits for classifiers). Wrap the module so forward returns one."
        )
    if out.ndim == 1:
        out = out.unsqueeze(1)
    return out


class _Logits(nn.Module):
    """Calls the user's network and returns its raw outputs as (batch, outputs).

    Captum's hook-based methods see the user's layers as children of this module.
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, *args: Any) -> torch.Tensor:
        return _as_logits(self.network(*args))


class _EmbeddingLogits(nn.Module):
    """A Hugging Face text model called on token embeddings instead of token ids."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return _as_logits(self.network(inputs_embeds=inputs_embeds, attention_mask=attention_mask))


class Model:
    """A model ready to be explained: the network plus what explanations need to know.

    Args:
        module: the network (any ``nn.Module``; for text, a Hugging Face sequence
            classifier). It is put in eval mode.
        task: ``"classification"`` (outputs are logits) or ``"regression"``.
        modality: ``"tabular"``, ``"image"`` or ``"text"``; ``None`` reads it from the
            first layer with weights (``Conv2d``: image, otherwise tabular).
        feature_names: tabular feature names, in input order.
        class_names: names of the outputs of a classifier.
        input_shape: shape of one example without the batch dimension; inferred from
            the first layer where possible.
        tokenizer: text models: a Hugging Face tokenizer.
        format: where the model came from (``"module"``, ``"pt2"``, ``"torchscript"``,
            ``"huggingface"``, ``"safetensors"``, ``"onnx"``).
        differentiable: False for black-box models (gradient methods refuse them).
        max_length: text models: longest token sequence to feed the model.
    """

    def __init__(
        self,
        module: nn.Module,
        *,
        task: str = "classification",
        modality: str | None = None,
        feature_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        input_shape: Sequence[int] | None = None,
        tokenizer: Any = None,
        format: str = "module",
        differentiable: bool = True,
        max_length: int | None = None,
        source: str | None = None,
    ) -> None:
        Instance(nn.Module, "explain.Model wraps a live torch.nn.Module; load files with "
                            "explain.load_model(path) instead.").convert("module", module)
        checked = check(
            task=(task, OneOf(TASKS)),
            modality=(modality or modality_from_layer(module) or "tabular", OneOf(MODALITIES)),
        )
        self.task, self.modality = checked["task"], checked["modality"]
        if self.modality == "text" and tokenizer is None:
            raise InputError(
                "A text model needs its tokenizer: pass tokenizer=... (a Hugging Face "
                "tokenizer), or load a Hugging Face folder with explain.load_model."
            )
        self.network = _eval_mode(module)
        self.feature_names = tuple(str(f) for f in feature_names) if feature_names else None
        self.class_names = tuple(str(c) for c in class_names) if class_names else None
        self.tokenizer = tokenizer
        self.format = format
        self.differentiable = differentiable
        self.source = source
        self.max_length = max_length
        shape = tuple(int(s) for s in input_shape) if input_shape else None
        if shape is None and self.modality != "text":
            shape = _infer_input_shape(module)
        if shape is None and self.feature_names and self.modality == "tabular":
            shape = (len(self.feature_names),)
        self.input_shape: tuple[int, ...] | None = shape
        self.forward_module: nn.Module = (
            _EmbeddingLogits(self.network) if self.modality == "text" else _Logits(self.network)
        )

    # --- what the model can do -------------------------------------------------
    @property
    def supports_hooks(self) -> bool:
        """Whether Captum's module-hook methods give correct answers on this model."""
        return self.format not in _HOOKLESS_FORMATS

    @property
    def hook_limitation(self) -> str | None:
        """Why hook-based methods are refused, or None when they are served."""
        return _HOOKLESS_FORMATS.get(self.format)

    @property
    def n_features(self) -> int | None:
        """Number of input features of a tabular model, where known."""
        if self.modality == "tabular" and self.input_shape:
            return int(np.prod(self.input_shape))
        return None

    @property
    def device(self) -> torch.device:
        """The device the model's parameters live on (CPU for parameterless models)."""
        for tensor in list(self.network.parameters()) + list(self.network.buffers()):
            return tensor.device
        return torch.device("cpu")

    def to(self, device: str | torch.device) -> Model:
        """Move the network to ``device`` (inputs follow it automatically); returns self."""
        try:
            self.network.to(device)
        except (RuntimeError, NotImplementedError, AssertionError) as err:
            raise InputError(f"Could not move the {self.format} model to {device}: {err}") from err
        return self

    @property
    def n_parameters(self) -> int:
        """Number of parameters in the network."""
        return int(sum(p.numel() for p in self.network.parameters()))

    def embeddings(self) -> nn.Module:
        """Text models: the token embedding layer that attributions are taken at."""
        getter = getattr(self.network, "get_input_embeddings", None)
        if getter is None:
            raise InputError(
                "This text model has no get_input_embeddings(); explain needs a Hugging "
                "Face model to attribute over tokens."
            )
        return getter()

    # --- running it ------------------------------------------------------------
    def logits(self, inputs: Any, *, batch_size: int | None = None) -> np.ndarray:
        """Raw outputs (logits, or predictions for regression) as a (n, outputs) array.

        ``inputs`` takes the same forms as :func:`explain.attribute`; ``batch_size`` rows
        go through at once (None: as many as the memory budget holds, see explain.core.budget).
        """
        batch = prepare(self, inputs)
        return raw_outputs(self, batch, batch_rows(self, batch, batch_size)).float().numpy()

    def predict_proba(self, inputs: Any) -> np.ndarray:
        """Class probabilities (softmax of the logits); classifiers only."""
        if self.task != "classification":
            raise InputError("predict_proba is for classifiers; this model is a regression.")
        logits = torch.from_numpy(self.logits(inputs))
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, inputs: Any) -> np.ndarray:
        """Predicted class indices (classification) or predicted values (regression)."""
        out = self.logits(inputs)
        if self.task == "classification":
            return out.argmax(axis=1)
        return out[:, 0] if out.shape[1] == 1 else out

    def describe(self) -> dict[str, Any]:
        """A summary for display: format, task, modality, parameters, shapes and names."""
        return {
            "format": self.format,
            "task": self.task,
            "modality": self.modality,
            "parameters": self.n_parameters,
            "input_shape": self.input_shape,
            "feature_names": self.feature_names,
            "class_names": self.class_names,
            "hook_methods": "yes" if self.supports_hooks else f"no: {self.hook_limitation}",
            "gradients": "yes" if self.differentiable else "no (black box)",
        }

    def __repr__(self) -> str:
        return (
            f"Model(format={self.format!r}, task={self.task!r}, modality={self.modality!r}, "
            f"input_shape={self.input_shape}, outputs={len(self.class_names or ()) or '?'})"
        )


def _eval_mode(module: nn.Module) -> nn.Module:
    """Put the module in eval mode; exported programs are already fixed in theirs."""
    try:
        return module.eval()
    except NotImplementedError:  # torch.export's module() refuses eval()/train()
        return module


def _infer_input_shape(module: nn.Module) -> tuple[int, ...] | None:
    """The example shape of a graph's input, or the feature count of a first Linear layer."""
    for placeholder in _graph_placeholders(module):
        shape = getattr(placeholder.meta.get("val"), "shape", None)
        if shape is not None and len(shape) >= 2:
            try:
                return tuple(int(s) for s in shape[1:])
            except TypeError:  # a symbolic size beyond the batch dimension
                return None
    found = first_layer(module)  # a convolution knows its channels but not the spatial size
    if found is not None and found[0] == "Linear":
        return (int(found[1].shape[1]),)
    return None


def _graph_placeholders(module: nn.Module) -> list[Any]:
    graph = getattr(module, "graph", None)
    nodes = getattr(graph, "nodes", None)
    if nodes is None or not hasattr(graph, "find_nodes"):
        return []
    return [n for n in nodes if getattr(n, "op", None) == "placeholder"]


def check_model(model: Any, name: str = "model") -> Model:
    """The one check that an argument is an :class:`explain.Model`; returns it.

    Raises:
        InputTypeError: anything else, with how to make one.
    """
    return Instance(Model, "Wrap a module with explain.Model(module, task=..., modality=...) "
                           "or load a file with explain.load_model(path).").convert(name, model)
