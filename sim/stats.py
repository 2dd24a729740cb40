"""Statistics of Monte Carlo draws: odds of a target, intervals, weighted quantiles.

Every function here takes plain arrays and treats draws as equally likely unless given weights
(non-negative; they need not sum to 1). This module knows nothing of results files or of the
model: :mod:`sim.targets` and the report read the draws and call these functions, so each formula
is written once.

References
----------
.. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
   inference. JASA 22(158), 209-212.
.. [2] Kish, L. (1965). Survey Sampling. Wiley, section 11.7 (effective sample size).
.. [3] Newcombe, R. G. (1998). Improved confidence intervals for the difference between
   binomial proportions based on paired data. Statistics in Medicine 17(22), 2635-2650.
.. [4] Chan, H. P. and Lai, T. L. (2013). A general theory of particle filters in hidden Markov
   models and some applications. Annals of Statistics 41(6), 2877-2904.
.. [5] Lee, A. and Whiteley, N. (2018). Variance estimation in the particle filter. Biometrika
   105(3), 609-625.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from scipy import stats as _scipy_stats

#: Quantiles of the share band reported beside the odds: 5%, median, 95%.
BAND = (0.05, 0.5, 0.95)


class Threshold(Protocol):
    """What odds are of: a share above ``threshold`` at the end of ``year`` (a
    :class:`sim.spec.Target`)."""

    @property
    def year(self) -> int: ...

    @property
    def threshold(self) -> float: ...

    @property
    def metric(self) -> str: ...

    @property
    def primary(self) -> bool: ...

    @property
    def tech(self) -> str: ...


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of non-negative weights (0 when
    every weight is 0); ``n`` for ``n`` equal weights."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum()
    return float(total**2 / np.sum(w**2)) if total > 0 else 0.0


def weighted_quantile(
    x: ArrayLike, q: ArrayLike, *, weights: ArrayLike | None = None, axis: int = 0
) -> NDArray[np.float64]:
    """Quantiles ``q`` (in [0, 1]) of the draws of ``x`` along ``axis``, weighted by ``weights``.

    NaNs, and draws of zero weight, are ignored. Without weights this is
    :func:`numpy.nanquantile` (linear method). With weights, the empirical CDF is interpolated
    between the mid-points of each draw's weight (equal weights give the Hazen quantiles; the
    median equals the unweighted one).

    Parameters
    ----------
    x : array_like, shape (..., n_draws, ...)
    q : array_like, shape (k,) or scalar
    weights : array_like, shape (n_draws,), optional
        Non-negative draw weights (need not be normalised).
    axis : int
        Axis of ``x`` holding the draws.

    Returns
    -------
    ndarray
        Shape ``q.shape + x.shape`` without ``axis``; NaN where no draw counts.
    """
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    q = np.asarray(q, dtype=np.float64)
    if weights is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN group has no quantile
            return np.nanquantile(x, q, axis=-1)
    w = np.asarray(weights, dtype=np.float64)
    flat = x.reshape(-1, x.shape[-1])
    out = np.full((flat.shape[0], q.size), np.nan)
    for i, row in enumerate(flat):
        ok = ~np.isnan(row) & (w > 0)
        if not ok.any():
            continue
        order = np.argsort(row[ok], kind="stable")
        v, wv = row[ok][order], w[ok][order]
        cdf = (np.cumsum(wv) - 0.5 * wv) / wv.sum()
        out[i] = np.interp(q.ravel(), cdf, v)
    return np.moveaxis(out.reshape(*x.shape[:-1], q.size), -1, 0).reshape(*q.shape, *x.shape[:-1])


def lineage_variance(
    values: ArrayLike, lineage: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Variance of the (weighted) mean of ``values`` over draws that share lineages, or of the
    mean difference of paired draws.

    Draws with the same ``lineage`` label (the particles of a sequential Monte Carlo sampler
    that descend from the same first-round particle, its eve: :attr:`sim.smc.State.eve`) are
    correlated; lineages are not. The estimate is the eve-based one of Chan and Lai [4]_ (see
    also Lee and Whiteley [5]_): ``sum_j (sum_{i in j} w_i (f_i - f_bar))^2`` with the weights
    normalised to 1. With every draw a lineage of its own and equal weights it is
    ``s^2 / n`` (``s^2`` the population variance of the values); a lineage of ``k`` copies of
    one value counts as one draw. For pairs, each lineage sums the first values' deviations
    minus the second's (:func:`lineage_design_effect`).

    Parameters
    ----------
    values : array_like, shape (n,) or (2, n)
        Each draw's value, or each pair's two values.
    lineage : array_like of int, shape (n,) or like ``values``
        Each draw's lineage label (one row: the same for both values of a pair).
    weights : array_like, shape (n,), optional
        Non-negative weights; equal when None.
    """
    f = np.atleast_2d(np.asarray(values, dtype=np.float64))
    w = np.full(f.shape[1], 1.0) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    _, group = np.unique(np.broadcast_to(lineage, f.shape), return_inverse=True)
    sign = np.array([1.0, -1.0])[: f.shape[0], None]
    dev = sign * w * (f - np.sum(w * f, axis=1, keepdims=True))
    return float(np.sum(np.bincount(group.ravel(), weights=dev.ravel()) ** 2))


