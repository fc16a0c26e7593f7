"""explain.slices: rules parsed without eval, metrics per slice with Wilson / t intervals,
tests against the rest (Fisher, two-proportion z, Welch) checked against scipy, and Holm's
correction, so that a planted failure is flagged and small or random slices are not."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

import explain
from explain import plots
from explain.diagnostics import significance as sig


def _identity(k: int, **options) -> explain.Model:
    return explain.Model(torch.nn.Identity(), task="classification", modality="tabular", input_shape=(k,),
                         **options)


def _planted(n: int = 2000, seed: int = 0) -> tuple[explain.Model, explain.Dataset, np.ndarray]:
    """A binary classifier wrong on 40% of the 'north' rows aged over 60 and 5% elsewhere;
    its two features are its logits."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    region = rng.choice(["north", "south", "east"], n)
    age = rng.integers(18, 90, n).astype(float)
    failing = (region == "north") & (age > 60)
    wrong = rng.random(n) < np.where(failing, 0.4, 0.05)
    predicted = np.where(wrong, 1 - truth, truth)
    logits = np.eye(2, dtype=np.float32)[predicted] * 2
    age[rng.random(n) < 0.05] = np.nan  # missing ages
    meta = pd.DataFrame({"region": region, "age": age, "batch": rng.integers(0, 10, n)})
    data = explain.Dataset(logits, truth, feature_names=["logit_0", "logit_1"], metadata=meta)
    return _identity(2, class_names=["no", "yes"]), data, wrong


def test_a_planted_failure_is_flagged_and_chance_slices_are_not() -> None:
    model, data, wrong = _planted()
    rules = {"old north": "region == 'north' and age > 60", "south": "region == 'south'",
             "tiny": "region == 'east' and age >= 89", "batch 3": "batch == 3", "young": "age < 30"}
    result = explain.slices(model, data, rules)
    table = result.table
    assert table.index.tolist() == list(rules) and result.metric == "error_rate"
    assert table.loc["old north", "flagged"] and not table.loc[["tiny", "batch 3"], "flagged"].any()
    # outside the failure the model is better than the rest, which holds the failure: flagged, below
    assert table.loc["south", "flagged"] and table.loc["south", "difference"] < 0
    meta = data.metadata
    old_north = (meta["region"] == "north") & (meta["age"] > 60)
    assert table.loc["old north", "size"] == old_north.sum()
    assert table.loc["old north", "value"] == pytest.approx(wrong[old_north].mean())
    assert table.loc["old north", "rest"] == pytest.approx(wrong[~old_north].mean())
    young = meta["age"] < 30  # a missing age is in no slice that tests age
    assert table.loc["young", "size"] == young.sum() and result.rows_of("young").tolist() == np.flatnonzero(young).tolist()
    assert table.loc["tiny", "test"] == "fisher" and table.loc["south", "test"] == "z"
    assert result.overall == pytest.approx(wrong.mean())


def test_no_slice_is_flagged_when_errors_fall_at_random() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    truth = rng.integers(0, 2, n)
    wrong = rng.random(n) < 0.1
    logits = np.eye(2, dtype=np.float32)[np.where(wrong, 1 - truth, truth)]
    meta = pd.DataFrame({"group": rng.integers(0, 30, n)})
    data = explain.Dataset(logits, truth, metadata=meta)
    result = explain.slices(_identity(2), data, [f"group == {g}" for g in range(30)])
    assert not result.flagged.any()
    assert (result.p_adjusted >= result.p_value).all()
    assert (result.p_value < 0.05).sum() <= 4  # raw p-values do cry wolf now and then; Holm does not


def test_intervals_and_tests_equal_scipy() -> None:
    for errors, size in [(0, 10), (3, 10), (20, 40), (150, 1000)]:
        ci = stats.binomtest(errors, size).proportion_ci(confidence_level=0.9, method="wilson")
        from explain.diagnostics.cohort_stats import wilson

        low, high = wilson(np.array([errors]), np.array([size]), sig.z_quantile(0.9))
        assert (low[0], high[0]) == pytest.approx((ci.low, ci.high), abs=1e-12)
    for table in ([[3, 7], [10, 90]], [[0, 5], [30, 200]], [[12, 3], [1, 9]]):
        assert sig.fisher_exact(*table[0], *table[1]) == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-9)
    e1, n1, e2, n2 = 30, 200, 100, 1500
    pooled = (e1 + e2) / (n1 + n2)
    z = (e1 / n1 - e2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert sig.two_proportions(e1, n1, e2, n2) == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)
    assert sig.rates_p_value(e1, n1, e2, n2)[0] == "z" and sig.rates_p_value(1, 8, 20, 2000)[0] == "fisher"
    rng = np.random.default_rng(4)
    a, b = rng.exponential(1.0, 25), rng.exponential(1.4, 300)
    assert sig.welch(a, b) == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-8)
    t_low, t_high = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))
    assert sig.mean_interval(a, 0.95) == pytest.approx((t_low, t_high), rel=1e-9)
    for df in (1, 4.5, 30, 1e4, 1e6):
        assert sig.t_sf(2.1, df) == pytest.approx(stats.t.sf(2.1, df), rel=1e-7)


def test_holm_adjustment_by_hand() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    # sorted: 0.005 (x4), 0.01 (x3), 0.03 (x2), 0.04 (x1), kept monotone
    np.testing.assert_allclose(sig.holm(p), [0.03, 0.06, 0.06, 0.02, np.nan])
    assert sig.holm(np.array([0.5, 0.9])).tolist() == [1.0, 1.0]


