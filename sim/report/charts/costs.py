"""What each scenario of a comparison buys: its extra public cost against its paired change in
the odds of a target."""

from __future__ import annotations

import textwrap

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from sim.comparison import Comparison, ScenarioResult
from sim.report.style import (
    MARKERS,
    METRIC_LABELS,
    PALETTE,
    TECH_LABELS,
    label,
    pct,
    plain,
    pp,
    styled,
)
from sim.spec import Target


@styled(figsize=(9.0, 4.8))
def cost_odds_chart(
    comp: Comparison,
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
    comp : Comparison
        :func:`sim.comparison.compare` (or :func:`sim.compare`).
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
    if not comp.has_costs:
        raise ValueError("the comparison has no public costs (results without public_cost)")
    j = comp.index(target) if isinstance(target, Target) else int(target)
    t = comp.targets[j]
    notes = [_scenario_point(ax, s, j, i) for i, s in enumerate(comp.scenarios)]
    ax.axhline(0.0, color="black", linewidth=0.8, zorder=1)
    ax.axvline(0.0, color="black", linewidth=0.8, zorder=1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: pp(v)))
    ax.xaxis.set_major_formatter(
        mpl.ticker.FuncFormatter(lambda v, _: f"{v:+,.0f}" if round(v) else "0")
    )
    ax.margins(x=0.15, y=0.15)
    ax.set_xlabel(f"extra public cost to end-{t.year}, bn yuan (at the central assumed unit costs)")
    ax.set_ylabel("change in P(target met), pp\n(dot; bar: 95% paired interval)")
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


def _scenario_point(ax: Axes, s: ScenarioResult, j: int, i: int) -> str:
    """Scenario ``s`` (the ``i``-th) at its extra cost and change in target ``j`` (the reference,
    hollow, at the origin); returns what it buys, for the legend."""
    c, mk = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
    title = textwrap.fill(plain(s.title or s.scenario), 44)
    change = s.rows[j].change
    if change is None:
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
        return "the reference"
    x, y = change.extra_cost_yuan / 1e9, change.p_hit_diff
    lo, hi = change.p_hit_diff_ci95
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
    per = change.p_hit_diff_per_100bn_yuan
    if per is not None:
        return f"{100 * per:+.2g} pp per 100 bn yuan"
    return f"costs {'less' if x < 0 else 'no more'} than the reference"
