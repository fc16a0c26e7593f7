"""explain.fairness and explain.data_balance: every group figure and disparity equals
fairlearn's on the same predictions (metadata groups, intersectional groups, labels, a
bundled example), except where a rate is undefined for a group (NaN and a note, left out
of the disparity, where fairlearn says 0); multiclass, regression, calibration per group,
tests against chance, the threshold preview, data balance, errors and plots."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from fairlearn import metrics as fl
from scipy import stats
from sklearn.metrics import accuracy_score, precision_score

import explain
from explain import plots
from explain.core.running import log_softmax

FAIRLEARN = {
    "demographic_parity_difference": fl.demographic_parity_difference,
    "demographic_parity_ratio": fl.demographic_parity_ratio,
    "equalized_odds_difference": fl.equalized_odds_difference,
    "equalized_odds_ratio": fl.equalized_odds_ratio,
    "equal_opportunity_difference": fl.equal_opportunity_difference,
    "equal_opportunity_ratio": fl.equal_opportunity_ratio,
}


def _model(k: int, task: str = "classification", **options) -> explain.Model:
    """A model whose inputs are its outputs (logits, or the prediction of a regression)."""
    return explain.Model(torch.nn.Identity(), task=task, modality="tabular", input_shape=(k,), **options)


def _table(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Logits and labels of a binary model biased by group, with sex and region metadata."""
    rng = np.random.default_rng(seed)
    meta = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "region": rng.choice(["north", "south", "east"], n)})
    base = {"female": 0.3, "male": 0.55}
    y = (rng.random(n) < meta["sex"].map(base).to_numpy()).astype(int)
    shift = np.where(meta["region"] == "south", -0.6, 0.2) + np.where(meta["sex"] == "male", 0.4, 0.0)
    logits = np.column_stack([np.zeros(n), rng.normal(size=n) + 1.6 * (2 * y - 1) * 0.7 + shift])
    return logits.astype(np.float32).astype(np.float64), y, meta


