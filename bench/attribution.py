"""explain.attribute at its default settings against one direct Captum call.

For each case (a model and its inputs) and method, two calls are timed side by side in one
process, in alternating order (captum, explain, explain, captum, ...) after one warm-up each:

* ``captum``: Captum's own method called once on all rows, with Captum's defaults for how
  it batches (``internal_batch_size`` and ``nt_samples_batch_size`` None: every step or
  noisy copy in one pass) and the options explain resolves (same target = predicted class,
  zero baselines, n_steps, perturbations_per_eval, feature mask, seed), including the
  forward pass that picks the predicted class;
* ``explain``: ``explain.attribute(model, x, method=...)`` with no ``batch_size``: the rows
  per call come from the memory budget (explain.core.budget, ``EXPLAIN_MEMORY_BUDGET``).

Time is CPU seconds of this process (``time.process_time``, all threads), the minimum of
the repetitions (the least disturbed by other jobs on a shared machine). Goals: explain's
default at most 1.0x Captum's time on small tabular models and at most 1.1x on CNNs. The
values are compared (max abs difference; deterministic methods must agree to 1e-5). Peak
RSS growth per call is read from ``/proc/self/status`` (VmHWM, reset through
``/proc/self/clear_refs``) where Linux allows it: the ``cnn_224`` case shows explain's
peak staying near the budget where one Captum call grows with the rows.

Run: ``python -m bench attribution`` (``--help`` for options). Results go to stdout and,
unless ``--no-write``, to ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import pstats
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bench._machine import load_average, machine
from bench._measure import Timing, peak_rss_available, proc_status, reset_peak, trim
from bench._readme import write_section

SEED = 0
METHODS = ["saliency", "integrated_gradients", "deeplift", "smoothgrad", "feature_ablation", "kernel_shap"]
TOLERANCE = 1e-5
GOALS = {"tabular": 1.0, "cnn": 1.1}  # explain default / one Captum call, CPU time
README = Path(__file__).resolve().parent / "README.md"
HEADING = "## Attribution overhead vs Captum"


# --- cases -------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    description: str
    kind: str  # "tabular" or "cnn": which goal applies
    model: Any  # explain.Model
    x: torch.Tensor
    rows: dict[str, int] = field(default_factory=dict)  # per-method row counts; else all rows
    methods: tuple[str, ...] | None = None  # None: every method asked for

    def n(self, method: str) -> int:
        return min(self.rows.get(method, self.x.shape[0]), self.x.shape[0])


def _tile(x: np.ndarray, n: int) -> torch.Tensor:
    reps = math.ceil(n / x.shape[0])
    return torch.from_numpy(np.ascontiguousarray(np.concatenate([x] * reps)[:n], dtype=np.float32))


def make_cases() -> list[Case]:
    from sklearn.datasets import load_wine

    import explain

    out = []
    model, data = explain.load_example("breast_cancer")
    out.append(Case("breast_cancer", "bundled MLP 30-32-16-2, held-out rows tiled", "tabular",
                    model, _tile(data.x, 1000), {"kernel_shap": 64}))

    wine = load_wine().data.astype(np.float32)
    wine = (wine - wine.mean(0)) / wine.std(0)
    torch.manual_seed(5)
    mlp = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 3))
    out.append(Case("wine", "MLP 13-64-32-3 on scikit-learn's wine (178 rows, standardised) tiled 20 times",
                    "tabular", explain.Model(mlp, task="classification", modality="tabular"),
                    _tile(wine, 3560), {"kernel_shap": 64}))

    torch.manual_seed(1)
    mlp = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    x = torch.randn(4096, 256, generator=torch.Generator().manual_seed(2))
    out.append(Case("mlp_large", "synthetic MLP 256-512-512-10", "tabular",
                    explain.Model(mlp, task="classification", modality="tabular"), x,
                    {"integrated_gradients": 1024, "smoothgrad": 1024, "feature_ablation": 512,
                     "kernel_shap": 16}))

    model, data = explain.load_example("digits")
    out.append(Case("digits", "bundled CNN on 1x8x8, held-out images tiled", "cnn",
                    model, _tile(data.x, 1000), {"feature_ablation": 500, "kernel_shap": 16}))

    torch.manual_seed(3)
    cnn = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 8 * 8, 10),
    )
    x = torch.rand(256, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    out.append(Case("cnn_64", "synthetic CNN on 3x64x64 (conv16/2, conv32/2, pool, linear)", "cnn",
                    explain.Model(cnn, task="classification", modality="image", input_shape=(3, 64, 64)),
                    x, {"integrated_gradients": 128, "smoothgrad": 128, "feature_ablation": 128,
                        "kernel_shap": 8}))

    torch.manual_seed(6)
    big = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(64, 10),
    )
    x = torch.rand(16, 3, 224, 224, generator=torch.Generator().manual_seed(7))
    out.append(Case("cnn_224", "synthetic CNN on 3x224x224 (conv32, conv32/2, conv64/2, average pool, "
                    "linear): large images, where one Captum call holds every step at once", "cnn",
                    explain.Model(big, task="classification", modality="image", input_shape=(3, 224, 224)),
                    x, {"integrated_gradients": 2, "smoothgrad": 2},
                    methods=("saliency", "integrated_gradients", "smoothgrad")))
    return out


# --- the two sides ------------------------------------------------------------------------
def resolve_options(method: str, case: Case, x: torch.Tensor) -> dict[str, Any]:
    """explain's default options with the data-dependent ones filled in by the same rule;
    given to Captum explicitly (explain fills in the same values itself)."""
    import explain

    opts = dict(explain.method_info(method)["defaults"])
    if method == "smoothgrad":
        opts["stdevs"] = float(0.15 * (x.max() - x.min()).item()) or 0.15
    if "patch" in opts and case.model.modality == "image":
        opts["patch"] = max(1, math.ceil(min(x.shape[2:]) / 8))
    return opts


def image_mask(x: torch.Tensor, side: int) -> torch.Tensor:
    """explain's patch grid, shared by the channels, as a (1, C, H, W) Captum feature mask."""
    h, w = x.shape[2:]
    rows = torch.arange(h) // side
    cols = torch.arange(w) // side
    grid = rows[:, None] * math.ceil(w / side) + cols[None, :]
    return grid[None, None].expand(1, *x.shape[1:]).clone()


