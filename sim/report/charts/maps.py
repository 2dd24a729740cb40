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
    pp,
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


#: Hatching of a tile whose difference from the national share is within the simulation's noise.
NOISE_HATCH = "////"


@styled(figsize=(7.0, 6.2))
def province_map(
    ds: xr.Dataset,
    *,
    year: int | None = None,
    metric: str = "population",
    tech: str = "any",
    span: float | None = None,
    level: float = 0.9,
    ax: Axes | None = None,
) -> Axes:
    """Tile-grid map of the 31 provinces: each province's share against the national share.

    Each tile prints the province's median share at the end of ``year``. Its colour is the median
    over draws of the province's share minus the national share (red below, blue above; equal
    steps either side), shown only where the difference exceeds the simulation's own noise: a
    tile whose ``level`` bootstrap interval of that median difference includes 0
    (:func:`sim.report.summaries.province_difference`) is grey and hatched.

    Parameters
    ----------
    ds : Dataset
        Results with ``share_province`` (draw, year, tech, metric, province).
    year : int, optional
        A year of ``ds.year`` (default: the first).
    metric, tech : str
    span : float, optional
        Differences this far from 0 (in share points, e.g. 0.05 = 5 points) get the strongest
        colours; fix it to compare maps. Default: fitted to the provinces.
    level : float, default 0.9
        Central probability of the interval that decides what is noise, in (0, 1).
    ax : Axes, optional

    Returns
    -------
    Axes
        Holds one ``Rectangle`` patch per province (``gid`` = the province; hatched when within
        the noise) and a colour bar.
    """
    year = int(ds["year"].values[0]) if year is None else int(year)
    da = results.share_by(ds, "province", tech, metric).sel(year=year)
    med = summaries.draw_quantiles(da, [0.5], ds).isel(quantile=0)
    lo, mid, hi = summaries.province_difference(ds, year, tech=tech, metric=metric, level=level)
    clear = ((lo > 0) | (hi < 0)).values
    half = span if span is not None else _diff_span(np.abs(mid.values[clear]))
    norm = Normalize(-half, half)
    cmap = mpl.colormaps[DIVERGING]
    for i, prov in enumerate(med["province"].values):
        d = float(mid.sel(province=prov)) if clear[i] else np.nan
        _tile(ax, str(prov), float(med.sel(province=prov)), cmap, norm, colour=d)
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
        boundaries=np.linspace(-half, half, 257),
        extend=_extend(mid.values[clear], -half, half),
    )
    cb.ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    cb.ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: pp(v, decimals=0)))
    nat = summaries.draw_quantiles(results.share_at(ds, year, tech, metric), [0.5], ds)
    national = float(nat.isel(quantile=0))
    cb.set_label(
        f"median difference from the national share ({pct(national)}), points\n"
        f"grey, hatched: within the simulation's noise ({level:.0%} interval includes 0)"
    )
    ax.set_title(
        f"Share of {label(metric, METRIC_LABELS)} using {label(tech, TECH_LABELS)}, "
        f"end-{year}, by province"
    )
    return ax


def tile_map(ax: Axes, shares: dict[str, float], colour: dict[str, float], *, span: float) -> Axes:
    """The province tiles as the report draws them: each province named and printed with its
    share (``shares``), filled by ``colour`` (a difference from the national share, on the
    report's diverging palette from ``-span`` to ``span``; NaN or missing: grey)."""
    norm = Normalize(-span, span)
    cmap = mpl.colormaps[DIVERGING]
    for prov, v in shares.items():
        _tile(ax, prov, v, cmap, norm, colour=colour.get(prov, np.nan))
    nrow, ncol = grid_shape()
    ax.set_xlim(-0.1, ncol + 0.04)
    ax.set_ylim(-nrow + 0.9, 1.04)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def _diff_span(distance: np.ndarray) -> float:
    """Half-range of the difference scale: the largest clear difference rounded up to a point,
    at least 2 points, so that a 1-point gap does not look dramatic."""
    top = float(distance.max()) if distance.size else 0.0
    return max(float(np.ceil(top / 0.01 - 1e-9) * 0.01), 0.02)


def _tile(
    ax: Axes,
    prov: str,
    v: float,
    cmap: mpl.colors.Colormap,
    norm: Normalize,
    *,
    colour: float | None = None,
) -> None:
    """One province's tile, named and printed with its share ``v``, filled by ``colour`` (default
    ``v``) on ``cmap``; a NaN ``colour`` gives a grey tile, hatched when ``v`` is known (the
    difference is within the noise)."""
    if prov not in TILES:
        raise ValueError(f"province {prov!r} has no tile in sim.report.tiles.TILES")
    r, c = TILES[prov]
    c_val = v if colour is None else colour
    shown = np.isfinite(c_val)
    face = cmap(norm(c_val)) if shown else MISSING_COLOR
    hatch = NOISE_HATCH if not shown and np.isfinite(v) else None
    ax.add_patch(
        Rectangle((c, -r), 0.94, 0.94, facecolor=face, edgecolor="white", hatch=hatch, gid=prov)
    )
    dark = shown and abs(norm(c_val) - 0.5) > 0.3
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
