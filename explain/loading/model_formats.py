"""One loader per model format. Each takes bytes or a folder and returns the network
and the metadata found in the file; :mod:`explain.loading.files` picks the loader and
applies the trust policy.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from explain.core.input_kind import (
    modality_from_input,
    modality_from_layer,
    undecided_input,
    undecided_layer,
)
from explain.errors import MissingDependencyError, ModelFormatError, UnsafeModelError
from explain.loading.archives import ZIP_ERRORS, Blob, open_zip
from explain.loading.graph import rebuild_modules
from explain.runtime.deps import require

METADATA_FILE = "explain.json"
# The metadata key under which a loader says why the input does not decide the modality.
UNDECIDED = "undecided_modality"
# ONNX TensorProto element types of floating point: FLOAT, DOUBLE, FLOAT16, BFLOAT16.
_ONNX_FLOATS = {1, 11, 10, 16}

PICKLE_HINT = (
    "explain never unpickles model files, because unpickling runs arbitrary code. "
    "Export the model instead: explain.save_model(module, 'model.pt2', example_inputs) "
    "(torch.export), a Hugging Face folder with safetensors weights, or ONNX; from Python "
    "you can also pass the live module: explain.Model(module, ...)."
)


def detect(blob: Blob) -> str:
    """Name the format of a model file from its content (the file name is only a hint).

    Returns one of ``pt2``, ``torchscript``, ``pickle``, ``folder_zip``,
    ``safetensors``, ``onnx``.
    """
    data = blob.data
    if data[:4] == b"PK\x03\x04":
        try:
            names = open_zip(data).namelist()
        except ZIP_ERRORS as err:
            raise ModelFormatError(f"{blob.name or 'The file'} looks like a zip but is corrupt ({err}).") from err
        if any(n.endswith("/archive_format") or n == "archive_format" for n in names):
            return "pt2"
        if any("/code/__torch__" in n for n in names) and any(n.endswith("constants.pkl") for n in names):
            return "torchscript"
        if any(Path(n).name == "config.json" for n in names):
            return "folder_zip"
        if any(n.endswith(".pkl") for n in names):
            return "pickle"
        raise ModelFormatError(
            "This zip holds neither a torch.export (.pt2) program, a TorchScript module, "
            "nor a model folder with config.json. " + SUPPORTED
        )
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return "pickle"
    if blob.suffix in {".pkl", ".pickle", ".joblib", ".pth", ".ckpt", ".bin", ".sav"}:
        return "pickle"
    if len(data) > 9:
        (header,) = struct.unpack("<Q", data[:8])
        if 2 <= header < len(data) and data[8:9] == b"{":
            return "safetensors"
    if blob.suffix == ".onnx" or data[:1] == b"\x08":
        return "onnx"
    raise ModelFormatError(
        f"Could not recognise the model file {blob.name or '(uploaded bytes)'}. " + SUPPORTED
    )


SUPPORTED = (
    "Supported formats: torch.export .pt2 (explain.save_model), TorchScript .pt, a Hugging "
    "Face folder or .zip (config.json + safetensors), a folder or .zip with config.json "
    "naming a bundled architecture + model.safetensors, and ONNX .onnx."
)


class FixedBatch(nn.Module):
    """Runs a network exported for a fixed batch size on any number of examples,
    chunk by chunk (the last chunk padded), keeping gradients intact."""

    def __init__(self, network: nn.Module, batch_size: int) -> None:
        super().__init__()
        self.network = network
        self.batch_size = batch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for chunk in torch.split(x, self.batch_size):
            n = chunk.shape[0]
            if n < self.batch_size:
                pad = chunk.new_zeros((self.batch_size - n, *chunk.shape[1:]))
                chunk = torch.cat([chunk, pad])
            out = self.network(chunk)
            out = out.logits if hasattr(out, "logits") else out
            outs.append(out[:n])
        return torch.cat(outs)


def _shape_from_dims(dims: list[Any]) -> tuple[int | None, tuple[int, ...] | None]:
    """Split (batch, *example) dims into a fixed batch size (or None) and example shape."""
    batch = dims[0] if dims and isinstance(dims[0], int) else None
    rest = dims[1:]
    shape = tuple(int(d) for d in rest) if all(isinstance(d, int) for d in rest) else None
    return batch, shape


def load_pt2(blob: Blob) -> tuple[nn.Module, dict[str, Any]]:
    extra = {METADATA_FILE: ""}
    try:
        program = torch.export.load(io.BytesIO(blob.data), extra_files=extra)
    except Exception as err:  # torch raises many types here
        raise ModelFormatError(
            f"torch.export.load could not read {blob.name or 'the file'}: {err}. Re-export it "
            "with torch.export.save (or explain.save_model) using this torch version."
        ) from err
    network = rebuild_modules(program.module())
    meta = _parse_meta(extra[METADATA_FILE])
    placeholders = [n for n in network.graph.nodes if n.op == "placeholder"]
    user_inputs = [p for p in placeholders if p.meta.get("val") is not None]
    if len(user_inputs) != 1:
        raise ModelFormatError(
            f"The exported program takes {len(user_inputs)} tensor inputs; explain supports "
            "models with one input tensor. Export a wrapper that takes one tensor."
        )
    example = user_inputs[0].meta["val"]
    dims = [d if isinstance(d, int) else None for d in example.shape]
    _read_input(meta, dims, floating=example.dtype.is_floating_point)
    if dims[0] is not None:
        network = FixedBatch(network, dims[0])
    return network, meta


def _read_input(meta: dict[str, Any], dims: list[int | None], *, floating: bool) -> None:
    """Fill in the example shape and modality that an exported input implies, where the
    file's own metadata does not say; an undecided modality leaves the reason behind."""
    meta.setdefault("input_shape", _shape_from_dims(dims)[1])
    modality = modality_from_input(len(dims), floating=floating)
    if modality is not None:
        meta.setdefault("modality", modality)
    else:
        meta.setdefault(UNDECIDED, undecided_input(dims, floating=floating))


