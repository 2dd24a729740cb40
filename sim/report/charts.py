"""Charts of a results Dataset (see :mod:`sim.results`).

Every function takes the Dataset (or several, for comparisons) and an optional ``ax``, draws on it
and returns it; none runs a simulation. Draw weights (``weight`` (draw)) are used when present.

>>> import sim
>>> from sim.report import charts
>>> ds = sim.run("baseline", overrides=["mc.draws=100"])      # doctest: +SKIP
>>> charts.fan_chart(ds, metric="firms")                      # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator, NullFormatter
from numpy.typing import NDArray
from scipy.stats import norm

from sim.report import stats
from sim.report.style import (
    DIVERGING,
    KEY_AREA_LABELS,
    MARKERS,
    METRIC_LABELS,
    MISSING_COLOR,
    PALETTE,
    POSTERIOR_COLOR,
    PRIOR_COLOR,
    SECTOR_LABELS,
    SEQUENTIAL,
    SERIES_LABELS,
    TARGET_COLOR,
    TECH_COLORS,
    TECH_LABELS,
    label,
    pct,
    percent_axis,
    plain,
    styled,
)
from sim.report.tiles import TILE_LABELS, TILES
from sim.spec import KEY_AREAS, Target
from sim.targets import targets_of

Runs = xr.Dataset | Mapping[str, xr.Dataset] | Sequence[xr.Dataset]
#: Half-width of a central 90% normal interval, in standard deviations.
Z90 = float(norm.ppf(0.95))


def _year_end(year: int) -> np.datetime64:
    return np.datetime64(f"{year}-12-31", "ns")


def _threshold(ds: xr.Dataset, year: int, metric: str, tech: str) -> float | None:
    """The target threshold for ``year``: of this metric and tech if set, else any at that year."""
    ts = [t for t in targets_of(ds) if t.year == year]
    exact = [t for t in ts if t.metric == metric and t.tech == tech]
    pick = exact or ts
    return pick[0].threshold if pick else None


# --------------------------------------------------------------------------------------------------
# Fan chart
# --------------------------------------------------------------------------------------------------
@styled(figsize=(7.0, 4.2))
def fan_chart(
    ds: xr.Dataset,
    *,
    metric: str = "population",
    tech: str | Sequence[str] = "any",
    ax: Axes | None = None,
) -> Axes:
    """National adopted share over time: median, 50% and 90% bands, with the targets marked.

    Parameters
    ----------
    ds : Dataset
        Results with ``share`` (draw, time, tech, metric).
    metric : str
        Reading of "penetration": population, internet_users, firms or firm_employment.
    tech : str or sequence of str
        Technologies to draw (terminal, agent, any), each in its own colour.
    ax : Axes, optional
        Axes to draw on (new ones if None).

    Returns
    -------
    Axes
        Holds one median line per technology (label ``median: TECH``), two bands each, and one
        marker per target of ``metric`` (line labelled ``target``).
    """
    techs = [tech] if isinstance(tech, str) else list(tech)
    share = ds["share"].sel(metric=metric)
    q = stats.weighted_quantile(share.sel(tech=techs), [0.05, 0.25, 0.5, 0.75, 0.95], ds)
    time = ds["time"].values
    handles = []
    for tn in techs:
        c = TECH_COLORS.get(tn, PALETTE[len(handles) % len(PALETTE)])
        v = q.sel(tech=tn).transpose("quantile", "time").values
        ax.fill_between(time, v[0], v[4], color=c, alpha=0.15, linewidth=0)
        ax.fill_between(time, v[1], v[3], color=c, alpha=0.35, linewidth=0)
        ax.plot(time, v[2], color=c, linewidth=2.0, label=f"median: {tn}")
        handles.append(Line2D([], [], color=c, linewidth=2.0, label=label(tn, TECH_LABELS)))

    targets = [t for t in targets_of(ds) if t.metric == metric]
    if targets:
        x = [_year_end(t.year) for t in targets]
        y = [t.threshold for t in targets]
        (mark,) = ax.plot(
            x,
            y,
            linestyle="none",
            marker="D",
            markersize=7,
            markerfacecolor="white",
            markeredgecolor=TARGET_COLOR,
            markeredgewidth=1.6,
            zorder=5,
            label="target",
        )
        for t in targets:
            ax.annotate(
                f"> {pct(t.threshold)} by end-{t.year}",
                (_year_end(t.year), t.threshold),
                xytext=(-7, 7),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=7.5,
                color=TARGET_COLOR,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                zorder=6,
            )
        other = sorted({t.tech for t in targets} - set(techs))
        note = f" (set for {', '.join(label(o, TECH_LABELS) for o in other)})" if other else ""
        handles.append(Line2D([], [], **_marker_style(mark), label=f"target{note}"))
    grey = "#555555"
    handles += [
        Patch(color=grey, alpha=0.35, linewidth=0, label="middle 50% of draws"),
        Patch(color=grey, alpha=0.15, linewidth=0, label="middle 90% of draws"),
    ]
    # Lower right stays clear: shares rise over time, so late years sit high on the chart.
    ax.legend(handles=handles, loc="lower right", frameon=True, framealpha=0.85, edgecolor="none")
    ax.set_ylim(0, 1)
    # Years are labelled mid-span, so a target due at the end of 2027 sits at the end of "2027".
    ax.set_xlim(time[0], time[-1] + np.timedelta64(45, "D"))
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=7, bymonthday=1))
    ax.xaxis.set_minor_formatter(mdates.DateFormatter("%Y"))
    ax.tick_params(axis="x", which="minor", length=0)
    percent_axis(ax)
    ax.set_ylabel(f"adopted share of {label(metric, METRIC_LABELS)}")
    what = label(techs[0], TECH_LABELS) if len(techs) == 1 else "AI terminals and AI agents"
    ax.set_title(f"Share of {label(metric, METRIC_LABELS)} using {what}")
    return ax


def _marker_style(line: Line2D) -> dict:
    return {
        "linestyle": "none",
        "marker": line.get_marker(),
        "markersize": line.get_markersize(),
        "markerfacecolor": line.get_markerfacecolor(),
        "markeredgecolor": line.get_markeredgecolor(),
        "markeredgewidth": line.get_markeredgewidth(),
    }


# --------------------------------------------------------------------------------------------------
# Odds chart
# --------------------------------------------------------------------------------------------------
def _is_comparison(runs: object) -> bool:
    """Whether ``runs`` is a comparison (:func:`sim.comparison.compare`), not labelled runs."""
    return (
        isinstance(runs, Mapping)
        and isinstance(runs.get("scenarios"), list)
        and "reference" in runs
    )


def _runs(runs: Runs) -> list[tuple[str, xr.Dataset]]:
    """Label each run: mapping keys, else the scenario title recorded in the Dataset."""
    if isinstance(runs, xr.Dataset):
        runs = [runs]
    if isinstance(runs, Mapping):
        return [(str(k), v) for k, v in runs.items()]
    return [
        (plain(d.attrs.get("scenario_title") or d.attrs.get("scenario", f"run {i + 1}")), d)
        for i, d in enumerate(runs)
    ]


def _comparison_target(row: Mapping) -> Target:
    return Target(int(row["year"]), float(row["threshold"]), row["metric"], row["tech"])


def _comparison_odds(comp: Mapping) -> list[tuple[str, list[stats.TargetOdds]]]:
    """Each scenario's odds as the comparison records them (every draw counted equally)."""
    out = []
    for run in comp["scenarios"]:
        odds = [
            stats.TargetOdds(
                _comparison_target(t),
                float(t["p_hit"]),
                (float(t["ci95"][0]), float(t["ci95"][1])),
                float(t["share_median"]),
                float(t["share_p05"]),
                float(t["share_p95"]),
                float(comp["draws"]),
            )
            for t in run["targets"]
        ]
        out.append((plain(run.get("title") or run["scenario"]), odds))
    return out


