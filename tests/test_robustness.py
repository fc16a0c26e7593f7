"""Adversarial robustness: closed forms on linear models, agreement with ART, and the
constraints (bounds, immutable, integer and one-hot features) that must never break."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain.errors import InputError, InputTypeError, MethodError
from explain.runtime.backends import Ray


def _linear(w0: list[float], w1: list[float], b: tuple[float, float] = (0.0, 0.0)) -> explain.Model:
    net = nn.Linear(len(w0), 2)
    with torch.no_grad():
        net.weight[:] = torch.tensor([w0, w1])
        net.bias[:] = torch.tensor(b)
    return explain.Model(net, modality="tabular")


@pytest.fixture
def blobs() -> tuple[explain.Model, np.ndarray, np.ndarray]:
    """A small trained MLP on two Gaussian blobs in 4 features of different scales."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    scales = np.array([1.0, 10.0, 0.1, 5.0])
    x = (rng.normal(size=(300, 4)) + 1.5 * y[:, None]) * scales
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    xt, yt = torch.tensor(x / scales, dtype=torch.float32), torch.tensor(y)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()
    scaled = nn.Sequential(_Scale(scales), net)
    return explain.Model(scaled, modality="tabular", feature_names=["a", "b", "c", "d"]), x.astype(np.float32), y