def _reference(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    frame = fl.MetricFrame(metrics={"selection_rate": fl.selection_rate, "tpr": fl.true_positive_rate,
                                    "fpr": fl.false_positive_rate, "accuracy": accuracy_score,
                                    "precision": lambda t, p: precision_score(t, p, zero_division=0),
                                    "count": fl.count},
                           y_true=y_true, y_pred=y_pred, sensitive_features=groups).by_group
    return frame, {name: float(fn(y_true, y_pred, sensitive_features=groups)) for name, fn in FAIRLEARN.items()}


def _assert_equal_to_fairlearn(result: explain.Fairness, y_true: np.ndarray, y_pred: np.ndarray,
                               groups: np.ndarray) -> None:
    frame, disparities = _reference(y_true, y_pred, groups)
    ours = result.by_group
    assert sorted(ours.index) == sorted(str(g) for g in frame.index)
    for group, row in frame.iterrows():
        for column in ("selection_rate", "tpr", "fpr", "accuracy", "precision", "count"):
            assert ours.loc[str(group), column] == pytest.approx(row[column], abs=1e-12), (group, column)
    for name, value in disparities.items():
        assert result.disparities[name] == pytest.approx(value, abs=1e-12), name
        assert getattr(result, name) == pytest.approx(value, abs=1e-12)


def test_metadata_groups_equal_fairlearn() -> None:
    logits, y, meta = _table()
    result = explain.fairness(_model(2), explain.Dataset(logits, y, metadata=meta), sensitive="region", bootstrap=0)
    _assert_equal_to_fairlearn(result, y, logits.argmax(axis=1), meta["region"].to_numpy())
    assert result.groups == ("east", "north", "south") and result.positive == "1" and result.flips is None
    assert result.demographic_parity_difference > 0.1  # the planted bias against the south
    assert result.extremes["demographic_parity_difference"][1] == "south"


def test_intersectional_groups_equal_fairlearn() -> None:
    logits, y, meta = _table()
    result = explain.fairness(_model(2), explain.Dataset(logits, y, metadata=meta), sensitive=["sex", "region"],
                              bootstrap=0)
    labels = (meta["sex"] + " & " + meta["region"]).to_numpy()
    _assert_equal_to_fairlearn(result, y, logits.argmax(axis=1), labels)
    assert result.groups[0] == "female & east" and len(result.groups) == 6
    assert result.sensitive == ("sex", "region")


def test_an_array_of_groups_equals_fairlearn_and_the_metadata_column() -> None:
    logits, y, meta = _table(seed=1)
    data = explain.Dataset(logits, y, metadata=meta)
    labels = meta["sex"].to_numpy()
    by_array = explain.fairness(_model(2), data, sensitive=labels, bootstrap=0)
    _assert_equal_to_fairlearn(by_array, y, logits.argmax(axis=1), labels)
    by_name = explain.fairness(_model(2), data, sensitive="sex", bootstrap=0)
    pd.testing.assert_frame_equal(by_array.by_group, by_name.by_group)
    assert by_array.sensitive == ("groups",)


def test_bundled_example_equals_fairlearn() -> None:
    model, data = explain.load_example("breast_cancer")
    texture = data.x[:, data.feature_names.index("mean texture")]
    labels = np.where(texture > np.median(texture), "high texture", "low texture")
    result = explain.fairness(model, data, sensitive=labels, bootstrap=0)
    perf = explain.performance(model, data, bootstrap=0)  # the same scoring path
    positive = perf.class_names.index(result.positive)
    assert result.positive == "benign"  # class 1 of the model's outputs
    _assert_equal_to_fairlearn(result, (perf.labels == positive).astype(int),
                               (perf.predictions == positive).astype(int), labels)
    assert len(result.mitigation) == 2


def test_calibration_and_confidence_per_group_equal_torchmetrics() -> None:
    from torchmetrics.classification import MulticlassCalibrationError

    logits, y, meta = _table(n=400)
    result = explain.fairness(_model(2), explain.Dataset(logits, y, metadata=meta), sensitive="sex", bootstrap=0)
    p = np.exp(log_softmax(logits))
    for g, name in enumerate(result.groups):
        rows = meta["sex"].to_numpy() == name
        ece = MulticlassCalibrationError(num_classes=2, n_bins=15, norm="l1")(torch.tensor(p[rows]),
                                                                                torch.tensor(y[rows]))
        assert result.metrics["ece"][g] == pytest.approx(float(ece), abs=1e-6)
        assert result.metrics["mean_confidence"][g] == pytest.approx(p[rows].max(axis=1).mean())


def test_a_group_of_one_row_is_nan_noted_and_left_out() -> None:
    logits, y, meta = _table(n=300)
    labels = meta["sex"].to_numpy().copy()
    lone = int(np.flatnonzero(y == 0)[0])
    labels[lone] = "lone"  # one row, a negative: no TPR, an FPR of 0 or 1
    logits[lone] = [0.0, 5.0]  # predicted positive: FPR 1 for the lone group
    result = explain.fairness(_model(2), explain.Dataset(logits, y), sensitive=labels, bootstrap=0)
    table = result.by_group
    assert np.isnan(table.loc["lone", "tpr"]) and table.loc["lone", "fpr"] == 1.0
    assert table.loc["lone", "small"] and table.loc["lone", "count"] == 1
    assert any("'lone' (no positive labels)" in note for note in result.notes)
    assert any("'lone' (1 row)" in note for note in result.notes)
    others = labels != "lone"
    pred = logits.argmax(axis=1)
    # the TPR disparity leaves the lone group out: fairlearn's on the other rows ...
    assert result.equal_opportunity_difference == pytest.approx(
        fl.equal_opportunity_difference(y[others], pred[others], sensitive_features=labels[others]))
    # ... where fairlearn on every row counts the lone group's TPR as 0
    assert fl.equal_opportunity_difference(y, pred, sensitive_features=labels) == pytest.approx(
        np.nanmax(table["tpr"]))
    assert result.equal_opportunity_difference != pytest.approx(np.nanmax(table["tpr"]))
    # the selection rate is defined for it: demographic parity equals fairlearn's on every row
    assert result.demographic_parity_difference == pytest.approx(
        fl.demographic_parity_difference(y, pred, sensitive_features=labels))


def test_multiclass_needs_the_favourable_class() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 300)
    logits = (rng.normal(size=(300, 3)) + 1.5 * np.eye(3)[y]).astype(np.float32).astype(np.float64)
    groups = rng.choice(["a", "b"], 300)
    model = _model(3, class_names=["low", "mid", "high"])
    with pytest.raises(explain.InputError, match="'low', 'mid', 'high'.*positive="):
        explain.fairness(model, explain.Dataset(logits, y), sensitive=groups)
    with pytest.raises(explain.InputError, match="one of the model's classes"):
        explain.fairness(model, explain.Dataset(logits, y), sensitive=groups, positive="top")
    result = explain.fairness(model, explain.Dataset(logits, y), sensitive=groups, positive="high", bootstrap=0)
    by_index = explain.fairness(model, explain.Dataset(logits, y), sensitive=groups, positive=2, bootstrap=0)
    pd.testing.assert_frame_equal(result.by_group, by_index.by_group)
    pred = logits.argmax(axis=1)
    _assert_equal_to_fairlearn(result, (y == 2).astype(int), (pred == 2).astype(int), groups)
    assert result.mitigation == () and result.positive == "high"