def captum_attribute(method: str, module: nn.Module, x: torch.Tensor, target: torch.Tensor,
                     opts: dict[str, Any], mask: torch.Tensor | None) -> torch.Tensor:
    """One direct Captum call, batching as Captum does by default."""
    from captum.attr import DeepLift, FeatureAblation, IntegratedGradients, KernelShap, NoiseTunnel, Saliency

    zeros = 0.0  # the zero baseline, as explain passes it (and Captum's default)
    if method == "saliency":
        return Saliency(module).attribute(x, target=target, abs=opts["abs"])
    if method == "integrated_gradients":
        a, _ = IntegratedGradients(module).attribute(
            x, baselines=zeros, target=target, n_steps=opts["n_steps"], method=opts["integration"],
            return_convergence_delta=True)
        return a
    if method == "deeplift":
        a, _ = DeepLift(module, multiply_by_inputs=opts["multiply_by_inputs"]).attribute(
            x, baselines=zeros, target=target, return_convergence_delta=True)
        return a
    if method == "smoothgrad":
        return NoiseTunnel(Saliency(module)).attribute(
            x, nt_type="smoothgrad", nt_samples=opts["nt_samples"], stdevs=opts["stdevs"],
            target=target, abs=opts["abs"])
    with torch.no_grad():
        if method == "feature_ablation":
            return FeatureAblation(module).attribute(
                x, baselines=zeros, target=target, feature_mask=mask,
                perturbations_per_eval=opts["perturbations_per_eval"])
        if method == "kernel_shap":
            return KernelShap(module).attribute(
                x, baselines=zeros, target=target, feature_mask=mask, n_samples=opts["n_samples"],
                perturbations_per_eval=opts["perturbations_per_eval"])
    raise ValueError(method)


def captum_runner(case: Case, method: str, x: torch.Tensor, opts: dict[str, Any]) -> Callable[[], torch.Tensor]:
    module = case.model.forward_module
    mask = image_mask(x, opts["patch"]) if opts.get("patch") else None

    def run() -> torch.Tensor:
        torch.manual_seed(SEED)  # explain seeds torch's and numpy's global generators
        np.random.seed(SEED)
        with torch.no_grad():
            target = module(x).argmax(dim=1)
        if method == "kernel_shap":  # Captum's KernelShap takes one example per call
            return torch.cat([captum_attribute(method, module, x[i:i + 1], target[i:i + 1], opts, mask).detach()
                              for i in range(x.shape[0])])
        return captum_attribute(method, module, x, target, opts, mask).detach()

    return run


