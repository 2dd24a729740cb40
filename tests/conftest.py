"""Shared fixtures: small, fast configurations of the real model (sizes in ``helpers``)."""

from __future__ import annotations

import pytest

from sim.config import load_spec
from sim.spec import Spec

from helpers import SMALL


@pytest.fixture
def small_spec() -> Spec:
    return load_spec(SMALL)


@pytest.fixture(scope="session")
def bass_overrides() -> list[str]:
    """Single market, levers at today's intensity (no deviation from the trend), complementarity
    off, fixed Bass parameters."""
    return [
        "population=single_market",
        "shocks=none",
        "rules.complementarity=false",
        "rules.p=0.03",
        "rules.q=0.38",
        "rules.m=0.8",
        "uncertainty=none",
    ]
