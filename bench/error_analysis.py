"""Error analysis at scale: ``explain.error_analysis`` against scikit-learn's decision tree on the error indicator.

A synthetic table of 10 uniform features and a seeded MLP (10-64-64-2); the labels make the
model wrong on 80% of the rows where ``x0 > 0.7 and x1 < 0.3`` (9% of the rows) and on 5%
elsewhere (case ``planted``), or on 10% of the rows at random (case ``null``: there is no
cohort to find). Two sides are timed in one process, alternating, after one warm-up each:

* ``explain``: ``explain.error_analysis(model, data)`` at its defaults (depth 3, cohorts of
  at least max(30, 1% of the rows), FDR 5%): predictions streamed in batches, the tree grown
  from histograms, cohorts tested on a held-out half;
* ``sklearn``: what a user would write without explain: one forward pass over all rows,
  the error indicator, ``DecisionTreeClassifier(max_depth=3, min_samples_leaf=<same>)`` on
  it, and the leaf with the highest error rate as the cohort.

Reported: seconds (median), rows per second, peak RSS growth per call (VmHWM above VmRSS at
the call's start, VmHWM reset through /proc/self/clear_refs) beside the size of the table,
the top cohort's rule, its precision and recall against the planted region, and whether it
was found beyond chance.

Run: ``python -m bench error_analysis`` (``--quick`` for 100k rows only; ``--help``).
Results go to stdout and, unless ``--no-write``, to bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from bench._machine import load_average, machine
from bench._measure import Timing, measure, peak_rss_available
from bench._readme import publish

HEADING = "## Error analysis at scale vs scikit-learn's tree"
FEATURES = 10


# --- data ---------------------------------------------------------------------------------
def make_model() -> Any:
    import explain

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    return explain.Model(net, modality="tabular", feature_names=[f"x{j}" for j in range(FEATURES)])


def make_data(model: Any, n: int, case: str, seed: int = 0) -> tuple[Any, np.ndarray]:
    """The table, its labels and the planted region (all False for ``null``)."""
    import explain

    rng = np.random.default_rng(seed)
    x = rng.random((n, FEATURES), dtype=np.float32)
    with torch.no_grad():
        predicted = np.concatenate([model.network(torch.from_numpy(x[s:s + 65536])).argmax(1).numpy()
                                    for s in range(0, n, 65536)])
    region = (x[:, 0] > 0.7) & (x[:, 1] < 0.3) if case == "planted" else np.zeros(n, dtype=bool)
    wrong = rng.random(n) < np.where(region, 0.8, 0.05 if case == "planted" else 0.1)
    y = np.where(wrong, 1 - predicted, predicted)
    return explain.Dataset(x, y, feature_names=[f"x{j}" for j in range(FEATURES)]), region


# --- the two sides ------------------------------------------------------------------------
@dataclass
class Found:
    rule: str
    rows: np.ndarray  # boolean mask
    rate: float
    beyond_chance: str


def explain_side(model: Any, data: Any) -> Callable[[], Found]:
    import explain

    def run() -> Found:
        result = explain.error_analysis(model, data)
        if not result.cohorts:
            return Found(result.verdict(), np.zeros(len(data), dtype=bool), float("nan"), "no cohort")
        top = result.cohorts[0]
        mask = np.zeros(len(data), dtype=bool)
        mask[top.rows] = True
        return Found(top.rule, mask, top.error_rate,
                     f"yes (p={top.p_value:.1g})" if top.significant else f"no (p={top.p_value:.2g})")

    return run


def sklearn_side(model: Any, data: Any) -> Callable[[], Found]:
    from sklearn.tree import DecisionTreeClassifier

    x, y = data.x, data.y
    min_size = max(30, int(np.ceil(0.01 * len(y))))

    def run() -> Found:
        with torch.no_grad():
            wrong = model.network(torch.from_numpy(x)).argmax(1).numpy() != y
        tree = DecisionTreeClassifier(max_depth=3, min_samples_leaf=min_size, random_state=0).fit(x, wrong)
        leaf = tree.apply(x)
        counts = np.bincount(leaf, minlength=tree.tree_.node_count)
        errors = np.bincount(leaf, weights=wrong, minlength=tree.tree_.node_count)
        rates = np.where(counts > 0, errors / np.maximum(counts, 1), -1.0)
        worst = int(np.argmax(rates))
        return Found(_sklearn_rule(tree, worst), leaf == worst, float(rates[worst]), "not tested")

    return run


def _sklearn_rule(tree: Any, leaf: int) -> str:
    t = tree.tree_
    parent = {}
    for v in range(t.node_count):
        for child, side in ((t.children_left[v], "≤"), (t.children_right[v], ">")):
            if child >= 0:
                parent[child] = (v, side)
    parts = []
    while leaf in parent:
        v, side = parent[leaf]
        parts.append(f"x{t.feature[v]} {side} {t.threshold[v]:.4g}")
        leaf = v
    return " and ".join(reversed(parts)) or "all rows"


# --- measuring ----------------------------------------------------------------------------
@dataclass
class Row:
    case: str
    rows: int
    data_mib: float
    side: str
    timing: Timing
    found: Found
    region: int

    @property
    def precision(self) -> float:
        hit = int(self.found.rows.sum())
        return float("nan") if hit == 0 or not self.region else float(self._overlap / hit)

    @property
    def recall(self) -> float:
        return float("nan") if not self.region else float(self._overlap / self.region)

    _overlap: int = 0


def bench_case(model: Any, case: str, n: int, reps: int, memory: bool) -> list[Row]:
    data, region = make_data(model, n, case)
    t = measure({"explain": explain_side(model, data), "sklearn": sklearn_side(model, data)}, reps, memory)
    rows = []
    for side, timing in t.items():
        found = timing.result
        row = Row(case, n, data.x.nbytes / 2**20, side, timing, found, int(region.sum()))
        row._overlap = int((found.rows & region).sum())
        rows.append(row)
    del data, region
    gc.collect()
    return rows


# --- reporting ----------------------------------------------------------------------------
def _pct(v: float) -> str:
    return "–" if v != v else f"{v:.0%}"


def table(rows: list[Row], memory: bool) -> str:
    lines = ["| case | rows | table MiB | side | reps | seconds | rows/s | peak RSS growth MiB | top cohort "
             "| its error rate | precision / recall vs planted | beyond chance? |",
             "|---|---:|---:|---|---:|---:|---:|---:|---|---:|---|---|"]
    for r in rows:
        mem = "–" if not memory or r.timing.peak_mib is None else f"{r.timing.peak_mib:.0f}"
        rate = "–" if r.found.rate != r.found.rate else f"{r.found.rate:.1%}"
        lines.append(f"| {r.case} | {r.rows:,} | {r.data_mib:.0f} | {r.side} | {len(r.timing.times)} "
                     f"| {r.timing.median:.2f} | {r.rows / r.timing.median:,.0f} | {mem} | {r.found.rule} | {rate} "
                     f"| {_pct(r.precision)} / {_pct(r.recall)} | {r.found.beyond_chance} |")
    return "\n".join(lines)


def section(rows: list[Row], command: str, memory: bool, wall: float, loads: str, busy: bool) -> str:
    noisy = ("\n**Noisy figures**: a run on a machine shared with other jobs. Rerun `python -m bench "
             "error_analysis` on a quiet machine for figures to quote.\n" if busy else "")
    memory_note = (
        "Peak RSS growth: the largest over the calls (warm-up included) of VmHWM above VmRSS at the call's "
        "start, after `malloc_trim(0)` and a VmHWM reset; memory the allocator kept from earlier calls is "
        "reused without being counted, so these are lower bounds."
        if memory else "Peak RSS: not measured (/proc/self/clear_refs is not available here).")
    return f"""{HEADING}

