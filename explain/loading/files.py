"""Load models and datasets from paths, bytes or uploads; save models; the trust policy.

Trust policy: formats that can run code when loaded (torch.export ``.pt2``, which
may hold pickles and native code, and TorchScript, which has no safe mode) are
accepted on a local single-user setup and refused when the server runs in shared
mode (``EXPLAIN_SHARED_MODE=1``). Pickled files are refused always and never
unpickled.

Example:
    >>> import torch, tempfile, os, explain
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    >>> path = os.path.join(tempfile.mkdtemp(), "m.pt2")
    >>> explain.save_model(net, path, torch.zeros(2, 3), class_names=["a", "b"])
    >>> explain.load_model(path).class_names
    ('a', 'b')
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from explain.core.dataset import Dataset
from explain.core.input_kind import modality_from_input
from explain.core.model import Model
from explain.errors import InputError, ModelFormatError, UnsafeModelError
from explain.loading import model_formats as formats
from explain.loading.archives import Blob, extract_zip, read_source, safe_zip

__all__ = ["load_model", "save_model", "load_dataset", "shared_mode", "CODE_RUNNING_FORMATS"]

CODE_RUNNING_FORMATS = {
    "pt2": ".pt2 archives can hold pickled objects and native code",
    "torchscript": "TorchScript archives run their own code and have no safe loading mode",
}


def shared_mode() -> bool:
    """True when the server is shared (``EXPLAIN_SHARED_MODE`` is 1, true or yes):
    then only formats that cannot run code are loaded.

    Example:
        >>> import os
        >>> os.environ["EXPLAIN_SHARED_MODE"] = "yes"
        >>> shared_mode()
        True
        >>> del os.environ["EXPLAIN_SHARED_MODE"]
        >>> shared_mode()
        False
    """
    return os.environ.get("EXPLAIN_SHARED_MODE", "").strip().lower() in {"1", "true", "yes", "on"}


def load_model(
    source: Any,
    *,
    task: str | None = None,
    modality: str | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    input_shape: Sequence[int] | None = None,
    allow_code: bool | None = None,
    device: str | None = None,
) -> Model:
    """Load a model file or folder as an :class:`explain.Model`.

    Args:
        source: a path (file or folder), bytes, or a binary file-like object such as a
            browser upload. The format is recognised from the content.
        task, modality, feature_names, class_names, input_shape: override what the file's
            metadata says (or fill in what it lacks). Without metadata the modality is
            read from the model's example input (``.pt2``, ONNX: float ``(batch,
            features)`` is a table, ``(batch, channels, height, width)`` an image) or its
            first layer (TorchScript: ``Linear`` or ``Conv2d``); where that does not
            decide it, loading fails and asks for ``modality=``.
        allow_code: accept formats that can run code when loaded (.pt2, TorchScript).
            ``None`` means: yes, unless the server runs in shared mode.
        device: where to run the model; ``None`` picks the GPU when there is one
            (ONNX models run in onnxruntime on the CPU).

    Raises:
        UnsafeModelError: a pickle, or a code-running format in shared mode.
        ModelFormatError: the file is not a supported model format or is corrupt, or
            its modality cannot be told and was not given.

    Example:
        A CNN exported the plain way, without explain's metadata, loads as an image model:

        >>> import torch, tempfile, os, explain
        >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(72, 3))
        >>> path = os.path.join(tempfile.mkdtemp(), "cnn.pt2")
        >>> torch.export.save(torch.export.export(cnn, (torch.zeros(1, 1, 8, 8),)), path)
        >>> explain.load_model(path).modality
        'image'
    """
    found = read_source(source, what="model")
    if allow_code is None:
        allow_code = not shared_mode()
    if isinstance(found, Path):
        network, meta, fmt, differentiable = _load_folder(found)
        name = found.name
    else:
        network, meta, fmt, differentiable = _load_blob(found, allow_code)
        name = found.name
    overrides = dict(
        task=task, modality=modality, feature_names=feature_names,
        class_names=class_names, input_shape=input_shape,
    )
    meta.update({k: v for k, v in overrides.items() if v is not None})
    undecided = meta.pop(formats.UNDECIDED, None)
    if "modality" not in meta:
        raise ModelFormatError(
            f"Could not tell what {name or 'this model'} takes: {undecided or 'the file does not say'}. "
            "Say what it is: explain.load_model(path, modality='tabular' | 'image' | 'text') "
            "(in the app: Model settings), or save it with explain.save_model, which records it."
        )
    model = Model(
        network,
        task=meta.get("task", "classification"),
        modality=meta["modality"],
        feature_names=meta.get("feature_names"),
        class_names=meta.get("class_names"),
        input_shape=meta.get("input_shape"),
        tokenizer=meta.get("tokenizer"),
        format=fmt,
        differentiable=differentiable,
        source=name or None,
    )
    if device is None and torch.cuda.is_available() and fmt != "onnx":
        device = "cuda"
    return model.to(device) if device is not None else model


def _load_blob(blob: Blob, allow_code: bool) -> tuple[nn.Module, dict[str, Any], str, bool]:
    fmt = formats.detect(blob)
    if fmt == "pickle":
        raise UnsafeModelError(f"{blob.name or 'The upload'} is a pickle file. " + formats.PICKLE_HINT)
    if fmt in CODE_RUNNING_FORMATS and not allow_code:
        raise UnsafeModelError(
            f"This server runs in shared mode and refuses {fmt} files: "
            f"{CODE_RUNNING_FORMATS[fmt]}. Upload a format that cannot run code instead: "
            "a Hugging Face folder (.zip) with safetensors weights, or ONNX."
        )
    if fmt == "pt2":
        return (*formats.load_pt2(blob), "pt2", True)
    if fmt == "torchscript":
        return (*formats.load_torchscript(blob), "torchscript", True)
    if fmt == "onnx":
        network, meta, differentiable = formats.load_onnx(blob)
        return network, meta, "onnx", differentiable
    if fmt == "safetensors":
        raise ModelFormatError(
            "A bare .safetensors file holds weights but no architecture. Put it in a "
            "folder (or zip) with a config.json: a Hugging Face config, or "
            '{"architecture": "mlp", "arguments": {...}} naming a bundled architecture.'
        )
    with tempfile.TemporaryDirectory(prefix="explain-model-") as tmp:
        folder = extract_zip(safe_zip(blob), Path(tmp))
        return _load_folder(folder)


def _load_folder(folder: Path) -> tuple[nn.Module, dict[str, Any], str, bool]:
    config = formats.read_config(folder)
    if "architecture" in config:
        network, meta = formats.load_registry_folder(folder, config)
        return network, meta, "safetensors", True
    network, meta = formats.load_hf_folder(folder, config)
    return network, meta, "huggingface", True


def save_model(
    module: nn.Module,
    path: str | os.PathLike,
    example_inputs: Any,
    *,
    task: str = "classification",
    modality: str | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
) -> None:
    """Export ``module`` with torch.export to a ``.pt2`` file with a dynamic batch size
    and explain's metadata inside, so that one file is all a user needs to upload.

    Args:
        module: the network; it is exported in eval mode.
        path: where to write the ``.pt2`` file.
        example_inputs: a batch of example inputs (tensor or array) of the right shape.
        task: ``"classification"`` or ``"regression"``.
        modality: ``"tabular"`` or ``"image"``; None reads it from the example inputs
            (``(batch, features)``: a table, ``(batch, channels, height, width)``: an image).
        feature_names, class_names: recorded in the file for whoever loads it.

    Raises:
        ModelFormatError: torch.export could not export the module.
        InputError: text models (save a Hugging Face folder), or example inputs whose
            shape does not say the modality and none was given.

    Example:
        >>> import torch, tempfile, os, explain
        >>> path = os.path.join(tempfile.mkdtemp(), "m.pt2")
        >>> save_model(torch.nn.Linear(4, 2), path, torch.zeros(2, 4), feature_names=list("abcd"))
        >>> model = explain.load_model(path)
        >>> model.feature_names, model.predict(torch.zeros(5, 4)).shape
        (('a', 'b', 'c', 'd'), (5,))
    """
    if modality == "text":
        raise InputError(
            "Text models need their tokenizer: save them as a Hugging Face folder with "
            "model.save_pretrained(folder) and tokenizer.save_pretrained(folder)."
        )
    x = torch.as_tensor(example_inputs, dtype=torch.float32)
    modality = modality or modality_from_input(x.ndim, floating=True)
    if modality is None:
        raise InputError(
            f"Could not tell what the model takes from example inputs of shape {tuple(x.shape)}: "
            "pass modality='tabular' for (batch, features) or 'image' for (batch, channels, height, width)."
        )
    if x.shape[0] < 2:  # a batch of one would be specialised to a fixed size
        x = torch.cat([x, x])
    meta = {
        "task": task,
        "modality": modality,
        "feature_names": list(feature_names) if feature_names is not None else None,
        "class_names": list(class_names) if class_names is not None else None,
        "input_shape": list(x.shape[1:]),
    }
    batch = torch.export.Dim("batch", min=1)
    was_training = module.training
    module.eval()
    try:
        program = torch.export.export(module, (x,), dynamic_shapes=({0: batch},))
    except Exception as err:
        raise ModelFormatError(
            f"torch.export could not export the module: {err}. See the torch.export "
            "documentation for unsupported Python constructs."
        ) from err
    finally:
        module.train(was_training)
    extra = {formats.METADATA_FILE: json.dumps({k: v for k, v in meta.items() if v is not None})}
    torch.export.save(program, os.fspath(path), extra_files=extra)


def load_dataset(source: Any, *, target: str | None = None, **options: Any) -> Dataset:
    """Load a dataset: CSV or Parquet tables, NPZ arrays, zips of images in class folders,
    or a CSV of texts. See :func:`explain.loading.data_formats.read` for the options;
    ``metadata=["sex", "region"]`` keeps those columns of a table beside the features
    (``data.metadata``, a DataFrame aligned with the rows), never given to the model.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
        >>> _ = open(path, "w").write(chr(10).join(["age,income,region,label", "30,1.5,north,yes",
        ...                                         "45,2.0,south,no"]))
        >>> data = load_dataset(path, target="label", metadata=["region"])
        >>> data.feature_names, data.labels, data.class_names, data.metadata["region"].tolist()
        (('age', 'income'), ['yes', 'no'], ('no', 'yes'), ['north', 'south'])
    """
    from explain.loading import data_formats as _data_formats

    return _data_formats.read(source, target=target, **options)
