"""Typed, validated run specification: the one place where configuration becomes objects.

Hydra composes ``conf/`` into a plain mapping and the command line (or :func:`sim.run`) hands it to
:func:`build_spec`, which validates every key and value, applies the planner's scenario file from
``scenarios/`` and returns a frozen :class:`Spec`. Nothing below this module sees a config mapping.
A bad input raises :class:`ConfigError`, whose message is one line naming the file, the key and
what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml
from numpy.typing import ArrayLike, NDArray
from scipy import stats

if TYPE_CHECKING:
    from sim.observations import Observation

Tech = Literal["terminal", "agent"]
TECHS: tuple[Tech, ...] = ("terminal", "agent")
#: Technologies reported in results: each one, and ``any`` (either one).
TECH_COORDS: tuple[str, ...] = ("terminal", "agent", "any")
Metric = Literal["population", "internet_users", "firms", "firm_employment"]
METRICS: tuple[str, ...] = ("population", "internet_users", "firms", "firm_employment")
#: The eight support levers of the opinion's section 三 (七 to 十四).
LEVERS: tuple[str, ...] = (
    "models",
    "data",
    "compute",
    "app_environment",
    "open_source",
    "talent",
    "policy_finance",
    "safety",
)
CHANNELS: tuple[str, ...] = tuple(f"{t}.{c}" for t in TECHS for c in ("p", "q", "ceiling"))
KEY_AREAS: tuple[str, ...] = (
    "science",
    "industry",
    "consumption",
    "livelihood",
    "governance",
    "global_cooperation",
)
REGIONS: tuple[str, ...] = ("east", "central", "west", "northeast")
KINDS: tuple[str, ...] = ("people", "firms")
DISTS: tuple[str, ...] = ("uniform", "loguniform", "triangular", "fixed")
#: Per-draw outputs that a run can keep (``mc.keep``): national is always kept.
KEEP: tuple[str, ...] = ("national", "province", "sector")
#: Engines that run a spec: the vectorised core, or the Mesa agent-based model (``sim.abm``).
ENGINES: tuple[str, ...] = ("core", "abm")
MAX_END = (2035, 12)
SIZES: tuple[str, ...] = ("micro", "small", "medium", "large")
#: Stochastic shocks, and the parameters of each: yearly rate, effect size, duration (years) and,
#: for incidents, how strongly the safety lever mitigates them.
SHOCKS: tuple[str, ...] = ("breakthrough", "safety_incident", "compute_supply")
SHOCK_PARAMS: dict[str, tuple[str, ...]] = {
    "breakthrough": ("rate", "jump", "duration"),
    "safety_incident": ("rate", "depth", "duration", "mitigation"),
    "compute_supply": ("rate", "cut", "duration"),
}
#: Allowed support of each shock parameter (effects that cut a rate must stay in [0, 1]).
_SHOCK_RANGE = {"jump": (0.0, math.inf), "depth": (0.0, 1.0), "cut": (0.0, 1.0)}


class ConfigError(ValueError):
    """A user-fixable problem in a config or scenario file, reported as one line."""

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where, self.key, self.problem = where, key, problem
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


# --------------------------------------------------------------------------------------------------
# Value objects
# --------------------------------------------------------------------------------------------------
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
    dist: str
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


def step_schedule(schedule: tuple[tuple[int, float], ...], t: ArrayLike) -> NDArray[np.float64]:
    """Level of a ``(year, level)`` schedule at decimal year(s) ``t``: each level holds from January
    of its year until the next listed year (0 before the first)."""
    t = np.asarray(t, dtype=np.float64)
    if not schedule:
        return np.zeros(t.shape)
    years = np.array([y for y, _ in schedule], dtype=np.float64)
    levels = np.array([0.0] + [x for _, x in schedule])
    return levels[np.searchsorted(years, t, side="right")]


@dataclass(frozen=True)
class Lever:
    """One support lever: an intensity schedule over years and the channels it acts through.

    ``schedule`` holds ``(year, intensity)`` pairs: the intensity holds from January of that year
    until the next listed year (0 before the first). ``channels`` names the channels with an effect
    prior (``lever.NAME.CHANNEL`` in :attr:`Spec.priors`).
    """

    name: str
    lag: float
    schedule: tuple[tuple[int, float], ...]
    channels: tuple[str, ...]
    scope: Scope = field(default_factory=Scope)

    def intensity(self, t: ArrayLike) -> NDArray[np.float64]:
        """Intensity in force at decimal year(s) ``t``, before the lag is applied."""
        return step_schedule(self.schedule, t)


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
    kind: Literal["national", "single_market"]
    n_agents: int
    firm_fraction: float
    size_classes: tuple[SizeClass, ...] = ()


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
    uncertainty: Literal["sample", "none"] = "sample"
    method: Literal["lhs", "sobol"] = "lhs"
    #: Where chunks run: in this process, or as Dask tasks (see :mod:`sim.engine.backends`).
    backend: Literal["serial", "dask"] = "serial"
    #: Dask worker processes of a local cluster (None: one per core); exclusive with ``scheduler``.
    workers: int | None = None
    #: Address of an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    scheduler: str | None = None
    #: Outputs kept per draw: national trajectories always, province and sector detail optional.
    keep: tuple[str, ...] = KEEP
    #: Skip the chunks already finished in the run folder.
    resume: bool = False


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
    year: int
    threshold: float
    metric: str
    tech: str

    @property
    def label(self) -> str:
        return f"{self.year} > {self.threshold:.0%} {self.metric} ({self.tech})"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str


@dataclass(frozen=True)
class CalibrationSpec:
    """How the draws are conditioned on observations (see :mod:`sim.calibration`).

    Attributes
    ----------
    method : {'none', 'importance'}
        ``importance``: weight each draw by the likelihood of the observations.
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
    """

    method: Literal["none", "importance"] = "none"
    observations: tuple[Observation, ...] = ()
    source: str = ""
    series: tuple[str, ...] = ()
    until: tuple[int, int] | None = None
    likelihood: Literal["normal", "student_t"] = "normal"
    df: float = 4.0
    sd_scale: float = 1.0
    discrepancy_sd: float = 0.0
    ess_min: float = 100.0


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
    programmes: tuple[Programme, ...] = ()
    shocks: tuple[Shock, ...] = ()
    costs: Costs = field(default_factory=Costs)
    calibration: CalibrationSpec = field(default_factory=CalibrationSpec)
    #: Draw the run report's charts (False: ``report.md`` without charts, no matplotlib).
    report: bool = True
    engine: str = "core"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.priors)


# --------------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------------
class _Reader:
    """Reads one mapping from one source, raising :class:`ConfigError` that names both."""

    def __init__(self, where: str, prefix: str = "") -> None:
        self.where, self.prefix = where, prefix

    def key(self, k: str) -> str:
        if not self.prefix or not k:
            return self.prefix or str(k)
        return f"{self.prefix}.{k}"

    def fail(self, k: str, problem: str) -> ConfigError:
        return ConfigError(self.where, self.key(k), problem)

    def mapping(self, value: Any, k: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(k, f"expected a mapping, got {type(value).__name__} {value!r}")
        return value

    def known(self, m: Mapping[str, Any], allowed: Sequence[str], k: str = "") -> None:
        for name in m:
            if name not in allowed:
                raise ConfigError(
                    self.where,
                    self.key(f"{k}.{name}" if k else str(name)),
                    f"unknown key; allowed: {', '.join(allowed)}",
                )

    def number(
        self,
        value: Any,
        k: str,
        lo: float = -math.inf,
        hi: float = math.inf,
        *,
        integer: bool = False,
        lo_open: bool = False,
    ) -> float:
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or (not integer and not math.isfinite(value)):
            kind = "an integer" if integer else "a number"
            raise self.fail(k, f"expected {kind}, got {value!r}")
        if value < lo or value > hi or (lo_open and value == lo):
            lo_s = f"> {lo:g}" if lo_open else f">= {lo:g}"
            rng = f"{lo_s} and <= {hi:g}" if math.isfinite(hi) else lo_s
            raise self.fail(k, f"{value!r} is out of range; allowed: {rng}")
        return int(value) if integer else float(value)

    def choice(self, value: Any, allowed: Sequence[str], k: str) -> str:
        if value not in allowed:
            raise self.fail(k, f"{value!r} is not allowed; allowed: {', '.join(allowed)}")
        return value

    def boolean(self, value: Any, k: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(k, f"expected true or false, got {value!r}")
        return value

    def names(self, value: Any, allowed: Sequence[str], k: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise self.fail(k, f"expected a list, got {value!r}")
        for v in value:
            self.choice(v, allowed, k)
        return tuple(value)

    def month(self, value: Any, k: str) -> tuple[int, int]:
        try:
            y, m = (int(x) for x in str(value).split("-"))
            if not 1 <= m <= 12:
                raise ValueError
        except ValueError:
            raise self.fail(k, f"expected a month as 'YYYY-MM', got {value!r}") from None
        return y, m


# --------------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------------
def _prior(r: _Reader, name: str, raw: Any) -> Prior:
    m = r.mapping(raw, name)
    r.known(m, ("dist", "low", "high", "mode", "value", "central", "reason"), name)
    dist = r.choice(m.get("dist", "uniform"), DISTS, f"{name}.dist")
    reason = m.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise r.fail(f"{name}.reason", "every prior needs a one-line reason or source")
    if dist == "fixed":
        if "value" not in m:
            raise r.fail(f"{name}.value", "a fixed prior needs a value")
        v = r.number(m["value"], f"{name}.value")
        return Prior(name, dist, v, v, None, v, reason)
    for need in ("low", "high"):
        if need not in m:
            raise r.fail(f"{name}.{need}", f"a {dist} prior needs low and high")
    low = r.number(
        m["low"],
        f"{name}.low",
        0.0 if dist == "loguniform" else -math.inf,
        lo_open=dist == "loguniform",
    )
    high = r.number(m["high"], f"{name}.high", low)
    mode = None
    if dist == "triangular":
        if "mode" not in m:
            raise r.fail(f"{name}.mode", "a triangular prior needs a mode")
        mode = r.number(m["mode"], f"{name}.mode", low, high)
    prior = Prior(name, dist, low, high, mode, 0.0, reason)
    central = (
        float(prior.ppf(0.5))
        if m.get("central") is None
        else r.number(m["central"], f"{name}.central", low, high)
    )
    return replace(prior, central=central)


_PROB_PARAMS = ("terminal.m", "agent.m")


def _check_param_range(r: _Reader, p: Prior) -> None:
    """Parameters that are probabilities, shares or non-negative rates must stay in range."""
    leaf = p.name.rsplit(".", 1)[-1]
    is_share = p.name in _PROB_PARAMS or "s0_" in leaf or "ceiling" in leaf or leaf == "ai_max"
    is_share = is_share or leaf == "subsidy"
    hi = 1.0 if is_share else math.inf
    if p.name.startswith("replacement.ai_mid"):
        return
    if p.low < 0 or p.high > hi:
        allowed = "[0, 1]" if is_share else ">= 0"
        raise r.fail(p.name, f"support [{p.low:g}, {p.high:g}] is out of range; allowed: {allowed}")


def _rule_priors(r: _Reader, raw: Any, rule: str) -> dict[str, Prior]:
    """Priors of the chosen adoption rule's own parameters (``adoption.RULE`` in the priors file):
    ``NAME`` becomes the parameter ``adoption.NAME``, ``TECH.NAME`` stays as it is. Other rules'
    parameters are not sampled, so adding a rule leaves every other rule's draws unchanged."""
    from sim.rules import ADOPTION_RULES, rule_parameters

    m = r.mapping(raw, "adoption")
    r.known(m, tuple(ADOPTION_RULES), "adoption")
    names = rule_parameters(rule)
    allowed = (*names, *(f"{t}.{n}" for t in TECHS for n in names))
    rr = _Reader(r.where, f"{r.prefix}.adoption.{rule}")
    own = rr.mapping(m.get(rule), "")
    rr.known(own, allowed)
    out = {}
    for k, v in own.items():
        name = k if "." in k else f"adoption.{k}"
        out[name] = replace(_prior(rr, k, v), name=name)
    return out


