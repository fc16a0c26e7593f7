"""explain.error_analysis: planted failure regions are found, nothing is found in noise, the
figures equal hand counts, cohorts never nest, and the model runs in batches."""

from __future__ import annotations

import json
import pickle
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import explain
from explain import plots
from explain.diagnostics.cohort_stats import Z95, bh_cutoff, rest_p_values

N = 20_000


class Threshold(nn.Module):
    """Predicts class 1 where x2 > 0.5: logits [-s, s] with s = 20 (x2 - 0.5)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = 20 * (x[:, 2] - 0.5)
        return torch.stack([-s, s], dim=1)


def _model(features: int = 5) -> explain.Model:
    return explain.Model(Threshold(), modality="tabular", input_shape=(features,))


def _labels(x: np.ndarray, wrong: np.ndarray) -> np.ndarray:
    """Labels that make the Threshold model wrong exactly on ``wrong``."""
    predicted = (x[:, 2] > 0.5).astype(np.int64)
    return np.where(wrong, 1 - predicted, predicted)


def _planted(seed: int = 0, n: int = N, base: float = 0.05) -> tuple[explain.Dataset, np.ndarray, np.ndarray]:
    """Right everywhere but for ``base`` of random rows, except where x0 > 0.7 and
    x1 < 0.3: wrong 80% of the time there."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 5)).astype(np.float32)
    region = (x[:, 0] > 0.7) & (x[:, 1] < 0.3)
    wrong = rng.random(n) < np.where(region, 0.8, base)
    return explain.Dataset(x, _labels(x, wrong), feature_names=[f"x{j}" for j in range(5)]), region, wrong


def _matches(x: dict[str, np.ndarray], conditions: tuple) -> np.ndarray:
    """Rows that satisfy every condition of a cohort, evaluated on the data."""
    keep = np.ones(len(next(iter(x.values()))), dtype=bool)
    for name, op, value in conditions:
        v = x[name]
        if op == "<=":
            keep &= v.astype(float) <= value
        elif op == ">":
            keep &= v.astype(float) > value
        elif op == "in":
            keep &= np.isin(v.astype(str), value)
        elif op == "not in":
            keep &= ~np.isin(v.astype(str), value)
        elif op == "is missing":
            keep &= pd.isna(v)
        else:
            raise AssertionError(op)
    return keep


@pytest.fixture(scope="module")
def planted() -> tuple[explain.ErrorAnalysis, explain.Dataset, np.ndarray, np.ndarray]:
    data, region, wrong = _planted()
    return explain.error_analysis(_model(), data), data, region, wrong


