"""Overhead of ``explain.attribute`` against calling Captum directly.

For each case (a model and its inputs) and method, four calls are timed side by side in
one process, in alternating repetitions after one warm-up each:

* ``captum``: Captum called directly on all rows at once, with the options explain
  resolves for ``batch_size=rows`` (same target = predicted class, zero baselines,
  n_steps, internal_batch_size / nt_samples_batch_size, perturbations_per_eval,
  feature mask, seed), including the forward pass that picks the predicted class;
* ``explain bs=rows``: ``explain.attribute(..., batch_size=rows)``;
* ``captum /64``: Captum called on chunks of 64 rows with the options explain resolves
  for ``batch_size=64``, as a Captum user batching like explain would;
* ``explain bs=64``: ``explain.attribute`` with its default ``batch_size=64``.

The ratios are explain / captum at equal batching, plus explain's default against the
single Captum call. Results are compared (max abs difference); deterministic methods
must agree to 1e-5. Peak RSS growth per call is read from ``/proc/self/status``
(VmHWM, reset through ``/proc/self/clear_refs``) where Linux allows it.

Run: ``python -m bench attribution`` (``--help`` for options). Results go to stdout and,
unless ``--no-write``, to ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import math
import os
import platform
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

from bench._measure import Timing, peak_rss_available, proc_status, reset_peak
from bench._readme import write_section

SEED = 0
METHODS = ["saliency", "integrated_gradients", "deeplift", "smoothgrad", "feature_ablation", "kernel_shap"]
TOLERANCE = 1e-5
DEFAULT_BATCH = 64
README = Path(__file__).resolve().parent / "README.md"
HEADING = "## Attribution overhead vs Captum"


# --- cases -------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    description: str
    model: Any  # explain.Model
    x: torch.Tensor
    rows: dict[str, int] = field(default_factory=dict)  # per-method row counts; else all rows

    def n(self, method: str) -> int:
        return min(self.rows.get(method, self.x.shape[0]), self.x.shape[0])


def _tile(x: np.ndarray, n: int) -> torch.Tensor:
    reps = math.ceil(n / x.shape[0])
    return torch.from_numpy(np.ascontiguousarray(np.concatenate([x] * reps)[:n], dtype=np.float32))


def make_cases() -> list[Case]:
    import explain

    out = []
    model, data = explain.load_example("breast_cancer")
    out.append(Case("breast_cancer", "bundled MLP 30-32-16-2, held-out rows tiled",
                    model, _tile(data.x, 1000), {"kernel_shap": 64}))
    model, data = explain.load_example("digits")
    out.append(Case("digits", "bundled CNN on 1x8x8, held-out images tiled",
                    model, _tile(data.x, 1000),
                    {"feature_ablation": 500, "kernel_shap": 16}))

    torch.manual_seed(1)
    mlp = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    x = torch.randn(4096, 256, generator=torch.Generator().manual_seed(2))
    out.append(Case("mlp_large", "synthetic MLP 256-512-512-10",
                    explain.Model(mlp, task="classification", modality="tabular"), x,
                    {"integrated_gradients": 1024, "smoothgrad": 1024, "feature_ablation": 512,
                     "kernel_shap": 16}))

    torch.manual_seed(3)
    cnn = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 8 * 8, 10),
    )
    x = torch.rand(256, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    out.append(Case("cnn_64", "synthetic CNN on 3x64x64 (conv16/2, conv32/2, pool, linear)",
                    explain.Model(cnn, task="classification", modality="image", input_shape=(3, 64, 64)),
                    x, {"integrated_gradients": 128, "smoothgrad": 128, "feature_ablation": 128,
                        "kernel_shap": 8}))
    return out


# --- the two sides ------------------------------------------------------------------------
def resolve_options(method: str, case: Case, x: torch.Tensor) -> dict[str, Any]:
    """explain's default options with the data-dependent ones filled in by the same rule;
    passed explicitly to both sides so they run the very same settings."""
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
                     opts: dict[str, Any], batch: int, mask: torch.Tensor | None) -> torch.Tensor:
    """One direct Captum call, with the arguments explain's registry passes."""
    from captum.attr import DeepLift, FeatureAblation, IntegratedGradients, KernelShap, NoiseTunnel, Saliency

    zeros = 0.0  # the zero baseline, as explain passes it (and Captum's default)
    if method == "saliency":
        return Saliency(module).attribute(x, target=target, abs=opts["abs"])
    if method == "integrated_gradients":
        a, _ = IntegratedGradients(module).attribute(
            x, baselines=zeros, target=target, n_steps=opts["n_steps"], method=opts["integration"],
            internal_batch_size=batch, return_convergence_delta=True)
        return a
    if method == "deeplift":
        a, _ = DeepLift(module, multiply_by_inputs=opts["multiply_by_inputs"]).attribute(
            x, baselines=zeros, target=target, return_convergence_delta=True)
        return a
    if method == "smoothgrad":
        return NoiseTunnel(Saliency(module)).attribute(
            x, nt_type="smoothgrad", nt_samples=opts["nt_samples"], stdevs=opts["stdevs"],
            nt_samples_batch_size=batch, target=target, abs=opts["abs"])
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


