"""``report.md``: a run folder that explains itself to a colleague who opens it.

The report holds the scenario's description, the odds table, the charts (PNG files beside it), the
key assumptions (every prior with its reason, every lever schedule) and the data sources, all read
from the results Dataset and the shipped data tables. Without charts it imports no matplotlib.
"""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr

from sim import calibration, data, results, targets
from sim.report import summaries
from sim.report.answer import answer_markdown
from sim.report.html import to_html
from sim.report.style import METRIC_LABELS, TECH_LABELS, cite_sections, label, pct
from sim.stats import Odds, effective_sample_size
from sim.vocab import reading_sentence

#: Files a CLI run folder holds beside the report, and what each is.
RUN_FILES = {
    "results.nc": "every draw's results (xarray Dataset; see sim/results.py)",
    "summary.json": "the odds table as data",
    "odds.csv": "the odds table for spreadsheets: one row per target and reading",
    "report.html": "this report as one self-contained page (charts embedded), to forward",
    "config.yaml": "the resolved configuration (Hydra's .hydra/ has the overrides)",
}


def md(text: str) -> str:
    """Escape the characters that would break a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, one line a row."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(md(c) for c in r) + " |" for r in rows]
    return out


def chart_lines(chart_files: list | None, *, what: str) -> list[str]:
    """The report's charts, each under its title with its caption (None: ``what`` drew none)."""
    if chart_files is None:
        return [f"Charts were not drawn for this {what} (`report=false`)."]
    lines = []
    for c in chart_files:
        lines += [f"### {c.title}", "", f"![{c.title}]({c.path})", "", c.caption, ""]
    return lines


def file_lines(files: dict | None) -> list[str]:
    """The section listing the other files of the folder (none when ``files`` is empty)."""
    if not files:
        return []
    return ["", "## Files in this folder", ""] + [
        f"- [`{name}`]({name}): {what}" for name, what in files.items()
    ]


def _target_cells(o: Odds) -> list[str]:
    """A target's first three cells: what it asks, what the share counts, the technology."""
    t = o.target
    return [
        f"above {pct(t.threshold)} by end-{t.year}"
        + (" (**primary reading**)" if t.primary else ""),
        label(t.metric, METRIC_LABELS),
        label(t.tech, TECH_LABELS),
    ]


def odds_markdown(ds: xr.Dataset) -> list[str]:
    """The odds of every target of ``ds`` as Markdown lines (a table and how to read it)."""
    res = summaries.odds(ds)
    rows = [
        [
            *_target_cells(o),
            f"**{pct(o.p_hit, decimals=1)}**",
            f"{pct(o.ci95[0], decimals=1)} to {pct(o.ci95[1], decimals=1)}",
            pct(o.share_median, decimals=1),
            f"{pct(o.share_p05, decimals=1)} to {pct(o.share_p95, decimals=1)}",
            "" if o.cap is None else pct(o.cap, decimals=1) + (" (out of reach)" if o.note else ""),
        ]
        for o in res
    ]
    lines = table(
        [
            "target",
            "share of",
            "technology",
            "P(met)",
            "95% interval of P",
            "median share",
            "5-95% of draws",
            "largest reachable",
        ],
        rows,
    )
    n = int(ds.sizes["draw"])
    w = results.weights_of(ds)
    basis = (
        f"the {n} draws"
        if w is None
        else f"the {n} draws, weighted by their draw weights "
        f"(about {effective_sample_size(w):.0f} effective draws)"
    )
    record = results.calibration_of(ds)
    if record is not None and record["status"] != "ok":
        basis += " (prior odds: the calibration refused posterior odds, see below)"
    elif record is not None:
        basis += " (posterior odds given the observations; prior odds below)"
    lines += [
        "",
        f"P(met) is the share of {basis} whose national share at the end of the target year is "
        "above the threshold; its interval is the 95% Wilson interval (uncertainty from the "
        "finite number of draws). The opinion does not say what 'penetration' counts, so "
        "every reading is shown, the primary reading first. 'Largest reachable' is the highest "
        "share the reading can reach by that year under the priors (its built-in cap); a target "
        "above it is out of reach by assumption and gets P(met) = 0.",
        *readings_markdown(ds, res),
    ]
    return lines


