"""The report's chart files: multi-panel figures of :mod:`sim.report.charts`, saved as PNG.

Figures are built on :class:`matplotlib.figure.Figure` directly (not pyplot), so saving them
needs no display and leaves any interactive session's figures alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import xarray as xr
from matplotlib.figure import Figure

from sim import results
from sim.comparison import Comparison
from sim.design import Design
from sim.report import charts, summaries
from sim.report.style import RC
from sim.report.tiles import TILES
from sim.vocab import METRICS


@dataclass(frozen=True)
class ChartFile:
    """One saved chart: its file name (relative to the run folder), title and how to read it."""

    path: str
    title: str
    caption: str


def _save(fig: Figure, path: Path) -> None:
    """Save atomically, so a reader never sees half a PNG."""
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)


def _grid(
    draw: Callable[..., object], panels: list[dict], *, ncols: int, panel: tuple[float, float]
) -> Figure:
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    axs = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, kw in zip(axs, panels, strict=False):
        draw(ax=ax, **kw)
    for ax in axs[len(panels) :]:
        ax.set_visible(False)
    return fig


def save_charts(ds: xr.Dataset, folder: Path) -> list[ChartFile]:
    """Draw the report's charts of ``ds`` into ``folder/charts/``; return them in report order."""
    out = Path(folder) / "charts"
    out.mkdir(parents=True, exist_ok=True)
    specs = [_odds_spec(ds), *_adoption_specs(ds), *_map_specs(ds)]
    if "calibration" in ds.attrs:
        specs[1:1] = _calibration_specs(ds)
    if (Path(folder) / DRIVERS_FILE).exists():
        specs[1:1] = [_drivers_spec(results.read(Path(folder) / DRIVERS_FILE))]
    return _save_all(specs, out)


#: The drivers analysis's indices in a run folder (:meth:`sim.analysis.Drivers.to_dataset`).
DRIVERS_FILE = "drivers.nc"


def _drivers_spec(drivers: xr.Dataset) -> tuple:
    """Tornado charts of the primary targets' hits and shares, one row per target year."""
    outputs = [str(o) for o in drivers["output"].values]
    panels = [{"output": o} for o in sorted(outputs, key=lambda o: (o[-4:], o))]
    return (
        "drivers.png",
        "What drives the odds",
        "Share of the variance of each output explained by each input (Sobol' indices): "
        "first order, the input alone; total order, with its interactions. Bars: bootstrap "
        "intervals. hit_YEAR is 1 when the primary share passes the target, so its variance "
        "is P(1 - P); share_YEAR is the primary share at the end of the year. "
        + drivers.attrs.get("method", "")
        + ".",
        lambda: _grid(
            lambda ax, output: charts.tornado_chart(drivers, output=output, ax=ax),
            panels,
            ncols=2,
            panel=(7.0, 4.6),
        ),
    )


def _odds_spec(ds: xr.Dataset) -> tuple:
    weighted = results.weights_of(ds) is not None
    return (
        "odds.png",
        "Odds of meeting each target",
        "Dot: share of draws in which the target is met; bar: its 95% Wilson interval "
        "(how sure we are of that share given the number of draws, not the spread of "
        "outcomes). Rows are the four readings of 'penetration'."
        + (
            " Draws are weighted by the observations (posterior odds), here and in the "
            "charts below."
            if weighted
            else ""
        ),
        lambda: _grid(lambda ax: charts.odds_chart(ds, ax=ax), [{}], ncols=1, panel=(8.0, 5.0)),
    )


