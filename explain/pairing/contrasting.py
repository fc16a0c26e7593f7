"""``compare()``: two models on the same rows, a heavy one (A) and a lighter or newer one (B).

What an auditor of a compressed model checks (see :class:`explain.Comparison`): whether the
two agree, their accuracy and per-class recall through the one scoring path
(:mod:`explain.diagnostics.truth`), calibration (:func:`explain.calibration`), robustness
under the same attack (:func:`explain.robustness`, when ``attack`` is given), whether they
decide for the same reasons (the same attribution method on the same rows, for A's predicted
class), speed and size, and what the literature says to watch: the flip set with McNemar's
test, backward trust (Bansal et al.), the rows compression hurts most (Hooker et al.) and the
conformal coverage at the same alpha.

Example:
    >>> import numpy as np, torch, explain
    >>> torch.manual_seed(0) and None
    >>> model = explain.Model(torch.nn.Linear(4, 3), task="classification")
    >>> x, y = np.random.default_rng(0).normal(size=(60, 4)), np.arange(60) % 3
    >>> same = explain.compare(model, model, x, y, rows=10)
    >>> same.agreement, same.explanation_similarity, same.mcnemar_p, same.flips["a_right_b_wrong"]
    (1.0, 1.0, 1.0, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from explain.adversarial.front import robustness
from explain.attribution.attributions import attribute, methods
from explain.confidence.calibrating import calibration
from explain.confidence.conformal_sets import conformal
from explain.core.batch import prepare
from explain.core.dataset import Dataset
from explain.core.model import Model, check_model
from explain.core.running import outputs
from explain.core.validate import Int, Number, OneOf, check
from explain.diagnostics.measures import confusion, per_class_scores
from explain.diagnostics.truth import labelled_outputs
from explain.errors import ExplainError, InputError
from explain.pairing.footprint import latencies, model_size
from explain.pairing.grouped import group_deltas, groups_of
from explain.pairing.measures import flip_counts, hurt_rows, map_agreement, mcnemar_p, trust
from explain.results.comparison import Comparison

__all__ = ["compare", "subset", "FALLBACK"]

FALLBACK = "feature_ablation"  # runs on any model that gives outputs


def compare(model_a: Any, model_b: Any, data: Any, targets: Any = None, *, method: str = "saliency",
            rows: int | None = 200, k: int | None = None, attack: str | None = None,
            epsilons: Sequence[float] | None = None, alpha: float | None = None, repeats: int = 5,
            latency_rows: int = 256, names: Sequence[str] = ("A", "B"), seed: int = 0,
            batch_size: int | None = None, progress: Callable[[float], None] | None = None,
            sensitive: Any = None, positive: Any = None, **attack_options: Any) -> Comparison:
    """Compare model B with model A on the same rows.

    Args:
        model_a, model_b: two :class:`explain.Model`\\ s of the same task and outputs (A is
            the reference: the original of a compressed B, say).
        data: the rows: a Dataset (a labelled one brings its labels), tensor, ndarray,
            DataFrame or list of strings.
        targets: true labels; they win over a Dataset's own. Without labels only the
            agreement, explanations, latency and size are reported.
        method: the attribution method both are explained with (see :func:`explain.methods`);
            where it cannot run on one of them, ``"feature_ablation"`` is used and
            ``params["method_note"]`` says why.
        rows: how many rows (a seeded uniform sample) to explain for the similarity; the
            disagreeing rows (up to as many) are explained too. None: every row.
        k: the top set of the feature, rank and sign agreement; default 5 (tabular, text) or
            10% of the pixels.
        attack: an attack of :func:`explain.robustness` (``"pgd"``, ``"fgsm"``, ...) to draw
            each model's robustness curve with; None (default) skips it.
        epsilons: the attack's budgets; ``**attack_options`` go to ``robustness`` as well.
        alpha: conformal miscoverage: when given, a seeded half of the labelled rows
            calibrates each model and the other half measures its coverage.
        repeats: timed passes of each model for the latency, taken in turn (A, B, A, B, ...);
            their median counts.
        latency_rows: rows in the timed batch (the first ones).
        names: the two models' labels.
        seed: the sample of explained rows, the calibration split and the methods' sampling.
        batch_size: rows per forward pass; None: from the memory budget.
        progress: called with the fraction of the work done.
        sensitive: column names (metadata or features of a Dataset) whose groups to compare
            the two models in, as :func:`explain.fairness` takes them: each group's accuracy
            (or mean absolute error) under A and B, and the change in the demographic parity
            difference (regression: the mean prediction gap); see ``Comparison.per_group()``.
        positive: the favourable class of that parity (default: the second of two classes).

    Returns:
        A :class:`explain.Comparison`.

    Raises:
        InputError: models of different tasks or outputs, or a bad option.
        DataError: labels that cannot be matched with the outputs.

    Example:
        >>> import numpy as np, torch, explain
        >>> torch.manual_seed(0) and None
        >>> model = explain.Model(torch.nn.Linear(4, 2), task="classification")
        >>> small = explain.compress(model, method="prune", amount=0.5)
        >>> x = np.random.default_rng(1).normal(size=(100, 4))
        >>> c = explain.compare(model, small, x, model.predict(x), rows=20)
        >>> c.accuracy[0], 0 <= c.agreement <= 1, c.size[1]["nonzero"]
        (1.0, True, 6)
    """
    a, b = check_model(model_a), check_model(model_b)
    opts = check(method=(method, OneOf(tuple(methods()))), rows=(rows, Int(low=1, optional=True, suggest=200)),
                 k=(k, Int(low=1, optional=True, suggest=5)), repeats=(repeats, Int(low=1, suggest=5)),
                 latency_rows=(latency_rows, Int(low=1, suggest=256)), seed=(seed, Int()),
                 alpha=(alpha, Number(low=0, high=1, open=True, optional=True, suggest=0.1)))
    labels = tuple(str(x) for x in names)
    if len(labels) != 2:
        raise InputError(f"names must be two labels, one per model; got {list(names)!r}.")
    if a.task != b.task:
        raise InputError(f"Model A is a {a.task} and model B a {b.task}; compare models of the same task.")
    step = _stepper(progress, 4 + (attack is not None) + (alpha is not None))
    labelled = targets is not None or isinstance(data, Dataset) and data.y is not None
    truth, out_a, out_b, ids, class_names = _outputs(a, b, data, targets, labelled, batch_size)
    step()
    if out_a.shape[1] != out_b.shape[1]:
        raise InputError(f"Model A has {out_a.shape[1]} outputs and model B {out_b.shape[1]}; compare models "
                         "with the same outputs (the same classes in the same order).")
    n = len(out_a)
    fields: dict[str, Any] = {"names": labels, "task": a.task, "n": n, "rows": ids, "truth": truth,
                              "class_names": class_names}
    if a.task == "classification":
        _merge(fields, _classes(a, b, data, targets, out_a, out_b, truth, batch_size, opts["seed"]))
    else:
        _merge(fields, _regression(out_a, out_b, truth))
    if sensitive is not None:
        fields["groups"] = _groups(a, data, sensitive, positive, fields)
    step()
    _merge(fields, _explanations(a, b, data, fields["predicted_a"], fields["disagreeing"], opts))
    step()
    if attack is not None:
        _merge(fields, _robustness(a, b, data, targets, attack, epsilons, batch_size, attack_options))
        step()
    if opts["alpha"] is not None and labelled:
        fields["coverage"] = _coverage(a, b, data, targets, n, opts["alpha"], opts["seed"])
        step()
    timed = subset(data, np.arange(min(n, opts["latency_rows"])))
    fields["latency"] = tuple(latencies([a, b], timed, repeats=opts["repeats"]))
    fields["size"] = (model_size(a).to_dict(), model_size(b).to_dict())
    step()
    fields["params"] = {**fields.get("params", {}), "rows": opts["rows"], "repeats": opts["repeats"],
                        "latency_rows": min(n, opts["latency_rows"]), "attack": attack, "alpha": opts["alpha"],
                        "seed": opts["seed"], "batch_size": batch_size, "target": "model A's prediction"}
    return Comparison(**fields)


def subset(data: Any, positions: np.ndarray) -> Any:
    """The rows at ``positions`` of any input form (a Dataset keeps its labels and row ids).

    Example:
        >>> subset(np.arange(10).reshape(5, 2), np.array([0, 3])).tolist()
        [[0, 1], [6, 7]]
    """
    idx = np.asarray(positions, dtype=np.int64)
    if isinstance(data, Dataset):
        return data[idx]
    if isinstance(data, (list, tuple)):
        return [data[int(i)] for i in idx]
    if hasattr(data, "iloc"):
        return data.iloc[idx]
    return data[idx]


def _outputs(a: Model, b: Model, data: Any, targets: Any, labelled: bool,
             batch_size: int | None) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, Any]:
    """Both models' outputs (classifiers as logits) through the one scoring path, and the truth."""
    if labelled:
        found_a = labelled_outputs(a, data, targets, batch_size=batch_size)
        found_b = labelled_outputs(b, data, targets, batch_size=batch_size)
        return found_a.truth, found_a.outputs, found_b.outputs, found_a.rows, found_a.class_names
    batch = prepare(a, data)
    out_a = outputs(a, batch, batch_size)
    out_b = outputs(b, prepare(b, data), batch_size)
    names = a.class_names if a.class_names and len(a.class_names) == out_a.shape[1] else None
    if a.task == "classification" and names is None:
        names = tuple(str(i) for i in range(out_a.shape[1]))
    return None, out_a, out_b, batch.rows, names


