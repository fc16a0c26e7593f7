"""One scoring path for the app, the audit and the CLI; labels matched with outputs by
name, as indices, or in sorted order (said where it is assumed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score
from torch import nn

import explain
from explain.app import tasks
from explain.cli import main
from explain.diagnostics.scoring import score


def _one_hot_model() -> nn.Module:
    """Predicts the index of the largest of three features."""
    net = nn.Linear(3, 3)
    with torch.no_grad():
        net.weight.copy_(torch.eye(3))
        net.bias.zero_()
    return net.eval()


def _string_labelled(tmp_path: Path, wrong: int = 2) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """A plain .pt2 without class names and a CSV whose labels are strings."""
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 3, 40)
    x = np.eye(3, dtype=np.float32)[classes] + rng.uniform(0, 0.1, (40, 3)).astype(np.float32)
    truth = classes.copy()
    truth[:wrong] = (truth[:wrong] + 1) % 3  # mislabelled rows: a known accuracy below 100%
    names = np.array(["type_a", "type_b", "type_c"])
    frame = pd.DataFrame(x, columns=["f0", "f1", "f2"]).assign(label=names[truth])
    frame.to_csv(tmp_path / "data.csv", index=False)
    torch.export.save(torch.export.export(_one_hot_model(), (torch.from_numpy(x[:2]),)), tmp_path / "m.pt2")
    return tmp_path / "m.pt2", tmp_path / "data.csv", truth, classes


def test_string_labels_score_the_same_in_the_app_the_audit_and_the_cli(tmp_path: Path) -> None:
    model_path, data_path, truth, predicted = _string_labelled(tmp_path)
    expected = accuracy_score(truth, predicted)  # 38 / 40
    model = explain.load_model(model_path)
    data = explain.load_dataset(data_path, target="label")
    app = tasks.score(model, data, progress=lambda _: None)  # was 0.0: names "0".."2" vs "type_a"...
    audit = explain.audit(model, data, sections=["performance"]).section("performance")
    assert main(["audit", str(model_path), str(data_path), "--target", "label", "--sections", "performance",
                 "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json")]) == 0
    cli = json.loads((tmp_path / "r.json").read_text())
    cli_metrics = next(s for s in cli["sections"] if s["name"] == "performance")["metrics"]
    assert app["value"] == audit.metrics["accuracy"] == cli_metrics["accuracy"] == pytest.approx(expected)
    said = "labels matched with outputs in sorted order: 'type_a' → 0, 'type_b' → 1, 'type_c' → 2"
    assert app["mapping"] == said and any(said in f for f in audit.findings)


def test_class_names_match_by_name_and_say_nothing(tmp_path: Path) -> None:
    model_path, data_path, truth, predicted = _string_labelled(tmp_path, wrong=0)
    model = explain.load_model(model_path, class_names=["type_c", "type_a", "type_b"])  # another order
    result = score(model, explain.load_dataset(data_path, target="label"))
    named = np.array(["type_c", "type_a", "type_b"])[predicted]  # output 0 is now type_c
    assert result.value == pytest.approx(np.mean(named == np.array(["type_a", "type_b", "type_c"])[truth]))
    assert result.value < 0.5
    assert result.mapping is None


def test_one_based_integer_labels_are_mapped_in_sorted_order() -> None:
    x = np.eye(3, dtype=np.float32)
    data = explain.Dataset(x, np.array([0, 1, 2]), class_names=["1", "2", "3"])  # labels 1, 2, 3
    result = score(explain.Model(_one_hot_model(), modality="tabular"), data)
    assert result.value == 1.0 and result.mapping.endswith("'1' → 0, '2' → 1, '3' → 2")


def test_labels_that_cannot_be_matched_say_how_and_the_app_still_loads() -> None:
    x = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    data = explain.Dataset(x, np.array([0, 1, 2, 3]), class_names=["a", "b", "c", "d"])
    model = explain.Model(_one_hot_model(), modality="tabular")
    with pytest.raises(explain.DataError, match="4 values.*3 outputs.*class_names"):
        score(model, data)
    shown = tasks.score(model, data, progress=lambda _: None)
    assert shown["value"] is None and "class_names" in shown["note"]


def test_integer_labels_are_output_indices_as_before() -> None:
    x = np.eye(3, dtype=np.float32)[[0, 1, 2, 1]]
    result = score(explain.Model(_one_hot_model(), modality="tabular"), explain.Dataset(x, np.array([0, 1, 2, 2])))
    assert result.value == 0.75 and result.mapping is None


def test_regression_scores_equal_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3)).astype(np.float32)
    net = nn.Linear(3, 1)
    model = explain.Model(net, task="regression", modality="tabular")
    y = model.predict(x) + rng.normal(scale=0.3, size=50)
    result = score(model, explain.Dataset(x, y.astype(np.float64), task="regression"))
    assert result.name == "R²"
    assert result.value == pytest.approx(r2_score(y, model.predict(x)), abs=1e-6)
    assert result.metrics["mae"] == pytest.approx(mean_absolute_error(y, model.predict(x)), abs=1e-6)