def captum_runner(case: Case, method: str, x: torch.Tensor, opts: dict[str, Any], batch: int
                  ) -> Callable[[], torch.Tensor]:
    module = case.model.forward_module
    mask = image_mask(x, opts["patch"]) if opts.get("patch") else None

    def run() -> torch.Tensor:
        torch.manual_seed(SEED)  # explain seeds torch's and numpy's global generators
        np.random.seed(SEED)
        parts = []
        for start in range(0, x.shape[0], batch):
            xb = x[start : start + batch]
            with torch.no_grad():
                target = module(xb).argmax(dim=1)
            parts.append(captum_attribute(method, module, xb, target, opts, batch, mask).detach())
        return torch.cat(parts)

    return run


def explain_runner(case: Case, method: str, x: torch.Tensor, opts: dict[str, Any], batch: int
                   ) -> Callable[[], np.ndarray]:
    import explain

    def run() -> np.ndarray:
        return explain.attribute(case.model, x, method=method, batch_size=batch, seed=SEED, **opts).values

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
    """Warm up each runner once, then time them in alternating repetitions: at least
    ``reps``, more (up to ``max_reps``) while they fit in about ``target_s``."""
    out = {name: Timing() for name in runners}
    round_s = 0.0
    for name, run in runners.items():  # warm-up; its result is the one compared
        gc.collect()
        t0 = time.perf_counter()
        out[name].result = run()
        round_s += time.perf_counter() - t0
    # Objects alive now (modules, Captum's lazily imported code) stay alive: keep them out
    # of the collections below, which then cost little.
    gc.collect()
    gc.freeze()
    reps = max(reps, min(max_reps, int(target_s / max(round_s, 1e-9))))
    for _ in range(reps):
        for name, run in runners.items():  # alternating: explain, captum, explain, captum
            gc.collect()
            if memory:
                rss = proc_status("VmRSS")
                reset_peak()
            t0 = time.perf_counter()
            run()
            out[name].times.append(time.perf_counter() - t0)
            if memory:
                peak = proc_status("VmHWM")
                if rss is not None and peak is not None:
                    out[name].growth.append(max(0, peak - rss))
    return out


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


@dataclass
class Row:
    case: str
    method: str
    rows: int
    stochastic: bool
    captum: Timing
    explain: Timing
    captum64: Timing | None
    explain64: Timing | None
    diff: float
    diff64: float | None

    @property
    def ok(self) -> bool:
        if self.stochastic:
            return True
        return self.diff <= TOLERANCE and (self.diff64 is None or self.diff64 <= TOLERANCE)


def bench_one(case: Case, method: str, reps: int, max_reps: int, target_s: float, memory: bool) -> Row:
    import explain

    n = case.n(method)
    x = case.x[:n].contiguous()
    opts = resolve_options(method, case, x)
    runners: dict[str, Callable[[], Any]] = {
        "explain": explain_runner(case, method, x, opts, n),
        "captum": captum_runner(case, method, x, opts, n),
    }
    if n > DEFAULT_BATCH:
        runners["explain64"] = explain_runner(case, method, x, opts, DEFAULT_BATCH)
        runners["captum64"] = captum_runner(case, method, x, opts, DEFAULT_BATCH)
    t = measure(runners, reps, max_reps, target_s, memory)
    diff = max_diff(t["explain"].result, as_explain_values(t["captum"].result, opts, x))
    diff64 = None
    if "explain64" in t:
        diff64 = max_diff(t["explain64"].result, as_explain_values(t["captum64"].result, opts, x))
    for timing in t.values():
        timing.result = None
    stochastic = bool(explain.method_info(method)["stochastic"])
    return Row(case.name, method, n, stochastic, t["captum"], t["explain"], t.get("captum64"),
               t.get("explain64"), diff, diff64)


