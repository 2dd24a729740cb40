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


def scale_rate(base: ArrayLike, effect: ArrayLike) -> NDArray[np.floating]:
    """A rate (``p`` or ``q``) changed by a summed lever effect: ``base * max(1 + effect, 0)``;
    a negative effect (support withdrawn) lowers it, never below 0."""
    return np.multiply(base, np.maximum(1.0 + np.asarray(effect), 0.0))


def raise_ceiling(ceiling: ArrayLike, effect: ArrayLike) -> NDArray[np.floating]:
    """A ceiling raised towards 1 by a summed lever effect: ``1 - (1 - m) exp(-effect)``.

    Stays in [m, 1] for any effect >= 0; a negative effect (support withdrawn) lowers it, never
    below 0.
    """
    return np.maximum(1.0 - (1.0 - np.asarray(ceiling)) * np.exp(-np.asarray(effect)), 0.0)
