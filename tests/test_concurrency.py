"""Captum hooks, MC dropout and parameter randomisation never leak: not into later calls on
the same model, and not into other models computing at the same time in other threads
(the app runs each session's script in a thread of its own)."""

from __future__ import annotations

import copy
import threading

import numpy as np
import torch
from torch import nn

import explain


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3)).eval()


def _hooks(module: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               + len(getattr(m, "_full_backward_hooks", ()) or ()) for m in module.modules())


def test_nothing_stays_behind_on_a_model_after_any_call() -> None:
    net = _net()
    model = explain.Model(net, modality="tabular")
    x = np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)
    y = model.predict(x)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    reference = model.logits(x)
    for method in ("guided_backprop", "deeplift", "deconvolution", "integrated_gradients"):
        explain.attribute(model, x, method=method)
    explain.uncertainty(model, x, method="mc_dropout", n_samples=5)
    explain.sanity_check(model, x[:4], "saliency")
    explain.robustness(model, x, y, epsilons=[0, 0.2])
    assert _hooks(net) == 0, "every hook removed"
    assert not any(m.training for m in net.modules()), "eval mode everywhere, dropout off"
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()), "weights untouched"
    np.testing.assert_array_equal(model.logits(x), reference)


def test_sessions_in_threads_do_not_see_each_others_hooks_or_dropout() -> None:
    x = np.random.default_rng(1).normal(size=(30, 6)).astype(np.float32)
    models = [explain.Model(copy.deepcopy(_net()), modality="tabular") for _ in range(4)]
    expected = {
        "guided_backprop": explain.attribute(models[0], x, method="guided_backprop").values,
        "deeplift": explain.attribute(models[0], x, method="deeplift").values,
        "logits": models[0].logits(x),
    }
    failures: list[str] = []
    barrier = threading.Barrier(len(models))

    def session(k: int) -> None:
        model = models[k]
        try:
            barrier.wait()
            for _ in range(5):
                if k % 2:  # these switch dropout on and randomise copies of their weights...
                    explain.uncertainty(model, x, method="mc_dropout", n_samples=4)
                    explain.sanity_check(model, x[:3], "saliency", layers=2)
                else:  # ...while these run hook methods and expect exact answers
                    for name in ("guided_backprop", "deeplift"):
                        got = explain.attribute(model, x, method=name).values
                        if not np.allclose(got, expected[name], atol=1e-6):
                            failures.append(f"session {k}: {name} changed")
                if not np.allclose(model.logits(x), expected["logits"], atol=1e-6):
                    failures.append(f"session {k}: outputs changed (dropout or weights leaked)")
        except Exception as err:  # noqa: BLE001 - collected and reported below
            failures.append(f"session {k}: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=session, args=(k,)) for k in range(len(models))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not failures, failures
    assert all(_hooks(m.network) == 0 for m in models)


def test_seeded_stochastic_methods_repeat_exactly_when_sessions_overlap() -> None:
    """SmoothGrad and MC dropout draw from the global generators; seeded, they repeat
    exactly even while other threads draw from them at the same time."""
    x = np.random.default_rng(2).normal(size=(16, 6)).astype(np.float32)
    models = [explain.Model(copy.deepcopy(_net()), modality="tabular") for _ in range(4)]
    smooth = explain.attribute(models[0], x, method="smoothgrad", seed=7).values
    dropout = explain.uncertainty(models[0], x, method="mc_dropout", n_samples=8, seed=7).mean
    failures: list[str] = []
    barrier = threading.Barrier(len(models))

    def session(k: int) -> None:
        barrier.wait()
        for _ in range(4):
            if not np.array_equal(explain.attribute(models[k], x, method="smoothgrad", seed=7).values, smooth):
                failures.append(f"session {k}: smoothgrad did not repeat")
            if not np.array_equal(explain.uncertainty(models[k], x, method="mc_dropout", n_samples=8, seed=7).mean,
                                  dropout):
                failures.append(f"session {k}: MC dropout did not repeat")

    threads = [threading.Thread(target=session, args=(k,)) for k in range(len(models))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not failures, failures[:4]
