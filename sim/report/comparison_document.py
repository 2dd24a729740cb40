"""``report.md`` of a comparison folder: the scenarios, their costs and their paired changes in
the odds of each target (:func:`sim.comparison.compare`)."""

from __future__ import annotations

from pathlib import Path

from sim import results
from sim.comparison import Comparison, Row
from sim.report.answer import comparison_answer_markdown
from sim.report.document import RUN_FILES, chart_lines, file_lines, table
from sim.report.html import to_html
from sim.report.style import METRIC_LABELS, TECH_LABELS, cite_sections, label, pct, pp


def _bn(yuan: float | None, *, sign: bool = False) -> str:
    if yuan is None:
        return "-"
    return f"{yuan / 1e9:+,.0f}" if sign else f"{yuan / 1e9:,.0f}"


def _cost_markdown(comp: Comparison) -> list[str]:
    """Each scenario's title and public cost (central, and at the low and high unit costs)."""
    rows, years = [], []
    for s in comp.scenarios:
        c = s.public_cost
        years = sorted(c["yearly"]) if c else []
        rows.append(
            [
                f"`{s.scenario}`" + (" (reference)" if s is comp.scenarios[0] else ""),
                s.title,
                _bn(c["total"]) if c else "-",
                f"{_bn(c['total_low'])} to {_bn(c['total_high'])}" if c else "-",
            ]
        )
    span = f" {years[0]}-{years[-1]}" if years else ""
    header = ["scenario", "title", f"public cost{span}, bn yuan", "at low / high unit costs"]
    return table(header, rows)


def _change_cells(scenario: str, row: Row) -> list[str]:
    """One scenario's cells in a target's table: its odds and its paired change."""
    lo, hi = row.odds.ci95
    odds = f"{pct(row.odds.p_hit, decimals=1)} ({pct(lo, decimals=1)} to {pct(hi, decimals=1)})"
    c = row.change
    if c is None:
        return [f"`{scenario}`", odds, "reference", "", "", ""]
    dlo, dhi = c.p_hit_diff_ci95
    per = c.p_hit_diff_per_100bn_yuan
    return [
        f"`{scenario}`",
        odds,
        f"**{pp(c.p_hit_diff)}** ({pp(dlo)} to {pp(dhi)})",
        pp(c.share_diff),
        _bn(c.extra_cost_yuan, sign=True),
        f"{100 * per:+.2g}" if per is not None else "-",
    ]


def comparison_markdown(comp: Comparison) -> list[str]:
    """A comparison's scenarios, costs and paired changes in the odds, as Markdown lines."""
    lines = [
        "## Scenarios",
        "",
        *_cost_markdown(comp),
        "",
        "Public costs use assumed unit costs per lever (`costs:` in `conf/priors/default.yaml`; "
        "no budget figure is in the shared data): the central value, and the totals at the low "
        "and high ends of every unit-cost prior.",
        "",
        "## Paired changes in the odds",
        "",
        f"Each scenario against `{comp.reference}`, {comp.draws} draws, seed {comp.seed}. "
        f"Method: {comp.method}.",
        "",
    ]
    for j, t in enumerate(comp.targets):
        lines += [
            f"### Above {pct(t.threshold)} by end-{t.year}: "
            f"{label(t.metric, METRIC_LABELS)}, {label(t.tech, TECH_LABELS)}",
            "",
        ]
        header = [
            "scenario",
            "P(met) (95% interval)",
            "change, pp (95% paired interval)",
            "mean change in the share, pp",
            f"extra cost to end-{t.year}, bn yuan",
            "pp per 100 bn yuan",
        ]
        lines += table(header, [_change_cells(s.scenario, s.rows[j]) for s in comp.scenarios])
        lines.append("")
    return lines


def render_comparison(
    comp: Comparison, chart_files: list | None = None, *, files: dict | None = None
) -> str:
    """The Markdown text of a comparison folder's report."""
    lines = [
        f"# Scenario comparison against {comp.scenarios[0].title}",
        "",
        f"{len(comp.scenarios)} scenarios run with the same {comp.draws} draws (seed "
        f"{comp.seed}): draw i of every scenario shares its parameters and random streams, so "
        "each change below is measured draw by draw.",
        "",
        *comparison_answer_markdown(comp),
        *comparison_markdown(comp),
        "## Charts",
        "",
        *chart_lines(chart_files, what="comparison"),
        *file_lines(files),
    ]
    return cite_sections("\n".join(lines))


def write_comparison_report(comp: Comparison, folder: Path, *, charts: bool = True) -> Path:
    """Write ``report.md`` (and, with ``charts``, the PNGs it links) into a comparison folder.

    Parameters
    ----------
    comp : Comparison
        The comparison (:func:`sim.comparison.compare`).
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
    for s in comp.scenarios:
        files[f"{s.scenario}/results.nc"] = f"every draw's results of `{s.scenario}`"
        files[f"{s.scenario}/summary.json"] = f"the odds table of `{s.scenario}` as data"
    files = {k: v for k, v in files.items() if (folder / k).exists()}
    files["report.html"] = "this report as one self-contained page (charts embedded), to forward"
    path = folder / "report.md"
    text = render_comparison(comp, chart_files, files=files)
    results.write_text(text, path)
    results.write_text(to_html(text, folder), folder / "report.html")
    return path
