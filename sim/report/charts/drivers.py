"""What drives the odds (a tornado of Sobol' indices) and what the odds cost (a designed
programme's cost-odds frontier)."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from sim.costs import YUAN_PER_BN
from sim.design import Design
from sim.report.style import PALETTE, TARGET_COLOR, styled


@styled(figsize=(8.0, 5.0))
def tornado_chart(drivers: xr.Dataset, *, output: str, n: int = 10, ax: Axes | None = None) -> Axes:
    """The ``n`` inputs with the largest total-order Sobol' index of ``output``, largest on top.

    Each input has two bars: first-order (its effect alone) and total-order (with its
    interactions), each with its bootstrap interval.

    Parameters
    ----------
    drivers : Dataset
        Indices with dims ``(output, input)`` and intervals on ``bound``
        (:meth:`sim.analysis.Drivers.to_dataset`, ``drivers.nc`` of a run folder).
    output : str
        Which output, e.g. ``'share_2030'`` or ``'hit_2027'``.
    n : int
        Inputs shown.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    d = drivers.sel(output=output)
    total = np.nan_to_num(d["total_order"].values, nan=-1.0)
    order = np.argsort(-total)[:n][::-1]
    y = np.arange(order.size)
    names = d["input"].values[order]
    conf = float(drivers.attrs.get("confidence", 0.9))
    for k, (var, colour, dy) in enumerate(
        (("total_order", PALETTE[0], 0.2), ("first_order", PALETTE[1], -0.2))
    ):
        v = d[var].values[order]
        lo, hi = d[f"{var}_interval"].values[:, order]
        ax.barh(
            y + dy,
            np.clip(v, 0, None),
            height=0.38,
            color=colour,
            label=("total order (with interactions)", "first order (alone)")[k],
        )
        ax.errorbar(
            np.clip(v, 0, None),
            y + dy,
            xerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)],
            fmt="none",
            ecolor=TARGET_COLOR,
            elinewidth=0.8,
            capsize=2,
        )
    ax.set_yticks(y, names)
    # Sampling noise can push an index past 1; past 1.5 the axis would hide the rest.
    upper = float(np.nanmax(np.r_[d["total_order_interval"].values[1], 1.0]))
    ax.set_xlim(0, min(1.5, upper))
    if not np.nanmax(np.r_[d["total_order"].values, 0.0]) > 0:
        ax.text(
            0.5,
            0.5,
            "no variance: every simulation of the design\nlands on the same side of the target",
            transform=ax.transAxes,
            ha="center",
            va="center",
        )
    kind, _, year = output.partition("_")
    what = f"hitting the {year} target" if kind == "hit" else f"the {year} primary share"
    ax.set_xlabel(f"share of the variance of {what} (Sobol' index, {conf:.0%} interval)")
    ax.set_title(f"What drives {what}")
    ax.legend(loc="lower right", frameon=False)
    return ax


@styled(figsize=(7.0, 4.5))
def frontier_chart(design: Design, *, ax: Axes | None = None) -> Axes:
    """Odds of the designed target against extra public cost: every schedule the optimiser
    evaluated (grey), their cost-odds frontier (line) and the chosen one (marker), with the
    required level.

    Parameters
    ----------
    design : Design
        :func:`sim.design.design`.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    pts = design.solution.evaluated
    ax.scatter(
        [p.cost / YUAN_PER_BN for p in pts],
        [p.p_hit for p in pts],
        s=10,
        color=PALETTE[7],
        label="schedules evaluated",
    )
    front = design.solution.frontier()
    ax.plot(
        [p.cost / YUAN_PER_BN for p in front],
        [p.p_hit for p in front],
        color=PALETTE[0],
        marker="o",
        label="cost-odds frontier",
    )
    best = design.solution.point
    ax.plot(
        [best.cost / YUAN_PER_BN],
        [best.p_hit],
        marker="*",
        markersize=14,
        color=PALETTE[3],
        linestyle="none",
        label="chosen" if design.solution.reached else "best reachable",
    )
    ax.axhline(design.settings.level, color=TARGET_COLOR, linestyle="--", linewidth=1)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel(f"extra public cost to end-{design.target.year}, bn yuan (central unit costs)")
    ax.set_ylabel(f"P(hit {design.target.year}), smoothed")
    ax.set_title(
        f"Cheapest programme for P(hit {design.target.year}) >= {design.settings.level:.0%}"
    )
    ax.legend(loc="best", frameon=False)
    return ax
