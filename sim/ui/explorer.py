"""Interactive explorer: the Mesa model in the browser, with the levers and key priors on sliders.

Start it with ``make explore`` (or ``solara run sim/ui/explorer.py``) and open the address it
prints. Move a slider, press Reset to rebuild the model with the new values, then Step or play.
Every other parameter is held at its prior's central value; the population is the national one
with ``N_AGENTS`` agents, so a month takes a fraction of a second.

This module is an edge of the package, like the command line: it composes the configuration and
draws charts; the model it drives is :class:`sim.abm.AdoptionModel`, unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import solara
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from mesa.visualization import Slider, SolaraViz
from numpy.typing import NDArray

from sim.abm import AdoptionModel
from sim.config import load_spec
from sim.drivers import layout
from sim.population import build
from sim.report.style import TECH_COLORS
from sim.spec import LEVERS, METRICS, TECH_COORDS, Spec

N_AGENTS = 2000
#: Priors on sliders: the Bass coefficients and ceilings of both technologies, complementarity.
PRIORS: tuple[str, ...] = (
    "agent.p",
    "agent.q",
    "agent.m",
    "terminal.p",
    "terminal.q",
    "terminal.m",
    "complementarity",
)
#: Tile-map position (column, row from the top) and ISO 3166-2:CN code of each province: a display
#: layout that keeps neighbours roughly adjacent, not geographic data.
TILES: dict[str, tuple[int, int, str]] = {
    "Heilongjiang": (8, 0, "HL"),
    "InnerMongolia": (5, 1, "NM"),
    "Beijing": (6, 1, "BJ"),
    "Jilin": (8, 1, "JL"),
    "Xinjiang": (1, 2, "XJ"),
    "Gansu": (3, 2, "GS"),
    "Ningxia": (4, 2, "NX"),
    "Shanxi": (5, 2, "SX"),
    "Hebei": (6, 2, "HE"),
    "Tianjin": (7, 2, "TJ"),
    "Liaoning": (8, 2, "LN"),
    "Tibet": (1, 3, "XZ"),
    "Qinghai": (2, 3, "QH"),
    "Shaanxi": (4, 3, "SN"),
    "Henan": (5, 3, "HA"),
    "Shandong": (6, 3, "SD"),
    "Sichuan": (2, 4, "SC"),
    "Chongqing": (3, 4, "CQ"),
    "Hubei": (4, 4, "HB"),
    "Anhui": (5, 4, "AH"),
    "Jiangsu": (6, 4, "JS"),
    "Shanghai": (7, 4, "SH"),
    "Yunnan": (2, 5, "YN"),
    "Guizhou": (3, 5, "GZ"),
    "Hunan": (4, 5, "HN"),
    "Jiangxi": (5, 5, "JX"),
    "Zhejiang": (6, 5, "ZJ"),
    "Guangxi": (3, 6, "GX"),
    "Guangdong": (4, 6, "GD"),
    "Fujian": (5, 6, "FJ"),
    "Hainan": (4, 7, "HI"),
}


@cache
def base_spec() -> Spec:
    """The explorer's configuration: one draw at the priors' central values."""
    return load_spec(["uncertainty=none", "mc.draws=1", f"population.n_agents={N_AGENTS}"])


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
            values[j] = settings.get(_kwarg(name), values[j])
        pop, lay = _population()
        super().__init__(spec, pop, values, lay=lay, rng=rng)
        self.settings = {name: float(v) for name, v in zip(spec.param_names, values, strict=True)}
        self.settings.update({lv.name: lv.intensity(spec.time.t0).item() for lv in spec.levers})


def model_params() -> dict:
    """SolaraViz inputs: a slider per lever and per prior in ``PRIORS``; a fixed seed."""
    spec = base_spec()
    out: dict = {"rng": 42}
    for name in LEVERS:
        label = f"{name.replace('_', ' ')} lever"
        out[name] = Slider(label, value=1.0, min=0.0, max=3.0, step=0.1)
    priors = {p.name: p for p in spec.priors}
    for name in PRIORS:
        p = priors[name]
        step = float(f"{(p.high - p.low) / 20:.2g}")
        out[_kwarg(name)] = Slider(
            name, value=round(p.central, 4), min=p.low, max=p.high, step=step
        )
    return out


# --------------------------------------------------------------------------------------------------
# Views of the model's current state
# --------------------------------------------------------------------------------------------------
def group_shares(model: AdoptionModel, by: str) -> NDArray[np.float64]:
    """Adopted share now by ``by`` ('province' or 'sector'), shape (3, n_metrics, n_groups):
    technology (terminal, agent, any) x metric; NaN where a metric counts nobody."""
    lay = model.lay
    mat, ok = (lay.province, lay.province_ok) if by == "province" else (lay.sector, lay.sector_ok)
    out = np.stack([mat @ s for s in model.cell_share]).reshape(3, len(METRICS), -1)
    return np.where(ok.reshape(len(METRICS), -1), out, np.nan)


def plot_adoption(model: AdoptionModel, metric: str, ax: Axes) -> Axes:
    """National adopted share by technology so far, against the 70% and 90% targets."""
    spec = model.spec
    dates = spec.time.month_ends()
    share = model.recorder.share[0, : model.month + 1, :, METRICS.index(metric)]
    for j, tech in enumerate(TECH_COORDS):
        ax.plot(dates[: model.month + 1], share[:, j], color=TECH_COLORS[tech], label=tech)
    for t in spec.targets:
        end = np.datetime64(f"{t.year}-12-31")
        ax.axhline(t.threshold, color="grey", lw=0.8, ls="--")
        ax.plot([end], [t.threshold], marker="v", color="red", ms=7)
    ax.set_xlim(dates[0], dates[-1])
    ax.set_ylim(0, 1)
    ax.set_title(f"national share ({metric.replace('_', ' ')})", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_tiles(values: dict[str, float], ax: Axes, *, title: str = "") -> Axes:
    """A tile map of China's provinces coloured by ``values`` (shares in [0, 1])."""
    cmap = colormaps["viridis"]
    for name, (col, row, code) in TILES.items():
        v = values.get(name, np.nan)
        ax.add_patch(
            Rectangle(
                (col, -row),
                0.95,
                0.95,
                facecolor=cmap(v) if np.isfinite(v) else "lightgrey",
                edgecolor="white",
            )
        )
        ink = "white" if np.isfinite(v) and v < 0.6 else "black"
        ax.text(col + 0.47, -row + 0.58, code, ha="center", fontsize=7, color=ink)
        ax.text(col + 0.47, -row + 0.2, f"{v:.0%}", ha="center", fontsize=7, color=ink)
    ax.set_xlim(0.9, 9.0)
    ax.set_ylim(-7.1, 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return ax


def plot_sectors(names: NDArray[np.str_], values: NDArray, ax: Axes, *, title: str = "") -> Axes:
    """Horizontal bars of a share by sector, against the 70% and 90% targets."""
    order = np.argsort(values)
    ax.barh(np.arange(len(names)), values[order], color="tab:green")
    ax.set_yticks(np.arange(len(names)), [str(n).replace("_", " ") for n in names[order]])
    ax.tick_params(axis="y", labelsize=7)
    for level in (0.7, 0.9):
        ax.axvline(level, color="grey", lw=0.8, ls="--")
    ax.set_xlim(0, 1)
    ax.set_title(title, fontsize=10)
    return ax


# --------------------------------------------------------------------------------------------------
# Solara components (plain functions of the model; SolaraViz re-renders them after each step)
# --------------------------------------------------------------------------------------------------
def Status(model: AdoptionModel):
    """The month, the national shares and the settings the model was built with, as text."""
    spec = model.spec
    date = str(spec.time.month_ends()[model.month])[:7]
    now = model.recorder.share[0, model.month, :, METRICS.index("population")]
    shares = ", ".join(f"{t} {v:.1%}" for t, v in zip(TECH_COORDS, now, strict=True))
    levers = ", ".join(f"{name} {model.settings[name]:.1f}" for name in LEVERS)
    priors = ", ".join(f"{name} {model.settings[name]:.3g}" for name in PRIORS)
    with solara.Column(gap="2px") as column:
        solara.Text(f"{date}, month {model.month} of {spec.time.n_steps}")
        solara.Text(f"National share (population): {shares}")
        solara.Text(f"Levers: {levers}")
        solara.Text(f"Priors: {priors}; {len(model.adopters)} agents")
    return column


def AdoptionChart(model: AdoptionModel):
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    for metric, ax in zip(("population", "firms"), fig.subplots(1, 2), strict=True):
        plot_adoption(model, metric, ax)
    return solara.FigureMatplotlib(fig, format="png")


def ProvinceMap(model: AdoptionModel):
    shares = group_shares(model, "province")[2, METRICS.index("population")]
    values = dict(zip(model.pop.provinces.astype(str), shares, strict=True))
    fig = Figure(figsize=(5, 4.4), layout="constrained")
    plot_tiles(values, fig.subplots(), title="people using either technology, by province")
    return solara.FigureMatplotlib(fig, format="png")


def SectorChart(model: AdoptionModel):
    shares = group_shares(model, "sector")[2, METRICS.index("firms")]
    fig = Figure(figsize=(5, 4.4), layout="constrained")
    plot_sectors(model.pop.sectors, shares, fig.subplots(), title="firms using either, by sector")
    return solara.FigureMatplotlib(fig, format="png")


page = SolaraViz(
    Explorer(rng=42),
    components=[(Status, 0), (AdoptionChart, 0), (ProvinceMap, 0), (SectorChart, 0)],
    model_params=model_params(),
    name="aiplus-sim explorer",
)
