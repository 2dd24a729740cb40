"""Odds of meeting each target, with their Wilson intervals: of one run, or of each scenario of a
comparison."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from numpy.typing import NDArray

from sim import results
from sim.comparison import Comparison
from sim.report import summaries
from sim.report.style import (
    MARKERS,
    METRIC_LABELS,
    PALETTE,
    TECH_LABELS,
    label,
    pct,
    percent_axis,
    plain,
    styled,
)
from sim.spec import Target
from sim.stats import Odds


def odds_rows(
    ax: Axes, targets: Sequence[Target], *, pitch: float = 1.0, extra: float = 0.0
) -> dict[Target, float]:
    """Lay the targets out as rows (grouped by year, threshold and technology, one row per
    reading of "penetration"); label them on ``ax``; return each target's row position.
    ``pitch`` is the height of a row; ``extra`` adds that much empty space at the bottom (room
    for a note)."""
    groups: dict[tuple[bool, int, float, str], list[Target]] = {}
    # The primary reading's targets lead, then the other readings by year.
    for t in sorted(targets, key=lambda t: (not t.primary, t.year, t.threshold)):
        groups.setdefault((t.primary, t.year, t.threshold, t.tech), []).append(t)
    rows: dict[Target, float] = {}
    labels, y = [], 0.0
    for (primary, year, thr, tech), ts in groups.items():
        text = f"above {pct(thr)} by end-{year} ({label(tech, TECH_LABELS)})"
        text = f"primary reading: {text}" if primary else text
        ax.text(0.01, y, text, fontweight="bold", va="center", ha="left", fontsize=8.5)
        y += pitch
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


def odds_points(
    ax: Axes,
    odds: Sequence[Odds],
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
        # A weighted p_hit at 0 or 1 can lie an ulp outside its interval.
        xerr=[np.maximum(p - lo, 0.0), np.maximum(hi - p, 0.0)],
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


@styled(figsize=(8.0, 9.0))
def odds_chart(ds: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """Probability of meeting each target, with its 95% Wilson interval, by reading of the share.

    Parameters
    ----------
    ds : Dataset
        A run's results; its draw weights count when present (:func:`sim.results.weights_of`).
    ax : Axes, optional

    Returns
    -------
    Axes
        One error-bar container, one point per target, each probability printed beside its bar.
    """
    targets = list(results.targets_of(ds))
    rows = odds_rows(ax, targets)
    name = plain(ds.attrs.get("scenario_title") or ds.attrs.get("scenario", "run"))
    odds_points(ax, summaries.odds(ds, targets), rows, offset=0.0, color=PALETTE[0], name=name)
    ax.set_title("Odds of meeting each target, by what 'penetration' counts")
    return ax


@styled(figsize=(8.0, 5.0))
def comparison_odds_chart(comp: Comparison, *, ax: Axes | None = None) -> Axes:
    """Each scenario's odds of meeting each target, as the comparison records them.

    Parameters
    ----------
    comp : Comparison
        :func:`sim.comparison.compare` (or :func:`sim.compare`).
    ax : Axes, optional

    Returns
    -------
    Axes
        One error-bar container per scenario (label = its title; one colour and marker each),
        one point per target. Each probability is printed beside its bar when up to 3 scenarios
        are drawn (more would overlap).
    """
    n = len(comp.scenarios)
    pitch = max(1.0, 0.3 * n)
    rows = odds_rows(ax, comp.targets, pitch=pitch)
    offsets = (np.arange(n) - (n - 1) / 2) * (0.75 * pitch / n) if n > 1 else np.zeros(1)
    for i, s in enumerate(comp.scenarios):
        odds_points(
            ax,
            [r.odds for r in s.rows],
            rows,
            offset=offsets[i],
            color=PALETTE[i % len(PALETTE)],
            name=plain(s.title or s.scenario),
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
