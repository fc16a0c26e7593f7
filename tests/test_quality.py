"""Explanation quality: deletion / insertion against random orderings, infidelity and
sensitivity, agreement between methods, verdicts, plots and the audit section."""

from __future__ import annotations

import itertools
import json
import pickle

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain import plots
from explain.auditing.sections.quality import quality_section
from explain.quality.deletion import default_patch
from explain.results import Agreement, Attribution, Quality, SanityCheck
from explain.results.quality import auc

WEIGHTS = torch.tensor([[3.0, -2.0, 1.0, 0.5, -0.25]])


@pytest.fixture
def linear() -> explain.Model:
    net = nn.Sequential(nn.Linear(5, 1, bias=False))
    with torch.no_grad():
        net[0].weight[:] = WEIGHTS
    return explain.Model(net, task="regression")


@pytest.fixture
def linear_x() -> torch.Tensor:
    return torch.rand(16, 5, generator=torch.Generator().manual_seed(3)) + 0.1


@pytest.fixture(scope="module")
def synthetic() -> tuple[explain.Model, torch.Tensor]:
    """A classifier trained where only features 0, 1 and 2 of 10 matter."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 10, generator=g)
    y = ((x[:, 0] + 2 * x[:, 1] - 1.5 * x[:, 2]) > 0).long()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    model = explain.Model(net.eval(), task="classification")
    assert (model.predict(x) == y.numpy()).mean() > 0.95
    return model, x[:150]


def _brute_force_aucs(contributions: np.ndarray, insertion: bool) -> np.ndarray:
    """AUC of every removal order of a linear model's contributions (baseline 0)."""
    d = len(contributions)
    fractions = np.linspace(0, 1, d + 1)
    out = []
    for order in itertools.permutations(range(d)):
        gone = np.concatenate([[0.0], np.cumsum(contributions[list(order)])])
        curve = gone if insertion else contributions.sum() - gone
        out.append(auc(fractions, curve))
    return np.array(out)


