"""Counterfactuals: ``explain.counterfactuals`` against dice-ml and the nearest row of the target class.

Cases: the bundled ``breast_cancer`` example (its MLP, its 143 rows; no immutable feature)
and ``loan``, a synthetic loan table made here (income, loan amount, debt ratio, integer
years employed and open loans, an integer age that is immutable, a one-hot ``purpose_*``
group) with a small seeded torch MLP trained here. Queries: the first rows the model gives
the unfavourable class (malignant / denied); the target is the other class; n = 3; the same
queries, immutable features and permitted ranges (the observed ranges) on every side.

Sides, each called once per query and timed per query:

* ``explain``: ``explain.counterfactuals(model, data, query, immutable=..., ranges=..., n=3)``
  (method "auto", the default 10 s time limit);
* ``dice random`` / ``dice genetic`` / ``dice gradient``: dice-ml's PyTorch backend on the
  same network with a softmax on top, ``features_to_vary`` and ``permitted_range`` set to the
  same constraints, ``desired_class="opposite"``; the one-hot group is one categorical
  column on dice's side (a ``func`` turns dice's frame into the network's columns);
* ``nearest``: the 3 rows of the reference data closest to the query (MAD-weighted L1 over
  the features) among those the model puts in the target class and whose immutable features
  equal the query's: the What-If Tool's "nearest counterfactual".

dice-ml is not in the project's extras (its requirements pull xgboost, lightgbm and a CUDA
NCCL wheel that it does not need here); install it for this benchmark only with
``pip install --no-deps dice-ml==0.12 raiutils==0.4.2``.

Every side is measured by the same code: validity by our forward pass, constraint violations
(immutables changed, out of range, non-integer, broken one-hot), features changed (a one-hot
group counts once), proximity and diversity in MAD units (explain's own ``distance`` and
``diversity`` with the scales of explain's constraints).

Run: ``python -m bench counterfactuals`` (``--queries N``, ``--help``). Results go to stdout and,
unless ``--no-write``, to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from bench._machine import load_average, machine
from bench._readme import publish

HEADING = "## Counterfactuals vs dice-ml and the nearest row"
N = 3
SIDES = ("explain", "dice random", "dice genetic", "dice gradient", "nearest")
GRADIENT_MAX_ITER = 500  # dice's default is 5000: ~200 s a query on breast_cancer here, none found
GRADIENT_QUERIES = 3  # dice gradient runs on the first queries only, to keep the run near 5 minutes


# --- cases --------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    model: Any  # explain.Model
    data: Any  # explain.Dataset (the reference rows)
    queries: np.ndarray
    target: int
    immutable: list[str]
    ranges: dict[str, tuple[float, float]]
    groups: dict[str, list[str]]  # categorical name -> its one-hot columns (dice's view)
    describe: str


def _observed_ranges(x: np.ndarray, names: tuple[str, ...], immutable: list[str]) -> dict[str, tuple[float, float]]:
    return {n: (float(x[:, j].min()), float(x[:, j].max())) for j, n in enumerate(names) if n not in immutable}


def _queries(model: Any, x: np.ndarray, unfavourable: int, k: int) -> np.ndarray:
    rows = np.flatnonzero(model.predict(x.astype(np.float32)) == unfavourable)[:k]
    return x[rows]


def breast_cancer(k: int) -> Case:
    import explain

    model, data = explain.load_example("breast_cancer")
    x = np.asarray(data.x, dtype=np.float64)
    names = tuple(model.feature_names)
    return Case("breast_cancer", model, data, _queries(model, x, 0, k), 1, [], _observed_ranges(x, names, []), {},
                f"bundled MLP 30-32-16-2 on its {len(x)} rows; queries predicted malignant, target benign; "
                "no immutable feature")


LOAN_PURPOSES = ("car", "home", "education", "business")
LOAN_FEATURES = ("income", "loan_amount", "debt_ratio", "years_employed", "n_loans", "age",
                 *(f"purpose_{p}" for p in LOAN_PURPOSES))


def loan(k: int, rows: int = 2000) -> Case:
    """The loan table, its label (a noisy rule) and an MLP 10-32-16-2 trained on it (seeded, ~1 s)."""
    import explain

    rng = np.random.default_rng(0)
    age = rng.integers(18, 71, rows)
    years = np.minimum(rng.integers(0, 41, rows), age - 18)
    income = np.round(rng.lognormal(np.log(45), 0.45, rows) + 0.6 * years, 1)
    amount = np.round(rng.uniform(2, 60, rows), 1)
    debt = np.round(rng.beta(2, 5, rows), 2)
    loans = rng.integers(0, 7, rows)
    purpose = rng.integers(0, len(LOAN_PURPOSES), rows)
    bonus = np.array([0.3, 0.8, -0.2, -0.6])[purpose]
    logit = (0.06 * (income - 50) - 0.05 * (amount - 30) - 4.0 * (debt - 0.3) + 0.06 * years - 0.35 * loans
             + 0.01 * (age - 40) + bonus + 0.6)
    y = (logit + rng.logistic(size=rows) * 0.5 > 0).astype(np.int64)
    x = np.column_stack([income, amount, debt, years, loans, age, np.eye(len(LOAN_PURPOSES))[purpose]])
    mean, std = x.mean(axis=0), x.std(axis=0)

    class Standardize(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
            self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            return (t - self.mean) / self.std

    torch.manual_seed(0)
    net = nn.Sequential(Standardize(), nn.Linear(x.shape[1], 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(),
                        nn.Linear(16, 2))
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()
    net.eval()
    model = explain.Model(net, modality="tabular", task="classification", feature_names=list(LOAN_FEATURES),
                          class_names=["denied", "approved"])
    accuracy = float((model.predict(x.astype(np.float32)) == y).mean())
    data = explain.Dataset(x, y, feature_names=list(LOAN_FEATURES), class_names=["denied", "approved"])
    immutable = ["age"]
    return Case("loan", model, data, _queries(model, x, 0, k), 1, immutable,
                _observed_ranges(x, LOAN_FEATURES, immutable),
                {"purpose": [f"purpose_{p}" for p in LOAN_PURPOSES]},
                f"synthetic, {rows} rows, 10 columns (income, loan_amount, debt_ratio; integer years_employed, "
                f"n_loans and age, age immutable; one-hot purpose_* of 4); MLP 10-32-16-2 trained here "
                f"(accuracy {accuracy:.0%}); queries predicted denied, target approved")


# --- the sides ----------------------------------------------------------------------------
@dataclass
class Answer:
    rows: np.ndarray  # (k, features) in the model's columns
    seconds: float
    error: str = ""


def explain_side(case: Case) -> Callable[[np.ndarray], np.ndarray]:
    import explain

    def run(query: np.ndarray) -> np.ndarray:
        cf = explain.counterfactuals(case.model, case.data, query[None], target=case.target,
                                     immutable=case.immutable, ranges=case.ranges, n=N, seed=0)
        return np.asarray(cf.values, dtype=np.float64)

    return run


def _dice_frames(case: Case) -> tuple[pd.DataFrame, list[str], Callable[[pd.DataFrame], np.ndarray],
                                      Callable[[np.ndarray], pd.DataFrame]]:
    """dice's view of the data (one categorical column per one-hot group), its continuous
    features, and the maps between its frames and the model's columns."""
    names = list(case.model.feature_names)
    in_group = {c for cols in case.groups.values() for c in cols}
    x = np.asarray(case.data.x, dtype=np.float64)
    integer = {n for j, n in enumerate(names) if np.all(x[:, j] == np.round(x[:, j]))}

    def to_dice(rows: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(rows, columns=names)
        out = pd.DataFrame(index=frame.index)
        for n in names:
            if n in in_group:
                continue
            out[n] = frame[n].round().astype(np.int64) if n in integer else frame[n]
        for g, cols in case.groups.items():
            out[g] = [cols[int(i)][len(g) + 1:] for i in np.argmax(frame[cols].to_numpy(), axis=1)]
        return out

    def to_model(frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(frame), len(names)))
        for j, n in enumerate(names):
            if n not in in_group:
                out[:, j] = pd.to_numeric(frame[n]).to_numpy(dtype=np.float64)
        for g, cols in case.groups.items():
            values = frame[g].astype(str).to_numpy()
            for c in cols:
                out[:, names.index(c)] = (values == c[len(g) + 1:]).astype(np.float64)
        return out

    frame = to_dice(x)
    frame["outcome"] = np.asarray(case.data.y).astype(np.int64)
    continuous = [n for n in names if n not in in_group]
    return frame, continuous, to_model, to_dice


