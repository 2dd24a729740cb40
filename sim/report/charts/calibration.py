"""Charts of a calibrated run: prior against posterior odds, and the model against the
observations it was calibrated to (:mod:`sim.calibration`)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.stats import norm

from sim import results
from sim.report import summaries
from sim.report.charts.odds import odds_points, odds_rows
from sim.report.style import (
    MARKERS,
    METRIC_LABELS,
    PALETTE,
    POSTERIOR_COLOR,
    PRIOR_COLOR,
    SERIES_LABELS,
    TECH_LABELS,
    label,
    percent_axis,
    styled,
    year_axis,
)
from sim.stats import weighted_quantile

#: Half-width of a central 90% normal interval, in standard deviations.
Z90 = float(norm.ppf(0.95))


def _refusal_note(record: Mapping) -> str:
    """Why a calibrated run shows no posterior, in a few short lines."""
    message = record["message"].removeprefix("posterior odds not reported: ")
    return "Posterior not shown: the calibration refused it.\n" + textwrap.fill(
        message[:1].upper() + message[1:], 88
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
    record = summaries.calibration_record(ds)
    targets = list(results.targets_of(ds))
    prior_draws = summaries.prior_of(ds)
    prior = summaries.odds(prior_draws, targets)
    prior_name = f"prior: all {int(prior_draws.sizes['draw']):,} prior draws count equally"
    if record["status"] == "ok":
        rows = odds_rows(ax, targets)
        odds_points(ax, prior, rows, offset=-0.17, color=PRIOR_COLOR, name=prior_name, hollow=True)
        name = (
            f"posterior: {record['n_draws']:,} particles conditioned on {record['n_used']} "
            f"observations\n({record['ess']:,.0f} distinct)"
            if record["method"] == "smc"
            else f"posterior: draws weighted by {record['n_used']} observations\n"
            f"({record['ess']:,.0f} effective draws)"
        )
        post = summaries.odds(ds, targets)
        odds_points(ax, post, rows, offset=0.17, color=POSTERIOR_COLOR, name=name)
        ax.set_title("Odds of each target before and after calibration to observed adoption")
    else:
        note = _refusal_note(record)
        rows = odds_rows(ax, targets, extra=1.0 + 0.55 * note.count("\n"))
        odds_points(ax, prior, rows, offset=0.0, color=PRIOR_COLOR, name=prior_name, hollow=True)
        ax.text(
            0.02,
            ax.get_ylim()[0] - 0.3,
            note,
            fontsize=7.5,
            linespacing=1.25,
            bbox={"boxstyle": "round,pad=0.5", "fc": "#FFF4E0", "ec": PALETTE[1], "lw": 1.0},
            zorder=7,
            multialignment="left",
            ha="left",
            va="bottom",
        )
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
    record = summaries.calibration_record(ds)
    if output != "share":
        tech = metric = ""
    points = summaries.observed(ds, output, tech, metric)
    if not points:
        checked = ", ".join("/".join(filter(None, k)) for k in summaries.checked_outputs(ds))
        raise ValueError(
            f"no observation of {output} {tech} {metric} was checked; checked: {checked}"
        )
    first = min(p.start if p.start is not None else p.time for p in points)
    start = None if output == "share" else str(first.astype("datetime64[M]"))
    path = summaries.model_path(ds, output, tech, metric, start=start)
    last = max(int(str(p.time)[:4]) for p in points) + 1 if until is None else int(until)
    path = path.sel(time=path["time"] <= results.year_end(last))
    handles = [_band(ax, path.isel(draw=summaries.prior_draws(ds)), None)]
    if record["status"] == "ok":
        handles.append(_band(ax, path, results.weights_of(ds)))
    handles += _observations(ax, points, until=record["until"])
    _legend(ax, handles, record)
    top = max(float(np.nanmax(path.values)), max(p.value + Z90 * p.sd for p in points))
    ax.set_ylim(0, min(1.0, top * 1.25 + 0.02))
    time = path["time"].values
    left = time[0] if output == "share" else first
    ax.set_xlim(left - np.timedelta64(45, "D"), time[-1] + np.timedelta64(20, "D"))
    year_axis(ax)
    percent_axis(ax)
    ax.set_ylabel(_what(output, tech, metric))
    ax.set_title(f"Model against observations: {_what(output, tech, metric)}")
    return ax


def _band(ax: Axes, path: xr.DataArray, w: np.ndarray | None) -> tuple[Patch, str]:
    """The middle 90% and median of ``path`` (draw, time): the prior's (``w`` None, grey,
    dashed median) or the posterior's (weighted, blue); returns its legend entry."""
    name, color = ("prior", PRIOR_COLOR) if w is None else ("posterior", POSTERIOR_COLOR)
    time = path["time"].values
    lo, med, hi = weighted_quantile(path.values, [0.05, 0.5, 0.95], weights=w)
    ax.fill_between(time, lo, hi, color=color, alpha=0.25 if w is None else 0.35, lw=0)
    style = "--" if w is None else "-"
    ax.plot(time, med, color=color, linestyle=style, linewidth=1.8, label=f"median: {name}")
    what = "draws" if w is None else "weighted draws"
    return (
        Patch(color=color, alpha=0.3, lw=0),
        f"{name}: middle 90% of {what} ({'dashed' if w is None else 'line'}: median)",
    )


def _observations(
    ax: Axes, points: Sequence[summaries.Observed], *, until: str | None
) -> list[tuple[Line2D, str]]:
    """A marker and 90% bar per observation (one marker per series; white when held out);
    returns the legend entries of the series and of how to read them."""
    series = list(dict.fromkeys(p.series for p in points))
    for p in points:
        held = p.status == "held_out"
        if p.start is not None:
            mid = p.start + (p.time - p.start) / 2
            xerr = [[mid - p.start], [p.time - mid]]
        else:
            mid, xerr = p.time, None
        ax.errorbar(
            [mid],
            [p.value],
            yerr=[[Z90 * p.sd], [Z90 * p.sd]],
            xerr=xerr,
            fmt=MARKERS[series.index(p.series) % len(MARKERS)],
            color="black",
            markerfacecolor="white" if held else "black",
            markersize=6,
            markeredgewidth=1.3,
            elinewidth=1.2,
            capsize=3,
            zorder=6,
            label=p.series,
        )
    handles = [
        (
            Line2D([], [], color="black", marker=MARKERS[k % len(MARKERS)], linestyle="none"),
            label(s, SERIES_LABELS),
        )
        for k, s in enumerate(series)
    ]
    if any(p.status == "held_out" for p in points):
        white = Line2D([], [], color="black", marker="o", markerfacecolor="white", linestyle="none")
        handles.append((white, f"white: held out (after {until}), a forecast check"))
    bar = Line2D([], [], color="black", marker="|", markersize=10, linestyle="none")
    handles.append(
        (bar, "bar: 90% interval of the observation\n(its uncertainty and the model discrepancy)")
    )
    return handles


def _legend(ax: Axes, handles: Sequence[tuple[object, str]], record: Mapping) -> None:
    """The legend, titled with the refusal when the calibration refused its posterior."""
    refused = (
        None
        if record["status"] == "ok"
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
