"""Maskers for Shapley values: what a feature becomes when it leaves the coalition.

A masker turns one example and a batch of coalitions ``z`` (rows of 0/1 over the
``n_features`` features) into model outputs ``v(z)`` for the target, averaged over
the replacement values (the background rows, or one blurred / masked copy).
Tabular: features are columns, replaced by background rows (interventional).
Image: features are square patches, replaced by a blurred copy (default), the
background images, or a constant. Text: features are the tokens between the
special tokens, replaced by the tokenizer's mask token.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from explain.core.batch import Batch
from explain.core.model import Model
from explain.errors import InputError


class Masker:
    """Evaluates coalitions of one example's features through the model."""

    n_features: int
    description: str

    def __init__(self, model: Model, batch: Batch, rows_per_call: int) -> None:
        self.model, self.batch, self.rows_per_call = model, batch, rows_per_call

    def features_of(self, i: int) -> int:
        """How many features example ``i`` has (text examples differ in length)."""
        return self.n_features

    def values(self, i: int, target: int, z: torch.Tensor) -> torch.Tensor:
        """v(z) for example ``i``: a float64 vector with one value per coalition."""
        raise NotImplementedError

    def spread(self, phi: torch.Tensor) -> torch.Tensor:
        """Per-feature values (n, n_features) -> values of the inputs' shape."""
        return phi

    def _forward(self, *args: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model.forward_module(*args)


def _chunks(z: torch.Tensor, rows: int, per_row: int) -> list[torch.Tensor]:
    size = max(1, rows // max(1, per_row))
    return list(torch.split(z, size))


class TabularMasker(Masker):
    def __init__(self, model: Model, batch: Batch, background: torch.Tensor, weights: torch.Tensor,
                 rows_per_call: int) -> None:
        super().__init__(model, batch, rows_per_call)
        self.background, self.weights = background, weights / weights.sum()
        self.n_features = batch.x.shape[1]
        self.description = f"interventional: absent features take the values of {len(background)} background rows"

    def values(self, i: int, target: int, z: torch.Tensor) -> torch.Tensor:
        x, bg = self.batch.x[i], self.background
        out = []
        for part in _chunks(z, self.rows_per_call, len(bg)):
            keep = part.to(torch.bool)[:, None, :]
            rows = torch.where(keep, x[None, None, :], bg[None, :, :]).reshape(-1, x.shape[0])
            y = self._forward(rows)[:, target].double().reshape(len(part), len(bg))
            out.append(y @ self.weights.double())
        return torch.cat(out)


class ImageMasker(Masker):
    def __init__(self, model: Model, batch: Batch, patch: int | None, fill: Any, rows_per_call: int) -> None:
        super().__init__(model, batch, rows_per_call)
        _, c, h, w = batch.x.shape
        self.patch = int(patch or max(1, math.ceil(min(h, w) / 8)))
        rows = torch.arange(h, device=batch.x.device) // self.patch
        cols = torch.arange(w, device=batch.x.device) // self.patch
        self.grid = rows[:, None] * math.ceil(w / self.patch) + cols[None, :]
        self.n_features = int(self.grid.max()) + 1
        self.fill = fill
        if isinstance(fill, torch.Tensor):
            self.description = f"absent patches take the pixels of {len(fill)} background images"
        elif fill == "blur":
            self.description = "absent patches are blurred"
        else:
            self.description = f"absent patches are set to {float(fill)}"

    def _replacements(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.fill, torch.Tensor):
            return self.fill
        if self.fill == "blur":
            k = max(3, (min(x.shape[-2:]) // 4) | 1)
            blurred = x[None]
            for _ in range(2):
                blurred = F.avg_pool2d(blurred, k, stride=1, padding=k // 2, count_include_pad=False)
            return blurred
        return torch.full_like(x[None], float(self.fill))

    def values(self, i: int, target: int, z: torch.Tensor) -> torch.Tensor:
        x = self.batch.x[i]
        fill = self._replacements(x)
        out = []
        for part in _chunks(z, self.rows_per_call, len(fill)):
            keep = part.to(torch.bool)[:, self.grid][:, None, None]  # (m, 1, 1, H, W)
            images = torch.where(keep, x[None, None], fill[None]).reshape(-1, *x.shape)
            y = self._forward(images)[:, target].double().reshape(len(part), len(fill))
            out.append(y.mean(dim=1))
        return torch.cat(out)

    def spread(self, phi: torch.Tensor) -> torch.Tensor:
        sizes = torch.bincount(self.grid.flatten()).to(phi.dtype)
        per_pixel = phi[:, self.grid] / sizes[self.grid]
        channels = self.batch.x.shape[1]
        return (per_pixel[:, None] / channels).expand(-1, channels, -1, -1)


class TextMasker(Masker):
    """Token features: every real token that is not a special token."""

    def __init__(self, model: Model, batch: Batch, rows_per_call: int) -> None:
        super().__init__(model, batch, rows_per_call)
        tokenizer = model.tokenizer
        self.mask_id = next(
            (t for t in (tokenizer.mask_token_id, tokenizer.unk_token_id, tokenizer.pad_token_id) if t is not None), 0
        )
        special = torch.zeros_like(batch.x, dtype=torch.bool)
        for token_id in tokenizer.all_special_ids:
            special |= batch.x == token_id
        self.positions = [torch.nonzero(~special[i] & batch.attention_mask[i].bool()).flatten()
                          for i in range(batch.n)]
        self.n_features = max((len(p) for p in self.positions), default=0)
        self.description = f"absent tokens become {tokenizer.convert_ids_to_tokens(self.mask_id)}"

    def features_of(self, i: int) -> int:
        return len(self.positions[i])

    def values(self, i: int, target: int, z: torch.Tensor) -> torch.Tensor:
        ids, mask, where = self.batch.x[i], self.batch.attention_mask[i], self.positions[i]
        out = []
        embed = self.model.embeddings()
        for part in _chunks(z, self.rows_per_call, 1):
            rows = ids[None].repeat(len(part), 1)
            absent = ~part.to(torch.bool)
            rows[:, where] = torch.where(absent, torch.full_like(rows[:, where], self.mask_id), rows[:, where])
            with torch.no_grad():
                y = self._forward(embed(rows), mask[None].expand(len(part), -1))
            out.append(y[:, target].double())
        return torch.cat(out)

    def spread(self, phi: torch.Tensor) -> torch.Tensor:
        """Per-token values, left-aligned over the real tokens (special tokens get 0)."""
        mask = self.batch.attention_mask.bool().cpu()
        width = int(mask.sum(dim=1).max())
        out = torch.zeros(phi.shape[0], width, dtype=phi.dtype)
        for i, where in enumerate(self.positions):
            real = torch.nonzero(mask[i]).flatten()
            slot = {int(p): k for k, p in enumerate(real)}
            for j, p in enumerate(where.cpu()):
                out[i, slot[int(p)]] = phi[i, j]
        return out


def make_masker(model: Model, batch: Batch, background: torch.Tensor | None, weights: torch.Tensor | None,
                masker: Any, patch: int | None, rows_per_call: int) -> Masker:
    """Choose the masker for the model's modality and the user's ``masker`` option."""
    if model.modality == "tabular":
        if background is None or weights is None:
            raise InputError("Tabular Shapley values need background rows.")
        return TabularMasker(model, batch, background, weights, rows_per_call)
    if model.modality == "image":
        if masker in (None, "blur"):
            fill: Any = background if (background is not None and masker is None) else "blur"
        elif masker == "background":
            if background is None:
                raise InputError("masker='background' needs background images: pass background=...")
            fill = background
        elif isinstance(masker, (int, float)):
            fill = float(masker)
        else:
            raise InputError(f"Image masker must be 'blur', 'background' or a number, got {masker!r}.")
        return ImageMasker(model, batch, patch, fill, rows_per_call)
    return TextMasker(model, batch, rows_per_call)
