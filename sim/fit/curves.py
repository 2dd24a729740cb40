"""The curves of :mod:`sim.fit`: Bass, logistic and Gompertz curves through a cumulative-share
series, with prediction intervals that carry the parameters' uncertainty, the ceiling's included.

The fit is Bayesian. Every parameter has a wide, documented prior (:data:`PRIORS`); the posterior
is sampled by an affine-invariant ensemble sampler (Goodman and Weare 2010) started from the
best points of a Sobol' sample of the prior, and predictions are posterior-predictive quantiles.
Why Bayesian and not a profile likelihood or a bootstrap: a few early points leave the ceiling
unidentified (shared/data/FACTS.md: a Bass fit to CNNIC's four points fits equally well for any
ceiling in 0.6-1.0), so its likelihood is flat over a wide range. A bootstrap of four points
cannot show that, and a profile likelihood gives an interval for the ceiling but no way to
carry it, with the other parameters, into a prediction; a posterior does both, and the prior
that then decides the ceiling is stated, not hidden.

The Bass curve is :func:`sim.rules.bass_share` (the model's own formula) shifted to a launch
year. The logistic and Gompertz curves are written here, not in :mod:`sim.rules`: they are
statistical trend curves used only to describe a series; no agent in either engine behaves by
them.

References
----------
.. [1] Bass, F. M. (1969). Management Science 15(5), 215-227.
.. [2] Goodman, J. and Weare, J. (2010). Ensemble samplers with affine invariance.
   Communications in Applied Mathematics and Computational Science 5(1), 65-80.
.. [3] Meade, N. and Islam, T. (2006). Modelling and forecasting the diffusion of innovation - a
   25-year review. International Journal of Forecasting 22(3), 519-545 (logistic, Gompertz).
.. [4] Mahajan, V. and Peterson, R. A. (1978). Innovation diffusion in a dynamic potential
   adopter population. Management Science 24(15), 1589-1597 (a ceiling that moves in time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import qmc

from sim.rules import ai_share_of_new_devices, bass_share
from sim.streams import fit_noise_rng, fit_rng

Model = Literal["bass", "logistic", "gompertz", "ensemble"]
#: The curve forms; ``model="ensemble"`` averages all three (:mod:`sim.fit.ensemble`).
MODELS: tuple[str, ...] = ("bass", "logistic", "gompertz")
#: A fixed ceiling ``m``, or one rising linearly from ``m`` at the last observation
#: (:data:`GROWTH_PRIOR`).
Ceiling = Literal["fixed", "rising"]
CEILINGS: tuple[str, ...] = ("fixed", "rising")


def logistic_share(t: ArrayLike, m: ArrayLike, k: ArrayLike, t_mid: ArrayLike) -> NDArray:
    """Logistic cumulative share ``m / (1 + exp(-k (t - t_mid)))``.

    Parameters
    ----------
    t : array_like
        Decimal year.
    m : array_like
        Ceiling, in (0, 1].
    k : array_like
        Growth rate, 1/year, > 0.
    t_mid : array_like
        Decimal year at which the share reaches ``m / 2``.
    """
    # The same logistic as the AI share of new devices in the replacement rule: one formula.
    return ai_share_of_new_devices(t, mid=t_mid, slope=k, top=m)


def gompertz_share(t: ArrayLike, m: ArrayLike, k: ArrayLike, t_mid: ArrayLike) -> NDArray:
    """Gompertz cumulative share ``m exp(-exp(-k (t - t_mid)))``: ``m / e`` at the inflection
    year ``t_mid``, a slow approach to the ceiling after it.

    Parameters
    ----------
    t : array_like
        Decimal year.
    m : array_like
        Ceiling, in (0, 1].
    k : array_like
        Growth rate, 1/year, > 0.
    t_mid : array_like
        Decimal year of the inflection point.
    """
    return m * np.exp(-np.exp(-np.multiply(k, np.subtract(t, t_mid))))


def bass_curve(t: ArrayLike, m: ArrayLike, p: ArrayLike, q: ArrayLike, t0: ArrayLike) -> NDArray:
    """Bass cumulative share from a launch year ``t0``, zero before it: the model's own
    :func:`sim.rules.bass_share` at ``t - t0``."""
    return bass_share(np.maximum(np.subtract(t, t0), 0.0), p, q, m)


@dataclass(frozen=True)
class ParamPrior:
    """Prior of one curve parameter: uniform or log-uniform on [low, high].

    For a time parameter, ``low`` is in years after the first observation and ``high`` in years
    after the last one (``relative=True``), so the prior follows the data's span.
    """

    name: str
    dist: Literal["uniform", "loguniform"]
    low: float
    high: float
    reason: str
    relative: bool = False

    def ppf(self, u: NDArray, t_first: float, t_last: float) -> NDArray:
        """Map uniforms ``u`` in (0, 1) to parameter values."""
        if self.dist == "loguniform":
            return np.exp(np.log(self.low) + (np.log(self.high) - np.log(self.low)) * u)
        lo, hi = (
            (self.low + t_first, self.high + t_last) if self.relative else (self.low, self.high)
        )
        return lo + (hi - lo) * u


_M = ParamPrior("m", "uniform", 0.0, 1.0, "any ceiling: early data cannot pin it down")
_K = ParamPrior("k", "loguniform", 0.05, 5.0, "from a 50-year diffusion to one of a few months")
#: Default priors by model. ``t_mid`` ranges from 15 years before the first observation to 15
#: after the last; the Bass launch year from 15 years before the first observation to the last
#: one (it cannot be later, with the series already above zero: the likelihood decides).
PRIORS: dict[str, tuple[ParamPrior, ...]] = {
    "bass": (
        _M,
        ParamPrior(
            "p", "loguniform", 1e-3, 1.0, "Sultan et al. (1990): mean 0.03; up to 1 for shocks"
        ),
        ParamPrior("q", "uniform", 0.0, 2.0, "Sultan et al. (1990): typical 0.3-0.5; wide"),
        ParamPrior(
            "t0", "uniform", -15.0, 0.0, "launch from 15 years before the data to its end", True
        ),
    ),
    "logistic": (
        _M,
        _K,
        ParamPrior("t_mid", "uniform", -15.0, 15.0, "midpoint in or well beyond the data", True),
    ),
    "gompertz": (
        _M,
        _K,
        ParamPrior("t_mid", "uniform", -15.0, 15.0, "inflection in or well beyond the data", True),
    ),
}
#: Prior of the yearly rise ``g`` of a rising ceiling (``ceiling="rising"``): the ceiling is
#: ``clip(m + g (t - t_last), 0, 1)``, ``m`` its value at the last observation. An assumption,
#: not a statistic: 0 is the single-ceiling curve; the top, 5 points a year, lets the ceiling
#: climb 50 points in a decade. Why allow it at all: single-ceiling curves fitted to early data
#: lock onto an early plateau (FACTS.md: published logistic and Bass fits to China's internet
#: series saturated at 54-61%; the series passed 80% in 2025).
GROWTH_PRIOR = ParamPrior(
    "g", "uniform", 0.0, 0.05, "assumption: from a fixed ceiling to one rising 5 points a year"
)
#: Prior of the noise standard deviation when the series gives no uncertainty.
NOISE_PRIOR = ParamPrior("sigma", "loguniform", 1e-3, 0.2, "from survey precision to a rough proxy")


def _curve(model: str, t: NDArray, theta: NDArray, t_last: float | None = None) -> NDArray:
    """Curve values, shape (n_sets, n_t), for parameter sets ``theta`` (n_sets, n_params).

    With ``t_last`` the ceiling rises: column ``len(PRIORS[model])`` of ``theta`` is its yearly
    rise ``g`` and the curve is the unit-ceiling curve times ``clip(m + g (t - t_last), 0, 1)``
    (a time-varying market potential, Mahajan and Peterson 1978, in the multiplicative form of a
    trend curve: a description of the series, not the Bass differential equation with a moving
    potential).
    """
    n = len(PRIORS[model])
    c = [theta[:, j, None] for j in range(n)]
    m = c[0] if t_last is None else 1.0
    if model == "bass":
        f = bass_curve(t[None, :], m, c[1], c[2], c[3])
    elif model == "logistic":
        f = logistic_share(t[None, :], m, c[1], c[2])
    else:
        f = gompertz_share(t[None, :], m, c[1], c[2])
    if t_last is None:
        return f
    return f * np.clip(c[0] + theta[:, n, None] * (t[None, :] - t_last), 0.0, 1.0)


@dataclass(frozen=True)
class CurveFit:
    """Posterior of a fitted curve.

    Attributes
    ----------
    model : str
    names : tuple of str
        Curve parameter names (and ``sigma`` last when the noise was estimated).
    samples : ndarray, shape (n_samples, n_params)
        Posterior draws, in ``names`` order.
    t, y : ndarray, shape (n,)
        The data fitted (decimal years, shares).
    sd : ndarray, shape (n,) or None
        Given observation standard deviations (None: the noise ``sigma`` was estimated).
    acceptance : float
        Mean acceptance rate of the sampler's moves.
    seed : int
    ceiling : {'fixed', 'rising'}
        A rising ceiling adds its yearly rise ``g`` after the curve's own parameters; ``m`` is
        then the ceiling at the last observation.
    """

    model: str
    names: tuple[str, ...]
    samples: NDArray[np.float64]
    t: NDArray[np.float64]
    y: NDArray[np.float64]
    sd: NDArray[np.float64] | None
    acceptance: float
    seed: int
    ceiling: Ceiling = "fixed"

    @property
    def n_curve(self) -> int:
        """Number of curve parameters (the rise ``g`` included, ``sigma`` not)."""
        return len(PRIORS[self.model]) + (self.ceiling == "rising")

    @property
    def t_last(self) -> float | None:
        """Year the rising ceiling is ``m`` at (the last observation); None when fixed."""
        return float(self.t.max()) if self.ceiling == "rising" else None

    @property
    def params(self) -> dict[str, float]:
        """Posterior median of each parameter."""
        med = np.median(self.samples, axis=0)
        return {n: float(v) for n, v in zip(self.names, med, strict=True)}

    def interval(self, level: float = 0.9) -> dict[str, tuple[float, float]]:
        """Equal-tailed posterior interval of each parameter."""
        lo, hi = np.quantile(self.samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return {n: (float(a), float(b)) for n, a, b in zip(self.names, lo, hi, strict=True)}

    def curves(self, t_new: ArrayLike) -> NDArray[np.float64]:
        """Posterior draws of the curve at ``t_new``, shape (n_samples, n_t)."""
        t_new = np.atleast_1d(np.asarray(t_new, dtype=np.float64))
        return _curve(self.model, t_new, self.samples[:, : self.n_curve], self.t_last)

    def draws(
        self, t_new: ArrayLike, *, noise: bool = True, sd: float | None = None
    ) -> NDArray[np.float64]:
        """Posterior-predictive draws at decimal years ``t_new``, shape (n_samples, n_t).

        Parameters
        ----------
        t_new : array_like, shape (n_t,)
        noise : bool
            Draw a new observation (curve plus observation noise, clipped to [0, 1]); False
            draws the curve itself.
        sd : float, optional
            Noise standard deviation of the new observations; by default the estimated ``sigma``
            or, when the series gave uncertainties, their median.
        """
        f = self.curves(t_new)
        if not noise:
            return f
        if sd is not None:
            s = np.full((f.shape[0], 1), sd)
        elif self.sd is None:
            s = self.samples[:, -1:]
        else:
            s = np.full((f.shape[0], 1), np.median(self.sd))
        return np.clip(f + s * fit_noise_rng(self.seed).standard_normal(f.shape), 0.0, 1.0)

    def predict(
        self,
        t_new: ArrayLike,
        level: float = 0.9,
        *,
        noise: bool = True,
        sd: float | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Posterior-predictive median and equal-tailed interval at decimal years ``t_new``.

        Parameters
        ----------
        t_new : array_like, shape (n_t,)
        level : float
            Interval probability, in (0, 1).
        noise, sd
            As :meth:`draws`; ``noise=False`` gives the credible band of the curve itself.

        Returns
        -------
        median, lower, upper : ndarray, shape (n_t,)
        """
        f = self.draws(t_new, noise=noise, sd=sd)
        lo, med, hi = np.quantile(f, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
        return med, lo, hi


def _log_likelihood(
    model: str,
    t: NDArray,
    y: NDArray,
    sd: NDArray | None,
    theta: NDArray,
    n_curve: int,
    t_last: float | None,
) -> NDArray:
    """Normal log-likelihood of the series for each parameter set (row of ``theta``); the noise
    sd is ``sd`` or, when None, the last column of ``theta``."""
    f = _curve(model, t, theta[:, :n_curve], t_last)
    s = theta[:, n_curve:] if sd is None else sd[None, :]
    z = (y[None, :] - f) / s
    return -0.5 * np.sum(z * z, axis=1) - np.sum(np.log(s) * np.ones_like(z), axis=1)


def fit_form(
    t: ArrayLike,
    y: ArrayLike,
    model: str,
    *,
    sd: ArrayLike | None = None,
    ceiling: Ceiling = "fixed",
    priors: Mapping[str, tuple[float, float]] | None = None,
    n_walkers: int = 64,
    n_steps: int = 600,
    seed: int = 0,
) -> CurveFit:
    """Fit one curve form to a series and sample the parameters' posterior (the work of
    :func:`sim.fit.fit_curve` for one form).

    Parameters
    ----------
    t : array_like, shape (n,)
        Decimal years.
    y : array_like, shape (n,)
        Cumulative adopted shares, in [0, 1].
    model : {'bass', 'logistic', 'gompertz'}
    sd : array_like, shape (n,), optional
        Standard deviation of each observation (share units). Without it a common noise
        ``sigma`` is estimated (prior :data:`NOISE_PRIOR`).
    ceiling : {'fixed', 'rising'}
        A fixed ceiling ``m``, or one rising by ``g`` a year from ``m`` at the last observation
        (prior :data:`GROWTH_PRIOR`).
    priors : mapping, optional
        ``name -> (low, high)`` replacing a default prior's bounds (:data:`PRIORS`,
        :data:`GROWTH_PRIOR`, :data:`NOISE_PRIOR`; for time parameters, years after the first
        and after the last observation).
    n_walkers, n_steps : int
        Ensemble size and steps; the first half of the steps is discarded.
    seed : int

    Returns
    -------
    CurveFit

    Raises
    ------
    ValueError
        On mismatched lengths, fewer than two points, shares outside [0, 1], an unknown model,
        ceiling or prior.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; allowed: {', '.join(MODELS)}")
    if ceiling not in CEILINGS:
        raise ValueError(f"unknown ceiling {ceiling!r}; allowed: {', '.join(CEILINGS)}")
    t, y, sd = _checked(t, y, sd)
    base = PRIORS[model] + ((GROWTH_PRIOR,) if ceiling == "rising" else ())
    over = dict(priors or {})
    unknown = set(over) - {p.name for p in base} - {"sigma"}
    if unknown:
        raise ValueError(f"unknown prior {sorted(unknown)[0]!r}")
    plist = [
        ParamPrior(p.name, p.dist, *over[p.name], p.reason, p.relative) if p.name in over else p
        for p in base
    ]
    if sd is None:
        sig = NOISE_PRIOR
        plist.append(ParamPrior("sigma", sig.dist, *over.get("sigma", (sig.low, sig.high)), ""))
    n_curve, d = len(base), len(plist)
    t_first, t_last = float(t.min()), float(t.max())
    t_ref = t_last if ceiling == "rising" else None
    # theta = a + b u (uniform priors) or exp(a + b u) (log-uniform), column by column.
    is_log = np.array([p.dist == "loguniform" for p in plist])
    ends = np.array([p.ppf(np.array([0.0, 1.0]), t_first, t_last) for p in plist])
    ends[is_log] = np.log(ends[is_log])
    shift, scale = ends[:, 0], ends[:, 1] - ends[:, 0]

    def to_theta(u: NDArray) -> NDArray:
        x = shift + scale * u
        return np.where(is_log, np.exp(np.where(is_log, x, 0.0)), x)

    def log_post(u: NDArray) -> NDArray:
        with np.errstate(all="ignore"):  # proposals outside the prior's box are rejected below
            ll = _log_likelihood(model, t, y, sd, to_theta(u), n_curve, t_ref)
        inside = np.all((u > 0.0) & (u < 1.0), axis=1) & np.isfinite(ll)
        return np.where(inside, ll, -np.inf)

    rng = fit_rng(seed)
    # Start: the walkers are the best points of a Sobol' sample of the prior, so none starts
    # stranded in a region of negligible posterior mass (such a walker biases the tails).
    u0 = qmc.Sobol(d, scramble=True, rng=rng).random_base2(14)
    start = u0[np.argsort(log_post(u0))[-n_walkers:]]
    kept, acceptance = stretch_sample(log_post, start, n_steps, rng=rng)
    names = tuple(p.name for p in plist)
    return CurveFit(model, names, to_theta(kept), t, y, sd, acceptance, seed, ceiling)


def _checked(
    t: ArrayLike, y: ArrayLike, sd: ArrayLike | None
) -> tuple[NDArray, NDArray, NDArray | None]:
    """``t, y, sd`` as float arrays (``sd`` broadcast to ``t``), or ValueError."""
    t, y = np.asarray(t, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if t.ndim != 1 or t.shape != y.shape or t.size < 2:
        raise ValueError("t and y must be 1-d arrays of the same length, at least 2")
    if np.any((y < 0) | (y > 1)) or not np.all(np.isfinite(t)):
        raise ValueError("y must be shares in [0, 1] and t finite decimal years")
    if sd is None:
        return t, y, None
    sd = np.broadcast_to(np.asarray(sd, dtype=np.float64), t.shape).copy()
    if np.any(sd <= 0):
        raise ValueError("sd must be > 0")
    return t, y, sd


def stretch_sample(
    log_prob: Callable[[NDArray], NDArray],
    start: NDArray,
    n_steps: int,
    *,
    rng: np.random.Generator,
    thin: int = 5,
) -> tuple[NDArray, float]:
    """Affine-invariant ensemble sampling with the stretch move (scale 2), half the ensemble
    updated at a time against the other half.

    Parameters
    ----------
    log_prob : callable
        Log density of points, shape (n, d) -> (n,); -inf outside the support.
    start : ndarray, shape (n_walkers, d)
        Initial walkers (an even number, all with finite density).
    n_steps : int
        Steps; the first half is discarded as burn-in, then every ``thin``-th is kept.
    rng : numpy.random.Generator

    Returns
    -------
    samples : ndarray, shape (n_kept * n_walkers, d)
    acceptance : float
        Share of proposals accepted.

    References
    ----------
    .. [1] Goodman, J. and Weare, J. (2010). Communications in Applied Mathematics and
       Computational Science 5(1), 65-80.
    .. [2] Foreman-Mackey, D. et al. (2013). emcee: the MCMC hammer. PASP 125, 306-312.
    """
    pos = np.array(start, dtype=np.float64)
    n_walkers, d = pos.shape
    lp = log_prob(pos)
    half = n_walkers // 2
    kept, accepted = [], 0
    for step in range(n_steps):
        for a, b in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
            x, others = pos[a], pos[b]
            n = x.shape[0]
            # z has density proportional to 1/sqrt(z) on [1/2, 2].
            z = ((rng.random(n) + 1.0) ** 2) / 2.0
            partner = others[rng.integers(0, others.shape[0], n)]
            prop = partner + z[:, None] * (x - partner)
            lp_prop = log_prob(prop)
            take = np.log(rng.random(n)) < (d - 1) * np.log(z) + lp_prop - lp[a]
            pos[a] = np.where(take[:, None], prop, x)
            lp[a] = np.where(take, lp_prop, lp[a])
            accepted += int(take.sum())
        if step >= n_steps // 2 and (step - n_steps // 2) % thin == 0:
            kept.append(pos.copy())
    return np.concatenate(kept), accepted / (n_steps * n_walkers)
