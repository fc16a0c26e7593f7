"""Attributions: hand-computed answers, equality with Captum, completeness, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum import attr as captum
from torch import nn

import explain
from explain.attribution.registry import METHODS


def linear_model(weights: list[float], bias: float = 0.0) -> explain.Model:
    net = nn.Linear(len(weights), 1)
    with torch.no_grad():
        net.weight[:] = torch.tensor([weights])
        net.bias[:] = bias
    return explain.Model(net, task="regression")


X = torch.tensor([[1.0, 2.0, -1.0], [0.5, -3.0, 4.0]])
W = [2.0, -1.0, 0.5]


# --- known answers on f(x) = 2 x0 - x1 + 0.5 x2 + 1 ------------------------------------
def test_saliency_is_the_weight_vector() -> None:
    a = explain.attribute(linear_model(W, 1.0), X, method="saliency", abs=False)
    np.testing.assert_allclose(a.values, np.tile(W, (2, 1)))
    a_abs = explain.attribute(linear_model(W, 1.0), X, method="saliency")
    np.testing.assert_allclose(a_abs.values, np.abs(np.tile(W, (2, 1))))


@pytest.mark.parametrize(
    "method",
    ["input_x_gradient", "integrated_gradients", "deeplift", "occlusion", "feature_ablation",
     "shapley_value_sampling", "kernel_shap"],
)
def test_linear_model_attributions_are_weight_times_input(method: str) -> None:
    # with a zero baseline every one of these methods gives w_i * x_i on a linear model
    a = explain.attribute(linear_model(W, 1.0), X, method=method)
    np.testing.assert_allclose(a.values, X.numpy() * np.array(W), atol=1e-4)


def test_hand_computed_gradient_of_a_relu_network() -> None:
    # f(x) = relu(x0 - x1) * 3 + relu(x1) * 2 ; at x = (2, 1): both units active
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight[:] = torch.tensor([[1.0, -1.0], [0.0, 1.0]])
        net[2].weight[:] = torch.tensor([[3.0, 2.0]])
    model = explain.Model(net, task="regression")
    a = explain.attribute(model, [[2.0, 1.0], [0.5, 1.0]], method="saliency", abs=False)
    # row 1: d/dx0 = 3, d/dx1 = -3 + 2 = -1 ; row 2: first unit off: (0, 2)
    np.testing.assert_allclose(a.values, [[3.0, -1.0], [0.0, 2.0]])


def test_target_defaults_to_predicted_class(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp)
    a = explain.attribute(model, tabular_x, method="saliency")
    np.testing.assert_array_equal(a.target, mlp(tabular_x).argmax(1).numpy())
    b = explain.attribute(model, tabular_x, method="saliency", target=2)
    assert (b.target == 2).all()
    np.testing.assert_allclose(b.outputs, mlp(tabular_x)[:, 2].detach().numpy(), rtol=1e-6)


# --- completeness -----------------------------------------------------------------------
def test_integrated_gradients_completeness(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp)
    a = explain.attribute(model, tabular_x, method="integrated_gradients", n_steps=300)
    total = a.values.sum(axis=1)
    expected = a.outputs - a.base_values
    np.testing.assert_allclose(total, expected, atol=2e-3)
    np.testing.assert_allclose(a.delta, total - expected, atol=1e-4)
    base = mlp(torch.zeros(1, 5))[0, a.target.tolist()].detach().numpy()
    np.testing.assert_allclose(a.base_values, base, rtol=1e-5)


@pytest.mark.parametrize("method", ["shapley_value_sampling", "deeplift", "deeplift_shap"])
def test_efficiency_of_shapley_and_deeplift(mlp: nn.Module, tabular_x: torch.Tensor, method: str) -> None:
    a = explain.attribute(explain.Model(mlp), tabular_x, method=method)
    np.testing.assert_allclose(a.values.sum(axis=1), a.outputs - a.base_values, atol=1e-4)


def test_image_patches_share_their_attribution(cnn: nn.Module, image_x: torch.Tensor) -> None:
    # 2x2 patches: Captum gives each pixel the patch's value; we spread it so values sum up
    model = explain.Model(cnn, modality="image")
    a = explain.attribute(model, image_x, method="shapley_value_sampling", patch=2, n_samples=4)
    np.testing.assert_allclose(a.values.reshape(6, -1).sum(1), a.outputs - a.base_values, atol=1e-4)
    block = a.values[0, 0, :2, :2]
    np.testing.assert_allclose(block, block[0, 0])


# --- equality with Captum on the same module and options ---------------------------------
def _captum_reference(name: str, forward: nn.Module, x: torch.Tensor, target: torch.Tensor,
                      background: torch.Tensor) -> torch.Tensor:
    torch.manual_seed(0)
    np.random.seed(0)
    zeros = torch.zeros_like(x)
    if name == "saliency":
        return captum.Saliency(forward).attribute(x, target=target)
    if name == "input_x_gradient":
        return captum.InputXGradient(forward).attribute(x, target=target)
    if name == "integrated_gradients":
        return captum.IntegratedGradients(forward).attribute(x, zeros, target=target, n_steps=50)
    if name == "deeplift":
        return captum.DeepLift(forward).attribute(x, zeros, target=target)
    if name == "deeplift_shap":
        return captum.DeepLiftShap(forward).attribute(x, background, target=target)
    if name == "gradient_shap":
        return captum.GradientShap(forward).attribute(x, background, target=target, n_samples=5)
    if name == "smoothgrad":
        return captum.NoiseTunnel(captum.Saliency(forward)).attribute(
            x, nt_type="smoothgrad", nt_samples=25, stdevs=0.3, target=target, abs=False)
    if name == "guided_backprop":
        return captum.GuidedBackprop(forward).attribute(x, target=target)
    if name == "deconvolution":
        return captum.Deconvolution(forward).attribute(x, target=target)
    if name == "occlusion":
        window = (1,) if x.ndim == 2 else (1, 1, 1)
        return captum.Occlusion(forward).attribute(x, window, target=target, baselines=0)
    if name == "feature_ablation":
        return captum.FeatureAblation(forward).attribute(x, target=target)
    if name == "shapley_value_sampling":
        return captum.ShapleyValueSampling(forward).attribute(x, target=target, n_samples=5)
    if name == "lime":
        return torch.cat([captum.Lime(forward).attribute(x[i:i + 1], target=target[i:i + 1], n_samples=50)
                          for i in range(len(x))])
    if name == "kernel_shap":
        return torch.cat([captum.KernelShap(forward).attribute(x[i:i + 1], target=target[i:i + 1], n_samples=50)
                          for i in range(len(x))])
    if name == "grad_cam":
        cam = captum.LayerGradCam(forward, forward.network.conv).attribute(x, target=target, relu_attributions=True)
        return captum.LayerAttribution.interpolate(cam, x.shape[2:], "bilinear").expand_as(x)
    raise AssertionError(name)


OPTIONS = {"smoothgrad": {"stdevs": 0.3}, "occlusion": {"window": (1, 1, 1), "stride": (1, 1, 1)},
           "feature_ablation": {"patch": 1}, "shapley_value_sampling": {"patch": 1, "n_samples": 5},
           "lime": {"patch": 1, "perturbations_per_eval": 1, "n_samples": 50},
           "kernel_shap": {"patch": 1, "perturbations_per_eval": 1, "n_samples": 50}}


@pytest.mark.parametrize("modality", ["tabular", "image"])
@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_equals_captum(name: str, modality: str, mlp: nn.Module, cnn: nn.Module,
                                    tabular_x: torch.Tensor, image_x: torch.Tensor) -> None:
    if modality not in METHODS[name].modalities:
        pytest.skip(f"{name} does not serve {modality}")
    net, x = (mlp, tabular_x) if modality == "tabular" else (cnn, image_x[:3])
    model = explain.Model(net, modality=modality)
    options = dict(OPTIONS.get(name, {}))
    if modality == "tabular":
        options.pop("patch", None)
        if name == "occlusion":
            options = {"window": (1,), "stride": (1,)}
    background = x[:4]
    kwargs = {"background": background} if METHODS[name].background else {}
    ours = explain.attribute(model, x, method=name, **kwargs, **options)
    target = torch.as_tensor(ours.target.copy())
    reference = _captum_reference(name, model.forward_module, x.clone(), target, background)
    atol = 1e-2 if name == "lime" else 1e-5
    np.testing.assert_allclose(ours.values, reference.detach().numpy(), rtol=1e-4, atol=atol)


def test_batching_does_not_change_deterministic_results(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp)
    whole = explain.attribute(model, tabular_x, method="integrated_gradients", batch_size=64)
    parts = explain.attribute(model, tabular_x, method="integrated_gradients", batch_size=5)
    np.testing.assert_allclose(whole.values, parts.values, atol=1e-6)


def test_same_seed_same_answer_for_stochastic_methods(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp)
    a = explain.attribute(model, tabular_x, method="smoothgrad", seed=3)
    b = explain.attribute(model, tabular_x, method="smoothgrad", seed=3)
    c = explain.attribute(model, tabular_x, method="smoothgrad", seed=4)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, c.values)


def test_progress_is_reported(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    seen: list[float] = []
    explain.attribute(explain.Model(mlp), tabular_x, method="saliency", batch_size=5, progress=seen.append)
    assert seen == pytest.approx([5 / 12, 10 / 12, 1.0])


# --- refusals ---------------------------------------------------------------------------
class FunctionalRelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.relu = nn.Linear(3, 4), nn.Linear(4, 2), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.relu(self.a(x)))


@pytest.mark.parametrize("method", ["deeplift", "guided_backprop", "deconvolution", "deeplift_shap"])
def test_hook_methods_refuse_functional_nonlinearities(method: str) -> None:
    model = explain.Model(FunctionalRelu())
    with pytest.raises(explain.MethodError, match="as functions in forward"):
        explain.attribute(model, torch.randn(4, 3), method=method)
    assert method not in explain.methods(model)  # the listing probes a made-up example too


def test_guided_backprop_refuses_a_model_without_relu_modules() -> None:
    model = explain.Model(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)))
    with pytest.raises(explain.MethodError, match="silently equal plain gradients"):
        explain.attribute(model, torch.randn(4, 3), method="guided_backprop")
    assert "guided_backprop" not in explain.methods(model)


def test_unknown_method_suggests_the_close_name(mlp: nn.Module) -> None:
    with pytest.raises(explain.MethodError, match="Did you mean 'integrated_gradients'"):
        explain.attribute(explain.Model(mlp), torch.zeros(1, 5), method="integrated_gradient")


def test_bad_options_and_targets_are_explained(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    model = explain.Model(mlp)
    with pytest.raises(explain.InputError, match="n_steps"):
        explain.attribute(model, tabular_x, method="saliency", n_steps=3)
    with pytest.raises(explain.InputError, match="between 0 and 2"):
        explain.attribute(model, tabular_x, method="saliency", target=7)
    with pytest.raises(explain.InputError, match="one per example"):
        explain.attribute(model, tabular_x, method="saliency", target=[0, 1])
    with pytest.raises(explain.InputError, match="explain.Model"):
        explain.attribute(mlp, tabular_x)


def test_wrong_feature_count_names_both_numbers(mlp: nn.Module) -> None:
    with pytest.raises(explain.DataError, match="takes 5 features but the data has 4"):
        explain.attribute(explain.Model(mlp), np.zeros((3, 4)), method="saliency")


def test_grad_cam_needs_a_conv_layer(mlp: nn.Module) -> None:
    with pytest.raises(explain.MethodError, match="does not serve tabular"):
        explain.attribute(explain.Model(mlp), torch.zeros(1, 5), method="grad_cam")


def test_results_are_frozen(mlp: nn.Module, tabular_x: torch.Tensor) -> None:
    a = explain.attribute(explain.Model(mlp), tabular_x, method="saliency")
    with pytest.raises(ValueError):
        a.values[0, 0] = 1.0
    import pickle

    assert np.array_equal(pickle.loads(pickle.dumps(a)).values, a.values)
    assert a[2].values.shape == (1, 5)


def test_names_come_from_the_dataset_when_the_model_has_none(mlp: nn.Module) -> None:
    data = explain.Dataset(np.ones((4, 5)), np.array([0, 1, 2, 0]), feature_names=list("vwxyz"),
                           class_names=["lo", "mid", "hi"])
    a = explain.attribute(explain.Model(mlp), data, method="saliency")
    assert a.feature_names == tuple("vwxyz") and a.class_names == ("lo", "mid", "hi")
    named = explain.Model(mlp, feature_names=list("abcde"), class_names=["x", "y", "z"])
    b = explain.attribute(named, data, method="saliency")
    assert b.feature_names == tuple("abcde") and b.class_names == ("x", "y", "z")
