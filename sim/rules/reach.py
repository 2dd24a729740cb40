"""Who can be reached: internet access over time and the ceilings it implies.

The ceiling ``m`` of a technology for people is stated on the base the evidence measures, the
share of the whole population. People without their own internet access are reached only through
others' devices or public services (the offline route, a share ``o`` of the online ceiling), and
access itself rises over time, so the population can reach at most ``a(t) + (1 - a(t)) o``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special


def internet_access(a0: ArrayLike, trend: ArrayLike, years: ArrayLike) -> NDArray[np.float64]:
    """Share with own internet access ``years`` after a reference date, on a logistic path.

    ``expit(logit(a0) + trend * years)``: every group's access follows the same logit trend from
    its own level, so groups near saturation (urban, under 60) gain fewer points than those far
    from it (rural, aged 60+). Never below ``a0`` for ``years >= 0`` and ``trend >= 0``.

    Parameters
    ----------
    a0 : array_like
        Access at the reference date, in (0, 1).
    trend : array_like
        Logit slope, 1/year.
    years : array_like
        Years since the reference date (clipped at 0: access is not projected backwards).

    References
    ----------
    .. [1] Griliches, Z. (1957). Hybrid corn: an exploration in the economics of technological
       change. Econometrica 25(4), 501-522 (logistic diffusion of access).
    """
    x = special.logit(np.asarray(a0, dtype=np.float64))
    return special.expit(x + np.multiply(trend, np.maximum(years, 0.0)))


def online_since(a0: ArrayLike, a: ArrayLike) -> NDArray[np.float64]:
    """Share of the people offline at the reference date who are online now:
    ``(a - a0) / (1 - a0)``, in [0, 1]."""
    a0 = np.asarray(a0, dtype=np.float64)
    return np.clip((np.asarray(a) - a0) / np.maximum(1.0 - a0, 1e-12), 0.0, 1.0)


def reachable(a: ArrayLike, offline: ArrayLike) -> NDArray[np.float64]:
    """Largest share of the population a technology can reach: ``a + (1 - a) o``, with ``a`` the
    share online and ``o`` the share of the offline reached through others' devices."""
    a = np.asarray(a, dtype=np.float64)
    return a + (1.0 - a) * np.asarray(offline)


def online_ceiling(m: ArrayLike, a: ArrayLike, offline: ArrayLike) -> NDArray[np.float64]:
    """Ceiling of a person with own internet access, ``min(1, m / (a + (1 - a) o))``.

    With this ceiling online and ``o`` times it offline, the population ceiling is
    ``min(m, a + (1 - a) o)`` (:func:`population_ceiling`): the population-share ceiling ``m``
    holds wherever access allows it.

    Parameters
    ----------
    m : array_like
        Ceiling on the share of the whole population, in (0, 1].
    a : array_like
        Share of the population online, in (0, 1].
    offline : array_like
        Offline route ``o``: an offline person's ceiling relative to an online one's, in [0, 1].
    """
    return np.minimum(1.0, np.divide(m, reachable(a, offline)))


def population_ceiling(m: ArrayLike, a: ArrayLike, offline: ArrayLike) -> NDArray[np.float64]:
    """Ceiling on the share of the population: ``min(m, a + (1 - a) o)``."""
    return np.minimum(np.asarray(m, dtype=np.float64), reachable(a, offline))
