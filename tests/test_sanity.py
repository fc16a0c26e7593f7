"""The model-randomisation sanity check: known passes and failures, the cascade, the
model restored bit for bit, and the similarity measures against reference code."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import explain
from explain import plots
from explain.quality.similarity import normalised, spearman_rows, ssim
from explain.results import Attribution


@pytest.fixture(scope="module")
def digits() -> tuple[explain.Model, explain.Dataset]:
    model, data = explain.load_example("digits")  # a small CNN trained on sklearn's digits
    return model, data[:24]


def _state(model: explain.Model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.network.state_dict().items()}


def _unchanged(model: explain.Model, before: dict[str, torch.Tensor]) -> bool:
    after = model.network.state_dict()
    return after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)


def the_input(model: explain.Model, inputs: explain.Dataset, *, target: np.ndarray, seed: int) -> np.ndarray:
    """Not an explanation: the image itself, whatever the model."""
    return np.asarray(inputs.x, dtype=np.float64)


def edge_detector(model: explain.Model, inputs: explain.Dataset, *, target: np.ndarray, seed: int) -> Attribution:
    """Not an explanation: the Sobel gradient magnitude of the image."""
    x = torch.as_tensor(inputs.x)
    kernel = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).view(1, 1, 3, 3)
    gx, gy = F.conv2d(x, kernel, padding=1), F.conv2d(x, kernel.transpose(2, 3), padding=1)
    return Attribution(values=(gx**2 + gy**2).sqrt().numpy(), method="edges", target=target, modality="image")


# --- known answers ------------------------------------------------------------------------
def test_gradients_of_a_trained_cnn_pass(digits) -> None:
    model, data = digits
    before = _state(model)
    sc = explain.sanity_check(model, data, method="saliency")
    assert sc.passed and sc.final_similarity < 0.3
    assert sc.layers == ("classifier.4", "classifier.1", "features.2", "features.0")
    assert sc.spearman.shape == (4, 24) and sc.ssim.shape == (4, 24) and sc.similarity.shape == (4,)
    assert sc.maps.shape == (5, 4, 8, 8) and sc.inputs.shape == (4, 1, 8, 8)
    assert sc.ssim.mean() < 0.4
    assert explain.verdict(sc)[1] == "good"
    assert _unchanged(model, before)


@pytest.mark.parametrize("method", [the_input, edge_detector])
def test_methods_that_ignore_the_weights_fail(digits, method) -> None:
    model, data = digits
    sc = explain.sanity_check(model, data, method=method)
    assert not sc.passed
    np.testing.assert_allclose(sc.similarity, 1.0)
    np.testing.assert_allclose(sc.ssim, 1.0, atol=1e-9)
    text, level = explain.verdict(sc)
    assert level == "bad" and "fails the randomisation check" in text
    assert sc.method == method.__name__


def test_the_model_is_restored_bit_for_bit_after_an_error(digits) -> None:
    model, data = digits
    before = _state(model)
    parameters = [id(p) for p in model.network.parameters()]
    calls = []

    def breaks_on_the_third_call(m: explain.Model, inputs, *, target, seed):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return explain.attribute(m, inputs, method="saliency", target=target).values

    with pytest.raises(RuntimeError, match="boom"):
        explain.sanity_check(model, data, method=breaks_on_the_third_call)
    assert len(calls) == 3 and _unchanged(model, before)
    assert [id(p) for p in model.network.parameters()] == parameters


def test_seeded_and_targets_fixed(digits) -> None:
    model, data = digits
    a = explain.sanity_check(model, data[:6], method="saliency", seed=1, target=3)
    b = explain.sanity_check(model, data[:6], method="saliency", seed=1, target=3)
    c = explain.sanity_check(model, data[:6], method="saliency", seed=2, target=3)
    assert a.to_dict() == b.to_dict() and a.to_dict() != c.to_dict()
    assert a.target.tolist() == [3] * 6
    json.loads(a.to_json())


# --- the cascade ----------------------------------------------------------------------------
class HeadFirst(nn.Module):
    """Registers its output layer before the body, so registration order misleads."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.head = nn.Linear(8, 2)
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())
        self.scale = nn.Parameter(torch.ones(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x * self.scale))


def test_layers_run_from_the_output_down_by_execution_order() -> None:
    model = explain.Model(HeadFirst(), task="classification", input_shape=(4,))
    x = torch.randn(10, 4, generator=torch.Generator().manual_seed(0))
    sc = explain.sanity_check(model, x)
    assert sc.layers == ("head", "body.2", "body.0", "(root)")
    assert explain.sanity_check(model, x, layers=3).layers == ("head", "body", "(root)")
    assert explain.sanity_check(model, x, layers=2).layers == ("head … body.2", "body.0 … (root)")
    named = explain.sanity_check(model, x, layers=["body", "head"])
    assert named.layers == ("body", "head") and named.similarity.shape == (2,)
    with pytest.raises(explain.InputError, match="no module named 'tail'"):
        explain.sanity_check(model, x, layers=["tail"])
    with pytest.raises(explain.InputError, match="no parameters"):
        explain.sanity_check(model, x, layers=["body.1"])


