"""The run specification's value objects: frozen dataclasses that hold a validated configuration.

They are built by :func:`sim.spec.build_spec` and read by everything below the command-line edge;
none of them knows where its values came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from sim.observations import Observation
from sim.vocab import (
    KEEP,
    Backend,
    CalibrationMethod,
    DemographyBasis,
    Dist,
    Engine,
    IndividualBusinesses,
    Keep,
    Likelihood,
    Metric,
    PopulationKind,
    Sampling,
    Uncertainty,
    UnverifiedFigures,
)


@dataclass(frozen=True)
class Prior:
    """Distribution of one uncertain parameter.

    Parameters
    ----------
    name : str
        Dotted name, e.g. ``agent.q`` or ``lever.compute.agent.p``.
    dist : {'uniform', 'loguniform', 'triangular', 'fixed'}
    low, high : float
        Support of the distribution (both equal ``value`` for ``fixed``).
    mode : float or None
        Mode of a triangular distribution.
    central : float
        Value used when uncertainty is off (default: the median).
    reason : str
        One line: the source, or why the assumption was made.
    """

    name: str
    dist: Dist
    low: float
    high: float
    mode: float | None
    central: float
    reason: str

    def ppf(self, u: ArrayLike) -> NDArray[np.float64]:
        """Map uniforms ``u`` in [0, 1) to parameter values (inverse CDF)."""
        u = np.asarray(u, dtype=np.float64)
        if self.dist == "fixed" or self.low == self.high:
            return np.full(u.shape, self.low)
        if self.dist == "uniform":
            return self.low + (self.high - self.low) * u
        if self.dist == "loguniform":
            return np.exp(np.log(self.low) + (np.log(self.high) - np.log(self.low)) * u)
        c = (self.mode - self.low) / (self.high - self.low)
        return stats.triang.ppf(u, c, loc=self.low, scale=self.high - self.low)

    def fixed_at(self, value: float, reason: str) -> Prior:
        return replace(
            self, dist="fixed", low=value, high=value, mode=None, central=value, reason=reason
        )


@dataclass(frozen=True)
class Scope:
    """Where a lever acts. Empty fields mean no restriction; restrictions combine with AND."""

    provinces: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    compute_hub: bool | None = None
    sectors: tuple[str, ...] = ()
    key_areas: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()


def step_schedule(
    schedule: tuple[tuple[int, float], ...], t: ArrayLike, before: float = 0.0
) -> NDArray[np.float64]:
    """Level of a ``(year, level)`` schedule at decimal year(s) ``t``: each level holds from January
    of its year until the next listed year (``before`` until the first; 0 throughout for an empty
    schedule)."""
    t = np.asarray(t, dtype=np.float64)
    if not schedule:
        return np.zeros(t.shape)
    years = np.array([y for y, _ in schedule], dtype=np.float64)
    levels = np.array([before] + [x for _, x in schedule])
    return levels[np.searchsorted(years, t, side="right")]


#: A lever's intensity today (current policy): the unit of every schedule.
TODAY = 1.0


@dataclass(frozen=True)
class Lever:
    """One support lever: an intensity schedule over years and the channels it acts through.

    ``schedule`` holds ``(year, intensity)`` pairs: the intensity holds from January of that year
    until the next listed year; before the first, today's :data:`TODAY` (current policy, which the
    calibrated trend embodies); an empty schedule is 0 throughout. ``channels`` names the channels
    with an effect prior (``lever.NAME.CHANNEL`` in :attr:`Spec.priors`).
    """

    name: str
    lag: float
    schedule: tuple[tuple[int, float], ...]
    channels: tuple[str, ...]
    scope: Scope = field(default_factory=Scope)

    def intensity(self, t: ArrayLike) -> NDArray[np.float64]:
        """Intensity in force at decimal year(s) ``t``, before the lag is applied."""
        return step_schedule(self.schedule, t, before=TODAY)

    def before_schedule(self, t: float) -> bool:
        """Whether ``t`` comes before the schedule's first year (today's intensity, everywhere)."""
        return bool(self.schedule) and t < self.schedule[0][0]


@dataclass(frozen=True)
class Programme:
    """A planner's programme: intensity added to one lever, by year, where ``scope`` says.

    In a cell covered by the lever's own scope and by programmes, the intensities add up before
    the lever's diminishing-returns response is applied; the lever's lag applies to all of them.
    """

    name: str
    lever: str
    schedule: tuple[tuple[int, float], ...]
    scope: Scope = field(default_factory=Scope)

    def intensity(self, t: ArrayLike) -> NDArray[np.float64]:
        """Added intensity in force at decimal year(s) ``t``, before the lever's lag."""
        return step_schedule(self.schedule, t)


