"""The tempered SMC sampler against posteriors known in closed form or by quadrature.

Tolerances come from the Monte Carlo error of the number of effectively independent draws the
sampler must deliver (issue 12 asks for at least 1,000 with the default settings):
``test_default_settings_give_at_least_1000_effective_draws`` checks that number across
independent runs, and the other tests use it to size their tolerances at four standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim import smc, streams
from sim import stats as stats_mod

N_EFFECTIVE = 1000
N_RUNS = 40

# Conjugate Gaussian: prior z ~ N(0, I), data y ~ N(A z, S). The posterior is N(m, P) with
# P = (I + A' S^-1 A)^-1, m = P A' S^-1 y, and the evidence is N(y; 0, A A' + S). The data sit
# far out in the prior (posterior sd 0.14-0.2), so several tempering rounds are needed.
A = np.array([[1.0, 0.5], [0.0, 1.0]])
S = np.diag([0.1**2, 0.2**2])
Y = np.array([1.5, -1.0])
P = np.linalg.inv(np.eye(2) + A.T @ np.linalg.inv(S) @ A)
M = P @ A.T @ np.linalg.inv(S) @ Y
LOG_Z = stats.multivariate_normal(np.zeros(2), A @ A.T + S).logpdf(Y)
NOISE_SD = 1.0


def gaussian_loglik(z: np.ndarray, ids: np.ndarray) -> np.ndarray:
    return stats.multivariate_normal(np.zeros(2), S).logpdf(Y - z @ A.T)


def noisy_loglik(z: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The exact log-likelihood plus N(0, NOISE_SD^2) noise, seeded by the evaluation ids (as a
    simulation would be): exp of it is unbiased up to the constant exp(NOISE_SD^2 / 2)."""
    noise = np.random.default_rng([7, int(ids[0])]).standard_normal(ids.size)
    return gaussian_loglik(z, ids) + NOISE_SD * noise


@pytest.fixture(scope="module")
def gaussian_runs() -> list[smc.State]:
    return [smc.run(gaussian_loglik, n_dim=2, rng=seed) for seed in range(N_RUNS)]


def _max_mse(var: np.ndarray, n_effective: int, n_runs: int) -> np.ndarray:
    """Largest mean squared error of ``n_runs`` run means around the truth that is consistent
    (at the 0.1 % level) with each run averaging ``n_effective`` independent draws: the mean
    of squared N(0, var / n_effective) errors is var / n_effective * chi2(n_runs) / n_runs."""
    return var / n_effective * stats.chi2.ppf(0.999, n_runs) / n_runs


def test_recovers_the_gaussian_posterior_mean_and_covariance(gaussian_runs):
    state = gaussian_runs[0]
    assert state.beta == 1.0
    sd = np.sqrt(np.diag(P))
    # Mean of N_EFFECTIVE independent draws: standard error sd / sqrt(N_EFFECTIVE).
    np.testing.assert_array_less(np.abs(state.z.mean(0) - M), 4 * sd / np.sqrt(N_EFFECTIVE))
    # Sample variance of n normal draws: relative standard error sqrt(2 / n).
    rel_var = state.z.var(0) / np.diag(P)
    np.testing.assert_array_less(np.abs(rel_var - 1), 4 * np.sqrt(2 / N_EFFECTIVE))
    # Sample correlation of n normal draws: standard error (1 - rho^2) / sqrt(n).
    rho = P[0, 1] / (sd[0] * sd[1])
    r = np.corrcoef(state.z, rowvar=False)[0, 1]
    assert abs(r - rho) < 4 * (1 - rho**2) / np.sqrt(N_EFFECTIVE)


def test_default_settings_give_at_least_1000_effective_draws(gaussian_runs):
    """Across independent runs, the run means scatter no more than means of 1,000 independent
    posterior draws would; and every run counts at least 1,000 distinct particles."""
    means = np.array([s.z.mean(0) for s in gaussian_runs])
    mse = np.mean((means - M) ** 2, axis=0)
    np.testing.assert_array_less(mse, _max_mse(np.diag(P), N_EFFECTIVE, N_RUNS))
    assert min(s.n_distinct for s in gaussian_runs) >= N_EFFECTIVE
    assert all(s.z.shape == (2000, 2) for s in gaussian_runs)


def test_the_effective_draw_check_catches_a_sampler_that_barely_moves():
    """One Metropolis step per round leaves copies of resampled particles correlated: the same
    criterion as above must reject it, or the check above could not fail."""
    runs = [smc.run(gaussian_loglik, n_dim=2, rng=seed, n_moves=1) for seed in range(N_RUNS)]
    mse = np.mean((np.array([s.z.mean(0) for s in runs]) - M) ** 2, axis=0)
    assert np.any(mse > _max_mse(np.diag(P), N_EFFECTIVE, N_RUNS))


