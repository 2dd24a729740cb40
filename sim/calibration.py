"""Calibration: the likelihood of observed adoption, importance weights, and the calibration
record of a run (its predictive checks). The default method, sequential Monte Carlo, samples the
posterior with this likelihood in :mod:`sim.posterior` and records it by :func:`smc_record`;
``method=importance`` weights the prior draws by :func:`calibrate`, as follows.

Each draw ``i`` (a parameter set and an adoption history) gets the weight

    w_i  proportional to  prod_j  L(y_j | x_ij, s_j),

where ``x_ij`` is draw ``i``'s value of the model output that observation ``j`` measures
(:mod:`sim.observations`), ``y_j`` the observed value and ``s_j`` its standard deviation: the
uncertainty column times ``sd_scale``, with the model discrepancy added in quadrature. ``L`` is a
normal or Student-t density. The draws were sampled from the prior, so the weighted draws
represent the posterior (importance sampling with the prior as proposal). The draws are the ones
already simulated: importance weighting costs no extra simulation. The price is that the prior
must cover the data: when it does not, few draws carry the weight, the effective sample size
(Kish) is small, and the posterior odds are refused rather than reported.

The predictive check places each observation in the model's predictive distribution of that
observation, ``F(y_j) = sum_i w_i Phi((y_j - x_ij) / s_j)`` (a probability integral transform,
PIT): near 0 or 1, the model (prior or posterior) does not expect the observation. Observations
used in the weights are seen twice by the posterior check (it is optimistic); held-out ones (dated
after ``until``) are a genuine forecast check.

References
----------
.. [1] Kish, L. (1965). Survey Sampling. Wiley (effective sample size of weighted samples).
.. [2] Kennedy, M. C. and O'Hagan, A. (2001). Bayesian calibration of computer models. JRSS B
   63(3), 425-464 (model discrepancy).
.. [3] Gelman, A., Meng, X.-L. and Stern, H. (1996). Posterior predictive assessment of model
   fitness via realized discrepancies. Statistica Sinica 6, 733-807.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from sim import results, rules
from sim.observations import Observation
from sim.spec import CalibrationSpec
from sim.stats import effective_sample_size, weighted_quantile

_DEVICE_PARAMS = ("replacement.ai_mid", "replacement.ai_slope", "replacement.ai_max")


def predictive_quantile(
    pred: ArrayLike, value: float, sd: float, weights: ArrayLike | None = None
) -> float:
    """Where ``value`` falls in the predictive distribution ``sum_i w_i N(pred_i, sd^2)``.

    Parameters
    ----------
    pred : array_like, shape (n_draws,)
        Each draw's model value.
    value : float
        The observation.
    sd : float
        Observation standard deviation, > 0.
    weights : array_like, shape (n_draws,), optional
        Draw weights (equal by default).

    Returns
    -------
    float
        Predictive probability of a value at or below ``value``, in [0, 1].
    """
    pred = np.asarray(pred, dtype=np.float64)
    w = np.ones(pred.shape) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.sum(w * stats.norm.cdf((value - pred) / sd)) / w.sum())


def _months(start: str, end: str) -> NDArray[np.float64]:
    """Mid-month decimal years of the months from ``start`` (YYYY-MM) to the month of ``end``."""
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + np.timedelta64(1, "M"))
    m = months.astype(np.int64)  # months since 1970-01
    return 1970.0 + (m + 0.5) / 12.0


def predict(ds: xr.Dataset, obs: Observation) -> NDArray[np.float64] | None:
    """Each draw's value of the model output ``obs`` measures, shape (n_draws,); None when the
    results cannot speak to it (not mapped, or a date outside the simulated months)."""
    if obs.output == "share":
        if obs.time not in ds.indexes["time"]:
            return None
        return results.share_on(ds, obs.time, obs.tech, obs.metric).values.astype(np.float64)
    if obs.output == "ai_share_of_new_devices":
        if not set(_DEVICE_PARAMS) <= set(results.param_names(ds)):
            return None
        mid, slope, top = (results.param_value(ds, n)[:, None] for n in _DEVICE_PARAMS)
        t = _months(obs.period_start, obs.date)[None, :]
        return rules.ai_share_of_new_devices(t, mid=mid, slope=slope, top=top).mean(axis=1)
    return None


def log_likelihood(
    pred: ArrayLike, value: ArrayLike, sd: ArrayLike, *, likelihood: str = "normal", df: float = 4.0
) -> NDArray[np.float64]:
    """Log density of observations ``value`` given model values ``pred``, summed over the last
    axis: ``pred`` shape (n_draws, n_obs), ``value`` and ``sd`` shape (n_obs,)."""
    z = (np.asarray(value) - np.asarray(pred, dtype=np.float64)) / np.asarray(sd)
    dist = stats.t(df) if likelihood == "student_t" else stats.norm
    return np.sum(dist.logpdf(z) - np.log(sd), axis=-1)


@dataclass(frozen=True)
class _Row:
    obs: Observation
    pred: NDArray[np.float64] | None
    sd: float
    status: str


def _rows(ds: xr.Dataset, cal: CalibrationSpec) -> list[_Row]:
    until = (
        None
        if cal.until is None
        else (
            np.datetime64(f"{cal.until[0]:04d}-{cal.until[1]:02d}", "M") + np.timedelta64(1, "M")
        ).astype("datetime64[ns]")
    )
    out = []
    for o in cal.observations:
        sd = float(np.hypot(o.sd * cal.sd_scale, cal.discrepancy_sd))
        pred = predict(ds, o) if o.mapped else None
        if not o.mapped:
            status = "not_mapped"
        elif cal.series and o.series not in cal.series:
            status = "not_selected"
        elif pred is None:
            status = "outside_horizon"
        elif until is not None and o.time >= until:
            status = "held_out"
        else:
            status = "used"
        out.append(_Row(o, pred, sd, status))
    return out


def _band(pred: NDArray, w: NDArray, value: float, sd: float) -> dict:
    p05, med, p95 = weighted_quantile(pred, [0.05, 0.5, 0.95], weights=w)
    return {
        "median": float(med),
        "p05": float(p05),
        "p95": float(p95),
        "pit": predictive_quantile(pred, value, sd, w),
    }


def _log_likelihood(used: Sequence[_Row], cal: CalibrationSpec, n: int) -> NDArray[np.float64]:
    if not used:
        return np.zeros(n)
    pred = np.column_stack([r.pred for r in used])
    values, sds = [r.obs.value for r in used], [r.sd for r in used]
    ll = log_likelihood(pred, values, sds, likelihood=cal.likelihood, df=cal.df)
    return np.where(np.isfinite(ll), ll, -np.inf)


def log_likelihood_of(ds: xr.Dataset, cal: CalibrationSpec) -> NDArray[np.float64]:
    """Each draw's log-likelihood of the observations ``cal`` uses, shape (n_draws,); 0 for
    every draw when none can be used, ``-inf`` where a model value is missing."""
    used = [r for r in _rows(ds, cal) if r.status == "used"]
    return _log_likelihood(used, cal, ds.sizes["draw"])


def _weights(used: Sequence[_Row], cal: CalibrationSpec, n: int) -> NDArray[np.float64]:
    """Normalised likelihood weights (all zero when no draw has a finite likelihood)."""
    if not used:
        return np.zeros(n)
    ll = _log_likelihood(used, cal, n)
    if not np.isfinite(ll.max()):
        return np.zeros(n)
    w = np.exp(ll - ll.max())
    return w / w.sum()


def _checks(rows: Sequence[_Row], prior: NDArray, post: NDArray | None) -> list[dict]:
    """The predictive check of each mapped observation in the horizon: prior band, and the
    posterior band when ``post`` is given."""
    checks = []
    for r in rows:
        if r.pred is None or r.status == "not_selected":
            continue
        item = {
            "date": r.obs.date,
            "series": r.obs.series,
            "value": r.obs.value,
            "sd": r.sd,
            "output": r.obs.output,
            "tech": r.obs.tech,
            "metric": r.obs.metric,
            "status": r.status,
            "prior": _band(r.pred, prior, r.obs.value, r.sd),
        }
        if post is not None:
            item["posterior"] = _band(r.pred, post, r.obs.value, r.sd)
        checks.append(item)
    return checks


def _not_used(rows: Sequence[_Row]) -> list[dict]:
    return [
        {"date": r.obs.date, "series": r.obs.series, "status": r.status, "note": r.obs.note}
        for r in rows
        if r.status in ("not_mapped", "not_selected", "outside_horizon")
    ]


def _settings(cal: CalibrationSpec) -> dict:
    return {
        "method": cal.method,
        "observations_file": cal.source,
        "likelihood": cal.likelihood,
        "df": cal.df if cal.likelihood == "student_t" else None,
        "sd_scale": cal.sd_scale,
        "discrepancy_sd": cal.discrepancy_sd,
        "until": None if cal.until is None else f"{cal.until[0]:04d}-{cal.until[1]:02d}",
    }


def _with_weights(ds: xr.Dataset, info: dict, **weights: NDArray) -> xr.Dataset:
    out = ds.copy()
    for name, w in weights.items():
        out[name] = ("draw", w)
        out[name].attrs = {
            "long_name": f"{name.replace('_', ' ')} of the draw",
            "units": "1",
            "description": "sums to 1; see the calibration attribute for the status and ESS",
        }
    out.attrs["calibration"] = json.dumps(info)
    return out


def smc_record(
    ds: xr.Dataset,
    cal: CalibrationSpec,
    weight: NDArray[np.float64],
    prior_weight: NDArray[np.float64],
    rounds: Sequence[dict],
    lineage: NDArray[np.int64] | None = None,
) -> xr.Dataset:
    """Attach a sequential Monte Carlo calibration to the run ``ds`` (:mod:`sim.posterior`).

    ``weight`` (draw,) counts the posterior particles, ``prior_weight`` the prior draws; both sum
    to 1. ``lineage`` (draw,) is each particle's eve (:attr:`sim.smc.State.eve`), -1 for the prior
    draws: the posterior odds' intervals count lineages (:func:`sim.results.lineage_of`).
    ``rounds`` holds :meth:`sim.smc.State.summary` of every round. The effective sample size
    is the number of distinct particles after the last moves; the status is ``ok`` when it
    reaches ``cal.ess_min`` and the last round is the posterior (inverse temperature 1).
    """
    rows = _rows(ds, cal)
    last = rounds[-1]
    ess = float(last["n_distinct"])
    ok = ess >= cal.ess_min and last["beta"] >= 1.0
    n_used = sum(r.status == "used" for r in rows)
    moved = [r["p_accept"] for r in rounds[1:]]
    sampler = {
        "particles": cal.particles,
        "rounds": len(rounds) - 1,
        "beta": last["beta"],
        "acceptance": float(np.mean(moved)) if moved else None,
        "acceptance_last": last["p_accept"] if moved else None,
        "simulations": int(last["n_evaluations"]),
        "simulations_per_effective_draw": last["n_evaluations"] / max(ess, 1.0),
        "seconds": last["seconds"],
        "n_agents": cal.n_agents,
        "log_evidence": last["log_evidence"],
        "history": list(rounds),
    }
    if ok:
        message = (
            f"posterior odds from {cal.particles} particles ({ess:.0f} distinct) conditioned on "
            f"{n_used} observations by sequential Monte Carlo in {sampler['rounds']} rounds"
        )
    else:
        message = (
            f"posterior odds not reported: the sampler ended at inverse temperature "
            f"{last['beta']:.3f} with {ess:.0f} distinct particles (calibration.ess_min="
            f"{cal.ess_min:g}); raise calibration.particles or calibration.max_rounds"
        )
    info = _settings(cal) | {
        "n_draws": int(cal.particles),
        "n_used": n_used,
        "ess": ess,
        "ess_min": cal.ess_min,
        "status": "ok" if ok else "refused",
        "message": message,
        "sampler": sampler,
        "checks": _checks(rows, prior_weight, weight if ok else None),
        "not_used": _not_used(rows),
    }
    out = _with_weights(ds, info, weight=weight, prior_weight=prior_weight)
    if lineage is not None:
        out["lineage"] = ("draw", np.asarray(lineage, dtype=np.int64))
        out["lineage"].attrs = {
            "long_name": "lineage of the posterior particle",
            "units": "1",
            "description": (
                "the first-round sampler particle the particle descends from (-1: a prior "
                "draw); particles of one lineage are correlated, so the posterior odds' "
                "intervals count lineages, not particles"
            ),
        }
    return out


def describe_draws(summary: dict) -> str:
    """What a run's draws are, from its summary: ``"N draws"``, or for a run calibrated by
    sequential Monte Carlo ``"N prior draws and M posterior particles"``."""
    sampler = (summary.get("calibration") or {}).get("sampler")
    if sampler is None:
        return f"{summary['draws']:,} draws"
    n_post = sampler["particles"]
    return f"{summary['draws'] - n_post:,} prior draws and {n_post:,} posterior particles"


def describe_sampler(sampler: dict) -> str:
    """One sentence on a sequential Monte Carlo run (:func:`smc_record`'s ``sampler``): rounds,
    acceptance, simulations (per effective draw), population and seconds."""
    acc = sampler["acceptance"]
    return (
        f"sampler: {sampler['rounds']} rounds, acceptance "
        f"{'-' if acc is None else f'{acc:.2f}'}, {sampler['simulations']:,} simulations "
        f"({sampler['simulations_per_effective_draw']:.1f} per effective draw) on "
        f"{sampler['n_agents']:,} agents, {sampler['seconds']:.0f} s"
    )


def describe_lineages(record: dict) -> str | None:
    """One sentence on how many independent draws the primary posterior odds rest on (the
    record's ``primary_n_eff``, from :func:`sim.targets.summarize`), or None without one."""
    n_eff = record.get("primary_n_eff")
    if n_eff is None:
        return None
    return (
        f"the primary odds' interval counts about {n_eff:,.0f} independent draws, not "
        f"{record['n_draws']:,}: particles descended from the same first-round particle of the "
        "sampler are correlated, so it counts their lineages (Chan and Lai 2013)"
    )


def _refusal(checks: Sequence[dict], ess: float, n: int, ess_min: float) -> str:
    """Why the posterior odds are not reported, and what would help."""
    head = "posterior odds not reported: "
    used = [c for c in checks if c["status"] == "used"]
    if not used:
        return head + "no selected observation falls in the simulated horizon (see not_used)"
    if ess == 0.0:
        return head + "no draw has a finite likelihood (missing model values?)"
    head += (
        f"effective sample size {ess:.1f} of {n} draws is below calibration.ess_min={ess_min:g}; "
    )
    worst = max(used, key=lambda c: abs(c["prior"]["pit"] - 0.5))
    pit = worst["prior"]["pit"]
    if min(pit, 1.0 - pit) < 0.01:
        return head + (
            f"{worst['series']} {worst['date']} = {worst['value']:g} lies at quantile {pit:.3f} "
            "of the prior predictive: the priors (or the model) hardly reproduce it; review them, "
            "or widen calibration.discrepancy_sd if the model may miss it"
        )
    return head + (
        "the observations together pin the draws down more tightly than this many prior draws "
        "resolve: run more draws (the effective sample size grows in proportion)"
    )


def calibrate(ds: xr.Dataset, cal: CalibrationSpec) -> xr.Dataset:
    """Weight the draws of ``ds`` by the likelihood of the observations in ``cal``.

    Returns a copy of ``ds`` with variable ``weight`` (draw,) summing to 1 and attribute
    ``calibration``: a JSON string with the method, the effective sample size, the status
    (``ok``, or ``refused`` with a message when the effective sample size is below
    ``cal.ess_min``), a predictive check for each mapped observation, and the observations not
    used with the reason. ``ds`` is returned unchanged when ``cal.method`` is ``none``.
    """
    if cal.method == "none":
        return ds
    n = ds.sizes["draw"]
    rows = _rows(ds, cal)
    used = [r for r in rows if r.status == "used"]
    w = _weights(used, cal, n)
    ess = effective_sample_size(w)
    ok = ess >= cal.ess_min
    equal = np.full(n, 1.0 / n)
    checks = _checks(rows, equal, w if ok else None)
    if ok:
        message = f"posterior odds from {n} draws weighted by {len(used)} observations"
    else:
        message = _refusal(checks, ess, n, cal.ess_min)
        if not w.any():
            w = equal  # nothing to weight by: the stored weights are the prior's
    info = _settings(cal) | {
        "n_draws": int(n),
        "n_used": len(used),
        "ess": ess,
        "ess_min": cal.ess_min,
        "status": "ok" if ok else "refused",
        "message": message,
        "checks": checks,
        "not_used": _not_used(rows),
    }
    return _with_weights(ds, info, weight=w)
