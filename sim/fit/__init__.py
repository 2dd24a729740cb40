"""Curve fitting for analysts: Bass, logistic and Gompertz curves through a cumulative-share
series, one form (:mod:`sim.fit.curves`) or the three averaged (:mod:`sim.fit.ensemble`), with
prediction intervals that carry the parameters' uncertainty, the ceiling's included.

``model="ensemble"`` averages the three forms, each with a ceiling that may keep rising
(:data:`GROWTH_PRIOR`), by stacking of their leave-future-out predictive densities.

Command line (a CSV with ``date,value[,uncertainty][,series]`` or ``t,y[,sd]`` columns)::

    python -m sim.fit FILE.csv [--model ensemble] [--ceiling rising] --level 0.9
        [--series NAME] [--until YYYY-MM-DD] [--at 2026 2027 2030]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, overload

from numpy.typing import ArrayLike

from sim.fit.curves import (
    CEILINGS,
    GROWTH_PRIOR,
    MODELS,
    NOISE_PRIOR,
    PRIORS,
    Ceiling,
    CurveFit,
    Model,
    ParamPrior,
    _checked,
    bass_curve,
    fit_form,
    gompertz_share,
    logistic_share,
    stretch_sample,
)
from sim.fit.ensemble import EnsembleFit, fit_ensemble, stacking_weights
from sim.fit.series import YEARS, InputError, decimal_year, read_date, read_series


@overload
def fit_curve(
    t: ArrayLike,
    y: ArrayLike,
    model: Literal["bass", "logistic", "gompertz"] = "bass",
    *,
    sd: ArrayLike | None = None,
    ceiling: Ceiling | None = None,
    priors: Mapping[str, tuple[float, float]] | None = None,
    n_walkers: int = 64,
    n_steps: int = 600,
    seed: int = 0,
) -> CurveFit: ...


@overload
def fit_curve(
    t: ArrayLike,
    y: ArrayLike,
    model: Literal["ensemble"],
    *,
    sd: ArrayLike | None = None,
    ceiling: Ceiling | None = None,
    priors: Mapping[str, tuple[float, float]] | None = None,
    n_walkers: int = 64,
    n_steps: int = 600,
    seed: int = 0,
) -> EnsembleFit: ...


def fit_curve(
    t: ArrayLike,
    y: ArrayLike,
    model: Model = "bass",
    *,
    sd: ArrayLike | None = None,
    ceiling: Ceiling | None = None,
    priors: Mapping[str, tuple[float, float]] | None = None,
    n_walkers: int = 64,
    n_steps: int = 600,
    seed: int = 0,
) -> CurveFit | EnsembleFit:
    """Fit a cumulative-share curve to a series and sample the parameters' posterior.

    Parameters
    ----------
    t : array_like, shape (n,)
        Decimal years.
    y : array_like, shape (n,)
        Cumulative adopted shares, in [0, 1].
    model : {'bass', 'logistic', 'gompertz', 'ensemble'}
        One curve form, or all three averaged with stacking weights from their leave-future-out
        predictive densities (:func:`sim.fit.ensemble.fit_ensemble`).
    sd : array_like, shape (n,), optional
        Standard deviation of each observation (share units). Without it a common noise
        ``sigma`` is estimated (prior :data:`NOISE_PRIOR`).
    ceiling : {'fixed', 'rising'}, optional
        A fixed ceiling ``m``, or one rising by ``g`` a year from ``m`` at the last observation
        (prior :data:`GROWTH_PRIOR`). Default: fixed for one form, rising for the ensemble.
    priors : mapping, optional
        ``name -> (low, high)`` replacing a default prior's bounds (:data:`PRIORS`,
        :data:`GROWTH_PRIOR`; for time parameters, years after the first and after the last
        observation). For the ensemble, each member takes the names it has.
    n_walkers, n_steps : int
        Ensemble size and steps; the first half of the steps is discarded.
    seed : int

    Returns
    -------
    CurveFit, or EnsembleFit for ``model="ensemble"``

    Raises
    ------
    ValueError
        On mismatched lengths, fewer than two points, shares outside [0, 1], an unknown model,
        ceiling or prior.
    """
    if model not in (*MODELS, "ensemble"):
        raise ValueError(f"unknown model {model!r}; allowed: {', '.join(MODELS)}, ensemble")
    if ceiling is not None and ceiling not in CEILINGS:
        raise ValueError(f"unknown ceiling {ceiling!r}; allowed: {', '.join(CEILINGS)}")
    t, y, sd = _checked(t, y, sd)
    kw = {"sd": sd, "priors": priors, "n_walkers": n_walkers, "n_steps": n_steps, "seed": seed}
    if model == "ensemble":
        return fit_ensemble(t, y, ceiling=ceiling or "rising", **kw)
    return fit_form(t, y, model, ceiling=ceiling or "fixed", **kw)


__all__ = [
    "CEILINGS",
    "GROWTH_PRIOR",
    "MODELS",
    "NOISE_PRIOR",
    "PRIORS",
    "YEARS",
    "CurveFit",
    "EnsembleFit",
    "InputError",
    "ParamPrior",
    "bass_curve",
    "decimal_year",
    "fit_curve",
    "fit_ensemble",
    "fit_form",
    "gompertz_share",
    "logistic_share",
    "read_date",
    "read_series",
    "stacking_weights",
    "stretch_sample",
]