# --- known answers ------------------------------------------------------------------------
def test_w_times_x_order_is_optimal_on_a_linear_model(linear: explain.Model, linear_x: torch.Tensor) -> None:
    attr = explain.attribute(linear, linear_x, method="integrated_gradients")
    q = explain.evaluate(linear, linear_x, attr, steps=5)
    assert q.output == "output" and q.unit == "feature"
    contributions = (linear_x * WEIGHTS).numpy().astype(np.float64)
    for i in range(4):
        np.testing.assert_allclose(q.deletion_aucs[i], _brute_force_aucs(contributions[i], False).min(), rtol=1e-5)
        np.testing.assert_allclose(q.insertion_aucs[i], _brute_force_aucs(contributions[i], True).max(), rtol=1e-5)
    assert q.deletion_auc < q.random_deletion_auc and q.insertion_auc > q.random_insertion_auc
    # the curve starts at the model's output and ends at the baseline's (0)
    np.testing.assert_allclose(q.deletion_curves[:, 0], contributions.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(q.deletion_curves[:, -1], 0.0, atol=1e-6)
    np.testing.assert_allclose(q.insertion_curves[:, -1], q.deletion_curves[:, 0], rtol=1e-6)


def test_infidelity_and_sensitivity_known_answers(linear: explain.Model, linear_x: torch.Tensor) -> None:
    # on a linear model, IG's attributions sum exactly to the output change of any subset
    ig = explain.evaluate(linear, linear_x, explain.attribute(linear, linear_x, method="integrated_gradients"))
    assert ig.infidelity == pytest.approx(0.0, abs=1e-6) and ig.infidelity_reference > 1e-2
    # ... and the (signed) gradient predicts any small change exactly, and never changes
    grad = explain.attribute(linear, linear_x, method="saliency", abs=False)
    q = explain.evaluate(linear, linear_x, grad)
    assert q.infidelity == pytest.approx(0.0, abs=1e-6)
    assert q.sensitivity == pytest.approx(0.0, abs=1e-6)
    assert ig.sensitivity > 0.0
    assert q.params["skipped"] == {}


@pytest.mark.parametrize("method", ["integrated_gradients", "feature_ablation", "input_x_gradient"])
def test_faithful_methods_beat_random_where_only_some_features_matter(synthetic, method: str) -> None:
    model, x = synthetic
    q = explain.evaluate(model, x, explain.attribute(model, x, method=method), sensitivity_samples=0)
    assert q.output == "probability"
    assert q.deletion_auc < q.random_deletion_auc - 0.3
    assert q.insertion_auc > q.random_insertion_auc + 0.1
    text, level = explain.verdict(q)
    assert level == "good" and text.startswith(method.replace("_", " ") + ": faithful")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_random_attribution_is_no_better_than_random(synthetic, seed: int) -> None:
    model, x = synthetic
    noise = np.random.default_rng(100 + seed).normal(size=tuple(x.shape))
    target = model.predict(x)
    attr = Attribution(values=noise, method="random", target=target, modality="tabular")
    q = explain.evaluate(model, x, attr, infidelity_samples=0, sensitivity_samples=0)
    spread = 4 * max(q.random_deletion_aucs.std(), q.random_insertion_aucs.std(), 0.005)
    assert abs(q.deletion_auc - q.random_deletion_auc) < spread
    assert abs(q.insertion_auc - q.random_insertion_auc) < spread
    assert explain.verdict(q)[1] == "bad"
    assert "sensitivity" in q.params["skipped"]


def test_results_repeat_with_a_seed_and_differ_without(linear: explain.Model, linear_x: torch.Tensor) -> None:
    attr = explain.attribute(linear, linear_x, method="saliency")
    a = explain.evaluate(linear, linear_x, attr, seed=4).to_dict()
    b = explain.evaluate(linear, linear_x, attr, seed=4).to_dict()
    c = explain.evaluate(linear, linear_x, attr, seed=5).to_dict()
    assert a == b
    assert a["random_deletion_curves"] != c["random_deletion_curves"]


def test_baselines(linear: explain.Model, linear_x: torch.Tensor) -> None:
    attr = explain.attribute(linear, linear_x, method="integrated_gradients", baseline="mean")
    q = explain.evaluate(linear, linear_x, attr)  # takes the attribution's own baseline
    assert q.params["baseline"] == "mean"
    mean_output = float((linear_x.mean(0) * WEIGHTS).sum())
    np.testing.assert_allclose(q.deletion_curves[:, -1], mean_output, rtol=1e-5)
    q = explain.evaluate(linear, linear_x, attr, baseline=np.ones(5, dtype=np.float32))
    np.testing.assert_allclose(q.insertion_curves[:, 0], float(WEIGHTS.sum()), rtol=1e-5)
    with pytest.raises(explain.InputError, match="Pass the same array"):
        explain.evaluate(linear, linear_x, explain.attribute(linear, linear_x, method="integrated_gradients",
                                                             baseline=np.zeros(5)))
    with pytest.raises(explain.InputError, match="one example's shape"):
        explain.evaluate(linear, linear_x, attr, baseline=np.zeros(3))


# --- errors name the fix --------------------------------------------------------------------
def test_mismatched_attribution_is_refused(linear: explain.Model, linear_x: torch.Tensor) -> None:
    attr = explain.attribute(linear, linear_x, method="saliency")
    with pytest.raises(explain.InputError, match="explains 16 examples but 4 inputs"):
        explain.evaluate(linear, linear_x[:4], attr)
    with pytest.raises(explain.InputError, match="computed on other inputs"):
        explain.evaluate(linear, linear_x + 1, attr)
    with pytest.raises(explain.InputError, match="explain.Attribution"):
        explain.evaluate(linear, linear_x, attr.values)
    with pytest.raises(explain.InputError, match="explain.Model"):
        explain.evaluate(linear.network, linear_x, attr)
    with pytest.raises(explain.InputError, match="steps"):
        explain.evaluate(linear, linear_x, attr, steps=0)
    image = Attribution(values=np.zeros((16, 1, 1, 5)), method="x", target=np.zeros(16, int), modality="image")
    with pytest.raises(explain.InputError, match="image data"):
        explain.evaluate(linear, linear_x, image)


# --- images and text ------------------------------------------------------------------------
def test_images_per_pixel_and_per_patch() -> None:
    model, data = explain.load_example("digits")
    x = data[:20]
    attr = explain.attribute(model, x, method="integrated_gradients")
    q = explain.evaluate(model, x, attr, sensitivity_samples=2)
    assert q.unit == "pixel" and q.fractions.shape == (51,)
    probability = model.predict_proba(x)[np.arange(20), attr.target]
    np.testing.assert_allclose(q.deletion_curves[:, 0], probability, rtol=1e-4)
    assert q.deletion_auc < q.random_deletion_auc - 0.2 and q.insertion_auc > q.random_insertion_auc + 0.2
    assert q.infidelity is not None and q.sensitivity is not None
    patched = explain.evaluate(model, x, attr, patch=2, infidelity_samples=0, sensitivity_samples=0)
    assert patched.unit == "2x2 patch" and patched.units == "2x2 patches" and patched.fractions.shape == (17,)
    assert default_patch(64, 64) == 1 and default_patch(224, 224) == 7  # a 32x32 grid of patches


def test_shap_values_are_judged_against_the_inputs_mean(synthetic) -> None:
    model, x = synthetic
    sv = explain.shap_values(model, x[:20], background=x[20:80])
    q = explain.evaluate(model, x[:20], sv, infidelity_samples=4)
    assert q.params["baseline"] == "mean" and q.method == "shap"
    assert "not an explain.attribute method" in q.params["skipped"]["sensitivity"]
    assert explain.verdict(q)[1] == "good"


@pytest.mark.slow
def test_text_removes_tokens_with_pad() -> None:
    model, data = explain.load_example("sentiment")
    texts = data[:6]
    attr = explain.attribute(model, texts, method="integrated_gradients")
    q = explain.evaluate(model, texts, attr, steps=4)
    assert q.unit == "token" and q.infidelity is None and q.sensitivity is None
    assert "discrete tokens" in q.params["skipped"]["infidelity"]
    probability = model.predict_proba(texts)[np.arange(6), attr.target]
    np.testing.assert_allclose(q.deletion_curves[:, 0], probability, rtol=1e-4)
    np.testing.assert_allclose(q.insertion_curves[:, -1], probability, rtol=1e-4)
    np.testing.assert_allclose(q.deletion_curves[:, -1], q.insertion_curves[:, 0], rtol=1e-5)
    assert q.deletion_auc < q.random_deletion_auc
    other = explain.attribute(model, data[6:12], method="integrated_gradients")
    with pytest.raises(explain.InputError, match="tokens differ"):
        explain.evaluate(model, texts, other)


# --- agreement ------------------------------------------------------------------------------
def _attr(values: np.ndarray, method: str, target: np.ndarray | None = None) -> Attribution:
    values = np.asarray(values, dtype=float)
    t = np.zeros(len(values), dtype=int) if target is None else target
    return Attribution(values=values, method=method, target=t, modality="tabular")


def test_agreement_known_answers() -> None:
    a = _attr([[4.0, 3, 2, 1, 0], [0, 1, 2, 3, 4]], "a")
    same = _attr([[8.0, 6, 4, 2, 0], [0, 2, 4, 6, 8]], "a")
    flipped = _attr([[0.0, -1, -2, -3, -4], [4, 3, 2, 1, 0]], "b")
    ag = explain.agreement([a, same, flipped], k=2)
    assert ag.methods == ("a", "a (2)", "b")
    np.testing.assert_allclose(ag.rank_correlation, [[1, 1, -1], [1, 1, -1], [-1, -1, 1]], atol=1e-12)
    np.testing.assert_allclose(ag.top_k_overlap[0, 1], 1.0)
    assert ag.top_k_overlap[0, 2] == 0.0 and ag.mean_rank_correlation == pytest.approx(-1 / 3)
    # |values| rank alike, but the signs of the shared top features disagree
    negative = _attr(-np.asarray(a.values), "neg")
    ag2 = explain.agreement([a, negative], k=2, names=["pos", "neg"])
    assert ag2.top_k_overlap[0, 1] == 1.0 and ag2.sign_agreement[0, 1] == 0.0 and ag2.methods == ("pos", "neg")


def test_agreement_refuses_different_examples_or_targets() -> None:
    a = _attr(np.ones((2, 3)), "a")
    with pytest.raises(explain.InputError, match="two or more"):
        explain.agreement([a])
    with pytest.raises(explain.InputError, match="different targets"):
        explain.agreement([a, _attr(np.ones((2, 3)), "b", np.array([1, 1]))])
    with pytest.raises(explain.InputError, match="shape"):
        explain.agreement([a, _attr(np.ones((2, 4)), "b")])
    with pytest.raises(explain.InputError, match="names"):
        explain.agreement([a, a], names=["x"])


def test_agreement_on_model_attributions(synthetic) -> None:
    model, x = synthetic
    ig = explain.attribute(model, x[:40], method="integrated_gradients")
    ab = explain.attribute(model, x[:40], method="feature_ablation")
    ag = explain.agreement([ig, ab])
    assert ag.k == 5 and ag.n_examples == 40 and ag.rank_correlation[0, 1] > 0.8


# --- verdicts -----------------------------------------------------------------------------
def _quality(deletion: float, insertion: float, method: str = "m", output: str = "probability") -> Quality:
    f = np.linspace(0, 1, 3)
    return Quality(
        method=method, modality="tabular", fractions=f, deletion_curves=np.array([[1.0, deletion, 0.0]]),
        insertion_curves=np.array([[0.0, insertion, 1.0]]), random_deletion_curves=np.array([[1, .5, 0]] * 3),
        random_insertion_curves=np.array([[0, .5, 1]] * 3), deletion_auc=deletion / 2 + 0.25,
        insertion_auc=insertion / 2 + 0.25, random_deletion_auc=0.5, random_insertion_auc=0.5,
        target=np.array([0]), output=output)


def _sanity(final: float, method: str = "m", passed: bool | None = None) -> SanityCheck:
    return SanityCheck(method=method, modality="image", layers=("fc", "conv"), spearman=np.full((2, 1), final),
                       similarity=np.array([0.9, final]), passed=final < 0.5 if passed is None else passed,
                       threshold=0.5, maps=np.zeros((3, 1, 2, 2)), target=np.array([0]))


def test_verdict_levels() -> None:
    assert explain.verdict(_quality(0.1, 0.9)) == (
        "m: faithful, deletion AUC 0.30 vs 0.50 random, insertion AUC 0.70 vs 0.50", "good")
    assert explain.verdict(_quality(0.1, 0.5))[1] == "warn"
    assert "not faithful" in explain.verdict(_quality(0.5, 0.5))[0]
    assert explain.verdict(_sanity(0.1))[1] == "good"
    assert explain.verdict(_sanity(0.45))[1] == "warn"
    text, level = explain.verdict(_quality(0.1, 0.9, "guided_backprop"), _sanity(0.8, "guided_backprop"))
    assert level == "bad" and text.startswith("guided backprop: faithful")
    assert "fails the randomisation check" in text and "0.80" in text
    assert explain.verdict(_quality(0.1, 0.9, "gb"), _sanity(0.8, "gb"), short=True) == (
        "faithful; fails the randomisation check", "bad")
    with pytest.raises(explain.InputError, match="one method at a time"):
        explain.verdict(_quality(0.1, 0.9, "a"), _sanity(0.1, "b"))
    with pytest.raises(explain.InputError):
        explain.verdict()
    flat = _quality(1.0, 0.0)
    flat = Quality(**{**{f: getattr(flat, f) for f in flat.__dataclass_fields__},
                      "deletion_curves": np.full((1, 3), 0.7), "insertion_curves": np.full((1, 3), 0.7)})
    assert explain.verdict(flat)[1] == "warn" and "inconclusive" in explain.verdict(flat)[0]


# --- results and plots ---------------------------------------------------------------------
def test_results_are_frozen_picklable_and_json(linear: explain.Model, linear_x: torch.Tensor) -> None:
    q = explain.evaluate(linear, linear_x, explain.attribute(linear, linear_x, method="saliency"))
    assert not q.deletion_curves.flags.writeable
    again = pickle.loads(pickle.dumps(q))
    np.testing.assert_array_equal(again.deletion_curves, q.deletion_curves)
    data = json.loads(q.to_json())
    assert data["deletion_auc"] == q.deletion_auc and len(data["fractions"]) == 6
    ag = explain.agreement([_attr(np.eye(3), "a"), _attr(np.eye(3)[::-1], "b")])
    assert json.loads(ag.to_json())["methods"] == ["a", "b"]
    assert isinstance(pickle.loads(pickle.dumps(ag)), Agreement)


def test_deletion_insertion_plot(linear: explain.Model, linear_x: torch.Tensor) -> None:
    q = explain.evaluate(linear, linear_x, explain.attribute(linear, linear_x, method="saliency"))
    fig = plots.deletion_insertion(q)
    assert len(fig.data) == 8  # per panel: band (2 traces), random mean, method
    assert fig.data[3].y.tolist() == pytest.approx(q.deletion_curve.tolist())
    assert "fraction of features removed" in fig.layout.xaxis.title.text


def test_agreement_heatmap() -> None:
    ag = explain.agreement([_attr(np.eye(4), "a_b"), _attr(np.eye(4)[::-1], "c")], k=1)
    fig = plots.agreement_heatmap(ag, "top_k_overlap")
    assert list(fig.data[0].x) == ["a b", "c"] and fig.data[0].z.tolist() == ag.top_k_overlap.tolist()
    with pytest.raises(explain.InputError, match="metric must be one of"):
        plots.agreement_heatmap(ag, "pearson")


# --- the audit section ---------------------------------------------------------------------
def test_quality_section(synthetic) -> None:
    model, x = synthetic
    data = explain.Dataset(x.numpy(), model.predict(x))
    section = quality_section(model, data, rows=30, seed=0)
    assert section.status == "ok", section.reason
    assert set(section.metrics) >= {"quality.deletion_auc", "quality.random_deletion_auc", "quality.insertion_auc",
                                    "quality.random_insertion_auc", "quality.sanity_passed", "quality.agreement"}
    assert section.metrics["quality.sanity_passed"] in (0.0, 1.0)
    assert section.metrics["quality.deletion_auc"] < section.metrics["quality.random_deletion_auc"]
    assert section.findings[0].startswith("integrated gradients: faithful")
    assert "agree" in section.findings[-1]
    assert set(section.results) == {"quality.integrated_gradients", "sanity.integrated_gradients",
                                    "quality.saliency", "sanity.saliency", "agreement"}
    json.dumps(section.to_dict())


def test_quality_section_black_box(synthetic) -> None:
    model, x = synthetic
    box = explain.Model(model.network, task="classification", differentiable=False)
    data = explain.Dataset(x[:20].numpy(), model.predict(x[:20]))
    section = quality_section(box, data, rows=20)
    assert section.status == "ok" and "quality.agreement" not in section.metrics
    assert section.findings[0].startswith("feature ablation")
