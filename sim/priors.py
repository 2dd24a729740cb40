"""Sampling the uncertain parameters: one parameter set per Monte Carlo draw."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.stats import qmc

from sim.spec import Prior
from sim.streams import prior_design_rng


def sample(
    priors: Sequence[Prior],
    n_draws: int,
    *,
    seed: int,
    method: str = "lhs",
) -> NDArray[np.float64]:
    """Sample ``n_draws`` parameter sets from the priors.

    Parameters
    ----------
    priors : sequence of Prior, length d
        In a fixed order (the spec sorts them by name), so draw ``i`` of two scenarios with the
        same parameters gets the same uniforms: common random numbers across scenarios.
    n_draws : int
    seed : int
        Run seed; the design's generator is derived from it, separate from every draw's stream.
    method : {'lhs', 'sobol'}
        Latin hypercube, or scrambled Sobol' sequence, from :mod:`scipy.stats.qmc`.

    Returns
    -------
    ndarray, shape (n_draws, d)
        Row ``i`` is draw ``i``'s parameter set; it does not depend on chunking.

    References
    ----------
    .. [1] McKay, M. D., Beckman, R. J. and Conover, W. J. (1979). Technometrics 21(2), 239-245.
    .. [2] Owen, A. B. (1998). Scrambling Sobol' and Niederreiter-Xing points.
       Journal of Complexity 14(4), 466-489.
    """
    d = len(priors)
    rng = prior_design_rng(seed)
    if method == "sobol":
        engine = qmc.Sobol(d, scramble=True, rng=rng)
        m = int(np.ceil(np.log2(max(n_draws, 2))))
        u = engine.random_base2(m)[:n_draws]
    else:
        u = qmc.LatinHypercube(d, rng=rng).random(n_draws)
    return (
        np.column_stack([p.ppf(u[:, j]) for j, p in enumerate(priors)])
        if d
        else np.empty((n_draws, 0))
    )


def central(priors: Sequence[Prior], n_draws: int) -> NDArray[np.float64]:
    """Every draw at the priors' central values, shape (n_draws, d)."""
    return np.tile(np.array([p.central for p in priors], dtype=np.float64), (n_draws, 1))
