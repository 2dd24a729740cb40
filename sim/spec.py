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
from typing import Any, Literal

import numpy as np
import yaml
from numpy.typing import ArrayLike, NDArray
from scipy import stats

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
MAX_END = (2035, 12)


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
        t = np.asarray(t, dtype=np.float64)
        if not self.schedule:
            return np.zeros(t.shape)
        years = np.array([y for y, _ in self.schedule], dtype=np.float64)
        levels = np.array([0.0] + [x for _, x in self.schedule])
        return levels[np.searchsorted(years, t, side="right")]


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
    hi = 1.0 if is_share else math.inf
    if p.name.startswith("replacement.ai_mid"):
        return
    if p.low < 0 or p.high > hi:
        allowed = "[0, 1]" if is_share else ">= 0"
        raise r.fail(p.name, f"support [{p.low:g}, {p.high:g}] is out of range; allowed: {allowed}")


def _scope(r: _Reader, raw: Any, k: str, tables: _Tables) -> Scope:
    m = r.mapping(raw, k)
    r.known(m, ("provinces", "regions", "compute_hub", "sectors", "key_areas", "kinds"), k)
    hub = m.get("compute_hub")
    return Scope(
        provinces=r.names(m.get("provinces"), tables.provinces, f"{k}.provinces"),
        regions=r.names(m.get("regions"), REGIONS, f"{k}.regions"),
        compute_hub=None if hub is None else r.boolean(hub, f"{k}.compute_hub"),
        sectors=r.names(m.get("sectors"), tables.sectors, f"{k}.sectors"),
        key_areas=r.names(m.get("key_areas"), KEY_AREAS, f"{k}.key_areas"),
        kinds=r.names(m.get("kinds"), KINDS, f"{k}.kinds"),
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
            "mc",
            "time",
            "rules",
            "targets",
            "population",
            "levers",
            "priors",
            "uncertainty",
        ),
    )
    tables = _tables()

    # Scenario: a planner file that overrides lever schedules and assumptions. A name picks
    # scenarios/NAME.yaml; a value ending in .yaml is a path to a planner's own file.
    name = cfg.get("scenario")
    known = scenario_names(scenarios_dir)
    if isinstance(name, str) and name.endswith((".yaml", ".yml")):
        spath = Path(name).expanduser()
        name = spath.stem
    elif isinstance(name, str) and name in known:
        spath = scenarios_dir / f"{name}.yaml"
    else:
        raise ConfigError(
            sources.get("scenario", "command line"),
            "scenario",
            f"unknown scenario {name!r}; allowed: {', '.join(known)} or a path to a .yaml file",
        )
    sraw = load_yaml(spath)
    sr = _Reader(str(spath))
    sr.known(sraw, ("title", "description", "levers", "priors"))
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
    pr.known(praw, ("params", "levers"))
    params = dict(pr.mapping(praw.get("params"), "params"))
    lever_defs = pr.mapping(praw.get("levers"), "levers")
    pr.known(lever_defs, ("curvature", *LEVERS), "levers")
    curvature = pr.number(
        lever_defs.get("curvature", 1.0), "levers.curvature", 0.0, 50.0, lo_open=True
    )
    priors: dict[str, Prior] = {}
    for pname, raw in params.items():
        priors[pname] = _prior(_Reader(pr.where, "priors.params"), pname, raw)
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
    for k, v in fixed.items():
        for tech in TECHS:
            priors[f"{tech}.{k}"] = priors[f"{tech}.{k}"].fixed_at(v, f"fixed by rules.{k}")
    required = {f"{t}.{k}" for t in TECHS for k in ("p", "q", "m", "s0_people", "s0_firms")}
    missing = sorted(required - set(priors))
    if missing:
        raise pr_check.fail(missing[0], "required parameter has no prior")

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
    )
