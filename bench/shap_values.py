"""SHAP values: ``explain.shap_values`` against shap's KernelExplainer, PermutationExplainer
and ExactExplainer on the same torch model and background, side by side in one process.

Error is the mean absolute difference from exact interventional Shapley values (our
exact enumeration, itself checked against shap's ExactExplainer here and against a
brute-force formula in the tests), relative to the mean |exact value|.

Run: ``python -m bench shap_values [--rows 20] [--no-write]``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bench._readme import write_section

HEADING = "## SHAP values vs shap"


def _model(features: int) -> nn.Module:
    torch.manual_seed(features)
    return nn.Sequential(nn.Linear(features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)).eval()


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run_case(features: int, rows: int, background_rows: int) -> list[dict[str, Any]]:
    import shap

    import explain

    net = _model(features)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(rows, features, generator=gen)
    bg = torch.randn(background_rows, features, generator=gen)
    model = explain.Model(net, task="regression")

    def f(a: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.as_tensor(a, dtype=torch.float32))[:, 0].double().numpy()

    exact, t_exact = _timed(lambda: explain.shap_values(model, x, background=bg, algorithm="exact"))
    scale = float(np.abs(exact.values).mean())
    budget = 2 * features + 2048  # KernelExplainer's default number of samples
    out: list[dict[str, Any]] = []

    def record(name: str, values: np.ndarray, seconds: float, calls: str) -> None:
        out.append({"features": features, "rows": rows, "tool": name, "seconds": seconds,
                    "error": float(np.abs(values - exact.values).mean()) / scale, "evaluations": calls})

    record("explain exact", exact.values, t_exact, f"2^{features} coalitions")
    masker = shap.maskers.Independent(bg.numpy(), max_samples=background_rows)
    theirs, t = _timed(lambda: shap.explainers.Exact(f, masker)(x.numpy()).values)
    record("shap ExactExplainer", theirs, t, f"2^{features} coalitions")
    kern, t = _timed(lambda: explain.shap_values(model, x, background=bg, algorithm="kernel", n_samples=budget))
    record("explain kernel", kern.values, t, f"{budget} coalitions")
    small = budget // 8  # error shrinks as 1/sqrt(samples): 1/8 of the budget to match shap's error
    kern_small, t = _timed(lambda: explain.shap_values(model, x, background=bg, algorithm="kernel", n_samples=small))
    record("explain kernel, 1/8 budget", kern_small.values, t, f"{small} coalitions")
    np.random.seed(0)
    theirs, t = _timed(lambda: shap.KernelExplainer(f, bg.numpy()).shap_values(x.numpy(), nsamples=budget, silent=True))
    record("shap KernelExplainer", theirs, t, f"{budget} coalitions")
    perms = max(2, budget // (features + 1))
    perm, t = _timed(lambda: explain.shap_values(model, x, background=bg, algorithm="permutation", n_samples=perms))
    record("explain permutation", perm.values, t, f"{perms} permutations")
    theirs, t = _timed(lambda: shap.explainers.Permutation(f, masker)(x.numpy(), max_evals=perms * (features + 1)).values)
    record("shap PermutationExplainer", theirs, t, f"max_evals {perms * (features + 1)}")
    return out


def _table(results: list[dict[str, Any]]) -> str:
    lines = ["| features | rows | tool | seconds | rows/s | rel. error vs exact | budget | time vs shap peer |",
             "|---|---|---|---|---|---|---|---|"]
    peers = {"explain exact": "shap ExactExplainer", "explain kernel": "shap KernelExplainer",
             "explain kernel, 1/8 budget": "shap KernelExplainer",
             "explain permutation": "shap PermutationExplainer"}
    by_key = {(r["features"], r["tool"]): r for r in results}
    for r in results:
        peer = by_key.get((r["features"], peers.get(r["tool"], "")))
        ratio = f"{peer['seconds'] / r['seconds']:.1f}x faster" if peer else ""
        lines.append(f"| {r['features']} | {r['rows']} | {r['tool']} | {r['seconds']:.2f} | "
                     f"{r['rows'] / r['seconds']:.1f} | {r['error']:.2e} | {r['evaluations']} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench shap_values", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--background", type=int, default=10)
    parser.add_argument("--features", type=int, nargs="+", default=[13, 16])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    warnings.filterwarnings("ignore")
    results = []
    for features in args.features:
        results += run_case(features, args.rows, args.background)
    table = _table(results)
    print(table)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import shap

    section = (f"{HEADING}\n\nRun {datetime.date.today()} on {cpu}, {torch.get_num_threads()} threads, torch "
               f"{torch.__version__}, shap {shap.__version__}: `python -m bench shap_values`. An MLP "
               f"(features -> 64 -> 64 -> 1) on {args.rows} rows with {args.background} background rows; every "
               "tool gets the same model, background and budget (KernelExplainer's default of 2M + 2048 "
               "coalitions; permutations sized to the same number of model rows). Error: mean |value - "
               "exact| / mean |exact|.\n\n" + table + "\n")
    if not args.no_write:
        write_section(HEADING, section)
    return 0
