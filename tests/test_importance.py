"""explain.global_importance: known answers, equality with explain.attribute, batch-size
independence, progress, flat memory, text per token, the result type and its plots."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import tracemalloc
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import explain
from explain import plots
from explain.errors import DataError, InputError, MethodError
from explain.results import GlobalImportance

W = np.array([2.0, -3.0, 0.5])


@pytest.fixture
def linear() -> explain.Model:
    net = nn.Linear(3, 1)
    with torch.no_grad():
        net.weight[:] = torch.from_numpy(W[None].astype(np.float32))
        net.bias[:] = 0.7
    return explain.Model(net, task="regression", feature_names=["a", "b", "c"])


@pytest.fixture
def rows() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(500, 3)).astype(np.float32)


def _reference(model: explain.Model, x: object, **kwargs: object) -> np.ndarray:
    return explain.attribute(model, x, **kwargs).values.astype(np.float64)


# --- known answers -------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["input_x_gradient", "integrated_gradients"])
def test_linear_model_closed_form(linear: explain.Model, rows: np.ndarray, method: str) -> None:
    # a linear model's attribution is w * x (IG from a zero baseline as well)
    g = explain.global_importance(linear, rows, method=method, batch_size=64)
    x = rows.astype(np.float64)
    np.testing.assert_allclose(g.mean_abs, np.abs(W) * np.abs(x).mean(0), rtol=1e-5)
    np.testing.assert_allclose(g.mean, W * x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g.std, np.abs(W) * x.std(0), rtol=1e-5)
    np.testing.assert_allclose(g.second_moment, W**2 * (x**2).mean(0), rtol=1e-5)
    assert g.n == 500 and g.method == method and g.modality == "tabular"
    assert g.feature_names == ("a", "b", "c") and g.top(1) == [("b", pytest.approx(3 * np.abs(x[:, 1]).mean()))]


def test_linear_saliency_is_the_weights(linear: explain.Model, rows: np.ndarray) -> None:
    g = explain.global_importance(linear, rows, method="saliency", batch_size=7)
    np.testing.assert_allclose(g.mean_abs, np.abs(W), rtol=1e-6)
    np.testing.assert_allclose(g.std, 0.0, atol=1e-6)


# --- the same answer as explain.attribute ----------------------------------------------------
@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "deeplift", "deeplift_shap",
                                    "feature_ablation", "guided_backprop"])
def test_equals_attribute_tabular(mlp: nn.Module, method: str) -> None:
    model = explain.Model(mlp, task="classification")
    x = torch.randn(150, 5, generator=torch.Generator().manual_seed(4))
    g = explain.global_importance(model, x, method=method, batch_size=40)
    values = _reference(model, x, method=method)
    np.testing.assert_allclose(g.mean_abs, np.abs(values).mean(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g.mean, values.mean(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g.std, values.std(0), rtol=1e-5, atol=1e-7)
    assert g.target_counts.sum() == 150


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "grad_cam", "occlusion"])
def test_equals_attribute_image(cnn: nn.Module, method: str) -> None:
    model = explain.Model(cnn, task="classification", modality="image", input_shape=(1, 8, 8))
    x = torch.rand(30, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    g = explain.global_importance(model, x, method=method, batch_size=8)
    values = _reference(model, x, method=method)
    assert g.mean_abs.shape == (1, 8, 8) and g.feature_names is None
    np.testing.assert_allclose(g.mean_abs, np.abs(values).mean(0), rtol=1e-6, atol=1e-7)
    assert plots.importance_map(g).data[0].type == "heatmap"


def test_data_dependent_defaults_are_taken_over_all_rows(mlp: nn.Module) -> None:
    model = explain.Model(mlp, task="classification")
    x = torch.randn(90, 5, generator=torch.Generator().manual_seed(6))
    x[80:] *= 10  # the last chunk alone changes the range and the mean
    for kwargs in ({"method": "smoothgrad"}, {"method": "integrated_gradients", "baseline": "mean"},
                   {"method": "gradient_shap"}, {"method": "deeplift_shap"}):
        g = explain.global_importance(model, x, batch_size=30, **kwargs)
        values = _reference(model, x, batch_size=30, **kwargs)
        np.testing.assert_allclose(g.mean_abs, np.abs(values).mean(0), rtol=1e-5, atol=1e-6, err_msg=str(kwargs))
    assert g.params["baseline"] == "zeros" and g.params["batch_size"] == 30


def test_targets_one_per_row_are_sliced(mlp: nn.Module) -> None:
    model = explain.Model(mlp, task="classification")
    x = torch.randn(50, 5, generator=torch.Generator().manual_seed(7))
    target = np.arange(50) % 3
    g = explain.global_importance(model, x, method="saliency", target=target, batch_size=16)
    np.testing.assert_allclose(g.mean_abs, np.abs(_reference(model, x, method="saliency", target=target)).mean(0),
                               rtol=1e-6)
    assert g.target_counts.tolist() == np.bincount(target).tolist()
    fixed = explain.global_importance(model, x, method="saliency", target=2, batch_size=16)
    assert fixed.target_counts.tolist() == [0, 0, 50]


@pytest.mark.parametrize("batch_size", [1, 7, 64, 1000])
def test_batch_size_does_not_change_the_result(mlp: nn.Module, batch_size: int) -> None:
    model = explain.Model(mlp, task="classification")
    x = torch.randn(100, 5, generator=torch.Generator().manual_seed(8))
    g = explain.global_importance(model, x, method="integrated_gradients", batch_size=batch_size, n_steps=10)
    whole = explain.global_importance(model, x, method="integrated_gradients", batch_size=100, n_steps=10)
    for name in ("mean_abs", "mean", "std"):
        np.testing.assert_allclose(getattr(g, name), getattr(whole, name), rtol=1e-6, atol=1e-7)


def test_inputs_of_every_kind(linear: explain.Model, rows: np.ndarray, tmp_path: Path) -> None:
    expected = explain.global_importance(linear, rows, method="input_x_gradient").mean_abs
    np.save(tmp_path / "x.npy", rows)
    data = explain.Dataset(rows, np.zeros(len(rows), dtype=int), feature_names=["p", "q", "r"],
                           class_names=["only"])
    unnamed = explain.Model(linear.network, task="regression")
    for inputs in (torch.from_numpy(rows), pd.DataFrame(rows, columns=list("abc")), rows.tolist(),
                   np.load(tmp_path / "x.npy", mmap_mode="r"), data):
        g = explain.global_importance(unnamed, inputs, method="input_x_gradient", batch_size=64)
        np.testing.assert_allclose(g.mean_abs, expected, rtol=1e-6)
    assert g.feature_names == ("p", "q", "r")  # names from the Dataset where the model has none
    one = explain.global_importance(linear, rows[0], method="input_x_gradient")
    assert one.n == 1
    np.testing.assert_allclose(one.mean_abs, np.abs(W * rows[0]), rtol=1e-6)


def test_progress_reports_each_chunk(linear: explain.Model, rows: np.ndarray) -> None:
    seen: list[float] = []
    explain.global_importance(linear, rows, method="saliency", batch_size=128, progress=seen.append)
    assert seen == [128 / 500, 256 / 500, 384 / 500, 1.0]


def test_stochastic_methods_repeat_with_the_seed(mlp: nn.Module) -> None:
    model = explain.Model(mlp, task="classification")
    x = torch.randn(60, 5, generator=torch.Generator().manual_seed(9))
    a = explain.global_importance(model, x, method="smoothgrad", batch_size=25, seed=3)
    b = explain.global_importance(model, x, method="smoothgrad", batch_size=25, seed=3)
    np.testing.assert_array_equal(a.mean_abs, b.mean_abs)
    same = _reference(model, x, method="smoothgrad", batch_size=25, seed=3)  # the same noise, drawn in order
    np.testing.assert_allclose(a.mean_abs, np.abs(same).mean(0), rtol=1e-5)


# --- memory ----------------------------------------------------------------------------------
def _traced_peak(run: object) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        run()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_rows_grow() -> None:
    torch.manual_seed(0)
    model = explain.Model(nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 2)), task="classification")
    x = np.random.default_rng(0).normal(size=(50_000, 20)).astype(np.float32)
    full = x.size * 4  # the float32 attribution array of all rows: 4 MB
    explain.global_importance(model, x[:10], method="saliency")  # import Captum before tracing

    small = _traced_peak(lambda: explain.global_importance(model, x[:5_000], method="saliency", batch_size=256))
    large = _traced_peak(lambda: explain.global_importance(model, x, method="saliency", batch_size=256))
    materialised = _traced_peak(lambda: explain.attribute(model, x[:10_000], method="saliency", batch_size=256))
    assert materialised > full / 5, "tracemalloc sees the arrays an Attribution holds"
    print(f"peaks: 5k rows {small} B, 50k rows {large} B, attribute on 10k {materialised} B, full {full} B")
    assert large < full / 10, (large, full)
    assert large < 2 * small + 64 * 1024, (small, large)


# --- text: one entry per token string --------------------------------------------------------
@pytest.fixture
def bert(tmp_path: Path) -> explain.Model:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["good", "bad", "movie", "not", "great", "the", "was"]
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    tokenizer = BertTokenizerFast(vocab=str(tmp_path / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=12, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    net = BertForSequenceClassification(config).eval()
    return explain.Model(net, modality="text", tokenizer=tokenizer)


@pytest.mark.slow
def test_text_is_aggregated_per_token(bert: explain.Model) -> None:
    texts = ["the movie was good", "not great", "bad bad movie", "the great movie was not bad"] * 5
    g = explain.global_importance(bert, texts, method="saliency", batch_size=4)
    attr = explain.attribute(bert, texts, method="saliency", batch_size=4)
    per_token: dict[str, list[float]] = defaultdict(list)
    for row, tokens in zip(attr.values, attr.tokens):
        for value, token in zip(row, tokens):
            per_token[token].append(float(value))
    assert g.feature_names[:3] == ("[CLS]", "the", "movie")  # first occurrence order
    assert set(g.feature_names) == set(per_token) and g.n == 20
    for j, token in enumerate(g.feature_names):
        np.testing.assert_allclose(g.mean_abs[j], np.mean(np.abs(per_token[token])), rtol=1e-5)
        assert g.counts[j] == len(per_token[token])
    fig = plots.importance_bars(g, min_count=10)
    assert set(fig.data[0].y) == {t for t, v in per_token.items() if len(v) >= 10}


# --- the result and its plots ----------------------------------------------------------------
def test_result_is_frozen_picklable_and_json(linear: explain.Model, rows: np.ndarray) -> None:
    g = explain.global_importance(linear, rows, method="saliency")
    assert isinstance(g, GlobalImportance) and not g.mean_abs.flags.writeable
    assert pickle.loads(pickle.dumps(g)).top(3) == g.top(3)
    data = json.loads(g.to_json())
    assert data["n"] == 500 and data["method"] == "saliency" and len(data["mean_abs"]) == 3
    fig = g.plot(top_k=2)
    assert list(fig.data[0].y) == ["b", "a"] and "500" in fig.layout.title.text
    json.loads(fig.to_json())


def test_plot_errors_name_the_fix() -> None:
    g = GlobalImportance(mean_abs=np.ones(2), mean=np.zeros(2), std=np.zeros(2), n=1, method="s",
                         modality="tabular")
    with pytest.raises(InputError, match="top_k"):
        plots.importance_bars(g, top_k=0)
    with pytest.raises(InputError, match="importance_bars instead"):
        plots.importance_map(g)
    with pytest.raises(InputError, match="global_importance"):
        plots.importance_bars(np.ones(2))  # type: ignore[arg-type]


# --- errors ----------------------------------------------------------------------------------
def test_errors_say_what_to_do(linear: explain.Model, rows: np.ndarray) -> None:
    with pytest.raises(InputError, match="explain.Model"):
        explain.global_importance(linear.network, rows)
    with pytest.raises(MethodError, match="Did you mean"):
        explain.global_importance(linear, rows, method="saliancy")
    with pytest.raises(InputError, match="batch_size"):
        explain.global_importance(linear, rows, batch_size=0)
    with pytest.raises(InputError, match="n_steps"):
        explain.global_importance(linear, rows, method="integrated_gradients", steps=5)
    with pytest.raises(InputError, match="one per example"):
        explain.global_importance(linear, rows, target=[0, 0])
    with pytest.raises(InputError, match="0 rows"):
        explain.global_importance(linear, rows[:0])
    with pytest.raises(DataError, match="features"):
        explain.global_importance(linear, np.ones((10, 4)))
    with pytest.raises(DataError, match="image data"):
        explain.global_importance(linear, explain.Dataset(np.ones((2, 1, 3, 3))))


def test_import_stays_light() -> None:
    code = ("import sys, explain, explain.attribution.streaming, explain.plots.importance; "
            "print(sorted(m for m in ('captum', 'shap', 'transformers', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the public accumulator ---------------------------------------------------------------
def test_stream_of_a_dataloader_equals_global_importance_and_attribute(mlp: nn.Module) -> None:
    x = torch.randn(300, 5, generator=torch.Generator().manual_seed(3))
    model = explain.Model(mlp, feature_names=list("abcde"))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, torch.zeros(300)), batch_size=64)
    stream = explain.ImportanceStream(model, method="integrated_gradients")
    for features, _labels in loader:
        stream.update(features)
    streamed = stream.compute()
    whole = explain.global_importance(model, x, method="integrated_gradients")
    values = explain.attribute(model, x, method="integrated_gradients").values
    assert streamed.n == 300 and streamed.feature_names == ("a", "b", "c", "d", "e")
    np.testing.assert_allclose(streamed.mean_abs, np.abs(values).mean(axis=0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(streamed.mean_abs, whole.mean_abs, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(streamed.std, values.std(axis=0), rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(streamed.target_counts, whole.target_counts)


def test_stream_adds_results_made_elsewhere_and_says_what_is_wrong(mlp: nn.Module) -> None:
    model = explain.Model(mlp)
    x = torch.randn(40, 5, generator=torch.Generator().manual_seed(4))
    stream = explain.ImportanceStream(model, method="saliency")
    with pytest.raises(InputError, match="No rows yet"):
        stream.compute()
    stream.add(explain.attribute(model, x[:25], method="saliency")).add(explain.attribute(model, x[25:], method="saliency"))
    np.testing.assert_allclose(stream.compute().mean_abs,
                               np.abs(explain.attribute(model, x, method="saliency").values).mean(0), rtol=1e-6)
    with pytest.raises(InputError, match="accumulates saliency"):
        stream.add(explain.attribute(model, x, method="integrated_gradients"))
    with pytest.raises(InputError, match="mean example as an array"):
        explain.ImportanceStream(model, method="integrated_gradients", baseline="mean").update(x)
