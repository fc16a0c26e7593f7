"""Similarity of attribution maps, one per example: Spearman, SSIM and top-k overlap.

Shared by the quality checks and the robustness section.

All compare one map per example. Maps are absolute attributions per unit: per feature
(tabular), per pixel summed over channels (images), per token (text, each example over
its own tokens), as Adebayo et al. (2018) compare them.

Example:
    >>> import numpy as np
    >>> a = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    >>> spearman_rows(a, np.array([[2.0, 4.0, 9.0], [3.0, 2.0, 1.0]])).round(6).tolist()
    [1.0, -1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["unit_maps", "spearman_rows", "ssim", "top_k_overlap", "lengths_of"]


def unit_maps(values: np.ndarray, modality: str, *, signed: bool = False) -> np.ndarray:
    """Attributions per unit: tabular ``(n, f)``, images ``(n, h, w)`` (channels summed),
    text ``(n, tokens)``; absolute values unless ``signed``."""
    v = np.asarray(values, dtype=np.float64)
    if modality == "image":
        return v.sum(axis=1) if signed else np.abs(v).sum(axis=1)
    return v if signed else np.abs(v)


def lengths_of(tokens: Sequence[Sequence[str]] | None, n: int, width: int) -> np.ndarray:
    """How many units each example has: its tokens (text), else all of them."""
    if tokens is None:
        return np.full(n, width, dtype=np.int64)
    return np.array([len(t) for t in tokens], dtype=np.int64)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1 along the last axis, ties sharing their average rank."""
    v = np.asarray(values, dtype=np.float64)
    flat = v.reshape(-1, v.shape[-1]) if v.ndim else v.reshape(1, 1)
    out = np.empty_like(flat)
    for i, row in enumerate(flat):
        order = np.argsort(row, kind="stable")
        ordered = row[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        ends = np.r_[starts[1:], len(row)]
        average = (starts + ends + 1) / 2.0  # mean of the 1-based positions start+1..end
        out[i, order] = np.repeat(average, ends - starts)
    return out.reshape(v.shape)


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    na = np.sqrt((a * a).sum(axis=-1))
    nb = np.sqrt((b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=-1) / (na * nb)


def spearman_rows(a: np.ndarray, b: np.ndarray, lengths: np.ndarray | None = None, *,
                  skip_zeros: bool = False) -> np.ndarray:
    """Spearman rank correlation between ``a[i]`` and ``b[i]`` for each example ``i``.

    Maps are flattened per example; ``lengths`` limits each example to its first units
    (text). With ``skip_zeros``, units that are exactly zero in both maps are left out
    (their tie says nothing about how the maps rank the rest). A map that is constant
    has no ranking: two equal maps score 1, else 0.
    """
    a2 = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b2 = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    widths = np.full(len(a2), a2.shape[1]) if lengths is None else np.asarray(lengths)
    if not skip_zeros and (widths == a2.shape[1]).all():
        out = _pearson_rows(_ranks(a2), _ranks(b2))
    else:
        out = np.full(len(a2), np.nan)
        for i, k in enumerate(widths):
            u, v = a2[i, :k], b2[i, :k]
            if skip_zeros:
                keep = (u != 0) | (v != 0)
                u, v = u[keep], v[keep]
            if len(u) > 1:
                out[i] = _pearson_rows(_ranks(u), _ranks(v))
    for i in np.flatnonzero(~np.isfinite(out)):
        k = int(widths[i])
        out[i] = 1.0 if np.allclose(a2[i, :k], b2[i, :k]) else 0.0
    return out


def _gaussian_window(sigma: float, radius: int) -> torch.Tensor:
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    w = torch.exp(-(offsets**2) / (2 * sigma**2))
    return w / w.sum()


def ssim(a: np.ndarray, b: np.ndarray, *, sigma: float = 1.5, data_range: float = 1.0,
         k1: float = 0.01, k2: float = 0.03) -> np.ndarray:
    """Mean structural similarity (Wang et al., 2004) of two batches of 2-D maps, ``(n,)``.

    Local means, variances and the covariance are taken under a Gaussian window of
    standard deviation ``sigma`` truncated at 3.5 sigma (an 11-pixel window for 1.5),
    with the maps mirrored at their borders so the index covers every pixel; then
    ``SSIM = (2 mu_a mu_b + C1)(2 s_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(s_a^2 + s_b^2 + C2))``
    with ``C1 = (k1 L)^2``, ``C2 = (k2 L)^2``, ``L = data_range``, averaged over pixels.
    Maps smaller than the window get a window truncated to fit.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((2, 8, 8))
        >>> ssim(x, x).round(6).tolist()
        [1.0, 1.0]
    """
    x = torch.as_tensor(np.asarray(a, dtype=np.float64)).unsqueeze(1)
    y = torch.as_tensor(np.asarray(b, dtype=np.float64)).unsqueeze(1)
    h, w = x.shape[-2:]
    radius = min(int(3.5 * sigma + 0.5), h - 1, w - 1)
    if radius < 1:
        return np.where(np.isclose(x.flatten(1), y.flatten(1)).all(dim=1).numpy(), 1.0, 0.0)
    g = _gaussian_window(sigma, radius)
    rows, cols = g.view(1, 1, -1, 1), g.view(1, 1, 1, -1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        t = F.pad(t, (radius, radius, radius, radius), mode="reflect")
        return F.conv2d(F.conv2d(t, rows), cols)

    mu_x, mu_y = blur(x), blur(y)
    var_x = (blur(x * x) - mu_x**2).clamp(min=0.0)
    var_y = (blur(y * y) - mu_y**2).clamp(min=0.0)
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return index.flatten(1).mean(dim=1).numpy()


def normalised(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its largest value (all-zero maps stay zero), for SSIM."""
    m = np.asarray(maps, dtype=np.float64)
    top = m.reshape(len(m), -1).max(axis=1)
    top = np.where(top > 0, top, 1.0)
    return m / top.reshape((-1,) + (1,) * (m.ndim - 1))


def top_k_overlap(a: np.ndarray, b: np.ndarray, k: int, lengths: np.ndarray | None = None,
                  signs: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per example: the fraction of the top-``k`` units of ``a`` also in ``b``'s top-k,
    and the fraction of k of those shared units whose ``signs`` agree too."""
    a2 = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b2 = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    sa = sb = None
    if signs is not None:
        sa, sb = (np.sign(np.asarray(s, dtype=np.float64).reshape(len(a), -1)) for s in signs)
    overlap, agree = np.zeros(len(a2)), np.zeros(len(a2))
    for i in range(len(a2)):
        width = a2.shape[1] if lengths is None else int(lengths[i])
        kk = max(1, min(k, width))
        top_a = np.argsort(-a2[i, :width], kind="stable")[:kk]
        top_b = np.argsort(-b2[i, :width], kind="stable")[:kk]
        shared = np.intersect1d(top_a, top_b)
        overlap[i] = len(shared) / kk
        if sa is not None and sb is not None:
            agree[i] = float((sa[i, shared] == sb[i, shared]).sum()) / kk
    return overlap, agree
