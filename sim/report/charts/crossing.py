"""The year the national share first passes each target's threshold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from sim import results
from sim.report import summaries
from sim.report.style import (
    METRIC_LABELS,
    PALETTE,
    TECH_LABELS,
    label,
    pct,
    percent_axis,
    styled,
)


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
    every = results.targets_of(ds)
    ts = [t for t in every if t.metric == metric and t.tech == tech] or list(every)
    if thresholds is None:
        thresholds = sorted({t.threshold for t in ts})
    due = {t.threshold: t.year for t in ts}
    w = results.weights_of(ds)
    years_all = ds["time"].dt.year.values
    first, last = int(years_all[0]), int(years_all[-1])
    crossing = {
        thr: summaries.crossing_year(ds, thr, metric=metric, tech=tech).values for thr in thresholds
    }
    # The start state's year only appears when some draw starts above a threshold.
    if not any(np.any(c == first) for c in crossing.values()):
        first += 1
    bins = np.arange(first, last + 1)
    width = 0.8 / len(thresholds)
    for k, thr in enumerate(thresholds):
        offset = (k - (len(thresholds) - 1) / 2) * width
        _bars(ax, crossing[thr], bins, w, thr=thr, due=due.get(thr), k=k, shift=offset, width=width)
    ticks = [("by start\n" if b == int(years_all[0]) else "") + str(b) for b in bins]
    ax.set_xticks(np.arange(len(bins) + 1), [*ticks, f"not by\nend-{last}"])
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


def _bars(
    ax: Axes,
    years: np.ndarray,
    bins: np.ndarray,
    w: np.ndarray | None,
    *,
    thr: float,
    due: int | None,
    k: int,
    shift: float,
    width: float,
) -> None:
    """The ``k``-th threshold's bars, shifted by ``shift``: the share of draws first above ``thr``
    in each year of ``bins`` and never (hatched), each printed; a dashed line at the target's
    year ``due``."""
    c = PALETTE[k % len(PALETTE)]
    p_year, p_never = summaries.year_distribution(years, bins, w)
    heights = np.append(p_year, p_never)
    x = np.arange(len(bins) + 1) + shift
    name = f"first above {pct(thr)}"
    if due is not None and bins[0] <= due <= bins[-1]:
        xe = float(np.searchsorted(bins, due)) + 0.5
        by = float(p_year[bins <= due].sum())
        ax.axvline(xe, color=c, linestyle="--", linewidth=1.2)
        name += f" (target: by {due}, dashed; {pct(by)} of draws in time)"
    bars = ax.bar(x, heights, width=width * 0.95, color=c, label=name)
    bars[-1].set_hatch("//")
    bars[-1].set_edgecolor("white")
    for xi, h in zip(x, heights, strict=True):
        if h > 0:
            text = pct(h) if h >= 0.01 else "<1%"
            ax.text(xi, h, text, ha="center", va="bottom", fontsize=6.5, color=c)