def explain_runner(case: Case, method: str, x: torch.Tensor) -> Callable[[], Any]:
    """explain.attribute at its defaults: only the method and the seed are given."""
    import explain

    def run() -> Any:
        return explain.attribute(case.model, x, method=method, seed=SEED)

    return run


def as_explain_values(values: torch.Tensor, opts: dict[str, Any], x: torch.Tensor) -> np.ndarray:
    """Captum's output in explain's convention: a patch's attribution shared by its pixels."""
    if opts.get("patch"):
        mask = image_mask(x, opts["patch"])[0]
        sizes = torch.bincount(mask.flatten())[mask].to(values.dtype)
        values = values / sizes.unsqueeze(0)
    return values.float().numpy()


# --- measuring ----------------------------------------------------------------------------
def measure(runners: dict[str, Callable[[], Any]], reps: int, max_reps: int, target_s: float,
            memory: bool) -> dict[str, Timing]:
    """Warm up each runner once, then time them in alternating order (ABBA...): at least
    ``reps`` repetitions, more (up to ``max_reps``) while they fit in about ``target_s``
    CPU seconds. Times are CPU seconds of this process (``time.process_time``)."""
    out = {name: Timing() for name in runners}
    round_s = 0.0
    for name, run in runners.items():  # warm-up; its result is the one compared
        gc.collect()
        t0 = time.process_time()
        out[name].result = run()
        round_s += time.process_time() - t0
    # Objects alive now (modules, Captum's lazily imported code) stay alive: keep them out
    # of the collections below, which then cost little.
    gc.collect()
    gc.freeze()
    reps = max(reps, min(max_reps, int(target_s / max(round_s, 1e-9))))
    names = list(runners)
    for k in range(reps):
        for name in names if k % 2 == 0 else names[::-1]:
            gc.collect()
            if memory:
                trim()
                rss = proc_status("VmRSS")
                reset_peak()
            t0 = time.process_time()
            runners[name]()
            out[name].times.append(time.process_time() - t0)
            if memory:
                peak = proc_status("VmHWM")
                if rss is not None and peak is not None:
                    out[name].growth.append(max(0, peak - rss))
    gc.unfreeze()
    return out


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


@dataclass
class Row:
    case: str
    kind: str
    method: str
    rows: int
    stochastic: bool
    captum: Timing
    explain: Timing
    batch: int  # explain's rows per Captum call, from the budget
    pass_rows: int  # explain's model rows per forward pass, from the budget
    diff: float

    @property
    def ratio(self) -> float:
        return self.explain.best / self.captum.best

    @property
    def ok(self) -> bool:
        return self.stochastic or self.diff <= TOLERANCE

    @property
    def meets_goal(self) -> bool:
        return self.ratio <= GOALS[self.kind]


def bench_one(case: Case, method: str, reps: int, max_reps: int, target_s: float, memory: bool) -> Row:
    import explain

    n = case.n(method)
    x = case.x[:n].contiguous()
    opts = resolve_options(method, case, x)
    runners: dict[str, Callable[[], Any]] = {
        "captum": captum_runner(case, method, x, opts),
        "explain": explain_runner(case, method, x),
    }
    t = measure(runners, reps, max_reps, target_s, memory)
    ours = t["explain"].result
    diff = max_diff(ours.values, as_explain_values(t["captum"].result, opts, x))
    for timing in t.values():
        timing.result = None
    stochastic = bool(explain.method_info(method)["stochastic"])
    return Row(case.name, case.kind, method, n, stochastic, t["captum"], t["explain"],
               int(ours.params["batch_size"]), int(ours.params["pass_rows"]), diff)


# --- reporting ----------------------------------------------------------------------------
def _mem(t: Timing) -> str:
    return "–" if t.peak_mib is None else f"{t.peak_mib:.0f}"


def table(rows: list[Row], memory: bool) -> str:
    head = ("| case | method | rows | reps | captum CPU s | explain CPU s | **explain / captum** | goal "
            "| explain rows per call / per pass | max abs diff |")
    sep = "|---|---|---:|---:|---:|---:|---:|---|---:|---|"
    if memory:
        head += " peak RSS growth MiB (captum / explain) |"
        sep += "---:|"
    lines = [head, sep]
    for r in rows:
        diff = f"{r.diff:.1e}" + (" (stochastic)" if r.stochastic else "" if r.ok else " **MISMATCH**")
        goal = f"{'≤' if r.meets_goal else '**>**'} {GOALS[r.kind]:.1f}"
        line = (f"| {r.case} | {r.method} | {r.rows} | {len(r.captum.times)} | {r.captum.best:.3f} "
                f"| {r.explain.best:.3f} | **{r.ratio:.2f}** ({r.explain.median / r.captum.median:.2f}) | {goal} "
                f"| {r.batch} / {r.pass_rows} | {diff} |")
        if memory:
            line += f" {_mem(r.captum)} / {_mem(r.explain)} |"
        lines.append(line)
    return "\n".join(lines)




