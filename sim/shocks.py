"""Stochastic shocks in the engine: each draw's event history, and the multipliers each month.

Each draw samples its history from its own streams, one per kind of shock
(:class:`sim.streams.Decision`), so shocks move no other random number; draw ``i`` of every
scenario sees the same uniforms (common random numbers: a higher rate only adds events), and a
draw's history does not depend on its chunk. The formulas are in :mod:`sim.rules.shocks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.rules import shocks as rules
from sim.spec import SHOCKS, Prior, Spec
from sim.streams import Decision, decision_rng

_STREAM = {
    "breakthrough": Decision.SHOCK_BREAKTHROUGH,
    "safety_incident": Decision.SHOCK_SAFETY_INCIDENT,
    "compute_supply": Decision.SHOCK_COMPUTE_SUPPLY,
}
_BREAKTHROUGH, _INCIDENT, _COMPUTE = (SHOCKS.index(k) for k in _STREAM)


@dataclass(frozen=True, eq=False)
class ShockState:
    """Multipliers in force during one month.

    Attributes
    ----------
    agent_p : ndarray, shape (n_draws,)
        On the agents' innovation rate p (breakthroughs).
    agent_q : ndarray, shape (n_cells, n_draws)
        On the agents' imitation rate q (safety incidents, mitigated by the safety lever in force
        in each cell).
    compute : ndarray, shape (n_draws,)
        On every effect of the compute lever (compute supply shocks).
    """

    agent_p: NDArray[np.float64]
    agent_q: NDArray[np.float64]
    compute: NDArray[np.float64]

    def same_as(self, other: ShockState | None) -> bool:
        return other is not None and all(
            np.array_equal(a, b)
            for a, b in (
                (self.agent_p, other.agent_p),
                (self.agent_q, other.agent_q),
                (self.compute, other.compute),
            )
        )


@dataclass(frozen=True, eq=False)
class ShockHistory:
    """Event histories of a chunk's draws.

    Attributes
    ----------
    onset : ndarray of bool, shape (n_shocks, n_steps, n_draws)
        Whether an event of each kind (``sim.spec.SHOCKS`` order) starts in each simulated month.
    size, duration : ndarray, shape (n_shocks, n_steps, n_draws)
        Each potential event's size and duration (years); meaningful where ``onset``.
    mitigation : ndarray, shape (n_draws,)
        Strength of the safety lever's mitigation of incidents.
    dt : float
        Step length, years.
    """

    onset: NDArray[np.bool_]
    size: NDArray[np.float64]
    duration: NDArray[np.float64]
    mitigation: NDArray[np.float64]
    dt: float

    def _live(self, k: int, step: int) -> NDArray[np.intp]:
        """Months (<= step) in which some draw had an event of kind ``k`` that may still act."""
        rows = np.flatnonzero(self.onset[k, : step + 1].any(axis=1))
        return rows[(step - rows) * self.dt < self.duration[k, rows].max(axis=1)]

    def state(self, step: int, safety_response: NDArray[np.float64]) -> ShockState:
        """Multipliers during month ``step``; ``safety_response`` is the safety lever's response
        in each cell, shape (n_cells,)."""
        n_d = self.onset.shape[2]

        def pulses(k: int) -> tuple[NDArray, NDArray, NDArray]:
            e = self._live(k, step)
            age = ((step - e) * self.dt)[:, None]
            size = np.where(self.onset[k, e], self.size[k, e], 0.0)
            return age, size, self.duration[k, e]

        age, size, dur = pulses(_BREAKTHROUGH)
        agent_p = rules.gain(rules.pulse(age, size, dur)) if age.size else np.ones(n_d)
        age, size, dur = pulses(_COMPUTE)
        compute = rules.loss(rules.pulse(age, size, dur)) if age.size else np.ones(n_d)
        age, size, dur = pulses(_INCIDENT)
        if age.size:
            # Events x safety levels x draws: each incident as mitigated by the safety lever in
            # force, for each distinct level among the cells.
            level, cell_level = np.unique(safety_response, return_inverse=True)
            depth, length = rules.mitigate(
                size[:, None, :], dur[:, None, :], level[None, :, None], self.mitigation
            )
            agent_q = rules.loss(rules.pulse(age[:, :, None], depth, length))[cell_level]
        else:
            agent_q = np.ones((safety_response.size, n_d))
        return ShockState(agent_p, agent_q, compute)


def _values(prior: Prior, u: NDArray[np.float64], central: bool) -> NDArray[np.float64]:
    return np.full(u.shape, prior.central) if central else prior.ppf(u)


def history(spec: Spec, draws: NDArray[np.int64]) -> ShockHistory | None:
    """Sample the event history of each draw in ``draws``; None when no shock can happen.

    Draw ``d``'s stream for a kind yields, in this order: two uniforms for the draw's rate and
    mitigation, then three per simulated month (whether an event starts, its size, its duration),
    so a longer horizon only appends months. With ``uncertainty=none`` the rate, size, duration and
    mitigation sit at their central values and only the event times are random.
    """
    active = [s for s in spec.shocks if s.active]
    if not active:
        return None
    n_s, n_d, dt = spec.time.n_steps, draws.size, spec.time.dt
    start_y, start_m = spec.time.start
    central = spec.mc.uncertainty == "none"
    onset = np.zeros((len(SHOCKS), n_s, n_d), dtype=bool)
    size = np.zeros((len(SHOCKS), n_s, n_d))
    duration = np.zeros((len(SHOCKS), n_s, n_d))
    mitigation = np.zeros(n_d)
    for shock in active:
        k = SHOCKS.index(shock.name)
        scheduled = np.zeros(n_s, dtype=bool)
        steps = [(y - start_y) * 12 + m - start_m for y, m in shock.at]
        scheduled[[s for s in steps if 0 <= s < n_s]] = True
        for i, d in enumerate(draws):
            rng = decision_rng(spec.mc.seed, int(d), _STREAM[shock.name])
            u_draw = rng.random(2)
            u = rng.random((n_s, 3))
            rate = _values(shock.rate, u_draw[:1], central)
            onset[k, :, i] = (u[:, 0] < rules.p_event(rate, dt)) | scheduled
            size[k, :, i] = _values(shock.size, u[:, 1], central)
            duration[k, :, i] = _values(shock.duration, u[:, 2], central)
            if shock.mitigation is not None:
                mitigation[i] = _values(shock.mitigation, u_draw[1:], central)[0]
    return ShockHistory(onset, size, duration, mitigation, dt)


def event_variables(spec: Spec, onset: NDArray[np.bool_]) -> dict[str, tuple]:
    """Results variables recording each draw's events.

    Parameters
    ----------
    onset : ndarray of bool, shape (n_draws, n_shocks, n_steps)

    Returns
    -------
    dict
        ``events`` (draw, shock): number of events in the horizon; ``event_time`` (draw, shock,
        event): decimal year of each event's start, in order, NaN-padded.
    """
    counts = onset.sum(axis=2)
    times = np.full((*counts.shape, max(1, int(counts.max(initial=0)))), np.nan)
    d, k, s = np.nonzero(onset)
    j = (np.cumsum(onset, axis=2) - 1)[d, k, s]
    times[d, k, j] = spec.time.t0 + s * spec.time.dt
    return {
        "events": (("draw", "shock"), counts.astype(np.int32)),
        "event_time": (("draw", "shock", "event"), times),
    }