def test_evidence_matches_the_closed_form_marginal_likelihood(gaussian_runs):
    """The evidence estimate Z_hat is unbiased [Del Moral 2004]: the mean of Z_hat / Z over the
    runs is 1 within four standard errors of that mean."""
    ratio = np.exp(np.array([s.log_evidence for s in gaussian_runs]) - LOG_Z)
    assert abs(ratio.mean() - 1) < 4 * ratio.std(ddof=1) / np.sqrt(N_RUNS)
    # Its spread: with independent particles each round's increment would have relative
    # variance (n / ESS - 1) / n, about 1 / n; resampling and moves make particles dependent,
    # so allow three times that standard deviation over the rounds.
    n_rounds = gaussian_runs[0].round
    assert np.std(np.log(ratio)) < 3 * np.sqrt(n_rounds / 2000)


def _mixture_loglik(z: np.ndarray, ids: np.ndarray) -> np.ndarray:
    x = z[:, 0]
    return np.logaddexp(
        np.log(0.3) + stats.norm.logpdf(x, -1.5, 0.15),
        np.log(0.7) + stats.norm.logpdf(x, 1.8, 0.15),
    )


def test_recovers_a_bimodal_posterior_computed_on_a_grid():
    grid = np.linspace(-8.0, 8.0, 160_001)
    dens = np.exp(_mixture_loglik(grid[:, None], np.arange(grid.size)) + stats.norm.logpdf(grid))
    dens /= np.trapezoid(dens, grid)
    cdf = np.cumsum(dens) * (grid[1] - grid[0])
    p_left = np.interp(0.0, grid, cdf)
    # Quartiles within each mode (a quantile in the gap between modes has no density to
    # pin it down).
    quartiles = np.array([0.25, 0.5, 0.75])
    q = np.concatenate([p_left * quartiles, p_left + (1 - p_left) * quartiles])
    exact = np.interp(q, cdf, grid)

    state = smc.run(_mixture_loglik, n_dim=1, rng=3)
    x = state.z[:, 0]
    # Sample quantile of n draws: standard error sqrt(q (1 - q) / n) / density(x_q).
    se = np.sqrt(q * (1 - q) / N_EFFECTIVE) / np.interp(exact, grid, dens)
    np.testing.assert_array_less(np.abs(np.quantile(x, q) - exact), 4 * se)
    # Share in the left mode: binomial standard error.
    assert abs(np.mean(x < 0) - p_left) < 4 * np.sqrt(p_left * (1 - p_left) / N_EFFECTIVE)


def test_noisy_likelihood_still_centres_on_the_posterior():
    """Pseudo-marginal moves keep each particle's estimate, so the noise changes only the
    efficiency: with log-likelihood noise of sd 1 a pseudo-marginal chain needs a few times
    more steps for the same precision [Doucet et al. 2015], so the tolerance assumes a quarter
    of the exact case's effective draws."""
    state = smc.run(noisy_loglik, n_dim=2, rng=11)
    n_eff = N_EFFECTIVE // 4
    sd = np.sqrt(np.diag(P))
    np.testing.assert_array_less(np.abs(state.z.mean(0) - M), 4 * sd / np.sqrt(n_eff))
    rel_var = state.z.var(0) / np.diag(P)
    np.testing.assert_array_less(np.abs(rel_var - 1), 4 * np.sqrt(2 / n_eff))


def test_same_seed_gives_identical_particles():
    first = smc.run(noisy_loglik, n_dim=2, rng=5, n_particles=300)
    again = smc.run(noisy_loglik, n_dim=2, rng=np.random.default_rng(5), n_particles=300)
    other = smc.run(noisy_loglik, n_dim=2, rng=6, n_particles=300)
    np.testing.assert_array_equal(first.z, again.z)
    np.testing.assert_array_equal(first.log_likelihood, again.log_likelihood)
    assert first.log_evidence == again.log_evidence
    assert not np.array_equal(first.z, other.z)


def test_current_points_are_never_re_evaluated():
    """Each evaluation gets a new id, and the count is the prior draws plus one proposal per
    particle per Metropolis step: no current point is simulated again (pseudo-marginal)."""
    seen = []

    def loglik(z, ids):
        seen.append(ids)
        return gaussian_loglik(z, ids)

    state = smc.run(loglik, n_dim=2, rng=0, n_particles=500, n_moves=3)
    ids = np.concatenate(seen)
    np.testing.assert_array_equal(ids, np.arange(ids.size))
    assert state.n_evaluations == ids.size == 500 * (1 + 3 * state.round)