def test_regression_means_and_gaps() -> None:
    rng = np.random.default_rng(4)
    groups = rng.choice(["a", "b", "c"], 200)
    predicted = rng.normal(size=200) + (groups == "c") * 2.0
    truth = predicted + rng.normal(size=200) * np.where(groups == "a", 2.0, 0.5)
    data = explain.Dataset(predicted[:, None], truth.astype(np.float64), task="regression")
    result = explain.fairness(_model(1, task="regression"), data, sensitive=groups, bootstrap=50)
    frame = pd.DataFrame({"g": groups, "p": predicted.astype(np.float32), "t": truth,
                          "e": np.abs(truth - predicted.astype(np.float32))}).groupby("g")
    table = result.by_group
    np.testing.assert_allclose(table["mean_prediction"], frame["p"].mean(), rtol=1e-6)
    np.testing.assert_allclose(table["mean_label"], frame["t"].mean(), rtol=1e-12)
    np.testing.assert_allclose(table["mae"], frame["e"].mean(), rtol=1e-6)
    gap = frame["e"].mean().max() - frame["e"].mean().min()
    assert result.disparities["mae_gap"] == pytest.approx(gap, rel=1e-6)
    assert result.extremes["mae_gap"] == ("a", "b") or result.extremes["mae_gap"][0] == "a"
    assert result.p_values["mae_gap"] < 1e-6 and result.tests["mae_gap"] == "welch"
    assert (table["mae_low"] <= table["mae"]).all() and (table["mae"] <= table["mae_high"]).all()
    assert "mean absolute error differs" in result.verdict()
    with pytest.raises(explain.InputError, match="regression"):
        explain.fairness(_model(1, task="regression"), data, sensitive=groups, positive=1)


def test_disparity_against_chance_is_the_two_proportion_test() -> None:
    logits, y, meta = _table(n=500, seed=5)
    result = explain.fairness(_model(2), explain.Dataset(logits, y, metadata=meta), sensitive="sex", bootstrap=0)
    c = result.counts
    table = [[c["predicted_positives"][g], c["count"][g] - c["predicted_positives"][g]] for g in range(2)]
    chi2 = stats.chi2_contingency(np.array(table), correction=False)  # the pooled z-test, squared
    assert result.tests["demographic_parity_difference"] == "z"
    assert result.p_values["demographic_parity_difference"] == pytest.approx(chi2.pvalue, rel=1e-9)
    # the same decision rate in two halves of one group: within chance
    rng = np.random.default_rng(0)
    same = explain.fairness(_model(2), explain.Dataset(logits, y), sensitive=rng.choice(["a", "b"], 500), bootstrap=0)
    assert not same.beyond_chance["demographic_parity_difference"]
    assert "within what chance allows" in same.verdict()
    # three groups: the extreme pair's p-value times the three pairs (Bonferroni)
    regions = explain.fairness(_model(2), explain.Dataset(logits, y, metadata=meta), sensitive="region",
                               bootstrap=0)
    hi, lo = (regions.groups.index(g) for g in regions.extremes["demographic_parity_difference"])
    c = regions.counts
    pair = [[c["predicted_positives"][g], c["count"][g] - c["predicted_positives"][g]] for g in (hi, lo)]
    expected = min(1.0, 3 * stats.chi2_contingency(np.array(pair), correction=False).pvalue)
    assert regions.p_values["demographic_parity_difference"] == pytest.approx(expected, rel=1e-9)


def test_small_counts_use_fisher() -> None:
    logits = np.array([[0.0, 1.0]] * 4 + [[1.0, 0.0]] * 1 + [[0.0, 1.0]] * 1 + [[1.0, 0.0]] * 4)
    y = np.array([1, 0] * 5)
    result = explain.fairness(_model(2), explain.Dataset(logits, y), sensitive=["a"] * 5 + ["b"] * 5, bootstrap=0)
    assert result.tests["demographic_parity_difference"] == "fisher"
    assert result.p_values["demographic_parity_difference"] == pytest.approx(
        stats.fisher_exact([[4, 1], [1, 4]]).pvalue)


