"""explain.performance: every figure equals scikit-learn's on the same predictions, on seeded
datasets with balanced and imbalanced classes, ties, and classes absent from the predictions
or from the truth; thresholds, bootstrap intervals, options and the plots."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn import metrics as sk

import explain
from explain import plots
from explain.core.running import log_softmax
from explain.diagnostics.scoring import score


def _model(k: int, **options) -> explain.Model:
    """A classifier whose inputs are its logits."""
    return explain.Model(torch.nn.Identity(), task="classification", modality="tabular", input_shape=(k,),
                         **options)


def _softmax(logits: np.ndarray) -> np.ndarray:
    """The model's probabilities, computed as explain computes them (so that tied scores
    stay tied to the last bit): the predictions that sklearn scores too."""
    return np.exp(log_softmax(logits))


def _case(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Seeded logits (float32 values, as the model runs) and true labels."""
    logits, y = _draw(name)
    return logits.astype(np.float32).astype(np.float64), y


def _draw(name: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(CASES.index(name))
    if name == "binary":
        y = rng.integers(0, 2, 300)
        return rng.normal(size=(300, 2)) + np.eye(2)[y] * 1.2, y
    if name == "imbalanced":  # 5% positives
        y = (rng.random(400) < 0.05).astype(int)
        return rng.normal(size=(400, 2)) + np.eye(2)[y] * 1.5, y
    if name == "ties":  # scores rounded to one decimal: many tied thresholds
        y = rng.integers(0, 2, 250)
        return np.round(rng.normal(size=(250, 2)) + np.eye(2)[y], 1), y
    if name == "multiclass":  # 4 classes, 60 / 25 / 10 / 5 %
        y = rng.choice(4, 500, p=[0.6, 0.25, 0.1, 0.05])
        return rng.normal(size=(500, 4)) + np.eye(4)[y] * 1.5, y
    if name == "never_predicted":  # class 2 is never the largest output
        y = rng.integers(0, 3, 200)
        logits = rng.normal(size=(200, 3)) + np.eye(3)[y]
        logits[:, 2] -= 10
        return logits, y
    raise KeyError(name)


CASES = ["binary", "imbalanced", "ties", "multiclass", "never_predicted"]


@pytest.mark.parametrize("case", CASES)
def test_classification_figures_equal_scikit_learn(case: str) -> None:
    logits, y = _case(case)
    k = logits.shape[1]
    perf = explain.performance(_model(k), logits, y, bootstrap=0)
    p = _softmax(logits)
    predicted = logits.argmax(axis=1)
    labels = list(range(k))
    assert perf.predictions.tolist() == predicted.tolist()
    assert perf.accuracy == pytest.approx(sk.accuracy_score(y, predicted), abs=1e-15)
    assert perf.balanced_accuracy == pytest.approx(sk.balanced_accuracy_score(y, predicted), abs=1e-12)
    assert perf.confusion_matrix.tolist() == sk.confusion_matrix(y, predicted, labels=labels).tolist()
    precision, recall, f1, support = sk.precision_recall_fscore_support(y, predicted, labels=labels,
                                                                        zero_division=0)
    table = perf.per_class
    np.testing.assert_allclose(table["precision"], precision, atol=1e-12)
    np.testing.assert_allclose(table["recall"], recall, atol=1e-12)
    np.testing.assert_allclose(table["f1"], f1, atol=1e-12)
    assert table["support"].tolist() == support.tolist()
    assert perf.f1_macro == pytest.approx(sk.f1_score(y, predicted, average="macro", zero_division=0), abs=1e-12)
    assert perf.log_loss == pytest.approx(sk.log_loss(y, p, labels=labels), rel=1e-12)
    if k == 2:
        assert perf.roc_auc == pytest.approx(sk.roc_auc_score(y, p[:, 1]), abs=1e-12)
        assert perf.average_precision == pytest.approx(sk.average_precision_score(y, p[:, 1]), abs=1e-12)
        assert perf.brier == pytest.approx(sk.brier_score_loss(y, p[:, 1]), abs=1e-12)
    else:
        assert perf.roc_auc == pytest.approx(sk.roc_auc_score(y, p, multi_class="ovr", average="macro"), abs=1e-12)
        onehot = np.eye(k)[y]
        assert perf.average_precision == pytest.approx(sk.average_precision_score(onehot, p, average="macro"),
                                                       abs=1e-12)
        assert perf.brier == pytest.approx(sk.brier_score_loss(y, p, labels=labels), abs=1e-12)
    for c in range(k):  # one against the rest, every class
        assert table["roc_auc"].iloc[c] == pytest.approx(sk.roc_auc_score(y == c, p[:, c]), abs=1e-12)
        assert table["average_precision"].iloc[c] == pytest.approx(sk.average_precision_score(y == c, p[:, c]),
                                                                   abs=1e-12)
    for c in ([1] if k == 2 else range(k)):
        fpr, tpr, thresholds = sk.roc_curve(y == c, p[:, c])
        curve = perf.roc[perf.roc["class"] == str(c)]
        np.testing.assert_allclose(curve["fpr"], fpr, atol=1e-15)
        np.testing.assert_allclose(curve["tpr"], tpr, atol=1e-15)
        np.testing.assert_array_equal(curve["threshold"], thresholds)
        precision, recall, thresholds = sk.precision_recall_curve(y == c, p[:, c])
        curve = perf.precision_recall[perf.precision_recall["class"] == str(c)]
        np.testing.assert_allclose(curve["precision"], precision, atol=1e-15)
        np.testing.assert_allclose(curve["recall"], recall, atol=1e-15)
        np.testing.assert_array_equal(curve["threshold"].iloc[:-1], thresholds)


def test_brier_of_two_classes_is_half_the_sum_over_classes() -> None:
    logits, y = _case("binary")
    perf = explain.performance(_model(2), logits, y, bootstrap=0)
    p = _softmax(logits)
    summed = np.mean(((p - np.eye(2)[y]) ** 2).sum(axis=1))
    assert perf.brier == pytest.approx(summed / 2, abs=1e-12)
    assert perf.brier == pytest.approx(sk.brier_score_loss(y, p, labels=[0, 1], scale_by_half=True), abs=1e-12)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_a_class_absent_from_the_truth_leaves_roc_auc_undefined_and_says_so() -> None:
    logits, y = _case("multiclass")
    y = np.where(y == 3, 0, y)  # no true rows of class 3
    perf = explain.performance(_model(4, class_names=["a", "b", "c", "d"]), logits, y, bootstrap=50)
    predicted = logits.argmax(axis=1)
    assert perf.roc_auc is None and "roc_auc" not in perf.intervals
    assert any("'d'" in note for note in perf.notes)
    assert perf.balanced_accuracy == pytest.approx(sk.balanced_accuracy_score(y, predicted), abs=1e-12)
    assert perf.f1_macro == pytest.approx(sk.f1_score(y, predicted, average="macro", zero_division=0), abs=1e-12)
    assert np.isnan(perf.per_class.loc["d", "roc_auc"]) and "d" not in set(perf.roc["class"])


def test_labels_of_one_class_leave_the_curves_out() -> None:
    logits, y = _case("binary")
    perf = explain.performance(_model(2), logits, np.zeros_like(y), bootstrap=20)
    assert perf.roc_auc is None and len(perf.roc) == 0 and len(perf.precision_recall) == 0
    assert perf.accuracy == pytest.approx(np.mean(logits.argmax(axis=1) == 0)) and "roc_auc" not in perf.intervals
    assert [t.name for t in plots.roc_curve(perf).data] == ["chance"]


def test_one_sigmoid_output_counts_as_two_classes() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(120, 1))
    y = (z[:, 0] + rng.normal(size=120) > 0).astype(int)
    perf = explain.performance(_model(1), z, y, bootstrap=0)
    p1 = 1 / (1 + np.exp(-z[:, 0]))
    assert perf.accuracy == pytest.approx(sk.accuracy_score(y, z[:, 0] > 0))
    assert perf.roc_auc == pytest.approx(sk.roc_auc_score(y, p1), abs=1e-12)


