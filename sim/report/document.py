"""``report.md``: a run folder that explains itself to a colleague who opens it.

The report holds the scenario's description, the odds table, the charts (PNG files beside it), the
key assumptions (every prior with its reason, every lever schedule) and the data sources, all read
from the results Dataset and the shipped data tables. Without charts it imports no matplotlib.
"""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr

from sim import calibration, data, results
from sim.report import stats
from sim.report.style import METRIC_LABELS, TECH_LABELS, label, pct

#: Files a CLI run folder holds beside the report, and what each is.
RUN_FILES = {
    "results.nc": "every draw's results (xarray Dataset; see sim/results.py)",
    "summary.json": "the odds table as data",
    "config.yaml": "the resolved configuration (Hydra's .hydra/ has the overrides)",
}


def _md(text: str) -> str:
    """Escape the characters that would break a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
    return out


def odds_markdown(ds: xr.Dataset) -> list[str]:
    """The odds of every target of ``ds`` as Markdown lines (a table and how to read it)."""
    res = stats.odds(ds)
    rows = [
        [
            f"above {pct(o.target.threshold)} by end-{o.target.year}",
            label(o.target.metric, METRIC_LABELS),
            label(o.target.tech, TECH_LABELS),
            f"**{pct(o.p_hit, decimals=1)}**",
            f"{pct(o.ci95[0], decimals=1)} to {pct(o.ci95[1], decimals=1)}",
            pct(o.share_median, decimals=1),
            f"{pct(o.share_p05, decimals=1)} to {pct(o.share_p95, decimals=1)}",
        ]
        for o in res
    ]
    lines = _table(
        [
            "target",
            "share of",
            "technology",
            "P(met)",
            "95% interval of P",
            "median share",
            "5-95% of draws",
        ],
        rows,
    )
    n = int(ds.sizes["draw"])
    w = stats.draw_weights(ds)
    basis = (
        f"the {n} draws"
        if w is None
        else f"the {n} draws, weighted by their draw weights "
        f"(about {stats.effective_draws(w, n):.0f} effective draws)"
    )
    record = calibration.status(ds)
    if record is not None and record["status"] != "ok":
        basis += " (prior odds: the calibration refused posterior odds, see below)"
    elif record is not None:
        basis += " (posterior odds given the observations; prior odds below)"
    lines += [
        "",
        f"P(met) is the share of {basis} whose national share at the end of the target year is "
        "above the threshold; its interval is the 95% Wilson interval (uncertainty from the "
        "finite number of draws). The opinion does not say what 'penetration' counts, so "
        "every reading is shown.",
    ]
    return lines


def _band(b: dict) -> str:
    lo, hi = pct(b["p05"], decimals=1), pct(b["p95"], decimals=1)
    return f"{pct(b['median'], decimals=1)} ({lo} to {hi})"


def calibration_markdown(ds: xr.Dataset) -> list[str]:
    """How a calibrated run was conditioned on observations: status, effective draws, prior
    against posterior odds, and where each observation falls in the model's predictions.
    Empty for a run that was not calibrated."""
    record = calibration.status(ds)
    if record is None:
        return []
    ok = record["status"] == "ok"
    message = record["message"][:1].upper() + record["message"][1:]
    until = f", using observations up to {record['until']} (later ones held out)"
    lines = [
        "## Calibration to observed adoption",
        "",
        f"Method: {record['method']} weights from {record['n_used']} observations in "
        f"`{record['observations_file']}` ({record['likelihood']} likelihood, model discrepancy "
        f"{record['discrepancy_sd']:g}{until if record['until'] else ''}). Effective sample size "
        f"**{record['ess']:,.1f}** of {record['n_draws']:,} draws (reported from "
        f"{record['ess_min']:g}): **{record['status']}**.",
        "",
        (
            f"{message}."
            if ok
            else f"**{message}.** This report shows prior odds and prior charts only."
        ),
        "",
    ]
    if ok:
        prior = {o.target: o for o in stats.odds(stats.prior_of(ds))}
        rows = [
            [
                f"above {pct(o.target.threshold)} by end-{o.target.year}",
                label(o.target.metric, METRIC_LABELS),
                label(o.target.tech, TECH_LABELS),
                pct(prior[o.target].p_hit, decimals=1),
                f"**{pct(o.p_hit, decimals=1)}**",
                f"{pct(o.ci95[0], decimals=1)} to {pct(o.ci95[1], decimals=1)}",
            ]
            for o in stats.odds(ds)
        ]
        lines += [
            *_table(
                [
                    "target",
                    "share of",
                    "technology",
                    "prior P(met)",
                    "posterior P(met)",
                    "95% interval (posterior)",
                ],
                rows,
            ),
            "",
        ]
    rows = []
    for c in record["checks"]:
        post = c.get("posterior")
        rows.append(
            [
                f"{c['series']} {c['date']}",
                pct(c["value"], decimals=1),
                f"{c['sd']:.3f}",
                c["status"],
                _band(c["prior"]),
                f"{c['prior']['pit']:.3f}",
                _band(post) if post else "not reported",
                f"{post['pit']:.3f}" if post else "-",
            ]
        )
    lines += [
        "Predictive check: each observation against the model's value of what it measures "
        "(median and 5-95% of draws). PIT is the predictive probability of a value at or below "
        "the observation (observation uncertainty included): near 0 or 1 the model does not "
        "expect it. Used observations weight the draws, so their posterior check is "
        "optimistic; held-out ones test a forecast.",
        "",
        *_table(
            [
                "observation",
                "value",
                "sd used",
                "status",
                "prior model",
                "prior PIT",
                "posterior model",
                "posterior PIT",
            ],
            rows,
        ),
        "",
    ]
    unused: dict[tuple[str, str, str], list[str]] = {}
    for u in record["not_used"]:
        unused.setdefault((u["series"], u["status"], u.get("note", "")), []).append(u["date"])
    if unused:
        lines += ["Observations not used:", ""]
        for (series, status, note), dates in unused.items():
            why = status.replace("_", " ")
            if note and not note.startswith(why):
                why += f"; {note}"
            elif note:
                why = note
            lines.append(f"- {series} ({', '.join(dates)}): {_md(why)}")
        lines.append("")
    return lines


def _prior_row(p: dict) -> list[str]:
    if p["dist"] == "fixed" or p["low"] == p["high"]:
        dist = f"fixed at {p['low']:g}"
    elif p["dist"] == "triangular":
        dist = f"triangular, {p['low']:g} to {p['high']:g}, mode {p['mode']:g}"
    else:
        dist = f"{p['dist']}, {p['low']:g} to {p['high']:g}"
    return [f"`{p['name']}`", dist, f"{p['central']:g}", p["reason"]]


def _lever_row(lv: dict) -> list[str]:
    sched = lv["intensity"]
    when = ", ".join(f"{y}: {x:g}" for y, x in sorted(sched.items())) if sched else "off"
    return [lv["name"], when, f"{lv['lag']:g}", ", ".join(lv["channels"]) or "none"]


def assumptions_markdown(ds: xr.Dataset) -> list[str]:
    """Priors (with reasons) and lever schedules recorded in ``ds``'s attributes."""
    priors = json.loads(ds.attrs.get("priors", "[]"))
    levers = json.loads(ds.attrs.get("levers", "[]"))
    lines = [
        "### Uncertain parameters (priors)",
        "",
        "Each draw samples every parameter from its prior; `central` is its value when "
        "uncertainty is off. Rates are per year.",
        "",
        *_table(
            ["parameter", "prior", "central", "reason or source"], [_prior_row(p) for p in priors]
        ),
        "",
        "### Support levers",
        "",
        "Intensity 1.0 is current policy; it holds from the year listed until the next one. "
        "Each lever acts, after its lag, on the channels listed, by the effect priors "
        "`lever.NAME.CHANNEL` above.",
        "",
        *_table(
            ["lever", "intensity from year", "lag (years)", "acts on"],
            [_lever_row(lv) for lv in levers],
        ),
    ]
    return lines


