"""Where adoption lags: the province tile map and the sector heatmap, coloured by distance from
the target."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from sim import results
from sim.report import summaries
from sim.report.style import (
    DIVERGING,
    KEY_AREA_LABELS,
    METRIC_LABELS,
    MISSING_COLOR,
    SECTOR_LABELS,
    SEQUENTIAL,
    TECH_LABELS,
    label,
    pct,
    styled,
)
from sim.report.tiles import TILE_LABELS, TILES, grid_shape
from sim.vocab import KEY_AREAS

#: Frame of a sector cell whose median is below that year's target (ColorBrewer RdBu's red).
BELOW = "#B2182B"


def _threshold(ds: xr.Dataset, year: int, metric: str, tech: str) -> float | None:
    """The target threshold for ``year``: of this metric and tech if set, else any at that year."""
    ts = [t for t in results.targets_of(ds) if t.year == year]
    exact = [t for t in ts if t.metric == metric and t.tech == tech]
    pick = exact or ts
    return pick[0].threshold if pick else None


def _colour_scale(
    values: np.ndarray, centre: float | None, span: float | None
) -> tuple[Normalize, str, float, float]:
    """Colour norm, colormap name and shown range for shares ``values`` (NaN allowed).

    With a target ``centre`` the norm is symmetric about it (equal colour steps for equal distances
    above and below) and spans ``span`` either side, by default enough for 90% of the values (at
    least 5 points, in steps of 5), so one outlier does not wash out the rest; the colour bar
    shows clipped ends as arrows. Without a target the scale is sequential over the 5-95% range.
    """
    v = values[np.isfinite(values)]
    if v.size == 0:
        return Normalize(0.0, 1.0), SEQUENTIAL, 0.0, 1.0
    if centre is None:
        lo, hi = (float(x) for x in np.quantile(v, [0.05, 0.95]))
        hi = max(hi, lo + 0.01)
        return Normalize(lo, hi), SEQUENTIAL, lo, hi
    half = _span(np.quantile(np.abs(v - centre), 0.9)) if span is None else span
    norm = Normalize(centre - half, centre + half)
    return norm, DIVERGING, max(norm.vmin, 0.0), min(norm.vmax, 1.0)


def _span(distance: float) -> float:
    """Half-range of a diverging scale: ``distance`` rounded up to 5 points, at least 5, so that
    a 2-point gap does not look dramatic."""
    return max(float(np.ceil(distance / 0.05) * 0.05), 0.05)


def _extend(values: np.ndarray, lo: float, hi: float) -> str:
    v = values[np.isfinite(values)]
    below, above = bool(np.any(v < lo)), bool(np.any(v > hi))
    return {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (below, above), "neither"
    )


@styled(figsize=(7.0, 6.2))
def province_map(
    ds: xr.Dataset,
    *,
    year: int | None = None,
    metric: str = "population",
    tech: str = "any",
    span: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Tile-grid map of the 31 provinces coloured by median share at the end of a target year.

    Colours diverge at that year's target (red below it, blue above; equal steps either side), so
    the laggards stand out; each tile prints the median share.

    Parameters
    ----------
    ds : Dataset
        Results with ``share_province`` (draw, year, tech, metric, province).
    year : int, optional
        A year of ``ds.year`` (default: the first).
    metric, tech : str
    span : float, optional
        Shares this far (in share points, e.g. 0.1 = 10 points) from the target get the strongest
        colours; fix it to compare maps. Default: fitted to the provinces.
    ax : Axes, optional

    Returns
    -------
    Axes
        Holds one ``Rectangle`` patch per province (``gid`` = the province) and a colour bar.
    """
    year = int(ds["year"].values[0]) if year is None else int(year)
    da = results.share_by(ds, "province", tech, metric).sel(year=year)
    med = summaries.draw_quantiles(da, [0.5], ds).isel(quantile=0)
    thr = _threshold(ds, year, metric, tech)
    norm, cmap_name, lo, hi = _colour_scale(med.values, thr, span)
    cmap = mpl.colormaps[cmap_name]
    for prov in med["province"].values:
        _tile(ax, str(prov), float(med.sel(province=prov)), cmap, norm)
    nrow, ncol = grid_shape()
    ax.set_xlim(-0.1, ncol + 0.04)
    ax.set_ylim(-nrow + 0.9, 1.04)
    ax.set_aspect("equal")
    ax.set_axis_off()
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = ax.figure.colorbar(
        sm,
        ax=ax,
        orientation="horizontal",
        fraction=0.05,
        pad=0.02,
        aspect=40,
        shrink=0.8,
        boundaries=np.linspace(lo, hi, 257),
        extend=_extend(med.values, lo, hi),
    )
    cb.ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    cb.ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(xmax=1.0, decimals=0))
    if thr is not None:
        cb.ax.axvline(thr, color="black", linewidth=2.0)
        cb.set_label(f"median over draws (black line: the {pct(thr)} target; red = below it)")
    else:
        cb.set_label("median over draws")
    ax.set_title(
        f"Share of {label(metric, METRIC_LABELS)} using {label(tech, TECH_LABELS)}, "
        f"end-{year}, by province"
    )
    return ax


