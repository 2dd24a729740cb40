"""Settings of the analyses run beside a run: what drives the odds (``drivers``) and the cheapest
programme that reaches a target (``design``), read from ``conf/drivers/`` and ``conf/design/``
and validated once, here, into frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.spec.reader import Reader
from sim.vocab import LEVERS

DRIVERS_KEYS = ("n", "n_agents", "n_resamples", "confidence")
DESIGN_KEYS = (
    "target",
    "level",
    "levers",
    "intensity",
    "start",
    "budget",
    "draws",
    "n_agents",
    "bandwidth",
    "max_evaluations",
)


@dataclass(frozen=True)
class DriversSpec:
    """The Sobol' analysis of a run (:func:`sim.analysis.drivers`).

    Attributes
    ----------
    n : int
        Base samples, a power of 2; the analysis simulates ``n * (d + 2)`` parameter sets.
    n_agents : int
        Agents of the analysis's population (smaller than a run's: each set is one history).
    n_resamples : int
        Bootstrap resamples for the intervals.
    confidence : float
        Two-sided level of the intervals, in (0, 1).
    """

    n: int = 64
    n_agents: int = 6000
    n_resamples: int = 200
    confidence: float = 0.9


@dataclass(frozen=True)
class DesignSpec:
    """The policy design (:func:`sim.design.design`).

    Attributes
    ----------
    target : int
        Year of the primary target whose odds must reach ``level``.
    level : float
        Required P(hit), in (0, 1).
    levers : tuple of str
        Levers whose intensity the design sets (nationwide, from ``start`` on).
    low, high : float
        Intensity bounds, ``1 <= low < high``: 1.0 is today's policy, inside the calibrated
        trend, so a design adds to it (and ``low`` costs nothing extra).
    start : int
        First year of the designed intensities.
    budget : float or None
        Most extra public cost, billion yuan from ``start`` to the end of ``target``.
    draws, n_agents : int
        Parameter sets (the run's posterior or prior draws, resampled) and agents each
        evaluation simulates; the same draws and streams for every intensity (common random
        numbers).
    bandwidth : float
        Share units: P(hit) is smoothed as the mean of Phi((share - threshold) / bandwidth).
    max_evaluations : int
        Most evaluations (simulations of the draws) the optimiser may spend.
    """

    target: int = 2027
    level: float = 0.6
    levers: tuple[str, ...] = LEVERS
    low: float = 1.0
    high: float = 3.0
    start: int = 2026
    budget: float | None = None
    draws: int = 64
    n_agents: int = 6000
    bandwidth: float = 0.01
    max_evaluations: int = 60


def read_drivers(raw: Mapping[str, Any] | None, where: str) -> DriversSpec | None:
    """``drivers`` of the composed config (None or ``{n: 0}``: no analysis)."""
    if not raw:
        return None
    r = Reader(where, "drivers")
    r.known(raw, DRIVERS_KEYS)
    n = r.number(raw.get("n", 64), "n", 0, 2**16, integer=True)
    if n == 0:
        return None
    if n < 4 or n & (n - 1):
        raise r.fail("n", f"{n} is not allowed; allowed: 0 (off) or a power of 2 >= 4")
    return DriversSpec(
        n=n,
        n_agents=r.number(raw.get("n_agents", 6000), "n_agents", 100, 10**6, integer=True),
        n_resamples=r.number(raw.get("n_resamples", 200), "n_resamples", 10, 10**5, integer=True),
        confidence=r.number(raw.get("confidence", 0.9), "confidence", 0.5, 0.999),
    )


def read_design(raw: Mapping[str, Any] | None, where: str, years: tuple[int, ...]) -> DesignSpec:
    """``design`` of the composed config; ``years`` are the primary targets' years."""
    r = Reader(where, "design")
    raw = r.mapping(raw, "")
    r.known(raw, DESIGN_KEYS)
    target = raw.get("target", 2027)
    if target not in years:
        allowed = ", ".join(str(y) for y in years)
        raise r.fail("target", f"{target!r} is not a primary target's year; allowed: {allowed}")
    bounds = r.mapping(raw.get("intensity"), "intensity")
    r.known(bounds, ("low", "high"), "intensity")
    low = r.number(bounds.get("low", 1.0), "intensity.low", 1.0, 10.0)
    high = r.number(bounds.get("high", 3.0), "intensity.high", low, 10.0, lo_open=True)
    levers = r.names(raw.get("levers", list(LEVERS)), LEVERS, "levers")
    if not levers:
        raise r.fail("levers", f"no lever to design; allowed: {', '.join(LEVERS)}")
    budget = raw.get("budget")
    return DesignSpec(
        target=int(target),
        level=r.number(raw.get("level", 0.6), "level", 0.0, 1.0, lo_open=True),
        levers=levers,
        low=low,
        high=high,
        start=r.number(raw.get("start", 2026), "start", 2025, target, integer=True),
        budget=None if budget is None else r.number(budget, "budget", 0.0),
        draws=r.number(raw.get("draws", 64), "draws", 2, 10**5, integer=True),
        n_agents=r.number(raw.get("n_agents", 6000), "n_agents", 100, 10**6, integer=True),
        bandwidth=r.number(raw.get("bandwidth", 0.01), "bandwidth", 0.0, 1.0, lo_open=True),
        max_evaluations=r.number(
            raw.get("max_evaluations", 60), "max_evaluations", 2, 10**4, integer=True
        ),
    )
