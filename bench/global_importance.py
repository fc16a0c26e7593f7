"""Throughput and peak memory of ``explain.global_importance`` against a plain torch loop.

For each case (a model and N rows) and method, two calls are timed side by side in one
process, in alternating repetitions after one warm-up each:

* ``explain``: ``explain.global_importance(model, x, method=..., batch_size=256)``, which
  streams the rows in chunks of 256 through explain.attribute's internals and keeps only
  running moments;
* ``floor``: the least work the method needs, written as a plain torch loop over the same
  chunks of 256 rows and keeping only a running sum: saliency = one forward + backward
  per chunk (the target is the argmax of that same forward); integrated gradients = one
  forward for the target, then one forward + backward per Gauss-Legendre step of 256
  rows (n_steps = 50, zero baseline), which is how Captum batches it with
  ``internal_batch_size=256``.

The ratio explain / floor is what explain's machinery costs on top of the model (goal:
1.2 or less). Both give the same mean |attribution| (checked). Peak RSS growth per call
is VmHWM above VmRSS at the call's start, VmHWM reset through /proc/self/clear_refs
(goal: flat as rows grow). Inputs are made before timing and not counted.

Run: ``python -m bench global_importance`` (``--quick`` for a short check; ``--help``).
Results go to stdout and, unless ``--no-write``, to bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from bench._machine import load_average, machine
from bench._measure import Timing, measure, peak_rss_available
from bench._readme import publish

HEADING = "## Dataset-wide global importance"
BATCH = 256
N_STEPS = 50
METHODS = ["saliency", "integrated_gradients"]
TOLERANCE = 1e-4  # relative, on mean |attribution|: float32 sums in a different order


# --- cases -------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    description: str
    model: Any  # explain.Model
    make: Callable[[int], torch.Tensor]  # rows -> inputs
    sizes: list[int]


def _resample(x: np.ndarray, n: int, noise: float, seed: int) -> torch.Tensor:
    """``n`` rows drawn with replacement from ``x``, plus Gaussian noise of ``noise`` x each
    feature's spread, so that no two rows are the same."""
    rng = np.random.default_rng(seed)
    rows = x[rng.integers(0, x.shape[0], size=n)]
    spread = x.std(axis=0, keepdims=True) + 1e-12
    out = rows + noise * spread * rng.standard_normal(rows.shape)
    return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))


def make_cases(quick: bool) -> list[Case]:
    import explain

    cases = []
    model, data = explain.load_example("breast_cancer")
    cases.append(Case("breast_cancer", "bundled MLP 30-32-16-2; held-out rows resampled with 5% noise",
                      model, lambda n, x=data.x: _resample(x, n, 0.05, 0),
                      [1_000, 10_000] if quick else [1_000, 10_000, 100_000]))
    model, data = explain.load_example("digits")
    cases.append(Case("digits", "bundled CNN on 1x8x8 (conv16, conv32, pool, 512-64-10); held-out "
                      "images resampled with 5% noise, clipped to 0..1",
                      model, lambda n, x=data.x: _resample(x, n, 0.05, 1).clamp_(0, 1),
                      [1_000] if quick else [1_000, 10_000]))
    torch.manual_seed(3)
    cnn = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 10),
    )
    cases.append(Case("cnn_32", "synthetic CNN on 3x32x32 (conv16, pool, conv32, pool, linear); uniform noise",
                      explain.Model(cnn, task="classification", modality="image", input_shape=(3, 32, 32)),
                      lambda n: torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(4)),
                      [] if quick else [1_000]))
    return [c for c in cases if c.sizes]


# --- the two sides ------------------------------------------------------------------------
def explain_runner(model: Any, x: torch.Tensor, method: str) -> Callable[[], np.ndarray]:
    import explain

    def run() -> np.ndarray:
        return explain.global_importance(model, x, method=method, batch_size=BATCH).mean_abs

    return run


