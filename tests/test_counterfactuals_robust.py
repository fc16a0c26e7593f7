"""Robust recourse: the share of small perturbations under which a counterfactual stays
valid. A row on a hand-set linear model's decision boundary holds about half the time, one
far past it always; the draws respect the constraints and are seeded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import explain
from explain.recourse.constraints import build
from explain.recourse.goals import Goal
from explain.recourse.sampling import score_rows
from explain.recourse.stability import DRAWS, NOISE, held_under_noise


@pytest.fixture(scope="module")
def line() -> tuple[explain.Model, np.ndarray]:
    """Class 1 exactly when a + b > 0; a third feature c the model ignores."""
    net = torch.nn.Linear(3, 2)
    with torch.no_grad():
        net.weight[:] = torch.tensor([[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]])
        net.bias.zero_()
    x = np.random.default_rng(0).normal(size=(300, 3))
    return explain.Model(net, feature_names=["a", "b", "c"], class_names=["no", "yes"]), x


def test_on_the_boundary_is_fragile_far_past_it_is_robust(line: tuple[explain.Model, np.ndarray]) -> None:
    model, x = line
    c = build(x, ("a", "b", "c"), immutable=[], ranges=None, onehot=None)
    rows = np.array([[0.001, 0.0, 0.0], [2.0, 1.0, 0.0], [-0.001, 0.0, 0.0]])
    goals = [Goal(cls=1), Goal(cls=1), Goal(cls=0)]
    share = held_under_noise(rows, goals, c, score_rows(model, None), seed=0)
    assert share[1] == 1.0
    assert 0.2 < share[0] < 0.8 and 0.2 < share[2] < 0.8
    again = held_under_noise(rows, goals, c, score_rows(model, None), seed=0)
    np.testing.assert_array_equal(share, again)
    assert (DRAWS, NOISE) == (32, 0.1)


def test_immutable_features_never_move_so_a_boundary_held_by_them_holds(line: tuple[explain.Model, np.ndarray]
                                                                       ) -> None:
    model, x = line
    c = build(x, ("a", "b", "c"), immutable=["a", "b"], ranges=None, onehot=None)
    share = held_under_noise(np.array([[0.001, 0.0, 5.0]]), [Goal(cls=1)], c, score_rows(model, None), seed=1)
    assert share[0] == 1.0  # only c may move, and the model ignores it


def test_counterfactuals_carry_robustness(line: tuple[explain.Model, np.ndarray]) -> None:
    model, x = line
    queries = x[model.predict(x.astype(np.float32)) == 0][:3]
    cf = explain.counterfactuals(model, x, queries, target="yes", n=2, time_limit=5.0)
    assert len(cf.values) and cf.robustness.shape == cf.validity.shape
    assert ((cf.robustness >= 0) & (cf.robustness <= 1)).all()
    again = explain.counterfactuals(model, x, queries, target="yes", n=2, time_limit=5.0)
    np.testing.assert_array_equal(cf.robustness, again.robustness)
    assert "robustness" in cf.frame().columns and "robustness" in cf.summary().columns
    assert len(cf.to_dict()["robustness"]) == len(cf.values)
    assert cf.params["draws"] == DRAWS and cf.params["noise"] == NOISE
    assert "robustness" in cf.plot(0).data[0].cells.values[0]


def test_the_draws_keep_the_constraints() -> None:
    """Perturbed rows stay within ranges, integer columns integer, one-hot groups one-hot,
    immutable features at the counterfactual's values."""
    from test_counterfactuals import loans as make  # the same hand-set loan model

    model, data = make.__wrapped__()
    names = tuple(data.feature_names)
    c = build(data.x.astype(np.float64), names, immutable=["age"], ranges={"income": (10, 120)}, onehot=None)
    seen: list[np.ndarray] = []
    score = score_rows(model, None)

    def spy(rows: np.ndarray) -> np.ndarray:
        seen.append(rows)
        return score(rows)

    rows = data.x[:4].astype(np.float64)
    share = held_under_noise(rows, [Goal(cls=1)] * 4, c, spy, seed=0)
    moved = seen[0].reshape(4, DRAWS, -1)
    assert share.shape == (4,) and len(seen) == 1  # one batch
    for row, draws in zip(rows, moved):
        assert c.violations(draws, row) == 0
        assert (draws[:, names.index("age")] == row[names.index("age")]).all()
    assert (moved != rows[:, None]).any()  # the noise moved something