def test_tempering_steps_hold_the_conditional_ess_at_its_target():
    states = list(smc.sample(gaussian_loglik, n_dim=2, rng=1, ess_target=0.7))
    betas = [s.beta for s in states]
    assert betas[0] == 0.0 and betas[-1] == 1.0
    assert np.all(np.diff(betas) > 0)
    intermediate = [s.ess for s in states[1:] if s.beta < 1.0]
    assert intermediate
    np.testing.assert_allclose(intermediate, 0.7 * 2000, rtol=1e-6)
    assert states[-1].ess >= 0.7 * 2000


def test_points_outside_the_support_drop_out():
    """A likelihood of -inf for z < 0: the posterior is the prior truncated to z > 0 times the
    likelihood, and no particle may end below 0."""

    def loglik(z, ids):
        return np.where(z[:, 0] > 0, stats.norm.logpdf(z[:, 0], 1.0, 0.5), -np.inf)

    state = smc.run(loglik, n_dim=1, rng=2, n_particles=500)
    assert state.beta == 1.0
    assert state.z.min() > 0


def test_extra_move_rounds_run_until_enough_particles_are_distinct():
    state = smc.run(gaussian_loglik, n_dim=2, rng=4, n_particles=500, n_moves=1, min_distinct=495)
    assert state.beta == 1.0 and state.n_distinct >= 495
    assert state.log_evidence_increment == 0.0


def test_bad_options_and_likelihoods_raise_one_line_errors():
    with pytest.raises(ValueError, match="ess_target"):
        smc.run(gaussian_loglik, n_dim=2, rng=0, ess_target=1.0)
    with pytest.raises(ValueError, match="n_particles"):
        smc.run(gaussian_loglik, n_dim=2, rng=0, n_particles=1)
    with pytest.raises(ValueError, match="NaN"):
        smc.run(lambda z, ids: np.full(len(z), np.nan), n_dim=1, rng=0, n_particles=10)
    with pytest.raises(ValueError, match="shape"):
        smc.run(lambda z, ids: np.zeros((len(z), 1)), n_dim=1, rng=0, n_particles=10)


def test_sampler_stream_is_apart_from_the_population_and_draw_streams():
    x = streams.sampler_rng(1).random(4)
    assert not np.array_equal(x, streams.population_rng(1).random(4))
    assert not np.array_equal(x, np.random.default_rng(streams.draw_seed(1, 0)).random(4))
    np.testing.assert_array_equal(x, streams.sampler_rng(1).random(4))


@pytest.fixture(scope="module")
def sticky_runs() -> list[smc.State]:
    """Runs whose particles stay correlated: one Metropolis step per round (see above)."""
    return [smc.run(gaussian_loglik, n_dim=2, rng=seed, n_moves=1) for seed in range(N_RUNS)]


def _coverage(runs: list[smc.State], *, lineage: bool) -> float:
    """Share of runs whose 95% Wilson interval of P(z_0 > posterior median) holds the truth,
    1/2, over the particles (``lineage`` False) or over their effective number given their
    lineages."""
    truth, covered = 0.5, 0
    for s in runs:
        hit = s.z[:, 0] > M[0]
        n = stats_mod.lineage_effective_size(hit, s.eve) if lineage else hit.size
        lo, hi = stats_mod.wilson(float(hit.mean()), n)
        covered += lo <= truth <= hi
    return covered / len(runs)


def test_lineages_make_the_odds_interval_cover_where_counting_particles_does_not(sticky_runs):
    """Correlated particles: an interval over all 2,000 particles is too narrow and misses the
    truth too often; counting the particles' lineages (their eves) restores the coverage."""
    assert all(np.isin(s.eve, np.arange(2000)).all() for s in sticky_runs)
    naive, by_lineage = _coverage(sticky_runs, lineage=False), _coverage(sticky_runs, lineage=True)
    assert by_lineage >= 0.85
    assert naive < by_lineage


def test_eves_follow_the_resampling_and_not_the_moves(gaussian_runs):
    s = gaussian_runs[0]
    # Resampled copies keep their eve: there are fewer distinct eves than particles, and every
    # eve is a first-round particle.
    assert len(np.unique(s.eve)) < s.z.shape[0]
    assert s.eve.min() >= 0 and s.eve.max() < s.z.shape[0]
    assert np.all(np.diff(s.eve) >= 0)  # systematic resampling keeps the order
