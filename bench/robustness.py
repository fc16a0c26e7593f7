"""Accuracy-under-attack curves: ``explain.robustness`` against IBM's Adversarial
Robustness Toolbox (ART), the peer a user would otherwise reach for.

Both run side by side in one process on the same model, data and settings: FGSM and PGD
(L-inf, 20 steps of 2.5 eps / 20, no random start) at every epsilon of the grid, with the
accuracy measured on the adversarial inputs. explain runs without the minimal-epsilon
search and without explanations, so both do the same work. Tables: epsilon is in each
feature's standard deviation; ART gets the matching per-feature eps array and per-feature
clip values, explain its defaults (integer features rounding off, so both stay continuous).

Reported per case and attack: median wall time of 3 alternating repetitions after a
warm-up, the ratio explain / ART, and the largest accuracy difference over the grid.

Run: ``python -m bench robustness`` (``--no-write`` keeps bench/README.md as it is).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

import explain
from bench._readme import write_section
from explain.core.labels import true_labels

HEADING = "## Robustness curves vs ART"
STEPS = 20


def _art(model: explain.Model, x: np.ndarray, y: np.ndarray, attack: str, eps: list[float],
         scale: np.ndarray, clip: tuple[Any, Any]) -> list[float]:
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier

    classes = int(model.logits(x[:1]).shape[1])
    classifier = PyTorchClassifier(model.forward_module, loss=nn.CrossEntropyLoss(), input_shape=x.shape[1:],
                                   nb_classes=classes, clip_values=clip, device_type="cpu")
    out = []
    for e in eps:
        if e == 0:
            adv = x
        elif attack == "fgsm":
            adv = FastGradientMethod(classifier, eps=e * scale, eps_step=e * scale, batch_size=512).generate(x, y=y)
        else:
            step = 2.5 * e / STEPS
            adv = ProjectedGradientDescent(classifier, eps=e * scale, eps_step=step * scale, max_iter=STEPS,
                                           num_random_init=0, batch_size=512, verbose=False).generate(x, y=y)
        out.append(float((classifier.predict(adv).argmax(axis=1) == y).mean()))
    return out


def _case(name: str) -> tuple[explain.Model, np.ndarray, np.ndarray, list[float], np.ndarray, tuple[Any, Any]]:
    model, data = explain.load_example(name)
    x, y = data.x, true_labels(model, data)
    if model.modality == "image":
        return model, x, y, [0.0, 0.01, 0.02, 0.05, 0.1, 0.2], np.ones(x.shape[1:], np.float32), (0.0, 1.0)
    std = x.std(axis=0, ddof=1).astype(np.float32)
    return model, x, y, [0.0, 0.05, 0.1, 0.2, 0.3, 0.5], std, (x.min(axis=0), x.max(axis=0))


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _measure(name: str, model: explain.Model, x: np.ndarray, y: np.ndarray, attack: str, eps: list[float],
             scale: np.ndarray, clip: tuple[Any, Any]) -> str:
    def ours() -> list[float]:
        r = explain.robustness(model, x, y, attack=attack, epsilons=eps, steps=STEPS, integer=None,
                               bounds=None, min_epsilon=False, explain_method=None, batch_size=512)
        return r.accuracy.tolist()

    def theirs() -> list[float]:
        return _art(model, x, y, attack, eps, scale, clip)

    ours(), theirs()  # warm-up
    times: dict[str, list[float]] = {"explain": [], "art": []}
    results = {}
    for _ in range(3):
        for label, fn in (("explain", ours), ("art", theirs)):
            t, results[label] = _timed(fn)
            times[label].append(t)
    t_ours, t_art = statistics.median(times["explain"]), statistics.median(times["art"])
    gap = max(abs(a - b) for a, b in zip(results["explain"], results["art"]))
    return (f"| {name} ({len(x)} rows) | {attack.upper()} | {t_ours:.2f} s | {t_art:.2f} s | "
            f"{t_ours / t_art:.2f}x | {gap:.3f} | {results['explain'][0]:.3f} → {results['explain'][-1]:.3f} |")


def run(write: bool = True) -> str:
    torch.set_num_threads(2)
    lines = []
    for name in ("digits", "breast_cancer"):
        model, x, y, eps, scale, clip = _case(name)
        for attack in ("fgsm", "pgd"):
            lines.append(_measure(name, model, x, y, attack, eps, scale, clip))
            print(lines[-1], flush=True)
    text = "\n".join([
        HEADING, "",
        f"`python -m bench robustness`, {datetime.date.today()}, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, 2 threads. FGSM and PGD (L-inf, {STEPS} steps) at six epsilons, accuracy "
        "measured on the adversarial inputs; median of 3 alternating runs after a warm-up. Tables: epsilon in "
        "standard deviations per feature (ART given the matching per-feature eps and clip arrays).", "",
        "| case | attack | explain | ART | ratio | largest accuracy gap | accuracy, clean → largest eps |",
        "|---|---|---|---|---|---|---|",
        *lines,
    ])
    if write:
        write_section(HEADING, text)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench robustness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)
    run(write=not args.no_write)


if __name__ == "__main__":
    main()
