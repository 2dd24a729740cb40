"""Adoption over time: the fan chart of the national share, and the year targets are passed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.stats import norm

from sim import results
from sim.observations import Observation
from sim.report import summaries
from sim.report.style import (
    MARKERS,
    METRIC_LABELS,
    PALETTE,
    SERIES_LABELS,
    TARGET_COLOR,
    TECH_COLORS,
    TECH_LABELS,
    label,
    pct,
    percent_axis,
    styled,
    year_axis,
)
from sim.spec import Target

#: Half-width of a 90% interval in standard deviations: the observations' bars match the light
#: band (the middle 90% of draws).
Z90 = float(norm.ppf(0.95))


@styled(figsize=(7.0, 4.2))
def fan_chart(
    ds: xr.Dataset,
    *,
    metric: str = "population",
    tech: str | Sequence[str] = "any",
    observations: Sequence[Observation] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """National adopted share over time: median, 50% and 90% bands, with the targets and the
    observations of the reading marked.

    Parameters
    ----------
    ds : Dataset
        Results with ``share`` (draw, time, tech, metric).
    metric : str
        Reading of "penetration": population, internet_users, firms or firm_employment.
    tech : str or sequence of str
        Technologies to draw (terminal, agent, any), each in its own colour.
    observations : sequence of sim.observations.Observation, optional
        Observed values; those that measure the national share of a drawn technology by
        ``metric`` (:mod:`sim.observations`, ``output == 'share'``) are drawn in the
        technology's colour with a bar of +-1.645 standard deviations (90%, like the light band).
        None: the run's (:func:`sim.report.summaries.observations_of`); ``()``: none.
    ax : Axes, optional
        Axes to draw on (new ones if None).

    Returns
    -------
    Axes
        Holds one median line per technology (label ``median: TECH``), two bands each, and one
        marker per target of ``metric`` (line labelled ``target``), and one error-bar container
        per observation drawn (label = its series).
    """
    techs = [tech] if isinstance(tech, str) else list(tech)
    time = ds["time"].values
    handles = []
    for tn in techs:
        path = results.share_path(ds, tn, metric)
        v = summaries.draw_quantiles(path, [0.05, 0.25, 0.5, 0.75, 0.95], ds).values
        c = TECH_COLORS.get(tn, PALETTE[len(handles) % len(PALETTE)])
        ax.fill_between(time, v[0], v[4], color=c, alpha=0.15, linewidth=0)
        ax.fill_between(time, v[1], v[3], color=c, alpha=0.35, linewidth=0)
        ax.plot(time, v[2], color=c, linewidth=2.0, label=f"median: {tn}")
        # The legend swatch is the technology's own bands with its median across them.
        wide = Patch(color=c, alpha=0.15, linewidth=0)
        core = Patch(color=c, alpha=0.35, linewidth=0, label=label(tn, TECH_LABELS))
        handles.append((wide, core, Line2D([], [], color=c, linewidth=2.0)))
    if observations is None:
        observations = summaries.observations_of(ds)
    points = [
        o
        for o in observations
        if o.output == "share" and o.metric == metric and o.tech in techs and o.time <= time[-1]
    ]
    handles += _mark_observations(ax, points)
    targets = [t for t in results.targets_of(ds) if t.metric == metric]
    if targets:
        handles.append(_mark_targets(ax, targets, techs))
    labels = [
        f"{h[1].get_label()}: median, middle 50% and 90% of draws"
        if type(h) is tuple  # an ErrorbarContainer is a tuple too
        else h.get_label()
        for h in handles
    ]
    # Lower right stays clear: shares rise over time, so late years sit high on the chart.
    ax.legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=1)},
        loc="lower right",
        frameon=True,
        framealpha=0.85,
        edgecolor="none",
    )
    ax.set_ylim(0, 1)
    # Years are labelled mid-span, so a target due at the end of 2027 sits at the end of "2027".
    first = min([time[0], *(p.time - np.timedelta64(45, "D") for p in points)])
    ax.set_xlim(first, time[-1] + np.timedelta64(45, "D"))
    year_axis(ax)
    percent_axis(ax)
    ax.set_ylabel(f"adopted share of {label(metric, METRIC_LABELS)}")
    what = label(techs[0], TECH_LABELS) if len(techs) == 1 else "AI terminals and AI agents"
    ax.set_title(f"Share of {label(metric, METRIC_LABELS)} using {what}")
    return ax


def _mark_observations(ax: Axes, points: Sequence[Observation]) -> list[ErrorbarContainer]:
    """A marker (one shape per series, filled with its technology's colour) and a 90% bar per
    observation; returns one legend handle per series."""
    series = list(dict.fromkeys(p.series for p in points))
    handles = []
    for k, name in enumerate(series):
        for i, p in enumerate(p for p in points if p.series == name):
            bar = ax.errorbar(
                [p.time],
                [p.value],
                yerr=[[Z90 * p.sd], [Z90 * p.sd]],
                fmt=MARKERS[k % len(MARKERS)],
                color="black",
                markerfacecolor=TECH_COLORS.get(p.tech, "white"),
                markeredgecolor="black",
                markersize=6,
                markeredgewidth=1.0,
                elinewidth=1.1,
                capsize=2.5,
                zorder=7,
                label=f"observed: {label(name, SERIES_LABELS)} (bar: 90%)",
            )
            if i == 0:
                handles.append(bar)
    return handles


def _mark_targets(ax: Axes, targets: Sequence[Target], techs: Sequence[str]) -> Line2D:
    """A diamond and a note at each target; returns the legend's handle for them."""
    (mark,) = ax.plot(
        [results.year_end(t.year) for t in targets],
        [t.threshold for t in targets],
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
            (results.year_end(t.year), t.threshold),
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
    style = {
        "linestyle": "none",
        "marker": mark.get_marker(),
        "markersize": mark.get_markersize(),
        "markerfacecolor": mark.get_markerfacecolor(),
        "markeredgecolor": mark.get_markeredgecolor(),
        "markeredgewidth": mark.get_markeredgewidth(),
    }
    return Line2D([], [], **style, label=f"target{note}")