def _adoption_specs(ds: xr.Dataset) -> list[tuple]:
    """Fan charts of every metric (both technologies together, then apart) and crossing years."""
    panels = [{"metric": m} for m in METRICS if m in ds["metric"].values]
    return [
        (
            "fan_any.png",
            "Adoption over time (terminal or agent)",
            "Line: median over draws; dark band: middle 50% of draws; light band: middle 90%. "
            "Diamonds: the targets. Markers: observations of the reading drawn, as in the next "
            "chart (the shipped series count AI agents alone, so they appear there only).",
            lambda: _grid(
                lambda ax, metric: charts.fan_chart(ds, metric=metric, tech="any", ax=ax),
                panels,
                ncols=2,
                panel=(6.0, 3.8),
            ),
        ),
        (
            "fan_by_tech.png",
            "Adoption over time: AI terminals and AI agents separately",
            "As above, one colour per technology; the targets are set for either technology. "
            "Markers: observed values of the reading they measure (sim/data/observations.csv, "
            "or the calibration's file), filled with the technology's colour, with a bar of "
            "their 90% interval (+-1.645 standard deviations of the observation).",
            lambda: _grid(
                lambda ax, metric: charts.fan_chart(
                    ds, metric=metric, tech=["terminal", "agent"], ax=ax
                ),
                panels,
                ncols=2,
                panel=(6.0, 3.8),
            ),
        ),
        (
            "crossing_years.png",
            "Year each target threshold is first passed",
            "Bars: share of draws whose national share first passes the threshold in that "
            "year; hatched bar: not within the horizon. Dashed line: the target's deadline.",
            lambda: _grid(
                lambda ax, metric: charts.crossing_year_chart(ds, metric=metric, ax=ax),
                panels,
                ncols=2,
                panel=(6.0, 3.8),
            ),
        ),
    ]


def _map_specs(ds: xr.Dataset) -> list[tuple]:
    """The province map at each target year and, for firm metrics, the sector heatmap; neither
    for a population that is not China's provinces and sectors (``population=single_market``)."""
    years = [int(y) for y in ds["year"].values]
    firm_metrics = [m for m in ("firms", "firm_employment") if m in ds["metric"].values]
    if "province" not in ds.coords or not set(map(str, ds["province"].values)) <= set(TILES):
        return []
    specs = [
        (
            "provinces.png",
            "Provinces: median share of all people at each target year",
            "Tiles are laid out like China's map (one tile per province, whatever its size) and "
            "print the province's median share. Colour: its difference from the national median "
            "(red below, blue above), shown only where the 90% bootstrap interval over draws "
            "excludes 0; grey, hatched tiles differ by no more than the simulation's own noise "
            "(at 90%, about 3 of 31 provinces can look different by chance). Provinces differ "
            "through their residence and age mix (urbanisation 2024 and the 2020 census share "
            "aged 60+, aged to 2024), which sets their internet access and adoption propensity; "
            "firms have no provincial sector table, so their provinces differ only through "
            "scoped levers and local peers.",
            lambda: _grid(
                lambda ax, year: charts.province_map(ds, year=year, ax=ax),
                [{"year": y} for y in years],
                ncols=len(years),
                panel=(6.0, 6.0),
            ),
        ),
    ]
    if firm_metrics and ds.sizes.get("sector", 0) > 1:
        specs.append(
            (
                "sectors.png",
                "Sectors, grouped by the opinion's key areas",
                "Cell text and colour: median share of firms in the sector, on one scale in "
                "both panels (brighter = more adoption); red frame: below that year's target.",
                lambda: _grid(
                    lambda ax, metric: charts.sector_heatmap(ds, metric=metric, ax=ax),
                    [{"metric": m} for m in firm_metrics],
                    ncols=len(firm_metrics),
                    panel=(6.2, 6.4),
                ),
            )
        )
    return specs


def _save_all(specs: list[tuple], out: Path) -> list[ChartFile]:
    files = []
    with mpl.rc_context(RC):
        for name, title, caption, build in specs:
            _save(build(), out / name)
            files.append(ChartFile(f"charts/{name}", title, caption))
    return files


