"""Predictive uncertainty: the entropy decomposition, MC dropout leaving the model as it
was, ensembles, test-time augmentation, selective prediction, plots and the audit section."""

from __future__ import annotations

import json
import pickle
from statistics import NormalDist

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain import plots
from explain.auditing.sections.uncertainty import uncertainty_section
from explain.confidence.estimates import selective
from explain.errors import DataError, InputError, MethodError
from explain.results import Uncertainty


class DropoutNet(nn.Module):
    """A classifier with BatchNorm and dropout, to check that only dropout is switched on."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.5))
        self.head = nn.Linear(32, 3)
        self.calls = 0
        self.fail_after = fail_after
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("boom")
        self.seen.append((self.body[1].training, self.body[3].training))
        return self.head(self.body(x))


def _model(net: nn.Module, task: str = "classification") -> explain.Model:
    return explain.Model(net, task=task, modality="tabular")


def _flags(net: nn.Module) -> list[bool]:
    return [m.training for m in net.modules()]


def _entropy(p: np.ndarray) -> np.ndarray:
    return -(p * np.log(p)).sum(axis=-1)


@pytest.fixture
def x() -> torch.Tensor:
    return torch.randn(40, 5, generator=torch.Generator().manual_seed(0))


def test_two_member_ensemble_has_the_hand_computed_decomposition() -> None:
    flip = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        flip.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))  # swaps the two logits
    a = explain.Model(nn.Identity(), modality="tabular", input_shape=(2,))
    b = explain.Model(flip, modality="tabular")
    u = explain.uncertainty(a, np.array([[2.0, 0.0], [1.0, 1.0]]), method="ensemble", models=[b])
    q = 1 / (1 + np.exp(-2.0))  # member probabilities (q, 1 - q) and (1 - q, q)
    aleatoric = -(q * np.log(q) + (1 - q) * np.log(1 - q))
    assert np.allclose(u.mean, 0.5)
    assert u.entropy == pytest.approx([np.log(2), np.log(2)])
    assert u.expected_entropy == pytest.approx([aleatoric, np.log(2)])
    assert u.mutual_information == pytest.approx([np.log(2) - aleatoric, 0.0], abs=1e-12)
    assert u.std[0] == pytest.approx([q - 0.5, q - 0.5]) and u.n_samples == 2


def test_mc_dropout_entropy_decomposition_adds_up(x: torch.Tensor) -> None:
    torch.manual_seed(0)
    u = explain.uncertainty(_model(DropoutNet()), x, n_samples=25)
    # total and aleatoric are entropies; epistemic is computed separately, as mean KL(p_s || mean)
    assert np.allclose(u.entropy, u.expected_entropy + u.mutual_information, atol=1e-10)
    assert np.allclose(u.entropy, _entropy(u.mean))
    assert (u.mutual_information > 0).all() and (u.std > 0).any()
    assert u.aleatoric is u.expected_entropy and u.epistemic is u.mutual_information


def test_mc_dropout_switches_on_dropout_only_and_restores_the_model(x: torch.Tensor) -> None:
    torch.manual_seed(0)
    net = DropoutNet()
    net.train()  # a few steps of training so BatchNorm's running statistics mean something
    net(torch.randn(64, 5))
    model = _model(net)  # explain.Model puts the network in eval mode
    net.body[0].training = True  # an odd mixed state must come back exactly as it was
    flags = _flags(net)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        expected = net(x)
    net.seen.clear()
    u = explain.uncertainty(model, x, n_samples=5)
    assert u.std.max() > 0
    assert set(net.seen) == {(False, True)}  # BatchNorm in eval, dropout on, in every pass
    assert _flags(net) == flags
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())  # running stats untouched
    with torch.no_grad():
        assert torch.equal(net(x), expected)


def test_mc_dropout_restores_flags_when_the_forward_fails(x: torch.Tensor) -> None:
    net = DropoutNet(fail_after=3)
    model = _model(net)
    net.body[1].training = True  # a mixed state set after wrapping
    flags = _flags(net)
    rng_state = torch.random.get_rng_state()
    with pytest.raises(RuntimeError, match="boom"):  # batch_size given: no pass measuring a row
        explain.uncertainty(model, x, n_samples=10, batch_size=40)
    assert _flags(net) == flags and net.calls == 4
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def test_seed_repeats_exactly_and_leaves_the_global_generator_alone(x: torch.Tensor) -> None:
    model = _model(DropoutNet())
    torch.manual_seed(123)
    first = explain.uncertainty(model, x, n_samples=8, seed=7)
    after = torch.rand(1)
    torch.manual_seed(123)
    again = explain.uncertainty(model, x, n_samples=8, seed=7)
    assert torch.equal(torch.rand(1), after)
    assert np.array_equal(first.mean, again.mean) and np.array_equal(first.std, again.std)
    other = explain.uncertainty(model, x, n_samples=8, seed=8)
    assert not np.array_equal(first.mean, other.mean)


def test_model_without_dropout_is_refused_with_the_alternatives(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    with pytest.raises(MethodError, match="no dropout layers.*'ensemble'.*'tta'.*'softmax'"):
        explain.uncertainty(_model(mlp), tabular_x, method="mc_dropout")


def test_exported_graph_with_baked_in_dropout_is_refused(tmp_path) -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3)).eval()
    explain.save_model(net, tmp_path / "m.pt2", torch.zeros(2, 4))
    model = explain.load_model(tmp_path / "m.pt2")
    with pytest.raises(MethodError, match="exported graph.*'tta'"):
        explain.uncertainty(model, torch.zeros(3, 4))
    u = explain.uncertainty(model, torch.zeros(3, 4), method="tta", n_samples=4)
    assert u.mean.shape == (3, 3)
    torch.jit.script(net).save(str(tmp_path / "m.pt"))
    with pytest.raises(MethodError, match="TorchScript.*'ensemble'"):
        explain.uncertainty(explain.load_model(tmp_path / "m.pt"), torch.zeros(3, 4))


def test_softmax_is_one_pass_without_epistemic_part(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = _model(mlp)
    u = explain.uncertainty(model, tabular_x, method="softmax")
    assert np.allclose(u.mean, model.predict_proba(tabular_x), atol=1e-6)
    assert not u.std.any() and np.allclose(u.mutual_information, 0, atol=1e-12)
    assert np.allclose(u.entropy, u.expected_entropy)


def test_single_logit_classifier_gets_two_class_probabilities() -> None:
    net = nn.Linear(2, 1)
    model = explain.Model(net, task="classification", modality="tabular")
    x = torch.randn(6, 2)
    u = explain.uncertainty(model, x, method="softmax")
    with torch.no_grad():
        assert np.allclose(u.mean[:, 1], torch.sigmoid(net(x))[:, 0].numpy(), atol=1e-6)


def test_regression_intervals_are_mean_plus_minus_z_std(x: torch.Tensor) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
    u = explain.uncertainty(_model(net, "regression"), x, n_samples=20, level=0.8)
    z = NormalDist().inv_cdf(0.9)
    assert u.mean.shape == (40,) and u.entropy is None
    assert np.allclose(u.upper - u.mean, z * u.std) and np.allclose(u.mean - u.lower, z * u.std)
    with pytest.raises(MethodError, match="conformal"):
        explain.uncertainty(_model(net, "regression"), x, method="softmax")


def test_tta_noise_is_in_each_feature_scale() -> None:
    net = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 0.0]]))  # outputs feature 0
    model = _model(net, "regression")
    x = np.random.default_rng(0).normal(size=(300, 2)) * np.array([2.0, 50.0])
    u = explain.uncertainty(model, x, method="tta", n_samples=200, noise=0.5)
    scale = x[:, 0].std()
    assert np.mean(u.std) == pytest.approx(0.5 * scale, rel=0.05)
    fixed = explain.uncertainty(model, x, method="tta", n_samples=50, noise=0.5, scale=[0.2, 1.0])
    assert np.mean(fixed.std) == pytest.approx(0.1, rel=0.05)
    silent = explain.uncertainty(model, x, method="tta", n_samples=5, noise=0.0)
    assert not silent.std.any()


def test_tta_on_images_flips_and_shifts(cnn: nn.Module, image_x: torch.Tensor) -> None:
    total = nn.Sequential(nn.Flatten(), nn.Linear(64, 1, bias=False))
    with torch.no_grad():
        total[1].weight.fill_(1.0)  # sums the pixels: a flip does not change it, a shift does
    model = explain.Model(total, task="regression", modality="image", input_shape=(1, 8, 8))
    flipped = explain.uncertainty(model, image_x, method="tta", augmentations=["flip"], n_samples=6)
    assert np.allclose(flipped.std, 0, atol=1e-5)
    shifted = explain.uncertainty(model, image_x, method="tta", augmentations=["shift"], n_samples=6)
    assert shifted.std.max() > 1e-3
    u = explain.uncertainty(explain.Model(cnn, modality="image"), image_x, method="tta", n_samples=4)
    assert u.mean.shape == (6, 3)
    with pytest.raises(InputError, match="augmentations"):
        explain.uncertainty(model, image_x, method="tta", augmentations=["rotate"])


def test_ensemble_options_are_checked(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = _model(mlp)
    with pytest.raises(InputError, match="models="):
        explain.uncertainty(model, tabular_x, method="ensemble")
    with pytest.raises(InputError, match="same outputs"):
        explain.uncertainty(model, tabular_x, method="ensemble", models=[_model(nn.Linear(5, 4))])
    with pytest.raises(InputError, match="explain.Model"):
        explain.uncertainty(model, tabular_x, method="ensemble", models=[nn.Linear(5, 3)])
    with pytest.raises(MethodError, match="method"):
        explain.uncertainty(model, tabular_x, method="bayes")


def test_labels_progress_and_most_uncertain_rows(x: torch.Tensor) -> None:
    data = explain.Dataset(x.numpy(), np.arange(40) % 3)
    seen: list[float] = []
    u = explain.uncertainty(_model(DropoutNet()), data, n_samples=4, batch_size=16, progress=seen.append)
    assert seen == pytest.approx([0.4, 0.8, 1.0])
    assert np.array_equal(u.labels, np.arange(40) % 3)
    assert np.array_equal(u.correct, u.predictions == u.labels)
    top = u.most_uncertain(3)
    assert list(top) == list(np.argsort(-u.entropy)[:3])
    assert set(u.most_uncertain(40, by="mutual_information")) == set(range(40))
    assert pickle.loads(pickle.dumps(u)).entropy.tolist() == u.entropy.tolist()
    assert json.loads(u.to_json())["method"] == "mc_dropout"


def test_text_model_mc_dropout_and_softmax() -> None:
    model, data = explain.load_example("sentiment")
    texts = data[:12]
    u = explain.uncertainty(model, texts, n_samples=8)
    assert u.mean.shape == (12, 2) and u.mutual_information.max() > 0
    assert not any(m.training for m in model.network.modules())
    soft = explain.uncertainty(model, texts.texts, method="softmax")
    assert np.allclose(soft.mean, model.predict_proba(texts.texts), atol=1e-5)
    with pytest.raises(MethodError, match="text"):
        explain.uncertainty(model, texts, method="tta")


# --- selective prediction ---------------------------------------------------------------
def test_risk_coverage_by_hand() -> None:
    model = explain.Model(nn.Identity(), modality="tabular", input_shape=(2,))
    logits = np.array([[4.0, 0.0], [0.2, 0.0], [0.0, 3.0], [1.0, 0.0]])
    rc = explain.risk_coverage(model, logits, [0, 1, 1, 1])
    # most certain first: rows 0 (right), 2 (right), 3 (wrong), 1 (wrong)
    assert rc.risk.tolist() == pytest.approx([0, 0, 1 / 3, 0.5])
    assert rc.oracle_risk.tolist() == pytest.approx([0, 0, 1 / 3, 0.5])
    assert rc.aurc == pytest.approx(np.mean([0, 0, 1 / 3, 0.5]))
    assert rc.risk_at(0.5) == 0 and rc.risk_at(1.0) == 0.5
    assert rc.most_uncertain(2).tolist() == [1, 3]
    with pytest.raises(DataError):
        explain.risk_coverage(model, logits)


def test_regression_risk_is_the_absolute_error() -> None:
    mean = np.array([1.0, 2.0, 3.0])
    u = Uncertainty(method="tta", task="regression", mean=mean, std=np.array([0.1, 0.5, 0.2]))
    rc = selective(u, [1.5, 2.0, 5.0])
    assert rc.loss.tolist() == [0.5, 0.0, 2.0] and rc.loss_name == "absolute error"
    assert rc.risk.tolist() == pytest.approx([0.5, 1.25, 2.5 / 3])


# --- plots ------------------------------------------------------------------------------
def test_uncertainty_plots_hold_the_numbers(x: torch.Tensor) -> None:
    data = explain.Dataset(x.numpy(), np.arange(40) % 3)
    u = explain.uncertainty(_model(DropoutNet()), data, n_samples=6)
    fig = plots.entropy_by_correctness(u)
    right, wrong = fig.data
    assert np.allclose(right.x, u.entropy[u.correct]) and np.allclose(wrong.x, u.entropy[~u.correct])
    rc = selective(u)
    curve = plots.risk_coverage_curve(rc)
    assert np.allclose(curve.data[0].y, rc.risk) and np.allclose(curve.data[1].y, rc.oracle_risk)
    with pytest.raises(InputError, match="labels"):
        plots.entropy_by_correctness(explain.uncertainty(_model(DropoutNet()), x, n_samples=3))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.3), nn.Linear(8, 1))
    reg = explain.uncertainty(_model(net, "regression"), x, n_samples=5, targets=x[:, 0])
    band = plots.prediction_intervals(reg)
    order = np.argsort(reg.mean, kind="stable")
    assert np.allclose(band.data[1].y, reg.mean[order]) and np.allclose(band.data[2].y, x[:, 0].numpy()[order])


def _results() -> dict[str, object]:
    rng = np.random.default_rng(0)
    logits = (rng.normal(size=(120, 3)) * 3).astype(np.float32)
    labels = np.where(rng.random(120) < 0.7, logits.argmax(axis=1), rng.integers(0, 3, 120))
    model = explain.Model(nn.Identity(), modality="tabular", input_shape=(3,))
    unc = explain.uncertainty(model, logits, method="softmax", targets=labels)
    cp = explain.conformal(model, logits[:60], labels[:60])
    reg = explain.Model(nn.Linear(3, 1), task="regression", modality="tabular")
    intervals = explain.conformal(reg, logits[:60], labels[:60].astype(float)).evaluate(logits[60:], labels[60:])
    return {"calibration": explain.calibration(model, logits, labels), "uncertainty": unc,
            "sets": cp.evaluate(logits[60:], labels[60:]), "risk": selective(unc), "intervals": intervals}


@pytest.mark.parametrize(("plot", "key"), [
    ("reliability_diagram", "calibration"), ("temperature_comparison", "calibration"),
    ("confidence_histogram", "calibration"), ("entropy_by_correctness", "uncertainty"),
    ("set_size_distribution", "sets"), ("set_size_distribution", "intervals"),
    ("risk_coverage_curve", "risk"), ("prediction_intervals", "intervals"),
])
def test_every_uncertainty_plot_draws_and_refuses_other_results(plot: str, key: str) -> None:
    results = _results()
    fig = getattr(plots, plot)(results[key])
    assert json.loads(fig.to_json())["data"] and fig.layout.title.text
    wrong = results["risk"] if key != "risk" else results["calibration"]
    with pytest.raises(InputError):
        getattr(plots, plot)(wrong)


def test_uncertainty_figures_pick_the_plots_of_each_result() -> None:
    from explain.plots.uncertainty import uncertainty_figures

    results = _results()
    titles = {key: [f.layout.title.text.split(" ")[0] for f in uncertainty_figures(value)]
              for key, value in results.items()}
    assert titles["calibration"] == ["Reliability", "Temperature", "Confidence"]
    assert titles["uncertainty"] == ["softmax:"] and titles["risk"] == ["Risk-coverage:"]
    assert len(titles["sets"]) == 1 and len(titles["intervals"]) == 2
    assert uncertainty_figures("not a result") == []  # type: ignore[arg-type]


# --- the audit section ------------------------------------------------------------------
def test_audit_section_on_a_classifier_and_without_labels() -> None:
    model, data = explain.load_example("breast_cancer")
    section = uncertainty_section(model, data, rows=50, seed=0)
    assert section.status == "ok"
    m = section.metrics
    assert m["calibration.ece"] == pytest.approx(explain.calibration(model, data).ece)
    assert {"calibration.temperature", "calibration.ece_after_temperature", "conformal.coverage",
            "conformal.mean_set_size", "uncertainty.mean_entropy", "selective.risk_at_90"} <= set(m)
    assert any(f.startswith(("overconfident", "underconfident", "well calibrated")) for f in section.findings)
    assert section.results["uncertainty"].method == "mc_dropout"
    json.dumps(section.to_dict(), allow_nan=False)
    unlabelled = explain.Dataset(data.x, None, feature_names=data.feature_names)
    partial = uncertainty_section(model, unlabelled)
    assert partial.status == "ok" and set(partial.results) == {"uncertainty"}
    assert any("need labels" in f for f in partial.findings)


def test_audit_section_on_a_regression_samples_rows_and_keeps_their_indices() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(900, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.3, size=900)
    net = nn.Linear(3, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, -2.0, 0.5]]))
        net.bias.zero_()
    model = explain.Model(net, task="regression", modality="tabular")
    section = uncertainty_section(model, explain.Dataset(x, y, task="regression"), rows=10, seed=3)
    m = section.metrics
    assert m["conformal.coverage"] >= 0.85 and m["conformal.mean_width"] == pytest.approx(2 * 1.645 * 0.3, rel=0.2)
    unc = section.results["uncertainty"]
    assert unc.method == "tta" and len(unc) == 500
    picked = np.sort(np.random.default_rng(3).choice(900, 500, replace=False))
    assert np.array_equal(unc.rows, picked)
    assert set(unc.most_uncertain(5)) <= set(picked)
    sets = section.results["conformal"]
    assert len(sets) == 250 and set(sets.rows) <= set(picked)


def test_audit_section_on_a_tiny_dataset_says_what_it_could_not_do(mlp: nn.Module) -> None:
    data = explain.Dataset(np.random.default_rng(0).normal(size=(3, 5)), np.array([0, 1, 2]))
    section = uncertainty_section(_model(mlp), data, conformal_alpha=0.1)
    assert section.status == "ok" and section.results["uncertainty"].method == "softmax"
    assert any(f.startswith("no calibration") for f in section.findings)
    assert any(f.startswith("no conformal prediction") and "at least 9" in f for f in section.findings)
    assert "calibration.ece" not in section.metrics and "uncertainty.mean_entropy" in section.metrics
