"""Deletion and insertion curves (Petsiuk et al., 2018) for tabular, image and text models.

An input is split into units: features (tabular), pixels with all their channels or
square patches (images), and tokens other than the special ones (text). A ranking of
the units (by attribution, or random) says in which order they are removed: deletion
replaces the first ``k`` units by the baseline, insertion starts from the baseline and
puts the first ``k`` back. The curve is the model's score of the target (softmax
probability for classifiers, the raw output for regressions) at each fraction ``k/U``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from explain.core.batch import Batch
from explain.core.model import Model

__all__ = ["Units", "default_patch"]

# images up to this side are taken per pixel; larger ones in patches (a ~32x32 grid)
_PIXEL_LIMIT = 64


def default_patch(height: int, width: int) -> int:
    """Pixels for images up to 64x64, else square patches of ``ceil(max side / 32)``."""
    side = max(height, width)
    return 1 if side <= _PIXEL_LIMIT else math.ceil(side / 32)


class Units:
    """The removable units of a batch, and the curves of rankings of them.

    Args:
        model: the model.
        batch: the prepared inputs.
        baseline: tabular and image: what removed units become, ``(1, ...)`` or the
            batch's shape; text: ignored (removed tokens become [PAD]).
        patch: images: the side of the square patches (1 = pixels).
    """

    def __init__(self, model: Model, batch: Batch, baseline: torch.Tensor | None, patch: int = 1) -> None:
        self.model, self.batch, self.n = model, batch, batch.n
        self.modality = model.modality
        if self.modality == "text":
            from explain.attribution.attributions import pad_ids

            self.pad_ids = pad_ids(model, batch)
            mask = batch.attention_mask.bool()
            real = [torch.nonzero(mask[i]).flatten() for i in range(self.n)]
            # a unit is a real (unmasked) position holding no special token; values of
            # text attributions are left-aligned over the real positions
            self.value_index = [
                torch.nonzero(~_is_special(model, batch.x[i, r])).flatten() for i, r in enumerate(real)
            ]
            self.positions = [r[v] for r, v in zip(real, self.value_index)]
            self.counts = np.array([len(p) for p in self.positions], dtype=np.int64)
            self.unit_map = None
            self.unit = "token"
        else:
            self.baseline = baseline
            shape = tuple(batch.x.shape[1:])
            if self.modality == "image":
                h, w = shape[1:]
                rows = torch.arange(h) // patch
                cols = torch.arange(w) // patch
                self.unit_map = (rows[:, None] * math.ceil(w / patch) + cols[None, :]).to(batch.x.device)
                n_units = int(self.unit_map.max()) + 1
                self.unit = "pixel" if patch == 1 else f"{patch}x{patch} patch"
            else:
                self.unit_map = torch.arange(int(np.prod(shape)), device=batch.x.device).reshape(shape)
                n_units = int(np.prod(shape))
                self.unit = "feature"
            self.counts = np.full(self.n, n_units, dtype=np.int64)
        self.width = int(self.counts.max()) if self.n else 0

    # --- scores and rankings --------------------------------------------------------
    def scores(self, values: np.ndarray) -> np.ndarray:
        """Signed attribution per unit, ``(n, width)``; NaN past an example's units."""
        v = np.asarray(values, dtype=np.float64)
        out = np.full((self.n, self.width), np.nan)
        if self.modality == "text":
            for i, index in enumerate(self.value_index):
                out[i, : len(index)] = v[i, index.cpu().numpy()]
            return out
        if self.modality == "image":
            per_pixel = v.sum(axis=1).reshape(self.n, -1)
            flat = self.unit_map.flatten().cpu().numpy()
            out[:] = 0.0
            np.add.at(out, (slice(None), flat), per_pixel)
            return out
        return v.reshape(self.n, -1)

    def ranks(self, scores: np.ndarray) -> np.ndarray:
        """Rank of each unit, 0 = removed first (largest score; ties in unit order)."""
        keyed = np.where(np.isnan(scores), -np.inf, scores)
        order = np.argsort(-keyed, axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(self.width)[None, :].repeat(self.n, 0), axis=1)
        return ranks

    def random_ranks(self, rng: np.random.Generator) -> np.ndarray:
        """A uniformly random ranking of each example's units."""
        ranks = np.tile(np.arange(self.width), (self.n, 1))
        for i, count in enumerate(self.counts):
            ranks[i, :count] = rng.permutation(count)
        return ranks

    def _element_ranks(self, ranks: np.ndarray, rows: slice) -> torch.Tensor:
        """Each input element's unit rank, shaped like the inputs (text: positions)."""
        r = torch.as_tensor(ranks[rows], device=self.batch.x.device)
        if self.modality == "text":
            out = torch.full(self.batch.x[rows].shape, np.iinfo(np.int64).max, device=r.device)
            for j, i in enumerate(range(*rows.indices(self.n))):
                out[j, self.positions[i]] = r[j, : int(self.counts[i])]
            return out
        element = r[:, self.unit_map.flatten()].reshape((r.shape[0], *self.unit_map.shape))
        return element.unsqueeze(1) if self.modality == "image" else element

    # --- curves ---------------------------------------------------------------------
    def curves(self, ranks: np.ndarray, fractions: np.ndarray, target: torch.Tensor, *,
               insertion: bool, batch_size: int) -> np.ndarray:
        """The score of the target after removing (or inserting) the first
        ``round(f * U)`` units, for each example and fraction: ``(n, len(fractions))``."""
        s = len(fractions)
        counts = torch.as_tensor(np.rint(np.outer(self.counts, fractions)).astype(np.int64))
        chunk = max(1, batch_size // s)
        out = np.zeros((self.n, s))
        for start in range(0, self.n, chunk):
            rows = slice(start, min(self.n, start + chunk))
            element = self._element_ranks(ranks, rows)
            k = counts[rows].to(element.device)
            picked = element.unsqueeze(1) < k.view(*k.shape, *([1] * (element.ndim - 1)))
            inputs = self._perturbed(rows, picked, insertion)
            scores = self._score(inputs, rows, target[rows], s, batch_size)
            out[rows] = scores.reshape(-1, s)
        return out

    def _perturbed(self, rows: slice, picked: torch.Tensor, insertion: bool) -> torch.Tensor:
        """Inputs with the picked units removed (deletion) or only those kept (insertion),
        ``(examples * fractions, ...)``."""
        if self.modality == "text":
            x, base = self.batch.x[rows].unsqueeze(1), self.pad_ids[rows].unsqueeze(1)
        else:
            x = self.batch.x[rows].unsqueeze(1)
            base = self.baseline if self.baseline.shape[0] == 1 else self.baseline[rows]
            base = base.unsqueeze(1)
        out = torch.where(picked, x, base) if insertion else torch.where(picked, base, x)
        return out.reshape(-1, *out.shape[2:])

    def _score(self, inputs: torch.Tensor, rows: slice, target: torch.Tensor, s: int,
               batch_size: int) -> np.ndarray:
        mask = None
        if self.modality == "text":
            mask = self.batch.attention_mask[rows].repeat_interleave(s, dim=0)
        t = target.to(inputs.device).repeat_interleave(s)
        scores = []
        with torch.no_grad():
            for start in range(0, inputs.shape[0], batch_size):
                part = slice(start, start + batch_size)
                batch = Batch(self.model, inputs[part], None if mask is None else mask[part])
                out = self.model.forward_module(*batch.forward_args()).float()
                if self.model.task == "classification":
                    out = torch.softmax(out, dim=1)
                scores.append(out.gather(1, t[part].view(-1, 1)).squeeze(1).cpu())
        return torch.cat(scores).numpy().astype(np.float64)

    # --- subsets, for infidelity ----------------------------------------------------
    def random_subsets(self, x: torch.Tensor, probability: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """A boolean mask shaped like ``x`` that picks each unit with ``probability``
        (all channels of a pixel or patch together)."""
        n_units = int(self.unit_map.max()) + 1
        pick = torch.rand((x.shape[0], n_units), generator=generator) < probability
        pick = pick.to(x.device)[:, self.unit_map.flatten()].reshape((x.shape[0], *self.unit_map.shape))
        if self.modality == "image":
            pick = pick.unsqueeze(1)
        return pick.expand_as(x)


def _is_special(model: Model, ids: torch.Tensor) -> torch.Tensor:
    special = torch.zeros_like(ids, dtype=torch.bool)
    for token_id in model.tokenizer.all_special_ids:
        special |= ids == token_id
    return special