def test_metrics_at_every_threshold_equal_scikit_learn() -> None:
    logits, y = _case("ties")
    perf = explain.performance(_model(2), logits, y, bootstrap=0)
    p1 = _softmax(logits)[:, 1]
    table = perf.thresholds
    assert np.isinf(table["threshold"].iloc[0]) and table["predicted_positive_rate"].iloc[0] == 0
    assert table["threshold"].iloc[1:].tolist() == sorted(set(p1.tolist()), reverse=True)
    for _, row in table.iloc[1:].iterrows():
        called = p1 >= row["threshold"]
        tn, fp, fn, tp = sk.confusion_matrix(y, called, labels=[False, True]).ravel()
        assert row["precision"] == pytest.approx(sk.precision_score(y, called), abs=1e-12)
        assert row["recall"] == pytest.approx(sk.recall_score(y, called), abs=1e-12)
        assert row["f1"] == pytest.approx(sk.f1_score(y, called), abs=1e-12)
        assert row["fpr"] == pytest.approx(fp / (fp + tn), abs=1e-12) and row["tpr"] == row["recall"]
        assert row["predicted_positive_rate"] == pytest.approx(called.mean(), abs=1e-12)


def test_best_threshold_by_f1_and_by_cost_and_using_it() -> None:
    logits, y = _case("imbalanced")
    model = _model(2)
    perf = explain.performance(model, logits, y, bootstrap=0)
    p1 = _softmax(logits)[:, 1]
    candidates = [np.inf, *sorted(set(p1.tolist()), reverse=True)]
    f1 = [sk.f1_score(y, p1 >= t, zero_division=0) for t in candidates]
    assert perf.best_threshold("f1") == candidates[int(np.argmax(f1))]
    cost = [np.sum((p1 >= t) & (y == 0)) + 10 * np.sum((p1 < t) & (y == 1)) for t in candidates]
    best = perf.best_threshold(cost_ratio=10)
    assert best == candidates[int(np.argmin(cost))] and best < perf.best_threshold(cost_ratio=0.1)
    chosen = explain.performance(model, logits, y, cost_ratio=10, bootstrap=0)
    assert chosen.threshold == best and chosen.predictions.tolist() == (p1 >= best).astype(int).tolist()
    fixed = explain.performance(model, logits, y, threshold=0.3, bootstrap=0)
    assert fixed.accuracy == pytest.approx(sk.accuracy_score(y, p1 >= 0.3))
    assert fixed.confusion_matrix.tolist() == sk.confusion_matrix(y, p1 >= 0.3).tolist()
    youden = perf.thresholds["tpr"] - perf.thresholds["fpr"]
    assert perf.best_threshold("youden") == perf.thresholds["threshold"].iloc[int(np.argmax(youden))]
    with pytest.raises(explain.InputError, match="metric must be one of"):
        perf.best_threshold("auc")