def _check_rule_parameters(r: _Reader, priors: Mapping[str, Prior], rules: RuleSpec) -> None:
    """Every parameter of the adoption rule needs a prior, per technology or shared."""
    from sim.rules import rule_parameters

    for name in rule_parameters(rules.adoption):
        for tech in TECHS:
            if f"{tech}.{name}" not in priors and f"adoption.{name}" not in priors:
                raise r.fail(name, f"the {rules.adoption!r} rule needs a prior for {name}")


def _scope(r: _Reader, raw: Any, k: str, tables: _Tables) -> Scope:
    m = r.mapping(raw, k)
    r.known(m, ("provinces", "regions", "compute_hub", "sectors", "key_areas", "kinds", "sizes"), k)
    hub = m.get("compute_hub")
    return Scope(
        provinces=r.names(m.get("provinces"), tables.provinces, f"{k}.provinces"),
        regions=r.names(m.get("regions"), REGIONS, f"{k}.regions"),
        compute_hub=None if hub is None else r.boolean(hub, f"{k}.compute_hub"),
        sectors=r.names(m.get("sectors"), tables.sectors, f"{k}.sectors"),
        key_areas=r.names(m.get("key_areas"), KEY_AREAS, f"{k}.key_areas"),
        kinds=r.names(m.get("kinds"), KINDS, f"{k}.kinds"),
        sizes=r.names(m.get("sizes"), SIZES, f"{k}.sizes"),
    )


