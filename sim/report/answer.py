"""The answer a report leads with: the primary reading's odds in words and numbers, and why.

For each target year of the primary reading (``summary["primary"]``): the odds in the IPCC's
calibrated words [1]_ and in numbers, the one or two largest drivers, the built-in cap when it
binds, what would change the odds, and the assumptions behind them in one line. The drivers are
the sampled parameters with the largest absolute rank correlation (Spearman, weighted by the
draws' weights) with the primary share at the end of the target year: a screening measure, not a
variance decomposition, and the text says so. A comparison leads with the paired changes of the
primary reading's odds (:func:`comparison_answer_markdown`).

Nothing here imports matplotlib.

References
----------
.. [1] Mastrandrea, M. D. et al. (2010). Guidance note for lead authors of the IPCC Fifth
   Assessment Report on consistent treatment of uncertainties. IPCC, table 1 (likelihood scale).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import xarray as xr

from sim import calibration, results, targets
from sim.comparison import Comparison
from sim.report.style import METRIC_LABELS, TECH_LABELS, label, pct, pp
from sim.stats import rank_correlation

#: The IPCC likelihood scale [1]_, upper bounds first checked from the top: P >= bound -> words.
LIKELIHOOD: tuple[tuple[float, str], ...] = (
    (0.99, "virtually certain"),
    (0.90, "very likely"),
    (0.66, "likely"),
    (0.33, "about as likely as not"),
    (0.10, "unlikely"),
    (0.01, "very unlikely"),
    (0.0, "exceptionally unlikely"),
)


def likelihood_words(p: float) -> str:
    """``0.72`` -> ``'likely'`` (IPCC's calibrated language, [1]_)."""
    return next(words for bound, words in LIKELIHOOD if p >= bound)


@dataclass(frozen=True)
class Driver:
    """A sampled parameter and its rank correlation with a share across draws."""

    param: str
    rho: float


def drivers(ds: xr.Dataset, year: int, tech: str, metric: str, *, n: int = 2) -> list[Driver]:
    """The ``n`` parameters of ``ds`` whose sampled values have the largest absolute rank
    correlation with the share of ``(tech, metric)`` at the end of ``year`` (draw-weighted);
    parameters that do not vary across the draws are left out."""
    if "param_value" not in ds or ds.sizes["draw"] < 3:
        return []
    share = results.share_at(ds, year, tech, metric).values
    w = results.weights_of(ds)
    found = []
    for name in results.param_names(ds):
        rho = rank_correlation(results.param_value(ds, name), share, weights=w)
        if not math.isnan(rho):
            found.append(Driver(name, rho))
    return sorted(found, key=lambda d: -abs(d.rho))[:n]


def _odds_of(row: dict) -> dict:
    """A summary row's reported odds: the prior ones when calibration refused the posterior."""
    if row.get("p_hit") is None and row.get("prior_p_hit") is not None:
        return {k[6:]: v for k, v in row.items() if k.startswith("prior_")}
    return row


def _prior_text(ds: xr.Dataset, name: str) -> str:
    for p in json.loads(ds.attrs.get("priors", "[]")):
        if p["name"] == name:
            return f"{p['dist']} {p['low']:g} to {p['high']:g}"
    return "prior not recorded"


def _assumptions(ds: xr.Dataset, summary: dict) -> str:
    a = ds.attrs
    over = summary.get("overrides", {}).get("command_line", [])
    calibrated = results.calibration_of(ds)
    cal = "not calibrated to observations"
    if calibrated is not None:
        cal = f"calibration {calibrated['status']} (ESS {calibrated['ess']:.0f})"
        primary = targets.primary_lineage_odds(ds) if calibrated["status"] == "ok" else None
        if primary is not None:
            cal = (
                f"calibration {calibrated['status']} ({calibrated['ess']:,.0f} distinct "
                f"particles; the primary interval counts about {primary.n_eff:,.0f} independent "
                "draws)"
            )
    return (
        f"**Assumptions:** scenario `{a.get('scenario')}` ({a.get('scenario_title')}); "
        f"{calibration.describe_draws(summary)} (priors in `conf/priors/default.yaml`, "
        f"uncertainty {a.get('uncertainty')}); population {a.get('population')}, "
        f"{a.get('n_agents')} agents; {cal}; overrides: "
        + (" ".join(f"`{o}`" for o in over) or "none")
        + ". Everything below the answer is the appendix."
    )


def answer_markdown(ds: xr.Dataset, summary: dict) -> list[str]:
    """The report's opening "Answer" section, as Markdown lines.

    Parameters
    ----------
    ds : Dataset
        The run's results (for the drivers and the priors).
    summary : dict
        Its summary (:func:`sim.targets.summarize`): the odds quoted are its primary rows'.
    """
    primary = summary.get("primary")
    rows = [r for r in summary["targets"] if r.get("primary")]
    if primary is None or not rows:
        return []
    reading = (
        f"{label(primary['tech'], TECH_LABELS)} as a share of "
        f"{label(primary['metric'], METRIC_LABELS)}"
    )
    lines = ["## Answer", "", f"Primary reading: **{reading}**.", ""]
    because: list[str] = []
    for row in rows:
        o = _odds_of(row)
        lo, hi = o["ci95"]
        lines.append(
            f"- **Above {pct(row['threshold'])} by end-{row['year']}: "
            f"{likelihood_words(o['p_hit'])}, {pct(o['p_hit'], decimals=1)}** "
            f"(95% interval {pct(lo, decimals=1)} to {pct(hi, decimals=1)}); median share "
            f"{pct(o['share_median'], decimals=1)}, 5-95% of draws "
            f"{pct(o['share_p05'], decimals=1)} to {pct(o['share_p95'], decimals=1)}."
        )
        if row.get("cap_binds"):
            lines.append(
                f"  The built-in cap binds: no draw can exceed {pct(row['cap'], decimals=1)} "
                f"of {label(primary['metric'], METRIC_LABELS)}, below the "
                f"{pct(row['threshold'])} threshold."
            )
        found = [] if "drivers" in summary else drivers(ds, row["year"], row["tech"], row["metric"])
        if "drivers" in summary:
            because += _sobol_because(summary["drivers"], row["year"])
        if found:
            named = " and ".join(f"`{d.param}` (ρ = {d.rho:+.2f})" for d in found)
            because.append(f"{row['year']}: {named}")
            up = [
                f"a {'higher' if d.rho > 0 else 'lower'} `{d.param}` "
                f"(prior {_prior_text(ds, d.param)})"
                for d in found
            ]
            change = f"  Would raise the {row['year']} odds: {' or '.join(up)}"
            lines.append(change + ", or a lever acting on it (try `compare=`).")
    lines.append("")
    if "drivers" in summary and because:
        lines.append(
            "**Why:** the parameters with the largest total-order Sobol' index of the primary "
            "share at the end of each target year (its share of the variance, interactions "
            "included; see *What drives the odds*): " + "; ".join(because) + "."
        )
    elif because:
        lines.append(
            "**Why:** the parameters whose draws move the primary share most, by absolute rank "
            "correlation with the share at the end of each target year (Spearman's ρ across the "
            "draws; a screening measure, not a variance decomposition): " + "; ".join(because) + "."
        )
    else:
        lines.append(
            "**Why:** no sampled parameter varies across the draws (or too few draws), so no "
            "driver can be named; the spread comes from the agents' chance decisions only."
        )
    lines += ["", _assumptions(ds, summary), ""]
    if "drivers" in summary:
        lines += drivers_markdown(summary)
    if "design" in summary:
        lines += design_markdown(summary["design"])
    return lines


def design_markdown(design: dict) -> list[str]:
    """The "Cheapest programme" section of a ``design=`` run (``summary["design"]``)."""
    front = design["frontier"]
    rows = [
        f"| {p['extra_cost_yuan'] / 1e9:,.0f} | {pct(p['p_hit'], decimals=1)} | "
        + ", ".join(
            f"{n} {x:.2f}"
            for n, x in zip(design["intensity"], p["intensity"], strict=True)
            if x > 1.0 + 1e-3
        )
        + " |"
        for p in front
    ]
    return [
        "## The cheapest programme",
        "",
        design["sentence"],
        "",
        "The scenario file `designed.yaml` in this folder holds the schedule (run and edit it: "
        "`python -m sim scenario=PATH/designed.yaml`); `design.json` has every number. The "
        "cost-odds frontier of the schedules evaluated (`charts/frontier.png`):",
        "",
        "| extra cost, bn yuan | P(hit), smoothed | intensities above today's 1.0 |",
        "|---|---|---|",
        *rows,
        "",
    ]


def _entry(drv: dict, year: int, output: str) -> dict | None:
    return next((e for e in drv["targets"] if e["year"] == year and e["output"] == output), None)


def _sobol_because(drv: dict, year: int) -> list[str]:
    e = _entry(drv, year, "share")
    if e is None:
        return []
    named = [
        f"`{p['parameter']}` ({pct(p['total_order'])})"
        for p in e["parameters"][:2]
        if p["total_order"] is not None
    ]
    return [f"{year}: {' and '.join(named)}"] if named else []


def _share(index: float | None) -> str:
    """A Sobol' index as a share of the variance: sampling noise can push an estimate below 0
    or above 1, which no share can be, so it is shown clipped to [0%, 100%]."""
    return pct(min(max(index or 0.0, 0.0), 1.0))


def _sobol_phrase(e: dict, what: str) -> str:
    """``"the ceiling ... explains about X% of the variance of WHAT; no lever ... Y%"``."""
    params = [p for p in e["parameters"] if p["total_order"] is not None]
    if not params or max(p["total_order"] for p in params) <= 0:
        return (
            f"no parameter moves {what}: every simulation of the design lands on the same "
            "side of the target"
        )
    first = params[0]
    lo, hi = first["total_order_interval"]
    second = ", then ".join(f"`{p['parameter']}` {_share(p['total_order'])}" for p in params[1:4])
    levers = [p for p in params if p["parameter"].startswith("lever.")]
    if not levers:
        lever = "no lever effect is sampled"
    elif levers[0]["total_order"] < 0.005:
        lever = "no lever effect explains any of it"
    else:
        lever = (
            f"no lever effect explains more than {pct(levers[0]['total_order'])} "
            f"(the largest, `{levers[0]['parameter']}`)"
        )
    return (
        f"`{first['parameter']}` explains about {_share(first['total_order'])} of the "
        f"variance of {what} (total order, interval {_share(lo)} to "
        f"{_share(hi)}; {_share(first['first_order'])} alone), then {second}; {lever}"
    )


def drivers_markdown(summary: dict) -> list[str]:
    """The "What drives the odds" section: Sobol' indices in words, the PRIM boxes of the
    missed futures, and what learning a parameter or the next statistic would do."""
    drv = summary["drivers"]
    lines = ["## What drives the odds", ""]
    years = sorted({e["year"] for e in drv["targets"]})
    for year in years:
        share, hit = _entry(drv, year, "share"), _entry(drv, year, "p_hit")
        if share:
            lines.append(f"- **{year} share:** {_sobol_phrase(share, f'the {year} share')}.")
        if hit:
            rare = ""
            m = hit.get("design_mean")
            if m is not None and 0 < min(m, 1 - m) < 0.02:
                rare = (
                    f" Only {pct(min(m, 1 - m), decimals=1)} of the design's simulations "
                    f"{'hit' if m < 0.5 else 'miss'}: these indices rest on a handful of them."
                )
            lines.append(
                f"- **Hitting {year}:** {_sobol_phrase(hit, f'hitting the {year} target')}.{rare}"
            )
    if any(
        p["parameter"].startswith("lever.") for e in drv["targets"] for p in e["parameters"]
    ) and all(
        (p["total_order"] or 0.0) < 0.005
        for e in drv["targets"]
        for p in e["parameters"]
        if p["parameter"].startswith("lever.")
    ):
        lines += [
            "",
            "No lever effect explains any variance because at today's intensities (1.0, "
            "inside the calibrated trend) the levers add nothing: their effect sizes matter "
            "only to scenarios that change the intensities (see `design=`, `compare=`).",
        ]
    lines += [
        "",
        f"Method: {drv['method']}; {drv['n_evaluations']:,} simulations of "
        f"{drv['n_agents']:,} agents ({drv['n_base']} base samples, {drv['seconds']:.0f} s); "
        f"{pct(drv['confidence'])} bootstrap intervals. The agents' chance is common to the "
        "design's rows, so the indices share out the parameters' part of the variance. "
        "Chart: `charts/drivers.png`; every index in `summary.json` (`drivers`).",
        "",
    ]
    voi = []
    for year in years:
        hit = _entry(drv, year, "p_hit")
        params = [p for p in (hit or {}).get("parameters", []) if p["first_order"] is not None]
        if params:
            best = max(params, key=lambda p: p["first_order"])
            voi.append(
                f"for {year}, knowing `{best['parameter']}` would remove about "
                f"{_share(best['first_order'])} of the variance of hitting the target "
                "(its first-order index)"
            )
    if voi:
        lines += ["**Which unknown matters most:** " + "; ".join(voi) + ".", ""]
    if nxt := summary.get("next_observation"):
        lines += [f"**The next statistic:** {nxt['sentence']}", ""]
    for box in summary.get("discovery", []):
        for kind, words in (("missed", "miss"), ("hit", "hit")):
            b = box.get(kind)
            if b and not b["restricted"]:
                lines.append(
                    f"- **Futures that {words} {box['year']}:** {pct(b['density'], decimals=1)} "
                    "of all futures do, so no range of the parameters sets them apart."
                )
            elif b:
                lines.append(f"- **Futures that {words} {box['year']}** (PRIM box): {b['words']}.")
    if summary.get("discovery"):
        lines += [
            "",
            "PRIM (Friedman & Fisher 1999) peels the parameter space towards the futures "
            "named, on the five parameters with the largest total-order index of each target "
            "year's hit and share; the box shown is the widest whose density reaches 90% (or "
            "the densest), then pasted. "
            "Coverage: share of those futures inside the box; density: share of the box's "
            "futures that are of that kind.",
            "",
        ]
    return lines


def comparison_answer_markdown(comp: Comparison) -> list[str]:
    """A comparison's opening "Answer": for each scenario, its paired change in the primary
    reading's odds at each target year with the interval and extra cost, or that it changes
    nothing measurable (the 95% paired interval holds zero)."""
    cols = [j for j, t in enumerate(comp.targets) if t.primary]
    if not cols:
        return []
    lines = ["## Answer", ""]
    t0 = comp.targets[cols[0]]
    lines += [
        f"Primary reading: **{label(t0.tech, TECH_LABELS)} as a share of "
        f"{label(t0.metric, METRIC_LABELS)}**, each scenario against `{comp.reference}` "
        "(paired: the same draws).",
        "",
    ]
    for s in comp.scenarios[1:]:
        moved, still = [], []
        for j in cols:
            t, c = comp.targets[j], s.rows[j].change
            if c is None:
                continue
            lo, hi = c.p_hit_diff_ci95
            if lo <= 0 <= hi:
                still.append(str(t.year))
                continue
            verb = "raises" if c.p_hit_diff > 0 else "lowers"
            cost = (
                f" for {c.extra_cost_yuan / 1e9:,.0f} bn yuan"
                if c.extra_cost_yuan is not None
                else ""
            )
            moved.append(
                f"{verb} the {t.year} odds by {pp(abs(c.p_hit_diff)).lstrip('+')} points "
                f"[{pp(lo)}, {pp(hi)}]{cost}"
            )
        parts = moved + ([f"changes nothing measurable in {', '.join(still)}"] if still else [])
        lines.append(f"- **{s.title}** (`{s.scenario}`) {'; '.join(parts)}.")
    lines += [
        "",
        "Points are percentage points of the odds; the interval is the 95% paired interval "
        "(Newcombe); 'nothing measurable' means it holds zero. Costs use assumed unit costs. "
        "Everything below the answer is the appendix.",
        "",
    ]
    return lines