def test_regression_figures_equal_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(150, 3)).astype(np.float32)
    model = explain.Model(torch.nn.Linear(3, 1), task="regression", modality="tabular")
    predicted = model.predict(x).astype(np.float64)
    y = predicted + rng.normal(scale=0.5, size=150)
    perf = explain.performance(model, explain.Dataset(x, y, task="regression"), bootstrap=100)
    assert perf.r2 == pytest.approx(sk.r2_score(y, predicted), abs=1e-12)
    assert perf.mae == pytest.approx(sk.mean_absolute_error(y, predicted), abs=1e-12)
    assert perf.rmse == pytest.approx(sk.root_mean_squared_error(y, predicted), abs=1e-12)
    np.testing.assert_allclose(perf.residuals, y - predicted, atol=1e-12)
    assert set(perf.intervals) == {"r2", "mae", "rmse"}
    constant = explain.performance(model, x, np.ones(150), bootstrap=0)
    assert np.isnan(constant.r2) and constant.notes  # undefined: sklearn says 0.0, or -inf unforced


def test_a_labelled_dataset_is_matched_as_score_matches_it() -> None:
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 3, 60)
    x = np.eye(3, dtype=np.float32)[classes] + rng.uniform(0, 0.1, (60, 3)).astype(np.float32)
    truth = np.where(np.arange(60) < 6, (classes + 1) % 3, classes)
    data = explain.Dataset(x, truth, class_names=["type_a", "type_b", "type_c"])
    net = torch.nn.Linear(3, 3)
    with torch.no_grad():
        net.weight.copy_(torch.eye(3))
        net.bias.zero_()
    model = explain.Model(net, modality="tabular")
    perf, scored = explain.performance(model, data, bootstrap=0), score(model, data)
    assert perf.accuracy == scored.value == pytest.approx(0.9) and perf.mapping == scored.mapping
    assert perf.class_names == ("type_a", "type_b", "type_c")
    assert perf.per_class.index.tolist() == ["type_a", "type_b", "type_c"]
    assert perf.rows.tolist() == list(range(60))
    assert explain.performance(model, data[10:20], bootstrap=0).rows.tolist() == list(range(10, 20))


def _intervals(n: int, seed: int = 0) -> explain.Performance:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, n)
    logits = rng.normal(size=(n, 2)) + np.eye(2)[y]
    return explain.performance(_model(2), logits, y, bootstrap=300, seed=seed)