class _Scale(nn.Module):
    def __init__(self, scales: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("s", torch.tensor(scales, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / self.s


def test_fgsm_on_a_linear_model_is_the_closed_form() -> None:
    # untargeted on true class 0: the loss gradient points along w1 - w0
    model = _linear([2.0, -1.0, 0.5], [-1.0, 3.0, 1.0])
    x = torch.tensor([[1.0, 0.0, 1.0], [1.5, -1.0, 2.0]])
    rob = explain.robustness(model, x, [0, 0], attack="fgsm", epsilons=[0.25], scale="none",
                             bounds=(-100, 100), integer=None, min_epsilon=False, explain_method=None)
    expected = x.numpy() + 0.25 * np.sign(np.array([-3.0, 4.0, 0.5]))
    np.testing.assert_allclose(rob.adversarial, expected, atol=1e-6)


def test_fgsm_in_standard_deviations_moves_each_feature_by_its_own_scale() -> None:
    model = _linear([0.1, 0.1], [-0.1, -0.1])
    x = torch.tensor([[1.0, 10.0], [2.0, 30.0], [3.0, 50.0]])
    std = x.std(dim=0).numpy()
    rob = explain.robustness(model, x, [0, 0, 0], attack="fgsm", epsilons=[0.1], bounds=(-1e3, 1e3),
                             integer=None, min_epsilon=False, explain_method=None)
    np.testing.assert_allclose(rob.adversarial, x.numpy() - 0.1 * std, rtol=1e-6)
    assert rob.params["scale"] == "std"


def test_minimal_epsilon_matches_the_margin_of_a_linear_model() -> None:
    # logit gap (w0 - w1).x = 2 * x0; an L-inf step of eps closes it by eps * |w0 - w1|_1 = 2 eps
    model = _linear([1.0, 0.0], [-1.0, 0.0])
    x = torch.tensor([[0.3, 0.0], [0.7, 0.0], [1.1, 0.0], [-0.2, 0.0]])
    rob = explain.robustness(model, x, [0, 0, 0, 0], attack="pgd", epsilons=[0, 0.5, 1.0, 1.5],
                             steps=30, scale="none", bounds=(-10, 10), refine=12, explain_method=None)
    np.testing.assert_allclose(rob.min_epsilon[:3], [0.3, 0.7, 1.1], atol=2e-3)
    assert rob.min_epsilon[3] == 0.0  # already wrong
    assert rob.accuracy.tolist() == [0.75, 0.5, 0.25, 0.0]
    assert (rob.min_epsilon[:3] >= [0.3, 0.7, 1.1]).all()  # no flip below the true minimum


def test_epsilon_zero_changes_nothing(blobs) -> None:
    model, x, y = blobs
    rob = explain.robustness(model, x[:50], y[:50], epsilons=[0.0], explain_method=None)
    np.testing.assert_array_equal(rob.adversarial, x[:50])
    assert rob.accuracy[0] == (model.predict(x[:50]) == y[:50]).mean()
    assert rob.flipped.sum() == 0


def test_bounds_and_immutable_features_hold(blobs) -> None:
    model, x, y = blobs
    lo, hi = x.min(axis=0), x.max(axis=0)
    rob = explain.robustness(model, x[:80], y[:80], epsilons=[0, 0.5, 2.0], immutable=["b", 3],
                             bounds=(lo, hi), integer=None, explain_method=None)
    adv = rob.adversarial
    assert (adv >= lo - 1e-5).all() and (adv <= hi + 1e-5).all()
    np.testing.assert_array_equal(adv[:, [1, 3]], x[:80, [1, 3]])
    assert rob.flipped.any()  # the others did move
    std = x[:80].std(axis=0, ddof=1)
    moved = np.abs(adv - x[:80]) / std
    assert moved.max() <= 2.0 + 1e-4


def test_integer_and_one_hot_features_stay_valid() -> None:
    rng = np.random.default_rng(1)
    n = 120
    age = rng.integers(20, 70, n).astype(float)
    colour = rng.integers(0, 3, n)
    onehot = np.eye(3)[colour]
    income = rng.normal(50, 10, n)
    x = np.column_stack([age, onehot, income]).astype(np.float32)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))
    with torch.no_grad():  # features in raw units (age ~45, income ~50): keep tanh unsaturated
        net[0].weight.mul_(torch.tensor([0.05, 1.0, 1.0, 1.0, 0.05]))
        net[0].bias.zero_()
    model = explain.Model(net, modality="tabular", feature_names=["age", "red", "green", "blue", "income"])
    y = model.predict(x)
    rob = explain.robustness(model, x, y, epsilons=[0, 0.3, 3.0], one_hot=[["red", "green", "blue"]],
                             explain_method=None)
    adv = rob.adversarial
    np.testing.assert_array_equal(adv[:, 0], np.round(adv[:, 0]))  # age auto-detected as integer
    np.testing.assert_array_equal(adv[:, 1:4].sum(axis=1), 1)
    assert set(np.unique(adv[:, 1:4])) <= {0.0, 1.0}
    # every reported flip is a flip of the projected, valid input
    flipped = ~np.isnan(rob.min_epsilon) & (rob.min_epsilon > 0)
    assert flipped.any()
    assert (model.predict(adv[flipped]) != y[flipped]).all()


def test_l2_attacks_stay_in_the_ball(blobs) -> None:
    model, x, y = blobs
    rob = explain.robustness(model, x[:60], y[:60], norm="l2", epsilons=[0, 0.5, 1.0], integer=None,
                             bounds=(-1e3, 1e3), explain_method=None)
    std = x[:60].std(axis=0, ddof=1)
    size = np.linalg.norm((rob.adversarial - x[:60]) / std, axis=1)
    assert (size <= 1.0 + 1e-4).all()
    assert rob.accuracy[-1] < rob.accuracy[0]


def test_targeted_success_means_reaching_the_target(cnn, image_x) -> None:
    model = explain.Model(cnn, modality="image")
    y = model.predict(image_x)
    goal = (y + 1) % 3
    rob = explain.robustness(model, image_x, y, epsilons=[0, 0.5], target_class=goal, bounds=(0, 1),
                             steps=40, explain_method=None)
    reached = model.predict(rob.adversarial) == goal
    np.testing.assert_array_equal(rob.min_epsilon > 0, reached)
    assert reached.any()


def test_seeded_random_starts_repeat(cnn, image_x) -> None:
    model = explain.Model(cnn, modality="image")
    y = model.predict(image_x)
    runs = [explain.robustness(model, image_x, y, epsilons=[0.1], random_start=True, seed=s,
                               min_epsilon=False, explain_method=None).adversarial for s in (3, 3, 4)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def _art_accuracy(model: explain.Model, x: np.ndarray, y: np.ndarray, attack: str, eps: float,
                  steps: int, clip: tuple[float, float]) -> float:
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier

    classifier = PyTorchClassifier(model.forward_module, loss=nn.CrossEntropyLoss(), input_shape=x.shape[1:],
                                   nb_classes=10, clip_values=clip, device_type="cpu")
    if attack == "fgsm":
        art = FastGradientMethod(classifier, eps=eps, batch_size=512)
    else:
        art = ProjectedGradientDescent(classifier, eps=eps, eps_step=2.5 * eps / steps, max_iter=steps,
                                       num_random_init=0, batch_size=512, verbose=False)
    adv = art.generate(x, y=y)
    return float((classifier.predict(adv).argmax(axis=1) == y).mean())


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_accuracy_agrees_with_art(attack: str) -> None:
    pytest.importorskip("art")
    model, data = explain.load_example("digits")
    x, y = data.x[:200], data.y[:200].astype(np.int64)
    eps = [0.05, 0.1]
    rob = explain.robustness(model, x, y, attack=attack, epsilons=eps, steps=10, bounds=(0, 1),
                             min_epsilon=False, explain_method=None)
    for e, ours in zip(eps, rob.accuracy):
        theirs = _art_accuracy(model, x, y, attack, e, 10, (0.0, 1.0))
        assert abs(ours - theirs) <= 0.01, (e, ours, theirs)


def test_explanations_under_attack(blobs) -> None:
    model, x, y = blobs
    rob = explain.robustness(model, x[:40], y[:40], epsilons=[0, 1.0, 2.0], integer=None,
                             explain_method="saliency")
    moved = rob.min_epsilon > 0
    assert moved.any()
    assert np.isfinite(rob.rank_correlation[moved]).all()
    assert np.isnan(rob.rank_correlation[~moved]).all()
    assert ((rob.topk_overlap[moved] >= 0) & (rob.topk_overlap[moved] <= 1)).all()
    before = explain.attribute(model, x[:40][moved], method="saliency").values
    np.testing.assert_allclose(rob.attribution_before[moved], before, rtol=1e-5)


def test_a_dataset_brings_its_labels_in_the_model_order() -> None:
    model = _linear([1.0, 0.0], [-1.0, 0.0])
    model.class_names = ("pos", "neg")
    data = explain.Dataset(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1, 0]), class_names=["neg", "pos"])
    rob = explain.robustness(model, data, epsilons=[0.0], explain_method=None)
    assert rob.targets.tolist() == [0, 1]
    assert rob.accuracy[0] == 1.0


