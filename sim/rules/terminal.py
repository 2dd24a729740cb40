"""Smart terminals spread through device replacement as well as word of mouth."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def ai_share_of_new_devices(
    t: ArrayLike, *, mid: ArrayLike, slope: ArrayLike, top: ArrayLike
) -> NDArray[np.floating]:
    """Share of newly sold devices that are AI-capable, a logistic in time.

    Parameters
    ----------
    t : array_like
        Decimal year.
    mid : array_like
        Year at which the share reaches half of ``top``.
    slope : array_like
        Logistic rate, 1/year, > 0.
    top : array_like
        Long-run share of AI-capable devices among new ones, in (0, 1].

    Returns
    -------
    ndarray
        Share in [0, top].

    References
    ----------
    .. [1] IDC and Counterpoint: GenAI-capable phones about 19% of 2024 and 31% of 2025 global
       shipments; IDC forecasts over 50% of China's market by 2027.
    """
    return top / (1.0 + np.exp(-np.multiply(slope, np.subtract(t, mid))))


def replacement_hazard(
    t: ArrayLike,
    *,
    rate: ArrayLike,
    mid: ArrayLike,
    slope: ArrayLike,
    top: ArrayLike,
) -> NDArray[np.floating]:
    """Annual hazard of getting an AI terminal by replacing an existing device.

    A device owner replaces at ``rate`` per year; the new device is AI-capable with probability
    :func:`ai_share_of_new_devices`. The hazard is their product, so terminals spread even
    without word of mouth.

    Parameters
    ----------
    t : array_like
        Decimal year.
    rate : array_like
        Share of the installed base renewed per year (about 0.25 for China's phones:
        Canalys 2024 shipments of 284.6 M against about 1.1 bn mobile internet users).
    mid, slope, top : array_like
        See :func:`ai_share_of_new_devices`.
    """
    return np.multiply(rate, ai_share_of_new_devices(t, mid=mid, slope=slope, top=top))