class DiceGradientNet(nn.Module):
    """The network as dice's gradient method calls it: one row (1-D) or a batch in dice's own
    encoding (its one-hot columns, continuous features min-max normalised over the data),
    returning the probability of class 1 as a single output node."""

    def __init__(self, case: Case, d: Any, frame: pd.DataFrame) -> None:
        super().__init__()
        self.network = case.model.network
        self.names = list(case.model.feature_names)
        self.d = d
        self.low = {n: float(frame[n].min()) for n in d.continuous_feature_names}
        self.high = {n: float(frame[n].max()) for n in d.continuous_feature_names}

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        single = t.dim() == 1
        t = t.reshape(-1, t.shape[-1])
        encoded = list(self.d.ohe_encoded_feature_names)
        if any(n not in encoded for n in self.names):  # dice's probe for the output size, before it encodes
            out = torch.full((len(t), 1), 0.5)
            return out[0] if single else out
        cols = []
        for n in self.names:
            v = t[:, encoded.index(n)]
            if n in self.low:
                v = v * (self.high[n] - self.low[n]) + self.low[n]
            cols.append(v)
        p = torch.softmax(self.network(torch.stack(cols, dim=1)), dim=1)[:, 1:]
        return p[0] if single else p


def dice_side(case: Case, method: str) -> Callable[[np.ndarray], np.ndarray]:
    import dice_ml

    frame, continuous, to_model, to_dice = _dice_frames(case)
    names = list(case.model.feature_names)
    net: nn.Module = nn.Sequential(case.model.network, nn.Softmax(dim=1)).eval()

    def func(df: Any, **_: Any) -> pd.DataFrame:  # dice's frame -> the network's columns
        return pd.DataFrame(to_model(df), columns=names)

    d = dice_ml.Data(dataframe=frame, continuous_features=continuous, outcome_name="outcome")
    if method == "gradient":
        net = DiceGradientNet(case, d, frame)
    m = dice_ml.Model(model=net, backend="PYT", func=None if method == "gradient" else func)
    explainer = dice_ml.Dice(d, m, method=method)
    groups = case.groups
    to_vary = [c for c in frame.columns if c != "outcome" and c not in case.immutable]
    permitted: dict[str, list[Any]] = {n: [lo, hi] for n, (lo, hi) in case.ranges.items() if n in continuous}
    for n in case.immutable:  # dice's gradient method looks every continuous feature up (KeyError otherwise)
        if n in continuous:
            permitted[n] = [float(frame[n].min()), float(frame[n].max())]
    for g, cols in groups.items():
        permitted[g] = [c[len(g) + 1:] for c in cols]

    def run(query: np.ndarray) -> np.ndarray:
        q = to_dice(query[None])
        np.random.seed(0)
        kwargs: dict[str, Any] = {"total_CFs": N, "desired_class": "opposite", "features_to_vary": to_vary,
                                  "permitted_range": permitted, "verbose": False}
        if method == "random":
            kwargs["random_seed"] = 0
        if method == "gradient":
            kwargs["max_iter"] = GRADIENT_MAX_ITER
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = explainer.generate_counterfactuals(q, **kwargs)
        cfs = result.cf_examples_list[0].final_cfs_df
        if cfs is None or len(cfs) == 0:
            return np.empty((0, len(names)))
        return to_model(cfs[[c for c in frame.columns if c != "outcome"]])

    return run


