"""Targets as data, and the odds of meeting them."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import stats

from sim import costs
from sim.calibration import effective_sample_size, weighted_quantile
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
    n_eff : float or None
        Effective sample size of weighted draws (Kish); None when the draws are unweighted.
    """

    target: Target
    p_hit: float
    ci95: tuple[float, float]
    share_median: float
    share_p05: float
    share_p95: float
    n: int
    n_eff: float | None = None

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


def wilson_interval_ess(p: float, n_eff: float, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a weighted proportion ``p`` with effective sample size ``n_eff``.

    Wilson's formula with the binomial ``n`` replaced by Kish's effective sample size
    ``(sum w)^2 / sum w^2``: an approximation (the design-effect correction) that equals
    :func:`wilson_interval` for equal weights.

    References
    ----------
    .. [1] Wilson, E. B. (1927). JASA 22(158), 209-212.
    .. [2] Kish, L. (1965). Survey Sampling. Wiley, section 11.7 (design effect of weighting).
    """
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    z2n = z * z / n_eff
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * np.sqrt(p * (1.0 - p) / n_eff + z2n / (4.0 * n_eff))
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def targets_of(ds: xr.Dataset) -> tuple[Target, ...]:
    """The targets recorded in a results Dataset's attributes."""
    return tuple(Target(**t) for t in json.loads(ds.attrs["targets"]))


def share_at(ds: xr.Dataset, target: Target) -> xr.DataArray:
    """Share of each draw at the end of the target's year, dims (draw,)."""
    end = np.datetime64(f"{target.year}-12-31", "ns")
    return ds["share"].sel(time=end, tech=target.tech, metric=target.metric)


def evaluate(
    ds: xr.Dataset,
    targets: tuple[Target, ...] | None = None,
    *,
    weights: np.ndarray | None = None,
) -> list[Odds]:
    """Odds of each target over the draws of ``ds`` (its recorded targets by default).

    With ``weights`` (draw,), non-negative (e.g. the calibration's ``weight``), ``p_hit`` is the
    weighted share of draws above the threshold, its interval :func:`wilson_interval_ess` and the
    share band weighted quantiles (:func:`sim.calibration.weighted_quantile`).
    """
    out = []
    for t in targets or targets_of(ds):
        s = share_at(ds, t).values.astype(np.float64)
        if weights is None:
            k, n = int(np.sum(s > t.threshold)), s.size
            p05, med, p95 = np.quantile(s, [0.05, 0.5, 0.95])
            out.append(Odds(t, k / n, wilson_interval(k, n), float(med), float(p05), float(p95), n))
            continue
        w = np.asarray(weights, dtype=np.float64)
        p = float(np.sum(w * (s > t.threshold)) / w.sum())
        n_eff = effective_sample_size(w)
        p05, med, p95 = weighted_quantile(s, w, [0.05, 0.5, 0.95])
        ci = wilson_interval_ess(p, n_eff)
        out.append(Odds(t, p, ci, float(med), float(p05), float(p95), s.size, n_eff))
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
    """The run summary written as ``summary.json``.

    For a calibrated run (``ds`` has ``weight``), each target's ``p_hit``, ``ci95`` and share band
    are posterior (weighted) and ``prior_p_hit``, ``prior_ci95`` and ``prior_share_*`` stand
    beside them; when the calibration refused (too small an effective sample size) the posterior
    values are null. The calibration record (effective sample size, status and message,
    predictive checks) is under ``calibration``.
    """
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
    if "weight" in ds:
        cal = json.loads(ds.attrs["calibration"])
        ok = cal["status"] == "ok"
        post = evaluate(ds, weights=ds["weight"].values) if ok else [None] * len(out["targets"])
        out["targets"] = [
            _beside_prior(None if q is None else q.to_dict(), d)
            for q, d in zip(post, out["targets"], strict=True)
        ]
        out["calibration"] = cal
    return out


_ODDS_KEYS = ("p_hit", "ci95", "share_median", "share_p05", "share_p95")


def _beside_prior(post: dict | None, prior: dict) -> dict:
    """Posterior odds (null when refused) with the prior's as ``prior_*``."""
    out = dict(prior) | (dict.fromkeys(_ODDS_KEYS) if post is None else post)
    return out | {f"prior_{k}": prior[k] for k in _ODDS_KEYS}
