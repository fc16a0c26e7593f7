"""Rows per batch from the memory budget: the rule with hand-computed answers, the setting
(EXPLAIN_MEMORY_BUDGET) and its errors, what the entry points choose by default, that no
forward pass gets more rows than the budget holds, and that the answers do not change."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain.core import budget as _budget
from explain.core.batch import prepare
from explain.core.budget import (
    ENV_VAR,
    batch_rows,
    memory_budget,
    parse_size,
    row_bytes,
    rows_per_batch,
)
from explain.errors import InputError

MiB = 2**20


# --- the rule ---------------------------------------------------------------------------
def test_rows_per_batch_hand_computed() -> None:
    assert rows_per_batch(4 * 2**10, 50, budget=MiB) == 5  # 1 MiB / (4 KiB x 50) = 5.12
    assert rows_per_batch(4 * 2**10, 1, budget=MiB) == 256  # 1 MiB / 4 KiB
    assert rows_per_batch(1000, 10, budget=10_000) == 1  # exactly one row fits
    assert rows_per_batch(1000, 10, budget=9_999) == 1  # none fits: still at least one
    assert rows_per_batch(100, 1, n=30, budget=MiB) == 30  # never more than there are
    assert rows_per_batch(100, 1, n=0, budget=MiB) == 1


def test_the_default_budget_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert memory_budget() == _budget.DEFAULT_BUDGET == 64 * MiB
    assert memory_budget(torch.device("cpu")) == 64 * MiB
    assert rows_per_batch(MiB) == 64
    monkeypatch.setenv(ENV_VAR, "512MiB")
    assert memory_budget() == 512 * MiB and rows_per_batch(MiB) == 512
    monkeypatch.setenv(ENV_VAR, " 1GB ")
    assert memory_budget() == 10**9
    monkeypatch.setenv(ENV_VAR, "")
    assert memory_budget() == _budget.DEFAULT_BUDGET


@pytest.mark.parametrize("text, expected", [
    ("4096", 4096), ("512MB", 512 * 10**6), ("512mb", 512 * 10**6), ("2GiB", 2 * 2**30),
    ("1.5 GiB", 3 * 2**29), ("64 KiB", 65536), ("1e9", 10**9), ("100B", 100),
])
def test_sizes(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["lots", "-5MB", "0", "0.1", "12 parsecs", "nan", "1,000", "MB"])
def test_bad_settings_name_the_fix(text: str, monkeypatch: pytest.MonkeyPatch,
                                   mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    monkeypatch.setenv(ENV_VAR, text)
    with pytest.raises(InputError, match=f"{ENV_VAR}.*'512MB', '2GiB'"):
        memory_budget()
    with pytest.raises(InputError, match=ENV_VAR):
        explain.attribute(explain.Model(mlp), tabular_x, method="saliency")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "64"])
def test_bad_batch_sizes_are_refused(bad: object, mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp)
    with pytest.raises(InputError, match="batch_size must be a positive integer or None"):
        explain.attribute(model, tabular_x, batch_size=bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="batch_size"):
        explain.global_importance(model, tabular_x, batch_size=bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="batch_size"):
        model.logits(tabular_x, batch_size=bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="rows_per_call"):
        explain.shap_values(model, tabular_x, rows_per_call=bad)  # type: ignore[arg-type]


# --- what a row costs -------------------------------------------------------------------
def test_row_bytes_of_a_linear_layer_hand_computed() -> None:
    # input 10 floats (40 B) + output 20 floats (80 B); the weight's transpose is a view
    model = explain.Model(nn.Linear(10, 20), task="regression")
    batch = prepare(model, torch.ones(5, 10))
    assert row_bytes(model, batch) == 120
    assert row_bytes(model, batch, gradients=True) == 240
    assert batch_rows(model, batch) == 5 and batch_rows(model, batch, 2) == 2


def test_measuring_leaves_the_generators_and_the_model_alone() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5)).train()
    model = explain.Model(net, task="regression")
    net.train()  # dropout on: the measuring pass draws masks
    state = torch.get_rng_state()
    row_bytes(model, prepare(model, torch.ones(3, 4)))
    assert torch.equal(torch.get_rng_state(), state)


# --- what the entry points choose ---------------------------------------------------------
class _Rows:
    """The most rows any forward pass of a network saw (a proxy for its peak memory)."""

    def __init__(self, net: nn.Module) -> None:
        self.most = 0
        self.handle = net.register_forward_pre_hook(self._seen)

    def _seen(self, _module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        self.most = max(self.most, int(args[0].shape[0]))


@pytest.fixture
def wine_sized() -> tuple[explain.Model, torch.Tensor]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 3)).eval()
    return explain.Model(net), torch.randn(3560, 13, generator=torch.Generator().manual_seed(1))


@pytest.fixture
def big_images() -> tuple[explain.Model, torch.Tensor]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, stride=2, padding=1),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4)).eval()
    model = explain.Model(net, modality="image", input_shape=(3, 64, 64))
    return model, torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(2))


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_VAR, raising=False)
    yield


def test_a_big_table_goes_in_one_or_a_few_batches(budget: None, wine_sized: tuple[explain.Model, torch.Tensor]) -> None:
    model, x = wine_sized
    saliency = explain.attribute(model, x, method="saliency")
    assert saliency.params["batch_size"] == 3560  # one batch
    ig = explain.attribute(model, x, method="integrated_gradients")
    per_row = row_bytes(model, prepare(model, x), gradients=True)
    assert per_row == 2 * (52 + 256 + 256 + 128 + 128 + 12)  # inputs, each layer's output; x2: gradients
    assert ig.params["batch_size"] == rows_per_batch(per_row, 50, n=3560) == 806  # 5 batches of 64 MiB
    explicit = explain.attribute(model, x, method="integrated_gradients", batch_size=3560)
    np.testing.assert_allclose(ig.values, explicit.values, rtol=1e-5, atol=1e-6)


def test_large_images_with_integrated_gradients_go_in_bounded_passes(
        monkeypatch: pytest.MonkeyPatch, big_images: tuple[explain.Model, torch.Tensor]) -> None:
    model, x = big_images
    per_row = row_bytes(model, prepare(model, x), gradients=True)
    monkeypatch.setenv(ENV_VAR, str(per_row * 20))  # 20 model rows, fewer than one image's 50 steps
    seen = _Rows(model.network)
    a = explain.attribute(model, x, method="integrated_gradients")
    assert a.params["batch_size"] == 1 and a.params["pass_rows"] == 20  # 4 batches, 3 passes each
    assert seen.most <= 20  # no pass holds more rows than the budget (one Captum call: 4 x 50)
    seen.handle.remove()
    whole = explain.attribute(model, x, method="integrated_gradients", batch_size=4)
    np.testing.assert_allclose(a.values, whole.values, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(a.delta, whole.delta, atol=1e-5)


SHORTER = {"integrated_gradients": {"n_steps": 10}, "occlusion": {"window": (3, 16, 16), "stride": (3, 8, 8)}}


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "deeplift", "occlusion",
                                    "feature_ablation", "grad_cam"])
def test_default_answers_equal_explicit_batch_sizes(monkeypatch: pytest.MonkeyPatch, method: str,
                                                    big_images: tuple[explain.Model, torch.Tensor]) -> None:
    model, x = big_images
    options = SHORTER.get(method, {})
    monkeypatch.setenv(ENV_VAR, "4MiB")  # a few rows per batch, and split passes
    small = explain.attribute(model, x, method=method, **options)
    assert small.params["batch_size"] < 4
    for batch_size in (1, 4):
        other = explain.attribute(model, x, method=method, batch_size=batch_size, **options)
        np.testing.assert_allclose(small.values, other.values, rtol=1e-4, atol=1e-6)


def test_stochastic_defaults_repeat_and_match_the_same_explicit_batch(
        budget: None, mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp)
    a = explain.attribute(model, tabular_x, method="smoothgrad", seed=3)
    b = explain.attribute(model, tabular_x, method="smoothgrad", seed=3, batch_size=a.params["batch_size"])
    np.testing.assert_array_equal(a.values, b.values)
    g = explain.global_importance(model, tabular_x, method="smoothgrad", seed=3)
    assert g.params["batch_size"] == a.params["batch_size"]  # the same rule: the same noise
    np.testing.assert_allclose(g.mean_abs, np.abs(a.values).mean(0), rtol=1e-5)


def test_shap_model_calls_stay_within_the_budget(monkeypatch: pytest.MonkeyPatch, mlp: nn.Module,
                                                 tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp)
    reference = explain.shap_values(model, tabular_x, rows_per_call=100_000)
    per_row = row_bytes(model, prepare(model, tabular_x))
    monkeypatch.setenv(ENV_VAR, str(per_row * 64))
    seen = _Rows(mlp)
    sv = explain.shap_values(model, tabular_x)
    assert 12 < seen.most <= 64  # exact SHAP: 32 coalitions x 12 background rows, in calls of 64 rows
    np.testing.assert_allclose(sv.values, reference.values, atol=1e-6)


def test_dataset_wide_passes_stay_within_the_budget(monkeypatch: pytest.MonkeyPatch, mlp: nn.Module) -> None:
    model = explain.Model(mlp)
    x = torch.randn(300, 5, generator=torch.Generator().manual_seed(3))
    y = model.predict(x)
    whole = model.logits(x, batch_size=300)
    per_row = row_bytes(model, prepare(model, x))
    monkeypatch.setenv(ENV_VAR, str(per_row * 40))  # 40 rows per forward pass
    seen = _Rows(mlp)
    np.testing.assert_allclose(model.logits(x), whole, atol=1e-6)
    explain.calibration(model, x, y)
    explain.conformal(model, x, y)
    explain.uncertainty(model, x, method="softmax")
    attr = explain.attribute(model, x[:20], method="saliency", abs=False)
    explain.evaluate(model, x[:20], attr, n_random=1, infidelity_samples=0, sensitivity_samples=0)
    assert seen.most <= 40
    explain.robustness(model, x[:50], y[:50], steps=2, epsilons=[0.1], refine=0, explain_method=None)
    assert seen.most <= 40