def nearest_side(case: Case) -> Callable[[np.ndarray], np.ndarray]:
    from explain.recourse.constraints import build
    from explain.recourse.selection import distance

    x = np.asarray(case.data.x, dtype=np.float64)
    names = tuple(case.model.feature_names)
    c = build(x, names, immutable=case.immutable, ranges=case.ranges, onehot=None)
    fixed = ~c.mutable
    predicted = case.model.predict(x.astype(np.float32))

    def run(query: np.ndarray) -> np.ndarray:
        ok = (predicted == case.target) & (x[:, fixed] == query[fixed]).all(axis=1)
        candidates = x[ok]
        if not len(candidates):
            return np.empty((0, len(names)))
        return candidates[np.argsort(distance(candidates, query, c.scale), kind="stable")[:N]]

    return run


# --- measuring ----------------------------------------------------------------------------
@dataclass
class Tally:
    case: str
    side: str
    queries: int = 0
    answered: int = 0
    returned: int = 0
    valid: int = 0
    violations: dict[str, int] = field(default_factory=lambda: {"immutable": 0, "range": 0, "integer": 0,
                                                                  "onehot": 0})
    rows_with_violation: int = 0
    sparsity: list[float] = field(default_factory=list)
    proximity: list[float] = field(default_factory=list)
    diversity: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def mean(self, name: str) -> float:
        values = [v for v in getattr(self, name) if v == v]
        return float(np.mean(values)) if values else float("nan")