def test_bootstrap_intervals_are_seeded_and_hold_the_estimate() -> None:
    logits, y, meta = _table(n=300)
    data = explain.Dataset(logits, y, metadata=meta)
    a = explain.fairness(_model(2), data, sensitive="region", bootstrap=100, seed=7)
    b = explain.fairness(_model(2), data, sensitive="region", bootstrap=100, seed=7)
    pd.testing.assert_frame_equal(a.by_group, b.by_group)
    table = a.by_group
    for rate in ("selection_rate", "tpr", "fpr", "accuracy"):
        assert (table[f"{rate}_low"] <= table[rate]).all() and (table[rate] <= table[f"{rate}_high"]).all()
    for rate in ("selection_rate", "accuracy"):  # TPR can be 1 in every draw here
        assert (table[f"{rate}_high"] - table[f"{rate}_low"] > 0.02).all()


def test_threshold_preview_equalises_the_planted_bias() -> None:
    rng = np.random.default_rng(6)
    n = 1200
    groups = rng.choice(["a", "b"], n)
    y = (rng.random(n) < 0.5).astype(int)
    logit = rng.normal(size=n) + 2.0 * (2 * y - 1) - 1.5 * (groups == "b")  # b is scored lower
    logits = np.column_stack([np.zeros(n), logit]).astype(np.float32).astype(np.float64)
    result = explain.fairness(_model(2), explain.Dataset(logits, y), sensitive=groups, bootstrap=0)
    parity, opportunity = result.mitigation
    assert parity.criterion == "demographic_parity" and opportunity.criterion == "equal_opportunity"
    assert parity.disparity_before == pytest.approx(result.demographic_parity_difference)
    assert parity.disparity_before > 0.15 and parity.disparity_after < 0.01
    assert opportunity.disparity_before == pytest.approx(result.equal_opportunity_difference)
    assert opportunity.disparity_after < 0.01
    p1 = np.exp(log_softmax(logits))[:, 1]
    for g, name in enumerate(parity.groups):  # the thresholds give the rates reported
        rows = groups == name
        assert np.mean(p1[rows] >= parity.thresholds[g]) == pytest.approx(parity.after[g])
    decided = np.where(groups == "a", p1 >= parity.thresholds[0], p1 >= parity.thresholds[1])
    assert parity.accuracy_after == pytest.approx(np.mean(decided == y))
    assert parity.thresholds[1] < 0.5 < parity.thresholds[0]
    assert "gap from" in parity.sentence()


def test_data_balance_standardised_mean_differences_by_hand() -> None:
    x = np.array([[1.0, 10, 0], [3.0, 10, 1], [2.0, 12, 0], [6.0, 11, 1], [8.0, 13, 1], [7.0, 14, 0]])
    meta = pd.DataFrame({"grp": ["p", "p", "p", "q", "q", "r"]})
    data = explain.Dataset(x, np.array([0, 1, 0, 1, 1, 0]), feature_names=["age", "score", "flag"],
                           class_names=["no", "yes"], metadata=meta)
    two = explain.data_balance(data[:5], sensitive="grp")
    age_p, age_q = np.array([1.0, 3, 2]), np.array([6.0, 8])
    expected = (age_p.mean() - age_q.mean()) / np.sqrt((age_p.var(ddof=1) + age_q.var(ddof=1)) / 2)
    assert two.smd_table.loc["p", "age"] == pytest.approx(expected)
    assert two.smd_table.loc["q", "age"] == pytest.approx(-expected)
    assert two.by_group["count"].tolist() == [3, 2]
    assert two.by_group["share yes"].tolist() == pytest.approx([1 / 3, 1.0])
    three = explain.data_balance(data, sensitive="grp")
    rest = np.array([1.0, 3, 2, 6, 8])  # r against the rest
    score_r = (7 - rest.mean()) / np.sqrt((np.nan + rest.var(ddof=1)) / 2)
    assert np.isnan(score_r) and np.isnan(three.smd_table.loc["r", "age"])  # one row: no variance
    q_rest = np.array([1.0, 3, 2, 7])
    assert three.smd_table.loc["q", "age"] == pytest.approx(
        (7.0 - q_rest.mean()) / np.sqrt((age_q.var(ddof=1) + q_rest.var(ddof=1)) / 2))
    feature, group, value = three.largest()  # p = [1, 3, 2] against [6, 8, 7]: -5 / 1
    assert (feature, group) == ("age", "p") and value == pytest.approx(-5.0)
    assert three.sentence().startswith("the largest imbalance is age: 'p' against the rest, standardised mean "
                                       "difference -5 ")
    by_feature = explain.data_balance(data, sensitive="flag")  # a feature: not compared with itself
    assert by_feature.features == ("age", "score") and by_feature.groups == ("0", "1")


