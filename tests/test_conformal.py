"""Split conformal prediction: the quantile, hand-computed scores and sets, the coverage
guarantee over many random splits, regression intervals and the set-size plot."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain import plots
from explain.confidence.conformal_sets import conformal_quantile, coverage_band
from explain.errors import DataError, InputError, MethodError


def _logit_model(k: int) -> explain.Model:
    return explain.Model(nn.Identity(), task="classification", modality="tabular", input_shape=(k,))


def _pool(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from a softer version of them: a miscalibrated model, so the
    guarantee cannot come from the probabilities being right."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * 2.5
    p = torch.softmax(torch.from_numpy(logits * 0.6), dim=1).numpy()
    labels = (rng.random((n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    return logits.astype(np.float32), np.minimum(labels, k - 1)


def test_quantile_rank_and_too_few_examples() -> None:
    scores = np.arange(1.0, 20.0)[::-1]  # 19 scores, unsorted
    assert conformal_quantile(scores, 0.1) == 18.0  # rank ceil(20 * 0.9) = 18
    assert conformal_quantile(np.arange(1.0, 100.0), 0.1) == 90.0  # (99 + 1) * 0.9 = 90 exactly, not 91
    with pytest.raises(DataError, match="at least 9"):
        conformal_quantile(np.arange(8.0), 0.1)
    with pytest.raises(DataError, match="at least 19"):
        explain.conformal(_logit_model(3), np.zeros((10, 3)), np.zeros(10, dtype=int), alpha=0.05)


def test_scores_and_sets_by_hand() -> None:
    p = np.array([[0.5, 0.3, 0.2]] * 9)
    logits = np.log(p).astype(np.float32)
    labels = np.array([0, 1, 2, 1, 1, 0, 2, 2, 1])
    model = _logit_model(3)
    # with n = 9 and alpha = 0.1 the threshold is the largest score
    lac = explain.conformal(model, logits, labels, alpha=0.1, method="lac")
    assert lac.scores == pytest.approx(np.sort(1 - p[0][labels]), abs=1e-6)
    aps = explain.conformal(model, logits, labels, alpha=0.1, method="aps")
    cumulative = {0: 0.5, 1: 0.8, 2: 1.0}  # mass of the classes up to and including the label
    assert aps.scores == pytest.approx(np.sort([cumulative[y] for y in labels]), abs=1e-6)
    raps = explain.conformal(model, logits, labels, alpha=0.1, method="raps", penalty=0.1, k_reg=1)
    penalised = {0: 0.5, 1: 0.8 + 0.1, 2: 1.0 + 0.2}
    assert raps.scores == pytest.approx(np.sort([penalised[y] for y in labels]), abs=1e-6)

    test = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.45, 0.45]])).astype(np.float32)
    lac_q = explain.conformal(model, logits, labels, alpha=0.45, method="lac")
    assert lac_q.quantile == pytest.approx(0.7, abs=1e-6)  # rank ceil(10 * 0.55) = 6 of 0.5,0.5,0.7,0.7,0.7,0.7,...
    assert lac_q.predict(test).tolist() == [[True, False, False], [False, True, True]]
    aps_q = explain.conformal(model, logits, labels, alpha=0.45, method="aps")
    assert aps_q.quantile == pytest.approx(0.8, abs=1e-6)
    # cumulative mass: [0.7, 0.9, 1.0] -> {0} ; [0.45 (class 1), 0.9, 1.0] -> {1}; never empty
    assert aps_q.predict(test).tolist() == [[True, False, False], [False, True, False]]
    assert aps_q.predict(np.log([[0.9, 0.05, 0.05]])).tolist() == [[True, False, False]]


def _coverages(method: str, alpha: float, randomized: bool, splits: int = 300) -> tuple[np.ndarray, int, int]:
    logits, labels = _pool(1000, 5, seed=11)
    model = _logit_model(5)
    n_cal = 50  # small, so the +1 of the finite-sample rank matters: 46/51 = 0.902, not 45/51
    rng = np.random.default_rng(0)
    out = []
    for _ in range(splits):
        order = rng.permutation(len(labels))
        cal, test = order[:n_cal], order[n_cal:]
        cp = explain.conformal(model, logits[cal], labels[cal], alpha=alpha, method=method,
                               randomized=randomized, seed=int(rng.integers(1 << 30)))
        out.append(cp.coverage(logits[test], labels[test]))
    return np.array(out), n_cal, len(labels) - n_cal


@pytest.mark.parametrize(("method", "randomized"), [("lac", False), ("aps", True), ("raps", True),
                                                    ("aps", False), ("raps", False)])
def test_coverage_guarantee_over_many_random_splits(method: str, randomized: bool) -> None:
    alpha = 0.1
    coverage, n, m = _coverages(method, alpha, randomized)
    # the exact mean coverage of continuous scores over random splits, ceil((n + 1)(1 - alpha))
    # / (n + 1) = 46/51; per split it is Beta(rank, n + 1 - rank) given the calibration set,
    # plus the binomial noise of m test points: the spread must match coverage_band's
    expected, predicted_sd = coverage_band(n, m, alpha)
    assert expected == pytest.approx(46 / 51)
    se = coverage.std() / np.sqrt(len(coverage))
    assert coverage.mean() >= 1 - alpha - 4 * se  # the finite-sample guarantee
    if randomized or method == "lac":  # exact methods: the mean is exact and the spread is the Beta's
        assert abs(coverage.mean() - expected) < 4 * se
        assert 0.6 * predicted_sd < coverage.std() < 1.5 * predicted_sd
    else:  # deterministic APS / RAPS always hold the top class: conservative
        assert coverage.mean() >= expected - 4 * se


def _overconfident(n: int, k: int, seed: int) -> explain.Dataset:
    """A 10-class model of about 90% accuracy whose softmax spreads its mass thinly."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)).astype(np.float32)
    hit = rng.random(n) < 0.9
    logits[np.arange(n)[hit], labels[hit]] += 5.0
    return explain.Dataset(logits, labels)


