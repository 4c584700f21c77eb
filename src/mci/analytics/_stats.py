"""Small, seeded statistics used by the diagnostics: bootstrap, Welch ANOVA, Holm, permutations.

Every random draw comes from a :class:`numpy.random.Generator` passed in, so the same inputs
and the same seed always give the same outputs.

Example:
    >>> import numpy as np
    >>> holm([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

ArrayLike = Sequence[float] | np.ndarray


def bootstrap_ratio_ci(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """Percentile bootstrap interval of ``sum(numerator) / sum(denominator)`` over units.

    Units (e.g. days) are resampled with replacement; each resample's ratio is the ratio of
    its sums, so for ``net_return`` over ``spend`` this is the spend-weighted ROI.

    Args:
        numerator: one value per unit.
        denominator: one value per unit (same length).
        n_boot: number of resamples.
        level: confidence level of the interval.
        rng: the random generator.

    Returns:
        ``(estimate, low, high)``; NaNs when there are no units or the denominator sums to 0.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> est, low, high = bootstrap_ratio_ci([2.0, 4.0, 6.0], [1.0, 2.0, 3.0], rng=rng)
        >>> (est, low, high)
        (2.0, 2.0, 2.0)
    """
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    if num.shape != den.shape:
        raise ValueError("numerator and denominator must have the same length")
    if num.size == 0 or den.sum() == 0:
        return (float("nan"),) * 3
    estimate = float(num.sum() / den.sum())
    idx = rng.integers(0, num.size, size=(n_boot, num.size))
    den_b = den[idx].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = num[idx].sum(axis=1) / den_b
    ratios = ratios[np.isfinite(ratios)]
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return estimate, float(low), float(high)


def bootstrap_stat_ci(
    values: ArrayLike,
    statistic: Callable[[np.ndarray], float],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator,
    rowwise: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[float, float, float]:
    """Percentile bootstrap interval of any ``statistic`` of one sample.

    Args:
        values: the sample (e.g. one entity's monthly ROI).
        statistic: a function of a 1-D array.
        n_boot: number of resamples.
        level: confidence level.
        rng: the random generator.
        rowwise: the same statistic of each row of a 2-D array, if there is one: the
            resamples are then computed at once (same draws, same result, no Python loop).

    Returns:
        ``(estimate, low, high)``; NaNs for an empty sample.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> est, low, high = bootstrap_stat_ci([1.0, 2.0, 3.0, 4.0], np.mean, rng=rng)
        >>> est, low <= est <= high
        (2.5, True)
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (float("nan"),) * 3
    estimate = float(statistic(x))
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        if rowwise is not None:
            draws = np.asarray(rowwise(x[idx]), dtype=float)
        else:
            draws = np.array([statistic(x[row]) for row in idx], dtype=float)
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return estimate, float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail])
    return estimate, float(low), float(high)