def _row_pitch(n: int) -> float:
    """Height of a target's row when ``n`` runs share it (1 for up to 3 runs)."""
    return max(1.0, 0.3 * n)


def _odds_rows(
    ax: Axes, targets: Sequence[Target], *, pitch: float = 1.0, extra: float = 0.0
) -> dict[Target, float]:
    """Lay the targets out as rows (grouped by year, threshold and technology, one row per
    reading of "penetration"); label them on ``ax``; return each target's row position.
    ``pitch`` is the height of a row; ``extra`` adds that much empty space at the bottom (room
    for a note)."""
    groups: dict[tuple[int, float, str], list[Target]] = {}
    for t in sorted(targets, key=lambda t: (t.year, t.threshold)):
        groups.setdefault((t.year, t.threshold, t.tech), []).append(t)
    rows: dict[Target, float] = {}
    labels, y = [], 0.0
    for (year, thr, tech), ts in groups.items():
        text = f"above {pct(thr)} by end-{year} ({label(tech, TECH_LABELS)})"
        ax.text(0.01, y, text, fontweight="bold", va="center", ha="left", fontsize=8.5)
        y += 1.0
        y += pitch - 1.0
        for t in ts:
            rows[t] = y
            labels.append((y, label(t.metric, METRIC_LABELS)))
            y += pitch
        y += 0.4
    ax.set_yticks([yl for yl, _ in labels], [t for _, t in labels])
    ax.set_ylim(y - 0.4 + extra, -0.7)
    ax.set_xlim(0, 1.08)
    ax.set_xticks(np.linspace(0, 1, 6))
    percent_axis(ax, "x")
    ax.grid(False, axis="y")
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("probability of meeting the target (dot) and its 95% interval (bar)")
    return rows