def test_the_default_score_is_lac_in_the_function_and_the_audit() -> None:
    data = _overconfident(1000, 10, seed=4)
    model = _logit_model(10)
    assert explain.conformal(model, data[:500]).method == "lac"
    section = explain.audit(model, data, sections=["uncertainty"]).section("uncertainty")
    assert section.results["conformal"].method == "lac"
    assert not any("larger than they need to be" in f for f in section.findings)
    # deterministic APS includes the whole last class: much wider sets, far above 90%
    aps = explain.audit(model, data, sections=["uncertainty"], conformal_method="aps").section("uncertainty")
    assert aps.metrics["conformal.mean_set_size"] > 1.5 * section.metrics["conformal.mean_set_size"]
    assert section.metrics["conformal.coverage"] == pytest.approx(0.9, abs=0.04)
    wide = [f for f in aps.findings if "larger than they need to be" in f]
    assert wide and "try method='lac'" in wide[0]


def test_randomized_sets_repeat_with_the_seed_and_raps_is_smaller() -> None:
    logits, labels = _pool(600, 8, seed=3)
    model = _logit_model(8)
    a = explain.conformal(model, logits[:300], labels[:300], method="aps", randomized=True, seed=1)
    b = explain.conformal(model, logits[:300], labels[:300], method="aps", randomized=True, seed=1)
    assert np.array_equal(a.predict(logits[300:]), b.predict(logits[300:]))
    aps = explain.conformal(model, logits[:300], labels[:300], method="aps").evaluate(logits[300:], labels[300:])
    raps = explain.conformal(model, logits[:300], labels[:300], method="raps", penalty=0.5,
                             k_reg=1).evaluate(logits[300:], labels[300:])
    assert raps.sizes.mean() < aps.sizes.mean()
    assert (aps.sizes >= 1).all() and (raps.sizes >= 1).all()


