"""Sequential Monte Carlo sampler: likelihood tempering with random-walk Metropolis moves.

The sampler draws from the posterior ``pi(z) ∝ N(z; 0, I) L(z)`` of a latent vector ``z`` in
``R^d`` whose prior is standard normal. A model with priors given by quantile functions maps a
particle to its parameters by ``theta_j = ppf_j(Phi(z_j))`` (``scipy.special.ndtr`` is
``Phi``), so any prior becomes ``N(0, I)`` in ``z``; the sampler never sees ``theta``.

It moves the particles through the tempered targets ``pi_b(z) ∝ N(z; 0, I) L(z)^b``, from the
prior (``b = 0``) to the posterior (``b = 1``). Each round:

1. the next inverse temperature ``b'`` is found by bisection so that the conditional effective
   sample size of the incremental weights ``L^(b' - b)`` equals ``ess_target * n_particles``
   [2]_ [3]_;
2. the particles are reweighted by those incremental weights; the log of their weighted mean
   is the round's increment of the log marginal likelihood (evidence) [1]_;
3. systematic resampling gives equal weights again [6]_;
4. ``n_moves`` random-walk Metropolis steps leave ``pi_b'`` invariant. The proposal is
   ``N(z, h^2 C)`` with ``C`` the weighted particle covariance after step 2 and ``h`` starting
   at ``2.38 / sqrt(d)`` [5]_; ``h`` is then adapted each round by the expected squared jumping
   distance (ESJD) of particles that try scales around it [7]_. ESJD rather than an
   acceptance-rate target, because with a noisy likelihood the acceptance rate stays low
   whatever the scale, and a rule that chases a target rate shrinks the scale to nothing.

The likelihood may be noisy (an estimate from a simulation). The pseudo-marginal rule then
applies [4]_ [8]_: each particle keeps the log-likelihood estimate it was accepted with, and only
proposals are simulated; a current point is never re-estimated. If ``exp`` of the estimate is
unbiased for ``L(z)`` up to a constant factor (for example Gaussian noise of fixed variance on
the log-likelihood), the particles at ``b = 1`` still target the exact posterior; the evidence
estimate then carries that factor. Keep the noise's standard deviation near 1 or below [9]_: at 2
few proposals are accepted, particles stick, and the distinct count overstates how many
effectively independent draws there are (in a two-dimensional Gaussian example, over 1,000 of
2,000 particles distinct but about 80 effective, judged by the scatter of 60 runs' means).

After ``b`` reaches 1, extra move rounds run until at least ``min_distinct`` particles are
distinct (a duplicated particle counts once).

Each particle keeps its *eve*, the round-0 particle it descends from: resampling copies it, moves
leave it. Particles of one eve are correlated and different eves are not (asymptotically), so the
spread of a posterior mean's terms over eves estimates its Monte Carlo variance [10]_
(:func:`sim.stats.lineage_variance`): distinct particles overstate the independent draws.

:func:`sample` is a generator of :class:`State` values, one per round; :func:`run` is the thin
wrapper that returns the last.

References
----------
.. [1] Del Moral, P., Doucet, A. and Jasra, A. (2006). Sequential Monte Carlo samplers. JRSS B
   68(3), 411-436.
.. [2] Jasra, A., Stephens, D. A., Doucet, A. and Tsagaris, T. (2011). Inference for Lévy-driven
   stochastic volatility models via adaptive sequential Monte Carlo. Scandinavian Journal of
   Statistics 38(1), 1-22 (temperatures chosen by effective sample size).
.. [3] Zhou, Y., Johansen, A. M. and Aston, J. A. D. (2016). Toward automatic model comparison:
   an adaptive sequential Monte Carlo approach. Journal of Computational and Graphical
   Statistics 25(3), 701-726 (conditional effective sample size).
.. [4] Andrieu, C. and Roberts, G. O. (2009). The pseudo-marginal approach for efficient Monte
   Carlo computations. Annals of Statistics 37(2), 697-725.
.. [5] Roberts, G. O., Gelman, A. and Gilks, W. R. (1997). Weak convergence and optimal scaling
   of random walk Metropolis algorithms. Annals of Applied Probability 7(1), 110-120.
.. [6] Kitagawa, G. (1996). Monte Carlo filter and smoother for non-Gaussian nonlinear state
   space models. Journal of Computational and Graphical Statistics 5(1), 1-25.
.. [7] Fearnhead, P. and Taylor, B. M. (2013). An adaptive sequential Monte Carlo sampler.
   Bayesian Analysis 8(2), 411-438.
.. [8] Duan, J.-C. and Fulop, A. (2015). Density-tempered marginalized sequential Monte Carlo
   samplers. Journal of Business & Economic Statistics 33(2), 192-202.
.. [9] Doucet, A., Pitt, M. K., Deligiannidis, G. and Kohn, R. (2015). Efficient implementation
   of Markov chain Monte Carlo when using an unbiased likelihood estimator. Biometrika 102(2),
   295-313.
.. [10] Chan, H. P. and Lai, T. L. (2013). A general theory of particle filters in hidden Markov
   models and some applications. Annals of Statistics 41(6), 2877-2904.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.stats import effective_sample_size

#: ``log_likelihood(z, ids)``: ``z`` of shape (n, d), ``ids`` of shape (n,), returns shape (n,).
LogLikelihood = Callable[[NDArray[np.float64], NDArray[np.int64]], NDArray[np.float64]]

#: Spread of the per-particle log proposal scales around the round's scale, for the ESJD rule.
_LOG_SCALE_SPREAD = 0.3
_BISECTION_STEPS = 60


@dataclass(frozen=True, eq=False)
class State:
    """The particles after one round of the sampler.

    Attributes
    ----------
    round : int
        0 for the prior draws, then 1, 2, ...
    beta : float
        Inverse temperature of the target these particles represent, in [0, 1]; 1 is the
        posterior.
    z : ndarray, shape (n_particles, n_dim)
        Particles in the standard-normal latent space, equally weighted.
    log_likelihood : ndarray, shape (n_particles,)
        Each particle's log-likelihood (the estimate it was accepted with, when noisy).
    ess : float
        Kish effective sample size of this round's importance weights, before resampling; the
        number of particles in rounds without reweighting (the prior and extra moves).
    p_accept : float
        Share of this round's proposals accepted; NaN in round 0 (no moves).
    n_distinct : int
        Number of distinct particles.
    eve : ndarray of int, shape (n_particles,)
        Each particle's eve: the prior particle (round 0) it descends from through the
        resamplings (moves do not change it). Particles with the same eve are correlated; the
        spread of estimates over eves gives their variance (:func:`sim.stats.lineage_variance`).
    n_evaluations : int
        Log-likelihood evaluations (simulations) so far, all rounds together.
    log_evidence_increment : float
        Log of the mean incremental weight of this round; 0 without reweighting.
    log_evidence : float
        Sum of the increments so far: at ``beta = 1``, the estimate of the log marginal
        likelihood ``log ∫ N(z; 0, I) L(z) dz``.
    scale : float
        Proposal scale ``h`` of this round's moves (the covariance is ``h^2 C``).
    seconds : float
        Wall time since the sampler started, in seconds.
    """

    round: int
    beta: float
    z: NDArray[np.float64]
    log_likelihood: NDArray[np.float64]
    ess: float
    p_accept: float
    n_distinct: int
    eve: NDArray[np.intp]
    n_evaluations: int
    log_evidence_increment: float
    log_evidence: float
    scale: float
    seconds: float

    @property
    def weights(self) -> NDArray[np.float64]:
        """Normalised particle weights, shape (n_particles,): equal, as after resampling."""
        n = self.z.shape[0]
        return np.full(n, 1.0 / n)

    def summary(self) -> dict[str, float]:
        """The round's scalars, for a log line or the attributes of a results file."""
        return {
            "round": self.round,
            "beta": self.beta,
            "ess": self.ess,
            "p_accept": self.p_accept,
            "n_distinct": self.n_distinct,
            "n_evaluations": self.n_evaluations,
            "log_evidence": self.log_evidence,
            "scale": self.scale,
            "seconds": self.seconds,
        }