`{command}`, {wall / 60:.1f} min. Machine: {machine('captum')}.
Load average {loads} (1, 5, 15 min).
{noisy}
A table of {FEATURES} uniform features (float32) and a seeded MLP {FEATURES}-64-64-2. Case `planted`:
labels that make the model wrong on 80% of the rows where `x0 > 0.7 and x1 < 0.3` (9% of
rows) and on 5% elsewhere; case `null`: wrong on 10% of the rows at random, so there is no
cohort to find. Both sides get depth 3 and cohorts of at least max(30, 1% of the rows).

- **explain**: `explain.error_analysis(model, data)` at its defaults; the first cohort.
  Predictions stream through the model in batches (rows per batch from the 64 MiB memory
  budget); the tree grows level by level from histograms (64 quantile bins per feature,
  one pass over the rows per level); a seeded half chooses the splits and the other half
  tests them, with the false discovery rate controlled over every candidate cut.
- **sklearn**: one forward pass over all rows, `DecisionTreeClassifier(max_depth=3,
  min_samples_leaf=...)` fitted on the error indicator, and its leaf with the highest
  error rate, as an error tree shows it. No test: it has no notion of chance.
- precision / recall: the share of the cohort's rows inside the planted region / of the
  region's rows inside the cohort.
- {memory_note}

{table(rows, memory)}
"""


# --- entry point --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench error_analysis", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k rows only, one repetition")
    parser.add_argument("--sizes", default=None, help="comma-separated row counts for `planted` "
                                                      "(default 100000,1000000)")
    parser.add_argument("--reps", type=int, default=None, help="timed repetitions (default 3 up to 100k rows, "
                                                               "1 above; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([100_000] if args.quick else
                                                                         [100_000, 1_000_000])
    torch.set_num_threads(args.threads)
    memory = peak_rss_available()
    model = make_model()
    warm, _ = make_data(model, 2000, "planted")
    explain_side(model, warm)()  # imports and first-call costs out of the way
    sklearn_side(model, warm)()
    load_before = load_average()
    busy = load_before != "unknown" and float(load_before.split()[0]) > 0.5
    if busy:
        print(f"warning: the machine is busy (load average {load_before} on {os.cpu_count()} cores); "
              "the timings are noisy", file=sys.stderr)
    start = time.perf_counter()
    rows: list[Row] = []
    plan = [("planted", n) for n in sizes] + [("null", min(sizes))]
    for case, n in plan:
        reps = args.reps if args.reps is not None else (1 if args.quick or n > 100_000 else 3)
        t0 = time.perf_counter()
        got = bench_case(model, case, n, reps, memory)
        rows.extend(got)
        for r in got:
            print(f"{case:8s} rows={n:8d} {r.side:8s} {r.timing.median:7.2f}s RSS +{r.timing.peak_mib or 0:.0f} MiB "
                  f"{r.found.rule} ({r.found.beyond_chance})", file=sys.stderr, flush=True)
        print(f"  [{time.perf_counter() - t0:.0f}s]", file=sys.stderr, flush=True)
    wall = time.perf_counter() - start
    loads = f"{load_before} before, {load_average()} after"
    command = " ".join(["python -m bench error_analysis", *(sys.argv[1:] if argv is None else argv)])
    text = section(rows, command.replace(" --no-write", ""), memory, wall, loads, busy)
    publish(HEADING, text, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