def floor_runner(model: Any, x: torch.Tensor, method: str) -> Callable[[], np.ndarray]:
    module = model.forward_module
    alphas, weights = np.polynomial.legendre.leggauss(N_STEPS)
    alphas, weights = 0.5 * (1 + alphas), 0.5 * weights  # Captum's Gauss-Legendre on [0, 1]

    def saliency(xb: torch.Tensor) -> torch.Tensor:
        xb = xb.detach().requires_grad_(True)
        out = module(xb)
        target = out.argmax(dim=1, keepdim=True)
        (grad,) = torch.autograd.grad(out.gather(1, target).sum(), xb)
        return grad.abs()

    def integrated_gradients(xb: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = module(xb).argmax(dim=1, keepdim=True)
        total = torch.zeros_like(xb)
        for alpha, weight in zip(alphas, weights):
            step = (float(alpha) * xb).requires_grad_(True)  # zero baseline
            (grad,) = torch.autograd.grad(module(step).gather(1, target).sum(), step)
            total += float(weight) * grad
        return (xb * total).abs()

    one = {"saliency": saliency, "integrated_gradients": integrated_gradients}[method]

    def run() -> np.ndarray:
        total = torch.zeros(x.shape[1:], dtype=torch.float64)
        for start in range(0, x.shape[0], BATCH):
            total += one(x[start : start + BATCH]).sum(dim=0, dtype=torch.float64)
        return (total / x.shape[0]).numpy()

    return run


# --- measuring ----------------------------------------------------------------------------
@dataclass
class Row:
    case: str
    method: str
    rows: int
    full_mib: float  # what the attribution array of all rows would take (float32)
    explain: Timing
    floor: Timing
    diff: float

    @property
    def ratio(self) -> float:
        return self.explain.median / self.floor.median

    @property
    def ok(self) -> bool:
        return self.diff <= TOLERANCE


def bench_one(case: Case, n: int, method: str, reps: int, memory: bool) -> Row:
    x = case.make(n)
    x_mib = x.numel() * 4 / 2**20
    t = measure({"explain": explain_runner(case.model, x, method),
                 "floor": floor_runner(case.model, x, method)}, reps, memory)
    a, b = t["explain"].result, t["floor"].result
    diff = float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))
    for timing in t.values():
        timing.result = None
    del x
    gc.collect()
    return Row(case.name, method, n, x_mib, t["explain"], t["floor"], diff)


# --- reporting ----------------------------------------------------------------------------
def _mem(t: Timing) -> str:
    return "–" if t.peak_mib is None else f"{t.peak_mib:.0f}"


def table(rows: list[Row], memory: bool) -> str:
    head = ("| case | method | rows | reps | floor (s) | explain (s) | explain rows/s | **ratio** (best) "
            "| rel. diff |")
    sep = "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    if memory:
        head += " peak RSS growth MiB (floor / explain) | all attributions would take (MiB) |"
        sep += "---:|---:|"
    lines = [head, sep]
    for r in rows:
        line = (f"| {r.case} | {r.method} | {r.rows:,} | {len(r.explain.times)} | {r.floor.median:.3f} "
                f"| {r.explain.median:.3f} | {r.rows / r.explain.median:,.0f} | **{r.ratio:.2f}** "
                f"({r.explain.best / r.floor.best:.2f}) | {r.diff:.1e}{'' if r.ok else ' **MISMATCH**'} |")
        if memory:
            line += f" {_mem(r.floor)} / {_mem(r.explain)} | {r.full_mib:.1f} |"
        lines.append(line)
    return "\n".join(lines)