# --- what it finds -----------------------------------------------------------------------------
def test_the_planted_region_is_the_first_cohort(planted) -> None:
    result, data, region, _ = planted
    first = result.cohorts[0]
    bounds = {(name, op): value for name, op, value in first.conditions}
    assert set(bounds) == {("x0", ">"), ("x1", "<=")}, first.rule
    assert abs(bounds["x0", ">"] - 0.7) < 0.03 and abs(bounds["x1", "<="] - 0.3) < 0.03, first.rule
    inside = region[first.rows]
    assert inside.mean() >= 0.9 and inside.sum() / region.sum() >= 0.9
    assert first.significant and first.error_rate > 0.7
    assert result.verdict().startswith(f"errors concentrate in {first.rule}: ")
    assert "x0 >" in first.rule and "x1 ≤" in first.rule


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_yields_no_cohort_and_the_verdict_says_so(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    x = rng.random((N, 5)).astype(np.float32)
    data = explain.Dataset(x, _labels(x, rng.random(N) < 0.1))
    result = explain.error_analysis(_model(), data, seed=seed)
    assert not result.significant and not any(result.node_p_value[1:] <= (result.cutoff or 0))
    assert result.verdict() == (f"no cohort errs more than the rest beyond chance "
                                f"({result.tested:,} nodes tested, FDR 5%)")
    # the family is every candidate the tree looked at, far more than the nodes it grew
    assert result.tested > 10 * len(result.node_parent)


def test_cohorts_never_nest_nor_overlap() -> None:
    rng = np.random.default_rng(5)
    x = rng.random((N, 5)).astype(np.float32)
    regions = ((x[:, 0] > 0.7) & (x[:, 1] < 0.3)) | (x[:, 3] < 0.15)
    data = explain.Dataset(x, _labels(x, rng.random(N) < np.where(regions, 0.6, 0.05)))
    result = explain.error_analysis(_model(), data, max_depth=4)
    assert len(result.significant) >= 2
    parent = result.node_parent
    for a in result.cohorts:
        for b in result.cohorts:
            if a is b:
                continue
            assert np.intersect1d(a.rows, b.rows).size == 0, (a.rule, b.rule)
            v = b.node
            while v > 0:  # no cohort is an ancestor of another
                v = int(parent[v])
                assert v != a.node, (a.rule, b.rule)


def test_figures_equal_hand_counts(planted) -> None:
    result, data, _, wrong = planted
    columns = {f"x{j}": data.x[:, j] for j in range(5)}
    assert result.n == N and result.errors == wrong.sum() and result.error_rate == pytest.approx(wrong.mean())
    for cohort in result.cohorts:
        mask = np.zeros(N, dtype=bool)
        mask[cohort.rows] = True
        # the rule picks out exactly these rows, evaluated on the data
        np.testing.assert_array_equal(_matches(columns, cohort.conditions), mask)
        assert cohort.size == mask.sum() >= result.params["min_size"]
        assert cohort.error_rate == pytest.approx(wrong[mask].mean())
        assert cohort.error_coverage == pytest.approx(wrong[mask].sum() / wrong.sum())
        assert cohort.rest_error_rate == pytest.approx(wrong[~mask].mean())
        assert cohort.excess == pytest.approx(wrong[mask].sum() - mask.sum() * wrong[~mask].mean())
        np.testing.assert_array_equal(cohort.row_ids, data.rows[cohort.rows])
        assert len(cohort.conditions) <= result.params["max_depth"]
    # a slice of a dataset: positions index the slice, row ids the data it came from
    part = explain.error_analysis(_model(), data[5000:])
    assert part.cohorts and part.n == N - 5000
    for cohort in part.cohorts:
        np.testing.assert_array_equal(cohort.row_ids, cohort.rows + 5000)
    # ordered: beyond chance first, then by excess errors
    keys = [(not c.significant, -c.excess) for c in result.cohorts]
    assert keys == sorted(keys)


def test_wilson_interval_equals_a_hand_computation(planted) -> None:
    result = planted[0]
    for c in result.cohorts:
        n, p = c.size, c.error_rate
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 / (1 + Z95**2 / n) * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2))
        assert c.interval == pytest.approx((centre - half, centre + half), abs=1e-12)
    # statsmodels' proportion_confint(8, 10, method="wilson") = (0.4902, 0.9433)
    from explain.diagnostics.cohort_stats import wilson

    low, high = wilson(np.array([8]), np.array([10]))
    assert (round(float(low[0]), 4), round(float(high[0]), 4)) == (0.4902, 0.9433)


def test_p_values_are_held_out_and_near_fishers(planted) -> None:
    from scipy.stats import fisher_exact

    from explain.diagnostics.cohorts import _halves

    result, _, _, wrong = planted
    held = _halves(N, 0)  # the seeded half that tests what the other half found
    checked = 0
    for c in result.cohorts:
        inside = np.zeros(N, dtype=bool)
        inside[c.rows] = True
        e1, n1 = wrong[inside & held].sum(), (inside & held).sum()
        e2, n2 = wrong[~inside & held].sum(), (~inside & held).sum()
        fisher = fisher_exact([[e1, n1 - e1], [e2, n2 - e2]], alternative="greater")[1]
        if fisher > 1e-250:
            assert c.p_value == pytest.approx(fisher, rel=0.5), (c.rule, c.p_value, fisher)
            checked += 1
    assert checked >= 1
    # 30 of 100 wrong against 100 of 900 (Fisher: 1.4e-6); BH's worked example
    one = rest_p_values(np.array([30.0]), np.array([100]), np.array([30.0]), 130.0, 1000, 130.0, binary=True)
    assert one[0] == pytest.approx(fisher_exact([[30, 70], [100, 800]], alternative="greater")[1], rel=0.3)
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205])
    assert bh_cutoff(p, 0.05) == 0.008 and bh_cutoff(np.array([0.5, 0.9]), 0.05) is None


