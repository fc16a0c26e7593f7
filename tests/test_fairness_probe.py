"""The fairness probes that run the model again: the flip probe of a sensitive input
(a model that uses it flips decisions, one that ignores it flips none) and explanations per
group (equal to explain.global_importance on each group's rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

import explain


def _linear(weights: list[float], names: list[str], bias: float = 0.0) -> explain.Model:
    """A binary classifier whose class-1 logit is ``weights @ x + bias`` (class 0: 0)."""
    net = torch.nn.Linear(len(weights), 2)
    with torch.no_grad():
        net.weight.zero_()
        net.weight[1] = torch.tensor(weights)
        net.bias.copy_(torch.tensor([0.0, bias]))
    return explain.Model(net, modality="tabular", feature_names=names)


def _applicants(n: int = 200, seed: int = 0) -> explain.Dataset:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.normal(size=n), rng.integers(0, 2, n)]).astype(np.float32)
    meta = pd.DataFrame({"region": rng.choice(["north", "south"], n)})
    return explain.Dataset(x, (x[:, 0] > 0).astype(int), feature_names=["income", "debt", "sex"], metadata=meta)


def test_a_model_that_uses_the_sensitive_input_flips_decisions() -> None:
    data = _applicants()
    model = _linear([1.0, 0.0, 3.0], ["income", "debt", "sex"], bias=-1.5)  # sex weighs 3
    flips = explain.fairness(model, data, sensitive="sex", bootstrap=0).flips
    x = data.x.astype(np.float64)
    before = (x @ [1.0, 0, 3] - 1.5) > 0
    after = (x[:, 0] + 3 * (1 - x[:, 2]) - 1.5) > 0  # the binary column swapped
    assert flips.columns == ("sex",) and flips.values == ("0", "1")
    assert flips.changed_rows == int(np.sum(before != after)) and flips.changed_rows > 100
    assert flips.pairs == 200 and flips.changed_pairs == flips.changed_rows
    assert flips.rate == pytest.approx(flips.changed_rows / 200)
    table = flips.examples
    assert len(table) == 5 and set(table["from"]) | set(table["to"]) == {"0", "1"}
    row = int(table["row"][0])
    assert table["before"][0] == str(int(before[row])) and table["after"][0] == str(int(after[row]))
    assert flips.sentence().startswith(f"changing only sex changes {flips.changed_rows} of 200 decisions")


def test_a_model_that_ignores_the_sensitive_input_flips_nothing() -> None:
    model = _linear([1.0, 0.5, 0.0], ["income", "debt", "sex"])  # weight 0 on sex
    flips = explain.fairness(model, _applicants(), sensitive="sex", bootstrap=0).flips
    assert flips.changed_rows == 0 and flips.changed_pairs == 0 and flips.max_abs_change == 0.0
    assert len(flips.examples) == 0


def test_no_flip_probe_when_the_attribute_is_not_an_input() -> None:
    model = _linear([1.0, 0.5, 0.0], ["income", "debt", "sex"])
    data = _applicants()
    assert explain.fairness(model, data, sensitive="region", bootstrap=0).flips is None
    mixed = explain.fairness(model, data, sensitive=["sex", "region"], bootstrap=0)
    assert mixed.flips is None and any("region is not" in note for note in mixed.notes)
    assert explain.fairness(model, data, sensitive="sex", bootstrap=0, flip=False).flips is None


def test_one_hot_columns_flip_to_each_other_category() -> None:
    rng = np.random.default_rng(1)
    n = 90
    category = rng.integers(0, 3, n)
    x = np.column_stack([rng.normal(size=n), np.eye(3)[category]]).astype(np.float32)
    data = explain.Dataset(x, (x[:, 0] > 0).astype(int), feature_names=["income", "red", "green", "blue"])
    model = _linear([0.0, 0.0, 0.0, 2.0], ["income", "red", "green", "blue"], bias=-1.0)  # favours blue
    result = explain.fairness(model, data, sensitive=["red", "green", "blue"], bootstrap=0)
    assert result.groups == ("red", "green", "blue")  # one attribute: the hot column's name
    flips = result.flips
    assert flips.pairs == 2 * n  # each row to each of the two other categories
    # blue rows become not-blue (both ways change); the others become blue once each
    assert flips.changed_rows == n and flips.changed_pairs == 2 * np.sum(category == 2) + np.sum(category != 2)


def test_regression_flip_reports_how_far_predictions_move() -> None:
    net = torch.nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 0.25]]))
        net.bias.zero_()
    model = explain.Model(net, task="regression", modality="tabular", feature_names=["size", "group"])
    x = np.column_stack([np.linspace(0, 1, 40), np.repeat([0.0, 1.0], 20)]).astype(np.float32)
    data = explain.Dataset(x, x[:, 0].astype(np.float64), feature_names=["size", "group"], task="regression")
    flips = explain.fairness(model, data, sensitive="group", bootstrap=0).flips
    assert flips.task == "regression" and flips.changed_rows == 40
    assert flips.mean_abs_change == pytest.approx(0.25) and flips.max_abs_change == pytest.approx(0.25)
    assert "moves predictions by 0.25" in flips.sentence()


def test_group_importance_equals_global_importance_on_each_group() -> None:
    data = _applicants(n=120)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    torch.manual_seed(0)
    model = explain.Model(net, modality="tabular", feature_names=["income", "debt", "sex"])
    result = explain.group_importance(model, data, sensitive="region", method="saliency")
    assert result.groups == ("north", "south") and result.features == ("income", "debt", "sex")
    regions = data.metadata["region"].to_numpy()
    for g, name in enumerate(result.groups):
        expected = explain.global_importance(model, data.x[regions == name], method="saliency").mean_abs
        np.testing.assert_allclose(result.values[g], expected, rtol=1e-6)
        assert result.n[g] == result.size[g] == np.sum(regions == name)
    rho = stats.spearmanr(result.values[0], result.values[1]).statistic
    assert result.spearman[0, 1] == pytest.approx(rho) and result.spearman[0, 0] == pytest.approx(1.0)
    assert result.frame().loc["debt", "south"] == pytest.approx(result.values[1, 1])


def test_group_importance_names_the_feature_one_group_leans_on() -> None:
    rng = np.random.default_rng(2)
    n = 200
    x = np.column_stack([rng.normal(size=n), rng.normal(size=n), rng.integers(0, 2, n)]).astype(np.float32)
    data = explain.Dataset(x, np.zeros(n, dtype=int), feature_names=["income", "debt", "young"])
    # the debt gradient is large only for the young (through the product debt * young)

    class Gated(torch.nn.Module):
        def forward(self, v: torch.Tensor) -> torch.Tensor:
            score = v[:, 0] + 4.0 * v[:, 1] * v[:, 2]
            return torch.stack([torch.zeros_like(score), score], dim=1)

    model = explain.Model(Gated(), modality="tabular", feature_names=["income", "debt", "young"])
    result = explain.group_importance(model, data, sensitive="young", method="saliency", sample=50, seed=3)
    assert result.n.tolist() == [50, 50] and result.size.sum() == n
    feature, more, less, ratio = result.leans
    assert (feature, more, less) == ("debt", "1", "0") and not np.isfinite(ratio)
    assert result.sentence() == "the model leans on debt for '1' and not at all for '0'"
    assert result.plot().data[0].name == "0"
    assert result.to_dict()["leans"][3] is None