def _schedule(r: _Reader, raw: Any, k: str, time: TimeSpec) -> tuple[tuple[int, float], ...]:
    m = r.mapping(raw, k)
    out = []
    for year, level in m.items():
        try:
            y = int(year)
        except (TypeError, ValueError):
            y = None
        if y is None or isinstance(year, bool) or not 2000 <= y <= MAX_END[0]:
            raise r.fail(f"{k}.{year}", f"not a year; allowed: years 2000-{MAX_END[0]}")
        out.append((y, r.number(level, f"{k}.{year}", 0.0, 100.0)))
    return tuple(sorted(out))


@dataclass(frozen=True)
class _Tables:
    provinces: tuple[str, ...]
    sectors: tuple[str, ...]


def _tables() -> _Tables:
    from sim import data

    return _Tables(tuple(data.provinces()["province"]), tuple(data.sectors()["sector"]))


def load_yaml(path: Path) -> Mapping[str, Any]:
    """Read a YAML mapping, turning every failure into a one-line :class:`ConfigError`."""
    if not path.is_file():
        raise ConfigError(str(path), "", "file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(str(path), "", f"malformed YAML{at}: {problem}") from None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(str(path), "", f"expected a mapping at the top, got {type(raw).__name__}")
    return raw


_SCALE_OUT = ("backend", "workers", "scheduler", "keep", "resume")


def _scale_out(r: _Reader, m: Mapping[str, Any]) -> dict[str, Any]:
    """The ``mc`` keys that choose where chunks run, what is kept and whether to resume."""
    backend = r.choice(m.get("backend", "serial"), ("serial", "dask"), "backend")
    workers, scheduler = m.get("workers"), m.get("scheduler")
    if workers is not None:
        workers = int(r.number(workers, "workers", 1, 1024, integer=True))
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise r.fail("scheduler", f"expected an address such as tcp://HOST:8786, got {scheduler!r}")
    if backend == "serial" and (workers is not None or scheduler is not None):
        raise r.fail("workers" if workers is not None else "scheduler", "needs mc.backend=dask")
    if workers is not None and scheduler is not None:
        raise r.fail("workers", "give mc.workers (a local cluster) or mc.scheduler, not both")
    keep = r.names(m.get("keep", list(KEEP)), KEEP, "keep")
    if "national" not in keep:
        raise r.fail("keep", "must include national (national trajectories are always kept)")
    return {
        "backend": backend,
        "workers": workers,
        "scheduler": None if scheduler is None else scheduler.strip(),
        "keep": tuple(k for k in KEEP if k in keep),
        "resume": r.boolean(m.get("resume", False), "resume"),
    }


def scenario_names(scenarios_dir: Path) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in scenarios_dir.glob("*.yaml")))