def score(case: Case, tally: Tally, query: np.ndarray, rows: np.ndarray) -> None:
    """Validity by our forward pass and every measure, the same for every side."""
    from explain.recourse.constraints import build
    from explain.recourse.selection import distance, diversity

    x = np.asarray(case.data.x, dtype=np.float64)
    c = build(x, tuple(case.model.feature_names), immutable=case.immutable, ranges=case.ranges, onehot=None)
    tally.queries += 1
    tally.returned += len(rows)
    if not len(rows):
        return
    valid = case.model.predict(rows.astype(np.float32)) == case.target
    tally.valid += int(valid.sum())
    bad = np.zeros(len(rows), dtype=bool)
    checks = {
        "immutable": ((rows != query) & ~c.mutable).any(axis=1),
        "range": (((rows < c.low - 1e-9) | (rows > c.high + 1e-9)) & c.mutable).any(axis=1),
        "integer": ((rows != np.round(rows)) & c.integer & c.mutable).any(axis=1),
        "onehot": np.zeros(len(rows), dtype=bool),
    }
    for group in c.groups:
        part = rows[:, group]
        checks["onehot"] |= ~np.isin(part, (0.0, 1.0)).all(axis=1) | (part.sum(axis=1) != 1)
    for kind, hit in checks.items():
        tally.violations[kind] += int(hit.sum())
        bad |= hit
    tally.rows_with_violation += int(bad.sum())
    good = rows[valid]
    if len(good):
        tally.answered += 1
        tally.sparsity.extend(c.changed_units(good, query).sum(axis=1).astype(float).tolist())
        tally.proximity.extend(distance(good, query, c.scale).tolist())
        tally.diversity.append(diversity(np.unique(good, axis=0), c.scale))


def bench_case(case: Case, sides: list[str]) -> list[Tally]:
    runners: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    tallies = {s: Tally(case.name, s) for s in sides}
    for side in sides:
        try:
            runners[side] = (explain_side(case) if side == "explain" else nearest_side(case) if side == "nearest"
                             else dice_side(case, side.split()[1]))
        except Exception as err:  # a side that cannot even start is recorded, not hidden
            tallies[side].errors.append(f"setup: {type(err).__name__}: {err}")
    for i, query in enumerate(case.queries):
        for side, run in runners.items():
            t = tallies[side]
            if side == "dice gradient" and i >= GRADIENT_QUERIES:
                continue
            if len(t.errors) >= 3 and t.answered == 0 and len(set(t.errors)) == 1:
                continue  # the same failure three times: the rest would fail alike
            t0 = time.perf_counter()
            try:
                rows = run(query)
            except Exception as err:
                t.seconds.append(time.perf_counter() - t0)
                t.queries += 1
                t.errors.append(f"{type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}")
                if os.environ.get("BENCH_TRACE"):
                    traceback.print_exc()
                continue
            t.seconds.append(time.perf_counter() - t0)
            score(case, t, query, rows)
        print(f"  {case.name} query {i + 1}/{len(case.queries)}: "
              + ", ".join(f"{s} {tallies[s].seconds[-1]:.2f}s" for s in runners
                          if tallies[s].seconds and len(tallies[s].seconds) == i + 1),
              file=sys.stderr, flush=True)
    return [tallies[s] for s in sides]


# --- reporting ----------------------------------------------------------------------------
def _f(v: float, digits: int = 2) -> str:
    return "–" if v != v else f"{v:.{digits}f}"


def _q(t: Tally, p: float) -> float:
    return float(np.percentile(t.seconds, p)) if t.seconds else float("nan")


