"""How support levers move the diffusion parameters: lagged, with diminishing returns."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def lever_response(intensity: ArrayLike, curvature: float) -> NDArray[np.floating]:
    """Diminishing-returns response to a lever's intensity, 1 at the reference intensity 1.

    ``(1 - exp(-k x)) / (1 - exp(-k))`` for intensity ``x >= 0`` and curvature ``k > 0``: zero at
    zero, increasing and concave, so doubling a lever less than doubles its effect.

    References
    ----------
    .. [1] Hanssens, D. M., Parsons, L. J. and Schultz, R. L. (2001). Market Response Models,
       2nd ed., ch. 3 (concave response to marketing effort).
    """
    return -np.expm1(-curvature * np.asarray(intensity, dtype=np.float64)) / -np.expm1(-curvature)


def scale_rate(base: ArrayLike, effect: ArrayLike, today: ArrayLike = 0.0) -> NDArray[np.floating]:
    """A rate (``p`` or ``q``) under a summed lever effect: ``base (1 + effect) / (1 + today)``.

    ``today`` is the summed effect that ``base`` already embodies (today's levers, inside the
    calibrated trend): levers at today's intensities leave the rate exactly as it is, weaker ones
    lower it, stronger ones raise it.
    """
    return np.multiply(base, (1.0 + np.asarray(effect)) / (1.0 + np.asarray(today)))


def raise_ceiling(
    ceiling: ArrayLike, effect: ArrayLike, today: ArrayLike = 0.0
) -> NDArray[np.floating]:
    """A ceiling under a summed lever effect: the gap to 1 times ``exp(-(effect - today))``.

    ``today`` is the effect the ceiling already embodies: the same effect leaves it exactly as it
    is; a larger one moves it towards 1 (within [m, 1]); a smaller one widens the gap, the ceiling
    staying at least 0.
    """
    m, dev = np.asarray(ceiling), np.asarray(effect) - np.asarray(today)
    return np.where(dev == 0.0, m, np.clip(1.0 - (1.0 - m) * np.exp(-dev), 0.0, 1.0))
