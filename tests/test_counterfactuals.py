"""Counterfactuals: validity by a fresh forward pass, constraints kept exactly (ranges,
immutables, integers, one-hot groups), determinism, the time limit, regression ranges, and
the queries that need or allow no change."""

from __future__ import annotations

import copy
import json
import time

import numpy as np
import pandas as pd
import pytest
import torch

import explain
from explain.plots import counterfactual_changes, counterfactual_table

FEATURES = ["income", "age", "n_loans", "tenure", "home_own", "home_rent", "home_mortgage"]


@pytest.fixture(scope="module")
def loans() -> tuple[explain.Model, explain.Dataset]:
    """A loan table (income in k, integer age, loans and tenure, a one-hot home group) and a
    hand-set logistic model: approved when 0.08 income - 0.6 loans + 1.5 own + 0.02 age > 5."""
    rng = np.random.default_rng(0)
    n = 300
    home = np.eye(3)[rng.integers(0, 3, size=n)]
    x = np.column_stack([rng.uniform(10, 120, n).round(1), rng.integers(18, 70, n), rng.integers(0, 6, n),
                         rng.integers(0, 30, n), home])
    net = torch.nn.Linear(7, 2)
    with torch.no_grad():
        w = torch.tensor([0.08, 0.02, -0.6, 0.0, 1.5, 0.0, 0.0])
        net.weight[:] = torch.stack([-w / 2, w / 2])
        net.bias[:] = torch.tensor([2.5, -2.5])
    model = explain.Model(net, task="classification", feature_names=FEATURES, class_names=["denied", "approved"])
    y = model.predict(x.astype(np.float32))
    return model, explain.Dataset(x, y, feature_names=FEATURES, class_names=["denied", "approved"])


def _denied(model: explain.Model, data: explain.Dataset, k: int) -> explain.Dataset:
    rows = np.flatnonzero(model.predict(data) == 0)[:k]
    return data[rows]


def test_breast_cancer_counterfactuals_are_valid_by_a_fresh_forward_pass() -> None:
    model, data = explain.load_example("breast_cancer")
    queries = data[:3]
    cf = explain.counterfactuals(model, data, queries, n=2, time_limit=5.0)
    predicted = model.predict(queries)
    assert len(cf.values) >= 3 and cf.validity.all()
    fresh = model.predict(cf.values.astype(np.float32))
    np.testing.assert_array_equal(fresh, 1 - predicted[cf.query_index])  # binary default: the other class
    assert ((cf.values >= data.x.min(axis=0)) & (cf.values <= data.x.max(axis=0))).all()
    for i, frame in enumerate(cf.examples):
        assert list(frame.columns) == list(data.feature_names) and len(frame) <= 2
        assert (len(frame) == 2) == (cf.reasons[i] == "")
    assert (cf.sparsity >= 1).all() and (cf.proximity > 0).all() and np.isfinite(cf.plausibility).all()
    assert cf.summary().shape[0] == 3 and cf.to_json()
    assert cf.plot(0).data[0].type == "table"


def test_loan_constraints_hold_exactly(loans: tuple[explain.Model, explain.Dataset]) -> None:
    model, data = loans
    queries = _denied(model, data, 4)
    cf = explain.counterfactuals(model, data, queries, target="approved", immutable=["age", "tenure"],
                                 ranges={"income": (10, 90), "n_loans": (0, 3)}, n=3, time_limit=3.0)
    assert cf.params["onehot"] == [["home_own", "home_rent", "home_mortgage"]]  # found by prefix
    assert set(cf.params["integer"]) >= {"age", "n_loans", "tenure"}
    assert len(cf.values) >= 4
    np.testing.assert_array_equal(model.predict(cf.values.astype(np.float32)), 1)
    q = queries.x[cf.query_index].astype(np.float64)
    v = pd.DataFrame(cf.values, columns=FEATURES)
    assert (v["age"].to_numpy() == q[:, 1]).all() and (v["tenure"].to_numpy() == q[:, 3]).all()
    assert v["income"].between(10, 90).all() and v["n_loans"].between(0, 3).all()
    for name in ("age", "n_loans", "tenure"):
        assert (v[name] == v[name].round()).all()
    home = v[["home_own", "home_rent", "home_mortgage"]].to_numpy()
    assert np.isin(home, (0.0, 1.0)).all() and (home.sum(axis=1) == 1).all()
    assert counterfactual_changes(cf, 0).data[0].type == "bar"
    assert counterfactual_table(cf, 1, changed_only=True).data[0].type == "table"


