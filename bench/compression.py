"""Compressed bundled models: size, latency, agreement and explanation similarity of int8 and pruned versions.

For each bundled example (breast_cancer, digits, diabetes, vit_digits; the text example is
left out), on its held-out data:

* ``fp32``: the model as shipped (``explain.compare(model, model, data)``: the baseline);
* ``int8``: ``explain.compress(model, method="quantize")``, weight-only int8 per output channel;
* ``prune p``: ``explain.compress_sweep(model, data, method="prune", amounts=[0.2, 0.4, 0.6, 0.8])``,
  global magnitude pruning to sparsity p over the Linear and Conv weights.

Reported per version: bytes stored (int8 weights plus scales; a pruned tensor as CSR where
smaller than dense) and non-zero weights (``explain.model_size``), the median latency per row
of timed forward passes over the same batch of up to 256 rows, accuracy (diabetes: mean
absolute error), agreement with fp32 (the share of rows with the same prediction; diabetes:
the mean absolute difference of the predictions) and explanation similarity (the mean
Spearman correlation of |saliency| per row, both explained for the fp32 model's class, on a
seeded sample of up to 100 rows), and the largest pruning amount whose agreement is at least ``--keep``.

Run: ``python -m bench compression`` (``--help``). Results go to stdout and, unless
``--no-write``, to bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import torch

from bench._machine import load_average, machine
from bench._readme import publish

HEADING = "## Compressed models: int8 and pruning"
EXAMPLES = ("breast_cancer", "digits", "diabetes", "vit_digits")
AMOUNTS = (0.2, 0.4, 0.6, 0.8)


def bench_example(name: str, keep: float, rows: int, repeats: int) -> tuple[list[dict[str, Any]], Any]:
    import explain

    model, data = explain.load_example(name)
    rows_out = []
    base = explain.compare(model, model, data, rows=rows, repeats=repeats, names=("fp32", "fp32"))
    rows_out.append(_row(name, "fp32", base.size[0]["stored_bytes"], base.size[0]["nonzero"], base.latency[0],
                         base.accuracy[0] if base.accuracy else float("nan"), base.agreement,
                         base.explanation_similarity, base.latency[0] / base.latency[1]))
    int8 = explain.compress_sweep(model, data, method="quantize", keep=keep, rows=rows, repeats=repeats)
    sweep = explain.compress_sweep(model, data, method="prune", amounts=AMOUNTS, keep=keep, rows=rows,
                                   repeats=repeats)
    for label, result in (("int8", int8), ("prune", sweep)):
        for i, amount in enumerate(result.amounts):
            rows_out.append(_row(name, label if label == "int8" else f"prune {amount:.0%}", int(result.stored_bytes[i]),
                                 int(result.nonzero[i]), float(result.latency[i]), float(result.accuracy[i]),
                                 float(result.agreement[i]), float(result.explanation_similarity[i]),
                                 float(result.latency[i] / result.base_latency[i])))
    return rows_out, (model.task, sweep.best, len(data))


def _row(example: str, version: str, stored: int, nonzero: int, latency: float, accuracy: float, agreement: float,
         similarity: float, ratio: float) -> dict[str, Any]:
    return {"example": example, "version": version, "stored": stored, "nonzero": nonzero, "latency": latency,
            "accuracy": accuracy, "agreement": agreement, "similarity": similarity, "ratio": ratio}


def table(rows: list[dict[str, Any]], bests: dict[str, Any]) -> str:
    lines = ["| example | version | stored | non-zero weights | latency per row | vs fp32, in turn | accuracy (MAE) "
             "| agreement | explanation similarity |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        task = bests[r["example"]][0]
        accuracy = f"{r['accuracy']:.2f}" if task == "regression" else f"{r['accuracy']:.3f}"
        agreement = f"{r['agreement']:.3f}" + (" (MAD)" if task == "regression" else "")
        lines.append(f"| {r['example']} | {r['version']} | {r['stored'] / 1e3:.1f} kB | {r['nonzero']:,} "
                     f"| {r['latency'] * 1e6:.1f} µs | {r['ratio']:.2f}x | {accuracy} | {agreement} | {r['similarity']:.3f} |")
    return "\n".join(lines)


def section(rows: list[dict[str, Any]], bests: dict[str, Any], command: str, keep: float, wall: float,
            loads: str) -> str:
    kept = "; ".join(f"{name} {'none' if best is None else f'{best:.0%}'}" + (" (MAD ≤ keep)" if task == "regression"
                                                                                else "")
                     for name, (task, best, _) in bests.items())
    sizes = ", ".join(f"{name} {n}" for name, (_, _, n) in bests.items())
    return f"""{HEADING}

`{command}` on {machine('captum')}, 2 torch threads ({wall:.0f} s in all; load average {loads}).
Held-out rows: {sizes}. Largest pruning amount with agreement ≥ {keep}: {kept}.

- **fp32**: the bundled model; **int8**: `explain.compress(model, method="quantize")` (weight-only,
  per output channel, dequantised in forward: every attribution method still runs);
  **prune p**: `explain.compress(model, method="prune", amount=p)` (global magnitude pruning over the
  Linear and Conv weights, made permanent), all through `explain.compress_sweep`.
- stored: `explain.model_size(...).stored_bytes` (int8 at 1 byte plus a float scale per output
  channel; a pruned tensor as CSR, 8 bytes per non-zero plus row pointers, where smaller than dense).
  Pruning below ~50% sparsity saves little as CSR; the gain is in non-zero weights.
- latency: median of timed forward passes over the same batch (up to 256 rows), per row;
  "vs fp32, in turn": the light model's latency over the fp32 model's, their passes taken in
  turn (A, B, A, B, ...) in the same comparison, which a busy machine slows alike. The int8
  layers dequantise on the fly, so on CPU they are no faster than fp32 (slower for the larger
  models), and pruned weights are still dense tensors: the gain is size, not speed. On a busy
  machine (see the load average) even the ratios are noisy.
- agreement: the share of rows with the fp32 model's prediction (diabetes: the mean absolute
  difference of the predictions, MAD); explanation similarity: the mean Spearman correlation of
  |saliency| per row, both explained for the fp32 model's class, on a seeded sample of rows.

{table(rows, bests)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench compression", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", default=",".join(EXAMPLES), help="comma-separated bundled examples")
    parser.add_argument("--keep", type=float, default=0.99, help="agreement to keep (default 0.99)")
    parser.add_argument("--rows", type=int, default=100, help="rows explained per comparison (default 100)")
    parser.add_argument("--repeats", type=int, default=7, help="timed passes per latency (default 7)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before = load_average()
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    bests: dict[str, Any] = {}
    for name in args.examples.split(","):
        t0 = time.perf_counter()
        got, bests[name] = bench_example(name, args.keep, args.rows, args.repeats)
        rows.extend(got)
        print(f"{name}: {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
    wall = time.perf_counter() - start
    command = " ".join(["python -m bench compression", *(sys.argv[1:] if argv is None else argv)])
    text = section(rows, bests, command.replace(" --no-write", ""), args.keep, wall,
                   f"{load_before} before, {load_average()} after")
    publish(HEADING, text, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