def load_torchscript(blob: Blob) -> tuple[nn.Module, dict[str, Any]]:
    extra = {METADATA_FILE: ""}
    try:
        network = torch.jit.load(io.BytesIO(blob.data), map_location="cpu", _extra_files=extra)
    except Exception as err:
        raise ModelFormatError(
            f"torch.jit.load could not read {blob.name or 'the file'}: {err}. Save it with "
            "torch.jit.save(torch.jit.script(model), path), or better export with torch.export."
        ) from err
    meta = _parse_meta(extra[METADATA_FILE])
    _read_layers(meta, network)  # a TorchScript file keeps no example input
    return network, meta


def _read_layers(meta: dict[str, Any], network: nn.Module) -> None:
    """Fill in the modality that the network's first layer implies, where the metadata
    does not say; an undecided modality leaves the reason behind."""
    modality = modality_from_layer(network)
    if modality is not None:
        meta.setdefault("modality", modality)
    else:
        meta.setdefault(UNDECIDED, undecided_layer(network))


class OnnxRuntimeModule(nn.Module):
    """An ONNX model run by onnxruntime: a black box (no gradients) for perturbation methods."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        ort = require("onnxruntime", feature="ONNX models")
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, torch.get_num_threads())
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        array = x.detach().cpu().numpy().astype(np.float32)
        out = self.session.run(None, {self.input_name: array})[0]
        return torch.from_numpy(np.asarray(out, dtype=np.float32)).to(x.device)


def load_onnx(blob: Blob) -> tuple[nn.Module, dict[str, Any], bool]:
    """Return (network, metadata, differentiable). onnx2torch gives a differentiable
    network where it is installed and converts the graph; onnxruntime otherwise."""
    onnx = require("onnx", feature="ONNX models")
    try:
        proto = onnx.load_model_from_string(blob.data)
        onnx.checker.check_model(proto)
    except Exception as err:
        raise ModelFormatError(
            f"{blob.name or 'The file'} is not a valid ONNX model ({err}). " + SUPPORTED
        ) from err
    meta = {}
    for prop in proto.metadata_props:
        if prop.key == METADATA_FILE:
            meta = _parse_meta(prop.value)
    if not proto.graph.input:
        raise ModelFormatError("The ONNX model declares no input; export it with its input tensor.")
    if len(proto.graph.input) - len(proto.graph.initializer) > 1:
        raise ModelFormatError("The ONNX model takes several inputs; explain supports one input tensor.")
    tensor_type = proto.graph.input[0].type.tensor_type
    dims = [d.dim_value or None for d in tensor_type.shape.dim]
    _read_input(meta, dims, floating=tensor_type.elem_type in _ONNX_FLOATS)
    try:
        onnx2torch = require("onnx2torch")
        network: nn.Module = onnx2torch.convert(proto)
        differentiable = True
    except Exception:  # not installed, or the graph uses an op it cannot convert
        try:
            runtime = OnnxRuntimeModule(blob.data)
        except MissingDependencyError:
            raise
        except Exception as err:  # onnxruntime's own error types, for graphs the checker let through
            raise ModelFormatError(
                f"onnxruntime could not load {blob.name or 'the file'} ({type(err).__name__}: {err}). "
                "Export the model again with torch.onnx.export."
            ) from err
        network, differentiable = runtime, False
    if dims and dims[0] is not None:
        network = FixedBatch(network, dims[0])
    return network, meta, differentiable


def load_registry_folder(folder: Path, config: dict[str, Any]) -> tuple[nn.Module, dict[str, Any]]:
    from safetensors.torch import load_file

    from explain.loading.architectures import build

    weights = folder / "model.safetensors"
    if not weights.exists():
        raise ModelFormatError(
            f"{folder.name}/config.json names architecture {config['architecture']!r} but "
            "the folder has no model.safetensors. Save the weights with "
            "safetensors.torch.save_file(module.state_dict(), 'model.safetensors')."
        )
    network = build(config["architecture"], **config.get("arguments", {}))
    try:
        network.load_state_dict(load_file(str(weights)), strict=True)
    except RuntimeError as err:
        raise ModelFormatError(
            f"The weights in model.safetensors do not fit architecture "
            f"{config['architecture']!r} with the arguments in config.json: {err}"
        ) from err
    meta = dict(config.get("explain", {}))
    _read_layers(meta, network)
    return network, meta


def load_hf_folder(folder: Path, config: dict[str, Any]) -> tuple[nn.Module, dict[str, Any]]:
    if not list(folder.glob("*.safetensors")):
        if list(folder.glob("*.bin")) or list(folder.glob("*.pt")):
            raise UnsafeModelError(
                "This Hugging Face folder has only pickled weights (pytorch_model.bin). "
                + PICKLE_HINT
                + " Convert it with model.save_pretrained(folder, safe_serialization=True)."
            )
        raise ModelFormatError("The Hugging Face folder has no *.safetensors weights file.")
    transformers = require("transformers", feature="Hugging Face models")
    transformers.utils.logging.disable_progress_bar()
    architectures = " ".join(config.get("architectures") or [])
    kwargs = dict(local_files_only=True, trust_remote_code=False, use_safetensors=True)
    try:
        if "ForSequenceClassification" in architectures:
            network = transformers.AutoModelForSequenceClassification.from_pretrained(
                folder, attn_implementation="eager", **kwargs
            )
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                folder, local_files_only=True, trust_remote_code=False
            )
            meta: dict[str, Any] = {"modality": "text", "tokenizer": tokenizer}
        elif "ForImageClassification" in architectures:
            network = transformers.AutoModelForImageClassification.from_pretrained(
                folder, attn_implementation="eager", **kwargs
            )
            c = network.config
            size = int(getattr(c, "image_size", 0)) or None
            meta = {"modality": "image"}
            if size:
                meta["input_shape"] = (int(getattr(c, "num_channels", 3)), size, size)
        else:
            raise ModelFormatError(
                f"The Hugging Face config names architectures {architectures or '(none)'}; "
                "explain supports *ForSequenceClassification (text) and "
                "*ForImageClassification (images)."
            )
    except (OSError, ValueError) as err:
        raise ModelFormatError(
            f"transformers could not load the folder: {err}. Check that config.json, the "
            "safetensors weights and the tokenizer files are all there; custom code "
            "(trust_remote_code) is never run."
        ) from err
    labels = getattr(network.config, "id2label", None) or {}
    if labels:
        meta["class_names"] = [labels[i] for i in sorted(labels)]
    problem = getattr(network.config, "problem_type", None)
    meta["task"] = "regression" if problem == "regression" else "classification"
    meta.update(config.get("explain", {}))
    return network, meta


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.exists():
        raise ModelFormatError(f"The folder {folder.name!r} has no config.json. " + SUPPORTED)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFormatError(f"config.json is not valid JSON ({err}).") from err


def _parse_meta(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelFormatError(f"The model's {METADATA_FILE} metadata is not valid JSON ({err}).") from err
    if not isinstance(meta, dict):
        raise ModelFormatError(f"The model's {METADATA_FILE} metadata must be a JSON object.")
    return meta