def test_dataset_labels_and_result_fields() -> None:
    logits, labels = _pool(200, 3, seed=5)
    data = explain.Dataset(logits, labels, class_names=["a", "b", "c"])
    model = explain.Model(nn.Identity(), modality="tabular", input_shape=(3,), class_names=["a", "b", "c"])
    cp = explain.conformal(model, data[:100], alpha=0.2, method="lac")
    sets = cp.evaluate(data[100:])
    assert sets.coverage == pytest.approx(cp.coverage(logits[100:], labels[100:]))
    assert sets.size_counts().sum() == 100 and sets.size_counts().shape == (4,)
    assert np.array_equal(sets.covered, sets.sets[np.arange(100), labels[100:]])
    assert sets.class_names == ("a", "b", "c") and len(sets.calibration_scores) == 100
    assert json.loads(json.dumps(sets.to_dict(), allow_nan=False))["method"] == "lac"
    with pytest.raises(DataError, match="labels"):
        cp.coverage(logits[100:])
    fig = plots.set_size_distribution(sets)
    assert list(fig.data[0].y) == sets.size_counts().tolist()


def _linear_regression(noise_of: np.ndarray | None = None, seed: int = 0) -> tuple[explain.Model, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, 2)).astype(np.float32)
    sd = 0.5 if noise_of is None else noise_of(x)
    y = 3 * x[:, 0] - x[:, 1] + rng.normal(size=2000) * sd
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[3.0, -1.0]]))
        net.bias.zero_()
    return explain.Model(net, task="regression", modality="tabular"), x, y


def test_regression_intervals_cover_and_have_the_gaussian_width() -> None:
    model, x, y = _linear_regression()
    cp = explain.conformal(model, x[:1000], y[:1000], alpha=0.1)
    assert cp.method == "residual"
    intervals = cp.predict(x[1000:])
    assert intervals.shape == (1000, 2) and (intervals[:, 0] < intervals[:, 1]).all()
    assert np.allclose(intervals.mean(axis=1), x[1000:] @ np.array([3.0, -1.0]), atol=1e-4)
    assert cp.quantile == pytest.approx(1.645 * 0.5, rel=0.08)
    assert cp.coverage(x[1000:], y[1000:]) >= 0.87
    fig = plots.prediction_intervals(cp.evaluate(x[1000:], y[1000:]))
    assert len(fig.data) == 3
    with pytest.raises(MethodError, match="residual"):
        explain.conformal(model, x[:100], y[:100], method="aps")


def test_normalized_intervals_follow_an_ensemble_spread() -> None:
    model, x, y = _linear_regression(lambda x: 0.1 + np.abs(x[:, 0]))
    other = nn.Linear(2, 1)  # a member that disagrees more where |x0| is large
    with torch.no_grad():
        other.weight.copy_(torch.tensor([[4.0, -1.0]]))
        other.bias.zero_()
    member = explain.Model(other, task="regression", modality="tabular")
    cp = explain.conformal(model, x[:1000], y[:1000], method="normalized", spread="ensemble",
                           models=[member])
    sets = cp.evaluate(x[1000:], y[1000:])
    assert sets.coverage >= 0.86
    widths = sets.sizes
    calm, wild = np.abs(x[1000:, 0]) < 0.3, np.abs(x[1000:, 0]) > 1.5
    assert widths[wild].mean() > 4 * widths[calm].mean()
    plain = explain.conformal(model, x[:1000], y[:1000]).evaluate(x[1000:], y[1000:])
    assert widths.mean() < plain.sizes.mean()


def test_options_are_checked() -> None:
    model = _logit_model(3)
    x, y = np.zeros((20, 3), dtype=np.float32), np.zeros(20, dtype=int)
    with pytest.raises(InputError, match="alpha"):
        explain.conformal(model, x, y, alpha=1.5)
    with pytest.raises(MethodError, match="lac"):
        explain.conformal(model, x, y, method="residual")
    with pytest.raises(DataError, match="from 0 to 2"):
        explain.conformal(model, x, np.full(20, 5))
    with pytest.raises(InputError, match="penalty"):
        explain.conformal(model, x, y, method="raps", penalty=-1)
