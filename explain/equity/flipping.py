"""The flip probe: does the decision change when only the sensitive input does?

Each row is run again with its sensitive input columns set to each other value
(combination) observed in the data, everything else kept: a binary column is swapped, a
one-hot block has its 1 moved to each other column, a column of several values takes
each other value. A decision changes when the predicted class does (regression: every
prediction that moves counts, and how far it moves is reported). Outputs come through the
same scoring path as :func:`explain.performance`.

Example:
    >>> import numpy as np, torch, explain
    >>> net = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[0.0, -5.0], [0.0, 5.0]])); _ = net.bias.zero_()
    >>> model = explain.Model(net, modality="tabular", feature_names=["score", "group"])
    >>> x = np.column_stack([np.linspace(0, 1, 40), np.repeat([0.0, 1.0], 20)])
    >>> data = explain.Dataset(x, np.zeros(40, dtype=int), feature_names=["score", "group"])
    >>> explain.fairness(model, data, sensitive="group", bootstrap=0).flips.sentence()
    'changing only group changes 40 of 40 decisions (100.0%)'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.diagnostics.truth import Labelled, labelled_outputs
from explain.equity.grouping import Groups
from explain.results.fairness import FlipProbe

__all__ = ["flip_probe", "EXAMPLES"]

EXAMPLES = 5  # changed rows shown


def flip_probe(model: Model, data: Dataset, groups: Groups, found: Labelled, positive: int | None, *,
               batch_size: int | None = None) -> FlipProbe:
    """Run the flip probe of ``groups.inputs`` (every one a feature column of ``data``).

    ``found`` holds the model's outputs on ``data`` as they are; ``positive`` is the
    favourable class (None for a regression), whose probability's change is reported.
    """
    columns = [list(data.feature_names or ()).index(c) for c in groups.inputs]
    block = np.asarray(data.x)[:, columns]
    combos, first = np.unique(block, axis=0, return_index=True)
    combo_of = np.unique(block, axis=0, return_inverse=True)[1].reshape(-1)
    label = [groups.names[groups.codes[i]] for i in first]
    classifier = positive is not None
    before = found.predicted
    score = found.probabilities[:, positive] if classifier else found.predicted
    names = np.array(found.class_names or (), dtype=object)
    changed_any = np.zeros(len(block), dtype=bool)
    pairs = changed_pairs = 0
    moves: list[np.ndarray] = []
    shown: list[tuple[int, int, int, Any, Any]] = []
    for j, combo in enumerate(combos):
        picked = np.flatnonzero(combo_of != j)
        if not len(picked):
            continue
        x = data.x[picked].copy()
        x[:, columns] = combo
        again = labelled_outputs(model, x, found.truth[picked], batch_size=batch_size)
        after = again.predicted
        new_score = again.probabilities[:, positive] if classifier else after
        moved = np.abs(new_score - score[picked])
        changed = after != before[picked] if classifier else moved > 1e-6 * (1 + np.abs(score[picked]))
        changed_any[picked[changed]] = True
        pairs += len(picked)
        changed_pairs += int(changed.sum())
        moves.append(moved)
        for i in picked[changed][:EXAMPLES]:
            shown.append((int(i), int(combo_of[i]), j, before[i], after[np.searchsorted(picked, i)]))
    shown = sorted(shown)[:EXAMPLES]
    text = (lambda c: str(names[int(c)])) if classifier else (lambda v: f"{float(v):.4g}")
    moved_all = np.concatenate(moves) if moves else np.zeros(0)
    return FlipProbe(
        columns=groups.inputs, values=tuple(label), n=len(block), pairs=pairs, changed_rows=int(changed_any.sum()),
        changed_pairs=changed_pairs, mean_abs_change=float(moved_all.mean()) if len(moved_all) else 0.0,
        max_abs_change=float(moved_all.max()) if len(moved_all) else 0.0,
        example_rows=np.array([found.rows[s[0]] for s in shown], dtype=np.int64),
        example_from=tuple(label[s[1]] for s in shown), example_to=tuple(label[s[2]] for s in shown),
        example_before=tuple(text(s[3]) for s in shown), example_after=tuple(text(s[4]) for s in shown),
        task="classification" if classifier else "regression")
