"""Behavioural rules, written once as pure functions over scalars or arrays.

Both engines (the vectorised core in :mod:`sim.engine` and the Mesa model) call these functions.
``ADOPTION_RULES`` maps the name given as ``rules.adoption`` in config to the hazard function
``rule(p, q, influence, ceiling, **params) -> annual hazard``. A rule's keyword-only arguments are
its own parameters: each takes the value of the parameter ``TECH.NAME`` (one per technology) or
``adoption.NAME``, whose priors are listed under ``adoption.RULE`` in ``conf/priors``.
"""

import inspect
from collections.abc import Callable

from sim.rules.choice import logit_subsidy_hazard
from sim.rules.diffusion import (
    accumulate_hazard,
    bass_hazard,
    bass_share,
    complement_multiplier,
    has_adopted,
    in_market,
    peer_influence,
    step_probability,
)
from sim.rules.joint import both_share, copula_ranks, correlated_ranks, union_share
from sim.rules.levers import lever_response, raise_ceiling, scale_rate
from sim.rules.reach import (
    internet_access,
    online_ceiling,
    online_since,
    population_ceiling,
    reachable,
)
from sim.rules.surge import SURGE_START, surge_multiplier
from sim.rules.terminal import ai_share_of_new_devices, replacement_hazard

ADOPTION_RULES: dict[str, Callable] = {
    "bass": bass_hazard,
    "logit_subsidy": logit_subsidy_hazard,
}


def rule_parameters(name: str) -> tuple[str, ...]:
    """Names of the keyword-only parameters of the adoption rule registered as ``name``."""
    sig = inspect.signature(ADOPTION_RULES[name])
    return tuple(k for k, v in sig.parameters.items() if v.kind is inspect.Parameter.KEYWORD_ONLY)


__all__ = [
    "ADOPTION_RULES",
    "SURGE_START",
    "accumulate_hazard",
    "ai_share_of_new_devices",
    "bass_hazard",
    "bass_share",
    "both_share",
    "complement_multiplier",
    "copula_ranks",
    "correlated_ranks",
    "has_adopted",
    "in_market",
    "internet_access",
    "lever_response",
    "logit_subsidy_hazard",
    "online_ceiling",
    "online_since",
    "peer_influence",
    "population_ceiling",
    "raise_ceiling",
    "reachable",
    "replacement_hazard",
    "rule_parameters",
    "scale_rate",
    "step_probability",
    "surge_multiplier",
    "union_share",
]