def sources_markdown() -> list[str]:
    """Sources of every shipped data table (``sim/data``), with the rows that cite each."""
    lines = []
    for name, cited in data.sources().items():
        lines.append(f"- `{name}`")
        for src, keys in cited.items():
            who = "all rows" if len(cited) == 1 else ", ".join(keys)
            lines.append(f"  - {_md(src)} ({who})")
    return lines


def _run_line(ds: xr.Dataset) -> str:
    a = ds.attrs
    versions = json.loads(a.get("versions", "{}"))
    parts = [
        f"scenario `{a.get('scenario')}`",
        f"{int(ds.sizes['draw'])} draws",
        f"seed {a.get('seed')}",
        f"engine {a.get('engine')}",
        f"uncertainty {a.get('uncertainty')} ({a.get('sampling')})",
        f"population {a.get('population')}, {a.get('n_agents')} agents",
        f"adoption rule {a.get('adoption_rule')}",
        f"aiplus-sim {versions.get('aiplus-sim', '?')}",
        f"created {a.get('created')}",
    ]
    return " · ".join(parts)


def render(ds: xr.Dataset, chart_files: list | None = None, *, files: dict | None = None) -> str:
    """The report's Markdown text.

    Parameters
    ----------
    ds : Dataset
        The run's results.
    chart_files : list of ChartFile, optional
        Charts saved beside the report (None: the run drew none).
    files : mapping, optional
        Other files of the run folder (name -> what it is) to list.
    """
    a = ds.attrs
    lines = [
        f"# {a.get('scenario_title') or a.get('scenario', 'aiplus-sim run')}",
        "",
        a.get("scenario_description", ""),
        "",
        _run_line(ds),
        "",
        "## Odds of the targets",
        "",
        *odds_markdown(ds),
        "",
        *calibration_markdown(ds),
        "## Charts",
        "",
    ]
    if chart_files is None:
        lines.append("Charts were not drawn for this run (`report=false`).")
    else:
        for c in chart_files:
            lines += [f"### {c.title}", "", f"![{c.title}]({c.path})", "", c.caption, ""]
    lines += [
        "",
        "## Key assumptions",
        "",
        *assumptions_markdown(ds),
        "",
        "## Data sources",
        "",
        "Tables shipped in `sim/data/`; every row carries its source.",
        "",
        *sources_markdown(),
    ]
    if files:
        lines += ["", "## Files in this folder", ""]
        lines += [f"- [`{name}`]({name}): {what}" for name, what in files.items()]
    return "\n".join(lines).rstrip() + "\n"


