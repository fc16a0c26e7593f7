"""The numpy measures :func:`explain.compare` reports: McNemar's exact test on the flip
set, backward trust and error compatibility (Bansal et al., 2019), the rows compression
hurts most (Hooker et al., 2019) and Krishna et al.'s (2022) agreement of two attribution maps.

Example:
    >>> import numpy as np
    >>> truth = np.array([0, 1, 1, 0, 1])
    >>> a, b = np.array([0, 1, 1, 1, 1]), np.array([0, 1, 0, 1, 0])
    >>> trust(truth, a, b)  # A right on 0, 1, 2, 4; B keeps 0 and 1
    (0.5, 0.6666666666666666)
    >>> flip_counts(truth == a, truth == b), mcnemar_p(2, 0)
    ({'a_right_b_wrong': 2, 'a_wrong_b_right': 0}, 0.5)
"""

from __future__ import annotations

import math

import numpy as np

from explain.quality.similarity import spearman_rows, top_k_overlap, unit_maps

__all__ = ["mcnemar_p", "flip_counts", "trust", "hurt_rows", "map_agreement", "rank_agreement"]


def mcnemar_p(b: int, c: int) -> float:
    """The exact two-sided McNemar p-value of ``b`` and ``c`` discordant pairs: the binomial
    test of ``min(b, c)`` successes in ``b + c`` trials at 1/2 (statsmodels'
    ``mcnemar(exact=True)``, scipy's ``binomtest(b, b + c).pvalue``); 1 with none.

    Example:
        >>> round(mcnemar_p(10, 2), 6), mcnemar_p(0, 0), mcnemar_p(3, 3)
        (0.038574, 1.0, 1.0)
    """
    n = int(b) + int(c)
    if n == 0:
        return 1.0
    low = min(int(b), int(c))
    tail = sum(math.comb(n, i) for i in range(low + 1)) / 2.0**n
    return float(min(1.0, 2.0 * tail))


def flip_counts(right_a: np.ndarray, right_b: np.ndarray) -> dict[str, int]:
    """The discordant pairs: rows A gets right and B wrong, and the other way round."""
    right_a, right_b = np.asarray(right_a, dtype=bool), np.asarray(right_b, dtype=bool)
    return {"a_right_b_wrong": int((right_a & ~right_b).sum()), "a_wrong_b_right": int((~right_a & right_b).sum())}


def trust(truth: np.ndarray, predicted_a: np.ndarray, predicted_b: np.ndarray) -> tuple[float, float]:
    """Backward trust (the share of A's right rows that B also gets right; 1 when A has
    none) and the share of B's errors that are new (A got those rows right; 0 when B has none)."""
    right_a, right_b = np.asarray(truth) == np.asarray(predicted_a), np.asarray(truth) == np.asarray(predicted_b)
    kept = float((right_a & right_b).sum() / right_a.sum()) if right_a.any() else 1.0
    new = float((right_a & ~right_b).sum() / (~right_b).sum()) if (~right_b).any() else 0.0
    return kept, new


def hurt_rows(drop: np.ndarray, most: int = 20) -> np.ndarray:
    """Positions of the rows with the largest positive ``drop``, largest first (ties by position).

    Example:
        >>> hurt_rows(np.array([0.1, -0.2, 0.5, 0.0, 0.1])).tolist()
        [2, 0, 4]
    """
    d = np.asarray(drop, dtype=np.float64)
    order = np.argsort(-d, kind="stable")
    return order[d[order] > 0][:most]


def rank_agreement(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Per row: the share of the top-``k`` positions (by value, largest first) that hold the
    same feature in both maps (Krishna et al.'s rank agreement).

    Example:
        >>> rank_agreement(np.array([[3.0, 2, 1]]), np.array([[3.0, 1, 2]]), 2).tolist()
        [0.5]
    """
    a2, b2 = (np.asarray(m, dtype=np.float64).reshape(len(m), -1) for m in (a, b))
    kk = max(1, min(k, a2.shape[1]))
    top_a = np.argsort(-a2, axis=1, kind="stable")[:, :kk]
    top_b = np.argsort(-b2, axis=1, kind="stable")[:, :kk]
    return (top_a == top_b).mean(axis=1)


def map_agreement(values_a: np.ndarray, values_b: np.ndarray, modality: str,
                  k: int) -> dict[str, np.ndarray]:
    """Per row: Spearman correlation of |attribution|, and the feature (top-k overlap),
    rank and sign agreement of the top ``k`` units (pixels summed over channels for images).

    Example:
        >>> v = np.array([[0.5, -1.0, 0.1]])
        >>> {name: m.tolist() for name, m in map_agreement(v, v, "tabular", 2).items()}
        {'spearman': [1.0], 'top_k_overlap': [1.0], 'rank_agreement': [1.0], 'sign_agreement': [1.0]}
    """
    maps = [unit_maps(v, modality) for v in (values_a, values_b)]
    signed = [unit_maps(v, modality, signed=True) for v in (values_a, values_b)]
    if len(maps[0]) == 0:
        empty = np.zeros(0)
        return {"spearman": empty, "top_k_overlap": empty, "rank_agreement": empty, "sign_agreement": empty}
    overlap, signs = top_k_overlap(maps[0], maps[1], k, None, (signed[0], signed[1]))
    rho = np.clip(spearman_rows(maps[0], maps[1]), -1.0, 1.0)
    same = (maps[0] == maps[1]).reshape(len(rho), -1).all(axis=1)
    rho[same] = 1.0  # equal maps: exactly 1, not 1 less a rounding error
    return {"spearman": rho, "top_k_overlap": overlap,
            "rank_agreement": rank_agreement(maps[0], maps[1], k), "sign_agreement": signs}
