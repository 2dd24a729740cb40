"""Paired comparison of scenarios run with common random numbers.

Draw ``i`` of every scenario shares its parameter sample and its random streams, so the per-draw
difference between a scenario and the reference reflects the levers, not sampling noise. The
difference in the odds of a target is the mean difference of per-draw hit indicators, with
Newcombe's interval for paired proportions; the difference in the share itself is the mean
per-draw difference, with a t interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy import stats

from sim import costs
from sim.targets import evaluate, share_at, targets_of, wilson_interval

#: Public money in which "change in odds per ... yuan" is expressed.
PER_YUAN = 100e9
METHOD = (
    "paired: draw i of every scenario shares its parameter sample and random streams (common "
    "random numbers); p_hit difference = mean of per-draw hit-indicator differences with "
    "Newcombe's (1998) hybrid score interval for paired proportions (method 10); share "
    "difference = mean of per-draw share differences with a t interval; cost differences at the "
    "unit-cost priors' central values, up to the end of the target year"
)


def paired_interval(
    hit_alt: Sequence[bool], hit_ref: Sequence[bool], *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of two paired proportions and its confidence interval.

    Parameters
    ----------
    hit_alt, hit_ref : array_like of bool, shape (n,)
        Per-draw indicators (target hit) of the scenario and of the reference, paired by draw.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    diff, low, high : float
        ``mean(hit_alt) - mean(hit_ref)`` and its interval, within [-1, 1].

    References
    ----------
    .. [1] Newcombe, R. G. (1998). Improved confidence intervals for the difference between
       binomial proportions based on paired data. Statistics in Medicine 17(22), 2635-2650,
       method 10 (square-and-add of Wilson score intervals, with a continuity-corrected
       correlation).
    .. [2] Fagerland, M. W., Lydersen, S. and Laake, P. (2017). Statistical Analysis of
       Contingency Tables, ch. 8 (worked examples).
    """
    x, y = np.asarray(hit_alt, dtype=bool), np.asarray(hit_ref, dtype=bool)
    n = x.size
    a, b = int(np.sum(x & y)), int(np.sum(x & ~y))
    c, d = int(np.sum(~x & y)), int(np.sum(~x & ~y))
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, confidence=confidence)
    l2, u2 = wilson_interval(a + c, n, confidence=confidence)
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


def mean_interval(x: Sequence[float], *, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``x`` and its t interval (a zero-width interval when every value is equal)."""
    x = np.asarray(x, dtype=np.float64)
    m = float(x.mean())
    if x.size < 2:
        return m, -math.inf, math.inf
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half


def _check_paired(ref: xr.Dataset, ds: xr.Dataset) -> None:
    for what, a, b in (
        ("seed", ref.attrs["seed"], ds.attrs["seed"]),
        ("draws", list(ref["draw"].values), list(ds["draw"].values)),
        ("parameters", list(ref["param"].values), list(ds["param"].values)),
        ("targets", ref.attrs["targets"], ds.attrs["targets"]),
    ):
        if a != b:
            raise ValueError(
                f"scenario {ds.attrs['scenario']!r} is not paired with the reference: "
                f"its {what} differ"
            )


def compare(runs: Sequence[xr.Dataset]) -> dict:
    """Compare each run with the first (the reference); the ``comparison.json`` content.

    Parameters
    ----------
    runs : sequence of Dataset
        Results of the same configuration under different scenarios (same seed, draws,
        parameters and targets), the reference first.

    Returns
    -------
    dict
        ``reference``, ``draws``, ``seed``, ``method``, and for each scenario its title, public
        cost and, per target, ``p_hit`` with its Wilson interval and, against the reference,
        ``p_hit_diff`` with ``p_hit_diff_ci95``, ``share_diff`` with ``share_diff_ci95``,
        ``extra_cost_yuan`` (to the end of the target year) and ``p_hit_diff_per_100bn_yuan``
        (null when the scenario costs no more than the reference).
    """
    ref = runs[0]
    for ds in runs[1:]:
        _check_paired(ref, ds)
    targets = targets_of(ref)
    out_runs = []
    for ds in runs:
        entry = {
            "scenario": ds.attrs["scenario"],
            "title": ds.attrs["scenario_title"],
            "public_cost": costs.summarize(ds) if "public_cost" in ds else None,
            "targets": [],
        }
        for odds in evaluate(ds, targets):
            t = odds.target
            row = odds.to_dict()
            if ds is not ref:
                s_alt = share_at(ds, t).values.astype(np.float64)
                s_ref = share_at(ref, t).values.astype(np.float64)
                diff, lo, hi = paired_interval(s_alt > t.threshold, s_ref > t.threshold)
                sd, sd_lo, sd_hi = mean_interval(s_alt - s_ref)
                row.update(
                    p_hit_diff=diff,
                    p_hit_diff_ci95=[lo, hi],
                    share_diff=sd,
                    share_diff_ci95=[sd_lo, sd_hi],
                )
                if "public_cost" in ds and "public_cost" in ref:
                    extra = costs.total(ds, through=t.year) - costs.total(ref, through=t.year)
                    row["extra_cost_yuan"] = extra
                    row["p_hit_diff_per_100bn_yuan"] = (
                        diff / (extra / PER_YUAN) if extra > 0 else None
                    )
            entry["targets"].append(row)
        out_runs.append(entry)
    return {
        "reference": ref.attrs["scenario"],
        "draws": int(ref.sizes["draw"]),
        "seed": int(ref.attrs["seed"]),
        "method": METHOD,
        "scenarios": out_runs,
    }