def scenario_titles(scenarios_dir: Path) -> tuple[tuple[str, str], ...]:
    """``(name, title)`` of every shipped scenario, sorted by name."""
    out = []
    for name in scenario_names(scenarios_dir):
        title = load_yaml(scenarios_dir / f"{name}.yaml").get("title")
        out.append((name, " ".join(str(title).split()) if title else "(no title)"))
    return tuple(out)


def _scenario_file(
    name: Any, known: Sequence[str], scenarios_dir: Path, where: str, key: str
) -> tuple[str, Path]:
    """Name and path of a scenario given by name (``scenarios/NAME.yaml``) or by a .yaml path."""
    if isinstance(name, str) and name.endswith((".yaml", ".yml")):
        path = Path(name).expanduser()
        return path.stem, path
    if isinstance(name, str) and name in known:
        return name, scenarios_dir / f"{name}.yaml"
    raise ConfigError(
        where,
        key,
        f"unknown scenario {name!r}; allowed: {', '.join(known)} or a path to a .yaml file",
    )


def _value_prior(r: _Reader, name: str, raw: Any, reason: str) -> Prior:
    """A prior from its mapping, or, as a planner's shorthand, a fixed value from a bare number."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        v = r.number(raw, name)
        return Prior(name, "fixed", v, v, None, v, reason)
    return _prior(r, name, raw)


def _check_support(r: _Reader, key: str, p: Prior, lo: float, hi: float) -> None:
    if p.low < lo or p.high > hi:
        allowed = f"[{lo:g}, {hi:g}]" if math.isfinite(hi) else f">= {lo:g}"
        raise r.fail(key, f"support [{p.low:g}, {p.high:g}] is out of range; allowed: {allowed}")


def _programmes(
    sr: _Reader, raw: Mapping[str, Any], tables: _Tables, time: TimeSpec
) -> tuple[Programme, ...]:
    """A scenario's ``programmes``: name -> {lever, intensity (by year), scope}."""
    out = []
    for name, praw in raw.items():
        k = f"programmes.{name}"
        m = sr.mapping(praw, k)
        sr.known(m, ("lever", "intensity", "scope"), k)
        lever = sr.choice(m.get("lever"), LEVERS, f"{k}.lever")
        if not m.get("intensity"):
            raise sr.fail(f"{k}.intensity", "needs an intensity schedule by year, e.g. {2026: 1.0}")
        schedule = _schedule(sr, m["intensity"], f"{k}.intensity", time)
        out.append(
            Programme(str(name), lever, schedule, _scope(sr, m.get("scope"), f"{k}.scope", tables))
        )
    return tuple(out)


def _history(r: _Reader, raw: Any) -> dict[str, tuple[tuple[int, int], ...]]:
    """Observed events (``shocks.history``: kind -> months 'YYYY-MM'), which happen in every draw
    of every scenario."""
    m = r.mapping(raw, "history")
    r.known(m, SHOCKS, "history")
    out = {}
    for kind, months in m.items():
        if isinstance(months, str) or not isinstance(months, Sequence):
            raise r.fail(f"history.{kind}", f"expected a list of months 'YYYY-MM', got {months!r}")
        out[kind] = tuple(r.month(v, f"history.{kind}") for v in months)
    return out