@pytest.mark.slow
def test_text_attack_flips_real_texts() -> None:
    model, data = explain.load_example("sentiment")
    part = data[:12]
    rob = explain.robustness(model, part, epsilons=[0, 1, 2, 3])
    assert rob.attack == "text" and rob.norm == "edits"
    assert (np.diff(rob.accuracy) <= 0).all()
    flipped = rob.min_epsilon > 0
    assert flipped.any()
    labels = rob.targets
    again = model.predict([rob.adversarial_texts[i] for i in np.flatnonzero(flipped)])
    assert (again != labels[flipped]).all()  # the attacked texts themselves flip the model
    for i in np.flatnonzero(flipped):
        assert 1 <= len(rob.changed[i]) <= rob.min_epsilon[i]


def test_bad_requests_name_the_fix(mlp) -> None:
    model = explain.Model(mlp, modality="tabular")
    x = np.zeros((3, 5), dtype=np.float32)
    with pytest.raises(InputError, match="pgd"):
        explain.robustness(model, x, [0, 0, 0], attack="fgsm", norm="l2")
    with pytest.raises(InputError, match="attack must be"):
        explain.robustness(model, x, [0, 0, 0], attack="cw")
    with pytest.raises(InputError, match="non-negative"):
        explain.robustness(model, x, [0, 0, 0], epsilons=[-1])
    with pytest.raises(InputError, match="no feature named"):
        explain.robustness(model, x, [0, 0, 0], immutable=["age"])
    with pytest.raises(explain.DataError, match="labels"):
        explain.robustness(model, x)
    with pytest.raises(MethodError, match="regression"):
        explain.robustness(explain.Model(mlp, task="regression"), x, [0.0, 1.0, 2.0])


def test_result_is_frozen_and_exports(blobs) -> None:
    model, x, y = blobs
    rob = explain.robustness(model, x[:20], y[:20], epsilons=[0, 0.2], explain_method=None)
    assert not rob.accuracy.flags.writeable
    assert list(rob.curve.columns)[:4] == ["attack", "norm", "epsilon", "accuracy"]
    assert rob.to_dict()["attack"] == "pgd"
    assert "accuracy" in rob.verdict()


