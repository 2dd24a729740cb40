"""Interactive explorer: the Mesa model in the browser, with the levers and key priors on sliders.

Start it with ``make explore`` (or ``solara run sim/ui/explorer.py``) and open the address it
prints. Move a slider, press Reset to rebuild the model with the new values, then Step or play.
Every other parameter of the history is held at its prior's central value; the population is the
national one with ``N_AGENTS`` agents, so a month takes a fraction of a second. Beside the history,
``N_ENSEMBLE`` draws of the vectorised core with the same slider values (the other priors drawn at
random) show the band of outcomes and the share of draws that meet each target.

Calibrated: ``make explore RUN=outputs/DATE/TIME`` (environment variable ``AIPLUS_EXPLORE_RUN``)
names a calibrated run's folder; the priors' sliders then start at its posterior medians and the
band's other parameters are its posterior draws (resampled by weight), so the explorer shows the
calibrated model.

This module is an edge of the package, like the command line: it composes the configuration and
draws charts; the model it drives is :class:`sim.abm.AdoptionModel`, unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import matplotlib as mpl
import numpy as np
import solara
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter
from numpy.typing import NDArray

from sim import priors, results
from sim.abm import AdoptionModel
from sim.config import load_spec
from sim.drivers import layout
from sim.engine import core, network
from sim.population import build
from sim.report.charts.maps import tile_map
from sim.report.style import (
    METRIC_LABELS,
    RC,
    SECTOR_LABELS,
    TARGET_COLOR,
    TECH_COLORS,
    TECH_LABELS,
    label,
    pct,
    percent_axis,
    year_axis,
)
from sim.spec import LEVERS, METRICS, TECH_COORDS, Spec
from sim.stats import weighted_quantile

N_AGENTS = 2000
TITLE = "aiplus-sim explorer: AI terminals and agents in China"
#: Priors on sliders: the Bass coefficients and ceilings of both technologies, complementarity.
PRIORS: tuple[str, ...] = (
    "agent.p",
    "agent.q",
    "agent.m",
    "terminal.p",
    "terminal.q",
    "terminal.m",
    "agent.m_firms",
    "joint.correlation",
    "people.internet_trend",
    "complementarity",
)
#: Draws of the small ensemble beside the single history.
N_ENSEMBLE = 16


@cache
def base_spec() -> Spec:
    """The explorer's configuration: one draw at the priors' central values."""
    return load_spec(["uncertainty=none", "mc.draws=1", f"population.n_agents={N_AGENTS}"])


@cache
def posterior() -> NDArray[np.float64] | None:
    """Posterior draws of the calibrated run named by ``AIPLUS_EXPLORE_RUN``, (n, n_params) in
    ``base_spec().param_names`` order, resampled by weight from the run's ``results.nc``; None
    without the variable.

    Raises
    ------
    ValueError
        If the folder holds no calibrated run with reported posterior odds, or its parameters are
        not this configuration's.
    """
    run = os.environ.get("AIPLUS_EXPLORE_RUN")
    if not run:
        return None
    path = Path(run) / "results.nc"
    if not path.is_file():
        raise ValueError(f"AIPLUS_EXPLORE_RUN: {path} does not exist")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        info, weights = results.calibration_of(ds), results.weights_of(ds)
        if info is None or info["status"] != "ok" or weights is None:
            raise ValueError(f"AIPLUS_EXPLORE_RUN: {run} holds no calibrated run (status ok)")
        names = results.param_names(ds)
        values = ds["param_value"].values.astype(np.float64)
    spec = base_spec()
    if names != spec.param_names:
        raise ValueError(f"AIPLUS_EXPLORE_RUN: {run}'s parameters are not the default config's")
    rng = np.random.default_rng(np.random.SeedSequence(spec.mc.seed, spawn_key=(7,)))
    return values[rng.choice(len(weights), size=1000, p=weights / weights.sum())]


def start_value(name: str) -> float:
    """A prior's starting value: its posterior median with a calibrated run, else its central."""
    spec, post = base_spec(), posterior()
    j = spec.param_names.index(name)
    if post is None:
        return float(spec.priors[j].central)
    return float(weighted_quantile(post[:, j], [0.5])[0])


@cache
def _population():
    spec = base_spec()
    pop = build(spec.population, seed=spec.mc.seed)
    return pop, layout(spec, pop)


