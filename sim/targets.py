"""The odds of meeting each target of a run: ``summary.json``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import xarray as xr
from numpy.typing import ArrayLike

from sim import costs, results
from sim.spec import Target
from sim.stats import Odds
from sim.vocab import reading_sentence


def evaluate(
    ds: xr.Dataset,
    targets: Sequence[Target] | None = None,
    *,
    weights: ArrayLike | None = None,
    lineage: ArrayLike | None = None,
) -> list[Odds]:
    """Odds of each target over the draws of ``ds`` (its recorded targets by default).

    With ``weights`` (draw,), non-negative (e.g. :func:`sim.results.weights_of`), ``p_hit`` is
    the weighted share of draws above the threshold, its interval Wilson's over Kish's effective
    number of draws and the share band weighted quantiles (:meth:`sim.stats.Odds.of`). With
    ``lineage`` (:func:`sim.results.lineage_of`: posterior particles that share ancestors), the
    interval counts the effective number of independent draws instead. A target
    above its reading's built-in cap (:func:`sim.results.caps_of`) has ``p_hit`` 0 and a note
    (:meth:`sim.stats.Odds.out_of_reach`).
    """
    caps = results.caps_of(ds)
    out = []
    for t in targets or results.targets_of(ds):
        share = results.share_at(ds, t.year, t.tech, t.metric).values
        odds = Odds.of(t, share, weights=weights, lineage=lineage)
        cap = caps.get((t.year, t.metric, t.tech))
        out.append(odds if cap is None else odds.out_of_reach(cap))
    return out


def primary_reading(ds: xr.Dataset) -> dict | None:
    """The primary reading of a run, ``{"metric", "tech", "counts"}`` (``counts`` the sentence
    saying what it counts), or None when no target has it."""
    first = next((t for t in results.targets_of(ds) if t.primary), None)
    if first is None:
        return None
    counts = reading_sentence(first.metric, first.tech)
    return {"metric": first.metric, "tech": first.tech, "counts": counts}


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
        "title": ds.attrs.get("scenario_title", ds.attrs["scenario"]),
        "overrides": results.overrides_of(ds),
        "draws": int(ds.sizes["draw"]),
        "seed": int(ds.attrs["seed"]),
        "primary": primary_reading(ds),
        "targets": [
            _with_sentence(o.to_dict()) for o in evaluate(ds, weights=results.prior_weights_of(ds))
        ],
        "denominators": results.denominators_of(ds),
    }
    if "public_cost" in ds:
        out["public_cost"] = costs.summarize(ds)
    if "events" in ds:
        out["shocks"] = summarize_events(ds)
    if "weight" in ds:
        w = results.weights_of(ds)
        lineage = results.lineage_of(ds)
        post = (
            [None] * len(out["targets"]) if w is None else evaluate(ds, weights=w, lineage=lineage)
        )
        out["targets"] = [
            _beside_prior(None if q is None else q.to_dict(), d)
            for q, d in zip(post, out["targets"], strict=True)
        ]
        out["calibration"] = results.calibration_of(ds)
        primary = next((q for q in post if q is not None and q.target.primary), None)
        if lineage is not None and primary is not None:
            # How many independent draws the primary interval counts.
            out["calibration"]["primary_n_eff"] = primary.n_eff
    return out


def primary_lineage_odds(ds: xr.Dataset) -> Odds | None:
    """The primary reading's first posterior odds when the posterior particles share lineages
    (:func:`sim.results.lineage_of`; its ``n_eff`` is the number of independent draws its
    interval counts), else None."""
    lineage, w = results.lineage_of(ds), results.weights_of(ds)
    primary = [t for t in results.targets_of(ds) if t.primary][:1]
    if lineage is None or w is None or not primary:
        return None
    return evaluate(ds, primary, weights=w, lineage=lineage)[0]


def odds_csv(summary: dict) -> str:
    """``odds.csv``: one row per target and reading of a summary (:func:`summarize`), its
    values as in ``summary.json`` with each interval ``[low, high]`` split into ``*_low`` and
    ``*_high`` columns (empty cells for nulls)."""
    rows = []
    for t in summary["targets"]:
        row: dict[str, object] = {}
        for k, v in t.items():
            if isinstance(v, list | tuple):
                row[f"{k}_low"], row[f"{k}_high"] = v
            else:
                row[k] = v
        rows.append(row)
    header = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return out.getvalue()


def _with_sentence(row: dict) -> dict:
    """A target row with the plain sentence saying what its reading counts."""
    return row | {"counts": reading_sentence(row["metric"], row["tech"])}


_ODDS_KEYS = ("p_hit", "ci95", "share_median", "share_p05", "share_p95")


def _beside_prior(post: dict | None, prior: dict) -> dict:
    """Posterior odds (null when refused) with the prior's as ``prior_*``."""
    out = dict(prior) | (dict.fromkeys(_ODDS_KEYS) if post is None else post)
    return out | {f"prior_{k}": prior[k] for k in _ODDS_KEYS}
