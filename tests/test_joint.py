"""Joint adoption: the Gaussian copula links the two technologies and leaves each one's
threshold method exact."""

from __future__ import annotations

from dataclasses import replace

import numba
import numpy as np
import pytest
from scipy import special, stats

from sim import rules
from sim.config import load_spec
from sim.engine import kernel, simulate
from sim.rules.compiled import log_ndtr, ndtr

N = 40_000


def _normals(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, N)), rng.standard_normal((2, N))


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_copula_keeps_each_marginal_exactly_uniform_and_exponential(rho):
    """KS tests at 0.1%: the mixed technology's ranks stay U(0, 1) and its thresholds Exp(1)."""
    latent, threshold = rules.correlated_ranks(*_normals(1), rho)
    for k in range(2):
        assert stats.kstest(latent[k], "uniform").pvalue > 1e-3
        assert stats.kstest(threshold[k], "expon").pvalue > 1e-3


def test_thresholds_keep_their_precision_in_the_upper_tail():
    """-log(1 - Phi(w)) by log_ndtr: a large normal gives a large finite threshold, not inf."""
    _, threshold = rules.correlated_ranks(np.zeros(2), np.full(2, 12.0), 0.0)
    assert np.all(np.isfinite(threshold)) and np.all(threshold > 70)


@numba.njit
def _compiled_normal_functions(x):
    out = np.empty((2, x.size))
    for i in range(x.size):
        out[0, i], out[1, i] = ndtr(x[i]), log_ndtr(x[i])
    return out


def test_compiled_code_calls_scipys_normal_functions_to_the_bit():
    """The compiled ``ndtr`` and ``log_ndtr`` are scipy's own C functions: the same bits as
    :func:`scipy.special.ndtr` and :func:`scipy.special.log_ndtr` over the body and both tails
    (where each switches to its asymptotic branch)."""
    x = np.concatenate([np.random.default_rng(3).standard_normal(10_000) * 4, [-40, -20, 0, 8, 40]])
    out = _compiled_normal_functions(x)
    np.testing.assert_array_equal(out[0], special.ndtr(x))
    np.testing.assert_array_equal(out[1], special.log_ndtr(x))


@pytest.mark.parametrize("n_agents", [1, kernel.RANK_BLOCK + 45])
def test_compiled_rank_draws_are_the_copula_rule_to_the_bit(n_agents):
    """The core's compiled rank draws (:func:`sim.engine.kernel.ranks`) give, agent by agent and
    draw by draw, the float32 of :func:`sim.rules.correlated_ranks` on the same normals, and the
    online ranks as drawn, over blocks that do not fill evenly."""
    rng = np.random.default_rng(4)
    n_draws = 5
    normals = rng.standard_normal((n_draws, 4, n_agents)) * 2
    uniforms = rng.random((n_draws, n_agents), dtype=np.float32)
    rho = np.array([0.0, 0.3, -0.5, 0.9, 1.0])
    latent = np.empty((2, n_agents, n_draws), dtype=np.float32)
    threshold, online = np.empty_like(latent), np.empty((n_agents, n_draws), dtype=np.float32)
    kernel.ranks(normals, uniforms, rho, latent, threshold, online)
    for i in range(n_draws):
        lat, thr = rules.correlated_ranks(normals[i, :2], normals[i, 2:], rho[i])
        np.testing.assert_array_equal(latent[:, :, i], lat.astype(np.float32))
        np.testing.assert_array_equal(threshold[:, :, i], thr.astype(np.float32))
    np.testing.assert_array_equal(online, uniforms.T)


def test_overlap_of_ranks_is_the_product_when_independent_and_rises_with_the_correlation():
    """Share under both ceilings: within 4 binomial standard errors of the copula's value, which
    is the product c_t * c_a at rho = 0, and rises with rho."""
    c_t, c_a = 0.6, 0.5
    z, w = _normals(2)
    seen = []
    for rho in (0.0, 0.3, 0.6, 0.9):
        latent, _ = rules.correlated_ranks(z, w, rho)
        share = np.mean((latent[0] < c_t) & (latent[1] < c_a))
        expected = rules.both_share(c_t, c_a, rho)
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / N)
        seen.append(share)
    assert rules.both_share(c_t, c_a, 0.0) == pytest.approx(c_t * c_a, abs=1e-6)
    assert np.all(np.diff(seen) > 0)


@pytest.fixture(scope="module")
def bass_both(bass_overrides):
    """National shares at the end of 2027 in a single market at three fixed correlations."""
    base = load_spec([*bass_overrides, "population.n_agents=20000", "mc.draws=4"])
    out = {}
    for rho in (0.0, 0.4, 0.8):
        spec = replace(
            base,
            priors=tuple(
                p.fixed_at(rho, "test") if p.name == "joint.correlation" else p for p in base.priors
            ),
        )
        out[rho] = simulate(spec)["share"].sel(time="2027-12-31", metric="population").values
    return out


def test_engine_overlap_is_the_product_at_correlation_zero(bass_both):
    """One market, no complementarity: at rho = 0 an agent's two adoptions are independent given
    the shared share path, so the overlap is the product of the shares within 4 binomial
    standard errors (20,000 agents)."""
    s = bass_both[0.0]
    terminal, agent, both = s[:, 0], s[:, 1], s[:, 3]
    se = np.sqrt(both * (1 - both) / 20_000)
    assert np.all(np.abs(both - terminal * agent) < 4 * se)


def test_engine_overlap_rises_with_the_correlation_and_marginals_stay(bass_both):
    """Common random numbers: the same normals mixed harder give more agents holding both, while
    each technology's own share is unchanged (its ranks and thresholds are not mixed for
    terminals; for agent use only their pairing changes, so the share moves within noise)."""
    both = [bass_both[r][:, 3] for r in (0.0, 0.4, 0.8)]
    assert np.all(both[1] > both[0]) and np.all(both[2] > both[1])
    np.testing.assert_array_equal(bass_both[0.0][:, 0], bass_both[0.8][:, 0])
    agent = [bass_both[r][:, 1] for r in (0.0, 0.8)]
    assert np.all(np.abs(agent[1] - agent[0]) < 4 * np.sqrt(0.25 / 20_000) * np.sqrt(2))
    any_ = [bass_both[r][:, 2] for r in (0.0, 0.8)]
    assert np.all(any_[1] < any_[0])