def _kwarg(name: str) -> str:
    return name.replace(".", "_")


class Explorer(AdoptionModel):
    """:class:`AdoptionModel` built from slider values: each lever's intensity from 2025 on (1.0 =
    current policy, 0 = off) and the priors in ``PRIORS`` (keyword ``agent_q`` for ``agent.q``;
    None = the prior's central value)."""

    def __init__(
        self,
        *,
        models: float = 1.0,
        data: float = 1.0,
        compute: float = 1.0,
        app_environment: float = 1.0,
        open_source: float = 1.0,
        talent: float = 1.0,
        policy_finance: float = 1.0,
        safety: float = 1.0,
        agent_p: float | None = None,
        agent_q: float | None = None,
        agent_m: float | None = None,
        terminal_p: float | None = None,
        terminal_q: float | None = None,
        terminal_m: float | None = None,
        agent_m_firms: float | None = None,
        joint_correlation: float | None = None,
        people_internet_trend: float | None = None,
        complementarity: float | None = None,
        rng: int | None = None,
    ) -> None:
        spec = base_spec()
        settings = {k: v for k, v in locals().items() if k in {*LEVERS, *map(_kwarg, PRIORS)}}
        settings = {k: v for k, v in settings.items() if v is not None}
        levers = tuple(
            replace(lv, schedule=((2025, float(settings[lv.name])),)) if lv.name in settings else lv
            for lv in spec.levers
        )
        spec = replace(spec, levers=levers)
        values = np.array([p.central for p in spec.priors])
        for j, name in enumerate(spec.param_names):
            default = start_value(name) if name in PRIORS else values[j]
            values[j] = settings.get(_kwarg(name), default)
        pop, lay = _population()
        super().__init__(spec, pop, values, lay=lay, rng=rng)
        self.settings = {name: float(v) for name, v in zip(spec.param_names, values, strict=True)}
        self.settings.update({lv.name: lv.intensity(spec.time.t0).item() for lv in spec.levers})
        #: The slider values the model was built with, by keyword (for the ensemble).
        self.inputs = tuple(
            (s.name, self.settings[s.name if s.name in LEVERS else s.label]) for s in sliders()
        )


@dataclass(frozen=True)
class SliderSpec:
    """One slider: the model's keyword, its label, start value and range."""

    name: str
    label: str
    value: float
    low: float
    high: float
    step: float


def sliders() -> tuple[SliderSpec, ...]:
    """A slider per lever (intensity from 2025, 1 = current policy) and per prior in ``PRIORS``
    (its prior's range, starting at the central value, or the posterior median of the calibrated
    run in ``AIPLUS_EXPLORE_RUN``)."""
    out = [SliderSpec(n, f"{n.replace('_', ' ')} lever", 1.0, 0.0, 3.0, 0.1) for n in LEVERS]
    by_name = {p.name: p for p in base_spec().priors}
    for name in PRIORS:
        p = by_name[name]
        step = float(f"{(p.high - p.low) / 20:.2g}")
        start = round(start_value(name), 4)
        out.append(SliderSpec(_kwarg(name), name, start, p.low, p.high, step))
    return tuple(out)


@cache
def _ensemble(settings: tuple[tuple[str, float], ...]) -> NDArray[np.float32]:
    """National share of ``N_ENSEMBLE`` draws, shape (n_draws, n_times, 3, n_metrics): the
    vectorised core with the sliders' levers and priors, every other parameter drawn at random:
    from the prior, or from the posterior of the calibrated run in ``AIPLUS_EXPLORE_RUN``."""
    model = Explorer(**dict(settings))
    spec, pop, post = model.spec, model.pop, posterior()
    if post is None:
        values = priors.sample(spec.priors, N_ENSEMBLE, seed=spec.mc.seed, method=spec.mc.method)
    else:
        values = post[:N_ENSEMBLE].copy()
    for j, name in enumerate(spec.param_names):
        if _kwarg(name) in dict(settings):
            values[:, j] = model.settings[name]
    draws = np.arange(N_ENSEMBLE, dtype=np.int64)
    nbrs = network(spec, pop)
    return core.simulate_chunk(spec, pop, values, draws, lay=model.lay, neighbours=nbrs).share


