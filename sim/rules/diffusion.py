"""Bass-type diffusion: hazards, peer influence and the adoption decision.

All functions are pure and accept scalars or numpy arrays that broadcast together: the vectorised
core calls them on ``(n_draws, n_cells)`` or ``(n_draws, n_agents)`` arrays, a Mesa agent on floats.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.rules.compiled import jitable

FloatArray = NDArray[np.floating]


def bass_hazard(p: ArrayLike, q: ArrayLike, influence: ArrayLike, ceiling: ArrayLike) -> FloatArray:
    """Annual adoption hazard of a potential adopter under the Bass model.

    Parameters
    ----------
    p : array_like
        Coefficient of innovation, 1/year, >= 0.
    q : array_like
        Coefficient of imitation, 1/year, >= 0.
    influence : array_like
        Adopted share among the agent's peers, in [0, 1].
    ceiling : array_like
        Market potential ``m``, in (0, 1]: the share that will ever adopt.

    Returns
    -------
    ndarray
        Hazard ``p + q * influence / m``, 1/year.

    Notes
    -----
    With ``influence`` the adopted share ``N(t)`` of all agents, the share of non-adopting
    potential adopters ``m - N`` adopting at this hazard gives ``dN/dt = (p + q N / m)(m - N)``,
    whose solution from ``N(0) = 0`` is ``m F(t)`` with ``F`` the Bass curve (:func:`bass_share`).

    References
    ----------
    .. [1] Bass, F. M. (1969). A new product growth for model consumer durables.
       Management Science 15(5), 215-227.
    """
    return p + q * np.divide(influence, ceiling)


def peer_influence(
    share_segment: ArrayLike,
    share_province: ArrayLike,
    share_network: ArrayLike = 0.0,
    *,
    w_segment: float,
    w_province: float,
    w_network: float = 0.0,
) -> FloatArray:
    """Peer influence: weighted adopted share among the agent's segment, province and neighbours.

    Parameters
    ----------
    share_segment, share_province, share_network : array_like
        Adopted shares in [0, 1]: in the agent's segment (sector for a firm, person group for a
        person) nationally, among same-kind agents in its province, and among its network
        neighbours.
    w_segment, w_province, w_network : float
        Non-negative weights summing to 1.

    Returns
    -------
    ndarray
        Influence in [0, 1].

    References
    ----------
    .. [1] Van den Bulte, C. and Stremersch, S. (2004). Social contagion and income heterogeneity
       in new product diffusion: a meta-analytic test. Marketing Science 23(4), 530-544.
    """
    influence = w_segment * share_segment + w_province * share_province
    # Without a network, and no shares of one to broadcast against, its term adds nothing: it
    # is left out, not added as zeros.
    if not w_network and np.ndim(share_network) == 0:
        return influence
    return influence + w_network * share_network


def step_probability(hazard: ArrayLike, dt: float) -> FloatArray:
    """Probability of adopting within a step of ``dt`` years at a constant annual ``hazard``:
    ``1 - exp(-hazard * dt)``."""
    return -np.expm1(-np.multiply(hazard, dt))


@jitable
def in_market(latent: ArrayLike, ceiling: ArrayLike) -> NDArray[np.bool_]:
    """Whether an agent is a potential adopter: its latent rank ``U(0, 1)`` is below the ceiling.

    Agents enter the market in order of their latent rank as the ceiling rises, so a share ``m`` of
    agents is in the market, as in the Bass model. Compiled in the core's month step
    (:func:`sim.rules.compiled.jitable`).
    """
    return latent < ceiling


@jitable
def accumulate_hazard(
    cum_hazard: ArrayLike, hazard: ArrayLike, dt: float, active: ArrayLike = 1.0
) -> FloatArray:
    """Integrated hazard after one more step: ``cum_hazard + hazard * dt`` where ``active`` (in
    the market).

    An agent adopts once its integrated hazard reaches its threshold ``E ~ Exp(1)``
    (:func:`has_adopted`). With the hazard constant within a step, the probability of adopting in
    the step, given not adopted before, is ``1 - exp(-hazard * dt)`` (:func:`step_probability`):
    the same rule as a Bernoulli draw each step, at one random number per agent per run.
    Compiled in the core's month step (:func:`sim.rules.compiled.jitable`).

    Parameters
    ----------
    cum_hazard : array_like
        Integrated hazard so far (dimensionless).
    hazard : array_like
        Annual hazard during the step, 1/year.
    dt : float
        Step length, years.
    active : array_like of bool or float, optional
        1 where the agent is in the market, 0 where not.
    """
    return cum_hazard + hazard * dt * active


@jitable
def has_adopted(cum_hazard: ArrayLike, threshold: ArrayLike) -> NDArray[np.bool_]:
    """Adoption state: integrated hazard at or above the agent's ``Exp(1)`` threshold.
    Compiled in the core's month step (:func:`sim.rules.compiled.jitable`)."""
    return cum_hazard >= threshold


@jitable
def complement_multiplier(has_terminal: ArrayLike, strength: ArrayLike) -> FloatArray:
    """Factor on the agent-use hazard: ``1 + strength`` for terminal owners, else 1.
    Compiled in the core's month step (:func:`sim.rules.compiled.jitable`).

    Parameters
    ----------
    has_terminal : array_like of bool or {0, 1}
    strength : array_like
        Relative rise of the hazard for owners, >= 0 (0 switches complementarity off).

    References
    ----------
    .. [1] Milgrom, P. and Roberts, J. (1990). The economics of modern manufacturing: technology,
       strategy, and organization. American Economic Review 80(3), 511-528 (complementarities).
    """
    return 1.0 + strength * has_terminal


def bass_share(t: ArrayLike, p: float, q: float, m: float) -> FloatArray:
    """Closed-form Bass adopted share ``m F(t)``, from zero adoption at ``t = 0``.

    ``F(t) = (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t))`` with ``t`` in years.

    References
    ----------
    .. [1] Bass, F. M. (1969). Management Science 15(5), 215-227, eq. (7).
    """
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-(p + q) * t)
    return m * (1.0 - e) / (1.0 + (q / p) * e)