def test_bootstrap_intervals_hold_the_estimate_shrink_with_n_and_are_seeded() -> None:
    small, large = _intervals(200), _intervals(5000)
    for perf in (small, large):
        assert set(perf.intervals) == {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc"}
        for name, (low, high) in perf.intervals.items():
            assert low <= getattr(perf, name) <= high, name
    for name in small.intervals:
        width = np.diff(small.intervals[name])[0]
        assert 0 < np.diff(large.intervals[name])[0] < width / 3, name  # 25x the rows: about a fifth
    assert _intervals(200).intervals == small.intervals != _intervals(200, seed=1).intervals
    # the percentile interval of accuracy is close to the normal approximation
    se = np.sqrt(small.accuracy * (1 - small.accuracy) / 200)
    assert np.diff(small.intervals["accuracy"])[0] == pytest.approx(2 * 1.96 * se, rel=0.2)


def test_options_are_checked() -> None:
    logits, y = _case("multiclass")
    with pytest.raises(explain.InputError, match="binary classifiers"):
        explain.performance(_model(4), logits, y, threshold=0.5)
    with pytest.raises(explain.InputError, match="not both"):
        explain.performance(_model(2), logits[:, :2], y % 2, threshold=0.5, cost_ratio=2)
    with pytest.raises(explain.InputError, match="bootstrap"):
        explain.performance(_model(4), logits, y, bootstrap=-1)
    with pytest.raises(explain.InputError, match="level"):
        explain.performance(_model(4), logits, y, level=1.0)
    with pytest.raises(explain.DataError, match="labels"):
        explain.performance(_model(4), logits)
    with pytest.raises(explain.DataError, match="from 0 to 3"):
        explain.performance(_model(4), logits, y + 1)
    with pytest.raises(explain.InputTypeError):
        explain.performance(torch.nn.Identity(), logits, y)
    regression = explain.Model(torch.nn.Linear(4, 1), task="regression", modality="tabular")
    with pytest.raises(explain.InputError, match="regression"):
        explain.performance(regression, logits.astype(np.float32), y.astype(float), threshold=0.5)


def test_the_result_is_frozen_picklable_and_exports_json() -> None:
    logits, y = _case("binary")
    perf = explain.performance(_model(2), logits, y, bootstrap=20)
    assert not perf.confusion_matrix.flags.writeable and not perf.threshold_points.flags.writeable
    with pytest.raises(AttributeError):
        perf.accuracy = 1.0  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(perf))
    assert again.intervals == perf.intervals and again.roc.equals(perf.roc)
    assert '"accuracy"' in perf.to_json() and set(perf.metrics) >= {"accuracy", "balanced_accuracy", "roc_auc"}


def test_plots_draw_the_result() -> None:
    logits, y = _case("imbalanced")
    perf = explain.performance(_model(2, class_names=["ok", "<fraud>"]), logits, y, threshold=0.4, bootstrap=0)
    counts = plots.confusion_matrix(perf)
    assert [list(r) for r in counts.data[0].text] == perf.confusion_matrix.astype(str).tolist()
    assert list(counts.data[0].x) == ["ok", "&lt;fraud&gt;"]
    shares = plots.confusion_matrix(perf, normalize=True).data[0].z
    np.testing.assert_allclose(np.asarray(shares).sum(axis=1), 1.0)
    roc = plots.roc_curve(perf)
    assert [t.name.split(" (")[0] for t in roc.data] == ["&lt;fraud&gt;", "chance"]
    assert len(plots.roc_curve(perf, max_points=10).data[0].x) <= 10
    assert plots.pr_curve(perf).data[0].name.startswith("&lt;fraud&gt; (AP")
    curve = plots.threshold_curve(perf)
    assert [t.name for t in curve.data] == ["precision", "recall", "f1"]
    assert curve.layout.shapes[0].x0 == 0.4
    multi = explain.performance(_model(4), *_case("multiclass"), bootstrap=0)
    assert len(plots.roc_curve(multi).data) == 5 and len(plots.pr_curve(multi).data) == 4
    with pytest.raises(explain.InputError, match="binary"):
        plots.threshold_curve(multi)
    with pytest.raises(explain.InputError, match="regression"):
        plots.residuals(perf)
    rng = np.random.default_rng(2)
    model = explain.Model(torch.nn.Linear(2, 1), task="regression", modality="tabular")
    x = rng.normal(size=(40, 2)).astype(np.float32)
    regression = explain.performance(model, x, rng.normal(size=40), bootstrap=0)
    fig = plots.residuals(regression)
    assert [t.type for t in fig.data] == ["scatter", "histogram"]
    np.testing.assert_allclose(fig.data[0].y, regression.residuals)
    with pytest.raises(explain.InputError, match="classification"):
        plots.confusion_matrix(regression)
    with pytest.raises(explain.InputError, match="Performance"):
        plots.roc_curve(object())  # type: ignore[arg-type]