def section(rows: list[Row], cases: list[Case], reps: int, max_reps: int, memory: bool, wall: float,
            loads: str) -> str:
    from explain.core.budget import ENV_VAR, memory_budget

    described = "\n".join(f"- `{c.name}` ({c.kind}): {c.description}; {c.x.shape[0]} rows of shape "
                          f"{tuple(c.x.shape[1:])}" + (", fewer for " + ", ".join(
                              f"{m} ({c.n(m)})" for m in sorted(c.rows)) if c.rows else "")
                          + (f"; methods {', '.join(c.methods)}" if c.methods else "")
                          for c in cases)
    memory_note = (
        "Peak RSS growth (MiB, largest of the repetitions): VmHWM above VmRSS at the call's "
        "start, after `malloc_trim(0)` gave freed memory back and VmHWM was reset. Memory the "
        "allocator still kept is reused without being counted, so these are lower bounds."
        if memory else "Peak RSS: not measured (/proc/self/clear_refs is not available here).")
    met = sum(r.meets_goal for r in rows)
    budget = os.environ.get(ENV_VAR) or f"{memory_budget() // 2**20} MiB (the default)"
    return f"""{HEADING}

`python -m bench attribution`, {wall / 60:.1f} min. Machine: {machine('captum')}.
Load average {loads} (1, 5, 15 min). Memory budget {budget}.

How to read it:

- `captum`: Captum's method called once on all rows, batching as Captum does by default
  (every integration step or noisy copy in one pass); `explain`: `explain.attribute(model, x,
  method=...)` at its defaults, rows per call from the memory budget (shown: rows per Captum
  call / model rows per forward pass).
- CPU seconds of this process (`time.process_time`; torch and BLAS held to
  {torch.get_num_threads()} thread(s), whose spinning would otherwise count), the **minimum** of
  {reps} to {max_reps} repetitions in alternating order after one warm-up each; the ratio of
  minima, and in parentheses of medians. Goal: at most {GOALS["tabular"]:.1f} on tabular models, at most
  {GOALS["cnn"]:.1f} on CNNs; {met} of {len(rows)} rows meet it. Feature ablation and KernelShap run
  Captum's own code on both sides, and explain adds about a millisecond a call (the inputs
  check, measuring a row, which is also the hook methods' probe, the baseline's output).
  Feature ablation asks Captum for no more perturbations per pass than there are features
  (Captum copies the inputs perturbations_per_eval times, used or not: 64 copies for 30
  features), the same passes with fewer copies. KernelShap does the same Captum work on
  both sides (the same function calls), so its ratio is 1.0 give or take the noise of a
  few repetitions of a second or two on a shared machine.
- Both sides run the same options: explain's defaults (n_steps 50 Gauss-Legendre;
  nt_samples 25 with stdevs 0.15 x input range; perturbations_per_eval 64; n_samples 200;
  image patches of side/8), target = predicted class, zero baselines (the scalar 0.0), seed
  {SEED} for torch and numpy. The Captum side includes the forward pass that picks the
  predicted class; Captum's KernelShap is called once per example (it takes one).
- Max abs diff: explain's values against Captum's (a patch's attribution shared by its
  pixels, as explain does); deterministic methods must agree to {TOLERANCE:g}. Stochastic
  methods draw other noise when the rows are split into several calls.
- {memory_note}

Cases; sizes are cut where listed to keep the run near 10 minutes on 2 cores:

{described}

{table(rows, memory)}
"""


INTRO = """# Benchmarks

`bench/` holds benchmarks of explain, not tests: they measure time, memory and agreement
with reference libraries on the machine they run on, assert nothing in CI and are not
collected by pytest. Run them from the repository root with the project's environment:

    python -m bench                   # list the benchmarks
    python -m bench NAME --help       # a benchmark's options
    python -m bench attribution       # explain.attribute's defaults vs one Captum call (~10 min, 2 cores)
    python -m bench shap_values       # explain.shap_values vs shap's explainers
    python -m bench global_importance # streaming global importance vs a plain torch loop (~2 min)
    python -m bench robustness        # explain.robustness vs ART (~15 s)
    python -m bench report            # audit reports of the bundled examples, opened in Chromium
    python -m bench app               # streamlit cold start, first chart, page revisit (~1 min)

Each run prints a markdown table and rewrites its own section below (`--no-write` to
only print). Numbers depend on the machine and on whatever else runs on it.
"""