def _shocks(
    pr: _Reader,
    defs: Mapping[str, Any],
    mode: str,
    sr: _Reader,
    over_all: Mapping[str, Any],
    scenario: str,
    *,
    history: Mapping[str, tuple[tuple[int, int], ...]] | None = None,
) -> tuple[Shock, ...]:
    """Shocks from their priors (``priors.shocks``), switched on or off by ``shocks.mode``, then
    overridden by the scenario's ``shocks`` (numbers or priors, and scheduled months ``at``).
    Observed events (``history``) are scheduled in every scenario."""
    history = dict(history or {})
    pr.known(defs, SHOCKS, "shocks")
    sr.known(over_all, SHOCKS, "shocks")
    out = []
    for kind in SHOCKS:
        params = SHOCK_PARAMS[kind]
        d = pr.mapping(defs.get(kind), f"shocks.{kind}")
        pr.known(d, params, f"shocks.{kind}")
        over = sr.mapping(over_all.get(kind), f"shocks.{kind}")
        sr.known(over, (*params, "at"), f"shocks.{kind}")
        if not d and not over and mode == "none" and kind not in history:
            continue
        values = {}
        for par in params:
            if par in over:
                r = _Reader(sr.where, f"shocks.{kind}")
                p = _value_prior(r, par, over[par], f"set by scenario {scenario}")
            elif par in d:
                r = _Reader(pr.where, f"priors.shocks.{kind}")
                p = _prior(r, par, d[par])
            else:
                raise pr.fail(
                    f"shocks.{kind}.{par}", f"needs a prior; required: {', '.join(params)}"
                )
            _check_support(r, par, p, *_SHOCK_RANGE.get(par, (0.0, math.inf)))
            values[par] = replace(p, name=f"shock.{kind}.{par}")
        if mode == "none" and "rate" not in over:
            values["rate"] = values["rate"].fixed_at(0.0, "random events off (shocks=none)")
        at_raw = over.get("at") or ()
        if isinstance(at_raw, str) or not isinstance(at_raw, Sequence):
            raise sr.fail(
                f"shocks.{kind}.at", f"expected a list of months 'YYYY-MM', got {at_raw!r}"
            )
        at = []
        for v in at_raw:
            y, mo = sr.month(v, f"shocks.{kind}.at")
            if not 2000 <= y <= MAX_END[0]:
                raise sr.fail(
                    f"shocks.{kind}.at", f"{v!r}: allowed: months of years 2000-{MAX_END[0]}"
                )
            at.append((y, mo))
        at.extend(history.get(kind, ()))
        out.append(
            Shock(
                kind,
                values["rate"],
                values[params[1]],
                values["duration"],
                values.get("mitigation"),
                tuple(sorted(set(at))),
            )
        )
    return tuple(out)


def _costs(
    pr: _Reader, raw: Mapping[str, Any], sr: _Reader, over: Mapping[str, Any], scenario: str
) -> Costs:
    """Cost priors by lever (``priors.costs``, billion yuan per unit intensity per year), with the
    scenario's ``costs`` overrides (numbers or priors)."""
    keys = ("people_share", *LEVERS)
    pr.known(raw, keys, "costs")
    sr.known(over, keys, "costs")
    if not raw and not over:
        return Costs()
    values = {}
    for k in keys:
        if k in over:
            r = _Reader(sr.where, "costs")
            p = _value_prior(r, k, over[k], f"set by scenario {scenario}")
        elif k in raw:
            r = _Reader(pr.where, "priors.costs")
            p = _prior(r, k, raw[k])
        else:
            raise pr.fail(f"costs.{k}", "needs a prior (billion yuan per unit intensity per year)")
        _check_support(r, k, p, 0.0, 1.0 if k == "people_share" else math.inf)
        values[k] = replace(p, name=f"cost.{k}")
    return Costs(unit=tuple(values[k] for k in LEVERS), people_share=values["people_share"].central)