def test_a_given_onehot_group_and_a_bad_one(loans: tuple[explain.Model, explain.Dataset]) -> None:
    model, data = loans
    renamed = [f"h{i}" if f.startswith("home") else f for i, f in enumerate(FEATURES)]
    frame = pd.DataFrame(data.x, columns=renamed)
    queries = frame.iloc[np.flatnonzero(model.predict(data) == 0)[:2]]
    plain = explain.Model(model.network, task="classification", class_names=["denied", "approved"])
    cf = explain.counterfactuals(plain, frame, queries, onehot=[["h4", "h5", "h6"]], n=2, time_limit=2.0)
    assert cf.params["onehot"] == [["h4", "h5", "h6"]]
    home = cf.values[:, 4:]
    assert (home.sum(axis=1) == 1).all() and np.isin(home, (0.0, 1.0)).all()
    with pytest.raises(explain.DataError, match="not one-hot"):
        explain.counterfactuals(plain, frame, queries, onehot=[["income", "h4"]])


def test_same_seed_same_counterfactuals(loans: tuple[explain.Model, explain.Dataset]) -> None:
    model, data = loans
    queries = _denied(model, data, 2)
    a = explain.counterfactuals(model, data, queries, n=3, seed=5, time_limit=5.0)
    b = explain.counterfactuals(model, data, queries, n=3, seed=5, time_limit=5.0)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.query_index, b.query_index)


def test_a_tiny_time_limit_returns_quickly_with_a_reason() -> None:
    model, data = explain.load_example("breast_cancer")
    start = time.monotonic()
    cf = explain.counterfactuals(model, data, data[:2], n=3, time_limit=1e-4)
    assert time.monotonic() - start < 5.0
    assert all("time limit" in reason for reason in cf.reasons)
    assert cf.validity.all()  # whatever it kept is valid


def test_regression_target_range() -> None:
    net = torch.nn.Linear(3, 1)
    with torch.no_grad():
        net.weight[:] = torch.tensor([[2.0, -1.0, 0.5]])
        net.bias[:] = 0.0
    model = explain.Model(net, task="regression", feature_names=["a", "b", "c"])
    x = np.random.default_rng(1).uniform(0, 10, size=(200, 3)).astype(np.float32)
    queries = x[model.predict(x) < 5][:2]
    cf = explain.counterfactuals(model, x, queries, target=(12.0, 14.0), immutable=["c"], n=2, time_limit=3.0)
    predicted = model.predict(cf.values.astype(np.float32))
    assert len(predicted) >= 2 and ((predicted >= 12.0) & (predicted <= 14.0)).all()
    np.testing.assert_allclose(cf.prediction, predicted, rtol=1e-6)
    assert (cf.values[:, 2] == queries[cf.query_index, 2]).all()
    with pytest.raises(explain.InputError, match="range"):
        explain.counterfactuals(model, x, queries, target=1)


def test_a_query_already_at_the_target_and_an_unreachable_target(loans: tuple[explain.Model, explain.Dataset]
                                                                  ) -> None:
    model, data = loans
    approved = data[np.flatnonzero(model.predict(data) == 1)[:1]]
    cf = explain.counterfactuals(model, data, approved, target="approved", time_limit=1.0)
    assert len(cf.values) == 0 and "already reaches the target" in cf.reasons[0]
    constant = torch.nn.Linear(7, 2)
    with torch.no_grad():
        constant.weight.zero_()
        constant.bias[:] = torch.tensor([1.0, 0.0])
    stuck = explain.Model(constant, task="classification", feature_names=FEATURES)
    cf = explain.counterfactuals(stuck, data, data[:1], target=1, n=2, time_limit=2.0)
    assert len(cf.values) == 0 and cf.reasons[0].startswith("found none")


def test_the_model_agnostic_search(loans: tuple[explain.Model, explain.Dataset]) -> None:
    model, data = loans
    queries = _denied(model, data, 2)
    black_box = explain.Model(model.network, task="classification", feature_names=FEATURES,
                              class_names=["denied", "approved"], differentiable=False)
    cf = explain.counterfactuals(black_box, data, queries, immutable=["tenure"], n=3, time_limit=3.0)
    assert cf.methods == ("random", "random") and len(cf.values) >= 2
    np.testing.assert_array_equal(model.predict(cf.values.astype(np.float32)), 1)
    assert (cf.values[:, 3] == queries.x[cf.query_index, 3]).all()
    with pytest.raises(explain.MethodError, match="method='random'"):
        explain.counterfactuals(black_box, data, queries, method="gradient")
    by_name = explain.counterfactuals(model, data, queries, method="random", n=2, time_limit=3.0)
    assert by_name.methods == ("random", "random") and by_name.validity.all()