def write_readme(text: str) -> None:
    write_section(HEADING, text, INTRO)


# --- profiling ----------------------------------------------------------------------------
def profile(cases: list[Case], spec: str, limit: int) -> None:
    """cProfile explain.attribute (defaults) and the direct Captum call on CASE:METHOD."""
    case_name, method = spec.split(":")[:2]
    case = next(c for c in cases if c.name == case_name)
    n = case.n(method)
    x = case.x[:n].contiguous()
    opts = resolve_options(method, case, x)
    for label, run in [("explain", explain_runner(case, method, x)),
                       ("captum", captum_runner(case, method, x, opts))]:
        run()
        prof = cProfile.Profile()
        t0 = time.process_time()
        prof.enable()
        run()
        prof.disable()
        print(f"\n===== {label} {case.name}:{method} rows={n}: "
              f"{time.process_time() - t0:.3f} CPU s (profiled) =====")
        stats = pstats.Stats(prof).strip_dirs()
        stats.sort_stats("cumulative").print_stats(limit)
        stats.sort_stats("tottime").print_stats(limit)


# --- entry point --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench attribution", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="least timed repetitions per call (default 5)")
    parser.add_argument("--max-reps", type=int, default=15,
                        help="most repetitions, used for cheap calls (default 15)")
    parser.add_argument("--target", type=float, default=3.0,
                        help="CPU seconds of timed repetitions to aim for per case and method when "
                             "more than --reps fit (default 3)")
    parser.add_argument("--cases", default=None, help="comma-separated case names (default all)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads and BLAS threads (default 1: CPU time of one thread is "
                             "not inflated by threads spinning while other jobs hold the cores)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    parser.add_argument("--profile", metavar="CASE:METHOD",
                        help="cProfile explain (defaults) and Captum on one case instead of benchmarking")
    parser.add_argument("--profile-limit", type=int, default=25)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    try:  # numpy's and scipy's BLAS too (KernelShap's regression): spinning threads count as CPU time
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass
    warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\.")
    cases = make_cases()
    if args.cases:
        wanted = args.cases.split(",")
        cases = [c for c in cases if c.name in wanted]
    if args.profile:
        profile(cases, args.profile, args.profile_limit)
        return 0
    methods = args.methods.split(",")
    memory = peak_rss_available()
    import explain

    for case in cases[:1]:  # import Captum's classes before anything is timed
        for method in methods:
            explain.attribute(case.model, case.x[:2], method=method, batch_size=2)
    load_before = load_average()
    busy = float(load_before.split()[0]) if load_before != "unknown" else 0.0
    if busy > 0.5:
        print(f"warning: the machine is busy (load average {load_before} on {os.cpu_count()} cores); "
              "CPU times are less disturbed than wall times, but not immune", file=sys.stderr)
    start = time.perf_counter()
    rows: list[Row] = []
    print(f"machine: {machine('captum')}; peak RSS {'on' if memory else 'off'}", file=sys.stderr)
    for case in cases:
        for method in methods:
            if case.methods is not None and method not in case.methods:
                continue
            t0 = time.perf_counter()
            row = bench_one(case, method, args.reps, args.max_reps, args.target, memory)
            rows.append(row)
            print(f"{case.name:14s} {method:22s} rows={row.rows:5d} captum {row.captum.best:.3f}s "
                  f"explain {row.explain.best:.3f}s ratio {row.ratio:.2f} (goal {GOALS[row.kind]:.1f}"
                  f"{'' if row.meets_goal else ' MISSED'}) batch {row.batch}/{row.pass_rows} "
                  f"peak MiB {_mem(row.captum)}/{_mem(row.explain)} | diff {row.diff:.1e}"
                  + ("" if row.ok else " MISMATCH") + f"  [{time.perf_counter() - t0:.0f}s]",
                  file=sys.stderr, flush=True)
    wall = time.perf_counter() - start
    loads = f"{load_before} before, {load_average()} after"
    text = section(rows, cases, args.reps, args.max_reps, memory, wall, loads)
    print(text)
    if not args.no_write:
        write_readme(text)
        print(f"wrote {README}", file=sys.stderr)
    print(f"total {wall:.0f} s", file=sys.stderr)
    return 0 if all(r.ok for r in rows) else 1