# --------------------------------------------------------------------------------------------------
# Views of the model's current state
# --------------------------------------------------------------------------------------------------
def group_shares(model: AdoptionModel, by: str) -> NDArray[np.float64]:
    """Adopted share now by ``by`` ('province' or 'sector'), shape (4, n_metrics, n_groups):
    technology (terminal, agent, any, both) x metric; NaN where a metric counts nobody."""
    lay = model.lay
    mat, ok = (lay.province, lay.province_ok) if by == "province" else (lay.sector, lay.sector_ok)
    out = np.stack([mat @ s for s in model.cell_share]).reshape(len(TECH_COORDS), len(METRICS), -1)
    return np.where(ok.reshape(len(METRICS), -1), out, np.nan)


def _goals(spec: Spec, metric: str) -> list:
    """The targets of ``metric`` that either technology meets (one per year)."""
    return [t for t in spec.targets if t.metric == metric and t.tech == "any"]


def _targets(ax: Axes, spec: Spec, metric: str) -> None:
    """The targets of ``metric`` as the report marks them: a diamond at the year's end."""
    for t in _goals(spec, metric):
        ax.plot(
            [results.year_end(t.year)],
            [t.threshold],
            marker="D",
            ms=6,
            mfc="white",
            mec=TARGET_COLOR,
            mew=1.4,
            ls="none",
            zorder=5,
        )
        ax.annotate(
            f"> {pct(t.threshold)} by end-{t.year}",
            (results.year_end(t.year), t.threshold),
            xytext=(-6, 6),
            textcoords="offset points",
            ha="right",
            fontsize=7,
        )


def _time_axes(ax: Axes, spec: Spec, metric: str) -> None:
    dates = spec.time.month_ends()
    ax.set_xlim(dates[0], dates[-1] + np.timedelta64(45, "D"))
    ax.set_ylim(0, 1)
    year_axis(ax)
    percent_axis(ax)
    ax.set_ylabel(f"adopted share of {label(metric, METRIC_LABELS)}")


def plot_adoption(model: AdoptionModel, metric: str, ax: Axes) -> Axes:
    """This history's national adopted share by technology so far, with the targets."""
    spec = model.spec
    dates = spec.time.month_ends()
    share = model.recorder.share[0, : model.month + 1, :, METRICS.index(metric)]
    for j, tech in enumerate(TECH_COORDS):
        ax.plot(
            dates[: model.month + 1],
            share[:, j],
            color=TECH_COLORS[tech],
            lw=2,
            label=label(tech, TECH_LABELS),
        )
    _targets(ax, spec, metric)
    _time_axes(ax, spec, metric)
    ax.set_title(f"This history: {label(metric, METRIC_LABELS)}")
    ax.legend(loc="lower right")
    return ax


def plot_ensemble(model: AdoptionModel, metric: str, ax: Axes) -> Axes:
    """``N_ENSEMBLE`` draws with the sliders' settings: median and middle 90% band of each
    technology over the whole horizon, and the odds of each target among the draws."""
    spec = model.spec
    dates = spec.time.month_ends()
    share = _ensemble(model.inputs)[..., METRICS.index(metric)]
    for j, tech in enumerate(TECH_COORDS):
        lo, med, hi = np.quantile(share[:, :, j], [0.05, 0.5, 0.95], axis=0)
        c = TECH_COLORS[tech]
        ax.fill_between(dates, lo, hi, color=c, alpha=0.2, lw=0)
        ax.plot(dates, med, color=c, lw=2, label=f"{label(tech, TECH_LABELS)}: median, 90%")
    _targets(ax, spec, metric)
    _time_axes(ax, spec, metric)
    odds = [
        f"end-{t.year} {np.mean(share[:, dates == results.year_end(t.year), 2] > t.threshold):.0%}"
        for t in _goals(spec, metric)
    ]
    ax.set_title(
        f"{N_ENSEMBLE} draws, other parameters from the "
        f"{'prior' if posterior() is None else 'posterior'}: {label(metric, METRIC_LABELS)}\n"
        f"targets met in {', '.join(odds)} of draws"
    )
    ax.legend(loc="lower right")
    return ax