def test_refusals() -> None:
    empty = explain.Model(nn.Sequential(nn.Flatten()), task="regression", input_shape=(3,))
    with pytest.raises(explain.MethodError, match="no torch parameters"):
        explain.sanity_check(empty, torch.zeros(2, 3))
    model = explain.Model(nn.Linear(3, 2), task="classification")
    with pytest.raises(explain.MethodError, match="Unknown method"):
        explain.sanity_check(model, torch.zeros(2, 3), method="saliencyy")
    with pytest.raises(explain.InputError, match="threshold"):
        explain.sanity_check(model, torch.zeros(2, 3), threshold=2)
    with pytest.raises(explain.InputError, match="explain.Model"):
        explain.sanity_check(model.network, torch.zeros(2, 3))


@pytest.mark.slow
def test_exported_pt2_models_randomise_like_the_live_module(digits, tmp_path) -> None:
    model, data = digits
    path = tmp_path / "digits.pt2"
    explain.save_model(model.network, path, torch.zeros(2, 1, 8, 8), modality="image")
    exported = explain.load_model(path)
    before = _state(exported)
    live = explain.sanity_check(model, data[:8], method="saliency")
    graph = explain.sanity_check(exported, data[:8], method="saliency")
    assert graph.layers == live.layers
    np.testing.assert_allclose(graph.spearman, live.spearman, atol=1e-6)
    assert graph.passed and _unchanged(exported, before)


@pytest.mark.slow
def test_text_models() -> None:
    model, data = explain.load_example("sentiment")
    before = _state(model)
    sc = explain.sanity_check(model, data[:4], method="saliency", layers=4, keep=2)
    assert len(sc.layers) <= 4 and sc.layers[0] == "classifier"
    assert sc.ssim is None and sc.inputs is None and len(sc.tokens) == 2
    assert sc.maps.shape[:2] == (len(sc.layers) + 1, 2)
    assert _unchanged(model, before)
    fig = plots.cascade_maps(sc, 1)
    assert list(fig.data[0].y)[0] == "original" and fig.layout.xaxis.ticktext[0] == "[CLS]"


# --- similarity measures against reference code --------------------------------------------
@pytest.mark.parametrize("size", [8, 16, 23])
def test_ssim_matches_torchmetrics(size: int) -> None:
    from torchmetrics.functional.image import structural_similarity_index_measure as reference

    rng = np.random.default_rng(size)
    a = rng.random((5, size, size))
    b = np.clip(a + rng.normal(scale=0.2, size=a.shape), 0, 1)
    b[0] = a[0]
    ours = ssim(a, b)
    theirs = reference(torch.tensor(b).unsqueeze(1), torch.tensor(a).unsqueeze(1), data_range=1.0,
                       reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)
    assert ours[0] == pytest.approx(1.0)


def test_spearman_matches_scipy() -> None:
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(6, 12)).astype(float)  # many ties
    b = a + rng.normal(size=a.shape)
    ours = spearman_rows(a, b)
    np.testing.assert_allclose(ours, [spearmanr(a[i], b[i]).statistic for i in range(6)], rtol=1e-10)
    lengths = np.array([12, 5, 3, 12, 7, 2])
    short = spearman_rows(a, b, lengths)
    np.testing.assert_allclose(short[1], spearmanr(a[1, :5], b[1, :5]).statistic, rtol=1e-10)
    # zeros shared by both maps are left out on request; constant maps score 1 if equal
    z = np.array([[0.0, 0, 0, 1, 2, 3]])
    assert spearman_rows(z, np.array([[0.0, 0, 0, 3, 2, 1]]), skip_zeros=True)[0] == pytest.approx(-1.0)
    assert spearman_rows(np.ones((1, 4)), np.ones((1, 4)))[0] == 1.0
    assert spearman_rows(np.ones((1, 4)), np.arange(4.0)[None])[0] == 0.0
    np.testing.assert_allclose(normalised(np.array([[1.0, 4.0], [0.0, 0.0]])), [[0.25, 1.0], [0.0, 0.0]])


# --- plots -----------------------------------------------------------------------------------
def test_cascade_plots(digits) -> None:
    model, data = digits
    sc = explain.sanity_check(model, data[:6], method="saliency", keep=2)
    maps = plots.cascade_maps(sc, 1, columns=3)
    assert len(maps.data) == 5 and maps.layout.annotations[0].text == "original"
    assert maps.layout.annotations[1].text.startswith("+ classifier.4 (ρ")
    with pytest.raises(explain.InputError, match="kept 2 examples"):
        plots.cascade_maps(sc, 2)
    curve = plots.cascade_similarity(sc)
    names = [t.name for t in curve.data if t.showlegend is not False]
    assert names == ["Spearman (middle half)", "Spearman (mean)", "SSIM (middle half)", "SSIM (mean)"]
    assert list(curve.data[2].x)[0] == "original" and curve.data[2].y[0] == 1.0
    tabular = explain.Model(HeadFirst(), task="classification", feature_names=list("abcd"), input_shape=(4,))
    sct = explain.sanity_check(tabular, torch.randn(5, 4, generator=torch.Generator().manual_seed(1)))
    fig = plots.cascade_maps(sct)
    assert fig.data[0].z.shape == (5, 4) and list(fig.layout.xaxis.ticktext) == list("abcd")
