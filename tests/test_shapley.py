"""SHAP values: brute force, closed forms, additivity, shap's own explainers, interop, plots."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain import plots


def brute_force(net: nn.Module, x: torch.Tensor, background: torch.Tensor, target: int) -> np.ndarray:
    """Interventional Shapley values by the textbook formula, one coalition at a time."""
    m = x.shape[0]

    def v(subset: tuple[int, ...]) -> float:
        rows = background.clone()
        rows[:, list(subset)] = x[list(subset)]
        return float(net(rows)[:, target].double().mean())

    phi = np.zeros(m)
    for j in range(m):
        others = [k for k in range(m) if k != j]
        for r in range(m):
            for subset in itertools.combinations(others, r):
                weight = math.factorial(r) * math.factorial(m - r - 1) / math.factorial(m)
                phi[j] += weight * (v(subset + (j,)) - v(subset))
    return phi


@pytest.fixture
def small() -> tuple[explain.Model, nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).eval()
    gen = torch.Generator().manual_seed(1)
    return explain.Model(net), net, torch.randn(4, 6, generator=gen), torch.randn(12, 6, generator=gen)


def test_exact_equals_brute_force(small: tuple) -> None:
    model, net, x, bg = small
    sv = explain.shap_values(model, x, background=bg)
    assert sv.params["algorithm"] == "exact"
    with torch.no_grad():
        expected = np.stack([brute_force(net, x[i], bg, int(sv.target[i])) for i in range(len(x))])
    np.testing.assert_allclose(sv.values, expected, atol=1e-6)
    np.testing.assert_allclose(sv.base_values, net(bg)[:, sv.target.tolist()].mean(0).detach().numpy(), atol=1e-6)


def test_linear_model_closed_form() -> None:
    net = nn.Linear(5, 1)
    model = explain.Model(net, task="regression")
    x, bg = torch.randn(7, 5), torch.randn(40, 5)
    w = net.weight.detach().numpy()[0]
    expected = w * (x.numpy() - bg.numpy().mean(0))
    for algorithm in ("exact", "permutation"):
        sv = explain.shap_values(model, x, background=bg, algorithm=algorithm, n_samples=4)
        np.testing.assert_allclose(sv.values, expected, atol=1e-5)  # exact for additive models


@pytest.mark.parametrize("algorithm", ["exact", "kernel", "permutation"])
def test_additivity(algorithm: str) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 2)).eval()
    x, bg = torch.randn(5, 13), torch.randn(16, 13)
    sv = explain.shap_values(explain.Model(net), x, background=bg, algorithm=algorithm, n_samples=600)
    assert sv.params["algorithm"] == algorithm
    total = sv.values.sum(1) + sv.base_values
    np.testing.assert_allclose(total, sv.outputs, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(sv.outputs, net(x)[torch.arange(5), sv.target.tolist()].detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("algorithm", ["kernel", "permutation"])
def test_sampling_algorithms_are_within_their_error_estimate(algorithm: str) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(12, 24), nn.ReLU(), nn.Linear(24, 2)).eval()
    gen = torch.Generator().manual_seed(3)
    x, bg = torch.randn(3, 12, generator=gen), torch.randn(10, 12, generator=gen)
    exact = explain.shap_values(explain.Model(net), x, background=bg, algorithm="exact")
    sampled = explain.shap_values(explain.Model(net), x, background=bg, algorithm=algorithm, n_samples=800)
    error = np.abs(sampled.values - exact.values)
    assert sampled.stderr is not None and (sampled.stderr > 0).any()
    # nearly every value within 4 standard errors, and the errors are small overall
    assert np.mean(error <= 4 * sampled.stderr + 1e-6) >= 0.95
    assert error.mean() < 0.1 * np.abs(exact.values).mean()


def test_agrees_with_shap_exact_explainer(small: tuple) -> None:
    shap = pytest.importorskip("shap")
    model, net, x, bg = small
    ours = explain.shap_values(model, x, background=bg, target=1)

    def f(rows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.as_tensor(rows, dtype=torch.float32))[:, 1].double().numpy()

    masker = shap.maskers.Independent(bg.numpy(), max_samples=len(bg))
    theirs = shap.explainers.Exact(f, masker)(x.numpy())
    np.testing.assert_allclose(ours.values, theirs.values, atol=1e-5)
    np.testing.assert_allclose(ours.base_values, theirs.base_values, atol=1e-5)


@pytest.mark.slow
def test_agrees_with_shap_kernel_explainer_within_sampling_error() -> None:
    shap = pytest.importorskip("shap")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1)).eval()
    gen = torch.Generator().manual_seed(5)
    x, bg = torch.randn(3, 16, generator=gen), torch.randn(10, 16, generator=gen)
    model = explain.Model(net, task="regression")
    exact = explain.shap_values(model, x, background=bg, algorithm="exact")
    ours = explain.shap_values(model, x, background=bg, algorithm="kernel", n_samples=2000)

    def f(rows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.as_tensor(rows, dtype=torch.float32))[:, 0].double().numpy()

    np.random.seed(0)
    theirs = shap.KernelExplainer(f, bg.numpy()).shap_values(x.numpy(), nsamples=2000, silent=True)
    scale = np.abs(exact.values).mean()
    their_error = np.abs(theirs - exact.values).mean()
    our_error = np.abs(ours.values - exact.values).mean()
    assert their_error < 0.25 * scale  # both estimate the same values...
    assert our_error <= their_error  # ...and ours is at least as close for the same budget


def test_images_patches_and_blur_masker() -> None:
    model, data = explain.load_example("digits")
    sv = explain.shap_values(model, data[:2], patch=4)  # 4 patches: exact
    assert sv.params["algorithm"] == "exact" and sv.params["features"] == 4
    assert "blurred" in sv.params["masker"]
    assert sv.values.shape == (2, 1, 8, 8)
    np.testing.assert_allclose(sv.values.reshape(2, -1).sum(1) + sv.base_values, sv.outputs, atol=1e-5)
    block = sv.values[0, 0, :4, :4]
    np.testing.assert_allclose(block, block[0, 0])  # each pixel holds an equal share of its patch
    with_bg = explain.shap_values(model, data[:2], patch=4, background=data[10:14])
    assert "4 background images" in with_bg.params["masker"]


def test_text_tokens_masked_by_the_mask_token() -> None:
    model, _ = explain.load_example("sentiment")
    sv = explain.shap_values(model, ["the movie was not good", "great"], target=1)
    assert sv.tokens[0] == ("[CLS]", "the", "movie", "was", "not", "good", "[SEP]")
    assert "[MASK]" in sv.params["masker"]
    assert sv.values[0, 0] == 0 and sv.values[0, 6] == 0  # special tokens are not features
    np.testing.assert_allclose(sv.values.sum(1) + sv.base_values, sv.outputs, atol=1e-5)
    assert sv.values[0, 4] < 0  # "not" pushes away from positive


def test_gradient_algorithms_and_errors(small: tuple) -> None:
    model, _, x, bg = small
    for algorithm in ("gradient", "deep"):
        sv = explain.shap_values(model, x, background=bg, algorithm=algorithm)
        assert sv.method == "shap" and sv.params["algorithm"] == algorithm
    with pytest.raises(explain.InputError, match="algorithm must be one of"):
        explain.shap_values(model, x, algorithm="fast")
    big = explain.Model(nn.Linear(24, 1), task="regression")
    with pytest.raises(explain.InputError, match="2\\^24"):
        explain.shap_values(big, torch.zeros(1, 24), algorithm="exact")


def test_large_background_is_summarised_by_kmeans(small: tuple) -> None:
    model, _, x, _ = small
    bg = torch.randn(500, 6)
    sv = explain.shap_values(model, x, background=bg, max_background=8)
    assert sv.params["background_rows"] <= 8
    np.testing.assert_allclose(sv.values.sum(1) + sv.base_values, sv.outputs, atol=1e-5)


def test_to_shap_and_back(small: tuple) -> None:
    pytest.importorskip("shap")
    model, _, x, bg = small
    sv = explain.shap_values(model, x, background=bg)
    exp = sv.to_shap()
    np.testing.assert_array_equal(exp.values, sv.values)
    np.testing.assert_array_equal(exp.base_values, sv.base_values)
    back = explain.Attribution.from_shap(exp, target=sv.target)
    np.testing.assert_array_equal(back.values, sv.values)
    np.testing.assert_allclose(back.outputs, sv.outputs, atol=1e-6)
    image = explain.shap_values(*_digits(), patch=4)
    assert image.to_shap().values.shape == (2, 8, 8, 1)  # channels last, as shap plots expect


def _digits() -> tuple[explain.Model, explain.Dataset]:
    model, data = explain.load_example("digits")
    return model, data[:2]


def test_waterfall_and_dependence_plots() -> None:
    net = nn.Linear(3, 1)
    with torch.no_grad():
        net.weight[:] = torch.tensor([[1.0, -2.0, 0.5]])
    model = explain.Model(net, task="regression", feature_names=["a", "b", "c"])
    x, bg = torch.randn(30, 3), torch.zeros(5, 3)
    sv = explain.shap_values(model, x, background=bg)
    fig = plots.waterfall(sv, 0, max_display=3)
    assert list(fig.data[0].y) == ["E[f(x)]", *[f"{n} = {x[0, j]:.4g}" for n, j in _two_largest(sv)], "1 other features", "f(x)"]
    np.testing.assert_allclose(float(fig.data[0].x[0]) + sum(fig.data[0].x[1:-1]), sv.outputs[0], atol=1e-5)

    # y = x0 * x1: the attribution of x0 at similar x0 is explained by x1
    class Product(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x[:, 0] * x[:, 1] + 0 * x[:, 2])[:, None]

    prod = explain.shap_values(explain.Model(Product(), task="regression"), torch.randn(200, 3),
                               background=torch.randn(20, 3))
    assert plots.strongest_interaction(prod, 0) == 1
    dep = plots.dependence(prod, 0)
    np.testing.assert_array_equal(dep.data[0].y, prod.values[:, 0])
    assert dep.data[0].marker.colorbar.title.text == "x1"


def _two_largest(sv: explain.Attribution) -> list[tuple[str, int]]:
    order = np.argsort(-np.abs(sv.values[0]))[:2]
    return [(["a", "b", "c"][j], j) for j in order]