def test_data_balance_regression_labels() -> None:
    data = explain.Dataset(np.arange(8.0)[:, None], np.arange(8.0), task="regression")
    balance = explain.data_balance(data, sensitive=["a"] * 4 + ["b"] * 4)
    assert balance.by_group["mean_label"].tolist() == [1.5, 5.5] and balance.label_counts is None


def test_errors_name_the_fix() -> None:
    logits, y, meta = _table(n=60)
    data = explain.Dataset(logits, y, metadata=meta)
    with pytest.raises(explain.InputError, match="'sex', 'region'"):
        explain.fairness(_model(2), data, sensitive="age")
    with pytest.raises(explain.InputError, match="one label per row"):
        explain.fairness(_model(2), data, sensitive=np.array(["a", "b"]))
    with pytest.raises(explain.InputError, match="bin it first"):
        explain.fairness(_model(2), data, sensitive="x1")  # a continuous feature: 60 groups
    with pytest.raises(explain.InputTypeError, match="explain.Dataset"):
        explain.fairness(_model(2), logits, sensitive="sex")
    with pytest.raises(explain.InputTypeError, match="sensitive must be"):
        explain.data_balance(data, sensitive=3)


def test_results_export_pickle_and_plot() -> None:
    logits, y, meta = _table(n=200)
    result = explain.fairness(_model(2), explain.Dataset(logits, y, metadata=meta), sensitive="sex", bootstrap=20)
    exported = json.loads(result.to_json())
    assert exported["disparities"]["demographic_parity_difference"] == pytest.approx(
        result.demographic_parity_difference)
    assert len(exported["mitigation"]) == 2
    again = pickle.loads(pickle.dumps(result))
    pd.testing.assert_frame_equal(again.by_group, result.by_group)
    with pytest.raises(ValueError):
        result.codes[0] = 1
    fig = result.plot("tpr")
    assert list(fig.data[0].x) == ["female", "male"] and fig.data[0].error_y.array is not None
    assert result.mitigation[0].plot().data[1].name == "per-group thresholds"
    balance = explain.data_balance(explain.Dataset(logits, y, metadata=meta), sensitive="sex")
    assert balance.plot().data[0].type == "bar" and json.loads(balance.to_json())["groups"] == ["female", "male"]
    with pytest.raises(explain.InputError, match="metric must be one of"):
        plots.group_bars(result, "auc")
    with pytest.raises(explain.InputError, match="explain.fairness"):
        plots.group_bars(balance)


# --- conformal coverage per group --------------------------------------------------------------
def test_conformal_coverage_per_group_equals_explain_conformal_on_the_same_split() -> None:
    """The sets calibrated on the seeded half by explain.conformal (LAC, alpha 0.1) cover each
    group's rows of the other half exactly as often as fairness reports; a group whose labels
    are noise is covered far less than the 90% promised on average."""
    rng = np.random.default_rng(3)
    n = 1200
    group = rng.choice(["a", "b"], n, p=[0.8, 0.2])
    y = rng.integers(0, 3, n)
    logits = np.eye(3)[y] * 3.0 + rng.normal(size=(n, 3))
    y = np.where(group == "b", rng.integers(0, 3, n), y)  # the model's scores say nothing about b's labels
    data = explain.Dataset(logits.astype(np.float32), y, metadata=pd.DataFrame({"group": group}))
    model = _model(3)
    result = explain.fairness(model, data, sensitive="group", positive=2, bootstrap=0, seed=5)
    order = np.random.default_rng(5).permutation(n)
    calibrate, measure = order[: n // 2], order[n // 2:]
    predictor = explain.conformal(model, data.x[calibrate], y[calibrate], alpha=0.1)
    sets = np.asarray(predictor.predict(data.x[measure]))
    held = sets[np.arange(len(measure)), y[measure]]
    table = result.by_group
    for name in ("a", "b"):
        rows = group[measure] == name
        assert table.loc[name, "coverage"] == pytest.approx(held[rows].mean())
        assert table.loc[name, "set_size"] == pytest.approx(sets[rows].sum(axis=1).mean())
    assert held.mean() >= 0.87 and table.loc["b", "coverage"] < 0.75 < 0.9 < table.loc["a", "coverage"]
    regression = explain.fairness(_model(1, task="regression"), explain.Dataset(
        logits[:, :1].astype(np.float32), logits[:, 0] + rng.normal(size=n) * np.where(group == "b", 3.0, 0.3),
        metadata=pd.DataFrame({"group": group})), sensitive="group", bootstrap=0)
    assert regression.by_group.loc["b", "coverage"] < 0.5 < 0.9 < regression.by_group.loc["a", "coverage"]
    assert np.ptp(regression.by_group["interval_width"]) < 1e-9  # one threshold for every group