def test_regression_slices_use_mean_absolute_error() -> None:
    rng = np.random.default_rng(2)
    n = 600
    x = rng.normal(size=(n, 2)).astype(np.float32)
    net = torch.nn.Linear(2, 1)
    model = explain.Model(net, task="regression", modality="tabular", feature_names=["a", "b"])
    predicted = model.predict(x).astype(np.float64)
    noise = np.where(x[:, 0] > 1, 3.0, 0.3)
    y = predicted + rng.normal(size=n) * noise
    result = explain.slices(model, explain.Dataset(x, y, task="regression", feature_names=["a", "b"]),
                            {"high a": "a > 1", "low b": "b < -1"})
    residual = np.abs(y - predicted)
    inside = x[:, 0] > 1
    assert result.metric == "mae" and result.tests == ("welch", "welch")
    assert result.value[0] == pytest.approx(residual[inside].mean(), rel=1e-6)
    assert result.flagged.tolist() == [True, False]
    assert (result.low[0], result.high[0]) == pytest.approx(sig.mean_interval(residual[inside], 0.95), rel=1e-6)


def test_text_and_image_slices_use_derived_columns(tmp_path: Path) -> None:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["good", "bad", "refund", "movie", "the"]
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=10, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    model = explain.Model(BertForSequenceClassification(config).eval(), modality="text",
                          tokenizer=BertTokenizerFast(vocab=str(tmp_path / "vocab.txt")), class_names=["neg", "pos"])
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 9))) for _ in range(80)]
    data = explain.Dataset(texts=texts, y=rng.integers(0, 2, 80), class_names=["neg", "pos"])
    result = explain.slices(model, data, ["length > 4", "contains 'REFUND'", "true_class == 'pos'",
                                          "predicted_class != 'pos' and length <= 4"])
    predicted = model.logits(texts).argmax(axis=1)
    lengths = np.array([len(t.split()) for t in texts])
    assert result.size.tolist() == [(lengths > 4).sum(), sum("refund" in t for t in texts), (data.y == 1).sum(),
                                    ((predicted != 1) & (lengths <= 4)).sum()]
    images = explain.Dataset(rng.normal(size=(30, 1, 4, 4)), rng.integers(0, 3, 30), class_names=["a", "b", "c"])
    cnn = explain.Model(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3)), modality="image",
                        input_shape=(1, 4, 4), class_names=["a", "b", "c"])
    by_class = explain.slices(cnn, images, {"b": "true_class == 'b'", "a or c": "true_class in ['a', 'c']"})
    assert by_class.size.tolist() == [(images.y == 1).sum(), (images.y != 1).sum()]
    with pytest.raises(explain.InputError, match="there is no column 'length'"):
        explain.slices(cnn, images, ["length > 3"])


def test_bad_rules_name_the_rule_the_columns_and_an_example() -> None:
    model, data, _ = _planted(200)
    for rule, why in [("region = 'north'", "write =="), ("region == north", "put text in quotes"),
                      ("height > 2", "no column 'height'"), ("age > 60 or region == 'x'", "only 'and'"),
                      ("region > 'n'", "holds text"), ("age == 'old'", "holds numbers"),
                      ("__import__('os')", "no column '__import__'"), ("", "non-empty")]:
        with pytest.raises(explain.InputError) as info:
            explain.slices(model, data, [rule])
        message = str(info.value)
        assert repr(rule) in message and "region, age" in message and "age > 60 and region == 'north'" in message
        assert re.search(why, message), (rule, message)
    with pytest.raises(explain.InputTypeError):
        explain.slices(model, data.x, ["age > 3"])
    with pytest.raises(explain.InputTypeError):
        explain.slices(model, data, 42)
    with pytest.raises(explain.InputError, match="empty"):
        explain.slices(model, data, {})


def test_edge_slices_empty_or_everything_are_not_flagged() -> None:
    model, data, _ = _planted(300)
    result = explain.slices(model, data, {"none": "age > 1000", "all": "logit_0 >= 0", "in": "region in ['north']"})
    assert result.size.tolist()[:2] == [0, 300] and np.isnan(result.value[0]) and np.isnan(result.rest[1])
    assert result.tests[:2] == ("", "") and not result.flagged[:2].any()
    sliced = explain.slices(model, data[100:], ["region == 'north'"])
    assert sliced.rows_of("region == 'north'").min() >= 100
    assert sliced.table.loc["region == 'north'", "size"] == (data.metadata["region"][100:] == "north").sum()


def test_result_and_plot() -> None:
    model, data, _ = _planted(400)
    result = explain.slices(model, data, {"old <north>": "region == 'north' and age > 60", "south": "region == 'south'"})
    assert not result.members.flags.writeable and '"flagged"' in result.to_json()
    fig = plots.slice_metrics(result)
    bar = fig.data[0]
    assert list(bar.y) == ["old &lt;north&gt;", "south"]
    np.testing.assert_allclose(np.asarray(bar.error_x.array) + result.value, result.high)
    colours = list(bar.marker.color)
    assert (colours[0] != colours[1]) == bool(result.flagged[0] != result.flagged[1])
    with pytest.raises(explain.InputError, match="SliceMetrics"):
        plots.slice_metrics(object())  # type: ignore[arg-type]
    with pytest.raises(explain.InputError, match="No slice"):
        result.rows_of("west")