@dataclass(frozen=True)
class Shock:
    """One kind of stochastic event (see :mod:`sim.rules.shocks`).

    ``rate`` is in events per year; ``size`` is the kind's effect (``jump``: relative rise of the
    agents' innovation rate p; ``depth``: relative fall of their imitation rate q; ``cut``: share of
    the compute lever's effects lost); ``duration`` in years; ``mitigation`` (incidents only) how
    strongly the safety lever softens and shortens an incident. ``at`` lists (year, month) in
    which an event happens in every draw, besides the random ones.
    """

    name: str
    rate: Prior
    size: Prior
    duration: Prior
    mitigation: Prior | None = None
    at: tuple[tuple[int, int], ...] = ()

    @property
    def active(self) -> bool:
        """Whether any draw can see an event of this kind."""
        return self.rate.high > 0.0 or bool(self.at)


@dataclass(frozen=True)
class Costs:
    """Public cost of the levers: a prior per lever (``cost.LEVER``) in billion yuan per unit of
    intensity per year, and the share of a lever's nationwide budget that goes to people (the rest
    to firms), which prices a scoped lever or programme by the share of people and firms it
    covers. Costs are reported, never sampled into the simulation."""

    unit: tuple[Prior, ...] = ()
    people_share: float = 0.5

    def of(self, lever: str) -> Prior:
        return next(p for p in self.unit if p.name == f"cost.{lever}")


@dataclass(frozen=True)
class SizeClass:
    name: str
    share: float
    employees: float


@dataclass(frozen=True)
class PopulationSpec:
    """The synthetic population: its kind and size, the firm size-class prior (shares and relative
    employees; ``sim.population`` rescales employees to the census total), which firm units count,
    where provinces' residence and age mix come from, and the floor of agents per province."""

    kind: PopulationKind
    n_agents: int
    firm_fraction: float
    size_classes: tuple[SizeClass, ...] = ()
    individual_businesses: IndividualBusinesses = "exclude"
    demography: DemographyBasis = "province"
    unverified: UnverifiedFigures = "flag"
    #: Fewest agents of each kind in a province (lowered when a kind has too few agents to give
    #: every province twice this many).
    min_agents_per_province: int = 200


@dataclass(frozen=True)
class RuleSpec:
    adoption: str = "bass"
    w_segment: float = 0.5
    w_province: float = 0.5
    w_network: float = 0.0
    network_degree: int = 8
    complementarity: bool = True
    replacement: bool = True


@dataclass(frozen=True)
class MCSpec:
    draws: int = 1000
    seed: int = 0
    chunk: int = 50
    uncertainty: Uncertainty = "sample"
    method: Sampling = "lhs"
    #: Where chunks run: in this process, or as Dask tasks (see :mod:`sim.engine.backends`).
    backend: Backend = "serial"
    #: Dask worker processes of a local cluster (None: one per core); exclusive with ``scheduler``.
    workers: int | None = None
    #: Serial backend: chunks run at once on this many threads of this process (None: one per
    #: usable core). The results are the same bits whatever the number.
    threads: int | None = None
    #: Address of an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    scheduler: str | None = None
    #: Outputs kept per draw: national trajectories always, province and sector detail optional.
    keep: tuple[Keep, ...] = KEEP
    #: Skip the chunks already finished in the run folder.
    resume: bool = False
    #: Replace a finished run in the run folder (whole); without it such a folder is refused.
    overwrite: bool = False


