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


def correlated_ranks(
    z: ArrayLike, w: ArrayLike, rho: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Latent ranks and thresholds of both technologies from independent standard normals.

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
        Latent ranks, each exactly ``U(0, 1)``: ``Phi`` of the (mixed) normals.
    threshold : ndarray, shape (2, ...)
        Thresholds, each exactly ``Exp(1)``: ``-log(1 - Phi(w))``, computed as
        ``-log_ndtr(-w)`` so the upper tail keeps its precision.

    References
    ----------
    .. [1] Nelsen, R. B. (2006). An Introduction to Copulas, 2nd ed., Springer, sec. 2.3
       (Sklar's theorem) and 4.3 (the Gaussian copula).
    """
    z, w = np.asarray(z, dtype=np.float64), np.asarray(w, dtype=np.float64)
    rho = np.asarray(rho, dtype=np.float64)
    s = np.sqrt(1.0 - rho * rho)
    z_agent = rho * z[0] + s * z[1]
    w_agent = rho * w[0] + s * w[1]
    latent = special.ndtr(np.stack([z[0], z_agent]))
    threshold = -special.log_ndtr(-np.stack([w[0], w_agent]))
    return latent, threshold


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