def sample(
    log_likelihood: LogLikelihood,
    *,
    n_dim: int,
    rng: np.random.Generator | int,
    n_particles: int = 2000,
    ess_target: float = 0.5,
    n_moves: int = 5,
    min_distinct: int | None = None,
    max_rounds: int = 100,
) -> Iterator[State]:
    """Yield the particles after each round, from the prior (round 0) to the posterior.

    Parameters
    ----------
    log_likelihood : callable
        ``log_likelihood(z, ids) -> ndarray, shape (n,)``, vectorised over particles: ``z`` of
        shape (n, n_dim) in the latent space, ``ids`` of shape (n,) int64 the evaluations'
        numbers, counting from 0 over the whole run and never repeated (a simulation-based
        likelihood can seed evaluation ``ids[i]``'s simulation from it, so the run is
        reproducible whatever the batch sizes). ``-inf`` marks a point outside the support;
        NaN or ``+inf`` is an error.
    n_dim : int
        Dimension ``d`` of the latent space, >= 1.
    rng : numpy.random.Generator or int
        The sampler's one source of randomness (initial draws, resampling, proposals,
        acceptances); an int seeds a new generator. Same seed and same ``log_likelihood`` give
        identical output. A model run passes :func:`sim.streams.sampler_rng` of its seed.
    n_particles : int, default 2000
        Number of particles ``n``, >= 2.
    ess_target : float, default 0.5
        Conditional effective sample size of each tempering step, as a share of ``n``, in
        (0, 1). Smaller values take fewer, larger steps. Particles with log-likelihood ``-inf``
        do not count in ``n`` here (they drop out at any positive temperature).
    n_moves : int, default 5
        Metropolis steps per particle per round, >= 1. Each costs ``n`` evaluations.
    min_distinct : int, optional
        After ``beta`` reaches 1, move rounds continue until at least this many particles are
        distinct; default ``n_particles // 2``; 0 turns the extra rounds off.
    max_rounds : int, default 100
        Most rounds after round 0, extra move rounds included. When reached, the last state may
        have ``beta < 1`` (not yet the posterior) or too few distinct particles: check them.

    Yields
    ------
    State
        One per round; the last has ``beta == 1`` unless ``max_rounds`` stopped the run.

    Raises
    ------
    ValueError
        For an option outside its range, a ``log_likelihood`` that returns the wrong shape, NaN
        or ``+inf``, or ``-inf`` for every particle.
    """
    _check_options(n_dim, n_particles, ess_target, n_moves, min_distinct, max_rounds)
    min_distinct = n_particles // 2 if min_distinct is None else min_distinct
    rng = np.random.default_rng(rng)
    start = time.perf_counter()
    n_evaluated = 0

    def evaluate(z: NDArray[np.float64]) -> NDArray[np.float64]:
        nonlocal n_evaluated
        ids = np.arange(n_evaluated, n_evaluated + z.shape[0], dtype=np.int64)
        n_evaluated += z.shape[0]
        return _checked(log_likelihood(z, ids), z.shape[0])

    z = rng.standard_normal((n_particles, n_dim))
    eve = np.arange(n_particles)
    ll = evaluate(z)
    if not np.isfinite(ll).any():
        raise ValueError("log_likelihood is -inf for every prior particle: nothing to weight")
    beta, log_evidence, increment = 0.0, 0.0, 0.0
    ess, p_accept = float(n_particles), np.nan
    scale_used = scale = 2.38 / np.sqrt(n_dim)
    for r in range(max_rounds + 1):
        if r > 0:
            if beta < 1.0:
                new_beta = _next_beta(ll, beta, ess_target)
                log_incr = (new_beta - beta) * ll
                top = log_incr.max()
                w = np.exp(log_incr - top)
                increment, ess = float(top + np.log(w.mean())), effective_sample_size(w)
                weights = w / w.sum()
                chol = _proposal_factor(z, weights)
                keep = _systematic(weights, rng)
                z, ll, eve, beta = z[keep], ll[keep], eve[keep], new_beta
            elif _n_distinct(z) < min_distinct:
                increment, ess = 0.0, float(n_particles)
                chol = _proposal_factor(z, np.full(n_particles, 1.0 / n_particles))
            else:
                return
            z, ll, p_accept, scale_used, scale = _move(
                evaluate, z, ll, beta, chol, scale, n_moves, rng
            )
            log_evidence += increment
        yield State(
            round=r,
            beta=beta,
            z=z,
            log_likelihood=ll,
            ess=ess,
            p_accept=p_accept,
            n_distinct=_n_distinct(z),
            eve=eve,
            n_evaluations=n_evaluated,
            log_evidence_increment=increment,
            log_evidence=log_evidence,
            scale=float(scale_used),
            seconds=time.perf_counter() - start,
        )


