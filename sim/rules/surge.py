"""The fitted 2025 surge in people's use of AI agents: a regime change in the innovation rate.

References
----------
.. [1] CNNIC, Generative AI Application Development Report 2025 (18 Oct 2025): 36.5% of the
   population in June 2025, from 17.7% at end 2024; 57th Statistical Report: 42.8% at end 2025.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Decimal year the fitted 2025 surge starts (January 2025: DeepSeek-R1's release, 20 Jan 2025).
SURGE_START = 2025.0


def surge_multiplier(
    t: float, dt: float, *, jump: NDArray[np.float64], months: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Multiplier on people's agent innovation rate during the month starting at decimal year
    ``t``: ``1 + jump x f``, ``f`` the share of the month inside the surge, which lasts ``months``
    months from :data:`SURGE_START`. A regime change whose size and width are parameters
    (``agent.surge_people``, ``agent.surge_months``) that calibration learns from the CNNIC series
    (17.7% of the population at end 2024, 36.5% by June 2025, 42.8% by December), in place of a
    scripted pulse of random size; people only, since no surge among firms was observed.

    ``jump`` and ``months`` have shape (1, n_draws); returns the same shape.
    """
    end = SURGE_START + months / 12.0
    inside = np.clip((np.minimum(end, t + dt) - max(t, SURGE_START)) / dt, 0.0, 1.0)
    return 1.0 + jump * inside