# --- metadata, regression, text and images --------------------------------------------------
def test_a_category_of_metadata_is_found_as_a_category_rule() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((N, 5)).astype(np.float32)
    region = rng.choice(["north", "south", "east", "west", "central"], size=N)
    bad = np.isin(region, ["east", "west"])
    age = np.where(rng.random(N) < 0.1, np.nan, rng.integers(18, 90, N).astype(float))
    wrong = rng.random(N) < np.where(bad, 0.4, 0.05)
    data = explain.Dataset(x, _labels(x, wrong), metadata=pd.DataFrame({"region": region, "age": age}))
    result = explain.error_analysis(_model(), data)
    first = result.cohorts[0]
    assert first.conditions == (("region", "in", ("east", "west")),) or \
        first.conditions == (("region", "in", ("west", "east")),), first.rule
    assert first.rule in ("region in {east, west}", "region in {west, east}")
    assert set(first.rows.tolist()) == set(np.flatnonzero(bad).tolist())
    assert {"region", "age"} <= set(result.columns) and result.kinds[result.columns.index("region")] == "category"
    # a planted failure among rows whose age is missing
    wrong = rng.random(N) < np.where(np.isnan(age), 0.5, 0.05)
    data = explain.Dataset(x, _labels(x, wrong), metadata=pd.DataFrame({"region": region, "age": age}))
    first = explain.error_analysis(_model(), data, features=["age", "region"]).cohorts[0]
    assert first.conditions == (("age", "is missing", None),) and first.rule == "age is missing"
    np.testing.assert_array_equal(first.rows, np.flatnonzero(np.isnan(age)))


def test_regression_cohorts_are_by_absolute_residual() -> None:
    rng = np.random.default_rng(4)
    x = rng.random((N, 3)).astype(np.float32)
    net = nn.Linear(3, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[2.0, 0.0, 0.0]]))
        net.bias.zero_()
    model = explain.Model(net, task="regression", modality="tabular")
    noise = np.where(x[:, 1] > 0.8, 3.0, 0.2) * rng.standard_normal(N)
    y = 2 * x[:, 0].astype(np.float64) + noise
    data = explain.Dataset(x, y, task="regression")
    result = explain.error_analysis(model, data)
    first = result.cohorts[0]
    assert result.metric == "mean absolute error" and first.metric == "mean absolute error"
    assert first.conditions[0][:2] == ("x1", ">") and abs(first.conditions[0][2] - 0.8) < 0.03
    residual = np.abs(model.logits(data)[:, 0] - y)
    assert first.error_rate == pytest.approx(residual[first.rows].mean(), rel=1e-6)
    sd = residual[first.rows].std(ddof=1)
    half = Z95 * sd / np.sqrt(first.size)
    assert first.interval == pytest.approx((first.error_rate - half, first.error_rate + half), rel=1e-6)
    assert "mean absolute error" in result.verdict()


