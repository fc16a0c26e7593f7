"""The statistics of :func:`explain.slices`: a slice against the rest of the rows, two-sided,
and Holm's correction for the number of slices compared. Plain numpy and ``math``: no scipy.

- Error rates: Fisher's exact test where a cell of the 2x2 table (slice or rest, wrong or
  right) expects fewer than 5 rows, else the pooled two-proportion z-test.
- Mean absolute errors: Welch's t-test; Student's t interval of a mean. The t distribution
  comes from the regularised incomplete beta function (a continued fraction).
- Holm's step-down adjustment keeps the chance of flagging any slice by chance at ``alpha``
  (the family-wise error rate), however many slices are compared.

Example:
    >>> round(fisher_exact(3, 1, 1, 3), 4)  # scipy.stats.fisher_exact([[3, 1], [1, 3]])
    0.4857
    >>> round(t_sf(2.0, 5), 5)  # scipy.stats.t.sf(2.0, 5)
    0.05097
    >>> holm(np.array([0.01, 0.04, 0.03, np.nan])).tolist()
    [0.03, 0.06, 0.06, nan]
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["z_quantile", "t_sf", "t_quantile", "fisher_exact", "two_proportions", "rates_p_value",
           "welch", "mean_interval", "holm"]

_TINY = 1e-300


def z_quantile(level: float) -> float:
    """The standard normal quantile of a two-sided interval at ``level`` (1.96 at 0.95)."""
    return NormalDist().inv_cdf((1 + level) / 2)


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 100_000):
        for aa in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                   -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _beta_regularised(a: float, b: float, x: float) -> float:
    """``I_x(a, b)``, the regularised incomplete beta function."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1 - x) / b


def t_sf(t: float, df: float) -> float:
    """``P(T > t)`` for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _beta_regularised(df / 2, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_quantile(level: float, df: float) -> float:
    """The t quantile of a two-sided interval at ``level`` (bisection on :func:`t_sf`)."""
    target, low, high = (1 - level) / 2, 0.0, 1.0
    while t_sf(high, df) > target:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if t_sf(middle, df) > target else (low, middle)
    return (low + high) / 2


def _hypergeometric_log(k: int, successes: int, draws: int, total: int) -> float:
    return (math.lgamma(successes + 1) - math.lgamma(k + 1) - math.lgamma(successes - k + 1)
            + math.lgamma(total - successes + 1) - math.lgamma(draws - k + 1)
            - math.lgamma(total - successes - draws + k + 1)
            - math.lgamma(total + 1) + math.lgamma(draws + 1) + math.lgamma(total - draws + 1))


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test on ``[[a, b], [c, d]]``: the probability,
    given the margins, of a table no more likely than this one (as scipy's, with its
    relative tolerance of 1e-7)."""
    total, draws, successes = a + b + c + d, a + b, a + c
    low, high = max(0, draws - (total - successes)), min(draws, successes)
    logs = np.array([_hypergeometric_log(k, successes, draws, total) for k in range(low, high + 1)])
    observed = logs[a - low]
    return float(min(1.0, np.exp(logs[logs <= observed + math.log1p(1e-7)]).sum()))


def two_proportions(e1: float, n1: float, e2: float, n2: float) -> float:
    """Two-sided p-value of the pooled z-test that ``e1 / n1`` and ``e2 / n2`` are equal."""
    pooled = (e1 + e2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return math.erfc(abs(e1 / n1 - e2 / n2) / se / math.sqrt(2))


def rates_p_value(e1: int, n1: int, e2: int, n2: int) -> tuple[str, float]:
    """The test of two error rates (``e`` errors in ``n`` rows) and its two-sided p-value:
    ``"fisher"`` when a cell of the 2x2 table expects fewer than 5 rows, else ``"z"``."""
    total, errors = n1 + n2, e1 + e2
    expected = min(n1 * errors, n1 * (total - errors), n2 * errors, n2 * (total - errors)) / total
    if expected < 5:
        return "fisher", fisher_exact(e1, n1 - e1, e2, n2 - e2)
    return "z", two_proportions(e1, n1, e2, n2)


def welch(first: np.ndarray, second: np.ndarray) -> float:
    """Two-sided p-value of Welch's t-test that two means are equal (NaN with fewer than
    two values on a side)."""
    n1, n2 = len(first), len(second)
    if n1 < 2 or n2 < 2:
        return float("nan")
    v1, v2 = float(np.var(first, ddof=1)) / n1, float(np.var(second, ddof=1)) / n2
    gap = float(np.mean(first) - np.mean(second))
    if v1 + v2 == 0:
        return 1.0 if gap == 0 else 0.0
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    return min(1.0, 2 * t_sf(abs(gap) / math.sqrt(v1 + v2), df))


def mean_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """Student's t interval of the mean of ``values`` (NaN with fewer than two)."""
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    mean, half = float(np.mean(values)), t_quantile(level, n - 1) * float(np.std(values, ddof=1)) / math.sqrt(n)
    return mean - half, mean + half


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and does not count as a test)."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = len(order)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order]) if m else np.zeros(0)
    out[order] = np.minimum(adjusted, 1.0)
    return out