def _tile(ax: Axes, prov: str, v: float, cmap: mpl.colors.Colormap, norm: Normalize) -> None:
    """One province's tile, named and printed with its share ``v`` (NaN: grey, no colour)."""
    if prov not in TILES:
        raise ValueError(f"province {prov!r} has no tile in sim.report.tiles.TILES")
    r, c = TILES[prov]
    face = cmap(norm(v)) if np.isfinite(v) else MISSING_COLOR
    ax.add_patch(Rectangle((c, -r), 0.94, 0.94, facecolor=face, edgecolor="white", gid=prov))
    dark = np.isfinite(v) and abs(norm(v) - 0.5) > 0.3
    ink = "white" if dark else "black"
    name = TILE_LABELS.get(prov, prov)
    kw = {"ha": "center", "va": "center", "color": ink}
    ax.text(c + 0.47, -r + 0.6, name, fontsize=6.5, linespacing=0.9, **kw)
    ax.text(c + 0.47, -r + 0.22, pct(v), fontsize=8.5, fontweight="bold", **kw)


@styled(figsize=(6.4, 6.0))
def sector_heatmap(
    ds: xr.Dataset,
    *,
    metric: str = "firms",
    tech: str = "any",
    ax: Axes | None = None,
) -> Axes:
    """Median share by sector (rows, grouped by the opinion's key areas) and target year (columns).

    Each cell prints the median share and is coloured by it on one fixed scale, 0 to 100%, in every
    panel and year (brighter = more adoption); a cell whose median is below that year's target
    has a red frame.

    Parameters
    ----------
    ds : Dataset
        Results with ``share_sector`` (draw, year, tech, metric, sector) and coord ``key_area``.
    metric : {'firms', 'firm_employment'}
        Sector shares exist for firm metrics only.
    tech : str
    ax : Axes, optional

    Returns
    -------
    Axes
        Holds one image (sectors x years) and a colour bar; y tick labels name the sectors.

    Raises
    ------
    ValueError
        If ``metric`` counts nobody in any sector (people have no sector).
    """
    da = results.share_by(ds, "sector", tech, metric)
    med = summaries.draw_quantiles(da, [0.5], ds).isel(quantile=0).transpose("sector", "year")
    if not np.isfinite(med.values).any():
        raise ValueError(f"no sector shares for metric {metric!r}; use firms or firm_employment")
    area = pd.Series(ds["key_area"].values, index=ds["sector"].values)
    order_area = [a for a in KEY_AREAS if a in set(area)] + sorted(set(area) - set(KEY_AREAS))
    sectors = [s for a in order_area for s in area.index[area == a]]
    med = med.sel(sector=sectors)
    years = [int(y) for y in med["year"].values]
    thr = np.array([_threshold(ds, y, metric, tech) for y in years], dtype=object)
    target = np.array([np.nan if t is None else t for t in thr], dtype=np.float64)
    norm, img = Normalize(0, 1), med.values
    cmap = mpl.colormaps[SEQUENTIAL].with_extremes(bad=MISSING_COLOR)
    im = ax.imshow(np.ma.masked_invalid(img), cmap=cmap, norm=norm, aspect="auto")
    for (i, j), v in np.ndenumerate(med.values):
        dark = np.isfinite(v) and norm(v) < 0.55  # cividis is dark at the low end
        ink = "white" if dark else "black"
        ax.text(j, i, pct(float(v)), ha="center", va="center", fontsize=8, color=ink)
        if v < target[j]:  # below that year's target
            frame = Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=BELOW, lw=2)
            ax.add_patch(frame)
    ax.grid(False)
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.tick_params(length=0)
    ax.set_xticks(
        range(len(years)),
        [
            f"end-{y}" + ("" if t is None else f"\n(target {pct(t)})")
            for y, t in zip(years, thr, strict=True)
        ],
    )
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(sectors)), [label(s, SECTOR_LABELS) for s in sectors])
    _key_areas(ax, area, order_area)
    _sector_colour_bar(ax, im, img, norm, area=area)
    ax.set_title(
        f"Share of {label(metric, METRIC_LABELS)} using {label(tech, TECH_LABELS)}, by sector"
    )
    return ax


def _key_areas(ax: Axes, area: pd.Series, order: list[str]) -> None:
    """Rules between the key areas' groups of sectors, and each area's name at its right."""
    start = 0
    for a in order:
        n = int((area == a).sum())
        if start:
            ax.axhline(start - 0.5, color="black", linewidth=1.2)
        ax.annotate(
            label(a, KEY_AREA_LABELS),
            (1.0, (start + n / 2 - 0.5)),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            fontweight="bold",
        )
        start += n


def _sector_colour_bar(
    ax: Axes, im: object, img: np.ndarray, norm: Normalize, *, area: pd.Series
) -> None:
    """The heatmap's colour bar (the share, 0 to 100%); names the key areas no sector maps to."""
    cb = ax.figure.colorbar(
        im,
        ax=ax,
        orientation="horizontal",
        fraction=0.04,
        pad=0.03,
        aspect=30,
        extend=_extend(img, norm.vmin, norm.vmax),
    )
    cb.ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    cb.ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(xmax=1.0, decimals=0))
    cb.set_label("median share, same scale in every panel (red frame: below that year's target)")
    missing = [label(a, KEY_AREA_LABELS) for a in KEY_AREAS if a not in set(area)]
    if missing:
        cb.ax.set_title(
            f"No sector maps to key area: {', '.join(missing)}",
            fontsize=7.5,
            loc="left",
            fontweight="normal",
        )