def test_counterfactual_errors(loans: tuple[explain.Model, explain.Dataset]) -> None:
    model, data = loans
    with pytest.raises(explain.InputError, match="Unknown target class"):
        explain.counterfactuals(model, data, data[:1], target="maybe")
    with pytest.raises(explain.InputError, match="immutable names an unknown feature"):
        explain.counterfactuals(model, data, data[:1], immutable=["height"])
    with pytest.raises(explain.InputError, match="ranges"):
        explain.counterfactuals(model, data, data[:1], ranges={"income": (5, 1)})
    three = explain.Model(torch.nn.Linear(7, 3), task="classification", feature_names=FEATURES)
    with pytest.raises(explain.InputError, match="pass target="):
        explain.counterfactuals(three, data, data[:1])
    image = explain.Model(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1)), modality="image",
                          task="regression", input_shape=(1, 2, 2))  # images: tests/test_counterfactuals_media.py
    with pytest.raises(explain.InputError, match="regression"):
        explain.counterfactuals(image, np.zeros((3, 1, 2, 2)), np.zeros((1, 1, 2, 2)))


def test_unchanged_features_keep_the_callers_values_and_one_change_is_preferred() -> None:
    """Queries given in float64 (0.16 is not a float32): what a counterfactual leaves alone is
    the query's own value bit for bit (it used to come back as 0.1599999964, counted as a
    change), and where one feature alone reaches the target, one is all that changes."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, size=(400, 4)).round(2)  # two decimals: few of them are float32 numbers
    net = torch.nn.Linear(4, 2)
    with torch.no_grad():
        net.weight[:] = torch.tensor([[0.0, 0.0, 0.0, 0.0], [6.0, 0.0, 0.0, 0.0]])
        net.bias[:] = torch.tensor([0.0, -3.0])  # class 1 where x0 > 0.5: only x0 matters
    names = ["a", "b", "c", "d"]
    model = explain.Model(net, task="classification", feature_names=names, class_names=["no", "yes"])
    data = explain.Dataset(x, model.predict(x.astype(np.float32)), feature_names=names, class_names=["no", "yes"])
    queries = pd.DataFrame([[0.16, 0.27, 0.33, 0.41], [0.07, 0.93, 0.11, 0.58]], columns=names)
    cf = explain.counterfactuals(model, data, queries, n=3, seed=0, time_limit=5)
    assert len(cf.values) >= 4 and cf.validity.all()
    for row, i in zip(cf.values, cf.query_index):
        same = row == queries.to_numpy()[i]
        assert same[1:].all(), (row, queries.to_numpy()[i])  # b, c, d untouched, exactly
        assert not same[0] and row[0] > 0.5
    assert (cf.sparsity == 1).all()


def test_counterfactuals_are_checked_on_a_compressed_copy(loans) -> None:
    """also=: whether each counterfactual still reaches the target on other models: the
    model itself (always), a copy with the income weight zeroed (those that raise income
    alone fail there, the rest hold), and the int8 copy."""
    model, data = loans
    queries = _denied(model, data, 4)
    blind = explain.Model(copy.deepcopy(model.network), task="classification", feature_names=FEATURES,
                          class_names=["denied", "approved"])
    with torch.no_grad():
        blind.network.weight[:, 0] = 0.0
    small = explain.compress(model, method="quantize")
    cf = explain.counterfactuals(model, data, queries, n=3, seed=0, time_limit=5,
                                 also={"same": model, "no income": blind, "int8": small})
    assert list(cf.holds) == ["same", "no income", "int8"] and cf.holds["same"].all()
    expected = blind.predict(cf.values.astype(np.float32)) == 1
    assert cf.holds["no income"].tolist() == expected.tolist() and not expected.all()
    assert (small.predict(cf.values.astype(np.float32)) == 1).tolist() == cf.holds["int8"].tolist()
    assert "holds on int8" in cf.summary() and "holds on no income" in cf.frame()
    assert json.loads(cf.to_json())["holds"]["same"] == [True] * len(cf.values)
    listed = explain.counterfactuals(model, data, queries[:1], n=1, seed=0, time_limit=5, also=[blind])
    assert list(listed.holds) == ["model 1"]
    with pytest.raises(explain.InputError, match="checked only on tabular classification"):
        explain.counterfactuals(model, data, queries[:1], also=[explain.Model(torch.nn.Linear(7, 1), task="regression")])
