"""A model file without explain's metadata: its modality comes from the file itself
(example input of .pt2 and ONNX, first layer of TorchScript), or loading asks for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import explain


def _plain_pt2(module: nn.Module, example: torch.Tensor, path: Path) -> Path:
    """Export the way a user does without explain: no metadata, fixed example batch."""
    torch.export.save(torch.export.export(module, (example,)), path)
    return path


def test_a_plainly_exported_cnn_loads_as_an_image_model(tmp_path: Path, cnn: nn.Module, image_x: torch.Tensor) -> None:
    model = explain.load_model(_plain_pt2(cnn, image_x[:1], tmp_path / "cnn.pt2"))
    assert model.modality == "image" and model.input_shape == (1, 8, 8)
    attr = explain.attribute(model, image_x, method="saliency")  # failed: "Tabular inputs must be 2-D"
    reference = explain.attribute(explain.Model(cnn), image_x, method="saliency")
    np.testing.assert_allclose(attr.values, reference.values, atol=1e-6)


def test_a_plainly_exported_mlp_loads_as_a_table(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.load_model(_plain_pt2(mlp, tabular_x, tmp_path / "mlp.pt2"))
    assert model.modality == "tabular" and model.input_shape == (5,)


def test_torchscript_modality_comes_from_the_first_layer(tmp_path: Path, cnn: nn.Module, mlp: nn.Module,
                                                        image_x: torch.Tensor) -> None:
    torch.jit.save(torch.jit.trace(cnn, image_x), tmp_path / "cnn.pt")
    torch.jit.save(torch.jit.script(mlp), tmp_path / "mlp.pt")
    assert explain.load_model(tmp_path / "cnn.pt").modality == "image"
    table = explain.load_model(tmp_path / "mlp.pt")
    assert table.modality == "tabular" and table.input_shape == (5,)  # from the weight's shape


def test_onnx_modality_comes_from_the_graph_input(tmp_path: Path, cnn: nn.Module, image_x: torch.Tensor) -> None:
    pytest.importorskip("onnx")
    path = tmp_path / "cnn.onnx"
    torch.onnx.export(cnn, (image_x,), path, input_names=["x"], dynamic_axes={"x": {0: "n"}}, dynamo=False)
    model = explain.load_model(path)
    assert model.modality == "image" and model.input_shape == (1, 8, 8)
    np.testing.assert_allclose(model.logits(image_x), cnn(image_x).detach().numpy(), atol=1e-5)


class _Sequence(nn.Module):
    """Takes (batch, channels, length): neither a table nor an image."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).mean(dim=2)


def test_an_undecided_input_asks_for_the_modality(tmp_path: Path) -> None:
    path = _plain_pt2(_Sequence().eval(), torch.zeros(2, 2, 10), tmp_path / "seq.pt2")
    with pytest.raises(explain.ModelFormatError, match=r"shape \(batch, 2, 10\).*modality="):
        explain.load_model(path)


def test_integer_ids_point_to_a_hugging_face_folder(tmp_path: Path) -> None:
    net = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2)).eval()
    path = _plain_pt2(net, torch.zeros(2, 3, dtype=torch.long), tmp_path / "ids.pt2")
    with pytest.raises(explain.ModelFormatError, match="integer ids.*Hugging Face"):
        explain.load_model(path)


class _Weights(nn.Module):
    """A layer written by hand: its parameter tells nothing about the input."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(2, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w.T


def test_the_user_says_what_the_first_layer_does_not(tmp_path: Path) -> None:
    torch.jit.save(torch.jit.script(_Weights()), tmp_path / "w.pt")
    with pytest.raises(explain.ModelFormatError, match="no layer with weights.*modality="):
        explain.load_model(tmp_path / "w.pt")
    model = explain.load_model(tmp_path / "w.pt", modality="tabular", input_shape=[4])
    assert model.predict(np.ones((3, 4), dtype=np.float32)).tolist() == [0, 0, 0]


def test_metadata_wins_over_the_shape(tmp_path: Path, mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    explain.save_model(mlp, tmp_path / "m.pt2", tabular_x, modality="tabular", class_names=["a", "b", "c"])
    assert explain.load_model(tmp_path / "m.pt2", modality="tabular").class_names == ("a", "b", "c")


def test_a_live_cnn_is_an_image_model(cnn: nn.Module) -> None:
    assert explain.Model(cnn).modality == "image"
    assert explain.Model(nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 2))).input_shape == (3,)


def test_save_model_reads_the_modality_from_the_example(tmp_path: Path, cnn: nn.Module, image_x: torch.Tensor) -> None:
    explain.save_model(cnn, tmp_path / "cnn.pt2", image_x)  # recorded tabular before, unreadable
    assert explain.load_model(tmp_path / "cnn.pt2").modality == "image"
    with pytest.raises(explain.InputError, match=r"shape \(2, 2, 10\).*modality="):
        explain.save_model(_Sequence().eval(), tmp_path / "seq.pt2", torch.zeros(2, 2, 10))