def readings_markdown(ds: xr.Dataset, odds: list[Odds]) -> list[str]:
    """What each reading counts, in one sentence, and each metric's denominator."""
    seen = dict.fromkeys((o.target.metric, o.target.tech) for o in odds)
    lines = ["", "What each reading counts:", ""]
    lines += [f"- {label(m, METRIC_LABELS)}, {label(k, TECH_LABELS)}: {reading_sentence(m, k)}"
              for m, k in seen]  # fmt: skip
    denominators = results.denominators_of(ds)
    if denominators:
        lines += ["", "Denominators (what the population's weights add up to):", ""]
        lines += [f"- {label(m, METRIC_LABELS)}: {d['total'] / 1e6:,.2f} million {d['unit']} "
                  f"({d['year']})" for m, d in denominators.items()]  # fmt: skip
    return lines


def _band(b: dict) -> str:
    lo, hi = pct(b["p05"], decimals=1), pct(b["p95"], decimals=1)
    return f"{pct(b['median'], decimals=1)} ({lo} to {hi})"


def calibration_markdown(ds: xr.Dataset) -> list[str]:
    """How a calibrated run was conditioned on observations: status, effective draws, prior
    against posterior odds, and where each observation falls in the model's predictions.
    Empty for a run that was not calibrated."""
    record = results.calibration_of(ds)
    if record is None:
        return []
    ok = record["status"] == "ok"
    message = record["message"][:1].upper() + record["message"][1:]
    until = f", using observations up to {record['until']} (later ones held out)"
    how = (
        f"Method: sequential Monte Carlo ({record['sampler']['particles']:,} particles), "
        if "sampler" in record
        else f"Method: {record['method']} weights, "
    )
    lines = [
        "## Calibration to observed adoption",
        "",
        f"{how}from {record['n_used']} observations in "
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
    if "sampler" in record:
        sentence = calibration.describe_sampler(record["sampler"])
        lines += [sentence[:1].upper() + sentence[1:] + ".", ""]
    primary = targets.primary_lineage_odds(ds) if ok else None
    lineages = calibration.describe_lineages(
        record | {"primary_n_eff": None if primary is None else primary.n_eff}
    )
    if lineages is not None:
        lines += [lineages[:1].upper() + lineages[1:] + ".", ""]
    if ok:
        lines += [*_prior_posterior_table(ds), ""]
    return lines + _checks_markdown(record) + _not_used_markdown(record)


def _prior_posterior_table(ds: xr.Dataset) -> list[str]:
    """Each target's prior and posterior odds, with the posterior's interval."""
    prior = {o.target: o for o in summaries.odds(summaries.prior_of(ds))}
    rows = [
        [
            *_target_cells(o),
            pct(prior[o.target].p_hit, decimals=1),
            f"**{pct(o.p_hit, decimals=1)}**",
            f"{pct(o.ci95[0], decimals=1)} to {pct(o.ci95[1], decimals=1)}",
        ]
        for o in summaries.odds(ds)
    ]
    header = ["target", "share of", "technology", "prior P(met)", "posterior P(met)"]
    return table([*header, "95% interval (posterior)"], rows)


def _checks_markdown(record: dict) -> list[str]:
    """The predictive check: each observation against the prior and posterior model."""
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
    header = ["observation", "value", "sd used", "status", "prior model", "prior PIT"]
    return [
        "Predictive check: each observation against the model's value of what it measures "
        "(median and 5-95% of draws). PIT is the predictive probability of a value at or below "
        "the observation (observation uncertainty included): near 0 or 1 the model does not "
        "expect it. Used observations weight the draws, so their posterior check is "
        "optimistic; held-out ones test a forecast.",
        "",
        *table([*header, "posterior model", "posterior PIT"], rows),
        "",
    ]


def _not_used_markdown(record: dict) -> list[str]:
    """The observations the calibration did not use, grouped by series and reason."""
    unused: dict[tuple[str, str, str], list[str]] = {}
    for u in record["not_used"]:
        unused.setdefault((u["series"], u["status"], u.get("note", "")), []).append(u["date"])
    if not unused:
        return []
    lines = ["Observations not used:", ""]
    for (series, status, note), dates in unused.items():
        why = status.replace("_", " ")
        if note and not note.startswith(why):
            why += f"; {note}"
        elif note:
            why = note
        lines.append(f"- {series} ({', '.join(dates)}): {md(why)}")
    return [*lines, ""]


def _prior_row(p: dict) -> list[str]:
    if p["dist"] == "fixed" or p["low"] == p["high"]:
        dist = f"fixed at {p['low']:g}"
    elif p["dist"] == "triangular":
        dist = f"triangular, {p['low']:g} to {p['high']:g}, mode {p['mode']:g}"
    else:
        dist = f"{p['dist']}, {p['low']:g} to {p['high']:g}"
    reason = p["reason"]
    if p["name"].startswith("lever.") and reason.startswith("assumption"):
        # No evidence measures a lever's effect: say so where the reader looks.
        reason = "**illustrative assumption**" + reason[len("assumption") :]
    return [f"`{p['name']}`", dist, f"{p['central']:g}", reason]


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
        *table(
            ["parameter", "prior", "central", "reason or source"], [_prior_row(p) for p in priors]
        ),
        "",
        "### Support levers",
        "",
        "Intensity 1.0 is current policy, which the calibrated trend already embodies: it adds "
        "nothing. An intensity holds from the year listed until the next one (today's 1.0 before "
        "the first); each lever acts, after its lag, on the channels listed, by its deviation "
        "from 1.0 and the effect priors `lever.NAME.CHANNEL` above (0 takes today's effect "
        "out: support withdrawn).",
        "",
        *table(
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
            lines.append(f"  - {md(src)} ({who})")
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


def _overrides_line(ds: xr.Dataset) -> str:
    over = results.overrides_of(ds)
    cli = " ".join(f"`{o}`" for o in over["command_line"]) or "none"
    scen = ", ".join(f"`{k}`" for k in over["scenario"]) or "none"
    return f"Overrides: command line {cli}; scenario file `{ds.attrs.get('scenario')}` sets {scen}."


def render(
    ds: xr.Dataset,
    chart_files: list | None = None,
    *,
    files: dict | None = None,
    summary: dict | None = None,
) -> str:
    """The report's Markdown text: the answer first, then the appendix.

    Parameters
    ----------
    ds : Dataset
        The run's results.
    summary : dict, optional
        Its summary (:func:`sim.targets.summarize`; computed from ``ds`` when None).
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
        *answer_markdown(ds, targets.summarize(ds) if summary is None else summary),
        "## Appendix: the run",
        "",
        _run_line(ds),
        "",
        *([ds.attrs["population_units"], ""] if ds.attrs.get("population_units") else []),
        _overrides_line(ds),
        "",
        "## Odds of the targets",
        "",
        *odds_markdown(ds),
        "",
        *calibration_markdown(ds),
        "## Charts",
        "",
    ]
    lines += chart_lines(chart_files, what="run")
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
    lines += file_lines(files)
    return cite_sections("\n".join(lines))


def write_report(
    ds: xr.Dataset, folder: Path, *, charts: bool = True, summary: dict | None = None
) -> Path:
    """Write ``report.md`` and ``report.html`` (and, with ``charts``, the PNGs they show) into a
    run folder.

    Parameters
    ----------
    ds : Dataset
        The run's results.
    folder : Path
        The run folder (exists).
    charts : bool
        Draw the charts into ``folder/charts/``. False (``report=false``) writes the text only and
        never imports matplotlib.
    summary : dict, optional
        The run's summary (:func:`sim.targets.summarize`; computed from ``ds`` when None).

    Returns
    -------
    Path
        The path of ``report.md``.
    """
    folder = Path(folder)
    chart_files = None
    if charts:
        from sim.report.figures import save_charts

        chart_files = save_charts(ds, folder)
    files = {k: v for k, v in RUN_FILES.items() if (folder / k).exists() or k == "report.html"}
    path = folder / "report.md"
    text = render(ds, chart_files, files=files, summary=summary)
    results.write_text(text, path)
    results.write_text(to_html(text, folder), folder / "report.html")
    return path