@pytest.fixture
def bert(tmp_path: Path) -> explain.Model:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["good", "bad", "movie", "not", "great", "the", "was"]
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    tokenizer = BertTokenizerFast(vocab=str(tmp_path / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=12, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    return explain.Model(BertForSequenceClassification(config).eval(), modality="text", tokenizer=tokenizer)


def test_text_cohorts_over_derived_features(bert: explain.Model) -> None:
    rng = np.random.default_rng(6)
    words = ["good", "bad", "movie", "not", "great", "the", "was"]
    texts = [" ".join(rng.choice(words, size=rng.integers(2, 12))) for _ in range(600)]
    predicted = bert.logits(texts).argmax(axis=1)
    long = np.array([len(t.split()) > 8 for t in texts])
    data = explain.Dataset(texts=texts, y=np.where(long, 1 - predicted, predicted))
    result = explain.error_analysis(bert, data, batch_size=64)
    assert {"true class", "predicted class", "confidence", "length (tokens)", "length (words)"} <= set(result.columns)
    first = result.cohorts[0]  # long texts, or what picks them out here (one true class)
    assert first.significant and first.error_rate == 1.0
    np.testing.assert_array_equal(first.rows, np.flatnonzero(long))
    first = explain.error_analysis(bert, data, features=["length (words)", "confidence"]).cohorts[0]
    assert first.rule == "length (words) > 8"
    np.testing.assert_array_equal(first.rows, np.flatnonzero(long))
    tokens = explain.error_analysis(bert, data, features=["length (tokens)"]).cohorts[0]
    assert tokens.conditions[0][:2] == ("length (tokens)", ">")  # [CLS] and [SEP] included
    assert 10 <= tokens.conditions[0][2] < 11


def test_image_cohorts_over_predicted_class() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 8), nn.Flatten())  # predicts each class for about a third
    model = explain.Model(net, modality="image", input_shape=(1, 8, 8))
    x = np.random.default_rng(7).standard_normal((900, 1, 8, 8)).astype(np.float32)
    predicted = model.logits(x).argmax(axis=1)
    data = explain.Dataset(x, np.where(predicted == 1, (predicted + 1) % 3, predicted))
    result = explain.error_analysis(model, data)
    assert set(result.columns) == {"true class", "predicted class", "confidence"}
    planted = predicted == 1
    first = result.cohorts[0]
    assert first.significant and planted[first.rows].mean() > 0.95 and first.rows.size > 0.9 * planted.sum()
    first = explain.error_analysis(model, data, features=["predicted class"]).cohorts[0]
    assert first.rule == "predicted class in {1}" and first.error_rate == 1.0
    np.testing.assert_array_equal(first.rows, np.flatnonzero(planted))


# --- scale: batches, flat memory -------------------------------------------------------------
def test_200k_rows_stream_through_the_model_in_batches() -> None:
    data, region, _ = _planted(seed=8, n=200_000)
    model = _model()
    calls: list[int] = []
    model.network.register_forward_pre_hook(lambda module, args: calls.append(int(args[0].shape[0])))
    done: list[float] = []
    tracemalloc.start()
    result = explain.error_analysis(model, data, batch_size=4096, progress=done.append)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert done == sorted(done) and done[-1] == 1.0 and len(done) > 10
    assert max(calls) <= 4096 and sum(c for c in calls if c > 2) == 200_000
    assert len(calls) <= 200_000 // 4096 + 4
    # per-row arrays only: errors, nodes, a byte per column, derived features (< 100 bytes
    # a row), never a float copy of the table (x is 20 bytes a row here) plus all of that
    assert peak < 100 * 200_000, peak / 200_000
    assert region[result.cohorts[0].rows].mean() > 0.9


# --- the result: frozen, exported, heat maps, drivers, plots --------------------------------
def test_result_is_picklable_and_json_exportable(planted) -> None:
    result = planted[0]
    again = pickle.loads(pickle.dumps(result))
    assert again.verdict() == result.verdict() and again.cohorts[0].rule == result.cohorts[0].rule
    exported = json.loads(result.to_json())
    assert exported["cohorts"][0]["rule"] == result.cohorts[0].rule
    assert exported["cohorts"][0]["size"] == result.cohorts[0].size and exported["n"] == N
    assert not result.cohorts[0].rows.flags.writeable and not result.node_size.flags.writeable
    with pytest.raises(AttributeError):
        result.n = 3  # type: ignore[misc]
    assert list(result.table()["rule"]) == [c.rule for c in result.cohorts]
    assert result.nodes()["size"].iloc[0] == N


def test_heatmaps_add_up_and_show_the_region(planted) -> None:
    result, _, _, wrong = planted
    one = result.heatmap("x0")
    assert one.size.sum() == N and one.errors.sum() == wrong.sum() and len(one.labels_a) == len(one.size)
    assert np.nanargmax(one.rate) >= len(one.rate) * 0.6  # high x0 errs most
    two = result.heatmap("x0", "x1", bins=5)
    assert two.size.shape == (5, 5) and two.size.sum() == N and two.errors.sum() == wrong.sum()
    assert np.unravel_index(np.nanargmax(two.rate), two.rate.shape) == (4, 0)  # x0 high, x1 low
    np.testing.assert_array_equal(result.heatmap("x1", "x0", bins=5).size, two.size.T)
    with pytest.raises(explain.InputError, match="not a column"):
        result.heatmap("nope")


