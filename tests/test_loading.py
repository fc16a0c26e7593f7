"""Every model format against the original module, the trust policy, and bad files."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import explain
from explain.loading.architectures import build

HOOK_FREE = ["saliency", "input_x_gradient", "integrated_gradients", "occlusion", "feature_ablation",
             "shapley_value_sampling", "kernel_shap", "lime", "smoothgrad", "gradient_shap"]


def _zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in folder.rglob("*"):
            if path.is_file():
                archive.write(path, prefix + str(path.relative_to(folder)))
    return target


def _same_attributions(loaded: explain.Model, original: explain.Model, x: torch.Tensor, method: str) -> None:
    background = {"background": x[:4]} if method == "gradient_shap" else {}
    a = explain.attribute(loaded, x, method=method, **background)
    b = explain.attribute(original, x, method=method, **background)
    np.testing.assert_allclose(a.values, b.values, atol=1e-5, rtol=1e-4)
    np.testing.assert_array_equal(a.target, b.target)


# --- torch.export ------------------------------------------------------------------------
def test_pt2_round_trip_keeps_metadata_and_outputs(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    path = tmp_path / "m.pt2"
    explain.save_model(mlp, path, tabular_x[:1], feature_names=list("abcde"), class_names=["x", "y", "z"])
    model = explain.load_model(path)
    assert (model.format, model.input_shape, model.class_names) == ("pt2", (5,), ("x", "y", "z"))
    assert model.feature_names == tuple("abcde")
    # dynamic batch: any number of rows works, although the example had one
    for n in (1, 7, 12):
        np.testing.assert_allclose(model.logits(tabular_x[:n]), mlp(tabular_x[:n]).detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("method", HOOK_FREE)
def test_pt2_attributions_equal_the_original_module(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor, method: str) -> None:
    explain.save_model(mlp, tmp_path / "m.pt2", tabular_x)
    _same_attributions(explain.load_model(tmp_path / "m.pt2"), explain.Model(mlp), tabular_x, method)


HOOKED = ["deeplift", "deeplift_shap", "guided_backprop", "deconvolution"]


@pytest.mark.parametrize("method", HOOKED)
def test_pt2_hook_methods_equal_the_original_module(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor, method: str) -> None:
    # the exported graph calls aten.relu as a function; loading rebuilds nn.ReLU modules
    explain.save_model(mlp, tmp_path / "m.pt2", tabular_x)
    model = explain.load_model(tmp_path / "m.pt2")
    assert model.supports_hooks and method in explain.methods(model)
    background = {"background": tabular_x[:4]} if method == "deeplift_shap" else {}
    a = explain.attribute(model, tabular_x, method=method, **background)
    b = explain.attribute(explain.Model(mlp), tabular_x, method=method, **background)
    np.testing.assert_allclose(a.values, b.values, atol=1e-6)


@pytest.mark.parametrize("method", [*HOOKED, "grad_cam"])
def test_pt2_cnn_hook_methods_and_grad_cam_layer_names(tmp_path: Path, cnn: nn.Module, image_x: torch.Tensor, method: str) -> None:
    explain.save_model(cnn, tmp_path / "c.pt2", image_x, modality="image")
    model = explain.load_model(tmp_path / "c.pt2")
    original = explain.Model(cnn, modality="image")
    options = {"layer": "conv"} if method == "grad_cam" else {}  # the original module's layer name
    background = {"background": image_x[:3]} if method == "deeplift_shap" else {}
    a = explain.attribute(model, image_x, method=method, **options, **background)
    b = explain.attribute(original, image_x, method=method, **options, **background)
    np.testing.assert_allclose(a.values, b.values, atol=1e-6)
    if method == "grad_cam":
        assert a.params["layer"] == "conv"


def test_pt2_with_a_nonlinearity_deeplift_has_no_rule_for(tmp_path: Path, tabular_x: torch.Tensor) -> None:
    net = nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    explain.save_model(net, tmp_path / "g.pt2", tabular_x)
    model = explain.load_model(tmp_path / "g.pt2")
    with pytest.raises(explain.MethodError, match=r"\['gelu'\]"):
        explain.attribute(model, tabular_x, method="deeplift")
    with pytest.raises(explain.MethodError, match=r"\['gelu'\]"):  # the live module is refused too
        explain.attribute(explain.Model(net), tabular_x, method="deeplift")
    # guided backprop only changes ReLU, which is rebuilt: served, and equal to the original
    a = explain.attribute(model, tabular_x, method="guided_backprop")
    b = explain.attribute(explain.Model(net), tabular_x, method="guided_backprop")
    np.testing.assert_allclose(a.values, b.values, atol=1e-6)


def test_pt2_with_a_fixed_batch_size_runs_any_batch(tmp_path: Path, cnn: nn.Module, image_x: torch.Tensor) -> None:
    program = torch.export.export(cnn, (image_x[:2],))  # static batch of 2
    torch.export.save(program, tmp_path / "fixed.pt2")
    model = explain.load_model(tmp_path / "fixed.pt2", modality="image")
    assert model.input_shape == (1, 8, 8)
    np.testing.assert_allclose(model.logits(image_x[:5]), cnn(image_x[:5]).detach().numpy(), atol=1e-5)
    _same_attributions(model, explain.Model(cnn, modality="image"), image_x[:5], "integrated_gradients")


def test_pt2_from_bytes_and_file_objects(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    explain.save_model(mlp, tmp_path / "m.pt2", tabular_x)
    data = (tmp_path / "m.pt2").read_bytes()
    upload = io.BytesIO(data)
    upload.name = "whatever.bin"  # the name is only a hint; the content decides
    for source in (data, upload):
        assert explain.load_model(source).format == "pt2"


# --- TorchScript -------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "feature_ablation"])
def test_torchscript_equals_original(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor, method: str) -> None:
    torch.jit.save(torch.jit.script(mlp), tmp_path / "m.pt")
    model = explain.load_model(tmp_path / "m.pt")
    assert model.format == "torchscript" and not model.supports_hooks
    _same_attributions(model, explain.Model(mlp), tabular_x, method)
    with pytest.raises(explain.MethodError, match="TorchScript modules do not run Python module hooks"):
        explain.attribute(model, tabular_x, method="deeplift")


# --- ONNX --------------------------------------------------------------------------------
def test_onnx_runs_as_a_black_box(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    path = tmp_path / "m.onnx"
    torch.onnx.export(mlp, (tabular_x,), path, input_names=["x"], dynamic_axes={"x": {0: "n"}}, dynamo=False)
    model = explain.load_model(path)
    assert model.format == "onnx" and model.input_shape == (5,)
    np.testing.assert_allclose(model.logits(tabular_x), mlp(tabular_x).detach().numpy(), atol=1e-5)
    if not model.differentiable:
        with pytest.raises(explain.MethodError, match="needs gradients"):
            explain.attribute(model, tabular_x, method="saliency")
        assert set(explain.methods(model)) == {"occlusion", "feature_ablation", "shapley_value_sampling", "lime", "kernel_shap"}
    for method in ("feature_ablation", "shapley_value_sampling", "kernel_shap"):
        _same_attributions(model, explain.Model(mlp), tabular_x, method)


def test_broken_onnx_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "bad.onnx").write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(explain.ModelFormatError, match="not a valid ONNX model"):
        explain.load_model(tmp_path / "bad.onnx")


# --- safetensors + bundled architecture --------------------------------------------------
def _registry_folder(folder: Path) -> nn.Module:
    folder.mkdir()
    net = build("mlp", n_features=4, hidden=[8], n_outputs=2)
    config = {"architecture": "mlp", "arguments": {"n_features": 4, "hidden": [8], "n_outputs": 2},
              "explain": {"class_names": ["no", "yes"], "feature_names": list("abcd")}}
    (folder / "config.json").write_text(json.dumps(config))
    save_file(net.state_dict(), str(folder / "model.safetensors"))
    return net.eval()


def test_registry_folder_and_zip(tmp_path: Path) -> None:
    net = _registry_folder(tmp_path / "model")
    x = torch.randn(5, 4)
    for source in (tmp_path / "model", _zip_folder(tmp_path / "model", tmp_path / "m.zip", "model/")):
        model = explain.load_model(source)
        assert model.format == "safetensors" and model.class_names == ("no", "yes")
        np.testing.assert_allclose(model.logits(x), net(x).detach().numpy(), atol=1e-6)
        _same_attributions(model, explain.Model(net), x, "deeplift")  # hooks work: our own code


def test_registry_errors_name_the_fix(tmp_path: Path) -> None:
    _registry_folder(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    config["architecture"] = "resnet9000"
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(explain.ModelFormatError, match="Known architectures"):
        explain.load_model(tmp_path / "model")
    config["architecture"], config["arguments"]["hidden"] = "mlp", [9]
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(explain.ModelFormatError, match="do not fit"):
        explain.load_model(tmp_path / "model")
    with pytest.raises(explain.ModelFormatError, match="holds weights but no architecture"):
        explain.load_model(tmp_path / "model" / "model.safetensors")


# --- Hugging Face ------------------------------------------------------------------------
@pytest.fixture
def hf_folder(tmp_path: Path) -> Path:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["good", "bad", "movie", "not", "great", "awful", "the", "was"]
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    tokenizer = BertTokenizerFast(vocab=str(vocab))  # transformers 5 ignores vocab_file
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words) + 5, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32, id2label={0: "neg", 1: "pos"},
                        label2id={"neg": 0, "pos": 1})
    net = BertForSequenceClassification(config).eval()
    folder = tmp_path / "hf"
    net.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def test_hugging_face_text_classifier(hf_folder: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    texts = ["the movie was good", "not great", "awful awful movie was bad"]
    reference = AutoModelForSequenceClassification.from_pretrained(hf_folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(hf_folder)
    expected = reference(**tokenizer(texts, padding=True, return_tensors="pt")).logits.detach().numpy()
    for source in (hf_folder, _zip_folder(hf_folder, tmp_path / "hf.zip")):
        model = explain.load_model(source)
        assert (model.format, model.modality, model.class_names) == ("huggingface", "text", ("neg", "pos"))
        np.testing.assert_allclose(model.logits(texts), expected, atol=1e-5)
    a = explain.attribute(model, texts, method="integrated_gradients", n_steps=100)
    assert a.tokens[1] == ("[CLS]", "not", "great", "[SEP]")
    assert a.values.shape == (3, 7)
    assert np.all(a.values[1, 4:] == 0)  # past the end of the second text
    np.testing.assert_allclose(a.values.sum(1), a.outputs - a.base_values, atol=5e-3)


def test_hugging_face_pickled_weights_are_refused(hf_folder: Path) -> None:
    (hf_folder / "model.safetensors").rename(hf_folder / "pytorch_model.bin")
    with pytest.raises(explain.UnsafeModelError, match="pickled weights"):
        explain.load_model(hf_folder)


# --- the trust policy --------------------------------------------------------------------
class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.write_text, (self.marker, "code ran"))


@pytest.mark.parametrize("suffix", [".pkl", ".pt", ".pth", ".bin"])
def test_pickles_are_refused_and_never_run(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "pwned.txt"
    raw = tmp_path / f"model{suffix}"
    raw.write_bytes(pickle.dumps(_Payload(marker)))
    checkpoint = tmp_path / f"checkpoint{suffix}"
    torch.save({"model": _Payload(marker)}, checkpoint)  # torch.save: a zip with data.pkl
    for path in (raw, checkpoint):
        with pytest.raises(explain.UnsafeModelError, match="never unpickles"):
            explain.load_model(path)
    assert not marker.exists()


def test_shared_mode_refuses_code_running_formats(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    explain.save_model(mlp, tmp_path / "m.pt2", tabular_x)
    torch.jit.save(torch.jit.script(mlp), tmp_path / "m.pt")
    monkeypatch.setenv("EXPLAIN_SHARED_MODE", "1")
    assert explain.shared_mode()
    for name in ("m.pt2", "m.pt"):
        with pytest.raises(explain.UnsafeModelError, match="shared mode.*safetensors weights, or ONNX"):
            explain.load_model(tmp_path / name)
    _registry_folder(tmp_path / "safe")
    assert explain.load_model(tmp_path / "safe").format == "safetensors"
    assert explain.load_model(tmp_path / "m.pt2", allow_code=True).format == "pt2"


# --- bad files ---------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"hello, world\n1,2\n", bytes(range(256)) * 4])
def test_unrecognised_files_list_the_supported_formats(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "model.xyz").write_bytes(content)
    with pytest.raises(explain.ModelFormatError, match="Supported formats"):
        explain.load_model(tmp_path / "model.xyz")


def test_missing_path_and_wrong_type() -> None:
    with pytest.raises(explain.InputError, match="No model file"):
        explain.load_model("/no/such/model.pt2")
    with pytest.raises(explain.InputError, match="Cannot read a model"):
        explain.load_model(42)


def test_zip_with_escaping_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("../../escape.txt", "x")
    with pytest.raises(explain.DataError, match="points outside the archive"):
        explain.load_model(path)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_hugging_face_image_classifier(tmp_path: Path) -> None:
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(0)
    config = ViTConfig(image_size=8, patch_size=4, num_channels=1, hidden_size=16, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=32, id2label={0: "a", 1: "b", 2: "c"},
                       label2id={"a": 0, "b": 1, "c": 2})
    net = ViTForImageClassification(config).eval()
    net.save_pretrained(tmp_path / "vit", safe_serialization=True)
    model = explain.load_model(tmp_path / "vit")
    assert (model.modality, model.input_shape, model.class_names) == ("image", (1, 8, 8), ("a", "b", "c"))
    x = torch.rand(4, 1, 8, 8)
    np.testing.assert_allclose(model.logits(x), net(x).logits.detach().numpy(), atol=1e-5)
    a = explain.attribute(model, x, method="integrated_gradients", n_steps=64)
    np.testing.assert_allclose(a.values.reshape(4, -1).sum(1), a.outputs - a.base_values, atol=1e-2)