@dataclass(frozen=True)
class TimeSpec:
    """Monthly horizon: ``start`` and ``end`` are (year, month), both simulated."""

    start: tuple[int, int] = (2025, 1)
    end: tuple[int, int] = (2030, 12)
    dt: float = 1.0 / 12.0

    @property
    def n_steps(self) -> int:
        return (self.end[0] - self.start[0]) * 12 + self.end[1] - self.start[1] + 1

    @property
    def t0(self) -> float:
        """Decimal year at the start of the first simulated month."""
        return self.start[0] + (self.start[1] - 1) / 12.0

    def month_ends(self) -> NDArray[np.datetime64]:
        """Dates of the recorded states: the start state, then each simulated month's end."""
        first = np.datetime64(f"{self.start[0]:04d}-{self.start[1]:02d}", "M")
        months = first + np.arange(self.n_steps + 1)
        return (months.astype("datetime64[D]") - np.timedelta64(1, "D")).astype("datetime64[ns]")

    def step_of_year_end(self, year: int) -> int:
        """Index into :meth:`month_ends` of the state at the end of ``year``."""
        return (year - self.start[0]) * 12 + 12 - self.start[1] + 1


@dataclass(frozen=True)
class Target:
    """A target of the opinion under one reading: the share of ``metric`` adopting ``tech`` above
    ``threshold`` at the end of ``year``. ``primary`` marks the primary reading's targets."""

    year: int
    threshold: float
    metric: Metric
    tech: str
    primary: bool = False

    @property
    def label(self) -> str:
        return f"{self.year} > {self.threshold:.0%} {self.metric} ({self.tech})"


@dataclass(frozen=True)
class Scenario:
    """A planner's scenario file: its name (the file's stem), title and description, and the keys
    it overrides (``levers.compute``, ``programmes.sme_vouchers``, ...)."""

    name: str
    title: str
    description: str
    sets: tuple[str, ...] = ()


#: Command-line overrides that change what a run is, and how its title says so. A scenario's
#: title describes the scenario file; these name what the command line changed on top of it.
OVERRIDE_LABELS: dict[str, str] = {
    "levers=none": "support withdrawn",
    "uncertainty=none": "every parameter at its central value",
    "shocks=none": "no shocks",
    "shocks=stochastic": "random shocks on",
    "population=single_market": "single market",
    "calibration=observed": "calibrated to observations",
    "calibration=none": "prior odds, not calibrated",
    "engine=abm": "agent-based engine",
}
#: What each of those overrides does, for the run's description.
OVERRIDE_NOTES: dict[str, str] = {
    "levers=none": "`levers=none`: support withdrawn, a counterfactual: every support lever falls "
    "from today's intensity (1.0, which the calibrated trend embodies) to 0 from 2026, so today's "
    "lever effects fade out after each lever's lag (a scenario's own programmes remain).",
    "uncertainty=none": "`uncertainty=none`: every uncertain parameter is fixed at its central "
    "value; draws differ only by the agents' chance decisions.",
    "shocks=none": "`shocks=none`: no random shock (the early-2025 surge is a fitted change of "
    "the agents' innovation rate, not a shock, and stays).",
    "calibration=none": "`calibration=none`: prior odds: the draws are not conditioned on the "
    "observations.",
    "shocks=stochastic": "`shocks=stochastic`: random shocks at their prior rates.",
    "population=single_market": "`population=single_market`: identical agents in one market "
    "(the plain Bass check), not China's provinces and sectors.",
}


