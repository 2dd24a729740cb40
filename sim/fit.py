"""Curve fitting for analysts: Bass, logistic and Gompertz curves through a cumulative-share
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

Command line (a CSV with ``date,value[,uncertainty][,series]`` or ``t,y[,sd]`` columns)::

    python -m sim.fit FILE.csv --model bass --level 0.9 [--series NAME] [--until YYYY-MM-DD]
        [--at 2026 2027 2030]

References
----------
.. [1] Bass, F. M. (1969). Management Science 15(5), 215-227.
.. [2] Goodman, J. and Weare, J. (2010). Ensemble samplers with affine invariance.
   Communications in Applied Mathematics and Computational Science 5(1), 65-80.
.. [3] Meade, N. and Islam, T. (2006). Modelling and forecasting the diffusion of innovation - a
   25-year review. International Journal of Forecasting 22(3), 519-545 (logistic, Gompertz).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import qmc

from sim import paths
from sim.rules import ai_share_of_new_devices, bass_share
from sim.streams import fit_noise_rng, fit_rng

Model = Literal["bass", "logistic", "gompertz"]
MODELS: tuple[str, ...] = ("bass", "logistic", "gompertz")


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
#: Prior of the noise standard deviation when the series gives no uncertainty.
NOISE_PRIOR = ParamPrior("sigma", "loguniform", 1e-3, 0.2, "from survey precision to a rough proxy")


def _curve(model: str, t: NDArray, theta: NDArray) -> NDArray:
    """Curve values, shape (n_sets, n_t), for parameter sets ``theta`` (n_sets, n_params)."""
    c = [theta[:, j, None] for j in range(theta.shape[1])]
    if model == "bass":
        return bass_curve(t[None, :], c[0], c[1], c[2], c[3])
    if model == "logistic":
        return logistic_share(t[None, :], c[0], c[1], c[2])
    return gompertz_share(t[None, :], c[0], c[1], c[2])


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
    """

    model: str
    names: tuple[str, ...]
    samples: NDArray[np.float64]
    t: NDArray[np.float64]
    y: NDArray[np.float64]
    sd: NDArray[np.float64] | None
    acceptance: float
    seed: int

    @property
    def n_curve(self) -> int:
        return len(PRIORS[self.model])

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
        return _curve(self.model, t_new, self.samples[:, : self.n_curve])

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
        noise : bool
            Predict a new observation (curve plus observation noise, clipped to [0, 1]); False
            gives the credible band of the curve itself.
        sd : float, optional
            Noise standard deviation of the new observations; by default the estimated ``sigma``
            or, when the series gave uncertainties, their median.

        Returns
        -------
        median, lower, upper : ndarray, shape (n_t,)
        """
        f = self.curves(t_new)
        if noise:
            rng = fit_noise_rng(self.seed)
            if sd is not None:
                s = np.full((f.shape[0], 1), sd)
            elif self.sd is None:
                s = self.samples[:, -1:]
            else:
                s = np.full((f.shape[0], 1), np.median(self.sd))
            f = np.clip(f + s * rng.standard_normal(f.shape), 0.0, 1.0)
        lo, med, hi = np.quantile(f, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
        return med, lo, hi


def _log_likelihood(
    model: str, t: NDArray, y: NDArray, sd: NDArray | None, theta: NDArray, n_curve: int
) -> NDArray:
    """Normal log-likelihood of the series for each parameter set (row of ``theta``); the noise
    sd is ``sd`` or, when None, the last column of ``theta``."""
    f = _curve(model, t, theta[:, :n_curve])
    s = theta[:, n_curve:] if sd is None else sd[None, :]
    z = (y[None, :] - f) / s
    return -0.5 * np.sum(z * z, axis=1) - np.sum(np.log(s) * np.ones_like(z), axis=1)


def fit_curve(
    t: ArrayLike,
    y: ArrayLike,
    model: Model = "bass",
    *,
    sd: ArrayLike | None = None,
    priors: Mapping[str, tuple[float, float]] | None = None,
    n_walkers: int = 64,
    n_steps: int = 600,
    seed: int = 0,
) -> CurveFit:
    """Fit a cumulative-share curve to a series and sample the parameters' posterior.

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
    priors : mapping, optional
        ``name -> (low, high)`` replacing a default prior's bounds (:data:`PRIORS`; for time
        parameters, years after the first and after the last observation).
    n_walkers, n_steps : int
        Ensemble size and steps; the first half of the steps is discarded.
    seed : int

    Returns
    -------
    CurveFit

    Raises
    ------
    ValueError
        On mismatched lengths, fewer than two points, shares outside [0, 1] or an unknown model.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; allowed: {', '.join(MODELS)}")
    t, y = np.asarray(t, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if t.ndim != 1 or t.shape != y.shape or t.size < 2:
        raise ValueError("t and y must be 1-d arrays of the same length, at least 2")
    if np.any((y < 0) | (y > 1)) or not np.all(np.isfinite(t)):
        raise ValueError("y must be shares in [0, 1] and t finite decimal years")
    if sd is not None:
        sd = np.broadcast_to(np.asarray(sd, dtype=np.float64), t.shape).copy()
        if np.any(sd <= 0):
            raise ValueError("sd must be > 0")
    base = PRIORS[model]
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
            ll = _log_likelihood(model, t, y, sd, to_theta(u), n_curve)
        inside = np.all((u > 0.0) & (u < 1.0), axis=1) & np.isfinite(ll)
        return np.where(inside, ll, -np.inf)

    rng = fit_rng(seed)
    # Start: the walkers are the best points of a Sobol' sample of the prior, so none starts
    # stranded in a region of negligible posterior mass (such a walker biases the tails).
    u0 = qmc.Sobol(d, scramble=True, rng=rng).random_base2(14)
    start = u0[np.argsort(log_post(u0))[-n_walkers:]]
    kept, acceptance = stretch_sample(log_post, start, n_steps, rng=rng)
    names = tuple(p.name for p in plist)
    return CurveFit(model, names, to_theta(kept), t, y, sd, acceptance, seed)


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


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------
def decimal_year(date: str) -> float:
    """Decimal year at the end of day ``date`` (``YYYY-MM-DD``): 2024-12-31 -> 2025.0."""
    end = np.datetime64(date, "D") + np.timedelta64(1, "D")
    year = end.astype("datetime64[Y]")
    start = year.astype("datetime64[D]")
    days = (year + np.timedelta64(1, "Y")).astype("datetime64[D]") - start
    return float(year.astype(np.int64) + 1970 + (end - start) / days)


class InputError(ValueError):
    """A problem with the analyst's file or options, reported in one line."""


def read_series(
    path: Path, *, series: str | None = None, until: str | None = None
) -> tuple[NDArray, NDArray, NDArray | None]:
    """Read ``t, y, sd`` (sd None when absent) from a CSV with ``date,value[,uncertainty]``
    (observations format, optionally several ``series``) or ``t,y[,sd]`` columns."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise InputError(f"{path}: no rows")
    cols = set(rows[0])
    if "series" in cols:
        names = sorted({r["series"] for r in rows})
        if series is None and len(names) > 1:
            raise InputError(
                f"{path}: several series; choose one with --series: {', '.join(names)}"
            )
        if series is not None:
            if series not in names:
                raise InputError(
                    f"{path}: --series {series!r} not found; allowed: {', '.join(names)}"
                )
            rows = [r for r in rows if r["series"] == series]
    elif series is not None:
        raise InputError(f"{path}: --series given but the file has no series column")
    if until is not None:
        if "date" not in cols:
            raise InputError(f"{path}: --until needs a date column")
        rows = [r for r in rows if r["date"] <= until]
    try:
        if {"date", "value"} <= cols:
            t = np.array([decimal_year(r["date"]) for r in rows])
            y = np.array([float(r["value"]) for r in rows])
            sd_col = "uncertainty"
        elif {"t", "y"} <= cols:
            t = np.array([float(r["t"]) for r in rows])
            y = np.array([float(r["y"]) for r in rows])
            sd_col = "sd"
        else:
            raise InputError(f"{path}: expected columns date,value[,uncertainty] or t,y[,sd]")
        sd = np.array([float(r[sd_col]) for r in rows]) if sd_col in cols else None
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path}: not a number or date ({exc})") from None
    order = np.argsort(t)
    return t[order], y[order], None if sd is None else sd[order]


def format_fit(fit: CurveFit, t_new: NDArray, level: float) -> str:
    """Parameters and predictions of a fit as plain-text tables."""
    pct = f"{level:.0%}"
    lines = [
        f"{fit.model} fit to {fit.t.size} points; posterior from {fit.samples.shape[0]} draws "
        f"(acceptance {fit.acceptance:.2f}); {pct} intervals",
        f"{'parameter':<10} {'median':>10} {'lower':>10} {'upper':>10}",
    ]
    med, ci = fit.params, fit.interval(level)
    for n in fit.names:
        lines.append(f"{n:<10} {med[n]:>10.4g} {ci[n][0]:>10.4g} {ci[n][1]:>10.4g}")
    m, lo, hi = fit.predict(t_new, level)
    observed = dict(zip(np.round(fit.t, 6), fit.y, strict=True))
    lines.append(f"{'t':>9} {'observed':>9} {'median':>8} {'lower':>8} {'upper':>8}")
    for ti, a, b, c in zip(t_new, m, lo, hi, strict=True):
        obs = observed.get(round(float(ti), 6))
        o = f"{obs:>9.3f}" if obs is not None else f"{'':>9}"
        lines.append(f"{ti:>9.3f} {o} {a:>8.3f} {b:>8.3f} {c:>8.3f}")
    _, lo, hi = fit.predict(fit.t, level)
    outside = int(np.sum((fit.y < lo) | (fit.y > hi)))
    if outside > (1 - level) * fit.t.size:
        lines.append(
            f"warning: {outside} of {fit.t.size} observed points fall outside their {pct} "
            f"predictive interval: the {fit.model} curve does not describe this series well"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.fit``: fit a curve to a CSV series and print parameters and predictions."""
    ap = argparse.ArgumentParser(prog="python -m sim.fit", description=main.__doc__)
    ap.add_argument("file", type=Path, help="CSV: date,value[,uncertainty][,series] or t,y[,sd]")
    ap.add_argument("--model", choices=MODELS, default="bass")
    ap.add_argument("--level", type=float, default=0.9, help="interval probability (0.9)")
    ap.add_argument("--series", help="series to fit, in a file with a series column")
    ap.add_argument("--until", help="use only rows dated up to YYYY-MM-DD (a backtest)")
    ap.add_argument("--at", type=float, nargs="*", help="decimal years to predict at")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        if not 0.0 < args.level < 1.0:
            raise InputError(f"--level {args.level}: allowed: between 0 and 1")
        t, y, sd = read_series(paths.resolve(args.file), series=args.series, until=args.until)
        fit = fit_curve(t, y, args.model, sd=sd, seed=args.seed)
    except (InputError, ValueError) as exc:
        print(f"sim.fit: error: {exc}", file=sys.stderr)
        return 2
    at = np.array(args.at) if args.at else np.arange(np.floor(t.max()) + 1, np.floor(t.max()) + 7)
    print(format_fit(fit, np.unique(np.concatenate([t, at])), args.level))
    return 0


if __name__ == "__main__":
    sys.exit(main())