def write_report(ds: xr.Dataset, folder: Path, *, charts: bool = True) -> Path:
    """Write ``report.md`` (and, with ``charts``, the PNGs it links) into a run folder.

    Parameters
    ----------
    ds : Dataset
        The run's results.
    folder : Path
        The run folder (exists).
    charts : bool
        Draw the charts into ``folder/charts/``. False (``report=false``) writes the text only and
        never imports matplotlib.

    Returns
    -------
    Path
        The report's path.
    """
    folder = Path(folder)
    chart_files = None
    if charts:
        from sim.report.figures import save_charts

        chart_files = save_charts(ds, folder)
    files = {k: v for k, v in RUN_FILES.items() if (folder / k).exists()}
    path = folder / "report.md"
    results.write_text(render(ds, chart_files, files=files), path)
    return path


# --------------------------------------------------------------------------------------------------
# Comparison folders
# --------------------------------------------------------------------------------------------------
def _bn(yuan: float | None, *, sign: bool = False) -> str:
    if yuan is None:
        return "-"
    return f"{yuan / 1e9:+,.0f}" if sign else f"{yuan / 1e9:,.0f}"


def _pp(x: float) -> str:
    """Percentage points, signed: ``0.075`` -> ``'+7.5'``; no ``'-0.0'``."""
    text = f"{100 * x:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def comparison_markdown(comp: dict) -> list[str]:
    """A comparison's scenarios, costs and paired changes in the odds, as Markdown lines."""
    runs = comp["scenarios"]
    lines = ["## Scenarios", ""]
    cost_rows = []
    for r in runs:
        c = r["public_cost"]
        years = sorted(c["yearly"]) if c else []
        cost_rows.append(
            [
                f"`{r['scenario']}`" + (" (reference)" if r is runs[0] else ""),
                r["title"],
                _bn(c["total"]) if c else "-",
                f"{_bn(c['total_low'])} to {_bn(c['total_high'])}" if c else "-",
            ]
        )
    span = f" {years[0]}-{years[-1]}" if years else ""
    lines += _table(
        ["scenario", "title", f"public cost{span}, bn yuan", "at low / high unit costs"],
        cost_rows,
    )
    lines += [
        "",
        "Public costs use assumed unit costs per lever (`costs:` in `conf/priors/default.yaml`; "
        "no budget figure is in the shared data): the central value, and the totals at the low "
        "and high ends of every unit-cost prior.",
        "",
        "## Paired changes in the odds",
        "",
        f"Each scenario against `{comp['reference']}`, {comp['draws']} draws, seed {comp['seed']}. "
        f"Method: {comp['method']}.",
        "",
    ]
    for j, t in enumerate(runs[0]["targets"]):
        lines += [
            f"### Above {pct(t['threshold'])} by end-{t['year']}: "
            f"{label(t['metric'], METRIC_LABELS)}, {label(t['tech'], TECH_LABELS)}",
            "",
        ]
        rows = []
        for r in runs:
            row = r["targets"][j]
            lo, hi = row["ci95"]
            odds = (
                f"{pct(row['p_hit'], decimals=1)} ({pct(lo, decimals=1)} to {pct(hi, decimals=1)})"
            )
            if "p_hit_diff" not in row:
                rows.append([f"`{r['scenario']}`", odds, "reference", "", "", ""])
                continue
            dlo, dhi = row["p_hit_diff_ci95"]
            per = row.get("p_hit_diff_per_100bn_yuan")
            rows.append(
                [
                    f"`{r['scenario']}`",
                    odds,
                    f"**{_pp(row['p_hit_diff'])}** ({_pp(dlo)} to {_pp(dhi)})",
                    _pp(row["share_diff"]),
                    _bn(row.get("extra_cost_yuan"), sign=True),
                    f"{100 * per:+.2g}" if per is not None else "-",
                ]
            )
        lines += _table(
            [
                "scenario",
                "P(met) (95% interval)",
                "change, pp (95% paired interval)",
                "mean change in the share, pp",
                f"extra cost to end-{t['year']}, bn yuan",
                "pp per 100 bn yuan",
            ],
            rows,
        )
        lines.append("")
    return lines


