"""The attribution methods: one small runner per method, each calling Captum.

Every runner has the same signature, ``run(call) -> (attributions, delta)``, where
``call`` holds the forward module, the inputs (raw tensors, or token embeddings for
text), baselines, targets and the user's options. :mod:`explain.attribution.attributions` does the
validation, batching and result assembly; this module is the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from explain.core.model import Model


@dataclass
class Call:
    """Everything one runner needs for one batch of examples."""

    model: Model
    x: torch.Tensor
    target: torch.Tensor
    baseline: torch.Tensor
    background: torch.Tensor | None
    feature_mask: torch.Tensor | None
    extra: tuple[Any, ...]
    options: dict[str, Any] = field(default_factory=dict)
    zero_baseline: bool = False

    @property
    def forward(self) -> nn.Module:
        return self.model.forward_module

    @property
    def extra_args(self) -> tuple[Any, ...] | None:
        return self.extra or None

    @property
    def baselines(self) -> torch.Tensor | float:
        """What Captum gets: 0.0 for an all-zero baseline, which spares the perturbation
        methods from indexing a baseline tensor as large as the inputs; else the tensor."""
        return 0.0 if self.zero_baseline else self.baseline


Result = tuple[torch.Tensor, "torch.Tensor | None"]


@dataclass(frozen=True)
class Method:
    """A registry entry: how to run the method and what it needs from the model."""

    name: str
    run: Callable[[Call], Result]
    captum: str
    summary: str
    gradients: bool = True
    hooks: bool = False
    baseline: bool = False
    background: bool = False
    stochastic: bool = False
    per_example: bool = False
    modalities: tuple[str, ...] = ("tabular", "image", "text")
    defaults: dict[str, Any] = field(default_factory=dict)


# the option that says how many model rows a method makes of each example
_EXPANDS = {"integrated_gradients": "n_steps", "smoothgrad": "nt_samples", "gradient_shap": "n_samples",
            "occlusion": "perturbations_per_eval", "feature_ablation": "perturbations_per_eval",
            "shapley_value_sampling": "perturbations_per_eval", "lime": "perturbations_per_eval",
            "kernel_shap": "perturbations_per_eval"}


def expansion(spec: Method, options: dict[str, Any], width: int, background_rows: int) -> int:
    """Model rows one example becomes in one call of the method: ``n_steps`` for integrated
    gradients, the noisy copies of SmoothGrad and GradientShap, the perturbations evaluated
    at once (no more than the example's ``width`` features) of the perturbation methods,
    inputs and baselines together for DeepLift, times the background for DeepLiftShap."""
    if spec.name == "deeplift":
        return 2
    if spec.name == "deeplift_shap":
        return 2 * max(1, background_rows)
    if spec.name not in _EXPANDS:
        return 1
    rows = int(options[_EXPANDS[spec.name]])
    return min(rows, width) if _EXPANDS[spec.name] == "perturbations_per_eval" else rows


def split(c: Call, expansion: int) -> int | None:
    """Model rows per pass for a call that makes ``expansion`` rows of each example: None
    when they all fit in ``options["pass_rows"]`` (one pass), else that many (at least the
    call's examples)."""
    rows, limit = int(c.x.shape[0]), int(c.options["pass_rows"])
    return None if rows * expansion <= limit else max(rows, limit)


def _per_eval(c: Call, perturbations: int | None = None) -> int:
    """Perturbations evaluated at once: the option, fewer when they would not fit a pass,
    and no more than the ``perturbations`` there are (an upper bound is enough). Captum
    copies the inputs once per perturbation evaluated at once, used or not (64 copies for
    30 features); capped at the count, the same perturbations go through the same passes."""
    wanted = int(c.options["perturbations_per_eval"])
    if perturbations is not None:
        wanted = min(wanted, max(1, perturbations))
    return min(wanted, max(1, int(c.options["pass_rows"]) // int(c.x.shape[0])))


def _features(c: Call) -> int:
    """Features FeatureAblation ablates one at a time: groups of the mask (ids 0..k-1; its
    largest id + 1 is at least their count), else every element of an example."""
    if c.feature_mask is None:
        return int(c.x[0].numel())
    return int(c.feature_mask.max()) + 1


def _positions(c: Call) -> int | None:
    """Window positions Occlusion slides over, as Captum counts them (ceil((size - window)
    / stride) + 1 per axis); None where the window does not fit, which Captum reports."""
    window, stride = c.options["window"], c.options["stride"]
    shape = tuple(c.x.shape[1:])
    if len(window) != len(shape) or len(stride) != len(shape):
        return None
    count = 1
    for size, w, s in zip(shape, window, stride):
        if not (isinstance(w, int) and isinstance(s, int)) or w > size or s < 1:
            return None
        count *= -(-(size - w) // s) + 1
    return count


def summed_gradients(forward_fn: Any, inputs: Any, target_ind: Any = None,
                     additional_forward_args: Any = None) -> tuple[torch.Tensor, ...]:
    """Captum's ``compute_gradients`` with one backward pass for the whole batch.

    Captum differentiates ``torch.unbind(outputs)``: one graph output per row, which costs
    most of the time on small models (about 90% of integrated gradients on the bundled
    MLP). Each of those outputs gets the gradient 1, so that is the gradient of the rows'
    sum, and rows of a model in eval mode do not interact: each row's own gradient, in one
    pass (for DeepLift's doubled batch of inputs and baselines too). (``_run_forward`` is
    Captum's private helper that runs the forward and picks the target, used so that
    targets mean exactly what they mean in Captum.)
    """
    from captum._utils.common import _run_forward

    with torch.autograd.set_grad_enabled(True):
        outputs = _run_forward(forward_fn, inputs, target_ind, additional_forward_args)
        return torch.autograd.grad(torch.as_tensor(outputs).sum(), inputs)


def _fast(method: Any) -> Any:
    """``method`` with :func:`summed_gradients` as its gradient function."""
    method.gradient_func = summed_gradients
    return method


def _saliency(c: Call) -> Result:
    from captum.attr import Saliency

    a = _fast(Saliency(c.forward)).attribute(
        c.x, target=c.target, abs=c.options["abs"], additional_forward_args=c.extra_args
    )
    return a, None


def _input_x_gradient(c: Call) -> Result:
    from captum.attr import InputXGradient

    return _fast(InputXGradient(c.forward)).attribute(c.x, target=c.target, additional_forward_args=c.extra_args), None


def _integrated_gradients(c: Call) -> Result:
    from captum.attr import IntegratedGradients

    o = c.options
    a, delta = _fast(IntegratedGradients(c.forward)).attribute(
        c.x, baselines=c.baselines, target=c.target, additional_forward_args=c.extra_args,
        n_steps=o["n_steps"], method=o["integration"], internal_batch_size=split(c, o["n_steps"]),
        return_convergence_delta=True,
    )
    return a, delta


def _deeplift(c: Call) -> Result:
    from captum.attr import DeepLift

    a, delta = _fast(DeepLift(c.forward, multiply_by_inputs=c.options["multiply_by_inputs"])).attribute(
        c.x, baselines=c.baselines, target=c.target, return_convergence_delta=True
    )
    return a, delta


def _deeplift_shap(c: Call) -> Result:
    from captum.attr import DeepLiftShap

    a = _fast(DeepLiftShap(c.forward)).attribute(c.x, baselines=c.background, target=c.target)
    return a, None


def _gradient_shap(c: Call) -> Result:
    from captum.attr import GradientShap

    o = c.options
    a = GradientShap(c.forward).attribute(
        c.x, baselines=c.background, target=c.target, n_samples=o["n_samples"], stdevs=o["stdevs"]
    )
    return a, None


def _smoothgrad(c: Call) -> Result:
    from captum.attr import NoiseTunnel, Saliency

    o = c.options
    per_pass = split(c, o["nt_samples"])  # noisy copies of every example per pass
    a = NoiseTunnel(_fast(Saliency(c.forward))).attribute(
        c.x, nt_type="smoothgrad", nt_samples=o["nt_samples"], stdevs=o["stdevs"],
        nt_samples_batch_size=None if per_pass is None else max(1, per_pass // c.x.shape[0]),
        target=c.target, abs=o["abs"],
        additional_forward_args=c.extra_args,
    )
    return a, None


def _guided_backprop(c: Call) -> Result:
    from captum.attr import GuidedBackprop

    return _fast(GuidedBackprop(c.forward)).attribute(c.x, target=c.target), None


def _deconvolution(c: Call) -> Result:
    from captum.attr import Deconvolution

    return _fast(Deconvolution(c.forward)).attribute(c.x, target=c.target), None


def _grad_cam(c: Call) -> Result:
    from captum.attr import LayerAttribution, LayerGradCam

    layer = c.options["layer_module"]
    cam = LayerGradCam(c.forward, layer).attribute(
        c.x, target=c.target, relu_attributions=c.options["relu_attributions"]
    )
    if cam.ndim != 4:
        raise ValueError(f"Grad-CAM needs a convolutional layer with 4-D output, got {cam.ndim}-D")
    cam = cam.sum(dim=1, keepdim=True)
    cam = LayerAttribution.interpolate(cam, tuple(c.x.shape[2:]), interpolate_mode="bilinear")
    channels = c.x.shape[1]
    return (cam / channels).expand_as(c.x).detach(), None


def _occlusion(c: Call) -> Result:
    from captum.attr import Occlusion

    o = c.options
    a = Occlusion(c.forward).attribute(
        c.x, sliding_window_shapes=tuple(o["window"]), strides=tuple(o["stride"]),
        baselines=c.baselines, target=c.target, additional_forward_args=c.extra_args,
        perturbations_per_eval=_per_eval(c, _positions(c)),
    )
    return a, None


def _feature_ablation(c: Call) -> Result:
    from captum.attr import FeatureAblation

    a = FeatureAblation(c.forward).attribute(
        c.x, baselines=c.baselines, target=c.target, feature_mask=c.feature_mask,
        additional_forward_args=c.extra_args,
        perturbations_per_eval=_per_eval(c, _features(c)),
    )
    return a, None


def _sampling(captum_class: str) -> Callable[[Call], Result]:
    """Runner for the sampling methods, which share one signature in Captum
    (ShapleyValueSampling, Lime, KernelShap)."""

    def run(c: Call) -> Result:
        import captum.attr

        o = c.options
        a = getattr(captum.attr, captum_class)(c.forward).attribute(
            c.x, baselines=c.baselines, target=c.target, feature_mask=c.feature_mask,
            additional_forward_args=c.extra_args, n_samples=o["n_samples"],
            perturbations_per_eval=_per_eval(c),
        )
        return a, None

    return run


_NO_TEXT = ("tabular", "image")
_EVALS = {"perturbations_per_eval": 64}

METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("saliency", _saliency, "Saliency", "gradient of the output",
               defaults={"abs": True}),
        Method("input_x_gradient", _input_x_gradient, "InputXGradient", "input times gradient"),
        Method("integrated_gradients", _integrated_gradients, "IntegratedGradients",
               "path integral of gradients from a baseline (completeness holds)",
               baseline=True, defaults={"n_steps": 50, "integration": "gausslegendre"}),
        Method("deeplift", _deeplift, "DeepLift", "DeepLift rescale rule against a baseline",
               hooks=True, baseline=True, modalities=_NO_TEXT,
               defaults={"multiply_by_inputs": True}),
        Method("deeplift_shap", _deeplift_shap, "DeepLiftShap",
               "DeepLift averaged over a background sample", hooks=True, background=True,
               modalities=_NO_TEXT),
        Method("gradient_shap", _gradient_shap, "GradientShap",
               "expected gradients over a background sample", background=True,
               stochastic=True, modalities=_NO_TEXT, defaults={"n_samples": 5, "stdevs": 0.0}),
        Method("smoothgrad", _smoothgrad, "NoiseTunnel(Saliency)",
               "gradients averaged over noisy copies of the input", stochastic=True,
               defaults={"nt_samples": 25, "stdevs": None, "abs": False}),
        Method("guided_backprop", _guided_backprop, "GuidedBackprop",
               "gradients with negative signals cut at every ReLU", hooks=True,
               modalities=_NO_TEXT),
        Method("deconvolution", _deconvolution, "Deconvolution",
               "deconvnet: ReLU applied to the backward signal", hooks=True, modalities=_NO_TEXT),
        Method("grad_cam", _grad_cam, "LayerGradCam",
               "class activation map of a convolutional layer, upsampled to the image",
               hooks=True, modalities=("image",),
               defaults={"layer": None, "relu_attributions": True}),
        Method("occlusion", _occlusion, "Occlusion", "output change when a sliding window is "
               "replaced by the baseline", gradients=False, baseline=True,
               defaults={"window": None, "stride": None, **_EVALS}),
        Method("feature_ablation", _feature_ablation, "FeatureAblation",
               "output change when each feature (patch, token) is replaced by the baseline",
               gradients=False, baseline=True, defaults={"patch": None, **_EVALS}),
        Method("shapley_value_sampling", _sampling("ShapleyValueSampling"), "ShapleyValueSampling",
               "Shapley values estimated from random feature orderings", gradients=False,
               baseline=True, stochastic=True,
               defaults={"n_samples": 25, "patch": None, **_EVALS}),
        Method("lime", _sampling("Lime"), "Lime", "a weighted linear surrogate fitted around the example",
               gradients=False, baseline=True, stochastic=True, per_example=True,
               defaults={"n_samples": 200, "patch": None, **_EVALS}),
        Method("kernel_shap", _sampling("KernelShap"), "KernelShap",
               "Shapley values from a weighted linear regression over coalitions",
               gradients=False, baseline=True, stochastic=True, per_example=True,
               defaults={"n_samples": 200, "patch": None, **_EVALS}),
    ]
}
