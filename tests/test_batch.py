"""A Batch keeps names, labels and row ids from the start, and results carry them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain.core.batch import prepare


@pytest.fixture
def data() -> explain.Dataset:
    x = np.random.default_rng(0).normal(size=(30, 5)).astype(np.float32)
    y = np.arange(30) % 3
    return explain.Dataset(x, y, feature_names=list("vwxyz"), class_names=["a", "b", "c"])


# --- Dataset.rows -----------------------------------------------------------------------
def test_a_fresh_dataset_numbers_its_rows(data: explain.Dataset) -> None:
    assert data.rows.tolist() == list(range(30))
    assert explain.Dataset(texts=["a", "b"]).rows.tolist() == [0, 1]


def test_row_ids_and_names_survive_slicing(data: explain.Dataset) -> None:
    part = data[10:20]
    assert part.rows.tolist() == list(range(10, 20))
    assert data[[3, 7]].rows.tolist() == [3, 7]
    assert part[[0, 5]].rows.tolist() == [10, 15] and part[2:4][1].rows.tolist() == [13]
    assert data[4].rows.tolist() == [4] and data[-1].rows.tolist() == [29]
    assert data[np.array([True] * 2 + [False] * 28)].rows.tolist() == [0, 1]
    assert part.feature_names == tuple("vwxyz") and part[[1]].class_names == ("a", "b", "c")
    assert part.y.tolist() == (np.arange(10, 20) % 3).tolist()


def test_text_rows_survive_slicing() -> None:
    texts = explain.Dataset(texts=[f"t{i}" for i in range(6)], y=np.arange(6) % 2)
    assert texts[[5, 1]].rows.tolist() == [5, 1] and texts[[5, 1]].texts == ["t5", "t1"]


def test_rows_must_match_the_examples() -> None:
    with pytest.raises(explain.DataError, match="rows"):
        explain.Dataset(np.zeros((3, 2)), rows=[0, 1])


# --- prepare ------------------------------------------------------------------------------
def test_prepare_keeps_the_datasets_names_labels_and_rows(mlp: nn.Module, data: explain.Dataset) -> None:
    batch = prepare(explain.Model(mlp), data[[12, 3, 7]])
    assert batch.feature_names == tuple("vwxyz") and batch.class_names == ("a", "b", "c")
    assert batch.labels.tolist() == [0, 0, 1] and batch.rows.tolist() == [12, 3, 7]
    part = batch.slice(1, 3)
    assert part.rows.tolist() == [3, 7] and part.labels.tolist() == [0, 1]
    assert part.feature_names == tuple("vwxyz") and part.x.shape == (2, 5)


def test_the_models_names_win(mlp: nn.Module, data: explain.Dataset) -> None:
    model = explain.Model(mlp, feature_names=list("ABCDE"), class_names=["p", "q", "r"])
    batch = prepare(model, data[:2])
    assert batch.feature_names == tuple("ABCDE") and batch.class_names == ("p", "q", "r")


def test_a_regression_takes_no_class_names_from_the_data(data: explain.Dataset) -> None:
    model = explain.Model(nn.Linear(5, 1), task="regression")
    batch = prepare(model, data[:2])
    assert batch.class_names is None and batch.feature_names == tuple("vwxyz")


def test_arrays_and_tensors_get_positions_and_the_models_names(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp, feature_names=list("ABCDE"))
    for inputs in (tabular_x, tabular_x.numpy(), tabular_x.tolist()):
        batch = prepare(model, inputs)
        assert batch.rows.tolist() == list(range(12)) and batch.labels is None
        assert batch.feature_names == tuple("ABCDE") and batch.class_names is None


def test_image_datasets_keep_their_rows(cnn: nn.Module, image_x: torch.Tensor) -> None:
    images = explain.Dataset(image_x.numpy(), np.arange(6) % 3)
    batch = prepare(explain.Model(cnn), images[[4, 0]])
    assert batch.rows.tolist() == [4, 0] and batch.x.shape == (2, 1, 8, 8)


# --- results carry them -----------------------------------------------------------------------
def test_attribute_on_a_slice_carries_the_datasets_names_and_the_slices_rows(
        mlp: nn.Module, data: explain.Dataset) -> None:
    model = explain.Model(mlp)
    attr = explain.attribute(model, data[10:14], method="saliency")
    assert attr.feature_names == tuple("vwxyz") and attr.class_names == ("a", "b", "c")
    assert attr.rows.tolist() == [10, 11, 12, 13] and attr[1:3].rows.tolist() == [11, 12]
    assert attr[2].rows.tolist() == [12] and not attr.rows.flags.writeable
    plain = explain.attribute(model, data.x[10:14], method="saliency")
    assert plain.rows.tolist() == [0, 1, 2, 3] and plain.feature_names is None
    assert np.array_equal(plain.values, attr.values)
    assert explain.Attribution(values=np.zeros((1, 2)), method="m", target=np.zeros(1), modality="tabular").rows is None


def test_shap_values_on_a_slice_carry_names_and_rows(mlp: nn.Module, data: explain.Dataset) -> None:
    model = explain.Model(mlp)
    exact = explain.shap_values(model, data[[20, 5]], background=data[:10])
    assert exact.params["algorithm"] == "exact"
    assert exact.feature_names == tuple("vwxyz") and exact.class_names == ("a", "b", "c")
    assert exact.rows.tolist() == [20, 5]
    gradient = explain.shap_values(model, data[[20, 5]], background=data[:10], algorithm="gradient")
    assert gradient.feature_names == tuple("vwxyz") and gradient.rows.tolist() == [20, 5]


def test_global_importance_takes_the_datasets_names(mlp: nn.Module, data: explain.Dataset) -> None:
    g = explain.global_importance(explain.Model(mlp), data[5:25], method="saliency", batch_size=7)
    assert g.feature_names == tuple("vwxyz") and g.class_names == ("a", "b", "c")


def test_uncertainty_family_results_carry_the_rows(data: explain.Dataset) -> None:
    model = explain.Model(nn.Linear(5, 3))
    u = explain.uncertainty(model, data[10:30], method="softmax")
    assert u.rows.tolist() == list(range(10, 30)) and u.class_names == ("a", "b", "c")
    assert set(u.most_uncertain(3).tolist()) <= set(range(10, 30))
    assert explain.calibration(model, data[10:30]).rows.tolist() == list(range(10, 30))
    cp = explain.conformal(model, data[:20], alpha=0.2)
    assert cp.evaluate(data[[25, 21]]).rows.tolist() == [25, 21]
