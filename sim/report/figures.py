"""The run report's chart files: multi-panel figures of :mod:`sim.report.charts`, saved as PNG.

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

from sim.report import charts
from sim.report.style import RC
from sim.spec import METRICS


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
    metrics = [m for m in METRICS if m in ds["metric"].values]
    years = [int(y) for y in ds["year"].values]
    firm_metrics = [m for m in ("firms", "firm_employment") if m in metrics]
    specs = [
        (
            "odds.png",
            "Odds of meeting each target",
            "Dot: share of draws in which the target is met; bar: its 95% Wilson interval "
            "(how sure we are of that share given the number of draws, not the spread of "
            "outcomes). Rows are the four readings of 'penetration'.",
            lambda: _grid(lambda ax: charts.odds_chart(ds, ax=ax), [{}], ncols=1, panel=(7.5, 5.0)),
        ),
        (
            "fan_any.png",
            "Adoption over time (terminal or agent)",
            "Line: median over draws; dark band: middle 50% of draws; light band: middle 90%. "
            "Diamonds: the targets.",
            lambda: _grid(
                lambda ax, metric: charts.fan_chart(ds, metric=metric, tech="any", ax=ax),
                [{"metric": m} for m in metrics],
                ncols=2,
                panel=(6.0, 3.8),
            ),
        ),
        (
            "fan_by_tech.png",
            "Adoption over time: AI terminals and AI agents separately",
            "As above, one colour per technology; the targets are set for either technology.",
            lambda: _grid(
                lambda ax, metric: charts.fan_chart(
                    ds, metric=metric, tech=["terminal", "agent"], ax=ax
                ),
                [{"metric": m} for m in metrics],
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
                [{"metric": m} for m in metrics],
                ncols=2,
                panel=(6.0, 3.8),
            ),
        ),
        (
            "provinces.png",
            "Provinces: median share of all people at each target year",
            "Tiles are laid out like China's map (one tile per province, whatever its size). "
            "Red: median below that year's target; blue: above.",
            lambda: _grid(
                lambda ax, year: charts.province_map(ds, year=year, ax=ax),
                [{"year": y} for y in years],
                ncols=len(years),
                panel=(6.0, 6.0),
            ),
        ),
    ]
    if firm_metrics:
        specs.append(
            (
                "sectors.png",
                "Sectors, grouped by the opinion's key areas",
                "Cell text: median share of firms in the sector; colour: distance from that "
                "year's target (red below, blue above).",
                lambda: _grid(
                    lambda ax, metric: charts.sector_heatmap(ds, metric=metric, ax=ax),
                    [{"metric": m} for m in firm_metrics],
                    ncols=len(firm_metrics),
                    panel=(6.2, 6.4),
                ),
            )
        )
    files = []
    with mpl.rc_context(RC):
        for name, title, caption, build in specs:
            _save(build(), out / name)
            files.append(ChartFile(f"charts/{name}", title, caption))
    return files
