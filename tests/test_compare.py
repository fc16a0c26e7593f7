"""explain.compress, explain.compare, explain.model_size and explain.compress_sweep: agreement,
accuracies and per-class recall equal predictions computed directly; a model compared with
itself is identical in every figure; pruning reaches the asked sparsity exactly; the original
is untouched; int8 keeps the bundled models' predictions and integrated gradients; backward
trust by hand; McNemar against scipy; exported graphs; errors; the sweep's choice; plots."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.metrics import precision_score, recall_score
from torch import nn

import explain
from explain import plots
from explain.pairing.measures import mcnemar_p, trust
from explain.pairing.shrinking import weight_owners
from explain.pairing.sweeping import largest_kept


def _net(seed: int = 0, k: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, k))


def _data(n: int = 300, seed: int = 0, k: int = 3) -> explain.Dataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int) if k == 3 else (x[:, 0] > 0).astype(int)
    return explain.Dataset(x, y, feature_names=[f"f{i}" for i in range(6)])


class _Columns(nn.Module):
    """A model whose logits are two of its input columns."""

    def __init__(self, start: int) -> None:
        super().__init__()
        self.start = start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start:self.start + 2]


def test_agreement_accuracy_and_per_class_equal_direct_predictions() -> None:
    model = explain.Model(_net(), task="classification")
    other = explain.Model(_net(seed=1), task="classification")
    data = _data()
    c = explain.compare(model, other, data, rows=30, repeats=1)
    pa, pb, y = model.predict(data.x), other.predict(data.x), data.y
    assert c.agreement == pytest.approx(np.mean(pa == pb), abs=1e-12)
    assert c.accuracy == pytest.approx((np.mean(pa == y), np.mean(pb == y)), abs=1e-12)
    np.testing.assert_array_equal(c.predicted_a, pa)
    np.testing.assert_array_equal(c.disagreeing, np.flatnonzero(pa != pb))
    np.testing.assert_allclose(c.recall_a, recall_score(y, pa, average=None, labels=[0, 1, 2], zero_division=0))
    np.testing.assert_allclose(c.precision_b, precision_score(y, pb, average=None, labels=[0, 1, 2], zero_division=0))
    perf = explain.performance(model, data, bootstrap=0)  # the one scoring path
    assert c.accuracy[0] == pytest.approx(perf.accuracy)
    assert c.ece[0] == pytest.approx(explain.calibration(model, data).ece)
    b, d = int(((pa == y) & (pb != y)).sum()), int(((pa != y) & (pb == y)).sum())
    assert c.flips == {"a_right_b_wrong": b, "a_wrong_b_right": d}
    assert c.mcnemar_p == pytest.approx(stats.binomtest(min(b, d), b + d, 0.5).pvalue, abs=1e-12)
    extra = c.explained[~c.sampled]  # the disagreeing rows explained besides the sample, up to as many
    assert np.isin(extra, c.disagreeing).all() and 0 < len(extra) <= 30 and c.sampled.sum() == 30
    assert json.dumps(c.to_dict()) and pickle.loads(pickle.dumps(c)).agreement == c.agreement


def test_a_model_compared_with_itself_is_identical_in_every_figure() -> None:
    model = explain.Model(_net(), task="classification")
    c = explain.compare(model, model, _data(200), rows=40, repeats=1, attack="fgsm", epsilons=[0.1, 0.3],
                        alpha=0.2)
    assert c.agreement == 1.0 and c.accuracy[0] == c.accuracy[1] and c.ece[0] == c.ece[1]
    assert c.similarity() == {"spearman": 1.0, "top_k_overlap": 1.0, "rank_agreement": 1.0, "sign_agreement": 1.0,
                              "k": 5}
    assert c.explanation_similarity == 1.0 and c.mcnemar_p == 1.0
    assert c.flips == {"a_right_b_wrong": 0, "a_wrong_b_right": 0} and len(c.disagreeing) == 0
    assert c.backward_trust == 1.0 and c.new_error_share == 0.0 and len(c.hurt) == 0
    np.testing.assert_array_equal(c.true_prob_drop, 0.0)
    np.testing.assert_array_equal(c.recall_a, c.recall_b)
    np.testing.assert_array_equal(c.attributions_a, c.attributions_b)
    np.testing.assert_array_equal(c.robust_accuracy_a, c.robust_accuracy_b)
    assert c.coverage[0] == c.coverage[1] and c.size[0] == c.size[1]


@pytest.mark.parametrize("amount", [0.37, 0.8])
def test_pruning_reaches_the_asked_sparsity_exactly(amount: float) -> None:
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    model = explain.Model(net, task="classification", input_shape=(1, 8, 8))
    pruned = explain.compress(model, method="prune", amount=amount)
    weights = [m.weight for m in weight_owners(pruned.network)]
    total = sum(w.numel() for w in weights)
    zeros = sum(int((w == 0).sum()) for w in weights)
    assert zeros == round(amount * total)
    assert not any(hasattr(m, "weight_orig") for m in pruned.network.modules())  # made permanent
    size = explain.model_size(pruned)
    assert size.nonzero == size.parameters - zeros and size.dense_bytes == 4 * size.parameters


@pytest.mark.parametrize("method", ["quantize", "prune"])
def test_the_original_is_untouched(method: str) -> None:
    model = explain.Model(_net(), task="classification")
    before = {k: v.clone() for k, v in model.network.state_dict().items()}
    light = explain.compress(model, method=method, amount=0.6)
    after = model.network.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert all(type(m) in (nn.Sequential, nn.Linear, nn.ReLU) for m in model.network.modules())
    assert light is not model and light.network is not model.network
    assert light.forward_module.network is light.network  # the copy runs its own network
    assert (light.task, light.feature_names, light.format) == (model.task, model.feature_names, model.format)


@pytest.mark.parametrize("name", ["breast_cancer", "digits"])
def test_int8_keeps_the_bundled_models_predictions(name: str) -> None:
    model, data = explain.load_example(name)
    small = explain.compress(model, method="quantize")
    assert np.mean(model.predict(data) == small.predict(data)) >= 0.97
    size, light = explain.model_size(model), explain.model_size(small)
    assert light.storage == "int8" and light.parameters == size.parameters
    assert light.stored_bytes < 0.35 * size.stored_bytes
    assert pickle.loads(pickle.dumps(small)).predict(data[:5]).tolist() == small.predict(data[:5]).tolist()


def test_integrated_gradients_runs_on_int8_close_to_fp32() -> None:
    model, data = explain.load_example("breast_cancer")
    small = explain.compress(model, method="quantize")
    rows = data[:20]
    a = explain.attribute(model, rows, method="integrated_gradients")
    b = explain.attribute(small, rows, method="integrated_gradients", target=np.array(a.target))
    va, vb = a.values.reshape(len(a), -1), b.values.reshape(len(b), -1)
    cosine = (va * vb).sum(axis=1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
    assert 1 - cosine.min() < 1e-3


def test_backward_trust_by_hand() -> None:
    # columns 0-1: A's logits, 2-3: B's. Truth 0,1,1,0,1; A predicts 0,1,1,1,1; B 0,1,0,1,0.
    x = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 1, 1, 0], [0, 1, 0, 1], [0, 1, 1, 0]], dtype=np.float32)
    y = np.array([0, 1, 1, 0, 1])
    a = explain.Model(_Columns(0), task="classification", input_shape=(4,))
    b = explain.Model(_Columns(2), task="classification", input_shape=(4,))
    c = explain.compare(a, b, x, y, method="feature_ablation", repeats=1)
    assert c.backward_trust == 0.5  # A right on rows 0, 1, 2, 4; B keeps 0 and 1
    assert c.new_error_share == pytest.approx(2 / 3)  # B wrong on 2, 3, 4; A was right on 2 and 4
    assert trust(y, c.predicted_a, c.predicted_b) == (0.5, pytest.approx(2 / 3))
    assert c.flips == {"a_right_b_wrong": 2, "a_wrong_b_right": 0} and c.mcnemar_p == 0.5
    assert c.agreement == 0.6 and c.disagreeing.tolist() == [2, 4]
    assert c.hurt.tolist()[:2] == [2, 4]  # the true class lost the most probability there


def test_mcnemar_equals_scipy() -> None:
    for b, d in [(0, 0), (1, 0), (10, 2), (7, 9), (40, 21)]:
        expected = 1.0 if b + d == 0 else stats.binomtest(min(b, d), b + d, 0.5).pvalue
        assert mcnemar_p(b, d) == pytest.approx(expected, abs=1e-12)


def test_exported_graphs_are_compressed(tmp_path: os.PathLike) -> None:
    path = os.path.join(tmp_path, "m.pt2")
    explain.save_model(_net(), path, torch.zeros(2, 6), feature_names=[f"f{i}" for i in range(6)])
    model = explain.load_model(path)
    x = _data(100).x
    small = explain.compress(model, method="quantize")
    assert explain.model_size(small).storage == "int8"
    assert np.mean(small.predict(x) == model.predict(x)) >= 0.97
    explain.attribute(small, x[:5], method="integrated_gradients")
    pruned = explain.compress(model, method="prune", amount=0.5)
    assert explain.model_size(pruned).nonzero < explain.model_size(model).nonzero


def test_what_cannot_be_compressed_says_so() -> None:
    onnx = explain.Model(_net(), task="classification", format="onnx", differentiable=False)
    with pytest.raises(explain.ModelFormatError, match="Cannot compress a onnx model.*live module"):
        explain.compress(onnx, method="quantize")
    with pytest.raises(explain.ModelFormatError, match="no Linear or Conv weights"):
        explain.compress(explain.Model(nn.Identity(), task="classification", input_shape=(3,)))
    model = explain.Model(_net(), task="classification")
    with pytest.raises(explain.InputError, match="method must be one of"):
        explain.compress(model, method="distil")
    with pytest.raises(explain.InputError, match="amount=1"):
        explain.compress(model, method="prune", amount=1.0)
    with pytest.raises(explain.InputError, match="same task"):
        explain.compare(model, explain.Model(nn.Linear(6, 1), task="regression"), _data(20))
    with pytest.raises(explain.InputError, match="same outputs"):
        explain.compare(model, explain.Model(nn.Linear(6, 2), task="classification"), _data(20).x)


def test_the_sweep_picks_the_largest_amount_kept_on_a_monotone_toy() -> None:
    # Two large weights decide (class 0 by f0, class 1 by f1); 18 small ones barely matter.
    net = nn.Linear(10, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(0.001 * torch.sign(torch.randn(2, 10, generator=torch.Generator().manual_seed(0))))
        net.weight[0, 0], net.weight[1, 1] = 5.0, 5.0
    model = explain.Model(net, task="classification")
    x = np.random.default_rng(0).normal(size=(200, 10)).astype(np.float32)
    sweep = explain.compress_sweep(model, x, amounts=[0.3, 0.6, 0.9, 0.95], keep=0.95, rows=20, repeats=1)
    assert np.all(np.diff(sweep.agreement) <= 0) and sweep.agreement[2] >= 0.95 > sweep.agreement[3]
    assert sweep.best == 0.9 and sweep.nonzero.tolist() == [14, 8, 2, 1]
    assert largest_kept(np.array([0.2, 0.4, 0.6]), np.array([1.0, 0.5, 0.4]), 0.9) == 0.2
    assert largest_kept(np.array([0.2]), np.array([0.5]), 0.9) is None
    int8 = explain.compress_sweep(model, x, method="quantize", keep=0.95, rows=10, repeats=1)
    assert int8.amounts.tolist() == [0.0] and int8.best == 0.0
    assert json.dumps(sweep.to_dict()) and sweep.frame().shape == (4, 8)


def test_a_regression_comparison_measures_distance() -> None:
    torch.manual_seed(0)
    model = explain.Model(nn.Linear(6, 1), task="regression")
    data = _data(80)
    y = data.x[:, 0].astype(np.float64)
    small = explain.compress(model, method="prune", amount=0.5)
    c = explain.compare(model, small, data.x, y, rows=10, repeats=1)
    pa, pb = model.predict(data.x), small.predict(data.x)
    assert c.agreement == pytest.approx(np.mean(np.abs(pa - pb)), rel=1e-6)
    assert c.accuracy == pytest.approx((np.mean(np.abs(y - pa)), np.mean(np.abs(y - pb))), rel=1e-6)
    assert c.ece is None and c.recall_a is None


def test_plots_of_a_comparison_and_a_sweep() -> None:
    model = explain.Model(_net(), task="classification", feature_names=[f"f{i}" for i in range(6)])
    small = explain.compress(model, method="prune", amount=0.7)
    c = explain.compare(model, small, _data(120), rows=20, repeats=1)
    assert [t.name for t in plots.class_deltas(c).data] == ["recall", "precision"]
    assert plots.similarity_histogram(c, measure="top_k_overlap").data[0].type == "histogram"
    row = int(c.explained[0])
    side = plots.row_side_by_side(c, row, top=4)
    assert [t.name for t in side.data] == ["A", "B"] and len(side.data[0].y) == 4
    assert c.plot("row").data and c.plot().data
    with pytest.raises(explain.InputError, match="was not explained"):
        plots.row_side_by_side(c, 10_000)
    with pytest.raises(explain.InputError, match="CompressionSweep"):
        plots.sweep_curves(c)
    sweep = explain.compress_sweep(model, _data(60), amounts=[0.5], rows=5, repeats=1)
    assert sweep.plot().data[0].name == "accuracy"


def _grouped(n: int = 300) -> explain.Dataset:
    import pandas as pd

    base = _data(n, k=2)
    sex = np.where(np.random.default_rng(5).random(n) < 0.4, "f", "m")
    return explain.Dataset(base.x, base.y, feature_names=base.feature_names, metadata=pd.DataFrame({"sex": sex}))


def test_per_group_deltas_equal_direct_figures() -> None:
    model = explain.Model(_net(0, 2), task="classification")
    other = explain.Model(_net(1, 2), task="classification")
    data = _grouped()
    c = explain.compare(model, other, data, rows=10, repeats=1, sensitive="sex")
    pa, pb, sex = model.predict(data.x), other.predict(data.x), data.metadata["sex"].to_numpy()
    frame = c.per_group()
    assert frame["group"].tolist() == ["f", "m"] and frame["count"].tolist() == [(sex == "f").sum(), (sex == "m").sum()]
    for g in ("f", "m"):
        row = frame[frame["group"] == g].iloc[0]
        assert row["accuracy_a"] == pytest.approx(np.mean(pa[sex == g] == data.y[sex == g]))
        assert row["accuracy_b"] == pytest.approx(np.mean(pb[sex == g] == data.y[sex == g]))
        assert row["selection_b"] == pytest.approx(np.mean(pb[sex == g] == 1))
    parity = [abs(np.mean(p[sex == "f"] == 1) - np.mean(p[sex == "m"] == 1)) for p in (pa, pb)]
    assert c.groups["parity_difference"] == pytest.approx(parity)
    assert c.fairness_drift == pytest.approx(parity[1] - parity[0]) and c.summary()["fairness_drift"] == c.fairness_drift
    fair = explain.fairness(model, data, sensitive="sex", bootstrap=0, flip=False)
    assert c.groups["parity_difference"][0] == pytest.approx(fair.demographic_parity_difference)
    same = explain.compare(model, model, data, rows=10, repeats=1, sensitive=["sex"])
    assert same.fairness_drift == 0.0 and (same.per_group()["accuracy_delta"] == 0).all()
    json.dumps(c.to_dict())


def test_per_group_needs_a_dataset_and_names_the_fix() -> None:
    model = explain.Model(_net(0, 2), task="classification")
    data = _grouped(60)
    with pytest.raises(explain.InputError, match="explain.Dataset"):
        explain.compare(model, model, data.x, data.y, rows=5, repeats=1, sensitive="sex")
    with pytest.raises(explain.InputError, match="sensitive"):
        explain.compare(model, model, data, rows=5, repeats=1, sensitive="nope")
    assert explain.compare(model, model, data, rows=5, repeats=1).per_group().empty


def test_regression_groups_measure_the_mean_prediction_gap() -> None:
    torch.manual_seed(0)
    model = explain.Model(nn.Linear(6, 1), task="regression")
    data = _grouped(80)
    data = explain.Dataset(data.x, data.x[:, 0].astype(np.float64), feature_names=data.feature_names,
                           metadata=data.metadata)
    small = explain.compress(model, method="prune", amount=0.5)
    c = explain.compare(model, small, data, rows=10, repeats=1, sensitive="sex")
    pb, sex = small.predict(data.x), data.metadata["sex"].to_numpy()
    gap = abs(pb[sex == "f"].mean() - pb[sex == "m"].mean())
    assert c.groups["mean_prediction_gap"][1] == pytest.approx(gap, rel=1e-5)
    assert "mae_delta" in c.per_group()
