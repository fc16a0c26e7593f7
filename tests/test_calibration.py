"""Calibration: ECE against torchmetrics, hand-computed metrics, temperature scaling, plots."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from torch import nn
from torchmetrics.classification import MulticlassCalibrationError

import explain
from explain import plots
from explain.confidence.calibrating import fit_temperature, reliability
from explain.errors import DataError, InputError, MethodError


def _logit_model(k: int) -> explain.Model:
    """A classifier whose logits are its inputs, so the probabilities are known exactly."""
    return explain.Model(nn.Identity(), task="classification", modality="tabular", input_shape=(k,))


def _torchmetrics(probs: np.ndarray, labels: np.ndarray, norm: str, n_bins: int = 15) -> float:
    metric = MulticlassCalibrationError(num_classes=probs.shape[1], n_bins=n_bins, norm=norm)
    return float(metric(torch.from_numpy(probs), torch.from_numpy(labels)))


@pytest.mark.parametrize(("k", "seed", "n_bins"), [(2, 0, 15), (3, 1, 15), (10, 2, 15), (5, 3, 7)])
def test_ece_and_mce_equal_torchmetrics(k: int, seed: int, n_bins: int) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(500, k)) * rng.uniform(0.5, 4)
    logits[:20, 0] += 60  # saturated: a confidence of exactly 1.0 (torchmetrics' extra bin)
    probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    labels = rng.integers(0, k, size=500)
    labels[:200] = probs[:200].argmax(axis=1)  # accuracy well above chance
    high = probs.max(axis=1) >= 1 - 1 / n_bins
    labels[high] = probs[high].argmax(axis=1)  # the top regular bin is underconfident ...
    labels[:10] = (probs[:10].argmax(axis=1) + 1) % k  # ... the exactly-1.0 bin overconfident
    assert (probs.max(axis=1) == 1.0).sum() >= 20
    r = reliability(probs, labels, n_bins=n_bins)
    assert r.ece == pytest.approx(_torchmetrics(probs, labels, "l1", n_bins), abs=1e-6)  # torchmetrics sums in float32
    assert r.mce == pytest.approx(_torchmetrics(probs, labels, "max", n_bins), abs=1e-6)  # torchmetrics sums in float32
    # the same through a model: explain.calibration computes its own probabilities
    cal = explain.calibration(_logit_model(k), logits.astype(np.float32), labels, n_bins=n_bins)
    p32 = torch.softmax(torch.from_numpy(logits.astype(np.float32)).double(), dim=1).numpy()
    assert cal.ece == pytest.approx(_torchmetrics(p32, labels, "l1", n_bins), abs=1e-6)  # torchmetrics sums in float32


def test_hand_computed_metrics() -> None:
    probs = np.array([[0.95, 0.05], [0.85, 0.15], [0.3, 0.7], [0.58, 0.42]])
    labels = np.array([0, 1, 1, 0])
    r = reliability(probs, labels, n_bins=5)
    # bins of width 0.2: [0.8, 1) holds 0.95 (right) and 0.85 (wrong); 0.7 and 0.58 alone
    assert r.ece == pytest.approx(0.5 * 0.4 + 0.25 * 0.3 + 0.25 * 0.42)
    assert r.mce == pytest.approx(0.42)
    assert r.bin_count.tolist() == [0, 0, 1, 1, 2, 0]
    assert r.bin_accuracy[4] == 0.5 and r.bin_confidence[4] == pytest.approx(0.9)
    brier = (0.05**2 * 2 + 0.85**2 * 2 + 0.3**2 * 2 + 0.42**2 * 2) / 4
    assert r.brier == pytest.approx(brier)
    assert r.nll == pytest.approx(-np.mean(np.log([0.95, 0.15, 0.7, 0.58])))
    assert r.accuracy == 0.75
    bins = r.bins
    assert list(bins.columns) == ["lower", "upper", "count", "confidence", "accuracy", "gap"]
    assert bins["gap"].iloc[4] == pytest.approx(0.4) and bins["lower"].iloc[-1] == 1.0


def test_perfectly_calibrated_probabilities_have_ece_near_zero() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(4, 0.5), size=20000)
    labels = np.array([rng.choice(4, p=p) for p in probs])
    assert reliability(probs, labels).ece < 0.015
    shuffled = reliability(probs, rng.permutation(labels)).ece
    assert shuffled > 0.2  # labels unrelated to the probabilities: far from calibrated


@pytest.mark.parametrize("factor", [3.0, 0.5])
def test_temperature_scaling_recovers_the_distortion(factor: float) -> None:
    rng = np.random.default_rng(1)
    true_logits = rng.normal(size=(6000, 3)) * 2
    p = torch.softmax(torch.from_numpy(true_logits), dim=1).numpy()
    labels = (rng.random((6000, 1)) > np.cumsum(p, axis=1)).sum(axis=1)  # y ~ p
    cal = explain.calibration(_logit_model(3), (true_logits * factor).astype(np.float32), labels)
    assert cal.temperature == pytest.approx(factor, rel=0.1)
    assert cal.after.ece < cal.before.ece / 2
    assert cal.after.nll < cal.before.nll
    assert cal.verdict == ("overconfident" if factor > 1 else "underconfident")
    fit = np.array(cal.params["fit_rows"])
    assert len(fit) == 3000 and len(cal.after.confidence) == 3000


def test_fit_temperature_is_the_nll_minimum_and_deterministic() -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(300, 4)) * 3
    labels = rng.integers(0, 4, size=300)
    labels[:150] = logits[:150].argmax(axis=1)
    t = fit_temperature(logits, labels)
    assert t == fit_temperature(logits, labels)
    grid = np.exp(np.linspace(np.log(0.1), np.log(10), 4001))
    lp = torch.log_softmax(torch.from_numpy(logits)[None] / torch.from_numpy(grid)[:, None, None], dim=2)
    nll = -lp[:, np.arange(300), labels].mean(dim=1).numpy()
    assert t == pytest.approx(grid[nll.argmin()], rel=2e-3)


def test_binary_sigmoid_classifier_is_two_classes() -> None:
    net = nn.Linear(1, 1)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.fill_(0.0)
    model = explain.Model(net, task="classification", modality="tabular")
    z = np.linspace(-3, 3, 40, dtype=np.float32)[:, None]
    labels = (z[:, 0] > 0).astype(int)
    cal = explain.calibration(model, z, labels)
    sig = 1 / (1 + np.exp(-z[:, 0].astype(np.float64)))
    assert np.allclose(cal.overall.confidence, np.maximum(sig, 1 - sig))
    assert cal.accuracy == 1.0


def test_labels_from_a_dataset_follow_the_model_class_order() -> None:
    model = explain.Model(nn.Identity(), task="classification", modality="tabular", input_shape=(2,),
                          class_names=["yes", "no"])
    x = np.array([[5.0, 0.0], [0.0, 5.0]] * 5, dtype=np.float32)  # model says yes, no, yes, ...
    data = explain.Dataset(x, np.array([1, 0] * 5), class_names=["no", "yes"])  # dataset: yes, no
    assert explain.calibration(model, data).accuracy == 1.0


def test_refusals_say_what_to_do() -> None:
    regression = explain.Model(nn.Linear(2, 1), task="regression", modality="tabular")
    with pytest.raises(MethodError, match="conformal"):
        explain.calibration(regression, np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(DataError, match="targets"):
        explain.calibration(_logit_model(2), np.zeros((10, 2)))
    with pytest.raises(DataError, match="at least 2"):
        explain.calibration(_logit_model(2), np.zeros((3, 2)), [0, 1, 0])
    with pytest.raises(DataError, match="from 0 to 1"):
        explain.calibration(_logit_model(2), np.zeros((10, 2)), [3] * 10)
    with pytest.raises(InputError, match="logits"):
        reliability(np.array([[2.0, -1.0]]), [0])
    with pytest.raises(InputError, match="n_bins"):
        explain.calibration(_logit_model(2), np.zeros((10, 2)), [0] * 10, n_bins=0)


def test_result_is_frozen_picklable_and_strict_json() -> None:
    rng = np.random.default_rng(3)
    cal = explain.calibration(_logit_model(3), rng.normal(size=(60, 3)).astype(np.float32),
                              rng.integers(0, 3, size=60))
    assert not cal.overall.bin_count.flags.writeable and not cal.labels.flags.writeable
    again = pickle.loads(pickle.dumps(cal))
    assert again.ece == cal.ece and np.array_equal(again.after.bin_accuracy, cal.after.bin_accuracy)
    data = json.loads(json.dumps(cal.to_dict(), allow_nan=False))
    assert data["ece"] == cal.ece and data["after"]["ece"] == cal.after.ece
    assert data["temperature"] == cal.temperature


def test_bundled_example_is_overconfident_and_temperature_helps() -> None:
    model, data = explain.load_example("breast_cancer")
    cal = explain.calibration(model, data)
    assert 0.0 < cal.ece < 0.1 and cal.temperature > 1.2
    assert cal.after.ece < cal.before.ece and cal.after.nll < cal.before.nll


# --- plots ------------------------------------------------------------------------------
def _calibration() -> explain.Calibration:
    rng = np.random.default_rng(4)
    z = rng.normal(size=(400, 3)) * 3
    labels = np.where(rng.random(400) < 0.7, z.argmax(axis=1), rng.integers(0, 3, 400))
    return explain.calibration(_logit_model(3), z.astype(np.float32), labels)


def test_reliability_diagram_bars_are_the_bin_accuracies() -> None:
    cal = _calibration()
    fig = plots.reliability_diagram(cal)
    accuracy, gap, diagonal = fig.data
    full = cal.overall.bin_count > 0
    assert np.allclose(accuracy.y, cal.overall.bin_accuracy[full])
    assert np.allclose(np.asarray(gap.base) + np.asarray(gap.y), cal.overall.bin_confidence[full])
    assert list(diagonal.x) == [0, 1] and "ECE" in fig.layout.title.text
    after = plots.reliability_diagram(cal, which="after")
    assert np.allclose(after.data[0].y, cal.after.bin_accuracy[cal.after.bin_count > 0])
    with pytest.raises(InputError, match="which"):
        plots.reliability_diagram(cal, which="later")


def test_temperature_comparison_and_confidence_histogram() -> None:
    cal = _calibration()
    fig = plots.temperature_comparison(cal)
    assert len(fig.data) == 6
    assert np.allclose(fig.data[3].y, cal.after.bin_accuracy[cal.after.bin_count > 0])
    assert f"{cal.temperature:.2f}" in fig.layout.annotations[1].text
    hist = plots.confidence_histogram(cal)
    assert np.allclose(hist.data[0].y, cal.overall.bin_count / len(cal.labels))
    assert list(hist.data[1].x) == [cal.accuracy] * 2
    assert list(hist.data[2].x) == pytest.approx([cal.overall.confidence.mean()] * 2)
    assert json.loads(hist.to_json())["data"]
