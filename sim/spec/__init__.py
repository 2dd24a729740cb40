"""Typed, validated run specification: the one place where configuration becomes objects.

Hydra composes ``conf/`` into a plain mapping and the command line (or :func:`sim.run`) hands it to
:func:`build_spec`, which validates every key and value, applies the planner's scenario file from
``scenarios/`` and returns a frozen :class:`Spec`. Nothing below this package sees a config mapping.
A bad input raises :class:`ConfigError`, whose message is one line naming the file, the key and
what is allowed.

Modules: :mod:`~sim.spec.model` (the value objects), :mod:`~sim.spec.reader` (validation
primitives), :mod:`~sim.spec.sections` (one validator per configuration key),
:mod:`~sim.spec.scenario` (the planner's overlay) and :mod:`~sim.spec.build` (:func:`build_spec`).
The vocabulary re-exported here is defined in :mod:`sim.vocab`.
"""

from sim.spec.build import build_spec
from sim.spec.model import (
    CalibrationSpec,
    Costs,
    Lever,
    MCSpec,
    PopulationSpec,
    Prior,
    Programme,
    RuleSpec,
    Scenario,
    Scope,
    Shock,
    SizeClass,
    Spec,
    Target,
    TimeSpec,
    step_schedule,
)
from sim.spec.reader import MAX_END, load_yaml
from sim.spec.scenario import scenario_names, scenario_titles
from sim.vocab import (
    CHANNELS,
    DISTS,
    ENGINES,
    KEEP,
    KEY_AREAS,
    KINDS,
    LEVERS,
    METRICS,
    REGIONS,
    SHOCK_PARAMS,
    SHOCKS,
    TECH_COORDS,
    TECHS,
    ConfigError,
    Metric,
    Tech,
)
from sim.vocab import SIZE_CLASSES as SIZES

__all__ = [
    "CHANNELS",
    "DISTS",
    "ENGINES",
    "KEEP",
    "KEY_AREAS",
    "KINDS",
    "LEVERS",
    "MAX_END",
    "METRICS",
    "REGIONS",
    "SHOCKS",
    "SHOCK_PARAMS",
    "SIZES",
    "TECHS",
    "TECH_COORDS",
    "CalibrationSpec",
    "ConfigError",
    "Costs",
    "Lever",
    "MCSpec",
    "Metric",
    "PopulationSpec",
    "Prior",
    "Programme",
    "RuleSpec",
    "Scenario",
    "Scope",
    "Shock",
    "SizeClass",
    "Spec",
    "Target",
    "Tech",
    "TimeSpec",
    "build_spec",
    "load_yaml",
    "scenario_names",
    "scenario_titles",
    "step_schedule",
]
