"""Posterior draws by sequential Monte Carlo: the run's draws conditioned on observed adoption.

:func:`sample_posterior` runs the tempered sampler of :mod:`sim.smc` on the model itself. A
particle is a point ``z`` of the standard-normal latent space, one coordinate per sampled
parameter; its parameters are ``theta_j = ppf_j(Phi(z_j))`` (:meth:`sim.spec.Prior.ppf`), so the
priors are exactly those of ``conf/priors``. A batch of particles is simulated by the vectorised
core in one call per chunk, each evaluation with its own draw index
(:data:`sim.streams.CALIBRATION_DRAWS` plus the sampler's evaluation number), so streams stay
one per draw and decision and a run is reproducible. The log-likelihood is that of
:mod:`sim.calibration` (observations, their sd and the model discrepancy).

What keeps a round affordable and the likelihood's simulation noise small (the sampler wants its
standard deviation near 1 or below): the sampler's simulations stop at the last observation used
and run on a smaller population (``calibration.n_agents``, 6,000 by default). At 6,000 agents a
national share of people carries about 1 point of sampling noise against an observation sd of
about 3.4 points (1.5 observed, 3 discrepancy in quadrature): a log-likelihood noise of about
0.3-0.5.

:func:`run_calibrated` then simulates the run at full size, over the whole horizon: the prior
draws (``mc.draws``, for the prior odds) and the posterior particles (for the posterior odds),
one Dataset whose ``weight`` counts only the posterior particles and ``prior_weight`` only the
prior draws.

References
----------
.. [1] Del Moral, P., Doucet, A. and Jasra, A. (2006). Sequential Monte Carlo samplers. JRSS B
   68(3), 411-436.
.. [2] Andrieu, C. and Roberts, G. O. (2009). The pseudo-marginal approach for efficient Monte
   Carlo computations. Annals of Statistics 37(2), 697-725.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy.special import ndtr

from sim import calibration, engine, results, smc
from sim.engine import backends
from sim.spec import Spec
from sim.streams import CALIBRATION_DRAWS, sampler_rng

#: Particles simulated together in the sampler's rounds: small populations make wide chunks cheap.
_SAMPLER_CHUNK = 250


def to_parameters(spec: Spec, z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Parameter sets of latent points ``z``, shape (n, n_free) -> (n, n_params).

    The free parameters are those whose prior is not fixed, in ``spec.param_names`` order; fixed
    ones take their value.
    """
    z = np.atleast_2d(z)
    out = np.empty((z.shape[0], len(spec.priors)))
    j = 0
    for k, p in enumerate(spec.priors):
        if p.dist == "fixed" or p.low == p.high:
            out[:, k] = p.low
        else:
            out[:, k] = p.ppf(ndtr(z[:, j]))
            j += 1
    return out


def n_free(spec: Spec) -> int:
    """Number of sampled (not fixed) parameters: the latent dimension."""
    return sum(1 for p in spec.priors if not (p.dist == "fixed" or p.low == p.high))


def sampler_spec(spec: Spec) -> Spec:
    """The spec of the sampler's simulations: the calibration population, the horizon cut at the
    last observation that can be used, national shares only."""
    cal = spec.calibration
    ends = [
        (int(o.date[:4]), int(o.date[5:7]))
        for o in cal.observations
        if o.mapped and o.output == "share" and (not cal.series or o.series in cal.series)
    ]
    ends = [e for e in ends if spec.time.start <= e <= spec.time.end]
    if cal.until is not None:
        ends = [e for e in ends if e <= cal.until]
    end = max(ends, default=spec.time.start)
    return replace(
        spec,
        population=replace(spec.population, n_agents=cal.n_agents),
        time=replace(spec.time, end=end),
        # The vectorised core, whatever the run's engine: the Mesa engine calls the same rules and
        # draws the same distribution (tests/test_abm.py), thousands of times slower.
        engine="core",
        mc=replace(spec.mc, keep=("national",), backend="serial", chunk=_SAMPLER_CHUNK),
    )


class Likelihood:
    """The log-likelihood of particles, by simulation: ``Likelihood(spec)(z, ids)``."""

    def __init__(self, spec: Spec) -> None:
        self.spec = sampler_spec(spec)
        self.ctx = engine.context(self.spec)
        self.cal = spec.calibration

    def __call__(self, z: NDArray[np.float64], ids: NDArray[np.int64]) -> NDArray[np.float64]:
        values = to_parameters(self.spec, z)
        step = self.spec.mc.chunk
        starts = range(0, len(ids), step)
        # Each evaluation simulates with its own streams; the chunks are then numbered 0..n-1,
        # the rows of ``values``, to assemble them.
        tasks = [(values[a : a + step], CALIBRATION_DRAWS + ids[a : a + step]) for a in starts]
        first = {int(draws[0]): a for a, (_, draws) in zip(starts, tasks, strict=True)}
        chunks = [
            replace(res, draws=np.arange(a, a + res.draws.size))
            for res in backends.backend_of(self.spec.mc).imap(self.ctx, tasks)
            for a in (first[int(res.draws[0])],)
        ]
        ds = results.to_dataset(self.spec, self.ctx.pop, chunks, values, engine=self.spec.engine)
        return calibration.log_likelihood_of(ds, self.cal)


def sample(spec: Spec) -> Iterator[smc.State]:
    """The sampler's rounds on the model (:func:`sim.smc.sample`, settings from
    ``spec.calibration``, generator :func:`sim.streams.sampler_rng` of the run's seed)."""
    cal = spec.calibration
    return smc.sample(
        Likelihood(spec),
        n_dim=max(n_free(spec), 1),
        rng=sampler_rng(spec.mc.seed),
        n_particles=cal.particles,
        ess_target=cal.ess_target,
        n_moves=cal.moves,
        max_rounds=cal.max_rounds,
    )


def run_calibrated(spec: Spec, *, folder: Path | None = None) -> xr.Dataset:
    """Sample the posterior, then simulate the prior draws and the posterior particles in full.

    Returns the results Dataset of ``mc.draws + calibration.particles`` draws: the first
    ``mc.draws`` are the prior design (:func:`sim.engine.parameter_sets`), the rest the posterior
    particles; ``weight`` counts the particles, ``prior_weight`` the prior draws, ``lineage``
    is each particle's eve in the sampler (-1 for the prior draws), and the
    ``calibration`` record (:func:`sim.calibration.smc_record`) holds the sampler's rounds.
    """
    history, last = [], None
    for last in sample(spec):
        history.append(last.summary())
    cal = spec.calibration
    n_prior, n_post = spec.mc.draws, cal.particles
    full = replace(spec, mc=replace(spec.mc, draws=n_prior + n_post))
    values = np.vstack([engine.parameter_sets(spec), to_parameters(spec, last.z)])
    ds = engine.simulate(full, folder=folder, values=values)
    weight = np.r_[np.zeros(n_prior), np.full(n_post, 1.0 / n_post)]
    prior = np.r_[np.full(n_prior, 1.0 / n_prior), np.zeros(n_post)]
    lineage = np.r_[np.full(n_prior, -1), last.eve].astype(np.int64)
    return calibration.smc_record(ds, cal, weight, prior, history, lineage)
