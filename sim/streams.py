"""Random streams: one per draw and per decision, never a global generator.

Draw ``d``'s stream for decision ``k`` is ``SeedSequence(seed, spawn_key=(d, k))``; the draw's own
stream ``SeedSequence(seed, spawn_key=(d,))`` is the parent of those (identical to
``SeedSequence(seed).spawn(n)[d]``). A draw's numbers therefore do not depend on how draws are
chunked or distributed, and adding a decision does not shift the others (common random numbers).
Streams shared by all draws of a run (the population, its peer network, the prior design) have
spawn keys beyond any draw index; every key is built here, nowhere else.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

#: Spawn key of the population's stream, beyond any draw index.
POPULATION_STREAM = 2**40
#: Spawn key of the prior design's stream (:func:`sim.priors.sample`).
PRIOR_DESIGN_STREAM = 2**40 + 1
#: Spawn key of the posterior sampler's stream (:mod:`sim.smc`).
SAMPLER_STREAM = 2**40 + 2
#: Spawn key of the drivers analysis's design and bootstrap, and the policy design's resampling
#: (:mod:`sim.analysis`, :mod:`sim.design`).
ANALYSIS_STREAM = 2**40 + 3
#: Spawn key of the explorer's resampling of a calibrated run's posterior draws.
EXPLORER_STREAM = 2**40 + 4
#: Draw index of the sampler's evaluation 0 (:mod:`sim.posterior`): its simulations use draws
#: from here on, apart from the run's own draws.
CALIBRATION_DRAWS = 2**41


class Decision(IntEnum):
    """Named random decisions of one draw."""

    LATENT_TERMINAL = 0
    LATENT_AGENT = 1
    THRESHOLD_TERMINAL = 2
    THRESHOLD_AGENT = 3
    #: Each person's latent online rank: it comes online once its group's access passes it.
    ONLINE = 4
    # Stochastic shocks, one stream per kind (values kept apart from the adoption decisions so
    # that decisions added elsewhere do not collide with them).
    SHOCK_BREAKTHROUGH = 16
    SHOCK_SAFETY_INCIDENT = 17
    SHOCK_COMPUTE_SUPPLY = 18


def draw_seed(seed: int, draw: int) -> np.random.SeedSequence:
    """Seed sequence of draw ``draw``: identical to ``SeedSequence(seed).spawn(n)[draw]``."""
    return np.random.SeedSequence(seed, spawn_key=(draw,))


def decision_rng(seed: int, draw: int, decision: Decision) -> np.random.Generator:
    """Generator for one decision of one draw."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(draw, int(decision))))


def population_rng(seed: int) -> np.random.Generator:
    """Generator of the synthetic population, shared by all draws of a run."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(POPULATION_STREAM,)))


def network_rng(seed: int) -> np.random.Generator:
    """Generator of the peer network, a child of the population's stream."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(POPULATION_STREAM, 1)))


def prior_design_rng(seed: int) -> np.random.Generator:
    """Generator of the prior design (Latin hypercube or Sobol' points), apart from every draw's."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PRIOR_DESIGN_STREAM,)))


def fit_rng(seed: int) -> np.random.Generator:
    """Generator of a curve fit's sampler (:func:`sim.fit.fit_curve`): the root stream of
    ``seed``, a fit being a run of its own."""
    return np.random.default_rng(np.random.SeedSequence(seed))


def fit_noise_rng(seed: int) -> np.random.Generator:
    """Generator of the observation noise in a curve fit's predictive band
    (:meth:`sim.fit.CurveFit.draws`), apart from its sampler's."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))


def sampler_rng(seed: int) -> np.random.Generator:
    """Generator of the posterior sampler (:func:`sim.smc.sample`), apart from every draw's."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SAMPLER_STREAM,)))


def analysis_rng(seed: int) -> np.random.Generator:
    """Generator of the drivers analysis and the policy design, apart from every draw's."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ANALYSIS_STREAM,)))


def explorer_rng(seed: int) -> np.random.Generator:
    """Generator of the explorer's resampling of posterior draws (:mod:`sim.ui.explorer`)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(EXPLORER_STREAM,)))