def plot_tiles(model: AdoptionModel, ax: Axes) -> Axes:
    """People using either technology now, on the report's tile map: colour = difference from
    the national share (red below, blue above)."""
    shares = group_shares(model, "province")[2, METRICS.index("population")]
    names = model.pop.provinces.astype(str)
    national = float(model.recorder.share[0, model.month, 2, METRICS.index("population")])
    diff = shares - national
    span = max(float(np.ceil(np.nanmax(np.abs(diff)) / 0.01) * 0.01), 0.02)
    tile_map(
        ax,
        dict(zip(names, shares.tolist(), strict=True)),
        dict(zip(names, diff.tolist(), strict=True)),
        span=span,
    )
    ax.set_title(
        f"People using either technology, by province (national {pct(national)};\n"
        f"red below, blue above, up to {pct(span)} apart; one history of {N_AGENTS:,} agents:\n"
        "differences of a few points are sampling noise, see the report's map)"
    )
    return ax


def plot_sectors(model: AdoptionModel, ax: Axes) -> Axes:
    """Firms using either technology now, by sector, against the targets."""
    values = group_shares(model, "sector")[2, METRICS.index("firms")]
    names = model.pop.sectors
    order = np.argsort(values)
    ax.barh(np.arange(len(names)), values[order], color=TECH_COLORS["any"])
    ax.set_yticks(
        np.arange(len(names)), [label(str(n), SECTOR_LABELS) for n in names[order]], fontsize=7
    )
    for t in _goals(model.spec, "firms"):
        ax.axvline(t.threshold, color=TARGET_COLOR, lw=0.8, ls="--")
    ax.set_xlim(0, 1)
    percent_axis(ax, "x")
    ax.set_xlabel("share of firms using either technology (dashed: targets)")
    ax.set_title("Firms by sector")
    return ax


# --------------------------------------------------------------------------------------------------
# The page (Solara components; they re-render after each step through Mesa's update counter)
# --------------------------------------------------------------------------------------------------
def _png(draw, figsize: tuple[float, float]):
    with mpl.rc_context(RC):
        fig = Figure(figsize=figsize, layout="constrained")
        draw(fig)
    return solara.FigureMatplotlib(fig, format="png")


@solara.component
def Status(model: AdoptionModel):
    """The month and the national shares now, as text."""
    update_counter.get()
    spec = model.spec
    date = str(spec.time.month_ends()[model.month])[:7]
    now = model.recorder.share[0, model.month, :, METRICS.index("population")]
    shares = ", ".join(
        f"{label(t, TECH_LABELS)} {v:.1%}" for t, v in zip(TECH_COORDS, now, strict=True)
    )
    with solara.Column(gap="2px"):
        solara.Markdown(f"**{date}**, month {model.month} of {spec.time.n_steps}")
        solara.Text(f"National share of all people: {shares}")
        solara.Text(
            f"Built with: {', '.join(f'{k} {v:.3g}' for k, v in model.inputs)}; "
            f"{len(model.adopters)} agents"
        )


@solara.component
def Charts(model: AdoptionModel):
    update_counter.get()

    def adoption(fig):
        axs = fig.subplots(2, 2)
        for row, metric in zip(axs, ("population", "firms"), strict=True):
            plot_adoption(model, metric, row[0])
            plot_ensemble(model, metric, row[1])

    def groups(fig):
        a, b = fig.subplots(1, 2, width_ratios=[1.25, 1])
        plot_tiles(model, a)
        plot_sectors(model, b)

    _png(adoption, (11, 7))
    _png(groups, (11, 5))


@solara.component
def Inputs(values: solara.Reactive[dict]):
    """One labelled slider per input, its current value printed beside it."""
    for s in sliders():

        def change(v: float, name: str = s.name) -> None:
            values.set({**values.value, name: v})

        now = values.value.get(s.name, s.value)
        with solara.Row(gap="4px", style={"align-items": "center"}):
            solara.SliderFloat(
                s.label, value=now, on_value=change, min=s.low, max=s.high, step=s.step
            )
            solara.Text(f"{now:g}", classes=["slider-value"], style={"min-width": "3.5em"})


@solara.component
def Page():
    solara.Title(TITLE)
    model = solara.use_reactive(solara.use_memo(lambda: Explorer(rng=42), []))
    values = solara.use_reactive({"rng": 42, **{s.name: s.value for s in sliders()}})
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        with solara.Card("Run: Reset rebuilds the model with the sliders' values"):
            ModelController(
                model,
                model_parameters=values,
                play_interval=solara.use_reactive(150),
                render_interval=solara.use_reactive(1),
                use_threads=solara.use_reactive(False),
            )
        with solara.Card("Levers (1 = current policy), priors"):
            Inputs(values)
    with solara.Column():
        Status(model.value)
        Charts(model.value)