# --- reporting ----------------------------------------------------------------------------
def _s(t: Timing | None) -> str:
    return "=" if t is None else f"{t.median:.3f}"


def _ratio(a: Timing | None, b: Timing | None, best: bool = True) -> str:
    """Ratio of medians, and of the fastest repetitions in parentheses."""
    if a is None or b is None:
        return "="
    return f"{a.median / b.median:.2f}" + (f" ({a.best / b.best:.2f})" if best else "")


def _mem(t: Timing | None) -> str:
    return "=" if t is None else ("–" if t.mib is None else f"{t.mib:.0f}")


def table(rows: list[Row], memory: bool) -> str:
    head = ("| case | method | rows | reps | captum (s) | explain bs=rows (s) | **ratio** | captum /64 (s) "
            "| explain bs=64 (s) | **ratio /64** | bs=64 / captum | max abs diff (rows / 64) |")
    sep = "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    if memory:
        head += " peak RSS growth MiB (captum / explain / explain bs=64) |"
        sep += "---|"
    lines = [head, sep]
    for r in rows:
        diff = f"{r.diff:.1e}" + ("" if r.diff64 is None else f" / {r.diff64:.1e}")
        if r.stochastic:
            diff += " (stochastic)"
        elif not r.ok:
            diff += " **MISMATCH**"
        line = (f"| {r.case} | {r.method} | {r.rows} | {len(r.captum.times)} | {_s(r.captum)} | {_s(r.explain)} "
                f"| **{_ratio(r.explain, r.captum)}** | {_s(r.captum64)} | {_s(r.explain64)} "
                f"| **{_ratio(r.explain64, r.captum64)}** | {_ratio(r.explain64, r.captum, False)} | {diff} |")
        if memory:
            line += f" {_mem(r.captum)} / {_mem(r.explain)} / {_mem(r.explain64)} |"
        lines.append(line)
    return "\n".join(lines)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine() -> str:
    import captum

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (f"{datetime.date.today().isoformat()}; CPU {cpu}, {os.cpu_count()} cores, "
            f"torch.set_num_threads({torch.get_num_threads()}); Python {platform.python_version()}, "
            f"torch {torch.__version__}, captum {captum.__version__}, numpy {np.__version__}")


def section(rows: list[Row], cases: list[Case], reps: int, max_reps: int, memory: bool, wall: float,
            loads: str) -> str:
    described = "\n".join(f"- `{c.name}`: {c.description}; {c.x.shape[0]} rows of shape "
                          f"{tuple(c.x.shape[1:])}" + (", fewer for " + ", ".join(
                              f"{m} ({c.n(m)})" for m in sorted(c.rows)) if c.rows else "")
                          for c in cases)
    memory_note = (
        "Peak RSS growth (MiB, median): VmHWM above VmRSS at the call's start, VmHWM reset before "
        "each call. Memory the allocator kept from earlier calls is reused without being counted, "
        "so the numbers are lower bounds; compare within a row."
        if memory else "Peak RSS: not measured (/proc/self/clear_refs is not available here).")
    return f"""{HEADING}

`python -m bench attribution`, {wall / 60:.1f} min. Machine: {machine()}.
Load average {loads} (1, 5, 15 min): the machine was shared with other jobs, which makes
single numbers noisy; trust ratios that agree with the ratio of fastest repetitions.

How to read it:

- Seconds per call: median of {reps} to {max_reps} alternating repetitions (more for cheap
  calls) after one warm-up each, `time.perf_counter`.
- **ratio** = explain / Captum at the same batching, as a ratio of medians and, in
  parentheses, of the fastest repetitions. `explain bs=rows` is compared with one Captum
  call on all rows; `explain bs=64` (explain's default) with Captum called on chunks of 64
  rows (`captum /64`). *bs=64 / captum* compares explain's default with the single Captum
  call: what the default batching costs or saves. `=`: the rows fit in one batch of 64.
- Both sides run the same options: explain's defaults (n_steps 50 Gauss-Legendre;
  nt_samples 25 with stdevs 0.15 x input range; perturbations_per_eval 64; n_samples 200;
  image patches of side/8), target = predicted class, zero baselines (the scalar 0.0), seed {SEED} for torch
  and numpy, internal_batch_size / nt_samples_batch_size = the batch size, as explain
  passes them. The Captum side includes the forward pass that picks the predicted class.
- Max abs diff: explain's values against Captum's (a patch's attribution shared by its
  pixels, as explain does); deterministic methods must agree to {TOLERANCE:g}.
- {memory_note}

Cases; sizes are cut from 1,000 / 4,096 / 256 rows where listed, to keep the run near 6
minutes on 2 cores:

{described}

{table(rows, memory)}
"""


