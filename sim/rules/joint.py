"""Joint adoption: a Gaussian copula linking an agent's propensities for the two technologies.

An agent's latent rank (is it in the market?) and threshold (how soon does it adopt?) for each
technology come from standard normals: ``U = Phi(z)`` and ``E = -log(1 - Phi(w))``, so each
marginal is exactly ``U(0, 1)`` and ``Exp(1)`` as in the independent threshold method, while the
normals of agent use are mixed with those of terminals with correlation ``rho``. At ``rho = 0`` the
two technologies are independent; as ``rho`` rises, the same agents hold both.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from sim.rules.compiled import jitable, log_ndtr, ndtr


@jitable
def copula_ranks(
    z0: ArrayLike, z1: ArrayLike, w0: ArrayLike, w1: ArrayLike, rho: ArrayLike
) -> tuple[NDArray[np.float64], ...]:
    """Latent ranks and thresholds of both technologies from four independent standard normals:
    the rule itself, for one agent and draw or elementwise over arrays. Compiled in the core's
    rank draws (:func:`sim.rules.compiled.jitable`); :func:`correlated_ranks` stacks its
    results.

    Parameters
    ----------
    z0, z1 : array_like
        Normals of the terminal's and agent use's latent ranks.
    w0, w1 : array_like
        Normals of their thresholds.
    rho : array_like
        Correlation of the two technologies' normals, in [-1, 1].

    Returns
    -------
    tuple
        Latent ranks of terminals and agent use, each exactly ``U(0, 1)``: ``Phi`` of the
        (mixed) normals; then their thresholds, each exactly ``Exp(1)``: ``-log(1 - Phi(w))``,
        computed as ``-log_ndtr(-w)`` so the upper tail keeps its precision.

    References
    ----------
    .. [1] Nelsen, R. B. (2006). An Introduction to Copulas, 2nd ed., Springer, sec. 2.3
       (Sklar's theorem) and 4.3 (the Gaussian copula).
    """
    s = np.sqrt(1.0 - rho * rho)
    z_agent = rho * z0 + s * z1
    w_agent = rho * w0 + s * w1
    return ndtr(z0), ndtr(z_agent), -log_ndtr(-w0), -log_ndtr(-w_agent)


def correlated_ranks(
    z: ArrayLike, w: ArrayLike, rho: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Latent ranks and thresholds of both technologies from independent standard normals, by
    :func:`copula_ranks`.

    Parameters
    ----------
    z, w : array_like, shape (2, ...)
        Independent standard normals per technology (terminal, agent use): ``z`` for the latent
        ranks, ``w`` for the thresholds; the trailing shape is the agents' (and draws').
    rho : array_like
        Correlation of the two technologies' normals, in [-1, 1]; broadcasts against ``z[0]``.

    Returns
    -------
    latent : ndarray, shape (2, ...)
        Latent ranks, each exactly ``U(0, 1)``.
    threshold : ndarray, shape (2, ...)
        Thresholds, each exactly ``Exp(1)``.
    """
    z, w = np.asarray(z, dtype=np.float64), np.asarray(w, dtype=np.float64)
    l0, l1, t0, t1 = copula_ranks(z[0], z[1], w[0], w[1], np.asarray(rho, dtype=np.float64))
    return np.stack(np.broadcast_arrays(l0, l1)), np.stack(np.broadcast_arrays(t0, t1))


def both_share(c_terminal: ArrayLike, c_agent: ArrayLike, rho: ArrayLike) -> NDArray[np.float64]:
    """Share of agents under both latent ceilings: ``P(U_t < c_t, U_a < c_a)`` under the copula
    of :func:`correlated_ranks` (the Gaussian copula ``C(c_t, c_a; rho)``).

    Parameters
    ----------
    c_terminal, c_agent : array_like
        Ceilings in [0, 1].
    rho : array_like
        Correlation, in [-1, 1].
    """
    ct, ca, r = np.broadcast_arrays(
        np.asarray(c_terminal, float), np.asarray(c_agent, float), np.asarray(rho, float)
    )
    out = np.clip(np.minimum(ct, ca), 0.0, None)
    interior = (ct > 0) & (ca > 0) & (ct < 1) & (ca < 1)
    out = np.where(interior, ct * ca, out)
    for value in np.unique(r[interior & (r != 0)]):
        sel = interior & (r == value)
        x = special.ndtri(np.stack([ct[sel], ca[sel]], axis=-1))
        out[sel] = stats.multivariate_normal(cov=[[1.0, value], [value, 1.0]]).cdf(x)
    return out


def union_share(c_terminal: ArrayLike, c_agent: ArrayLike, rho: ArrayLike) -> NDArray[np.float64]:
    """Share of agents under either latent ceiling: ``c_t + c_a - C(c_t, c_a; rho)``, the
    ceiling of the ``any`` reading (:func:`both_share`)."""
    return np.add(c_terminal, c_agent) - both_share(c_terminal, c_agent, rho)
