"""Stochastic shocks: when events happen and how long and how hard they act.

Events arrive as a Poisson process with a yearly rate; each one acts as a pulse of a given size for
a given number of years (a rectangle in time), and pulses of the same kind combine
multiplicatively on the rate they act on. All functions are pure and broadcast over scalars or
arrays (events x cells x draws in the vectorised core).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def p_event(rate: ArrayLike, dt: float) -> NDArray[np.floating]:
    """Probability of at least one event in a step of ``dt`` years: ``1 - exp(-rate dt)``.

    Parameters
    ----------
    rate : array_like
        Expected events per year, >= 0.
    dt : float
        Step length, years.

    References
    ----------
    .. [1] Ross, S. M. (2014). Introduction to Probability Models, 11th ed., ch. 5 (the Poisson
       process: the count in an interval of length dt is Poisson with mean rate * dt).
    """
    return -np.expm1(-np.multiply(rate, dt))


def pulse(age: ArrayLike, size: ArrayLike, duration: ArrayLike) -> NDArray[np.floating]:
    """Effect of one event ``age`` years after it happened: ``size`` while ``0 <= age < duration``,
    else 0.

    Parameters
    ----------
    age : array_like
        Years since the event (negative before it).
    size : array_like
        Relative effect while the event lasts (>= 0).
    duration : array_like
        Years the effect lasts, >= 0.
    """
    age = np.asarray(age)
    return np.where((age >= 0.0) & (age < duration), size, 0.0)


def mitigate(
    size: ArrayLike, duration: ArrayLike, safety_response: ArrayLike, mitigation: ArrayLike
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """Size and duration of a safety or trust incident under the safety lever in force.

    Both are divided by ``1 + mitigation * safety_response``: monitoring, early warning and
    emergency response (opinion 三(十四)) make an incident both milder and shorter.

    Parameters
    ----------
    size, duration : array_like
        Unmitigated relative fall of the imitation rate (in [0, 1]) and its duration (years).
    safety_response : array_like
        Response of the safety lever (:func:`sim.rules.lever_response`; 1 at current policy).
    mitigation : array_like
        Strength of the mitigation, >= 0 (0: the safety lever does not help).

    Returns
    -------
    size, duration : ndarray
        Mitigated values, never larger than the unmitigated ones.
    """
    factor = 1.0 / (1.0 + np.multiply(mitigation, safety_response))
    return np.multiply(size, factor), np.multiply(duration, factor)


def gain(pulses: ArrayLike, *, axis: int = 0) -> NDArray[np.floating]:
    """Multiplier on a rate raised by events: ``prod(1 + pulse)`` over ``axis`` (1 if none)."""
    return np.prod(1.0 + np.asarray(pulses), axis=axis)


def loss(pulses: ArrayLike, *, axis: int = 0) -> NDArray[np.floating]:
    """Multiplier on a rate or effect cut by events: ``prod(1 - pulse)`` over ``axis`` (1 if none);
    stays in [0, 1] for pulses in [0, 1]."""
    return np.prod(1.0 - np.asarray(pulses), axis=axis)
