"""Targets as data, and the odds of meeting them."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import stats

from sim import costs
from sim.spec import Target


@dataclass(frozen=True)
class Odds:
    """Odds of one target.

    Attributes
    ----------
    target : Target
    p_hit : float
        Share of draws whose share at the end of the target year is above the threshold.
    ci95 : tuple of float
        95% Wilson score interval for ``p_hit``.
    share_median, share_p05, share_p95 : float
        Median and 5-95% band of the share at the end of the target year.
    n : int
        Draws counted.
    """

    target: Target
    p_hit: float
    ci95: tuple[float, float]
    share_median: float
    share_p05: float
    share_p95: float
    n: int

    def to_dict(self) -> dict:
        t = self.target
        return {
            "year": t.year,
            "threshold": t.threshold,
            "metric": t.metric,
            "tech": t.tech,
            "p_hit": self.p_hit,
            "ci95": list(self.ci95),
            "share_median": self.share_median,
            "share_p05": self.share_p05,
            "share_p95": self.share_p95,
        }


def wilson_interval(k: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n``.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
       inference. JASA 22(158), 209-212.
    """
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def targets_of(ds: xr.Dataset) -> tuple[Target, ...]:
    """The targets recorded in a results Dataset's attributes."""
    return tuple(Target(**t) for t in json.loads(ds.attrs["targets"]))


def share_at(ds: xr.Dataset, target: Target) -> xr.DataArray:
    """Share of each draw at the end of the target's year, dims (draw,)."""
    end = np.datetime64(f"{target.year}-12-31", "ns")
    return ds["share"].sel(time=end, tech=target.tech, metric=target.metric)


def evaluate(ds: xr.Dataset, targets: tuple[Target, ...] | None = None) -> list[Odds]:
    """Odds of each target over the draws of ``ds`` (its recorded targets by default)."""
    out = []
    for t in targets or targets_of(ds):
        s = share_at(ds, t).values.astype(np.float64)
        k, n = int(np.sum(s > t.threshold)), s.size
        p05, med, p95 = np.quantile(s, [0.05, 0.5, 0.95])
        out.append(Odds(t, k / n, wilson_interval(k, n), float(med), float(p05), float(p95), n))
    return out


def summarize_events(ds: xr.Dataset) -> dict:
    """For each kind of shock: mean events per draw and the share of draws with at least one."""
    ev = ds["events"]
    return {
        str(k): {
            "mean_events": float(ev.sel(shock=k).mean()),
            "share_of_draws": float((ev.sel(shock=k) > 0).mean()),
        }
        for k in ev["shock"].values
    }


def summarize(ds: xr.Dataset) -> dict:
    """The run summary written as ``summary.json``."""
    out = {
        "scenario": ds.attrs["scenario"],
        "draws": int(ds.sizes["draw"]),
        "seed": int(ds.attrs["seed"]),
        "targets": [o.to_dict() for o in evaluate(ds)],
    }
    if "public_cost" in ds:
        out["public_cost"] = costs.summarize(ds)
    if "events" in ds:
        out["shocks"] = summarize_events(ds)
    return out