def build_spec(
    cfg: Mapping[str, Any],
    *,
    scenarios_dir: Path,
    sources: Mapping[str, str] | None = None,
) -> Spec:
    """Validate a composed configuration and the scenario it names; return the typed spec.

    Parameters
    ----------
    cfg : mapping
        The composed configuration (Hydra's, as a plain container, without the ``hydra`` node).
    scenarios_dir : Path
        Folder of planner scenario files, ``NAME.yaml``.
    sources : mapping, optional
        Top-level key -> description of the file (or command line) it came from, for messages.

    Raises
    ------
    ConfigError
        On the first unknown key, missing file, malformed value or value out of range.
    """
    sources = dict(sources or {})

    def reader(top: str) -> _Reader:
        return _Reader(sources.get(top, "conf/config.yaml"), top)

    root = _Reader("conf/config.yaml")
    root.known(
        cfg,
        (
            "scenario",
            "compare",
            "shocks",
            "mc",
            "time",
            "rules",
            "targets",
            "population",
            "levers",
            "priors",
            "uncertainty",
            "calibration",
            "report",
            "engine",
        ),
    )
    engine = _Reader(sources.get("engine", "conf/config.yaml")).choice(
        cfg.get("engine", "core"), ENGINES, "engine"
    )
    tables = _tables()

    # Scenario: a planner file that overrides lever schedules and assumptions. A name picks
    # scenarios/NAME.yaml; a value ending in .yaml is a path to a planner's own file.
    known = scenario_names(scenarios_dir)
    name, spath = _scenario_file(
        cfg.get("scenario"),
        known,
        scenarios_dir,
        sources.get("scenario", "command line"),
        "scenario",
    )
    # A comparison names a reference scenario and the scenarios compared with it.
    compare = cfg.get("compare")
    if compare:
        where = sources.get("compare", "command line")
        if isinstance(compare, str) or not isinstance(compare, Sequence) or len(compare) < 2:
            raise ConfigError(
                where,
                "compare",
                "expected two or more scenarios, the reference first, "
                "e.g. compare=baseline,compute_push",
            )
        stems = [_scenario_file(c, known, scenarios_dir, where, "compare")[0] for c in compare]
        if len(set(stems)) < len(stems):
            raise ConfigError(where, "compare", f"a scenario is listed twice: {', '.join(stems)}")
    sraw = load_yaml(spath)
    sr = _Reader(str(spath))
    sr.known(sraw, ("title", "description", "levers", "programmes", "priors", "shocks", "costs"))
    for k in ("title", "description"):
        if not isinstance(sraw.get(k), str) or not sraw[k].strip():
            raise sr.fail(k, "every scenario needs a title and a description (text)")
    scenario = Scenario(name, sraw["title"].strip(), " ".join(sraw["description"].split()))

    # Monte Carlo and time.
    r = reader("mc")
    mc_raw = r.mapping(cfg.get("mc"), "")
    r.known(mc_raw, ("draws", "seed", "chunk", *_SCALE_OUT))
    ur = reader("uncertainty")
    unc = ur.mapping(cfg.get("uncertainty"), "")
    ur.known(unc, ("mode", "method"))
    mc = MCSpec(
        draws=int(r.number(mc_raw.get("draws"), "draws", 1, 10_000_000, integer=True)),
        seed=int(r.number(mc_raw.get("seed"), "seed", 0, 2**63 - 1, integer=True)),
        chunk=int(r.number(mc_raw.get("chunk"), "chunk", 1, 100_000, integer=True)),
        uncertainty=ur.choice(unc.get("mode"), ("sample", "none"), "mode"),
        method=ur.choice(unc.get("method", "lhs"), ("lhs", "sobol"), "method"),
        **_scale_out(r, mc_raw),
    )
    r = reader("time")
    t_raw = r.mapping(cfg.get("time"), "")
    r.known(t_raw, ("start", "end"))
    start, end = r.month(t_raw.get("start"), "start"), r.month(t_raw.get("end"), "end")
    if start < (2020, 1) or start > end:
        raise r.fail("start", f"{start[0]}-{start[1]:02d} must be after 2020-01 and not after end")
    if end > MAX_END:
        raise r.fail("end", f"{end[0]}-{end[1]:02d} is too late; allowed: up to 2035-12")
    time = TimeSpec(start, end)

    # Population.
    r = reader("population")
    pop = r.mapping(cfg.get("population"), "")
    r.known(
        pop,
        (
            "kind",
            "n_agents",
            "firm_fraction",
            "size_classes",
            "unsourced_sector_shares",
            "firm_province_basis",
            "urban_share_basis",
        ),
    )
    kind = r.choice(pop.get("kind"), ("national", "single_market"), "kind")
    r.choice(
        pop.get("unsourced_sector_shares", "equal_remainder"),
        ("equal_remainder",),
        "unsourced_sector_shares",
    )
    r.choice(pop.get("firm_province_basis", "gdp"), ("gdp",), "firm_province_basis")
    r.choice(pop.get("urban_share_basis", "national"), ("national",), "urban_share_basis")
    sizes = []
    for sname, sraw_ in r.mapping(pop.get("size_classes"), "size_classes").items():
        sm = r.mapping(sraw_, f"size_classes.{sname}")
        r.known(sm, ("share", "employees", "reason"), f"size_classes.{sname}")
        r.choice(sname, ("micro", "small", "medium", "large"), "size_classes")
        sizes.append(
            SizeClass(
                sname,
                r.number(sm.get("share"), f"size_classes.{sname}.share", 0.0, 1.0),
                r.number(sm.get("employees"), f"size_classes.{sname}.employees", 1.0),
            )
        )
    if kind == "national":
        if {s.name for s in sizes} != {"micro", "small", "medium", "large"}:
            raise r.fail("size_classes", "allowed and required: micro, small, medium, large")
        if not math.isclose(sum(s.share for s in sizes), 1.0, abs_tol=1e-6):
            raise r.fail("size_classes", "shares must sum to 1")
    population = PopulationSpec(
        kind=kind,
        n_agents=int(r.number(pop.get("n_agents"), "n_agents", 10, 10_000_000, integer=True)),
        firm_fraction=r.number(pop.get("firm_fraction"), "firm_fraction", 0.0, 1.0),
        size_classes=tuple(sizes),
    )
    if kind == "national" and not 0.0 < population.firm_fraction < 1.0:
        raise r.fail("firm_fraction", "must be > 0 and < 1 for the national population")

    # Rules.
    r = reader("rules")
    ru = r.mapping(cfg.get("rules"), "")
    r.known(
        ru,
        (
            "adoption",
            "p",
            "q",
            "m",
            "influence",
            "network_degree",
            "complementarity",
            "replacement",
        ),
    )
    from sim.rules import ADOPTION_RULES

    infl = r.mapping(ru.get("influence"), "influence")
    r.known(infl, ("segment", "province", "network"), "influence")
    w = {
        k: r.number(infl.get(k, 0.0), f"influence.{k}", 0.0, 1.0)
        for k in ("segment", "province", "network")
    }
    if not math.isclose(sum(w.values()), 1.0, abs_tol=1e-9):
        raise r.fail("influence", f"weights must sum to 1, got {sum(w.values()):g}")
    rules = RuleSpec(
        adoption=r.choice(ru.get("adoption", "bass"), tuple(ADOPTION_RULES), "adoption"),
        w_segment=w["segment"],
        w_province=w["province"],
        w_network=w["network"],
        network_degree=int(
            r.number(ru.get("network_degree", 8), "network_degree", 1, 100, integer=True)
        ),
        complementarity=r.boolean(ru.get("complementarity", True), "complementarity"),
        replacement=r.boolean(ru.get("replacement", True), "replacement"),
    )
    fixed = {}
    for k, hi in (("p", math.inf), ("q", math.inf), ("m", 1.0)):
        if ru.get(k) is not None:
            fixed[k] = r.number(ru[k], k, 0.0, hi, lo_open=k == "m")

    # Priors (defaults, then the scenario's assumption overrides) and lever definitions.
    pr = reader("priors")
    praw = pr.mapping(cfg.get("priors"), "")
    pr.known(praw, ("params", "levers", "shocks", "costs", "adoption"))
    params = dict(pr.mapping(praw.get("params"), "params"))
    lever_defs = pr.mapping(praw.get("levers"), "levers")
    pr.known(lever_defs, ("curvature", *LEVERS), "levers")
    curvature = pr.number(
        lever_defs.get("curvature", 1.0), "levers.curvature", 0.0, 50.0, lo_open=True
    )
    priors: dict[str, Prior] = {}
    for pname, raw in params.items():
        priors[pname] = _prior(_Reader(pr.where, "priors.params"), pname, raw)
    priors.update(_rule_priors(pr, praw.get("adoption"), rules.adoption))
    s_over = sr.mapping(sraw.get("priors"), "priors")
    for pname, raw in s_over.items():
        if pname not in priors:
            raise ConfigError(
                str(spath),
                f"priors.{pname}",
                f"unknown parameter; allowed: {', '.join(sorted(priors))}",
            )
        priors[pname] = _prior(_Reader(str(spath), "priors"), pname, raw)

    r_lev = reader("levers")
    lev_raw = r_lev.mapping(cfg.get("levers"), "")
    r_lev.known(lev_raw, LEVERS)
    s_lev = sr.mapping(sraw.get("levers"), "levers")
    sr.known(s_lev, LEVERS, "levers")
    levers = []
    for lname in LEVERS:
        d = pr.mapping(lever_defs.get(lname), f"levers.{lname}")
        pr.known(d, ("lag", "effects"), f"levers.{lname}")
        effects = pr.mapping(d.get("effects"), f"levers.{lname}.effects")
        pr.known(effects, CHANNELS, f"levers.{lname}.effects")
        for ch, raw in effects.items():
            pname = f"lever.{lname}.{ch}"
            priors[pname] = _prior(_Reader(pr.where, f"priors.levers.{lname}.effects"), pname, raw)
            # Scenario overrides name effect priors by their full parameter name.
            if pname in s_over:
                priors[pname] = _prior(_Reader(str(spath), "priors"), pname, s_over[pname])
        base = r_lev.mapping(lev_raw.get(lname), lname)
        r_lev.known(base, ("intensity", "scope"), lname)
        over = sr.mapping(s_lev.get(lname), f"levers.{lname}")
        sr.known(over, ("intensity", "scope"), f"levers.{lname}")
        src, rd = (sr, f"levers.{lname}") if "intensity" in over else (r_lev, lname)
        schedule = _schedule(
            src, (over if "intensity" in over else base).get("intensity"), f"{rd}.intensity", time
        )
        src, rd = (sr, f"levers.{lname}") if "scope" in over else (r_lev, lname)
        scope = _scope(src, (over if "scope" in over else base).get("scope"), f"{rd}.scope", tables)
        levers.append(
            Lever(
                name=lname,
                lag=pr.number(d.get("lag", 0.0), f"levers.{lname}.lag", 0.0, 10.0),
                schedule=schedule,
                channels=tuple(effects),
                scope=scope,
            )
        )
    for pname in s_over:
        if pname.startswith("lever.") and pname not in priors:
            raise ConfigError(
                str(spath),
                f"priors.{pname}",
                "unknown lever effect; allowed: lever.LEVER.CHANNEL with an effect "
                "defined in conf/priors",
            )
    pr_check = _Reader(pr.where, "priors.params")
    for p in priors.values():
        _check_param_range(pr_check, p)
    _check_rule_parameters(_Reader(pr.where, f"priors.adoption.{rules.adoption}"), priors, rules)
    for k, v in fixed.items():
        for tech in TECHS:
            priors[f"{tech}.{k}"] = priors[f"{tech}.{k}"].fixed_at(v, f"fixed by rules.{k}")
    required = {f"{t}.{k}" for t in TECHS for k in ("p", "q", "m", "s0_people", "s0_firms")}
    missing = sorted(required - set(priors))
    if missing:
        raise pr_check.fail(missing[0], "required parameter has no prior")

    # Programmes, shocks and costs: the planner's additions on top of the levers.
    programmes = _programmes(sr, sr.mapping(sraw.get("programmes"), "programmes"), tables, time)
    shr = reader("shocks")
    sh_raw = shr.mapping(cfg.get("shocks"), "")
    shr.known(sh_raw, ("mode", "history"))
    shock_mode = shr.choice(sh_raw.get("mode", "none"), ("none", "stochastic"), "mode")
    shocks = _shocks(
        pr,
        pr.mapping(praw.get("shocks"), "shocks"),
        shock_mode,
        sr,
        sr.mapping(sraw.get("shocks"), "shocks"),
        name,
        history=_history(shr, sh_raw.get("history")),
    )
    costs = _costs(
        pr, pr.mapping(praw.get("costs"), "costs"), sr, sr.mapping(sraw.get("costs"), "costs"), name
    )

    # Targets.
    tr = reader("targets")
    traw = cfg.get("targets")
    if not isinstance(traw, Sequence) or isinstance(traw, str) or not traw:
        raise tr.fail("", "expected a non-empty list of {year, threshold, metric, tech}")
    targets = []
    for i, t in enumerate(traw):
        tm = tr.mapping(t, f"[{i}]")
        tr.known(tm, ("year", "threshold", "metric", "tech"), f"[{i}]")
        year = int(
            tr.number(tm.get("year"), f"[{i}].year", time.start[0], time.end[0], integer=True)
        )
        if time.step_of_year_end(year) > time.n_steps:
            raise tr.fail(f"[{i}].year", f"{year} ends after time.end; extend time.end")
        targets.append(
            Target(
                year=year,
                threshold=tr.number(tm.get("threshold"), f"[{i}].threshold", 0.0, 1.0),
                metric=tr.choice(tm.get("metric"), METRICS, f"[{i}].metric"),
                tech=tr.choice(tm.get("tech"), TECH_COORDS, f"[{i}].tech"),
            )
        )

    return Spec(
        scenario=scenario,
        population=population,
        rules=rules,
        priors=tuple(priors[k] for k in sorted(priors)),
        levers=tuple(levers),
        lever_curvature=curvature,
        mc=mc,
        time=time,
        targets=tuple(targets),
        programmes=programmes,
        shocks=shocks,
        costs=costs,
        calibration=_calibration(reader("calibration"), cfg.get("calibration")),
        report=_Reader(sources.get("report", "conf/config.yaml")).boolean(
            cfg.get("report", True), "report"
        ),
        engine=engine,
    )


