"""The ensemble curve fit: Bass, logistic and Gompertz averaged with stacking weights computed
from their leave-future-out predictive densities, with a ceiling that may keep rising.

Why an ensemble: fitted to the early part of a series, a single-ceiling S-curve locks onto an
early plateau and its band misses the later points when the ceiling keeps rising (FACTS.md:
published logistic and Bass fits to China's internet series saturated at 54-61%; the series
passed 80% in 2025). The three forms disagree most exactly there, and a data-weighted mixture of
their predictive distributions carries that disagreement into the band.

Weights. Each member's predictive density of every point ``i >= lfo_start`` is computed from a
fit to the points before it only (exact one-step-ahead leave-future-out cross-validation,
Burkner, Gabry and Vehtari 2020: refits, no importance-sampling approximation, the series being
short). The weights maximise the log score of the mixture over those points (stacking of
predictive distributions, Yao, Vehtari, Simpson and Gelman 2018, eq. 4, with leave-future-out
in place of leave-one-out densities, as time order requires). Stacking, not pseudo-BMA+: the
aim is the best predictive mixture, and stacking does not assume one member is true; it
keeps a member that is best on a few points even when another is better on average. With fewer
than ``lfo_start + 1`` points nothing is scored and the weights are equal (said in the output).

The ensemble's band at a time is the weighted mixture of the members' posterior-predictive
distributions, its quantiles read from all members' draws weighted ``w_k / n_k``.

References
----------
.. [1] Yao, Y., Vehtari, A., Simpson, D. and Gelman, A. (2018). Using stacking to average
   Bayesian predictive distributions. Bayesian Analysis 13(3), 917-1007.
.. [2] Burkner, P.-C., Gabry, J. and Vehtari, A. (2020). Approximate leave-future-out
   cross-validation for Bayesian time series models. Journal of Statistical Computation and
   Simulation 90(14), 2499-2523.
.. [3] Mahajan, V. and Peterson, R. A. (1978). Innovation diffusion in a dynamic potential
   adopter population. Management Science 24(15), 1589-1597 (a time-varying ceiling).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp
from scipy.stats import norm

from sim.fit.curves import (
    GROWTH_PRIOR,
    MODELS,
    NOISE_PRIOR,
    PRIORS,
    Ceiling,
    CurveFit,
    _checked,
    fit_form,
)
from sim.stats import weighted_quantile

#: Points fitted before the first one scored: fewer leave a curve of 3-4 parameters to its prior.
LFO_START = 3
#: Weighting method, as printed.
METHOD = "stacking of one-step leave-future-out predictive densities"


@dataclass(frozen=True)
class EnsembleFit:
    """Bass, logistic and Gompertz fits with their stacking weights.

    Attributes
    ----------
    members : mapping of str to CurveFit
        One fit to the whole series per form, in :data:`sim.fit.MODELS` order.
    weights : ndarray, shape (n_members,)
        Stacking weights, non-negative, summing to 1, in ``members`` order.
    lpd : ndarray, shape (n_scored, n_members)
        Log predictive density of each scored point under each member fitted to the points
        before it.
    t, y : ndarray, shape (n,)
        The data fitted (decimal years, shares), in time order.
    sd : ndarray, shape (n,) or None
    seed : int
    ceiling : {'fixed', 'rising'}
    """

    members: Mapping[str, CurveFit]
    weights: NDArray[np.float64]
    lpd: NDArray[np.float64]
    t: NDArray[np.float64]
    y: NDArray[np.float64]
    sd: NDArray[np.float64] | None
    seed: int
    ceiling: Ceiling

    @property
    def model(self) -> str:
        """``'ensemble'``, as :attr:`CurveFit.model` names a form."""
        return "ensemble"

    @property
    def weight(self) -> dict[str, float]:
        """Weight of each member by name."""
        return {m: float(w) for m, w in zip(self.members, self.weights, strict=True)}

    @property
    def elpd(self) -> dict[str, float]:
        """Each member's summed leave-future-out log predictive density (0 if none scored)."""
        return {m: float(v) for m, v in zip(self.members, self.lpd.sum(axis=0), strict=True)}

    @property
    def n_scored(self) -> int:
        """Number of points scored out of sample."""
        return self.lpd.shape[0]

    def draws(
        self, t_new: ArrayLike, *, noise: bool = True, sd: float | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """All members' posterior-predictive draws at ``t_new`` (:meth:`CurveFit.draws`) and
        their mixture weights.

        Returns
        -------
        values : ndarray, shape (n_draws, n_t)
        weights : ndarray, shape (n_draws,)
            ``w_k / n_k`` for each draw of member ``k``; they sum to 1.
        """
        values, weights = [], []
        for fit, w in zip(self.members.values(), self.weights, strict=True):
            f = fit.draws(t_new, noise=noise, sd=sd)
            values.append(f)
            weights.append(np.full(f.shape[0], w / f.shape[0]))
        return np.concatenate(values), np.concatenate(weights)

    def predict(
        self,
        t_new: ArrayLike,
        level: float = 0.9,
        *,
        noise: bool = True,
        sd: float | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Median and equal-tailed interval of the mixture of the members' posterior-predictive
        distributions at decimal years ``t_new`` (arguments as :meth:`CurveFit.predict`).

        Returns
        -------
        median, lower, upper : ndarray, shape (n_t,)
        """
        values, weights = self.draws(t_new, noise=noise, sd=sd)
        lo, med, hi = weighted_quantile(
            values, [(1 - level) / 2, 0.5, (1 + level) / 2], weights=weights
        )
        return med, lo, hi


def stacking_weights(lpd: ArrayLike, *, tol: float = 1e-10, max_iter: int = 100_000) -> NDArray:
    """Stacking weights: the point of the simplex maximising ``sum_i log sum_k w_k p_ik``.

    The objective is concave in ``w``; it is maximised by the EM fixed point for mixture
    proportions with fixed components, ``w_k <- mean_i w_k p_ik / sum_j w_j p_ij``, which
    increases it at every step.

    Parameters
    ----------
    lpd : array_like, shape (n_points, n_members)
        Log predictive density of each held-out point under each member.

    Returns
    -------
    ndarray, shape (n_members,)
        Non-negative weights summing to 1; equal when ``n_points`` is 0.

    References
    ----------
    .. [1] Yao, Y., Vehtari, A., Simpson, D. and Gelman, A. (2018). Bayesian Analysis 13(3),
       917-1007, eq. (4).
    .. [2] Dempster, A. P., Laird, N. M. and Rubin, D. B. (1977). JRSS B 39(1), 1-38.
    """
    lpd = np.atleast_2d(np.asarray(lpd, dtype=np.float64))
    k = lpd.shape[1]
    w = np.full(k, 1.0 / k)
    if lpd.shape[0] == 0:
        return w
    # Each point's densities scaled by its best: the same maximiser, no underflow.
    p = np.exp(lpd - lpd.max(axis=1, keepdims=True))
    for _ in range(max_iter):
        resp = w * p
        new = np.mean(resp / resp.sum(axis=1, keepdims=True), axis=0)
        if np.max(np.abs(new - w)) < tol:
            return new / new.sum()
        w = new
    return w / w.sum()


def _log_predictive(fit: CurveFit, t_new: float, y_new: float, sd_new: float | None) -> float:
    """Log of the posterior-predictive density of ``y_new`` at ``t_new`` (normal noise: the
    given ``sd_new``, else each draw's ``sigma``), averaged over the posterior draws."""
    f = fit.curves(t_new)[:, 0]
    s = fit.samples[:, -1] if sd_new is None else sd_new
    return float(logsumexp(norm.logpdf(y_new, f, s)) - np.log(f.size))


def fit_ensemble(
    t: ArrayLike,
    y: ArrayLike,
    *,
    sd: ArrayLike | None = None,
    ceiling: Ceiling = "rising",
    priors: Mapping[str, tuple[float, float]] | None = None,
    lfo_start: int = LFO_START,
    n_walkers: int = 64,
    n_steps: int = 600,
    seed: int = 0,
) -> EnsembleFit:
    """Fit the three forms, score them by exact one-step leave-future-out cross-validation and
    weight them by stacking: :func:`sim.fit.fit_curve` with ``model="ensemble"``.

    Parameters
    ----------
    t, y : array_like, shape (n,)
        Decimal years and shares (any order).
    sd : array_like, shape (n,), optional
    ceiling : {'fixed', 'rising'}
    priors : mapping, optional
        ``name -> (low, high)``; each member takes the names it has; a name no member has is an
        error.
    lfo_start : int
        Points fitted before the first one scored (>= 2).
    n_walkers, n_steps, seed
        As :func:`sim.fit.fit_curve`, for every fit (refits included). Every fit samples from
        the stream of ``seed`` (:func:`sim.streams.fit_rng`): refits differ by their data only.

    Returns
    -------
    EnsembleFit
    """
    if lfo_start < 2:
        raise ValueError(f"lfo_start {lfo_start}: allowed: 2 or more")
    t, y, sd = _checked(t, y, sd)
    over = dict(priors or {})
    extra = {NOISE_PRIOR.name} | ({GROWTH_PRIOR.name} if ceiling == "rising" else set())
    unknown = set(over) - {p.name for m in MODELS for p in PRIORS[m]} - extra
    if unknown:
        raise ValueError(f"unknown prior {sorted(unknown)[0]!r}")
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    sd = None if sd is None else sd[order]
    kw = {"ceiling": ceiling, "n_walkers": n_walkers, "n_steps": n_steps, "seed": seed}

    def fit(model: str, n: int) -> CurveFit:
        mine = {k: v for k, v in over.items() if k in {p.name for p in PRIORS[model]} | extra}
        return fit_form(t[:n], y[:n], model, sd=None if sd is None else sd[:n], priors=mine, **kw)

    members = {m: fit(m, t.size) for m in MODELS}
    scored = range(lfo_start, t.size)
    lpd = np.array(
        [
            [_log_predictive(fit(m, i), t[i], y[i], None if sd is None else sd[i]) for m in MODELS]
            for i in scored
        ]
    ).reshape(len(scored), len(MODELS))
    return EnsembleFit(members, stacking_weights(lpd), lpd, t, y, sd, seed, ceiling)