def table(tallies: list[Tally]) -> str:
    lines = ["| case | side | queries | answered | returned | valid (our pass) | with a violation "
             "(imm / range / int / one-hot) | features changed | proximity (MAD) | diversity (MAD) "
             "| s/query median | p95 | failures |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for t in tallies:
        if not t.queries and t.errors:
            lines.append(f"| {t.case} | {t.side} | 0 | – | – | – | – | – | – | – | – | – | {t.errors[0]} |")
            continue
        v = t.violations
        share = f"{t.answered}/{t.queries} ({t.answered / t.queries:.0%})" if t.queries else "–"
        valid = f"{t.valid}/{t.returned}" if t.returned else "0/0"
        errs = "" if not t.errors else f"{len(t.errors)}× {sorted(set(t.errors))[0]}"
        lines.append(f"| {t.case} | {t.side} | {t.queries} | {share} | {t.returned} | {valid} | "
                     f"{t.rows_with_violation} ({v['immutable']} / {v['range']} / {v['integer']} / {v['onehot']}) | "
                     f"{_f(t.mean('sparsity'))} | {_f(t.mean('proximity'), 3)} | {_f(t.mean('diversity'), 3)} | "
                     f"{_f(_q(t, 50))} | {_f(_q(t, 95))} | {errs} |")
    return "\n".join(lines)


def verdict(tallies: list[Tally]) -> str:
    """The issue's bar, case by case, in words (figures from the table)."""
    parts = []
    for case in dict.fromkeys(t.case for t in tallies):
        by = {t.side: t for t in tallies if t.case == case}
        e = by.get("explain")
        if e is None or not e.queries:
            continue
        lines = []
        answered = e.answered / e.queries
        lines.append(f"answered {answered:.0%} ({'meets' if answered >= 0.95 else 'misses'} the 95% bar)")
        r, g, nb = by.get("dice random"), by.get("dice genetic"), by.get("nearest")
        if r and r.sparsity:
            es, rs = e.mean("sparsity"), r.mean("sparsity")
            lines.append(f"features changed {es:.2f} vs dice random's {rs:.2f} "
                         f"({'meets' if es <= rs else f'misses by {es - rs:.2f}'})")
        if g and g.proximity:
            ep, gp = e.mean("proximity"), g.mean("proximity")
            lines.append(f"proximity {ep:.3f} vs dice genetic's {gp:.3f} "
                         f"({'meets' if ep <= gp else f'misses: {ep / gp:.2f}× as far'})")
        if nb and nb.proximity:
            ep, np_, es, ns = e.mean("proximity"), nb.mean("proximity"), e.mean("sparsity"), nb.mean("sparsity")
            better = ep < np_ and es < ns
            lines.append(f"vs nearest row {ep:.3f} vs {np_:.3f} MAD, {es:.2f} vs {ns:.2f} features "
                         f"({'better on both' if better else 'not better on both'})")
        if g and g.seconds:
            ep95, gp95 = _q(e, 95), _q(g, 95)
            lines.append(f"p95 {ep95:.2f} s vs dice genetic's {gp95:.2f} s "
                         f"({'meets' if ep95 < gp95 else f'misses: {ep95 / gp95:.1f}×'})")
        parts.append(f"`{case}`: " + "; ".join(lines) + ".")
    return "\n".join(f"- {p}" for p in parts)




def summary(tallies: list[Tally], busy: bool) -> str:
    """One paragraph: which bars explain meets everywhere and which it misses."""
    judged = verdict(tallies)
    clauses = [c for line in judged.splitlines() for c in line.split(";")]
    keys = {"answered": "queries answered", "dice random": "features changed vs dice random",
            "proximity": "distance vs dice genetic", "nearest": "better than the nearest row",
            "p95": "p95 time vs dice genetic"}
    missed = [words for key, words in keys.items()
              if any(key in c and ("misses" in c or "not better" in c) for c in clauses)]
    noisy = (" Timings come from a machine shared with other jobs (load average above its core count): "
             "rerun on a quiet machine before quoting them." if busy else "")
    mine = [t for t in tallies if t.side == "explain"]
    returned, valid, bad = (sum(t.returned for t in mine), sum(t.valid for t in mine),
                            sum(t.rows_with_violation for t in mine))
    checked = (f" Of explain's {returned} counterfactuals, {valid} are valid by our forward pass and {bad} break "
               "a constraint.")
    if not missed:
        return "Verdict: explain meets every bar on every case." + checked + noisy
    return ("Verdict: explain misses " + ", ".join(missed) + " on at least one case (by how "
            "much: above)." + checked + noisy)


def section(tallies: list[Tally], cases: list[Case], command: str, wall: float, loads: str, judged: str,
            busy: bool = False) -> str:
    described = "\n".join(f"- `{c.name}`: {c.describe}; {len(c.queries)} queries." for c in cases)
    return f"""{HEADING}

`{command}`, {wall / 60:.1f} min. Machine: {machine('dice-ml', 'pandas')}.
Load average {loads} (1, 5, 15 min).

Cases (n = {N} counterfactuals per query; immutable features and permitted ranges, the observed
ranges of the mutable features, the same on every side):

{described}

How to read it:

- **explain**: `explain.counterfactuals(model, data, query, target=..., immutable=..., ranges=..., n=3)`
  (method "auto": the gradient search pooled with the model-agnostic one; 10 s limit per query).
- **dice random / genetic / gradient**: dice-ml on the same network with a softmax on top
  (`dice_ml.Model(backend="PYT")`), `desired_class="opposite"`, `features_to_vary` (all but the
  immutable ones) and `permitted_range` (the same ranges; the purpose group as one categorical
  column whose categories dice chooses, turned back into the one-hot columns for the network
  and for measuring), dice's defaults otherwise (random: `random_seed=0`; genetic:
  `np.random.seed(0)`). dice's gradient method runs the network on dice's own one-hot and
  min-max-normalised encoding and has no way to take a `func`: whatever it returns is
  measured like the rest. It runs with `max_iter={GRADIENT_MAX_ITER}` (dice's default 5000 took ~200 s
  a query on breast_cancer here and found none) on the first {GRADIENT_QUERIES} queries only.
- **nearest**: the {N} reference rows closest to the query (MAD-weighted L1) among those the model
  puts in the target class with the query's immutable values: the What-If Tool's nearest
  counterfactual. Nothing is searched; it is always valid and in range by construction.
- answered: queries with at least one counterfactual that our own forward pass puts in the
  target class; returned: rows the side gave back; valid: those our pass puts in the target.
- with a violation: returned rows breaking a constraint; in parentheses rows with an immutable
  feature changed / a mutable one outside its range / an integer column not whole / the one-hot
  group not exactly one 1 (a row may break several).
- features changed (a one-hot group counts once), proximity (mean over the features of
  |change| / MAD, explain's `distance` with the scales of explain's constraints) and diversity
  (mean pairwise distance within a query's set, NaN sets skipped): means over the valid rows.
  Lower features changed and proximity are better; higher diversity is more varied.
- s/query: wall seconds per query (one call per query), median and 95th percentile.
- failures: exceptions raised (count and the first message).

{table(tallies)}

Against the issue's bar (at least 95% answered; no more features changed than dice random; no
larger distance than dice genetic; better than the nearest row; p95 time below dice genetic's):

{judged}
{summary(tallies, busy)}
"""


# --- entry point --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench counterfactuals", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=20, help="queries per case (default 20)")
    parser.add_argument("--cases", default="breast_cancer,loan", help="comma-separated (default breast_cancer,loan)")
    parser.add_argument("--sides", default=",".join(SIDES), help=f"comma-separated (default {','.join(SIDES)})")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    makers = {"breast_cancer": breast_cancer, "loan": loan}
    load_before = load_average()
    start = time.perf_counter()
    cases = [makers[name](args.queries) for name in args.cases.split(",")]
    sides = args.sides.split(",")
    tallies: list[Tally] = []
    for case in cases:
        tallies.extend(bench_case(case, sides))
    wall = time.perf_counter() - start
    loads = f"{load_before} before, {load_average()} after"
    command = " ".join(["python -m bench counterfactuals", *(sys.argv[1:] if argv is None else argv)])
    busy = load_before != "unknown" and float(load_before.split()[0]) > (os.cpu_count() or 1)
    text = section(tallies, cases, command.replace(" --no-write", ""), wall, loads, verdict(tallies), busy)
    publish(HEADING, text, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