def render_comparison(
    comp: dict, chart_files: list | None = None, *, files: dict | None = None
) -> str:
    """The Markdown text of a comparison folder's report."""
    ref = comp["scenarios"][0]
    lines = [
        f"# Scenario comparison against {ref['title']}",
        "",
        f"{len(comp['scenarios'])} scenarios run with the same {comp['draws']} draws (seed "
        f"{comp['seed']}): draw i of every scenario shares its parameters and random streams, so "
        "each change below is measured draw by draw.",
        "",
        *comparison_markdown(comp),
        "## Charts",
        "",
    ]
    if chart_files is None:
        lines.append("Charts were not drawn for this comparison (`report=false`).")
    else:
        for c in chart_files:
            lines += [f"### {c.title}", "", f"![{c.title}]({c.path})", "", c.caption, ""]
    if files:
        lines += ["", "## Files in this folder", ""]
        lines += [f"- [`{name}`]({name}): {what}" for name, what in files.items()]
    return "\n".join(lines).rstrip() + "\n"


def write_comparison_report(comp: dict, folder: Path, *, charts: bool = True) -> Path:
    """Write ``report.md`` (and, with ``charts``, the PNGs it links) into a comparison folder.

    Parameters
    ----------
    comp : dict
        The comparison (:func:`sim.comparison.compare`, as in ``comparison.json``).
    folder : Path
        The comparison folder (exists; holds ``NAME/results.nc`` per scenario).
    charts : bool
        Draw the odds-comparison and cost-against-odds charts into ``folder/charts/``. False
        writes the text only and never imports matplotlib.

    Returns
    -------
    Path
        The report's path.
    """
    folder = Path(folder)
    chart_files = None
    if charts:
        from sim.report.figures import save_comparison_charts

        chart_files = save_comparison_charts(comp, folder)
    files = {
        "comparison.json": "the comparison as data (odds, paired changes, costs)",
        "config.yaml": RUN_FILES["config.yaml"],
    }
    for r in comp["scenarios"]:
        name = r["scenario"]
        files[f"{name}/results.nc"] = f"every draw's results of `{name}`"
        files[f"{name}/summary.json"] = f"the odds table of `{name}` as data"
    files = {k: v for k, v in files.items() if (folder / k).exists()}
    path = folder / "report.md"
    results.write_text(render_comparison(comp, chart_files, files=files), path)
    return path