def test_plots_show_the_result(blobs, cnn, image_x) -> None:
    from explain.plots import robustness as plots

    model, x, y = blobs
    pgd = explain.robustness(model, x[:40], y[:40], epsilons=[0, 0.5, 1.0], explain_method="saliency")
    fgsm = explain.robustness(model, x[:40], y[:40], attack="fgsm", epsilons=[0, 0.5, 1.0], explain_method=None)
    curve = plots.robustness_curve([pgd, fgsm])
    assert [t.name for t in curve.data] == ["PGD L-inf", "FGSM L-inf"]
    np.testing.assert_allclose(curve.data[0].y, pgd.accuracy)
    hist = plots.min_epsilon_histogram(pgd)
    found = pgd.min_epsilon[np.isfinite(pgd.min_epsilon) & (pgd.min_epsilon > 0)]
    np.testing.assert_allclose(hist.data[0].x, found)
    i = int(np.flatnonzero(pgd.min_epsilon > 0)[0])
    bars = plots.adversarial_example(pgd, i)
    shift = pgd.adversarial[i] - pgd.inputs[i]
    assert np.isclose(np.abs(bars.data[0].x).max(), np.abs(shift).max())
    shift_plot = plots.explanation_shift(pgd)
    np.testing.assert_allclose(shift_plot.data[0].y, pgd.rank_correlation[np.isfinite(pgd.rank_correlation)])
    with pytest.raises(InputError, match="explain_method"):
        plots.explanation_shift(fgsm)
    image = explain.Model(cnn, modality="image")
    rob = explain.robustness(image, image_x, image.predict(image_x), epsilons=[0, 0.3], bounds=(0, 1),
                             explain_method=None)
    fig = plots.adversarial_example(rob, 0)
    np.testing.assert_allclose(fig.data[2].z, (rob.adversarial[0] - rob.inputs[0]).sum(axis=0), rtol=1e-6)


class _InProcess(Ray):
    """A chunked backend that runs here: each chunk goes through pickle, as to an actor."""

    def __init__(self) -> None:
        self.workers = None

    def map(self, model, fn, chunks, progress=None):  # noqa: ANN001, ANN201
        return [fn(model, *pickle.loads(pickle.dumps(args))) for args in chunks]


def test_a_chunked_run_prepares_once_and_runs_the_local_path_per_chunk(blobs, monkeypatch) -> None:
    from explain.adversarial import chunks, front

    model, x, y = blobs
    calls = {"prepare": 0, "build_space": 0, "robustness": 0, "attack_rows": 0}

    def counted(name, fn):  # noqa: ANN001, ANN202
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    options = {"epsilons": [0, 0.5, 1.0], "batch_size": 16, "immutable": ["b"], "explain_method": None}
    here = explain.robustness(model, x[:50], y[:50], **options)
    monkeypatch.setattr(front, "prepare", counted("prepare", front.prepare))
    monkeypatch.setattr(front, "build_space", counted("build_space", front.build_space))
    monkeypatch.setattr(front, "robustness", counted("robustness", front.robustness))
    monkeypatch.setattr(chunks, "attack_rows", counted("attack_rows", chunks.attack_rows))
    there = front.robustness(model, x[:50], y[:50], backend=_InProcess(), **options)
    assert calls == {"prepare": 1, "build_space": 1, "robustness": 1, "attack_rows": 4}
    assert there.params == {**here.params, "backend": "ray", "chunks": 4}
    for name in ("accuracy", "success_rate", "flipped", "min_epsilon", "adversarial", "predictions"):
        np.testing.assert_array_equal(getattr(there, name), getattr(here, name))


def test_flips_and_scores_are_one_formula(blobs) -> None:
    from explain.adversarial.local import flips, scores

    model, x, y = blobs
    goal = np.ones(60, dtype=np.int64)
    rob = explain.robustness(model, x[:60], y[:60], epsilons=[0, 0.5], target_class=1, explain_method=None)
    clean = rob.predictions
    flipped = flips(rob.adversarial_predictions, clean, rob.targets, goal)
    np.testing.assert_array_equal(flipped, rob.flipped)
    accuracy, success = scores(rob.adversarial_predictions, clean, rob.targets, goal, flipped)
    np.testing.assert_array_equal(accuracy, rob.accuracy)
    np.testing.assert_array_equal(success, rob.flipped.sum(axis=1) / max((clean != 1).sum(), 1))


def test_wrong_types_are_input_type_errors(mlp) -> None:
    model = explain.Model(mlp, modality="tabular")
    x = np.zeros((3, 5), dtype=np.float32)
    with pytest.raises(InputTypeError, match="model must be"):
        explain.robustness(mlp, x, [0, 0, 0])
    with pytest.raises(InputTypeError, match="steps"):
        explain.robustness(model, x, [0, 0, 0], steps=2.5)
    with pytest.raises(InputTypeError, match="epsilons"):
        explain.robustness(model, x, [0, 0, 0], epsilons=["small"])
    with pytest.raises(InputError, match="norm must be") as err:
        explain.robustness(model, x, [0, 0, 0], norm="l3")
    assert isinstance(err.value, ValueError) and not isinstance(err.value, TypeError)
