"""Global feature effects: partial dependence (against its definition and scikit-learn's),
ICE curves, 2-D surfaces, integer columns, accumulated local effects."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.inspection import partial_dependence as sk_partial_dependence

import explain


def _classifier(p: int = 3, k: int = 2, seed: int = 0) -> explain.Model:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(p, 8), torch.nn.Tanh(), torch.nn.Linear(8, k))
    return explain.Model(net, task="classification", feature_names=[f"f{i}" for i in range(p)],
                         class_names=[f"c{i}" for i in range(k)])


def _regressor(weights: list[float], bias: float = 0.5) -> explain.Model:
    net = torch.nn.Linear(len(weights), 1)
    with torch.no_grad():
        net.weight[:] = torch.tensor([weights])
        net.bias[:] = bias
    return explain.Model(net, task="regression", feature_names=[f"f{i}" for i in range(len(weights))])


class _Wrapped(BaseEstimator):
    """The torch model as a scikit-learn estimator (fitted, with predict_proba / predict)."""

    def __init__(self, model: explain.Model | None = None) -> None:
        self.model = model

    def fit(self, x, y=None):  # noqa: ANN001, ANN201
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict_proba(self, x):  # noqa: ANN001, ANN201
        return self.model.predict_proba(np.asarray(x, dtype=np.float32))

    def predict(self, x):  # noqa: ANN001, ANN201
        return self.model.logits(np.asarray(x, dtype=np.float32))[:, 0]


class _Classifier(ClassifierMixin, _Wrapped):
    pass


class _Regressor(RegressorMixin, _Wrapped):
    pass


def _sk(model: explain.Model, x: np.ndarray, j: int, classifier: bool, **options) -> dict:
    est = _Classifier(model) if classifier else _Regressor(model)
    if classifier:
        est.classes_ = np.arange(len(model.class_names))
    return sk_partial_dependence(est, x, [j], method="brute", kind="both",
                                 response_method="predict_proba" if classifier else "auto", **options)


@pytest.fixture(scope="module")
def table() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    x[:, 2] = rng.integers(0, 40, size=120)  # an integer column with many values
    return x.astype(np.float32).astype(np.float64)


def test_pdp_equals_its_definition_by_a_loop(table: np.ndarray) -> None:
    model = _classifier()
    result = explain.partial_dependence(model, table, features=["f0"], grid_resolution=7, batch_size=50)
    grid = result.grid["f0"]
    by_hand = np.zeros((2, grid.size))
    for g, value in enumerate(grid):
        changed = table.copy()
        changed[:, 0] = value
        by_hand[:, g] = model.predict_proba(changed.astype(np.float32)).mean(axis=0)
    np.testing.assert_allclose(result.average["f0"], by_hand, atol=1e-6)
    # ICE: one curve per row, their mean is the average
    assert result.individual["f0"].shape == (120, grid.size, 2)
    np.testing.assert_allclose(result.individual["f0"].mean(axis=0).T, result.average["f0"], atol=1e-9)


def test_pdp_equals_scikit_learn_classifier_and_regression(table: np.ndarray) -> None:
    model = _classifier(k=3)
    ours = explain.partial_dependence(model, table, features=[1], grid_resolution=15, percentiles=(0.1, 0.9))
    theirs = _sk(model, table, 1, True, grid_resolution=15, percentiles=(0.1, 0.9))
    np.testing.assert_allclose(ours.grid["f1"], theirs["grid_values"][0], rtol=1e-12)
    np.testing.assert_allclose(ours.average["f1"], theirs["average"], atol=1e-6)
    np.testing.assert_allclose(np.moveaxis(ours.individual["f1"], 2, 0), theirs["individual"], atol=1e-6)

    binary = _classifier(k=2, seed=1)
    ours = explain.partial_dependence(binary, table, features=["f0"], grid_resolution=10)
    theirs = _sk(binary, table, 0, True, grid_resolution=10)
    np.testing.assert_allclose(ours.grid["f0"], theirs["grid_values"][0], rtol=1e-12)
    np.testing.assert_allclose(ours.average["f0"][1], theirs["average"][0], atol=1e-6)  # sklearn: positive class

    reg = _regressor([1.5, -2.0, 0.25])
    ours = explain.partial_dependence(reg, table, features=["f1"], grid_resolution=12, kind="average")
    theirs = _sk(reg, table, 1, False, grid_resolution=12)
    np.testing.assert_allclose(ours.average["f1"], theirs["average"], atol=1e-5)
    assert ours.individual["f1"] is None and ours.average["f1"].shape == (1, 12)


def test_pdp_on_an_integer_column_uses_an_integer_grid(table: np.ndarray) -> None:
    model = _classifier()
    result = explain.partial_dependence(model, table, features=["f2"], grid_resolution=10)
    grid = result.grid["f2"]
    assert np.all(grid == np.round(grid)) and 2 <= grid.size <= 10
    few = table.copy()
    few[:, 2] = np.arange(120) % 4  # fewer values than the grid: exactly those values
    result = explain.partial_dependence(model, few, features=["f2"])
    assert result.grid["f2"].tolist() == [0.0, 1.0, 2.0, 3.0]
    # scikit-learn refuses integer dtypes; on the same (float) values it agrees with us
    theirs = _sk(model, few, 2, True, grid_resolution=20)
    np.testing.assert_allclose(result.average["f2"][1], theirs["average"][0], atol=1e-6)


def test_pdp_pair_is_a_surface(table: np.ndarray) -> None:
    model = _classifier()
    result = explain.partial_dependence(model, table, features=[("f0", "f1")], grid_resolution=4)
    surface = result.average[("f0", "f1")]
    ga, gb = result.grid[("f0", "f1")]
    assert surface.shape == (2, 4, 4) and result.individual[("f0", "f1")] is None
    changed = table.copy()
    changed[:, 0], changed[:, 1] = ga[2], gb[1]
    np.testing.assert_allclose(surface[:, 2, 1], model.predict_proba(changed.astype(np.float32)).mean(axis=0),
                               atol=1e-6)
    assert result.frame(("f0", "f1")).shape == (16, 4)
    fig = result.plot(("f0", "f1"))
    assert fig.data[0].type == "heatmap"


def test_pdp_sample_caps_ice_rows_and_dataset_keeps_names() -> None:
    model, data = explain.load_example("breast_cancer")
    feature = data.feature_names[0]
    result = explain.partial_dependence(model, data, features=[feature], grid_resolution=5, sample=20)
    assert result.individual[feature].shape == (20, 5, 2) and result.n == len(data)
    assert result.outputs == tuple(model.class_names or data.class_names)
    assert set(result.rows) <= set(data.rows.tolist())
    full = explain.partial_dependence(model, data, features=[feature], grid_resolution=5, kind="average")
    np.testing.assert_allclose(result.average[feature], full.average[feature])
    fig = result.plot()
    assert [t.name for t in fig.data] == ["ICE", "average"]
    assert result.to_json()  # JSON-exportable


def test_effects_errors(table: np.ndarray) -> None:
    model = _classifier()
    with pytest.raises(explain.InputError, match="Unknown feature 'nope'"):
        explain.partial_dependence(model, table, features=["nope"])
    with pytest.raises(explain.InputError, match="Unknown feature"):
        explain.ale(model, table, features=["nope"])
    with pytest.raises(explain.InputError, match="out of range"):
        explain.partial_dependence(model, table, features=[7])
    with pytest.raises(explain.InputError, match="grid_resolution"):
        explain.partial_dependence(model, table, features=["f0"], grid_resolution=1)
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2))
    image = explain.Model(conv, task="classification", modality="image", input_shape=(1, 8, 8))
    with pytest.raises(explain.InputError, match="tabular"):
        explain.partial_dependence(image, np.zeros((2, 1, 8, 8)), features=[0])
    constant = table.copy()
    constant[:, 0] = 1.0
    with pytest.raises(explain.DataError, match="one value"):
        explain.ale(model, constant, features=["f0"])


def test_ale_of_a_linear_model_is_linear_with_the_coefficient_as_slope(table: np.ndarray) -> None:
    model = _regressor([1.5, -2.0, 0.25])
    result = explain.ale(model, table, features=["f0", "f1", "f2"], bins=10)
    for name, slope in (("f0", 1.5), ("f1", -2.0), ("f2", 0.25)):
        edges, effect = result.edges[name], result.effect[name][0]
        np.testing.assert_allclose(effect, slope * (edges - edges[0]) + (effect[0]), atol=1e-4)
        counts = result.counts[name]
        centre = ((effect[:-1] + effect[1:]) / 2 * counts).sum() / counts.sum()
        assert abs(centre) < 1e-9 and counts.sum() == len(table)


def test_ale_matches_the_formula_by_hand_on_a_nonlinear_model() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(30, 2)).astype(np.float32).astype(np.float64)
    model = _classifier(p=2, k=3, seed=4)
    result = explain.ale(model, x, features=["f1"], bins=4)
    z = np.unique(np.quantile(x[:, 1], np.linspace(0, 1, 5), method="inverted_cdf"))
    np.testing.assert_allclose(result.edges["f1"], z)
    k = len(z) - 1
    local, counts = np.zeros((k, 3)), np.zeros(k)
    for row in x:
        b = max(1, int(np.searchsorted(z, row[1]))) - 1
        lo, hi = row.copy(), row.copy()
        lo[1], hi[1] = z[b], z[b + 1]
        probs = model.predict_proba(np.stack([lo, hi]).astype(np.float32))
        local[b] += probs[1] - probs[0]
        counts[b] += 1
    curve = np.vstack([np.zeros(3), np.cumsum(local / counts[:, None], axis=0)])
    curve -= ((curve[:-1] + curve[1:]) / 2 * counts[:, None]).sum(axis=0) / counts.sum()
    np.testing.assert_allclose(result.effect["f1"], curve.T, atol=1e-6)
    assert result.effect["f1"].shape == (3, k + 1) and result.plot().data[0].type == "scatter"


def test_batch_size_does_not_change_the_numbers(table: np.ndarray) -> None:
    model = _classifier()
    a = explain.partial_dependence(model, table, features=["f0", ("f1", "f2")], grid_resolution=6, batch_size=7)
    b = explain.partial_dependence(model, table, features=["f0", ("f1", "f2")], grid_resolution=6)
    for key in a.features:
        np.testing.assert_allclose(a.average[key], b.average[key], atol=1e-9)
    steps: list[float] = []
    explain.ale(model, table, features=["f0", "f1"], batch_size=11, progress=steps.append)
    assert steps == sorted(steps) and steps[-1] == 1.0


@pytest.mark.slow
def test_effects_on_ray_equal_the_local_run(table: np.ndarray) -> None:
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'explain-torch[ray]')")
    from explain.runtime.backends import Ray

    if ray.is_initialized():
        ray.shutdown()
    try:
        backend = Ray()
        model = _classifier()
        here = explain.partial_dependence(model, table, features=["f0"], grid_resolution=5, batch_size=40)
        there = explain.partial_dependence(model, table, features=["f0"], grid_resolution=5, batch_size=40,
                                           backend=backend)
        np.testing.assert_allclose(there.average["f0"], here.average["f0"], atol=1e-12)
        np.testing.assert_allclose(there.individual["f0"], here.individual["f0"], atol=1e-12)
        here = explain.ale(model, table, features=["f1"], batch_size=40)
        there = explain.ale(model, table, features=["f1"], batch_size=40, backend=backend)
        np.testing.assert_allclose(there.effect["f1"], here.effect["f1"], atol=1e-12)
    finally:
        ray.shutdown()


def test_ale_equals_pyale_on_the_same_bins(table: np.ndarray) -> None:
    """PyALE on the same model, rows and bin edges (its own quantile rule, passed to ours as
    edges=): the same centred curve and bin counts, for a nonlinear regression and a
    classifier's class-1 probability."""
    pd = pytest.importorskip("pandas")
    pyale = pytest.importorskip("PyALE")
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    regression = explain.Model(net, task="regression", feature_names=["f0", "f1", "f2"])
    classifier = _classifier()
    frame = pd.DataFrame(table, columns=["f0", "f1", "f2"])

    class Predict:
        def __init__(self, fn) -> None:  # noqa: ANN001
            self.predict = fn

    cases = [(regression, lambda x: regression.logits(np.asarray(x, dtype=np.float32))[:, 0], 0),
             (classifier, lambda x: classifier.predict_proba(np.asarray(x, dtype=np.float32))[:, 1], 1)]
    for model, predict, output in cases:
        for feature in ("f0", "f1"):
            theirs = pyale.ale(frame, Predict(predict), [feature], grid_size=10, include_CI=False, plot=False)
            ours = explain.ale(model, table, features=[feature], edges={feature: theirs.index.to_numpy(dtype=float)})
            assert ours.edges[feature] == pytest.approx(theirs.index.to_numpy(dtype=float), abs=1e-12)
            assert ours.effect[feature][output] == pytest.approx(theirs["eff"].to_numpy(), abs=1e-5)
            assert ours.counts[feature].tolist() == theirs["size"].to_numpy()[1:].astype(int).tolist()
    with pytest.raises(explain.InputError, match="not among the features asked for"):
        explain.ale(regression, table, features=["f0"], edges={"f1": [0.0, 1.0]})
    with pytest.raises(explain.InputError, match="at least two distinct finite numbers"):
        explain.ale(regression, table, features=["f0"], edges={"f0": [1.0, 1.0]})
