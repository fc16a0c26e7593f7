"""The statistics of error analysis: intervals, a cohort against the rest, and the false
discovery rate (Benjamini-Hochberg) over every cohort a search evaluated.

Classification errors are 0/1 (a wrong prediction): rates get Wilson intervals and the
likelihood-ratio test of the 2x2 table, continuity-corrected (as close to Fisher's exact
test in the far tail as multiple testing needs). Regression errors are absolute residuals: means get normal
intervals and Welch's test. Every test here is one-sided (does the cohort err *more*
than the rest?) except :func:`split_p_values`, which asks whether two sides differ.

Example:
    >>> low, high = wilson(np.array([8]), np.array([10]))
    >>> round(float(low[0]), 3), round(float(high[0]), 3)
    (0.49, 0.943)
    >>> p = rest_p_values(np.array([80, 5]), np.array([100, 100]), np.array([80, 5]), 185, 1000, 185,
    ...                   binary=True)
    >>> bool(p[0] < 1e-10), bool(p[1] > 0.99)
    (True, True)
    >>> bh_cutoff(np.array([0.001, 0.02, 0.04, 0.9]), 0.05)
    0.02
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Z95", "wilson", "mean_interval", "normal_sf", "rest_p_values", "split_p_values", "bh_cutoff"]

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


def wilson(errors: np.ndarray, size: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of the rates ``errors / size`` (95% by default)."""
    n = np.maximum(np.asarray(size, dtype=np.float64), 1e-300)
    p = np.asarray(errors, dtype=np.float64) / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(np.maximum(p * (1 - p) / n + z * z / (4 * n * n), 0.0))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def mean_interval(total: np.ndarray, squares: np.ndarray, size: np.ndarray,
                  z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """The normal interval (95% by default) of the means ``total / size``, from the sums
    of the values and of their squares (sample variance, ``ddof=1``)."""
    n = np.asarray(size, dtype=np.float64)
    mean = np.asarray(total, dtype=np.float64) / np.maximum(n, 1e-300)
    half = z * np.sqrt(_variance(total, squares, n) / np.maximum(n, 1e-300))
    return mean - half, mean + half


def normal_sf(z: np.ndarray) -> np.ndarray:
    """``P(Z > z)`` of a standard normal, accurate far into the tail."""
    values = np.asarray(z, dtype=np.float64)
    flat = [0.5 * math.erfc(v / math.sqrt(2.0)) for v in values.reshape(-1).tolist()]
    return np.array(flat, dtype=np.float64).reshape(values.shape)


def rest_p_values(errors: np.ndarray, size: np.ndarray, squares: np.ndarray, total_errors: float,
                  total_size: int, total_squares: float, *, binary: bool) -> np.ndarray:
    """One-sided p-values that each cohort errs more than the rows outside it.

    Args:
        errors: each cohort's sum of errors.
        size: each cohort's rows.
        squares: each cohort's sum of squared errors (equal to ``errors`` when binary).
        total_errors: the sum of errors over all rows.
        total_size: all rows.
        total_squares: the sum of squared errors over all rows.
        binary: 0/1 errors (a pooled two-proportion z-test); else Welch's test.
    """
    e1, n1, q1 = (np.asarray(a, dtype=np.float64) for a in (errors, size, squares))
    e2, n2, q2 = total_errors - e1, total_size - n1, total_squares - q1
    return _one_sided(e1, n1, q1, e2, n2, q2, binary=binary)


def split_p_values(errors: np.ndarray, size: np.ndarray, squares: np.ndarray, node_errors: float,
                   node_size: int, node_squares: float, *, binary: bool) -> np.ndarray:
    """Two-sided p-values that each split's left side (``errors``, ``size``, ``squares``)
    and its right side (the rest of the node) err at different rates."""
    e1, n1, q1 = (np.asarray(a, dtype=np.float64) for a in (errors, size, squares))
    e2, n2, q2 = node_errors - e1, node_size - n1, node_squares - q1
    more = _one_sided(e1, n1, q1, e2, n2, q2, binary=binary)
    less = _one_sided(e2, n2, q2, e1, n1, q1, binary=binary)
    return np.minimum(1.0, 2 * np.minimum(more, less))


def bh_cutoff(p_values: np.ndarray, alpha: float) -> float | None:
    """The largest p-value that the Benjamini-Hochberg procedure at ``alpha`` rejects,
    or None when it rejects none; a test passes when its p-value is at most this."""
    p = np.sort(np.asarray(p_values, dtype=np.float64).reshape(-1))
    if p.size == 0:
        return None
    passing = np.flatnonzero(p <= alpha * np.arange(1, p.size + 1) / p.size)
    return float(p[passing[-1]]) if passing.size else None


def _variance(total: np.ndarray, squares: np.ndarray, n: np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=np.float64)
    mean = np.asarray(total, dtype=np.float64) / np.maximum(n, 1e-300)
    return np.maximum(np.asarray(squares, dtype=np.float64) - n * mean * mean, 0.0) / np.maximum(n - 1, 1)


def _one_sided(e1: np.ndarray, n1: np.ndarray, q1: np.ndarray, e2: np.ndarray, n2: np.ndarray,
               q2: np.ndarray, *, binary: bool) -> np.ndarray:
    """``P(first mean > second mean)`` is no more than chance, from large-sample z statistics:
    0/1 errors use the signed root of the likelihood-ratio (G) statistic of the 2x2 table
    with a continuity correction (half an error taken off the first group), which keeps
    the far tail, where many tests are corrected for, as Fisher's exact test has it (the
    plain z-test there is too small by orders of magnitude on a hundred rows)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if binary:
            e1 = np.maximum(e1 - 0.5, 0.0)
            pooled = (e1 + e2) / (n1 + n2)
            g = 2 * (_loglik(e1, n1, e1 / n1) + _loglik(e2, n2, e2 / n2)
                     - _loglik(e1, n1, pooled) - _loglik(e2, n2, pooled))
            z = np.sign(e1 / n1 - e2 / n2) * np.sqrt(np.maximum(g, 0.0))
        else:
            m1, m2 = e1 / n1, e2 / n2
            se = np.sqrt(_variance(e1, q1, n1) / n1 + _variance(e2, q2, n2) / n2)
            z = np.where(se > 0, (m1 - m2) / np.where(se > 0, se, 1.0), np.where(m1 > m2, np.inf, 0.0))
    p = normal_sf(np.nan_to_num(z, nan=0.0))
    return np.where((n1 > 0) & (n2 > 0), p, 1.0)


def _loglik(errors: np.ndarray, size: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """The binomial log-likelihood of ``errors`` of ``size`` at ``rate`` (0 log 0 = 0)."""
    rate = np.clip(rate, 1e-300, 1.0)
    rest = np.clip(1 - rate, 1e-300, 1.0)
    return np.where(errors > 0, errors * np.log(rate), 0.0) + np.where(size - errors > 0, (size - errors) * np.log(rest), 0.0)