def _calibration_specs(ds: xr.Dataset) -> list[tuple]:
    """The two calibration charts of a calibrated run: prior against posterior odds, and the
    model against the observations (one panel per model output observed)."""
    ok = summaries.calibration_record(ds)["status"] == "ok"
    outputs = summaries.checked_outputs(ds)
    odds_caption = (
        "Hollow grey: prior odds (every draw counts equally); filled blue: posterior odds "
        "(draws weighted by how well they reproduce the observations). Bars: 95% intervals "
        "over the (effective) number of draws."
        if ok
        else "Only the prior odds (every draw counts equally) are drawn: the calibration refused "
        "posterior odds, for the reason printed on the chart (see the calibration section)."
    )
    check_caption = (
        "Grey band: middle 90% of the prior draws"
        + ("; blue band: middle 90% of the weighted (posterior) draws" if ok else "")
        + ". Markers: the observations, with a bar of +-1.645 standard deviations (the "
        "observation's uncertainty and the model discrepancy the calibration assumed); a "
        "horizontal bar is the period a shipment share covers; white markers are held out."
    )
    specs = [
        (
            "calibration_odds.png",
            "Calibration: prior against posterior odds",
            odds_caption,
            lambda: _grid(
                lambda ax: charts.posterior_odds_chart(ds, ax=ax), [{}], ncols=1, panel=(7.5, 6.0)
            ),
        )
    ]
    if outputs:
        specs.append(
            (
                "calibration_check.png",
                "Calibration: the model against the observations",
                check_caption,
                lambda: _grid(
                    lambda ax, key: charts.predictive_chart(
                        ds, output=key[0], tech=key[1], metric=key[2], ax=ax
                    ),
                    [{"key": k} for k in outputs],
                    ncols=min(2, len(outputs)),
                    panel=(7.0, 4.6),
                ),
            )
        )
    return specs


def _target_order(comp: Comparison) -> tuple[list[int], int]:
    """Indices of the comparison's targets, metric by metric (rows) and year by year (columns);
    and the number of columns."""
    targets = comp.targets
    order = sorted(
        range(len(targets)),
        key=lambda j: (
            METRICS.index(targets[j].metric) if targets[j].metric in METRICS else len(METRICS),
            targets[j].tech,
            targets[j].year,
            targets[j].threshold,
        ),
    )
    return order, max(1, len({(t.year, t.threshold) for t in targets}))


def _cost_figure(comp: Comparison) -> Figure:
    order, ncols = _target_order(comp)
    fig = _grid(
        lambda ax, j: charts.cost_odds_chart(comp, target=j, legend=False, ax=ax),
        [{"j": j} for j in order],
        ncols=ncols,
        panel=(5.8, 4.0),
    )
    for k, ax in enumerate(fig.axes[: len(order)]):
        if k % ncols:
            ax.set_ylabel("")
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(4, len(labels)),
        title="scenario (hollow: the reference)",
        frameon=False,
    )
    return fig


def save_comparison_charts(comp: Comparison, folder: Path) -> list[ChartFile]:
    """Draw a comparison's charts into ``folder/charts/``; return them in report order."""
    out = Path(folder) / "charts"
    out.mkdir(parents=True, exist_ok=True)
    n = len(comp.scenarios)
    specs = [
        (
            "odds_comparison.png",
            "Odds of meeting each target, by scenario",
            "Dot: share of draws in which the target is met in that scenario; bar: its 95% Wilson "
            "interval. The scenarios share their draws (common random numbers), so their "
            "differences are measured more precisely than these separate intervals suggest: "
            "see the paired changes in the table and the next chart.",
            lambda: _grid(
                lambda ax: charts.comparison_odds_chart(comp, ax=ax),
                [{}],
                ncols=1,
                panel=(8.5, max(5.0, 2.5 + 0.8 * n)),
            ),
        ),
    ]
    if comp.has_costs:
        specs.append(
            (
                "cost_vs_odds.png",
                "What each scenario buys: extra public cost against change in the odds",
                "One panel per target. x: the scenario's public cost minus the reference's, up "
                "to the end of the target year, at the central assumed unit costs (assumptions, "
                "see sim/costs.py); y: the paired change in the probability of meeting the "
                "target against the reference, with its 95% interval (Newcombe's method for "
                "paired proportions). The reference sits at (0, 0).",
                lambda: _cost_figure(comp),
            )
        )
    return _save_all(specs, out)


def save_frontier(design: Design, folder: Path) -> ChartFile:
    """Draw a designed programme's cost-odds frontier into ``folder/charts/frontier.png``."""
    out = Path(folder) / "charts"
    out.mkdir(parents=True, exist_ok=True)
    spec = (
        "frontier.png",
        "Cost against odds of the designed programme",
        "Grey: every schedule the optimiser evaluated; line: the cost-odds frontier; star: the "
        "chosen (or best reachable) schedule; dashed: the required odds.",
        lambda: _grid(
            lambda ax: charts.frontier_chart(design, ax=ax), [{}], ncols=1, panel=(7.0, 4.5)
        ),
    )
    return _save_all([spec], out)[0]