def lineage_effective_size(
    hit: ArrayLike, lineage: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Effective number of independent draws behind a (weighted) proportion of draws that
    share lineages: ``p (1 - p) / V`` with ``V`` the :func:`lineage_variance` of the hits, at
    most Kish's effective size of the weights. When every lineage hits alike (``V`` = 0, e.g.
    ``p`` 0 or 1) it is Kish's size of the lineages' total weights: the number of lineages
    when they weigh alike."""
    h = np.asarray(hit, dtype=np.float64)
    w = np.full(h.size, 1.0) if weights is None else np.asarray(weights, dtype=np.float64)
    kish = effective_sample_size(w)
    p = float(np.sum(w * h) / w.sum())
    v = lineage_variance(h, lineage, w)
    if v > 0 and 0.0 < p < 1.0:
        return min(kish, p * (1.0 - p) / v)
    _, group = np.unique(np.asarray(lineage), return_inverse=True)
    return min(kish, effective_sample_size(np.bincount(group.ravel(), weights=w)))


def wilson(p: float, n: float, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` observed over ``n`` draws.

    For weighted draws, ``n`` is Kish's effective sample size (:func:`effective_sample_size`):
    the design-effect approximation [2]_, which is Wilson's interval for equal weights.

    Parameters
    ----------
    p : float
        The (weighted) proportion, in [0, 1].
    n : float
        Number of draws, or effective number of weighted draws, > 0.
    confidence : float
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    low, high : float
        Within [0, 1]; 0 when ``p`` is 0 and 1 when it is 1.

    References
    ----------
    .. [1] Wilson (1927), written as in Newcombe (1998), method 3 (as
       :meth:`scipy.stats.binomtest` computes it).
    .. [2] Kish (1965), section 11.7.
    """
    z = special.ndtri(0.5 + 0.5 * confidence)
    denom = 2 * (n + z**2)
    centre = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    low = 0.0 if p == 0 else max(float(centre - delta), 0.0)
    high = 1.0 if p == 1 else min(float(centre + delta), 1.0)
    return low, high


def lineage_design_effect(values: ArrayLike, lineage: ArrayLike) -> float:
    """How many draws that share lineages count as one independent draw, for the mean of
    ``values`` over equally likely draws, or for the mean difference of paired draws.

    The eve-based variance of the mean (:func:`lineage_variance`) over the variance it
    would have over independent draws, at least 1. For pairs (``values`` of shape (2, n), the
    mean of the first row minus that of the second), a label names the same ancestor in both
    rows: the deviations of both runs' descendants of one ancestor are summed (the first
    run's minus the second's) before squaring, so the two runs may descend differently from the
    same first-round particles. A lineage of ``k`` copies of one value counts as one draw (``k``
    copies of each value give exactly ``k``); one lineage in all counts as one draw (``n``);
    when the values (or differences) do not vary, it is the draws per lineage, as in
    :func:`lineage_effective_size`.

    Parameters
    ----------
    values : array_like, shape (n,) or (2, n)
        Each draw's value, or each pair's two values.
    lineage : array_like of int, shape (n,) or like ``values``
        Each draw's lineage label (one row: the same for both values of a pair).

    Returns
    -------
    float
        The design effect, in [1, n].
    """
    f = np.atleast_2d(np.asarray(values, dtype=np.float64))
    n, n_lineages = f.shape[1], np.unique(lineage).size
    diff = f[0] - f[1] if f.shape[0] == 2 else f[0]
    if n_lineages < 2:
        return float(n)
    if np.ptp(diff) == 0:
        return n / n_lineages
    return max(1.0, lineage_variance(f, lineage) / (float(np.var(diff)) / n))


