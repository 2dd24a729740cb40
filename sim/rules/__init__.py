"""Behavioural rules, written once as pure functions over scalars or arrays.

Both engines (the vectorised core in :mod:`sim.engine` and the Mesa model) call these functions.
``ADOPTION_RULES`` maps the name given as ``rules.adoption`` in config to the hazard function
``rule(p, q, influence, ceiling) -> annual hazard``.
"""

from collections.abc import Callable

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
from sim.rules.levers import lever_response, raise_ceiling, scale_rate
from sim.rules.terminal import ai_share_of_new_devices, replacement_hazard

ADOPTION_RULES: dict[str, Callable] = {"bass": bass_hazard}

__all__ = [
    "ADOPTION_RULES",
    "accumulate_hazard",
    "ai_share_of_new_devices",
    "bass_hazard",
    "bass_share",
    "complement_multiplier",
    "has_adopted",
    "in_market",
    "lever_response",
    "peer_influence",
    "raise_ceiling",
    "replacement_hazard",
    "scale_rate",
    "step_probability",
]