@dataclass(frozen=True)
class CalibrationSpec:
    """How the draws are conditioned on observations (see :mod:`sim.calibration`).

    Attributes
    ----------
    method : {'none', 'smc', 'importance'}
        ``smc``: sample the posterior of the parameters by sequential Monte Carlo and simulate
        its particles (:mod:`sim.posterior`); ``importance``: weight each prior draw by the
        likelihood of the observations.
    observations : tuple of sim.observations.Observation
        Every row of the observations file (mapped or not); empty when ``method`` is ``none``.
    source : str
        The file they came from.
    series : tuple of str
        Series used (empty: every mapped series).
    until : (year, month) or None
        Use only observations dated up to the end of this month; later ones are held out and only
        checked against the model's predictive distribution (a backtest).
    likelihood : {'normal', 'student_t'}
    df : float
        Degrees of freedom of ``student_t``.
    sd_scale : float
        Factor on every observation's uncertainty.
    discrepancy_sd : float
        Model discrepancy, share units, added in quadrature to each observation's uncertainty.
    ess_min : float
        Smallest effective sample size at which posterior odds are reported.
    particles, moves : int
        ``smc``: particles, and Metropolis moves per particle per round (:func:`sim.smc.sample`).
    ess_target : float
        ``smc``: conditional effective sample size kept by each tempering step, share of particles.
    max_rounds : int
        ``smc``: most rounds of the sampler.
    n_agents : int
        ``smc``: agents of the smaller population that the sampler's simulations use.
    """

    method: CalibrationMethod = "none"
    observations: tuple[Observation, ...] = ()
    source: str = ""
    series: tuple[str, ...] = ()
    until: tuple[int, int] | None = None
    likelihood: Likelihood = "normal"
    df: float = 4.0
    sd_scale: float = 1.0
    discrepancy_sd: float = 0.0
    ess_min: float = 100.0
    particles: int = 2000
    moves: int = 4
    ess_target: float = 0.5
    max_rounds: int = 40
    n_agents: int = 6000


@dataclass(frozen=True)
class Spec:
    """Everything a run needs, validated. Built by :func:`build_spec`."""

    scenario: Scenario
    population: PopulationSpec
    rules: RuleSpec
    priors: tuple[Prior, ...]
    levers: tuple[Lever, ...]
    lever_curvature: float
    mc: MCSpec
    time: TimeSpec
    targets: tuple[Target, ...]
    #: The primary reading (metric, tech): agent use as a share of the population by default.
    primary: tuple[Metric, str] = ("population", "agent")
    programmes: tuple[Programme, ...] = ()
    shocks: tuple[Shock, ...] = ()
    costs: Costs = field(default_factory=Costs)
    calibration: CalibrationSpec = field(default_factory=CalibrationSpec)
    #: Draw the run report's charts (False: ``report.md`` without charts, no matplotlib).
    report: bool = True
    engine: Engine = "core"
    #: The command-line overrides the run was composed with (``hydra.*`` left out).
    overrides: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """What the run is: the scenario's title and what the command line changed, e.g.
        ``'Baseline, support withdrawn'`` for ``levers=none``.

        Withdrawn support contradicts a title's bracketed policy (``'(current policy)'``), so that
        bracket is dropped.
        """
        changed = [OVERRIDE_LABELS[o] for o in self.overrides if o in OVERRIDE_LABELS]
        title = self.scenario.title
        if "levers=none" in self.overrides:
            title = re.sub(r"\s*\([^()]*\)\s*$", "", title) or title
        return ", ".join([title, *changed])

    @property
    def description(self) -> str:
        """The scenario's description, after notes on the overrides that change its meaning."""
        notes = [OVERRIDE_NOTES[o] for o in self.overrides if o in OVERRIDE_NOTES]
        if not notes:
            return self.scenario.description
        return (
            " ".join(["This run overrides the scenario file:", *notes, "The file describes:"])
            + f" {self.scenario.description}"
        )

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.priors)