def _probabilities(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _classes(a: Model, b: Model, data: Any, targets: Any, out_a: np.ndarray, out_b: np.ndarray,
             truth: np.ndarray | None, batch_size: int | None, seed: int) -> dict[str, Any]:
    pa, pb = out_a.argmax(axis=1), out_b.argmax(axis=1)
    found: dict[str, Any] = {"predicted_a": pa, "predicted_b": pb, "agreement": float(np.mean(pa == pb)) if len(pa)
                             else float("nan"), "disagreeing": np.flatnonzero(pa != pb)}
    if truth is None:
        return found
    kk = out_a.shape[1]
    scores_a, scores_b = (per_class_scores(confusion(truth, p, kk)) for p in (pa, pb))
    right_a, right_b = truth == pa, truth == pb
    flips = flip_counts(right_a, right_b)
    kept, new = trust(truth, pa, pb)
    rows = np.arange(len(truth))
    drop = _probabilities(out_a)[rows, truth] - _probabilities(out_b)[rows, truth]
    ece = None
    if len(truth) >= 4:
        ece = (calibration(a, data, targets, batch_size=batch_size, seed=seed).ece,
               calibration(b, data, targets, batch_size=batch_size, seed=seed).ece)
    found.update(accuracy=(float(right_a.mean()), float(right_b.mean())), class_support=scores_a[3],
                 precision_a=scores_a[0], precision_b=scores_b[0], recall_a=scores_a[1], recall_b=scores_b[1],
                 flips=flips, mcnemar_p=mcnemar_p(flips["a_right_b_wrong"], flips["a_wrong_b_right"]),
                 backward_trust=kept, new_error_share=new, true_prob_drop=drop, hurt=hurt_rows(drop), ece=ece)
    return found


def _groups(a: Model, data: Any, sensitive: Any, positive: Any, fields: dict[str, Any]) -> dict[str, Any]:
    from explain.equity.assessing import _positive

    columns, names, codes = groups_of(data, sensitive, fields["n"])
    classes = tuple(fields["class_names"] or ())
    pos = _positive(positive, classes) if a.task == "classification" else None
    return group_deltas(columns, names, codes, truth=fields["truth"], predicted_a=fields["predicted_a"],
                        predicted_b=fields["predicted_b"], task=a.task, positive=pos, classes=classes)


def _regression(out_a: np.ndarray, out_b: np.ndarray, truth: np.ndarray | None) -> dict[str, Any]:
    pa, pb = out_a[:, 0], out_b[:, 0]
    found: dict[str, Any] = {"predicted_a": pa, "predicted_b": pb, "agreement": float(np.mean(np.abs(pa - pb))),
                             "disagreeing": np.zeros(0, dtype=np.int64)}
    if truth is not None:
        t = np.asarray(truth, dtype=np.float64)
        drop = np.abs(t - pb) - np.abs(t - pa)
        found.update(accuracy=(float(np.mean(np.abs(t - pa))), float(np.mean(np.abs(t - pb)))),
                     true_prob_drop=drop, hurt=hurt_rows(drop), params={"accuracy": "mean absolute error"})
    return found


def _explanations(a: Model, b: Model, data: Any, predicted_a: np.ndarray, disagreeing: np.ndarray,
                  opts: dict[str, Any]) -> dict[str, Any]:
    """The same method on the same rows for both, for A's predicted class."""
    n = len(predicted_a)
    rng = np.random.default_rng(opts["seed"])
    wanted = n if opts["rows"] is None else min(n, opts["rows"])
    sample = np.sort(rng.choice(n, size=wanted, replace=False)) if wanted < n else np.arange(n)
    extra = np.setdiff1d(disagreeing, sample)[:wanted]
    explained = np.union1d(sample, extra)
    sampled = np.isin(explained, sample)
    target = predicted_a[explained].astype(np.int64) if a.task == "classification" else None
    chosen, note = opts["method"], None
    rows = subset(data, explained)
    try:
        attr_a = attribute(a, rows, method=chosen, target=target, seed=opts["seed"])
        attr_b = attribute(b, rows, method=chosen, target=target, seed=opts["seed"])
    except ExplainError as err:
        if chosen == FALLBACK:
            raise
        note = f"{chosen} could not run on both models ({err}); {FALLBACK} was used instead."
        chosen = FALLBACK
        attr_a = attribute(a, rows, method=chosen, target=target, seed=opts["seed"])
        attr_b = attribute(b, rows, method=chosen, target=target, seed=opts["seed"])
    units = int(np.prod(attr_a.values.shape[2:] if attr_a.modality == "image" else attr_a.values.shape[1:]))
    k = opts["k"] or (max(1, round(0.1 * units)) if attr_a.modality == "image" else min(5, units))
    measures = map_agreement(attr_a.values, attr_b.values, attr_a.modality, k)
    params = {"method_note": note} if note else {}
    return {"method": chosen, "explained": explained, "sampled": sampled, "k": int(k),
            "attributions_a": attr_a.values, "attributions_b": attr_b.values,
            "feature_names": attr_a.feature_names, **measures, "params": params}


def _robustness(a: Model, b: Model, data: Any, targets: Any, attack: str, epsilons: Any,
                batch_size: int | None, options: dict[str, Any]) -> dict[str, Any]:
    curve_a = robustness(a, data, targets, attack=attack, epsilons=epsilons, batch_size=batch_size, **options).curve
    curve_b = robustness(b, data, targets, attack=attack, epsilons=epsilons, batch_size=batch_size, **options).curve
    return {"epsilons": curve_a["epsilon"].to_numpy(), "robust_accuracy_a": curve_a["accuracy"].to_numpy(),
            "robust_accuracy_b": curve_b["accuracy"].to_numpy()}


def _coverage(a: Model, b: Model, data: Any, targets: Any, n: int, alpha: float, seed: int) -> tuple[float, float]:
    order = np.random.default_rng(seed).permutation(n)
    cal, test = np.sort(order[: n // 2]), np.sort(order[n // 2:])
    y = None if targets is None else np.asarray(targets)
    pair = []
    for model in (a, b):
        predictor = conformal(model, subset(data, cal), None if y is None else y[cal], alpha=alpha)
        pair.append(float(predictor.coverage(subset(data, test), None if y is None else y[test])))
    return pair[0], pair[1]


def _merge(fields: dict[str, Any], found: dict[str, Any]) -> None:
    """Add ``found`` to ``fields``, their ``params`` (notes) merged."""
    params = {**fields.get("params", {}), **found.pop("params", {})}
    fields.update(found, params=params)


def _stepper(progress: Callable[[float], None] | None, steps: int) -> Callable[[], None]:
    done = [0]

    def step() -> None:
        done[0] += 1
        if progress is not None:
            progress(min(1.0, done[0] / steps))

    return step