def _calibration(r: _Reader, raw: Any) -> CalibrationSpec:
    """Validate the ``calibration`` section and read its observations file."""
    from sim import observations

    m = r.mapping(raw, "")
    keys = ("method", "observations", "series", "until", "likelihood", "df", "sd_scale")
    r.known(m, (*keys, "discrepancy_sd", "ess_min"))
    method = r.choice(m.get("method", "none"), ("none", "importance"), "method")
    path = m.get("observations")
    if method == "none":
        if path is not None:
            raise r.fail("observations", "calibration is off; add calibration=observed to use it")
        return CalibrationSpec()
    if path is not None and not isinstance(path, str):
        raise r.fail("observations", f"expected a path to a CSV file or null, got {path!r}")
    path = None if path is None else str(Path(path).expanduser().resolve())
    obs = observations.load(path)
    known = sorted({o.series for o in obs if o.mapped})
    series = r.names(m.get("series"), known, "series")
    until = m.get("until")
    return CalibrationSpec(
        method=method,
        observations=obs,
        source=path or observations.SHIPPED,
        series=series,
        until=None if until is None else r.month(until, "until"),
        likelihood=r.choice(m.get("likelihood", "normal"), ("normal", "student_t"), "likelihood"),
        df=r.number(m.get("df", 4.0), "df", 0.0, 1000.0, lo_open=True),
        sd_scale=r.number(m.get("sd_scale", 1.0), "sd_scale", 0.0, 100.0, lo_open=True),
        discrepancy_sd=r.number(m.get("discrepancy_sd", 0.0), "discrepancy_sd", 0.0, 1.0),
        ess_min=r.number(m.get("ess_min", 100.0), "ess_min", 1.0),
    )