def paired_interval(
    hit_alt: ArrayLike,
    hit_ref: ArrayLike,
    *,
    design_effect: float = 1.0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Difference of two paired proportions and its confidence interval.

    Parameters
    ----------
    hit_alt, hit_ref : array_like of bool, shape (n,)
        Per-draw indicators (target hit) of the scenario and of the reference, paired by draw.
    design_effect : float
        Pairs per independent pair, >= 1 (for posterior particles that share lineages:
        :func:`lineage_design_effect` of the pairs' hits): the table's counts are divided by it.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    diff, low, high : float
        ``mean(hit_alt) - mean(hit_ref)`` and its interval, within [-1, 1].

    References
    ----------
    .. [1] Newcombe (1998), method 10 (square-and-add of Wilson score intervals, with a
       continuity-corrected correlation).
    .. [2] Fagerland, M. W., Lydersen, S. and Laake, P. (2017). Statistical Analysis of
       Contingency Tables, ch. 8 (worked examples).
    """
    x, y = np.asarray(hit_alt, dtype=bool), np.asarray(hit_ref, dtype=bool)
    n = x.size
    a, b = int(np.sum(x & y)), int(np.sum(x & ~y))
    c, d = int(np.sum(~x & y)), int(np.sum(~x & ~y))
    p1, p2 = (a + b) / n, (a + c) / n
    if design_effect != 1.0:
        n, a, b, c, d = (v / design_effect for v in (n, a, b, c, d))
    l1, u1 = wilson(p1, n, confidence=confidence)
    l2, u2 = wilson(p2, n, confidence=confidence)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = 0.0
    if margins > 0:
        cross = a * d - b * c
        num = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
        phi = num / math.sqrt(margins)
    diff = p1 - p2
    low = diff - math.sqrt(
        max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0)
    )
    high = diff + math.sqrt(
        max((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0)
    )
    return diff, max(low, -1.0), min(high, 1.0)


def mean_interval(
    x: ArrayLike, *, design_effect: float = 1.0, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of ``x`` and its t interval (a zero-width interval when every value is equal).

    With a ``design_effect`` (values per independent value, >= 1, e.g. the
    :func:`lineage_design_effect` of posterior particles) the interval counts ``n`` over it
    independent values: standard error ``sqrt(s2 / (n_eff - 1))`` with ``s2`` the population
    variance, on ``n_eff - 1`` degrees of freedom.
    """
    x = np.asarray(x, dtype=np.float64)
    m = float(x.mean())
    n = x.size / design_effect
    if n < 2:
        return m, -math.inf, math.inf
    t = _scipy_stats.t.ppf(0.5 + confidence / 2, n - 1)
    # s / sqrt(n) scaled to n_eff: exactly 1 without a design effect.
    scale = math.sqrt(design_effect * (x.size - 1) / (x.size - design_effect))
    half = float(t * x.std(ddof=1) / math.sqrt(x.size) * scale)
    return m, m - half, m + half


@dataclass(frozen=True)
class Odds:
    """Odds of one target over a run's draws (weighted when the draws are).

    Attributes
    ----------
    target : sim.spec.Target
    p_hit : float
        (Weighted) share of draws whose share at the end of the target year is above the
        threshold, in [0, 1].
    ci95 : tuple of float
        95% Wilson interval of ``p_hit`` over ``n_eff`` draws (:func:`wilson`).
    share_median, share_p05, share_p95 : float
        Median and 5-95% band of the share at the end of the target year, in [0, 1].
    n : int
        Draws counted.
    n_eff : float
        Kish's effective number of draws (``n`` when they are equally likely); for draws that
        share lineages, the effective number of independent draws behind ``p_hit``
        (:func:`lineage_effective_size`).
    """

    target: Threshold
    p_hit: float
    ci95: tuple[float, float]
    share_median: float
    share_p05: float
    share_p95: float
    n: int
    n_eff: float
    #: Largest share the reading can reach under the priors (None when not known).
    cap: float | None = None
    #: Why the odds are what they are when not from the draws alone (a target out of reach).
    note: str = ""

    def out_of_reach(self, cap: float) -> Odds:
        """These odds with the reading's built-in ``cap``: a threshold at or above it cannot be
        met by assumption, so ``p_hit`` is 0 (its interval Wilson's at 0) and a note says so."""
        t = self.target
        if t.threshold < cap:
            return replace(self, cap=cap)
        note = (
            f"out of reach by assumption: under the priors this reading can reach at most "
            f"{cap:.1%} by the end of {t.year}"
        )
        return replace(self, p_hit=0.0, ci95=wilson(0.0, self.n_eff), cap=cap, note=note)

    @classmethod
    def of(
        cls,
        target: Threshold,
        share: ArrayLike,
        *,
        weights: ArrayLike | None = None,
        lineage: ArrayLike | None = None,
    ) -> Odds:
        """Odds of ``target`` from each draw's share at the end of its year.

        Parameters
        ----------
        target : sim.spec.Target
        share : array_like, shape (n_draws,)
            Each draw's share at the end of the target year, in [0, 1].
        weights : array_like, shape (n_draws,), optional
            Non-negative draw weights (e.g. a calibration's ``weight``); equal when None.
        lineage : array_like of int, shape (n_draws,), optional
            Each draw's lineage (:func:`sim.results.lineage_of`): the interval then counts the
            effective number of independent draws (:func:`lineage_effective_size`), not the
            draws. Draws of weight 0 may carry any label.
        """
        s = np.asarray(share, dtype=np.float64)
        hit = s > target.threshold
        if weights is None:
            k, n = int(np.sum(hit)), s.size
            p, n_eff = k / n, float(n)
        else:
            w = np.asarray(weights, dtype=np.float64)
            p = float(np.sum(w * hit) / w.sum())
            n_eff = effective_sample_size(w)
        if lineage is not None:
            w = np.ones(s.size) if weights is None else np.asarray(weights, dtype=np.float64)
            counted = w > 0
            n_eff = lineage_effective_size(hit[counted], np.asarray(lineage)[counted], w[counted])
        p05, med, p95 = weighted_quantile(s, BAND, weights=weights)
        return cls(target, p, wilson(p, n_eff), float(med), float(p05), float(p95), s.size, n_eff)

    def to_dict(self) -> dict:
        """The target and its odds, as a row of ``summary.json``."""
        t = self.target
        return {
            "year": t.year,
            "threshold": t.threshold,
            "metric": t.metric,
            "tech": t.tech,
            "primary": t.primary,
            "p_hit": self.p_hit,
            "ci95": list(self.ci95),
            "share_median": self.share_median,
            "share_p05": self.share_p05,
            "share_p95": self.share_p95,
            "cap": self.cap,
            **({"note": self.note} if self.note else {}),
        }


def rank_correlation(x: ArrayLike, y: ArrayLike, *, weights: ArrayLike | None = None) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` over draws, weighted when given weights.

    The draws' ranks (ties averaged) are correlated by Pearson's formula with the draws' weights
    [4]_; a constant ``x`` or ``y`` has no correlation (NaN).

    Parameters
    ----------
    x, y : array_like, shape (n_draws,)
    weights : array_like, shape (n_draws,), optional
        Non-negative draw weights; equal when None.

    Returns
    -------
    float
        In [-1, 1], or NaN.

    References
    ----------
    .. [4] Spearman, C. (1904). The proof and measurement of association between two things.
       American Journal of Psychology 15(1), 72-101.
    """
    rx = _scipy_stats.rankdata(np.asarray(x, dtype=np.float64))
    ry = _scipy_stats.rankdata(np.asarray(y, dtype=np.float64))
    w = np.ones_like(rx) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    live = w > 0
    if np.ptp(rx[live]) == 0 or np.ptp(ry[live]) == 0:  # constant: no correlation to speak of
        return math.nan
    dx, dy = rx - w @ rx, ry - w @ ry
    sxx, syy = w @ (dx * dx), w @ (dy * dy)
    return float((w @ (dx * dy)) / math.sqrt(sxx * syy))
