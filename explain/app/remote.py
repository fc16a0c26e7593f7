"""The app's handle on a model that may live in another process.

Uploaded models are loaded and run in a worker process of their own (see
:mod:`explain.runtime.worker`); bundled examples run in the server's process. Either way the
pages hold a :class:`SessionModel`: what they need to know about the model (task,
modality, names, shapes, the methods it serves, its fingerprint), read once when it
loads, and :meth:`SessionModel.call` to run a computation on it where it lives.

No streamlit here: a worker imports this module to load models.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

import explain
from explain.core.model import Model
from explain.runtime.worker import InProcess, Worker

__all__ = ["ModelInfo", "SessionModel", "describe", "from_upload", "from_example", "fingerprint"]


@dataclass(frozen=True)
class ModelInfo:
    """What the app knows of a model without holding it."""

    task: str
    modality: str
    feature_names: tuple[str, ...] | None
    class_names: tuple[str, ...] | None
    input_shape: tuple[int, ...] | None
    format: str
    differentiable: bool
    description: dict[str, Any]
    fingerprint: str
    methods: tuple[str, ...]
    conv_layers: tuple[str, ...]
    has_dropout: bool
    attention_support: str | None  # None: attention can be read; else why not


def fingerprint(model: Model) -> str:
    """A hash of the model's format, metadata and weights."""
    h = hashlib.sha256(repr(model).encode())
    h.update(json.dumps(model.describe(), default=str, sort_keys=True).encode())
    for name, tensor in model.network.state_dict().items():
        h.update(name.encode())
        try:
            h.update(tensor.detach().cpu().reshape(-1).view(dtype=torch.uint8).numpy().tobytes())
        except (RuntimeError, TypeError):  # an exotic tensor: fall back to its identity
            h.update(f"{id(tensor)}".encode())
    return h.hexdigest()


def _conv_layers(model: Model) -> tuple[str, ...]:
    names = []
    for name, module in model.network.named_modules():
        if isinstance(module, nn.Conv2d):
            names.append(name)
        elif getattr(module, "kind", "") == "conv":  # a conv tap in a rebuilt torch.export graph
            names.append(str(getattr(module, "origin", name)))
    return tuple(dict.fromkeys(names))


def describe(model: Model) -> ModelInfo:
    """Everything the pages read about ``model`` (run where the model lives)."""
    from explain.attribution.attention_maps import attention_support
    from explain.confidence.sampling import dropout_layers

    return ModelInfo(
        task=model.task, modality=model.modality, feature_names=model.feature_names,
        class_names=model.class_names, input_shape=model.input_shape, format=model.format,
        differentiable=model.differentiable, description=model.describe(), fingerprint=fingerprint(model),
        methods=tuple(explain.methods(model)), conv_layers=_conv_layers(model),
        has_dropout=bool(dropout_layers(model.network)), attention_support=attention_support(model),
    )


def load_upload(data: bytes, name: str, **overrides: Any) -> Model:
    """Load an uploaded model file from its bytes (in the worker), with the user's
    corrections (``task``, ``modality``, ``class_names``, ``feature_names``, ``input_shape``)
    passed to :func:`explain.load_model`."""
    buffer = io.BytesIO(data)
    buffer.name = name
    return explain.load_model(buffer, **overrides)


def load_example(name: str) -> Model:
    """Load a bundled example's model."""
    return explain.load_example(name)[0]


class SessionModel:
    """A session's model: its :class:`ModelInfo` as attributes, and :meth:`call`.

    Example:
        >>> import torch, explain
        >>> model = SessionModel.local(explain.Model(torch.nn.Linear(3, 2)))
        >>> model.task, model.n_features, "saliency" in model.methods
        ('classification', 3, True)
    """

    def __init__(self, info: ModelInfo, runner: Worker | InProcess) -> None:
        self.info = info
        self.runner = runner

    @classmethod
    def local(cls, model: Model) -> SessionModel:
        """A model run in this process (the bundled examples)."""
        return cls(describe(model), InProcess(model))

    def __getattr__(self, name: str) -> Any:
        if name in ModelInfo.__dataclass_fields__:
            return getattr(self.__dict__["info"], name)
        raise AttributeError(name)

    @property
    def n_features(self) -> int | None:
        shape = self.info.input_shape
        return int(math.prod(shape)) if self.info.modality == "tabular" and shape else None

    @property
    def in_worker(self) -> bool:
        return isinstance(self.runner, Worker)

    def describe(self) -> dict[str, Any]:
        return dict(self.info.description)

    def call(self, fn: Callable[..., Any], *args: Any, progress: Callable[[float], None] | None = None,
             **kwargs: Any) -> Any:
        """``fn(model, *args, progress=..., **kwargs)`` where the model lives."""
        return self.runner.call(fn, *args, progress=progress, **kwargs)

    def close(self) -> None:
        """Release the model (stop its worker)."""
        self.runner.close()


def from_upload(data: bytes, name: str, **overrides: Any) -> SessionModel:
    """Load an uploaded model in a new worker process; ``overrides`` go to
    :func:`explain.load_model` there (and again whenever the worker restarts).

    Raises:
        ExplainError: the file is not a model explain can load (the loader's message), or
            the worker died while loading it.
    """
    worker = Worker(load_upload, data, name, describe=describe, **overrides)
    info = worker.start()
    return SessionModel(info, worker)


def from_example(name: str) -> SessionModel:
    """A bundled example's model, run in this process (it is ours and trusted)."""
    return SessionModel.local(load_example(name))
