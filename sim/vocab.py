"""The model's vocabulary: the names of technologies, metrics, levers, groups and choices.

Every module that needs one of these names imports it from here, and this module imports nothing
from the rest of the package, so the vocabulary is defined once and any module may use it. Each
``Literal`` alias and the tuple of its values are written together; the tuples give the order used
by arrays and results (``METRICS`` order is the last axis of a population's weights).
"""

from __future__ import annotations

from typing import Literal, get_args

Tech = Literal["terminal", "agent"]
TECHS: tuple[Tech, ...] = get_args(Tech)
#: Technologies reported in results: each one, ``any`` (either one) and ``both``.
TECH_COORDS: tuple[str, ...] = (*TECHS, "any", "both")
Metric = Literal["population", "internet_users", "firms", "firm_employment"]
METRICS: tuple[Metric, ...] = get_args(Metric)
#: Technologies a target can be read on: each one, and ``any`` (either). ``both`` is reported
#: beside them (the overlap), not read as "penetration".
READING_TECHS: tuple[str, ...] = (*TECHS, "any")
#: What each metric counts (the denominator of its share), in plain words.
METRIC_UNITS: dict[str, str] = {
    "population": "persons (the whole resident population)",
    "internet_users": "persons online at the time (own internet access)",
    "firms": "firms (legal-person units)",
    "firm_employment": "employees of those firms",
}
#: What adopting each technology means, in plain words: owning a device is not using AI.
TECH_MEANINGS: dict[str, str] = {
    "terminal": "own an AI-capable terminal (phone or PC), whether or not they use its AI",
    "agent": "use AI agents or generative-AI services",
    "any": "own an AI-capable terminal or use AI agents (either one)",
    "both": "own an AI-capable terminal and use AI agents (both)",
}
#: Who a metric's share is taken over, as the subject of :func:`reading_sentence`.
_SUBJECTS: dict[str, str] = {
    "population": "persons (all residents)",
    "internet_users": "internet users (persons online at the time)",
    "firms": "firms",
    "firm_employment": "employees of firms",
}


def reading_sentence(metric: str, tech: str) -> str:
    """One plain sentence saying what the reading (metric, tech) counts."""
    return f"Share of {_SUBJECTS[metric]} that {TECH_MEANINGS[tech]}."


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
#: What a lever can act on: each technology's innovation rate p, imitation rate q and ceiling.
CHANNELS: tuple[str, ...] = tuple(f"{t}.{c}" for t in TECHS for c in ("p", "q", "ceiling"))
#: The opinion's key areas, which group the sectors.
KEY_AREAS: tuple[str, ...] = (
    "science",
    "industry",
    "consumption",
    "livelihood",
    "governance",
    "global_cooperation",
)
#: NBS regions, which group the provinces.
REGIONS: tuple[str, ...] = ("east", "central", "west", "northeast")

Kind = Literal["people", "firms"]
KINDS: tuple[Kind, ...] = get_args(Kind)
#: Codes of the two kinds of agent in a population's ``cell_kind`` (``KINDS`` order).
PEOPLE, FIRMS = 0, 1
#: Size classes of legal-person units (NBS 2017 definitions), smallest first.
LEGAL_SIZE_CLASSES: tuple[str, ...] = ("micro", "small", "medium", "large")
#: Firm size classes: the legal-person classes, then individual businesses (个体工商户), which a
#: population counts only when ``population.individual_businesses`` is ``include``.
SIZE_CLASSES: tuple[str, ...] = (*LEGAL_SIZE_CLASSES, "individual")
#: Whether the firm metrics count individual businesses beside the legal-person units.
IndividualBusinesses = Literal["exclude", "include"]
INDIVIDUAL_BUSINESS_CHOICES: tuple[IndividualBusinesses, ...] = get_args(IndividualBusinesses)
#: Where each province's residence and age mix comes from: its own statistics, or the national mix.
DemographyBasis = Literal["province", "national"]
DEMOGRAPHY_BASES: tuple[DemographyBasis, ...] = get_args(DemographyBasis)
#: What to do with province figures marked ``unverified``: use them (listed as such in the report),
#: or put the national figure in their place.
UnverifiedFigures = Literal["flag", "national"]
UNVERIFIED_CHOICES: tuple[UnverifiedFigures, ...] = get_args(UnverifiedFigures)
#: Peer groups of people: urban or rural, under or over 60.
PERSON_GROUPS: tuple[str, ...] = ("urban_under60", "urban_60plus", "rural_under60", "rural_60plus")

#: Stochastic shocks, and the parameters of each: yearly rate, effect size, duration (years) and,
#: for incidents, how strongly the safety lever mitigates them.
SHOCKS: tuple[str, ...] = ("breakthrough", "safety_incident", "compute_supply")
SHOCK_PARAMS: dict[str, tuple[str, ...]] = {
    "breakthrough": ("rate", "jump", "duration"),
    "safety_incident": ("rate", "depth", "duration", "mitigation"),
    "compute_supply": ("rate", "cut", "duration"),
}

Dist = Literal["uniform", "loguniform", "triangular", "fixed"]
#: Distributions a prior can have.
DISTS: tuple[Dist, ...] = get_args(Dist)
Keep = Literal["national", "province", "sector"]
#: Per-draw outputs that a run can keep (``mc.keep``): national is always kept.
KEEP: tuple[Keep, ...] = get_args(Keep)
Engine = Literal["core", "abm"]
#: Engines that run a spec: the vectorised core, or the Mesa agent-based model (``sim.abm``).
ENGINES: tuple[Engine, ...] = get_args(Engine)
PopulationKind = Literal["national", "single_market"]
POPULATION_KINDS: tuple[PopulationKind, ...] = get_args(PopulationKind)
#: Whether the uncertain parameters are sampled, or held at their central values.
Uncertainty = Literal["sample", "none"]
UNCERTAINTY_MODES: tuple[Uncertainty, ...] = get_args(Uncertainty)
#: How the uniforms behind the draws are spread: Latin hypercube or scrambled Sobol'.
Sampling = Literal["lhs", "sobol"]
SAMPLING_METHODS: tuple[Sampling, ...] = get_args(Sampling)
#: Where chunks of draws run: in this process, or as Dask tasks.
Backend = Literal["serial", "dask"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
CalibrationMethod = Literal["none", "smc", "importance"]
CALIBRATION_METHODS: tuple[CalibrationMethod, ...] = get_args(CalibrationMethod)
Likelihood = Literal["normal", "student_t"]
LIKELIHOODS: tuple[Likelihood, ...] = get_args(Likelihood)


class ConfigError(ValueError):
    """A user-fixable problem in a config or scenario file, reported as one line."""

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where, self.key, self.problem = where, key, problem
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")