def section(rows: list[Row], cases: list[Case], command: str, memory: bool, wall: float, loads: str,
            quick: bool, busy: bool) -> str:
    described = "\n".join(f"- `{c.name}`: {c.description}; rows {', '.join(f'{n:,}' for n in c.sizes)}"
                          for c in cases)
    noisy = ""
    if quick or busy:
        noisy = ("\n**Noisy figures**: " + ("a `--quick` run (fewer rows, one repetition) " if quick else "a run ")
                 + "on a machine shared with other jobs. Rerun `python -m bench global_importance` on a quiet "
                 "machine for figures to quote.\n")
    memory_note = (
        "Peak RSS growth (MiB, largest over the calls, warm-up included): VmHWM above VmRSS at the call's "
        "start, VmHWM reset before each call; memory the allocator kept from earlier calls is reused without "
        "being counted, so these are lower bounds. Flat means: it does not grow with the rows. The last column "
        "is the float32 array of every row's attributions, which `explain.attribute` would return and "
        "`global_importance` never holds."
        if memory else "Peak RSS: not measured (/proc/self/clear_refs is not available here).")
    return f"""{HEADING}

`{command}`, {wall / 60:.1f} min. Machine: {machine('captum')}.
Load average {loads} (1, 5, 15 min).
{noisy}
What is compared, on the same rows in chunks of {BATCH}:

- **explain**: `explain.global_importance(model, x, method=..., batch_size={BATCH})` (streamed:
  only running sums are kept).
- **floor**: a plain torch loop doing the passes the method needs and nothing else: saliency
  one forward + backward per chunk (target = argmax of that forward); integrated gradients
  one forward for the target plus {N_STEPS} forward + backward passes of {BATCH} rows
  (Gauss-Legendre steps, zero baseline), as Captum batches them.
- **ratio** = explain / floor, of medians (of the fastest repetitions in parentheses);
  the goal is 1.2 or less. Saliency carries one forward more than its floor (explain.attribute
  picks the targets in a forward of its own before Captum's forward + backward).
- rel. diff: max |explain - floor| / max |floor| of the mean |attribution|.
- {memory_note}

Where explain's extra time goes on the small MLP (cProfile of integrated gradients on 2,000
rows): about 90 % is in Captum's `compute_gradients`, which calls `torch.autograd.grad` on
`torch.unbind(outputs)`, one scalar root per row, so autograd builds a `ones_like` gradient per
row and step in Python; on a model this small that costs more than the model itself. Giving
Captum a gradient function that backpropagates `outputs.sum()` instead gives bit-identical
attributions (autograd sums the roots' gradients either way) and was 5x faster there.

Cases:

{described}

{table(rows, memory)}
"""


# --- entry point --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench global_importance",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer rows (tabular up to 10k, digits 1k, no cnn_32) and one repetition")
    parser.add_argument("--reps", type=int, default=None, help="timed repetitions (default 3; 1 with --quick)")
    parser.add_argument("--cases", default=None, help="comma-separated case names (default all)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)
    reps = args.reps if args.reps is not None else (1 if args.quick else 3)

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\.")
    cases = make_cases(args.quick)
    if args.cases:
        wanted = args.cases.split(",")
        cases = [c for c in cases if c.name in wanted]
    methods = args.methods.split(",")
    memory = peak_rss_available()
    import explain

    explain.global_importance(cases[0].model, cases[0].make(4), method=methods[0])  # import Captum first
    load_before = load_average()
    busy = load_before != "unknown" and float(load_before.split()[0]) > 0.5
    if busy:
        print(f"warning: the machine is busy (load average {load_before} on {os.cpu_count()} cores); "
              "the timings are noisy", file=sys.stderr)
    print(f"machine: {machine('captum')}; peak RSS {'on' if memory else 'off'}", file=sys.stderr)
    start = time.perf_counter()
    rows: list[Row] = []
    for case in cases:
        for method in methods:
            for n in case.sizes:
                t0 = time.perf_counter()
                row = bench_one(case, n, method, reps, memory)
                rows.append(row)
                print(f"{case.name:14s} {method:22s} rows={n:7d} floor {row.floor.median:.3f}s "
                      f"explain {row.explain.median:.3f}s ratio {row.ratio:.2f} "
                      f"RSS +{_mem(row.floor)}/+{_mem(row.explain)} MiB diff {row.diff:.1e}"
                      + ("" if row.ok else " MISMATCH") + f"  [{time.perf_counter() - t0:.0f}s]",
                      file=sys.stderr, flush=True)
    wall = time.perf_counter() - start
    loads = f"{load_before} before, {load_average()} after"
    command = " ".join(["python -m bench global_importance", *(sys.argv[1:] if argv is None else argv)])
    text = section(rows, cases, command.replace(" --no-write", ""), memory, wall, loads, args.quick, busy)
    publish(HEADING, text, write=not args.no_write)
    print(f"total {wall:.0f} s", file=sys.stderr)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