INTRO = """# Benchmarks

`bench/` holds benchmarks of explain, not tests: they measure time, memory and agreement
with reference libraries on the machine they run on, assert nothing in CI and are not
collected by pytest. Run them from the repository root with the project's environment:

    python -m bench                   # list the benchmarks
    python -m bench NAME --help       # a benchmark's options
    python -m bench attribution       # explain.attribute vs Captum called directly (~4 min, 2 cores)
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
    """cProfile explain.attribute and the direct Captum call on CASE:METHOD[:BATCH]."""
    parts = spec.split(":")
    case = next(c for c in cases if c.name == parts[0])
    method = parts[1]
    n = case.n(method)
    x = case.x[:n].contiguous()
    batch = int(parts[2]) if len(parts) > 2 else n
    opts = resolve_options(method, case, x)
    for label, run in [("explain", explain_runner(case, method, x, opts, batch)),
                       ("captum", captum_runner(case, method, x, opts, batch))]:
        run()
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        run()
        prof.disable()
        print(f"\n===== {label} {case.name}:{method} rows={n} batch={batch}: "
              f"{time.perf_counter() - t0:.3f} s (profiled) =====")
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
                        help="seconds of timed repetitions to aim for per case and method when "
                             "more than --reps fit (default 3)")
    parser.add_argument("--cases", default=None, help="comma-separated case names (default all)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    parser.add_argument("--profile", metavar="CASE:METHOD[:BATCH]",
                        help="cProfile explain and Captum on one case instead of benchmarking")
    parser.add_argument("--profile-limit", type=int, default=25)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
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
              "other processes make the timings noisy", file=sys.stderr)
    start = time.perf_counter()
    rows: list[Row] = []
    print(f"machine: {machine()}; peak RSS {'on' if memory else 'off'}", file=sys.stderr)
    for case in cases:
        for method in methods:
            t0 = time.perf_counter()
            row = bench_one(case, method, args.reps, args.max_reps, args.target, memory)
            rows.append(row)
            print(f"{case.name:14s} {method:22s} rows={row.rows:5d} captum {row.captum.median:.3f}s "
                  f"explain {row.explain.median:.3f}s ratio {row.explain.median / row.captum.median:.2f}"
                  + ("" if row.explain64 is None else
                     f" | /64 captum {row.captum64.median:.3f}s explain {row.explain64.median:.3f}s "
                     f"ratio {row.explain64.median / row.captum64.median:.2f}")
                  + f" | diff {row.diff:.1e}" + ("" if row.ok else " MISMATCH")
                  + f"  [{time.perf_counter() - t0:.0f}s]", file=sys.stderr, flush=True)
    wall = time.perf_counter() - start
    loads = f"{load_before} before, {load_average()} after"
    text = section(rows, cases, args.reps, args.max_reps, memory, wall, loads)
    print(text)
    if not args.no_write:
        write_readme(text)
        print(f"wrote {README}", file=sys.stderr)
    print(f"total {wall:.0f} s", file=sys.stderr)
    return 0 if all(r.ok for r in rows) else 1