def run(log_likelihood: LogLikelihood, **options: Any) -> State:
    """Run :func:`sample` to the end and return its last state; the keyword arguments are
    :func:`sample`'s."""
    return deque(sample(log_likelihood, **options), maxlen=1)[0]


def _check_options(
    n_dim: int,
    n_particles: int,
    ess_target: float,
    n_moves: int,
    min_distinct: int | None,
    max_rounds: int,
) -> None:
    for name, value, low in (
        ("n_dim", n_dim, 1),
        ("n_particles", n_particles, 2),
        ("n_moves", n_moves, 1),
        ("max_rounds", max_rounds, 1),
        ("min_distinct", 0 if min_distinct is None else min_distinct, 0),
    ):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if not 0.0 < ess_target < 1.0:
        raise ValueError(f"ess_target must be in (0, 1), got {ess_target!r}")


def _checked(ll: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    ll = np.asarray(ll, dtype=np.float64)
    if ll.shape != (n,):
        raise ValueError(f"log_likelihood must return shape ({n},), got {ll.shape}")
    if np.isnan(ll).any() or (ll == np.inf).any():
        raise ValueError("log_likelihood returned NaN or +inf (use -inf outside the support)")
    return ll


def _n_distinct(z: NDArray[np.float64]) -> int:
    return int(np.unique(z, axis=0).shape[0])


def _next_beta(ll: NDArray[np.float64], beta: float, ess_target: float) -> float:
    """Largest ``b'`` in (beta, 1] whose incremental weights keep the conditional ESS at
    ``ess_target`` times the number of particles with a finite log-likelihood.

    The particles are equally weighted (resampled), so the conditional ESS is the Kish ESS of
    the incremental weights, which decreases as ``b'`` grows; bisection finds the crossing.
    """
    finite = ll[np.isfinite(ll)]
    target = ess_target * finite.size

    def ess(step: float) -> float:
        return effective_sample_size(np.exp(step * (finite - finite.max())))

    if ess(1.0 - beta) >= target:
        return 1.0
    lo, hi = 0.0, 1.0 - beta
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess(mid) >= target else (lo, mid)
    return beta + lo if lo > 0.0 else beta + hi


def _systematic(weights: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.intp]:
    """Indices of ``n`` systematic resampling draws from normalised ``weights``."""
    n = weights.size
    cum = np.cumsum(weights)
    cum[-1] = 1.0
    return np.searchsorted(cum, (rng.random() + np.arange(n)) / n, side="right")


def _proposal_factor(z: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cholesky factor of the weighted particle covariance, with a small ridge so that a
    degenerate direction (all particles equal in it) still gets a proposal."""
    d = z.shape[1]
    cov = np.atleast_2d(np.cov(z, rowvar=False, aweights=weights))
    ridge = 1e-10 * max(np.trace(cov) / d, 1e-12)
    return np.linalg.cholesky(cov + ridge * np.eye(d))


def _move(
    evaluate: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    z: NDArray[np.float64],
    ll: NDArray[np.float64],
    beta: float,
    chol: NDArray[np.float64],
    scale: float,
    n_moves: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, float, float]:
    """``n_moves`` pseudo-marginal random-walk Metropolis steps targeting ``pi_beta``.

    Particle ``i`` proposes with scale ``h_i = scale * exp(0.3 e_i)``, ``e_i ~ N(0, 1)``, so
    the round also tries scales around ``scale``; the next round's scale is the geometric mean
    of the ``h_i`` weighted by each particle's expected squared jumping distance, measured in
    the metric of the particle covariance (Fearnhead and Taylor 2013, with the acceptance
    probability in place of the realised jump).

    Returns the particles, their log-likelihoods, the acceptance rate, the scale used and the
    next round's scale.
    """
    n, d = z.shape
    log_h = np.log(scale) + _LOG_SCALE_SPREAD * rng.standard_normal(n)
    h = np.exp(log_h)
    jump = np.zeros(n)
    n_accepted = 0
    for _ in range(n_moves):
        e = rng.standard_normal((n, d))
        proposal = z + h[:, None] * (e @ chol.T)
        ll_prop = evaluate(proposal)
        with np.errstate(invalid="ignore"):
            log_ratio = beta * (ll_prop - ll) - 0.5 * (
                np.einsum("ij,ij->i", proposal, proposal) - np.einsum("ij,ij->i", z, z)
            )
        log_ratio = np.where(np.isneginf(ll_prop), -np.inf, log_ratio)
        accept = np.log(rng.random(n)) < log_ratio
        jump += np.exp(np.minimum(log_ratio, 0.0)) * h**2 * np.einsum("ij,ij->i", e, e)
        z = np.where(accept[:, None], proposal, z)
        ll = np.where(accept, ll_prop, ll)
        n_accepted += int(accept.sum())
    next_scale = np.exp(np.sum(jump * log_h) / jump.sum()) if jump.sum() > 0 else scale / 2
    return z, ll, n_accepted / (n * n_moves), float(scale), float(next_scale)