def test_drivers_name_the_feature_the_model_leans_on_in_the_cohort() -> None:
    class Leaning(nn.Module):  # leans on x3 where x0 > 0.7, hardly elsewhere
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            s = 3 * (x[:, 2] - 0.5) + x[:, 3] * (0.2 + 10 * torch.relu(x[:, 0] - 0.7))
            return torch.stack([-s, s], dim=1)

    rng = np.random.default_rng(9)
    x = rng.random((4000, 5)).astype(np.float32)
    model = explain.Model(Leaning(), modality="tabular", input_shape=(5,))
    data = explain.Dataset(x, rng.integers(0, 2, 4000), feature_names=[f"x{j}" for j in range(5)])
    rows = np.flatnonzero(x[:, 0] > 0.85)
    drivers = explain.cohort_drivers(model, data, rows, sample=500)
    table = drivers.frame()
    assert list(table.columns) == ["feature", "cohort", "elsewhere", "overall", "ratio"]
    x3 = table.set_index("feature").loc["x3"]
    assert x3["ratio"] > 3 and drivers.sentence.startswith("in this cohort the model leans on x3 ")
    assert x3["overall"] == pytest.approx((len(rows) * x3["cohort"] + (4000 - len(rows)) * x3["elsewhere"]) / 4000)
    assert drivers.n_cohort == min(500, len(rows)) and drivers.n_elsewhere == 500
    assert json.loads(drivers.to_json())["feature_names"][0] == "x0"
    result = explain.error_analysis(model, data)
    if result.cohorts:  # a Cohort works as well as positions
        assert explain.cohort_drivers(model, data, result.cohorts[0], sample=200).rule == result.cohorts[0].rule


def test_every_plot_draws_and_serialises(planted) -> None:
    result = planted[0]
    figures = [plots.cohort_bars(result), plots.cohort_table(result), plots.error_tree(result),
               plots.error_tree(result, pruned=False), plots.error_heatmap(result, "x0"),
               plots.error_heatmap(result.heatmap("x0", "x1")), result.plot()]
    assert figures[0].data[0].type == "bar" and figures[2].data[0].type == "icicle"
    assert figures[5].data[0].type == "heatmap"
    assert len(figures[3].data[0].ids) >= len(figures[2].data[0].ids)
    marker = figures[2].data[0].marker  # 0 blue, the overall rate white, the highest node red: no negative rates
    white = next(stop for stop, colour in marker.colorscale if colour == "#f7f7f7")
    assert marker.cmin == 0 and marker.cmax == pytest.approx(max(marker.colors))
    assert white * marker.cmax == pytest.approx(result.error_rate)
    for fig in figures:
        json.loads(fig.to_json())
    with pytest.raises(explain.InputError, match="ErrorAnalysis"):
        plots.cohort_bars(object())  # type: ignore[arg-type]


# --- arguments -------------------------------------------------------------------------------
def test_bad_arguments_name_the_fix(planted) -> None:
    data = planted[1]
    with pytest.raises(explain.DataError, match="needs labels"):
        explain.error_analysis(_model(), explain.Dataset(data.x))
    with pytest.raises(explain.InputTypeError, match="explain.Dataset"):
        explain.error_analysis(_model(), data.x)
    with pytest.raises(explain.InputError, match="features must name"):
        explain.error_analysis(_model(), data, features=["nope"])
    with pytest.raises(explain.InputError, match="max_depth"):
        explain.error_analysis(_model(), data, max_depth=0)
    with pytest.raises(explain.InputError, match="backend"):
        explain.error_analysis(_model(), data, backend="spark")
    local = explain.error_analysis(_model(), data, backend="local")
    assert [c.rule for c in local.cohorts] == [c.rule for c in planted[0].cohorts]
    few = explain.error_analysis(_model(), data[:100], min_size=60)  # too few rows to split
    assert few.cohorts == () and few.verdict().startswith("no cohort errs more")