def cv(values: ArrayLike) -> float:
    """Coefficient of variation: sample standard deviation over the absolute mean.

    Returns NaN for fewer than two values or a zero mean.

    Example:
        >>> round(cv([4.0, 5.0, 6.0]), 3)
        0.2
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float("nan")
    mean = abs(float(x.mean()))
    return float(x.std(ddof=1) / mean) if mean else float("nan")


def cv_rows(matrix: ArrayLike) -> np.ndarray:
    """:func:`cv` of each row of a 2-D array.

    Example:
        >>> cv_rows([[4.0, 5.0, 6.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]).round(3).tolist()
        [0.2, 0.0, nan]
    """
    m = np.asarray(matrix, dtype=float)
    if m.shape[-1] < 2:
        return np.full(m.shape[:-1], np.nan)
    mean = np.abs(m.mean(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, m.std(axis=-1, ddof=1) / mean, np.nan)


def welch_anova(groups: Sequence[ArrayLike]) -> tuple[float, float]:
    """Welch's one-way ANOVA (unequal variances): are the group means equal?

    Groups with fewer than two values or zero variance are left out.

    Args:
        groups: the samples, one per group.

    Returns:
        ``(F, p)``; ``(nan, nan)`` when fewer than two groups are usable.

    Example:
        >>> f, p = welch_anova([[1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.5]])
        >>> round(f, 2), p < 0.01
        (13.11, True)
    """
    arrays = [np.asarray(g, dtype=float) for g in groups]
    arrays = [a[np.isfinite(a)] for a in arrays]
    arrays = [a for a in arrays if a.size >= 2 and a.var(ddof=1) > 0]
    k = len(arrays)
    if k < 2:
        return float("nan"), float("nan")
    n = np.array([a.size for a in arrays], dtype=float)
    means = np.array([a.mean() for a in arrays])
    variances = np.array([a.var(ddof=1) for a in arrays])
    w = n / variances
    total = w.sum()
    grand = (w * means).sum() / total
    a_term = (w * (means - grand) ** 2).sum() / (k - 1)
    lam = ((1.0 - w / total) ** 2 / (n - 1)).sum()
    b_term = 1.0 + 2.0 * (k - 2) / (k**2 - 1) * lam
    f_stat = a_term / b_term
    df2 = (k**2 - 1) / (3.0 * lam)
    return float(f_stat), float(stats.f.sf(f_stat, k - 1, df2))


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment for multiple comparisons (family-wise error).

    NaN p-values stay NaN and do not count as tests.

    Example:
        >>> holm([0.01, 0.02]).tolist()
        [0.02, 0.02]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = p[order] * (m - np.arange(m))
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out


def permutation_test(
    statistic: Callable[[list[np.ndarray]], float],
    groups: Sequence[ArrayLike],
    n_perm: int = 2000,
    rng: np.random.Generator | None = None,
    batched: Callable[[list[np.ndarray]], np.ndarray] | None = None,
) -> float:
    """One-sided permutation p-value: is ``statistic(groups)`` larger than by chance?

    The pooled values are shuffled across groups (group sizes kept) ``n_perm`` times.

    Args:
        statistic: a function of the list of group arrays; larger means more extreme.
        groups: the samples, one per group.
        n_perm: number of random relabellings.
        rng: the random generator (required for reproducibility; a seed-0 one by default).
        batched: the same statistic of many relabellings at once, if there is one: it gets
            each group as a 2-D array (one relabelling per row) and returns one value per
            row. Same relabellings, same p-value, no Python loop over the statistic.

    Returns:
        ``(1 + #{permuted >= observed}) / (1 + n_perm)``.

    Example:
        >>> spread = lambda gs: float(np.ptp([g.mean() for g in gs]))
        >>> p = permutation_test(spread, [[1.0, 2, 3], [10.0, 11, 12]], 500,
        ...                      np.random.default_rng(0))
        >>> p < 0.2
        True
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    arrays = [np.asarray(g, dtype=float) for g in groups]
    observed = statistic(arrays)
    pooled = np.concatenate(arrays)
    cuts = np.cumsum([a.size for a in arrays])[:-1]
    if batched is not None:
        shuffled = np.stack([rng.permutation(pooled) for _ in range(n_perm)])
        values = np.asarray(batched(np.split(shuffled, cuts, axis=1)), dtype=float)
        hits = int(np.count_nonzero(values >= observed - 1e-12 * abs(observed)))
        return (1 + hits) / (1 + n_perm)
    hits = 0
    for _ in range(n_perm):
        value = statistic(np.split(rng.permutation(pooled), cuts))
        if value >= observed - 1e-12 * abs(observed):
            hits += 1
    return (1 + hits) / (1 + n_perm)


def welch_t(a: ArrayLike, b: ArrayLike) -> float:
    """Two-sided p-value of Welch's t-test that the means of ``a`` and ``b`` are equal.

    Example:
        >>> welch_t([1.0, 2.0, 3.0], [7.0, 8.0, 9.0]) < 0.01
        True
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size < 2 or y.size < 2:
        return float("nan")
    return float(stats.ttest_ind(x, y, equal_var=False).pvalue)


def kruskal(groups: Sequence[ArrayLike]) -> float:
    """Kruskal-Wallis p-value (rank test: do the groups come from one distribution?).

    Example:
        >>> kruskal([[1.0, 2.0, 3.0, 4.0], [11.0, 12.0, 13.0, 14.0]]) < 0.05
        True
    """
    arrays = [np.asarray(g, dtype=float) for g in groups]
    arrays = [a[np.isfinite(a)] for a in arrays if np.isfinite(a).sum() > 0]
    if len(arrays) < 2:
        return float("nan")
    return float(stats.kruskal(*arrays).pvalue)