def _odds_points(
    ax: Axes,
    odds: Sequence[stats.TargetOdds],
    rows: Mapping[Target, float],
    *,
    offset: float,
    color: str,
    name: str,
    marker: str = "o",
    hollow: bool = False,
    annotate: bool = True,
) -> NDArray[np.float64]:
    """One dot and interval bar per target, with its probability printed (if ``annotate``);
    returns the rows."""
    p = np.array([o.p_hit for o in odds])
    lo = np.array([o.ci95[0] for o in odds])
    hi = np.array([o.ci95[1] for o in odds])
    ys = np.array([rows[o.target] for o in odds]) + offset
    ax.errorbar(
        p,
        ys,
        xerr=[p - lo, hi - p],
        fmt=marker,
        color=color,
        markerfacecolor="white" if hollow else color,
        markeredgewidth=1.4,
        markersize=6,
        elinewidth=1.6,
        capsize=3,
        label=name,
    )
    if not annotate:
        return ys
    for pi, hii, yi in zip(p, hi, ys, strict=True):
        ax.annotate(
            pct(pi),
            (hii, yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7.5,
            color=color,
        )
    return ys


def _offsets(n: int) -> NDArray[np.float64]:
    """Vertical offsets of ``n`` runs drawn in the same row."""
    return (np.arange(n) - (n - 1) / 2) * (0.75 * _row_pitch(n) / n) if n > 1 else np.zeros(1)


@styled(figsize=(8.0, 5.0))
def odds_chart(runs: Runs | Mapping, *, ax: Axes | None = None) -> Axes:
    """Probability of meeting each target, with its 95% Wilson interval, by reading of the share.

    Parameters
    ----------
    runs : Dataset, mapping of label to Dataset, sequence of Datasets, or a comparison
        One run, or several to compare (one colour each, labelled by key or scenario title). The
        first run's targets set the rows; other runs are evaluated on the same targets. A
        comparison (the dict of :func:`sim.compare` or :func:`sim.comparison.compare`, as in
        ``comparison.json``) draws each scenario's odds as the comparison records them.
    ax : Axes, optional

    Returns
    -------
    Axes
        One error-bar container per run (label = the run's label), one point per target. Each
        probability is printed beside its bar when up to 3 runs are drawn (more would overlap).
    """
    if _is_comparison(runs):
        results = _comparison_odds(runs)
        targets = [o.target for o in results[0][1]]
    else:
        labelled = _runs(runs)
        targets = list(targets_of(labelled[0][1]))
        results = [(name, stats.odds(d, targets)) for name, d in labelled]
    n = len(results)
    rows = _odds_rows(ax, targets, pitch=_row_pitch(n))
    for i, (name, res) in enumerate(results):
        _odds_points(
            ax,
            res,
            rows,
            offset=_offsets(n)[i],
            color=PALETTE[i % len(PALETTE)],
            name=name,
            marker=MARKERS[i % len(MARKERS)],
            annotate=n <= 3,
        )
    ax.set_title("Odds of meeting each target, by what 'penetration' counts")
    if n > 1:
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(
            handles,
            [textwrap.fill(lab, 32) for lab in labels],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            title="scenario",
            alignment="left",
        )
    return ax


# --------------------------------------------------------------------------------------------------
# Province tile map
# --------------------------------------------------------------------------------------------------
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
    da = ds["share_province"].sel(year=year, metric=metric, tech=tech)
    med = stats.weighted_quantile(da, [0.5], ds).isel(quantile=0)
    thr = _threshold(ds, year, metric, tech)
    norm, cmap_name, lo, hi = _colour_scale(med.values, thr, span)
    cmap = mpl.colormaps[cmap_name]
    for prov in med["province"].values:
        if prov not in TILES:
            raise ValueError(f"province {prov!r} has no tile in sim.report.tiles.TILES")
        r, c = TILES[prov]
        v = float(med.sel(province=prov))
        face = cmap(norm(v)) if np.isfinite(v) else MISSING_COLOR
        ax.add_patch(
            Rectangle((c, -r), 0.94, 0.94, facecolor=face, edgecolor="white", gid=str(prov))
        )
        dark = np.isfinite(v) and abs(norm(v) - 0.5) > 0.3
        ink = "white" if dark else "black"
        ax.text(
            c + 0.47,
            -r + 0.6,
            TILE_LABELS.get(prov, prov),
            ha="center",
            va="center",
            fontsize=6.5,
            color=ink,
            linespacing=0.9,
        )
        ax.text(
            c + 0.47,
            -r + 0.22,
            pct(v),
            ha="center",
            va="center",
            fontsize=8.5,
            fontweight="bold",
            color=ink,
        )
    ncol = max(c for _, c in TILES.values()) + 1
    nrow = max(r for r, _ in TILES.values()) + 1
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


# --------------------------------------------------------------------------------------------------
# Sector heatmap
# --------------------------------------------------------------------------------------------------
@styled(figsize=(6.4, 6.0))
def sector_heatmap(
    ds: xr.Dataset,
    *,
    metric: str = "firms",
    tech: str = "any",
    span: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Median share by sector (rows, grouped by the opinion's key areas) and target year (columns).

    Each cell prints the median share; its colour is the distance from that year's target in
    percentage points (red below, blue above), so years with different targets read alike.

    Parameters
    ----------
    ds : Dataset
        Results with ``share_sector`` (draw, year, tech, metric, sector) and coord ``key_area``.
    metric : {'firms', 'firm_employment'}
        Sector shares exist for firm metrics only.
    tech : str
    span : float, optional
        Distance from the target (share points) that gets the strongest colours; fix it to compare
        heatmaps. Default: fitted to the sectors.
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
    da = ds["share_sector"].sel(metric=metric, tech=tech)
    med = stats.weighted_quantile(da, [0.5], ds).isel(quantile=0).transpose("sector", "year")
    if not np.isfinite(med.values).any():
        raise ValueError(f"no sector shares for metric {metric!r}; use firms or firm_employment")
    area = pd.Series(ds["key_area"].values, index=ds["sector"].values)
    order_area = [a for a in KEY_AREAS if a in set(area)] + sorted(set(area) - set(KEY_AREAS))
    sectors = [s for a in order_area for s in area.index[area == a]]
    med = med.sel(sector=sectors)
    years = [int(y) for y in med["year"].values]
    thr = np.array([_threshold(ds, y, metric, tech) for y in years], dtype=object)
    have = np.array([t is not None for t in thr])
    gap = med.values - np.where(have, thr, np.nan).astype(np.float64)
    if have.all():
        half = _span(np.nanmax(np.abs(gap))) if span is None else span
        norm, cmap, img = Normalize(-half, half), mpl.colormaps[DIVERGING], gap
    else:
        norm, cmap, img = Normalize(0, 1), mpl.colormaps[SEQUENTIAL], med.values
    cmap = cmap.with_extremes(bad=MISSING_COLOR)
    im = ax.imshow(np.ma.masked_invalid(img), cmap=cmap, norm=norm, aspect="auto")
    for i in range(len(sectors)):
        for j in range(len(years)):
            v = float(med.values[i, j])
            dark = np.isfinite(img[i, j]) and abs(norm(img[i, j]) - 0.5) > 0.3
            ax.text(
                j,
                i,
                pct(v),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    ax.grid(False)
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.tick_params(length=0)
    ax.set_xticks(
        range(len(years)),
        [
            f"end-{y}" + (f"\n(target {pct(t)})" if t is not None else "")
            for y, t in zip(years, thr, strict=True)
        ],
    )
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(sectors)), [label(s, SECTOR_LABELS) for s in sectors])
    start = 0
    for a in order_area:
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
    missing = [label(a, KEY_AREA_LABELS) for a in KEY_AREAS if a not in set(area)]
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
    if have.all():
        cb.ax.xaxis.set_major_formatter(
            mpl.ticker.FuncFormatter(lambda x, _: f"{100 * x:+.0f}" if round(100 * x) else "0")
        )
        cb.set_label("median share minus that year's target (percentage points; red = below)")
    else:
        cb.ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(xmax=1.0, decimals=0))
        cb.set_label("median share")
    if missing:
        cb.ax.set_title(
            f"No sector maps to key area: {', '.join(missing)}",
            fontsize=7.5,
            loc="left",
            fontweight="normal",
        )
    ax.set_title(
        f"Share of {label(metric, METRIC_LABELS)} using {label(tech, TECH_LABELS)}, by sector"
    )
    return ax


# --------------------------------------------------------------------------------------------------
# Crossing-year chart
# --------------------------------------------------------------------------------------------------
@styled(figsize=(7.0, 4.0))
def crossing_year_chart(
    ds: xr.Dataset,
    *,
    metric: str = "population",
    tech: str = "any",
    thresholds: Sequence[float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Distribution of the year the national share first exceeds each threshold.

    Parameters
    ----------
    ds : Dataset
    metric, tech : str
    thresholds : sequence of float in [0, 1], optional
        Default: the thresholds of the targets of ``metric`` (of every target if it has none).
    ax : Axes, optional

    Returns
    -------
    Axes
        One bar container per threshold (label names it), one bar per year plus one for "not
        within the horizon"; a dashed line at each target year's end.
    """
    ts = [t for t in targets_of(ds) if t.metric == metric and t.tech == tech] or list(
        targets_of(ds)
    )
    if thresholds is None:
        thresholds = sorted({t.threshold for t in ts})
    due = {t.threshold: t.year for t in ts}
    w = stats.draw_weights(ds)
    years_all = ds["time"].dt.year.values
    first, last = int(years_all[0]), int(years_all[-1])
    crossing = {
        thr: stats.crossing_year(ds, thr, metric=metric, tech=tech).values for thr in thresholds
    }
    # The start state's year only appears when some draw starts above a threshold.
    if not any(np.any(c == first) for c in crossing.values()):
        first += 1
    bins = np.arange(first, last + 1)
    width = 0.8 / len(thresholds)
    xs = np.arange(len(bins) + 1)
    for k, thr in enumerate(thresholds):
        c = PALETTE[k % len(PALETTE)]
        p_year, p_never = stats.year_distribution(crossing[thr], bins, w)
        heights = np.append(p_year, p_never)
        x = xs + (k - (len(thresholds) - 1) / 2) * width
        name = f"first above {pct(thr)}"
        if thr in due and first <= due[thr] <= last:
            xe = float(np.searchsorted(bins, due[thr])) + 0.5
            by = float(p_year[bins <= due[thr]].sum())
            ax.axvline(xe, color=c, linestyle="--", linewidth=1.2)
            name += f" (target: by {due[thr]}, dashed; {pct(by)} of draws in time)"
        bars = ax.bar(x, heights, width=width * 0.95, color=c, label=name)
        bars[-1].set_hatch("//")
        bars[-1].set_edgecolor("white")
        for xi, h in zip(x, heights, strict=True):
            if h > 0:
                text = pct(h) if h >= 0.01 else "<1%"
                ax.text(xi, h, text, ha="center", va="bottom", fontsize=6.5, color=c)
    ticks = [("by start\n" if b == int(years_all[0]) else "") + str(b) for b in bins]
    ax.set_xticks(xs, [*ticks, f"not by\nend-{last}"])
    ax.set_xlim(-0.6, len(bins) + 0.6)
    ax.grid(False, axis="x")
    percent_axis(ax)
    # Headroom for the legend; no tick above 100%.
    ax.set_ylim(0, ax.get_ylim()[1] * 1.35 + 0.02)
    ax.set_yticks([t for t in ax.get_yticks() if t <= 1.0 + 1e-9])
    ax.set_ylabel("share of draws")
    ax.set_xlabel("year in which the share first exceeds the threshold (read at month ends)")
    ax.set_title(f"Year the share of {label(metric, METRIC_LABELS)} first passes each target")
    ax.legend(
        loc="upper left",
        title=label(tech, TECH_LABELS),
        alignment="left",
        frameon=True,
        framealpha=0.9,
        edgecolor="none",
    )
    return ax


# --------------------------------------------------------------------------------------------------
# Calibration: prior against posterior odds, and the model against the observations
# --------------------------------------------------------------------------------------------------
def _refusal_note(record: Mapping) -> str:
    """Why a calibrated run shows no posterior, in a few short lines."""
    message = record["message"].removeprefix("posterior odds not reported: ")
    return "Posterior not shown: the calibration refused it.\n" + textwrap.fill(
        message[:1].upper() + message[1:], 88
    )


def _note_box(ax: Axes, x: float, y: float, text: str, **kw: object) -> None:
    ax.text(
        x,
        y,
        text,
        fontsize=7.5,
        linespacing=1.25,
        bbox={"boxstyle": "round,pad=0.5", "fc": "#FFF4E0", "ec": PALETTE[1], "lw": 1.0},
        zorder=7,
        multialignment="left",
        **kw,
    )


@styled(figsize=(7.5, 5.6))
def posterior_odds_chart(ds: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """Odds of each target before (prior) and after (posterior) calibration to observations.

    The prior counts every draw equally; the posterior weights the draws by the likelihood of the
    observations (:mod:`sim.calibration`). When the calibration refused the posterior (too few
    effective draws), only the prior odds are drawn and a note on the chart says why.

    Parameters
    ----------
    ds : Dataset
        A calibrated run (``weight`` (draw) and attribute ``calibration``).
    ax : Axes, optional

    Returns
    -------
    Axes
        One error-bar container for the prior (hollow dots) and, when the calibration is ``ok``,
        one for the posterior (filled dots); one point per target.

    Raises
    ------
    ValueError
        If ``ds`` was not calibrated.
    """
    record = stats.calibration_record(ds)
    targets = list(targets_of(ds))
    ok = record["status"] == "ok"
    n = int(ds.sizes["draw"])
    prior = stats.odds(stats.prior_of(ds), targets)
    prior_name = f"prior: all {n:,} draws count equally"
    if ok:
        rows = _odds_rows(ax, targets)
        _odds_points(ax, prior, rows, offset=-0.17, color=PRIOR_COLOR, name=prior_name, hollow=True)
        post = stats.odds(ds, targets)
        name = (
            f"posterior: draws weighted by {record['n_used']} observations\n"
            f"({record['ess']:,.0f} effective draws)"
        )
        _odds_points(ax, post, rows, offset=0.17, color=POSTERIOR_COLOR, name=name)
        ax.set_title("Odds of each target before and after calibration to observed adoption")
    else:
        note = _refusal_note(record)
        rows = _odds_rows(ax, targets, extra=1.0 + 0.55 * note.count("\n"))
        _odds_points(ax, prior, rows, offset=0.0, color=PRIOR_COLOR, name=prior_name, hollow=True)
        _note_box(ax, 0.02, ax.get_ylim()[0] - 0.3, note, ha="left", va="bottom")
        ax.set_title("Prior odds only: the calibration refused posterior odds")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncols=2)
    return ax


def _what(output: str, tech: str, metric: str) -> str:
    if output == "share":
        return f"share of {label(metric, METRIC_LABELS)} using {label(tech, TECH_LABELS)}"
    if output == "ai_share_of_new_devices":
        return "AI-capable share of new devices"
    return output.replace("_", " ")


@styled(figsize=(7.0, 4.4))
def predictive_chart(
    ds: xr.Dataset,
    *,
    output: str = "share",
    tech: str = "agent",
    metric: str = "population",
    until: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A model output over time (prior and posterior bands) against the observations of it.

    The bands hold the middle 90% of draws (equally counted for the prior, weighted by the
    observations for the posterior, which is drawn only when the calibration is ``ok``). Each
    observation is a marker with a bar of +-1.645 standard deviations (90%), the standard
    deviation the calibration used (the observation's uncertainty and the model discrepancy);
    a shipment share is an average over a period, drawn as a horizontal bar. Held-out
    observations (after ``calibration.until``) are white: they did not weight the draws, so they
    test a forecast.

    Parameters
    ----------
    ds : Dataset
        A calibrated run.
    output, tech, metric : str
        The model output the observations measure (:mod:`sim.observations`): ``share`` of
        ``tech`` by ``metric``, or ``ai_share_of_new_devices`` (then ``tech`` and ``metric`` are
        ignored).
    until : int, optional
        Last year shown (default: the year after the last observation).
    ax : Axes, optional

    Returns
    -------
    Axes
        One band (``PolyCollection``) for the prior and, when ``ok``, one for the posterior; one
        error-bar container per observation (label = its series). When the calibration refused,
        the legend's title says so (the odds chart and the report give the reason).

    Raises
    ------
    ValueError
        If ``ds`` was not calibrated or no observation of that output was checked.
    """
    record = stats.calibration_record(ds)
    if output != "share":
        tech = metric = ""
    points = stats.observed(ds, output, tech, metric)
    if not points:
        checked = ", ".join("/".join(filter(None, k)) for k in stats.checked_outputs(ds))
        raise ValueError(
            f"no observation of {output} {tech} {metric} was checked; checked: {checked}"
        )
    ok = record["status"] == "ok"
    first = min(p.start if p.start is not None else p.time for p in points)
    start = None if output == "share" else str(first.astype("datetime64[M]"))
    path = stats.model_path(ds, output, tech, metric, start=start)
    last = max(int(str(p.time)[:4]) for p in points) + 1 if until is None else int(until)
    path = path.sel(time=path["time"] <= _year_end(last))
    time = path["time"].values
    bands = [("prior", PRIOR_COLOR, None)]
    if ok:
        bands.append(("posterior", POSTERIOR_COLOR, stats.draw_weights(ds)))
    handles = []
    for name, color, w in bands:
        lo, med, hi = stats.quantile(path.values, [0.05, 0.5, 0.95], w=w, axis=0)
        ax.fill_between(time, lo, hi, color=color, alpha=0.25 if w is None else 0.35, lw=0)
        style = "--" if w is None else "-"
        ax.plot(time, med, color=color, linestyle=style, linewidth=1.8, label=f"median: {name}")
        what = "draws" if w is None else "weighted draws"
        handles.append(
            (
                Patch(color=color, alpha=0.3, lw=0),
                f"{name}: middle 90% of {what} ({'dashed' if w is None else 'line'}: median)",
            )
        )
    z = Z90
    series = list(dict.fromkeys(p.series for p in points))
    for p in points:
        k = series.index(p.series)
        marker = MARKERS[k % len(MARKERS)]
        held = p.status == "held_out"
        if p.start is not None:
            mid = p.start + (p.time - p.start) / 2
            xerr = [[mid - p.start], [p.time - mid]]
        else:
            mid, xerr = p.time, None
        ax.errorbar(
            [mid],
            [p.value],
            yerr=[[z * p.sd], [z * p.sd]],
            xerr=xerr,
            fmt=marker,
            color="black",
            markerfacecolor="white" if held else "black",
            markersize=6,
            markeredgewidth=1.3,
            elinewidth=1.2,
            capsize=3,
            zorder=6,
            label=p.series,
        )
    for k, s in enumerate(series):
        mk = MARKERS[k % len(MARKERS)]
        handles.append(
            (Line2D([], [], color="black", marker=mk, linestyle="none"), label(s, SERIES_LABELS))
        )
    if any(p.status == "held_out" for p in points):
        handles.append(
            (
                Line2D(
                    [], [], color="black", marker="o", markerfacecolor="white", linestyle="none"
                ),
                f"white: held out (after {record['until']}), a forecast check",
            )
        )
    handles.append(
        (
            Line2D([], [], color="black", marker="|", markersize=10, linestyle="none"),
            "bar: 90% interval of the observation\n(its uncertainty and the model discrepancy)",
        )
    )
    refused = (
        None
        if ok
        else f"Calibration refused (effective draws {record['ess']:.1f} of "
        f"{record['n_draws']:,},\nbelow {record['ess_min']:g}): prior band only, no posterior"
    )
    legend = ax.legend(
        [h for h, _ in handles],
        [t for _, t in handles],
        loc="upper left",
        frameon=True,
        framealpha=0.9,
        edgecolor="none",
        fontsize=7,
        title=refused,
        title_fontsize=7.5,
        alignment="left",
    )
    if refused:
        legend.get_title().set_color(PALETTE[3])
        legend.get_title().set_fontweight("bold")
    top = max(float(np.nanmax(path.values)), max(p.value + z * p.sd for p in points))
    ax.set_ylim(0, min(1.0, top * 1.25 + 0.02))
    left = time[0] if output == "share" else first
    ax.set_xlim(left - np.timedelta64(45, "D"), time[-1] + np.timedelta64(20, "D"))
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=7, bymonthday=1))
    ax.xaxis.set_minor_formatter(mdates.DateFormatter("%Y"))
    ax.tick_params(axis="x", which="minor", length=0)
    percent_axis(ax)
    ax.set_ylabel(_what(output, tech, metric))
    ax.set_title(f"Model against observations: {_what(output, tech, metric)}")
    return ax


# --------------------------------------------------------------------------------------------------
# Cost against odds, for scenario comparisons
# --------------------------------------------------------------------------------------------------
def _pp(x: float, _pos: object = None) -> str:
    """``0.05`` -> ``'+5 pp'``, ``0.025`` -> ``'+2.5 pp'``, ``0`` -> ``'0'``."""
    text = f"{100 * x:+.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("+0", "-0") else f"{text} pp"


@styled(figsize=(9.0, 4.8))
def cost_odds_chart(
    comparison: Mapping | Sequence[xr.Dataset],
    *,
    target: int | Target = 0,
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Each scenario's paired change in the odds of a target against its extra public cost.

    x: the scenario's public cost minus the reference's, up to the end of the target year, at
    the central assumed unit costs (:mod:`sim.costs`); y: the change in the probability of
    meeting the target against the reference, with its 95% paired interval (Newcombe), as
    :func:`sim.comparison.compare` computes them. The reference sits at (0, 0).

    Parameters
    ----------
    comparison : comparison dict or sequence of Datasets
        The dict of :func:`sim.compare` / :func:`sim.comparison.compare` (as in
        ``comparison.json``), or the scenarios' Datasets, the reference first (compared here).
    target : int or Target
        Which target: an index into the comparison's targets, or the target itself.
    legend : bool
        Draw the legend (outside the axes, on the right).
    ax : Axes, optional

    Returns
    -------
    Axes
        One error-bar container per scenario (label = its title), the reference's included; the
        legend adds what each scenario buys per 100 bn yuan.

    Raises
    ------
    ValueError
        If the comparison has no public costs or not that target.
    """
    if _is_comparison(comparison):
        comp = comparison
    else:
        from sim.comparison import compare

        comp = compare(list(comparison))
    ref_rows = comp["scenarios"][0]["targets"]
    if isinstance(target, Target):
        found = [j for j, r in enumerate(ref_rows) if _comparison_target(r) == target]
        if not found:
            raise ValueError(f"target {target.label} is not in the comparison")
        j = found[0]
    else:
        j = int(target)
    t = _comparison_target(ref_rows[j])
    notes: list[str] = []
    for i, run in enumerate(comp["scenarios"]):
        row = run["targets"][j]
        c, mk = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
        title = textwrap.fill(plain(run.get("title") or run["scenario"]), 44)
        if i == 0:
            ax.errorbar(
                [0.0],
                [0.0],
                fmt=mk,
                color=c,
                markersize=7,
                markerfacecolor="white",
                markeredgewidth=1.6,
                zorder=6,
                label=title,
            )
            notes.append("the reference")
            continue
        if "extra_cost_yuan" not in row:
            raise ValueError("the comparison has no public costs (results without public_cost)")
        x, y = row["extra_cost_yuan"] / 1e9, row["p_hit_diff"]
        lo, hi = row["p_hit_diff_ci95"]
        per = row.get("p_hit_diff_per_100bn_yuan")
        if per is not None:
            buys = f"{100 * per:+.2g} pp per 100 bn yuan"
        else:
            buys = f"costs {'less' if x < 0 else 'no more'} than the reference"
        ax.errorbar(
            [x],
            [y],
            yerr=[[y - lo], [hi - y]],
            fmt=mk,
            color=c,
            markersize=7,
            elinewidth=1.6,
            capsize=3,
            zorder=6,
            label=title,
        )
        notes.append(buys)
    ax.axhline(0.0, color="black", linewidth=0.8, zorder=1)
    ax.axvline(0.0, color="black", linewidth=0.8, zorder=1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(_pp))
    ax.xaxis.set_major_formatter(
        mpl.ticker.FuncFormatter(lambda v, _: f"{v:+,.0f}" if round(v) else "0")
    )
    ax.margins(x=0.15, y=0.15)
    ax.set_xlabel(f"extra public cost to end-{t.year}, bn yuan (at the central assumed unit costs)")
    ax.set_ylabel("change in P(target met)\n(dot; bar: 95% paired interval)")
    tech = "" if t.tech == "any" else f" ({label(t.tech, TECH_LABELS)})"
    ax.set_title(
        "Change in the odds against extra public cost\n"
        f"target: above {pct(t.threshold)} of {label(t.metric, METRIC_LABELS)}{tech} "
        f"by end-{t.year}"
    )
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(
            handles,
            [f"{lab}\n{note}" for lab, note in zip(labels, notes, strict=True)],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            alignment="left",
            title="scenario",
        )
    return ax
